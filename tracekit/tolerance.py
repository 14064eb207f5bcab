"""Tolerance classes as data rules (numdiff style): select taps by name pattern, loop level and
tolerance class; the most specific matching rule wins; later rules win ties.

Defaults come from the catalogue (``tolerance_classes`` and ``float32_floors`` in catalogue.yaml,
where each number is justified from the dtype's unit roundoff and the depth of the computation):

=========  ================  ======================
class      float64 cand.     float32 cand.
=========  ================  ======================
geometry   rel 1e-9          rel 1e-5
physics    rel 1e-6          rel 1e-4
intensity  rel 1e-6          rel 1e-3   (sums of F_cell^2 * F_latt^2 and their scaling)
integer    equ               equ
string     equ               equ
=========  ================  ======================

The float32 column applies when the candidate computes in float32 (``--dtype float32``, its
trace header or its dialect; either side's header saying float32). A float32 candidate also gets
absolute floors where a relative error measures nothing (values that pass through 0:
``scattering_vec_A_inv`` near the direct beam, fractional Miller indices, lattice factors at a
node). ``rel`` on a multi-component tap is measured against the tap's magnitude (the larger L2
norm of the two sides), so a component of ~1e-15 beside ~100 is not a divergence; on a scalar,
against max(|ref|, |cand|). ``any`` passes when abs OR rel passes. NaN equals NaN.

Rules file (``--tolerances FILE``)::

    rules:
      - {tap: "F_latt*", rel: 1.0e-5}          # mode inferred: rel
      - {tap: steps, mode: equ}
      - {tap: "*_vec*", level: source, abs: 1.0e-12}
      - {tap: "rng_*", mode: ign}
      - {class: physics, rel: 1.0e-7}
"""
from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence


from tracekit.catalogue import catalogue
from tracekit.errors import TraceParseError, TraceUsageError
from tracekit.inputs import read_input_yaml
from tracekit.records import LEVEL_DIMS, Value

MODES = ("abs", "rel", "any", "equ", "ign")


@dataclass(frozen=True)
class Rule:
    """One tolerance rule. ``origin`` says where it came from (shown with failures)."""

    mode: str
    tap: str = "*"
    level: str = "*"
    tol_class: str = "*"
    abs_tol: float = 0.0
    rel_tol: float = 0.0
    origin: str = "default"

    def matches(self, tap: str, level: str, tol_class: str) -> bool:
        return (fnmatch.fnmatchcase(tap, self.tap) and self.level in ("*", level)
                and self.tol_class in ("*", tol_class))

    def specificity(self) -> tuple[int, int, int, int]:
        literal = sum(ch not in "*?[]" for ch in self.tap)
        exact = int(not any(ch in self.tap for ch in "*?["))
        return (exact, literal, int(self.level != "*"), int(self.tol_class != "*"))

    def describe(self) -> str:
        tol = {"abs": f"abs={self.abs_tol:g}", "rel": f"rel={self.rel_tol:g}", "equ": "equ", "ign": "ign",
               "any": f"abs={self.abs_tol:g}|rel={self.rel_tol:g}"}[self.mode]
        return f"{tol} [{self.origin}]"


