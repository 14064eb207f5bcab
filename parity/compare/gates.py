"""nb-compare's verdict: the four gates of one threshold class of the registry (:mod:`parity.thresholds`).

======  ===============  ===================================================================
gate    name             passes when
======  ===============  ===================================================================
1       correlation      Pearson r ≥ ``corr_min`` (``--threshold T`` replaces it)
2       sum_ratio        \\|Σ cand / Σ ref − 1\\| ≤ ``sum_ratio_tol``
3       max_rel_err      max \\|Δ\\|/\\|ref\\| ≤ ``rel_err_max`` over pixels above ``rel_floor`` × max(ref)
4       brightest_pixel  each image's brightest pixel is a tie (``argmax_tie_rel``) in the other
======  ===============  ===================================================================

A metric that is n/a (a constant image, a zero reference sum) fails its gate. Any failed gate is
nb-compare exit 3. Correlation alone is blind to what real ports get wrong: an image whose peaks are
8.5× too low has r = 0.99999, one whose sum is 7 % high r = 0.991 (issue #11); gates 2 and 3 catch both.

The default class is **GOLDEN-IMAGE**, the class every shipped golden C image is judged by
(``pwb matrix``): nb-compare asks the same question of any port — does it reproduce the C's image — and
simcore meets that class in float32 and float64 on all golden cases, so the bar is reachable and any
looser default would pass the defects above. ``--threshold-class NAME`` picks another class of the
registry; the registry itself is never loosened here (only read).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from parity.images.metrics import ImageMetrics, is_available
from parity.thresholds import Thresholds

__all__ = ["DEFAULT_CLASS", "Gate", "evaluate_gates", "failed_gates"]

DEFAULT_CLASS = "GOLDEN-IMAGE"


@dataclass(frozen=True)
class Gate:
    number: int
    name: str
    value: object            # float, bool, or "n/a"
    threshold: object
    op: str                  # how value is held against threshold, e.g. ">=", "|x - 1| <="
    passed: bool
    detail: dict

    def to_dict(self) -> dict:
        return {"number": self.number, "name": self.name, "value": self.value, "threshold": self.threshold,
                "op": self.op, "passed": self.passed, **self.detail}

    def describe(self) -> str:
        """``gate 2 sum_ratio 1.07 fails: needs |x - 1| <= 0.0001`` (or ``passes``)."""
        word = "passes" if self.passed else "fails"
        return f"gate {self.number} {self.name} {_fmt(self.value)} {word}: needs {self.op} {_fmt(self.threshold)}"


def _fmt(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return format(value, ".9g") if math.isfinite(value) else str(value)


def _json(metric):
    return metric if is_available(metric) else "n/a"


def evaluate_gates(m: ImageMetrics, th: Thresholds, *, corr_min: float | None = None) -> list[Gate]:
    """The four gates of ``th`` on metrics ``m`` (computed with ``th.rel_floor`` / ``th.argmax_tie_rel``)."""
    corr_min = th.corr_min if corr_min is None else float(corr_min)
    corr, ratio, rel = m.correlation, m.sum_ratio, m.max_rel_err
    return [
        Gate(1, "correlation", _json(corr), corr_min, ">=", is_available(corr) and corr >= corr_min,
             {"reason": None if is_available(corr) else corr.reason}),
        Gate(2, "sum_ratio", _json(ratio), th.sum_ratio_tol, "|x - 1| <=",
             is_available(ratio) and abs(ratio - 1.0) <= th.sum_ratio_tol,
             {"reason": None if is_available(ratio) else ratio.reason}),
        Gate(3, "max_rel_err", _json(rel), th.rel_err_max, "<=", is_available(rel) and rel <= th.rel_err_max,
             {"rel_floor_fraction": th.rel_floor, "at": list(m.max_rel_err_at) if m.max_rel_err_at else None,
              "n_above_floor": m.n_above_floor}),
        Gate(4, "brightest_pixel", bool(m.argmax_match), True, "==", bool(m.argmax_match),
             {"argmax_tie_rel": th.argmax_tie_rel, "ref_argmax": list(m.ref_argmax),
              "cand_argmax": list(m.cand_argmax)}),
    ]


def failed_gates(gates: list[Gate]) -> list[Gate]:
    return [g for g in gates if not g.passed]
