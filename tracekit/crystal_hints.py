"""Hints for a crystal orientation that differs: phi carry-over and the mosaic domain matrices.

The crystal is turned three ways in the C (nanobragg-reference.md X4-X7): the misset (into the
static a*, b*, c* that ``rot_*_star_A_inv`` print), the spindle rotation by phi, and the mosaic
domain matrix U_m. ``rot_a/b/c_angstroms`` print a after all three. So, for rot_* that differ:

* phi carry-over: at phi step 0 they are the reference's turned by whole phi steps (same length),
  or differ in some blocks and agree in others;
* mosaic, domains > 0: they differ at domains > 0 and agree at domain 0;
* mosaic, domain 0: with mosaic on (spread > 0 in either side's configuration), at phi step 0 and
  domain 0 the three vectors are the reference's turned rigidly (lengths and angles kept) about an
  axis that is not the spindle, while the static cell (rot_*_star, misset included) agrees: only
  U_0 is left to differ. The C draws U_0 with ran1 like every domain and then sets it to the
  identity, so its domain 0 is the unturned crystal; a port that keeps a random U_0, or draws with
  another generator, shows here even in a one-block trace.

Each rule takes (first, by_tap, ref, cand, dtype, pixel_m, value_hint) like tracekit.diagnose's.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from tracekit.hints import Hint
from tracekit.trace import ParsedTrace

LATTICE = ("F_latt", "F_latt_a", "F_latt_b", "F_latt_c", "phi_F_latt", "phi_F_latt_b", "source2_F_latt",
           "source2_F_latt_squared", "source2_I_contribution", "I_before_scaling", "I_pixel_final",
           "floatimage_accumulated", "tap5_I_before_scaling", "tap5_I_pixel_final")
ROT = ("rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms")
STAR = ("rot_a_star_A_inv", "rot_b_star_A_inv", "rot_c_star_A_inv")
DOWNSTREAM = ROT + ("hkl_frac", "hkl_rounded") + LATTICE
_RIGID = 1e-4          # |R R^T - I| and relative Gram differences a rigid turn must stay under (float32-safe)


def phi0(first, by_tap, ref, cand, dtype, pixel_m, vh) -> Hint | None:
    rot_rows = [r for t in ROT for r in by_tap.get(t, ())]
    bad = [r for r in rot_rows if r.failed]
    if not bad or first.tap not in DOWNSTREAM:
        return None
    if any(r.index.phi not in (0, None) or r.index.mosaic not in (0, None) for r in bad):
        return None
    r0 = bad[0]
    angle = _angle(r0.ref, r0.cand)
    if angle is None:
        return None
    steps = _phi_steps(ref)
    ok_rows = [r for r in rot_rows if not r.failed and r.index.phi in (0, None)]
    whole = ""
    if steps:
        step, last = steps
        k = angle / step if step else 0
        if step and abs(k - round(k)) < 1e-3 and round(k) >= 1:
            whole = f" = {round(k)} phi step(s) of {step:g} deg" + (" (the last phi of the previous pass)"
                                                                     if abs(angle - last) < 1e-3 else "")
    if not whole and not ok_rows:
        return None
    where = f"; it agrees in {len(ok_rows)} other row(s)" if ok_rows else ""
    return Hint("phi0_carryover", f"{r0.tap} at phi step 0 ({r0.index.label()}) is the reference's rotated by "
                f"{angle:.6g} deg{whole}, same length{where}: the C's phi = 0 carry-over")


def mosaic_domains(first, by_tap, ref, cand, dtype, pixel_m, vh) -> Hint | None:
    if first.index.mosaic is None or first.index.mosaic == 0:
        return None
    zero = [r for r in by_tap.get(first.tap, ()) if r.index.mosaic == 0]
    if zero and all(not r.failed for r in zero):
        return Hint("mosaic_rng", f"{first.tap} differs at mosaic domain {first.index.mosaic} and agrees at domain 0 "
                    f"({len(zero)} row(s)): the mosaic rotation matrices (domain 0 is the identity in the C)")
    return None


def mosaic_domain0(first, by_tap, ref, cand, dtype, pixel_m, vh) -> Hint | None:
    spread = _config_number(ref, cand, "mosaic_spread_deg")
    if first.tap not in DOWNSTREAM or not spread:
        return None
    bad = [r for t in ROT for r in by_tap.get(t, ()) if r.failed]
    if not bad or any(r.index.phi not in (0, None) or r.index.mosaic not in (0, None) for r in bad):
        return None
    idx = bad[0].index
    rows = [next((r for r in by_tap.get(t, ()) if r.index == idx), None) for t in ROT]
    if any(r is None or len(r.ref) != 3 or len(r.cand) != 3 for r in rows):
        return None
    if any(r.failed for t in STAR for r in by_tap.get(t, ())):
        return None                        # the static cell (or the misset) differs: not the mosaic
    turn = _rigid_turn(np.array([r.ref for r in rows], float).T, np.array([r.cand for r in rows], float).T)
    if turn is None:
        return None
    angle, axis = turn
    spindle = _config_vector(ref, cand, "spindle_vector")
    if spindle is not None and abs(float(np.dot(axis, spindle))) > 0.99:
        return None                        # a turn about the spindle is a phi matter
    domains = _config_number(ref, cand, "mosaic_domains")
    static = _static_cell(by_tap, idx, rows)
    return Hint("mosaic_rng", f"rot_a/b/c at mosaic domain 0 (phi step 0, {idx.label()}) are the reference's turned "
                f"rigidly by {angle:.4g} deg about ({', '.join(f'{x:.3g}' for x in axis)}), not the spindle, "
                f"lengths and angles kept, while the static cell (rot_*_star, misset included) agrees"
                f"{static}; mosaic is on (spread {spread:g} deg"
                + (f", {domains:g} domains" if domains else "") + "): the mosaic matrices differ already at "
                "domain 0 (the C draws U_0 with ran1, 3 draws, then sets it to the identity)")


def _rigid_turn(ref: np.ndarray, cand: np.ndarray) -> tuple[float, np.ndarray] | None:
    """(angle in deg, unit axis) of the proper rotation R with cand = R ref (columns a, b, c),
    or None when no rotation relates them (lengths or angles differ, a reflection, no turn)."""
    if not np.isfinite(ref).all() or not np.isfinite(cand).all() or abs(np.linalg.det(ref)) < 1e-300:
        return None
    gram_r, gram_c = ref.T @ ref, cand.T @ cand
    if np.max(np.abs(gram_c - gram_r)) > _RIGID * np.max(np.abs(gram_r)):
        return None
    rot = cand @ np.linalg.inv(ref)
    if np.max(np.abs(rot @ rot.T - np.eye(3))) > _RIGID or np.linalg.det(rot) <= 0:
        return None
    cos = max(-1.0, min(1.0, (np.trace(rot) - 1.0) / 2.0))
    angle = math.degrees(math.acos(cos))
    axis = np.array([rot[2, 1] - rot[1, 2], rot[0, 2] - rot[2, 0], rot[1, 0] - rot[0, 1]])
    norm = float(np.linalg.norm(axis))
    if angle < 1e-4 or norm == 0.0:
        return None
    return angle, axis / norm


def _static_cell(by_tap, idx, rows) -> str:
    """', and the reference's rot_* here are its static cell (U_0 = I, no phi turn)' when the
    reference's a, b, c are the inverse of its printed a*, b*, c* at this block."""
    stars = [next((r for r in by_tap.get(t, ()) if r.index == idx), None) for t in STAR]
    if any(s is None or len(s.ref) != 3 for s in stars):
        return ""
    dots = np.array([r.ref for r in rows], float) @ np.array([s.ref for s in stars], float).T
    if np.max(np.abs(dots - np.eye(3))) > _RIGID:
        return ""
    return ", and the reference's rot_a/b/c here are that static cell (its a . a* = 1: U_0 = identity, no phi turn)"


