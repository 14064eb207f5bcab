"""The C auto-selection rules for phi, divergence, dispersion, thickness and mosaic sampling.

Plain Python numbers (reference X6, B4, A1–A2, X7); each function returns the resolved
(range, step, steps) the way nanoBragg.c leaves them after its "default sampling logic" and
"sanity checks" blocks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Sampling:
    phi0_rad: float
    osc_rad: float
    phistep_rad: float
    phisteps: int
    hdivrange_rad: float
    hdivstep_rad: float
    hdivsteps: int
    vdivrange_rad: float
    vdivstep_rad: float
    vdivsteps: int
    dispersion: float
    dispstep: float
    dispsteps: int
    thick_m: float
    thickstep_m: float
    thicksteps: int
    mu_m_inv: float
    mosaic_spread_rad: float
    mosaic_domains: int
    warnings: tuple


def resolve_phi(phi0, osc, phistep, phisteps):
    if phisteps < 0:
        if osc < 0.0:
            if phistep <= 0.0:
                return phi0, 0.0, 0.0, 1
            return phi0, phistep, phistep, 2
        if phistep <= 0.0:
            return phi0, osc, osc / 2.0, 2
        return phi0, osc, phistep, math.ceil(osc / phistep)
    if phisteps == 0:
        phisteps = 1
    if osc < 0.0:
        if phistep <= 0.0:
            osc = 1.0 / (180.0 / math.pi)
            return phi0, osc, osc / phisteps, phisteps
        return phi0, phistep, phistep, 2
    if phistep < 0.0:
        return phi0, osc, osc / phisteps, phisteps
    return phi0, osc, phistep, phisteps


def resolve_range(rng, step, steps, *, unset_range_value=1.0):
    """The hdiv/vdiv/disp pattern (B4); returns (range, step, steps) before the sanity check."""
    if steps <= 0:
        if rng < 0.0:
            if step <= 0.0:
                return 0.0, 0.0, 1
            return step, step, 2
        if step <= 0.0:
            return rng, rng, 2
        return rng, step, math.ceil(rng / step)
    if rng < 0.0:
        if step <= 0.0:
            return unset_range_value, unset_range_value / steps, steps
        return step, step, 2
    if step <= 0.0:
        steps = max(steps, 2)
        return rng, rng / (steps - 1), steps
    return rng, step, steps


def resolve_thickness(thick, step, steps):
    """Thickness sampling (A2): note thick/(N−1) with explicit steps and thick/2 without."""
    if steps <= 0:
        if thick < 0.0:
            if step <= 0.0:
                return 0.0, 0.0, 1
            return step, step, 2
        if step <= 0.0:
            return thick, thick / 2, 2
        return thick, step, math.ceil(thick / step)
    if thick < 0.0:
        if step <= 0.0:
            return 0.5e-6, 0.5e-6 / steps, steps
        return step, step, 2
    if step <= 0.0:
        steps = max(steps, 2)
        return thick, thick / (steps - 1), steps
    return thick, step, steps


def _sane(rng, step, steps):
    if rng <= 0.0 or step <= 0.0 or steps <= 0:
        return 0.0, 0.0, 1
    return rng, step, steps


def resolve_mosaic(spread, domains, warnings):
    if domains <= 0:
        if spread < 0.0:
            return 0.0, 1
        if spread == 0.0:
            return spread, 1
        warnings.append("finite mosaicity with only one domain! upping to 10 mosaic domains")
        return spread, 10
    if spread < 0.0:
        warnings.append("no mosaic spread specified.  setting mosaic_domains = 1")
        return 0.0, 1
    if spread == 0.0:
        warnings.append("zero mosaic spread specified.  setting mosaic_domains = 1")
        return spread, 1
    return spread, domains


def resolve_sampling(cargs) -> Sampling:
    """The C's step counts; flags that give no countable number of steps are SimcoreUsageError."""
    try:
        return _resolve_sampling(cargs)
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        from simcore.errors import SimcoreUsageError

        raise SimcoreUsageError(f"the sampling flags (-osc/-phistep, divergence, dispersion, thickness steps) "
                                f"give no countable number of steps ({exc})") from None


def _resolve_sampling(cargs) -> Sampling:
    warnings: list[str] = []
    phi0, osc, phistep, phisteps = resolve_phi(cargs.phi0_rad, cargs.osc_rad, cargs.phistep_rad, cargs.phisteps)
    h = _sane(*resolve_range(cargs.hdivrange_rad, cargs.hdivstep_rad, cargs.hdivsteps))
    v = _sane(*resolve_range(cargs.vdivrange_rad, cargs.vdivstep_rad, cargs.vdivsteps))
    # the C has no dispersion-step flag: dispstep starts at -1
    d = _sane(*resolve_range(cargs.dispersion, -1.0, cargs.dispsteps))
    t = _sane(*resolve_thickness(cargs.detector_thick_m, -1.0, cargs.detector_thicksteps))
    mu = cargs.detector_mu
    if t[0] > 0.0 and mu < 0.0:
        mu = 1.0 / t[0]
        warnings.append(f"setting detector attenuation depth to {mu:g} m")
    spread, domains = resolve_mosaic(cargs.mosaic_spread_rad, cargs.mosaic_domains, warnings)
    return Sampling(phi0, osc, phistep, phisteps, h[0], h[1], h[2], v[0], v[1], v[2], d[0], d[1], d[2],
                    t[0], t[1], t[2], mu, spread, domains, tuple(warnings))
