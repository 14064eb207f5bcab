"""The recomputations of `tracekit.consistency`, one function per formula (see its docstring for
the list). Each reads a block (or the pixel-level taps) of a `_View` and returns Checks; a missing
input means no check. Errors are measured against the natural scale of each formula (|P| for
positions, (|d| + |i|)/lambda for q, |a||q| for h), so values passing through zero are fair.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from tracekit.records import SETUP_INDEX, LoopIndex

Vec = tuple[float, ...]
_MAX_N = 1000
#: configuration keys that only decide whether a check can judge (how many terms the printed
#: blocks leave out, a background in the sum, a lattice shape without sincg): a trace that does
#: not print them may take them from the reference's configuration of the same run.
RUN_KEYS = frozenset({"detector_thicksteps", "water_size_m", "crystal_shape"})


@dataclass(frozen=True)
class Check:
    """One recomputation: the taps it relates (inputs first, the recomputed output last), where,
    and whether they agree."""

    name: str
    taps: tuple[str, ...]
    index: LoopIndex
    ok: bool
    err: float
    tol: float
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "taps": list(self.taps), "index": self.index.as_dict(), "ok": self.ok,
                "err": num(self.err), "tol": self.tol, "detail": self.detail}


@dataclass
class Consistency:
    """All checks of one trace; `disagreeing` names the taps of the failing ones."""

    checks: list[Check] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failing(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def disagreeing(self) -> list[str]:
        out: dict[str, None] = {}
        for c in self.failing:
            out.update(dict.fromkeys(c.taps))
        return list(out)

    @property
    def suspects(self) -> list[str]:
        """The taps most likely wrong without a reference (tracekit.blame): per failing check its
        output, then its inputs no passing check vouches for (all of them when every one is
        vouched); the taps blamed by the most failing checks (e.g. q, by the scattering-vector
        and the Miller check)."""
        from tracekit.blame import culprits

        return culprits(self.checks)

    def summary(self) -> str:
        parts = [f"{c.name} at {c.index.label()}: {c.detail}" for c in self.failing[:3]]
        more = len(self.failing) - 3
        return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "disagreeing": self.disagreeing, "suspects": self.suspects,
                "n_checks": len(self.checks), "checks": [c.to_dict() for c in self.checks if not c.ok]
                + [c.to_dict() for c in self.checks if c.ok][:20], "skipped": self.skipped}


def sincg(x: float, n: int) -> float:
    """The C's sincg: N at x == 0, else sin(N x) / sin(x)."""
    return float(n) if x == 0.0 else math.sin(n * x) / math.sin(x)


def fit_n(h: float, value: float, tol: float) -> list[int]:
    """Every N in 1..1000 with sincg(pi h, N) == value within `tol` (relative to max(|value|, 1),
    plus the value's sensitivity to an error of `tol` in h)."""
    x = math.pi * h
    ns = np.arange(1, _MAX_N + 1, dtype=float)
    s = math.sin(x)
    vals = ns if x == 0.0 else np.sin(ns * x) / s
    slope = np.abs(ns * np.cos(ns * x) / s - vals * math.cos(x) / s) * math.pi if s else 0.0
    dh = tol * max(abs(h), 1.0)
    ok = np.abs(vals - value) <= tol * max(abs(value), 1.0) + slope * dh
    ok[0] = ok[0] or abs(value - 1.0) <= tol       # N <= 1: the C uses 1.0
    return [int(n) for n in ns[ok]]




def run_checks(view) -> Consistency:
    out = Consistency()
    for key, b in view.blocks.items():
        idx = view.block_index[key]
        for fn in _BLOCK_CHECKS:
            out.checks.extend(fn(view, b, idx))
    out.checks.extend(_lattice_factors(view, out))
    for key, b in view.source2.items():
        out.checks.extend(_source2(view, b, view.block_index.get(key, SETUP_INDEX)._replace(source=2)))
    for fn in (_intensity_sum, _final_scaling, _classical_radius, _stored_value):
        checks = list(fn(view, out))
        out.checks.extend(checks)
    return out


def _check(name: str, taps, idx, err: float, tol: float, detail: str) -> Check:
    ok = err <= tol
    return Check(name, tuple(taps), idx, ok, err, tol, detail if not ok else "")


def _has(b: dict, *taps: str) -> bool:
    return all(t in b and not any(isinstance(v, str) for v in b[t]) for t in taps)


def _norm(v: Vec) -> float:
    return math.sqrt(sum(x * x for x in v))


