"""Hints that need the divergent tap's place in the computation, not only its values.

`diagnose` looks at the first divergence together with the other compared rows and both traces:

* sampling: ``steps`` or ``oversample_*`` differ (and the first divergence is not a setup-geometry
  tap, which would explain them: a wrong geometry picks a wrong auto-oversample);
* detector pivot / beam centre: pix0 (or the setup block's keys) differ while the detector axes,
  the beam centre and the distance (where printed) agree. The candidate's pix0 is tested against the other pivot rule built from the reference's own
  numbers (BEAM: ``-F f - S s + distance b``; SAMPLE: ``-F f - S s + close_distance o``); a shift
  inside the detector plane is a beam-centre convention (half a pixel: MOSFLM's +0.5 px);
* sub-pixel offset: a pixel-level position (pixel_pos_meters) moves inside the detector plane,
  pix0 and the axes agreeing, by whole halves of a sub-pixel (pixel / (2 oversample), the
  oversample from the loop header or the configuration) along fast and slow: ``sampling``
  (sub-pixel corners instead of centres, another sub-pixel order); by 1/2 or 1 pixel per axis:
  ``half_pixel``;
* float32 precision: the candidate computes in float32, the reference has a large Miller index
  near an integer, and the difference sits in a lattice factor or the intensity sum;
* phi carry-over, mosaic RNG (tracekit.crystal_hints): rot_a/b/c turned by whole phi steps at
  phi step 0; differences only at mosaic domains > 0; or the crystal turned rigidly at domain 0
  (not about the spindle, the static cell agreeing) with mosaic on;
* constant factor: a scale factor (polar, omega, capture, fluence, r_e) or the final value differs
  while the sum upstream agrees, naming the factor a missing or doubled one would explain.

None of these applies -> the value-level `tracekit.hints.classify` hint stands.
"""
from __future__ import annotations

import math
from typing import Sequence

from tracekit.crystal_hints import LATTICE, mosaic_domain0, mosaic_domains, phi0
from tracekit.hints import Hint, common_ratio
from tracekit.records import LoopIndex
from tracekit.trace import ParsedTrace

PIX0 = ("pix0_vector", "pix0_after_twotheta", "pix0_after_rotz", "pix0_before_rotation", "DETECTOR_PIX0_VECTOR",
        "pix0_vector_meters")
BEAM_CENTRE = ("beam_center_m", "Fbeam_m", "Sbeam_m", "Fclose_m", "Sclose_m")
AXES = ("fdet_vec", "sdet_vec", "fdet_after_twotheta", "sdet_after_twotheta", "odet_after_twotheta",
        "DETECTOR_FAST_AXIS", "DETECTOR_SLOW_AXIS", "DETECTOR_NORMAL_AXIS")
SAMPLING = ("steps", "oversample_thick", "oversample_polar", "oversample_omega")
SCALE = ("polar", "omega_pixel", "capture_fraction", "fluence_photons_per_m2", "r_e_sqr", "r_e_meters")
FINAL = ("I_pixel_final", "floatimage_accumulated", "tap5_I_pixel_final")
_LARGE_H = 8.0
_NEAR_INTEGER = 0.2


def diagnose(first, rows: Sequence, ref: ParsedTrace, cand: ParsedTrace, *, dtype: str,
             pixel_m: float | None, value_hint: Hint) -> Hint:
    """The most specific hint for `first` (a TapComparison) among `rows` (see module docstring)."""
    if value_hint.cls == "non_finite":
        return value_hint
    by_tap: dict[str, list] = {}
    for r in rows:
        by_tap.setdefault(r.tap, []).append(r)
    geometry_first = first.tap in PIX0 + BEAM_CENTRE and first.index.source is None
    for rule in (_pivot, _beam_centre, _sampling, _subpixel, _float32, mosaic_domains, phi0, mosaic_domain0,
                 _constant):
        if rule is _sampling and geometry_first:
            continue
        hint = rule(first, by_tap, ref, cand, dtype, pixel_m, value_hint)
        if hint is not None:
            return hint
    return value_hint


def _failed(by_tap, tap: str) -> bool:
    return any(r.failed for r in by_tap.get(tap, ()))


def _agree(by_tap, taps) -> bool:
    return not any(_failed(by_tap, t) for t in taps)


