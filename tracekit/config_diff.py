"""Compare two effective-configuration printouts key by key: the C's, simcore's (the same
format), or any port's printout in its own words (`tracekit.config.parse_any_config`).

Numbers compare relative 1e-5 (the C prints `%g`, six significant digits), vectors and lists
against their magnitude; strings, booleans and integers exactly. ``noise_seed`` is ignored by
default: the C seeds the noise from the clock unless ``-seed`` is given. When both sides are the
C's format (strict), a key on one side only is a difference; when a side was read in other words,
such keys are listed (a port prints fewer) and only the keys both print are judged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from tracekit.config import Config, parse_config, read_config_any
from tracekit.errors import TraceUsageError
from tracekit.tolerance import Rule, compare

DEFAULT_IGNORE = frozenset({"noise_seed", "warnings"})  # the seed is the time by default; warnings are prose


@dataclass(frozen=True)
class ConfigRow:
    key: str
    ref: Any
    cand: Any
    status: str     # "same" | "different" | "ignored"
    rel_err: float = 0.0


@dataclass
class ConfigDiff:
    rows: list[ConfigRow]
    only_in_ref: list[str] = field(default_factory=list)
    only_in_cand: list[str] = field(default_factory=list)
    strict: bool = True                 # both sides in the C's format
    words: dict[str, list[str]] = field(default_factory=dict)   # side -> keys read from other words

    @property
    def differences(self) -> list[ConfigRow]:
        return [r for r in self.rows if r.status == "different"]

    @property
    def n_compared(self) -> int:
        return sum(r.status != "ignored" for r in self.rows)

    @property
    def ok(self) -> bool:
        if not self.strict:
            return not self.differences and self.n_compared > 0
        return not self.differences and not self.only_in_ref and not self.only_in_cand

    def to_dict(self) -> dict[str, Any]:
        return {"n_compared": self.n_compared, "n_different": len(self.differences),
                "differences": [{"key": r.key, "ref": r.ref, "cand": r.cand, "rel_err": r.rel_err}
                                for r in self.differences],
                "ignored": [r.key for r in self.rows if r.status == "ignored"],
                "only_in_ref": self.only_in_ref, "only_in_cand": self.only_in_cand, "strict": self.strict,
                "read_from_words": self.words, "ok": self.ok}


def config_diff(ref_text: str, cand_text: str, *, rel: float = 1e-5,
                ignore: Iterable[str] = DEFAULT_IGNORE) -> ConfigDiff:
    """Diff the configuration blocks of two stdout texts."""
    return diff_configs(parse_config(ref_text), parse_config(cand_text), rel=rel, ignore=ignore)


def config_diff_files(ref_path: str | Path, cand_path: str | Path, *, dialect=None, ref_dialect=None,
                      **kwargs) -> ConfigDiff:
    """Diff two printouts (C stdout, simcore stdout, a port's output or trace file; TraceParseError,
    exit 5, if one is unreadable or holds no configuration). `dialect`/`ref_dialect` (a Dialect or
    its YAML file) add their ``config:`` rules for the candidate/reference."""
    from tracekit.dialect import load_dialect

    dialect = load_dialect(dialect) if isinstance(dialect, (str, Path)) else dialect
    ref_dialect = load_dialect(ref_dialect) if isinstance(ref_dialect, (str, Path)) else ref_dialect
    ref, ref_src = read_config_any(ref_path, ref_dialect)
    cand, cand_src = read_config_any(cand_path, dialect)
    strict = "c" in ref_src.values() and "c" in cand_src.values() and "words" not in (*ref_src.values(), *cand_src.values())
    result = diff_configs(ref, cand, strict=strict, **kwargs)
    result.words = {side: sorted(k for k, v in src.items() if v == "words")
                    for side, src in (("ref", ref_src), ("cand", cand_src)) if "words" in src.values()}
    return result


def diff_configs(ref: Config, cand: Config, *, rel: float = 1e-5,
                 ignore: Iterable[str] = DEFAULT_IGNORE, strict: bool = True) -> ConfigDiff:
    """Diff two parsed configuration dicts (`strict`: a key on one side only is a difference)."""
    if not rel >= 0:
        raise TraceUsageError(f"rel must be >= 0, got {rel}")
    ignore = frozenset(ignore)
    rule = Rule("rel", rel_tol=rel, origin="config")
    rows = []
    for key in ref:
        if key not in cand:
            continue
        if key in ignore:
            rows.append(ConfigRow(key, ref[key], cand[key], "ignored"))
            continue
        same, err = _same(ref[key], cand[key], rule)
        rows.append(ConfigRow(key, ref[key], cand[key], "same" if same else "different", err))
    return ConfigDiff(rows, [k for k in ref if k not in cand], [k for k in cand if k not in ref], strict=strict)


def _same(a: Any, b: Any, rule: Rule) -> tuple[bool, float]:
    if isinstance(a, (str, bool)) or isinstance(b, (str, bool)):
        return a == b, 0.0 if a == b else float("inf")
    if isinstance(a, int) and isinstance(b, int):
        return a == b, 0.0 if a == b else float("inf")
    ta = a if isinstance(a, tuple) else (a,)
    tb = b if isinstance(b, tuple) else (b,)
    if all(isinstance(x, int) for x in ta + tb):
        return ta == tb, 0.0 if ta == tb else float("inf")
    verdict = compare(ta, tb, rule)
    return verdict.passed, verdict.rel_err
