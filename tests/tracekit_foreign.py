"""Turn real traces (golden C traces, simcore traces) into other ports' dialects, for the tests:
reprefix, rename, drop the loop-index headers or the setup block, keep one sub-pixel block, add
prose and other prefixes before and after, rescale a tap, drop taps. Text in, text out."""
from __future__ import annotations

import re
from typing import Callable, Iterable

PIXEL_RE = re.compile(r"^(TRACE_C|TRACE_PY): (\S+) (.*)$")
HEADER_RE = re.compile(r"^\s+(\d+x\d+ pixel oversample steps|sensor is .* layers)")


def pixel_lines(lines: Iterable[str]) -> list[str]:
    """Only the pixel-grammar lines (``P: name v..``) and per-phi lines: no setup, no stdout."""
    return [ln for ln in lines if PIXEL_RE.match(ln) or "_PHI phi_tic=" in ln]


def reprefix(lines: Iterable[str], new: str, sep: str = ": ") -> list[str]:
    """``TRACE_C: name v`` -> ``{new}{sep}name v`` (and the _PHI/_SOURCE2 families with it)."""
    out = []
    for ln in lines:
        m = PIXEL_RE.match(ln)
        if m:
            ln = f"{new}{sep}{m.group(2)} {m.group(3)}"
        elif ln.startswith(("TRACE_C_PHI", "TRACE_PY_PHI")):
            ln = new + ln[ln.index("_PHI"):]
        out.append(ln)
    return out


def rename(lines: Iterable[str], names: dict[str, str]) -> list[str]:
    out = []
    for ln in lines:
        parts = ln.split(" ", 2)
        if len(parts) >= 2 and parts[1] in names and parts[0].endswith((":", "DEBUG")):
            parts[1] = names[parts[1]]
            ln = " ".join(parts)
        out.append(ln)
    return out


def map_values(lines: Iterable[str], tap: str, fn: Callable[[list[float]], list[float]],
               *, which: Callable[[int], bool] = lambda k: True) -> list[str]:
    """Apply fn to the values of the k-th (0-based) lines of `tap` for which which(k)."""
    out, k = [], 0
    for ln in lines:
        parts = ln.split(" ")
        if len(parts) > 2 and parts[1] == tap and parts[0].endswith(":"):
            if which(k):
                vals = fn([float(v) for v in parts[2:]])
                ln = " ".join(parts[:2] + ["%.15g" % v for v in vals])
            k += 1
        out.append(ln)
    return out


def scale(lines: Iterable[str], tap: str, factor: float, **kw) -> list[str]:
    return map_values(lines, tap, lambda v: [x * factor for x in v], **kw)


def drop_taps(lines: Iterable[str], taps: Iterable[str]) -> list[str]:
    taps = set(taps)
    return [ln for ln in lines if not (len(ln.split(" ")) > 1 and ln.split(" ")[1] in taps
                                       and ln.split(" ")[0].endswith(":"))]


def drop_headers(lines: Iterable[str]) -> list[str]:
    return [ln for ln in lines if not HEADER_RE.match(ln)]


def one_block(lines: Iterable[str], keep: int) -> list[str]:
    """Keep the pixel block number `keep` (0-based, file order) and group E; drop the others."""
    lines = list(lines)
    starts = [i for i, ln in enumerate(lines) if PIXEL_RE.match(ln) and PIXEL_RE.match(ln).group(2) == "pix0_vector_meters"]
    e = next(i for i, ln in enumerate(lines) if PIXEL_RE.match(ln) and PIXEL_RE.match(ln).group(2) == "I_before_scaling")
    bounds = starts + [e]
    lo, hi = bounds[keep], bounds[keep + 1]
    return lines[:starts[0]] + lines[lo:hi] + lines[e:]