def _sampling(first, by_tap, ref, cand, dtype, pixel_m, vh) -> Hint | None:
    bad = [r for t in SAMPLING for r in by_tap.get(t, ()) if r.failed]
    if not bad:
        return None
    diffs = ", ".join(f"{r.tap} ref {r.ref[0]} cand {r.cand[0]}" for r in bad)
    return Hint("sampling", f"sampling differs ({diffs}); the first divergence {first.tap} follows from it "
                "(other sub-pixel positions or a different normalisation by steps)")


def _vec(trace: ParsedTrace, *taps: str) -> tuple[float, ...] | None:
    for t in taps:
        rec = trace.get(t)
        if rec is None:
            rec = next((r for r in trace.by_tap(t)), None)
        if rec is not None and len(rec.values) in (1, 3) and not isinstance(rec.values[0], str):
            return tuple(float(v) for v in rec.values)
    return None


def _pivot(first, by_tap, ref, cand, dtype, pixel_m, vh) -> Hint | None:
    keys_differ = first.tap == "beam_center_m" and ref.branch and cand.branch and ref.branch != cand.branch
    if first.tap not in PIX0 and not keys_differ:
        return None
    if not _agree(by_tap, AXES) or not (keys_differ or _agree(by_tap, ("Fbeam_m", "Sbeam_m", "Fclose_m", "Sclose_m",
                                                                        "distance_m"))):
        return None                      # the axes, the beam centre or the distance differ: not (only) the pivot
    ref_pivot = (ref.branch or "").upper() or None
    why = _pivot_rule(ref)
    if keys_differ:
        return Hint("detector_pivot", f"the reference prints the {ref_pivot}-pivot set-up block and the candidate "
                    f"the {cand.branch.upper()}-pivot one (beam_center_m keys {first.keys or ''}): the pivots "
                    f"differ; {why}")
    r, c = first.ref, first.cand
    alt = _other_pivot_pix0(ref)
    if alt is not None:
        rule, pix0 = alt
        scale = max(math.sqrt(sum(x * x for x in r)), 1e-300)
        if max(abs(x - y) for x, y in zip(c, pix0)) <= 1e-6 * scale:
            return Hint("detector_pivot", f"{first.tap}: the candidate's pix0 {_fmt(c)} is the {rule} "
                        f"with the reference's own numbers; the reference pivots around the {ref_pivot}: {why}")
    o = _vec(ref, "odet_after_twotheta", "DETECTOR_NORMAL_AXIS")
    if o is None:
        return None
    delta = [y - x for x, y in zip(r, c)]
    d = math.sqrt(sum(x * x for x in delta))
    normal = abs(sum(x * y for x, y in zip(delta, o)))
    if d and normal > 1e-3 * d and _rotated(ref):
        return Hint("detector_pivot", f"{first.tap} differs by {d:.6g} m, {normal:.6g} m of it along the detector "
                    f"normal, while the detector axes agree: the detector was rotated about another point; "
                    f"the reference pivots around the {ref_pivot}: {why}")
    return None


def _pivot_rule(ref: ParsedTrace) -> str:
    conv = str(ref.config.get("convention") or (ref.get("detector_convention").values[0]
                                                  if ref.branch == "sample" and ref.get("detector_convention") else "")).upper()
    if conv in ("MOSFLM", "ADXV", "DENZO"):
        return f"the C forces BEAM under {conv} whatever -pivot, -twotheta or -close_distance say"
    if conv in ("XDS", "DIALS"):
        return f"the C forces SAMPLE under {conv} whatever -pivot says"
    if conv == "CUSTOM":
        return ("under CUSTOM the C takes the last pivot flag in argv: -twotheta, -close_distance, -Xclose/-Yclose, "
                "-ORGX/-ORGY and -pivot sample select SAMPLE; -distance, -Xbeam/-Ybeam and -pivot beam select BEAM")
    return "see the C's pivot rules (MOSFLM/ADXV/DENZO force BEAM, XDS/DIALS SAMPLE, CUSTOM the last pivot flag)"