def _config_number(ref: ParsedTrace, cand: ParsedTrace, key: str) -> float | None:
    for trace in (ref, cand):
        v = trace.config.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            return float(v)
    return None


def _config_vector(ref: ParsedTrace, cand: ParsedTrace, key: str) -> np.ndarray | None:
    for trace in (ref, cand):
        v = trace.config.get(key)
        if isinstance(v, (tuple, list)) and len(v) == 3:
            arr = np.array(v, float)
            n = float(np.linalg.norm(arr))
            if n > 0:
                return arr / n
    return None


def _angle(r: Sequence, c: Sequence) -> float | None:
    if len(r) != 3 or any(isinstance(v, str) for v in (*r, *c)):
        return None
    nr, nc = math.sqrt(sum(x * x for x in r)), math.sqrt(sum(x * x for x in c))
    if not nr or abs(nr / nc - 1) > 1e-5:
        return None
    cos = max(-1.0, min(1.0, sum(x * y for x, y in zip(r, c)) / (nr * nc)))
    angle = math.degrees(math.acos(cos))
    return angle if angle > 1e-6 else None


def _phi_steps(ref: ParsedTrace) -> tuple[float, float] | None:
    phis = sorted({(r.index.phi, float(r.values[0])) for r in ref.by_tap("phi_deg") if r.index.phi is not None})
    if len(phis) < 2:
        return None
    return phis[1][1] - phis[0][1], phis[-1][1]
