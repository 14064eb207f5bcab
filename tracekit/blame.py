"""Which tap of a failing consistency check is the wrong one.

A failing check (tracekit.consistency) only says that its taps disagree with each other; the
culprit is one of them. Every check lists its inputs first and its output last (R = |P|:
``(pixel_pos_meters, R_distance_meters)``). Per failing check:

* with a reference (``agrees``: tap -> does it agree with the reference?): the taps that agree
  with the reference are not the culprits; the ones that disagree are (a re-derived q in the
  wrong unit disagrees with its own d, i, lambda *and* with the reference; d, i, lambda agree);
  failing those, the taps the reference does not print;
* without one (or when the reference agrees with every tap of the check): the output first, then
  the inputs no passing check vindicates (an input shared by passing checks is vindicated); all
  inputs when every one is vindicated: the trace alone cannot tell a wrong input from a
  re-derived output then (pixel_pos printed in mm fails R = |P| but passes d = P/|P|).

Over all failing checks, the taps blamed by the most checks win (q blamed by both the scattering
and the Miller check), in first-blamed order (outputs before inputs).
"""
from __future__ import annotations

from collections import Counter
from typing import Mapping, Sequence


def culprits(checks: Sequence, agrees: Mapping[str, bool] | None = None) -> list[str]:
    """The most-blamed taps of the failing `checks` (Check objects), in first-blamed order."""
    failing = [c for c in checks if not c.ok]
    vouched = {t for c in checks if c.ok for t in c.taps}
    counts: Counter = Counter()
    for c in failing:
        counts.update(list(dict.fromkeys(_blame(c.taps, vouched, agrees or {}))))
    top = max(counts.values(), default=0)
    return [t for t in counts if counts[t] == top]


def _blame(taps: Sequence[str], vouched: set, agrees: Mapping[str, bool]) -> list[str]:
    taps = list(dict.fromkeys(taps))
    wrong = [t for t in taps if agrees.get(t) is False]
    if wrong:
        return wrong
    unseen = [t for t in taps if t not in agrees]
    if unseen and len(unseen) < len(taps):
        return unseen
    inputs, output = taps[:-1], taps[-1]
    free = [t for t in inputs if t not in vouched]
    return [output, *(free or inputs)]


def agreement(rows: Sequence) -> dict[str, bool]:
    """tap -> True when every compared row of it passes against the reference, False when one
    fails (TapComparison rows; ignored rows and rows without a reference value say nothing)."""
    out: dict[str, bool] = {}
    for r in rows:
        if r.status not in ("pass", "fail") or not r.ref:
            continue
        out[r.tap] = out.get(r.tap, True) and r.status == "pass"
    return out