def _other_pivot_pix0(ref: ParsedTrace) -> tuple[str, tuple[float, ...]] | None:
    f = _vec(ref, "fdet_after_twotheta", "DETECTOR_FAST_AXIS")
    s = _vec(ref, "sdet_after_twotheta", "DETECTOR_SLOW_AXIS")
    if f is None or s is None:
        return None
    if ref.branch == "sample":
        fb, sb, dist = (_vec(ref, t) for t in ("Fclose_m", "Sclose_m", "distance_m"))
        b = _vec(ref, "incident_vec")
        if None in (fb, sb, dist, b):
            return None
        pix0 = tuple(-fb[0] * x - sb[0] * y + dist[0] * z for x, y, z in zip(f, s, b))
        return "BEAM-pivot pix0 (-Fbeam f - Sbeam s + distance b)", pix0
    if ref.branch == "beam":
        fb, sb, dist = (_vec(ref, t) for t in ("Fbeam_m", "Sbeam_m", "distance_m"))
        o = _vec(ref, "odet_after_twotheta", "DETECTOR_NORMAL_AXIS")
        if None in (fb, sb, dist, o):
            return None
        close = _vec(ref, "close_distance_meters")
        close_d = close[0] if close else dist[0]
        pix0 = tuple(-fb[0] * x - sb[0] * y + close_d * z for x, y, z in zip(f, s, o))
        return "SAMPLE-pivot pix0 (-Fclose f - Sclose s + close_distance o)", pix0
    return None


def _rotated(ref: ParsedTrace) -> bool:
    rec = ref.get("angles_rad")
    if rec is not None and not isinstance(rec.values[0], str):
        return any(abs(float(v)) > 0 for v in rec.values)
    return True


def _beam_centre(first, by_tap, ref, cand, dtype, pixel_m, vh) -> Hint | None:
    if first.tap not in PIX0 + BEAM_CENTRE or not _agree(by_tap, AXES):
        return None
    if vh.cls in ("half_pixel", "swapped_components"):
        return vh
    f = _vec(ref, "fdet_after_twotheta", "DETECTOR_FAST_AXIS", "fdet_vec")
    s = _vec(ref, "sdet_after_twotheta", "DETECTOR_SLOW_AXIS", "sdet_vec")
    if first.tap in BEAM_CENTRE or f is None or s is None or len(first.ref) != 3:
        return Hint("beam_center", f"{first.tap} differs (ref {_fmt(first.ref)}, cand {_fmt(first.cand)}) while the "
                    "detector axes agree: the beam centre is taken another way")
    delta = [y - x for x, y in zip(first.ref, first.cand)]
    df, ds = (sum(a * b for a, b in zip(delta, v)) for v in (f, s))
    rest = math.sqrt(max(sum(x * x for x in delta) - df * df - ds * ds, 0.0))
    if rest > 1e-3 * max(abs(df), abs(ds), 1e-300):
        return None
    px = f" ({df / pixel_m:+.3g} px fast, {ds / pixel_m:+.3g} px slow)" if pixel_m else ""
    return Hint("beam_center", f"{first.tap} moves inside the detector plane by {df:+.6g} m fast, {ds:+.6g} m slow"
                f"{px} while the axes agree: the beam centre (Fbeam/Sbeam from -Xbeam/-Ybeam) differs")


def _subpixel(first, by_tap, ref, cand, dtype, pixel_m, vh) -> Hint | None:
    spec = ref.cat.get(first.tap)
    pixel_m = pixel_m or _num(ref.config.get("pixel_m")) or _num(cand.config.get("pixel_m"))
    if (spec is None or not spec.position or first.tap in PIX0 + BEAM_CENTRE or len(first.ref) != 3
            or not pixel_m or not _agree(by_tap, PIX0 + AXES)):
        return None
    f = _vec(ref, "fdet_vec", "fdet_after_twotheta", "DETECTOR_FAST_AXIS")
    s = _vec(ref, "sdet_vec", "sdet_after_twotheta", "DETECTOR_SLOW_AXIS")
    if f is None or s is None or len(f) != 3 or len(s) != 3:
        return None
    delta = [y - x for x, y in zip(first.ref, first.cand)]
    df, ds = (sum(a * b for a, b in zip(delta, v)) / pixel_m for v in (f, s))      # in pixels
    rest = math.sqrt(max(sum(x * x for x in delta) / pixel_m ** 2 - df * df - ds * ds, 0.0))
    if rest > 1e-2 * max(abs(df), abs(ds)) or max(abs(df), abs(ds)) < 1e-3:
        return None
    moved = f"{first.tap} moves by {df:+.4g} px fast, {ds:+.4g} px slow (pixel {pixel_m * 1e3:g} mm)"
    if _multiples(df, ds, 2) and max(abs(df), abs(ds)) <= 1.0 + 1e-2:
        if vh.cls == "half_pixel":
            return vh
        return Hint("half_pixel", f"{moved}: half or whole pixels, pixel centre vs corner or a beam-centre "
                    "offset (MOSFLM +0.5 px)")
    os_ = ref.stats.oversample or _num(ref.config.get("oversample")) or cand.stats.oversample \
        or _num(cand.config.get("oversample"))
    if not os_ or int(os_) < 2 or not _multiples(df, ds, 2 * int(os_)):
        return None
    os_ = int(os_)
    k = round(max(abs(df), abs(ds)) * 2 * os_)
    what = ("half a sub-pixel: sub-pixel corners instead of centres" if k == 1 else
            f"{k} half sub-pixels: another sub-pixel position or order")
    return Hint("sampling", f"{moved} = {what} (oversample {os_}: sub-pixel {pixel_m * 1e3 / os_:g} mm; the C "
                f"samples sub-pixel centres, (i + 0.5)/{os_} of the pixel, i = 0..{os_ - 1})")