def with_prose(lines: Iterable[str], prefix: str = "TRACE_PY") -> list[str]:
    """Banner, prose, another prefix's section before; statistics and prose after."""
    before = ["theirport 0.3 (cuda unavailable, running on cpu)", "TRACE: Fluence = 1.26e+29 photons/m^2",
              "Pivot: BEAM", "TRACE_GPU: kernel launch 3 blocks", "[timing] setup 0.012 s"]
    after = ["Final intensity = 140.32", "TRACE: done", f"{prefix}_STATS mean=1.2 max=140",
             "TRACE_DBG_PHI phi_tic=0 phi_deg=0 k_frac=1.0249 F_latt_b=4.8785 F_latt=118.48 S_x=1 V_actual=1e6",
             "wrote floatimage.bin in 0.3 s"]
    return before + list(lines) + after


def float32_port(lines: Iterable[str], n_cells=(5, 5, 5), sin=None) -> list[str]:
    """The C's pixel lines as a port computing in float32 would print them, consistently: d = P/|P|,
    q = (d - i)/lambda, h = a.q, sincg, the sum and the scaling all in float32, from the C's
    printed inputs; `sin` replaces np.sin (a fast sine whose error grows with |x|, as GPU
    intrinsics do). Setup and per-phi lines are dropped."""
    import numpy as np

    f32 = np.float32
    sin = sin or np.sin
    out, blk, terms = [], {}, []
    for ln in pixel_lines(lines):
        if "_PHI" in ln:
            continue
        parts = ln.split(" ")
        tap, raw = parts[1], parts[2:]
        vals = np.array([float(v) for v in raw], dtype=f32) if tap not in ("hkl_rounded",) else raw

        def put(v):
            return f"{parts[0]} {tap} " + " ".join("%.9g" % x for x in np.atleast_1d(v))
        if tap in ("rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms", "incident_vec", "lambda_meters",
                   "pixel_pos_meters", "r_e_sqr", "fluence_photons_per_m2", "capture_fraction", "polar",
                   "omega_pixel", "steps", "F_cell"):
            blk[tap] = vals
        if tap == "R_distance_meters":
            blk[tap] = np.sqrt(np.sum(blk["pixel_pos_meters"] ** 2, dtype=f32))
            ln = put(blk[tap])
        elif tap == "diffracted_vec":
            blk[tap] = blk["pixel_pos_meters"] / blk["R_distance_meters"]
            ln = put(blk[tap])
        elif tap == "scattering_vec_A_inv":
            blk[tap] = (blk["diffracted_vec"] - blk["incident_vec"]) / blk["lambda_meters"][0]
            ln = put(blk[tap])
        elif tap == "hkl_frac":
            blk["h"] = np.array([np.dot(blk[a] * f32(1e-10), blk["scattering_vec_A_inv"])
                                 for a in ("rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms")], dtype=f32)
            ln = put(blk["h"])
        elif tap in ("F_latt_a", "F_latt_b", "F_latt_c"):
            k = "abc".index(tap[-1])
            x = f32(np.pi) * blk["h"][k]
            blk[tap] = f32(sin(f32(n_cells[k]) * x) / sin(x)) if n_cells[k] > 1 else f32(1.0)
            ln = put(blk[tap])
        elif tap == "F_latt":
            blk[tap] = blk["F_latt_a"] * blk["F_latt_b"] * blk["F_latt_c"]
            ln = put(blk[tap])
        elif tap == "F_cell":
            terms.append(vals[0] ** 2 * blk["F_latt"] ** 2)
        elif tap == "I_before_scaling":
            blk["I"] = np.sum(np.array(terms, dtype=f32), dtype=f32)
            ln = put(blk["I"])
        elif tap in ("I_pixel_final", "floatimage_accumulated"):
            ln = put(f32(blk["r_e_sqr"][0] * blk["fluence_photons_per_m2"][0] * blk["I"] / blk["steps"][0]
                         * blk["capture_fraction"][0] * blk["polar"][0] * blk["omega_pixel"][0]))
        out.append(ln)
    return out