def _pixel_distance(view, b, idx) -> Iterator[Check]:
    if _has(b, "pixel_pos_meters", "R_distance_meters"):
        r = _norm(b["pixel_pos_meters"])
        err = abs(b["R_distance_meters"][0] - r) / max(r, 1e-300)
        yield _check("pixel_distance", ("pixel_pos_meters", "R_distance_meters"), idx, err, view.tol("geometry"),
                     f"R_distance_meters {b['R_distance_meters'][0]:.9g} but |pixel_pos_meters| = {r:.9g}")
    if _has(b, "pixel_pos_meters", "diffracted_vec"):
        p = b["pixel_pos_meters"]
        r = _norm(p)
        d = b["diffracted_vec"]
        err = max(abs(x - y / r) for x, y in zip(d, p)) if r else math.inf
        yield _check("diffracted_direction", ("pixel_pos_meters", "diffracted_vec"), idx, err, view.tol("geometry"),
                     f"diffracted_vec {_fmt(d)} but pixel_pos/|pixel_pos| = {_fmt(tuple(y / r for y in p))}")
    if _has(b, "close_distance_meters", "R_distance_meters", "obliquity_factor"):
        want = b["close_distance_meters"][0] / b["R_distance_meters"][0]
        got = b["obliquity_factor"][0]
        err = abs(got - want) / max(abs(want), 1e-300)
        yield _check("obliquity", ("close_distance_meters", "R_distance_meters", "obliquity_factor"), idx, err,
                     view.tol("geometry"), f"obliquity_factor {got:.9g} but close/R = {want:.9g}")


def _wavelength(view, b, idx) -> Iterator[Check]:
    if _has(b, "lambda_meters", "lambda_angstroms"):
        want = b["lambda_meters"][0] * 1e10
        err = abs(b["lambda_angstroms"][0] - want) / max(abs(want), 1e-300)
        yield _check("wavelength_units", ("lambda_meters", "lambda_angstroms"), idx, err, view.tol("geometry"),
                     f"lambda_angstroms {b['lambda_angstroms'][0]:.9g} but 1e10 * lambda_meters = {want:.9g}")


def _scattering(view, b, idx) -> Iterator[Check]:
    if not _has(b, "diffracted_vec", "incident_vec", "lambda_meters", "scattering_vec_A_inv"):
        return
    d, i, lam, q = b["diffracted_vec"], b["incident_vec"], b["lambda_meters"][0], b["scattering_vec_A_inv"]
    want = tuple((x - y) / lam for x, y in zip(d, i))
    scale = (_norm(d) + _norm(i)) / abs(lam)
    err = max(abs(x - y) for x, y in zip(q, want)) / scale
    yield _check("scattering_vector", ("diffracted_vec", "incident_vec", "lambda_meters", "scattering_vec_A_inv"),
                 idx, err, view.tol("geometry"),
                 f"scattering_vec_A_inv {_fmt(q)} but (d - i)/lambda = {_fmt(want)} m^-1" + _ratio(q, want))


def _miller(view, b, idx) -> Iterator[Check]:
    axes = ("rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms")
    if not _has(b, *axes, "scattering_vec_A_inv", "hkl_frac"):
        return
    q = b["scattering_vec_A_inv"]
    h = b["hkl_frac"]
    want = tuple(1e-10 * sum(x * y for x, y in zip(b[a], q)) for a in axes)
    scale = max(1e-10 * _norm(b[a]) * _norm(q) for a in axes) or 1.0
    err = max(abs(x - y) for x, y in zip(h, want)) / max(scale, 1.0)
    yield _check("miller_indices", (*axes, "scattering_vec_A_inv", "hkl_frac"), idx, err, view.tol("geometry"),
                 f"hkl_frac {_fmt(h)} but (a, b, c) . q = {_fmt(want)}" + _ratio(h, want))
    if _has(b, "hkl_rounded"):
        tol = view.tol("geometry") * max(scale, 1.0)
        bad = [k for k in range(3) if abs((h[k] - 0.5) - round(h[k] - 0.5)) > tol
               and int(b["hkl_rounded"][k]) != math.ceil(h[k] - 0.5)]
        yield _check("rounding", ("hkl_frac", "hkl_rounded"), idx, float(len(bad)), 0.0,
                     f"hkl_rounded {_fmt(b['hkl_rounded'])} but ceil(hkl_frac - 0.5) = "
                     f"{_fmt(tuple(math.ceil(x - 0.5) for x in h))}")


