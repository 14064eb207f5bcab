"""Tolerance classes as data rules (numdiff style): select taps by name pattern, loop level and
tolerance class; the most specific matching rule wins; later rules win ties.

Defaults (per the catalogue's tolerance class of each tap):

=========  ================  ======================  ==========================================
class      float64 cand.     float32 cand.           why
=========  ================  ======================  ==========================================
geometry   rel 1e-9          rel 1e-5                short op chains; f32 eps 1.2e-7 x ~100 ulp
physics    rel 1e-6          rel 1e-3                sums/sinc ratios amplify f32 rounding
integer    equ               equ                     counts, flags, rounded hkl
string     equ               equ                     conventions, mapping text
=========  ================  ======================  ==========================================

The float32 column applies when either side's header says ``dtype=float32``. A float32 candidate
also gets absolute floors where a relative error measures nothing (values that pass through 0):

* ``scattering_vec_A_inv`` abs 1e3 m⁻¹: a float32 unit vector is good to ~1e-7, so q = (d − i)/λ
  carries ~1e-7/λ ≈ 1e3 m⁻¹ absolute near the direct beam (q ≈ 0), against |q| ~ 1e9–1e10.
* fractional Miller indices (``hkl_frac``, ``*k_frac``) abs 2e-5: h = a·q to ~1e-7·|a||q| (|h| ≤ ~100).
* per-axis lattice factors (``F_latt_a/b/c`` and their per-phi/SOURCE2 copies) abs 1e-3 and the
  product ``F_latt`` abs 1e-2: at a node of sin(Nπh)/sin(πh) the value is ~0 while the slope is
  ~N²π, so δh ≈ 1e-6 moves it by ~1e-4 (values range up to N per axis, N³ for the product).
``rel`` on a multi-component tap is measured against the tap's magnitude (the larger L2 norm
of the two sides), so a component of ~1e-15 beside ~100 is not a divergence; on a scalar,
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

import yaml

from tracekit.errors import TraceParseError, TraceUsageError
from tracekit.records import LEVEL_DIMS, Value

MODES = ("abs", "rel", "any", "equ", "ign")
_DEFAULTS = {
    "float64": {"geometry": 1e-9, "physics": 1e-6},
    "float32": {"geometry": 1e-5, "physics": 1e-3},
}


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


_F32_FLOORS = (  # (tap pattern, abs floor); see the module docstring for the reasoning
    ("scattering_vec_A_inv", 1e3),
    ("hkl_frac", 2e-5), ("*k_frac", 2e-5),
    ("F_latt_?", 1e-3), ("*_F_latt_?", 1e-3),
    ("F_latt", 1e-2), ("*_F_latt", 1e-2), ("*F_latt_squared", 1e-3),
)


def default_rules(dtype: str = "float64") -> RuleSet:
    """The class defaults for a candidate of compute dtype `dtype`."""
    key = "float32" if dtype == "float32" else "float64"
    rules = [Rule("rel", tol_class=c, rel_tol=v, origin=f"default {c} {key}") for c, v in _DEFAULTS[key].items()]
    rules += [Rule("equ", tol_class=c, origin=f"default {c}") for c in ("integer", "string")]
    if key == "float32":
        for pattern, floor in _F32_FLOORS:
            rel = _DEFAULTS[key]["geometry" if pattern in ("scattering_vec_A_inv", "hkl_frac", "*k_frac") else "physics"]
            rules.append(Rule("any", tap=pattern, abs_tol=floor, rel_tol=rel, origin="default float32 near-zero floor"))
    return RuleSet(rules)


def load_rules(path: str | Path) -> list[Rule]:
    """Rules from a YAML file (see module docstring). Unreadable YAML -> exit 5; bad rules -> 2."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TraceParseError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise TraceParseError(f"{path}: not a text file") from None
    items = (data or {}).get("rules") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise TraceUsageError(f"{path}: expected a mapping with a 'rules' list")
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