def _multiples(df: float, ds: float, per_pixel: int) -> bool:
    """Both shifts (in pixels) are whole multiples of 1/per_pixel, within 2 % of that step."""
    return all(abs(x * per_pixel - round(x * per_pixel)) <= 0.02 for x in (df, ds))


def _num(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else None


def _float32(first, by_tap, ref, cand, dtype, pixel_m, vh) -> Hint | None:
    if dtype != "float32" or first.tap not in LATTICE or _failed(by_tap, "hkl_frac"):
        return None
    idx = first.index
    hs = [r.ref for r in by_tap.get("hkl_frac", ()) if idx.source is None or _same_block(r.index, idx)]
    hs = hs or [r.ref for r in by_tap.get("hkl_frac", ())]
    big = [(abs(h), h) for hkl in hs for h in hkl if isinstance(h, float) and abs(h) >= _LARGE_H
           and abs(h - round(h)) <= _NEAR_INTEGER]
    if not big:
        return None
    h = max(big)[1]
    x = abs(h) * math.pi
    ulp = 2.0 ** (math.floor(math.log2(x)) - 23)        # float32 spacing at pi*h
    return Hint("float32_precision", f"{first.tap} differs (rel {first.rel_err:.3g}) in a float32 candidate while "
                f"the Miller indices agree, at a large index near an integer (h = {h:.6g}): float32 resolves "
                f"pi*h = {x:.6g} rad only to {ulp:.2g} rad, and sin(pi*h) ~ {abs(math.sin(x)):.3g} there")


def _same_block(a: LoopIndex, b: LoopIndex) -> bool:
    return (a.layer, a.sub_s, a.sub_f, a.occurrence) == (b.layer, b.sub_s, b.sub_f, b.occurrence)


def _constant(first, by_tap, ref, cand, dtype, pixel_m, vh) -> Hint | None:
    if first.tap not in SCALE + FINAL or not _agree(by_tap, ("I_before_scaling",)):
        return None
    if vh.cls in ("unit_power_of_ten", "unit_factor"):
        return vh
    if first.tap in SCALE:
        return Hint("constant_factor", f"{first.tap} differs (ref {first.ref[0]:.9g}, cand {first.cand[0]:.9g}) while "
                    f"the intensity sum upstream agrees: {vh.text}")
    ratio = common_ratio([float(v) for v in first.ref], [float(v) for v in first.cand], 1e-5)
    named = _factor_named(ratio, by_tap) if ratio else None
    text = f"{first.tap}: {vh.text}, while I_before_scaling agrees" if ratio else vh.text
    return Hint("constant_factor", text + (f": {named}" if named else ""))


def _factor_named(ratio: float, by_tap) -> str | None:
    for tap in SCALE + ("steps",):
        for r in by_tap.get(tap, ()):
            v = float(r.ref[0]) if not isinstance(r.ref[0], str) else 0.0
            if not v or v == 1.0:
                continue
            if abs(ratio * v - 1) < 1e-5:
                return f"the candidate leaves out {tap} = {v:.9g}" if tap != "steps" else "the 1/steps is applied twice"
            if abs(ratio / v - 1) < 1e-5:
                return f"the candidate applies {tap} = {v:.9g} twice" if tap != "steps" else "the 1/steps is left out"
    return None


def _fmt(v) -> str:
    return "(" + ", ".join(f"{x:.6g}" for x in v) + ")"
