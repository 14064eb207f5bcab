"""Compare two effective-configuration printouts (C stdout vs simcore stdout) key by key.

Numbers compare relative 1e-5 (the C prints `%g`, six significant digits), vectors and lists
against their magnitude; strings, booleans and integers exactly. ``noise_seed`` is ignored by
default: the C seeds the noise from the clock unless ``-seed`` is given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from tracekit.config import Config, parse_config, read_config
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

    @property
    def differences(self) -> list[ConfigRow]:
        return [r for r in self.rows if r.status == "different"]

    @property
    def n_compared(self) -> int:
        return sum(r.status != "ignored" for r in self.rows)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.only_in_ref and not self.only_in_cand

    def to_dict(self) -> dict[str, Any]:
        return {"n_compared": self.n_compared, "n_different": len(self.differences),
                "differences": [{"key": r.key, "ref": r.ref, "cand": r.cand, "rel_err": r.rel_err}
                                for r in self.differences],
                "ignored": [r.key for r in self.rows if r.status == "ignored"],
                "only_in_ref": self.only_in_ref, "only_in_cand": self.only_in_cand}


def config_diff(ref_text: str, cand_text: str, *, rel: float = 1e-5,
                ignore: Iterable[str] = DEFAULT_IGNORE) -> ConfigDiff:
    """Diff the configuration blocks of two stdout texts."""
    return diff_configs(parse_config(ref_text), parse_config(cand_text), rel=rel, ignore=ignore)


def config_diff_files(ref_path: str | Path, cand_path: str | Path, **kwargs) -> ConfigDiff:
    """Diff two stdout files (TraceParseError, exit 5, if one is unreadable or holds no config)."""
    return diff_configs(read_config(ref_path), read_config(cand_path), **kwargs)


def diff_configs(ref: Config, cand: Config, *, rel: float = 1e-5,
                 ignore: Iterable[str] = DEFAULT_IGNORE) -> ConfigDiff:
    """Diff two parsed configuration dicts."""
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
    return ConfigDiff(rows, [k for k in ref if k not in cand], [k for k in cand if k not in ref])


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