def _lattice_product(view, b, idx) -> Iterator[Check]:
    if _has(b, "F_latt_a", "F_latt_b", "F_latt_c", "F_latt"):
        want = b["F_latt_a"][0] * b["F_latt_b"][0] * b["F_latt_c"][0]
        got = b["F_latt"][0]
        err = abs(got - want) / max(abs(got), abs(want), 1.0)
        yield _check("lattice_product", ("F_latt_a", "F_latt_b", "F_latt_c", "F_latt"), idx, err,
                     view.tol("physics"), f"F_latt {got:.9g} but F_latt_a * F_latt_b * F_latt_c = {want:.9g}")


_BLOCK_CHECKS = (_pixel_distance, _wavelength, _scattering, _miller, _lattice_product)


def _lattice_factors(view, out: Consistency) -> Iterator[Check]:
    """F_latt_a/b/c = sincg(pi h, N) with N from the config, else one N that fits every block."""
    shape = view.config.get("crystal_shape")
    if shape not in (None, "parallelpiped"):
        out.skipped.append(f"lattice_factors: crystal shape {shape}")
        return
    tol_h = view.tol("geometry")
    tol = view.tol("physics")
    for k, (tap, n_key) in enumerate((("F_latt_a", "Na"), ("F_latt_b", "Nb"), ("F_latt_c", "Nc"))):
        rows = [(view.block_index[key], b["hkl_frac"][k], b[tap][0]) for key, b in view.blocks.items()
                if _has(b, "hkl_frac", tap)]
        if not rows:
            continue
        given = view.config.get(n_key)
        fits = None
        for idx, h, value in rows:
            ns = set(fit_n(h, value, max(tol_h, tol))) if given is None else None
            if given is not None:
                n = max(int(given), 1)
                want = 1.0 if n <= 1 else sincg(math.pi * h, n)
                ok = set(fit_n(h, value, max(tol_h, tol))) & {n} or (n <= 1 and abs(value - 1.0) <= tol)
                err = abs(value - want) / max(abs(value), abs(want), 1.0)
                yield Check("lattice_factors", ("hkl_frac", tap), idx, bool(ok), 0.0 if ok else err, tol,
                            "" if ok else f"{tap} {value:.9g} but sincg(pi*h, {n_key}={n}) = {want:.9g} at h = {h:.9g}")
                continue
            fits = ns if fits is None else fits & ns
            ok = bool(fits)
            yield Check("lattice_factors", ("hkl_frac", tap), idx, ok, 0.0 if ok else 1.0, tol,
                        "" if ok else f"{tap} {value:.9g} is sincg(pi*h, N) for no N (h = {h:.9g}) that fits "
                        "every block")


def _source2(view, b, idx) -> Iterator[Check]:
    pairs = (("source2_F_cell_squared", ("source2_F_cell", "source2_F_cell")),
             ("source2_F_latt_squared", ("source2_F_latt", "source2_F_latt")),
             ("source2_I_contribution", ("source2_F_cell", "source2_F_cell", "source2_F_latt", "source2_F_latt")))
    for tap, factors in pairs:
        if _has(b, tap, *factors):
            want = math.prod(b[f][0] for f in factors)
            got = b[tap][0]
            err = abs(got - want) / max(abs(got), abs(want), 1e-300)
            yield _check("source2_products", (*dict.fromkeys(factors), tap), idx, err, view.tol("intensity"),
                         f"{tap} {got:.9g} but the product of {', '.join(dict.fromkeys(factors))} = {want:.9g}")


def _intensity_sum(view, out: Consistency) -> Iterator[Check]:
    e = view.pixel
    if not _has(e, "I_before_scaling", "steps") or not view.blocks:
        return
    why = _sum_not_checkable(view)
    if why:
        out.skipped.append(f"intensity_sum: {why}")
        return
    total = 0.0
    for b in view.blocks.values():
        if _has(b, "F_latt", "F_cell"):
            total += b["F_cell"][0] ** 2 * b["F_latt"][0] ** 2
        elif _has(b, "F_latt") and b["F_latt"][0] != 0.0:
            out.skipped.append("intensity_sum: a block prints F_latt != 0 but no F_cell")
            return
        elif "hkl_frac" in b and "F_latt" not in b:
            out.skipped.append("intensity_sum: a reached block prints no F_latt (non-square shape?)")
            return
    got = e["I_before_scaling"][0]
    err = abs(got - total) / max(abs(got), abs(total), 1e-300)
    yield _check("intensity_sum", ("F_cell", "F_latt", "I_before_scaling"), SETUP_INDEX, err, view.tol("intensity"),
                 f"I_before_scaling {got:.9g} but the sum of F_cell^2 * F_latt^2 over the {len(view.blocks)} "
                 f"printed block(s) = {total:.9g}" + _ratio((got,), (total,)))


