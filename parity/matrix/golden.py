"""Judge a candidate image against a golden C image with the registry's thresholds."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parity.images.metrics import compare_images, is_available
from parity.matrix.registry import Thresholds


@dataclass
class Verdict:
    passed: bool
    failures: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)

    def summary(self) -> str:
        m = self.metrics
        return (f"corr={m['correlation']} sum_ratio={m['sum_ratio']} max_rel_err={m['max_rel_err']} "
                f"argmax_match={m['argmax_match']}")


def judge(ref: np.ndarray, cand: np.ndarray, th: Thresholds) -> Verdict:
    m = compare_images(ref, cand, rel_floor_fraction=th.rel_floor, argmax_rel_tol=th.argmax_tie_rel)
    d = m.to_dict()
    fails = []
    corr = m.correlation
    if not is_available(corr) or corr < th.corr_min:
        fails.append(f"correlation {d['correlation']} < {th.corr_min}")
    if not is_available(m.sum_ratio) or abs(m.sum_ratio - 1.0) > th.sum_ratio_tol:
        fails.append(f"|sum_ratio - 1| = {d['sum_ratio']} - 1 > {th.sum_ratio_tol}")
    if is_available(m.max_rel_err) and m.max_rel_err > th.rel_err_max:
        fails.append(f"max_rel_err {m.max_rel_err:.3e} > {th.rel_err_max} at {m.max_rel_err_at}")
    if not m.argmax_match:
        fails.append(f"argmax {m.cand_argmax} vs reference {m.ref_argmax} (not a tie)")
    return Verdict(passed=not fails, failures=fails, metrics=d)