class RuleSet:
    """An ordered list of rules with most-specific-wins resolution."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)

    def resolve(self, tap: str, level: str, tol_class: str) -> Rule:
        best, best_key = None, None
        for pos, rule in enumerate(self.rules):
            if rule.matches(tap, level, tol_class):
                key = (rule.specificity(), pos)
                if best_key is None or key > best_key:
                    best, best_key = rule, key
        return best or Rule("equ", origin="fallback")

    def extended(self, more: Sequence[Rule]) -> "RuleSet":
        return RuleSet(self.rules + list(more))


def class_tolerances(dtype: str = "float64") -> dict[str, float]:
    """Relative tolerance per float tolerance class for a candidate of `dtype` (catalogue data)."""
    key = "float32" if dtype == "float32" else "float64"
    return {c: float(v[key]) for c, v in catalogue().raw["tolerance_classes"].items()}


def default_rules(dtype: str = "float64") -> RuleSet:
    """The class defaults for a candidate of compute dtype `dtype`."""
    key = "float32" if dtype == "float32" else "float64"
    classes = class_tolerances(key)
    rules = [Rule("rel", tol_class=c, rel_tol=v, origin=f"default {c} {key}") for c, v in classes.items()]
    rules += [Rule("equ", tol_class=c, origin=f"default {c}") for c in ("integer", "string")]
    if key == "float32":
        for floor in catalogue().raw.get("float32_floors", ()):
            rules.append(Rule("any", tap=floor["tap"], abs_tol=float(floor["abs"]), rel_tol=classes[floor["class"]],
                              origin="default float32 near-zero floor"))
    return RuleSet(rules)


def load_rules(path: str | Path) -> list[Rule]:
    """Rules from a YAML file (see module docstring). Unreadable YAML -> exit 5; bad rules -> 2."""
    path = Path(path)
    data = read_input_yaml(path)      # a FIFO, folder or device is refused; bad YAML is exit 5
    items = (data or {}).get("rules") if isinstance(data, dict) else None
    if not isinstance(items, list):     # a YAML list or scalar: a malformed file (5), not a bad value
        raise TraceParseError(f"{path}: expected a mapping with a 'rules' list")
    return [_rule_from(item, f"{path.name}#{n}") for n, item in enumerate(items, 1)]


def _rule_from(item: Any, origin: str) -> Rule:
    if not isinstance(item, dict):
        raise TraceUsageError(f"{origin}: a rule must be a mapping, got {item!r}")
    unknown = set(item) - {"tap", "level", "class", "mode", "abs", "rel"}
    if unknown:
        raise TraceUsageError(f"{origin}: unknown rule key(s) {sorted(unknown)}")
    try:
        abs_tol, rel_tol = float(item.get("abs", 0.0)), float(item.get("rel", 0.0))
    except (TypeError, ValueError):
        raise TraceUsageError(f"{origin}: abs/rel must be numbers") from None
    mode = item.get("mode") or ("any" if "abs" in item and "rel" in item else
                                "abs" if "abs" in item else "rel" if "rel" in item else None)
    if mode not in MODES:
        raise TraceUsageError(f"{origin}: mode must be one of {MODES} (or give abs/rel), got {mode!r}")
    if abs_tol < 0 or rel_tol < 0:
        raise TraceUsageError(f"{origin}: abs/rel must be >= 0")
    level = str(item.get("level", "*"))
    if level != "*" and level not in LEVEL_DIMS:
        raise TraceUsageError(f"{origin}: level must be one of {sorted(LEVEL_DIMS)} or *, got {level!r}")
    return Rule(mode, str(item.get("tap", "*")), level, str(item.get("class", "*")), abs_tol, rel_tol, origin)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    abs_err: float
    rel_err: float


def compare(ref: Sequence[Value], cand: Sequence[Value], rule: Rule) -> Verdict:
    """Compare two value tuples under one rule (see module docstring for the error measures)."""
    if rule.mode == "ign":
        return Verdict(True, 0.0, 0.0)
    if len(ref) != len(cand):
        return Verdict(False, math.inf, math.inf)
    if any(isinstance(v, str) for v in (*ref, *cand)):
        same = tuple(map(str, ref)) == tuple(map(str, cand))
        return Verdict(same, 0.0 if same else math.inf, 0.0 if same else math.inf)
    r = [float(v) for v in ref]
    c = [float(v) for v in cand]
    diffs = [_diff(a, b) for a, b in zip(r, c)]
    if len(r) > 1:
        scale = max(_norm(r), _norm(c))
        scales = [scale] * len(r)
    else:
        scales = [max(abs(r[0]), abs(c[0]))]
    rels = [0.0 if d == 0 else (d / s if s > 0 and math.isfinite(s) else math.inf) for d, s in zip(diffs, scales)]
    abs_err, rel_err = max(diffs), max(rels)
    if rule.mode == "equ":
        passed = abs_err == 0
    elif rule.mode == "abs":
        passed = abs_err <= rule.abs_tol
    elif rule.mode == "rel":
        passed = rel_err <= rule.rel_tol
    else:
        passed = all(d <= rule.abs_tol or q <= rule.rel_tol for d, q in zip(diffs, rels))
    return Verdict(passed, abs_err, rel_err)


def _diff(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return 0.0 if math.isnan(a) and math.isnan(b) else math.inf
    if math.isinf(a) or math.isinf(b):
        return 0.0 if a == b else math.inf
    return abs(a - b)


def _norm(v: list[float]) -> float:
    finite = [x for x in v if math.isfinite(x)]
    return math.sqrt(sum(x * x for x in finite)) if finite else 0.0