def _sum_not_checkable(view) -> str | None:
    e, cfg = view.pixel, view.config
    if not any(_has(b, "F_latt") for b in view.blocks.values()):
        return "no block prints F_latt"
    layers = view.trace.stats.layers or int(cfg.get("detector_thicksteps") or 1)
    steps = int(e["steps"][0])
    if steps * layers != len(view.blocks):
        return (f"steps = {steps} x {layers} detector layer(s) but {len(view.blocks)} block(s) printed: "
                "other sources/phi/mosaic/layer terms not printed")
    if any(_has(e, f) and e[f][0] for f in ("oversample_thick", "oversample_polar", "oversample_omega")):
        return "an -oversample_* flag multiplies the running sum"
    if cfg.get("water_size_m"):
        return "a -water background is in the sum"
    return None


def _final_scaling(view, out: Consistency) -> Iterator[Check]:
    e = view.pixel
    need = ("I_before_scaling", "r_e_sqr", "fluence_photons_per_m2", "steps", "I_pixel_final")
    if not _has(e, *need):
        return
    want = e["r_e_sqr"][0] * e["fluence_photons_per_m2"][0] * e["I_before_scaling"][0] / e["steps"][0]
    taps = list(need)
    for factor, flag in (("capture_fraction", "oversample_thick"), ("polar", "oversample_polar"),
                         ("omega_pixel", "oversample_omega")):
        if _has(e, flag) and e[flag][0]:
            continue
        if not _has(e, factor):
            out.skipped.append(f"final_scaling: {factor} not printed")
            return
        want *= e[factor][0]
        taps.insert(-1, factor)
    got = e["I_pixel_final"][0]
    err = abs(got - want) / max(abs(got), abs(want), 1e-300)
    yield _check("final_scaling", taps, SETUP_INDEX, err, view.tol("intensity"),
                 f"I_pixel_final {got:.9g} but r_e^2 * fluence * I / steps * factors = {want:.9g}"
                 + _ratio((got,), (want,)))


def _classical_radius(view, out: Consistency) -> Iterator[Check]:
    e = view.pixel
    if _has(e, "r_e_meters", "r_e_sqr"):
        want = e["r_e_meters"][0] ** 2
        err = abs(e["r_e_sqr"][0] - want) / max(want, 1e-300)
        yield _check("classical_radius", ("r_e_meters", "r_e_sqr"), SETUP_INDEX, err, view.tol("physics"),
                     f"r_e_sqr {e['r_e_sqr'][0]:.9g} but r_e_meters^2 = {want:.9g}")


def _stored_value(view, out: Consistency) -> Iterator[Check]:
    e = view.pixel
    if _has(e, "I_pixel_final", "floatimage_accumulated"):
        got, want = e["floatimage_accumulated"][0], e["I_pixel_final"][0]
        err = abs(got - want) / max(abs(got), abs(want), 1e-300)
        yield _check("stored_value", ("I_pixel_final", "floatimage_accumulated"), SETUP_INDEX, err,
                     max(view.tol("intensity") if view.dtype == "float32" else 0.0, 1.5 * 2.0 ** -24, view.print_rel * 10),
                     f"floatimage_accumulated {got:.9g} but float32(I_pixel_final) = {want:.9g}")


def _fmt(v: Any) -> str:
    return "(" + ", ".join(f"{x:.6g}" if not isinstance(x, str) else x for x in v) + ")"


def _ratio(got: Vec, want: Vec) -> str:
    """' (ratio 1e-10)' when the two differ by one factor on their dominant components."""
    n = max(_norm(want), 1e-300)
    ratios = [g / w for g, w in zip(got, want) if abs(w) > 1e-6 * n]
    if ratios and all(abs(r / ratios[0] - 1) < 1e-3 for r in ratios) and abs(ratios[0] - 1) > 1e-3:
        return f" (ratio {ratios[0]:.6g})"
    return ""


def num(x: float) -> float | str:
    return x if x == x and abs(x) != float("inf") else str(x)
