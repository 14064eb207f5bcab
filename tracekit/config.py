"""Parse the C program's effective-configuration printout (its stdout before the pixel loop)
into a flat dict of named, unit-suffixed keys. simcore prints the same block in the same
format, so one parser reads both sides (see `tracekit.config_diff`).

Values are float, int, str, bool or tuples of numbers (vectors, per-source lists). Parsing stops
at the pixel loop (progress meter, ``TRACE_CONFIG``, pixel trace lines) or the final statistics
(``solid angle subtended``); ``TRACE:`` and ``TRACE_C:`` setup lines are skipped, while
``DETECTOR_*`` lines of the instrumented build are kept.

Other ports print their configuration in their own words (``Pivot: SAMPLE``, ``Beam center (mm):
25.6 25.6``): `parse_any_config` adds the keys that the data-driven table of
`tracekit.config_words` (and a dialect's ``config:`` rules) finds, in the C's keys and units,
and says which key came from where.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from tracekit.config_words import builtin_rules, compile_rules, read_words
from tracekit.errors import TraceParseError

Config = dict[str, Any]
_N = r"(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|-?nan|-?inf)"
_STOP = ("solid angle subtended", "TRACE_CONFIG", "TRACE_C: ", "TRACE_PY: ")


def _f(x: str) -> float:
    return float(x)


def _vec(*xs: str) -> tuple[float, ...]:
    return tuple(float(x) for x in xs)


def _set(**keys: Callable[[re.Match], Any]):
    """Handler: each key gets f(match)."""
    return lambda m, cfg: cfg.update({k: f(m) for k, f in keys.items()})


def _append(key: str, conv: Callable[..., Any]):
    return lambda m, cfg: cfg.__setitem__(key, cfg.get(key, ()) + tuple(_flat(conv(*m.groups()))))


def _flat(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def _g(i: int, conv: Callable[[str], Any] = _f) -> Callable[[re.Match], Any]:
    return lambda m: conv(m.group(i))


def _v(*idx: int) -> Callable[[re.Match], tuple[float, ...]]:
    return lambda m: _vec(*m.group(*idx)) if len(idx) > 1 else _vec(m.group(idx[0]))


def _vec3_line(label: str, key: str):
    return (rf"^\s*{re.escape(label)}\s*{_N}\s+{_N}\s+{_N}\s*$", _set(**{key: _v(1, 2, 3)}))


_RULES: list[tuple[str, Callable[[re.Match, Config], None]]] = [
    (r"^(\w+) convention selected\.$", _set(convention=_g(1, str))),
    (r"^pivoting detector around (sample|direct beam spot)$",
     _set(detector_pivot=lambda m: "sample" if m.group(1) == "sample" else "beam")),
    _vec3_line("XDS incident beam:", "xds_incident_beam"),
    (r"^auto-selected (no|tricubic) interpolation", _set(interpolation_auto=lambda m: "tricubic" if m.group(1) == "tricubic" else "none")),
    (r"^reading Fs from (\S+)$", _set(fdump_file_read=_g(1, str))),
    (r"^reading (\S+)$", _set(input_file_read=_g(1, str))),
    (r"^counting entries in (\S+)$", _set(hkl_file=_g(1, str))),
    (r"^writing dump file for next time: (\S+)$", _set(fdump_written=_g(1, str))),
    (rf"^random orientation misset angles: {_N} {_N} {_N} deg$", _set(misset_random_deg=_v(1, 2, 3))),
    (rf"^Unit Cell: {_N} {_N} {_N} {_N} {_N} {_N}$",
     _set(cell_a_A=_g(1), cell_b_A=_g(2), cell_c_A=_g(3), cell_alpha_deg=_g(4), cell_beta_deg=_g(5), cell_gamma_deg=_g(6))),
    (rf"^Recp Cell: {_N} {_N} {_N} {_N} {_N} {_N}$",
     _set(recip_a_A_inv=_g(1), recip_b_A_inv=_g(2), recip_c_A_inv=_g(3), recip_alpha_deg=_g(4),
          recip_beta_deg=_g(5), recip_gamma_deg=_g(6))),
    (rf"^volume = {_N} A\^3$", _set(cell_volume_A3=_g(1))),
    (rf"^crystal is {_N} x {_N} x {_N} microns$", _set(crystal_size_um=_v(1, 2, 3))),
    (r"^auto-selected (\d+)-fold oversampling$", _set(oversample_auto=_g(1, int))),
    (r"^\s+recommend -oversample (\d+) to work around this$", _set(oversample_recommended=_g(1, int))),
    (rf"^approximate MW = {_N}$", _set(approximate_MW_Da=_g(1))),
    (rf"^thick\d+ = {_N} um$", _append("thick_layers_um", _f)),
    (rf"^phi\d+ = {_N}$", _append("phi_values_deg", _f)),
    (rf"^divergence deviation: {_N} {_N}$", _append("divergence_deviations_rad", _vec)),
    (rf"^lambda\d+ = {_N}$", _append("dispersion_lambdas_m", _f)),
    (r"^\s+created a total of (\d+) sources:$", _set(sources_created=_g(1, int))),
    (rf"^{_N} {_N} {_N}   {_N} {_N}$", lambda m, cfg: _source_row(m, cfg)),
    (r"^\s+created a total of (\d+) mosaic domains$", _set(mosaic_domains_created=_g(1, int))),
    (rf"^\s+(\d+) initialized hkls \(all others ={_N}\)$", _set(hkls_initialized=_g(1, int), default_F=_g(2))),
    (r"^\s+(ellipsoidal|parallelpiped|gaussian|tophat-spot) xtal: (\d+)x(\d+)x(\d+) cells$",
     _set(crystal_shape=_g(1, str), Na=_g(2, int), Nb=_g(3, int), Nc=_g(4, int))),
    (rf"^\s+wave={_N} meters \+/- {_N}% in (\d+) steps$",
     _set(lambda0_m=_g(1), dispersion_percent=_g(2), dispersion_steps=_g(3, int))),
    (rf"^\s+Kahn polarization factor: {_N}$", _set(kahn_polarization=_g(1), polarization_disabled=lambda m: False)),
    (r"^\s+polarization effect disabled$", _set(polarization_disabled=lambda m: True)),
    (r"^\s+curved detector: all pixels same distance from origin$", _set(curved_detector=lambda m: True)),
    (r"^\s+pixel obliquity effect disabled$", _set(point_pixel=lambda m: True)),
    (rf"^\s+incident fluence: {_N} photons/m\^2$", _set(fluence_photons_per_m2=_g(1))),
    (rf"^\s+distance={_N} detsize={_N}x{_N}\s+pixel={_N} meters \((\d+)x(\d+) pixels\)$",
     _set(distance_m=_g(1), detsize_f_m=_g(2), detsize_s_m=_g(3), pixel_m=_g(4), fpixels=_g(5, int), spixels=_g(6, int))),
    (rf"^\s+sensor is {_N} m thick in (\d+) layers with mu= {_N}$",
     _set(detector_thick_m=_g(1), detector_thicksteps=_g(2, int), detector_mu_m_inv=_g(3))),
    (rf"^\s+Xbeam={_N} Ybeam={_N}$", _set(Xbeam_m=_g(1), Ybeam_m=_g(2))),
    (rf"^\s+Fbeam={_N} Sbeam={_N}$", _set(Fbeam_m=_g(1), Sbeam_m=_g(2))),
    (rf"^\s+Xclose={_N} Yclose={_N}$", _set(Xclose_m=_g(1), Yclose_m=_g(2))),
    (rf"^\s+Fclose={_N} Sclose={_N}$", _set(Fclose_m=_g(1), Sclose_m=_g(2))),
    _vec3_line("DIRECTION_OF_DETECTOR_X-AXIS=", "fdet_vector"),
    _vec3_line("DIRECTION_OF_DETECTOR_Y-AXIS=", "sdet_vector"),
    _vec3_line("DIRECTION_OF_DETECTOR_Z-AXIS=", "odet_vector"),
    _vec3_line("INCIDENT_BEAM_DIRECTION=", "beam_vector"),
    _vec3_line("spindle ROTATION_AXIS=", "spindle_vector"),
    _vec3_line("POLARIZATION_PLANE_NORMAL=", "polarization_plane_normal"),
    _vec3_line("dials origin=", "dials_origin_mm"),
    _vec3_line("DETECTOR_FAST_AXIS", "detector_fast_axis"),
    _vec3_line("DETECTOR_SLOW_AXIS", "detector_slow_axis"),
    _vec3_line("DETECTOR_NORMAL_AXIS", "detector_normal_axis"),
    _vec3_line("DETECTOR_PIX0_VECTOR", "detector_pix0_vector_m"),
    (r"^\s+roi: (-?\d+) < x < (-?\d+) && (-?\d+) < y < (-?\d+)$",
     _set(roi_px=lambda m: tuple(int(x) for x in m.groups()))),
    (rf"^\s+hdivrange={_N} hdivstep={_N}\s+radians$", _set(hdivrange_rad=_g(1), hdivstep_rad=_g(2))),
    (rf"^\s+vdivrange={_N} vdivstep={_N}\s+radians$", _set(vdivrange_rad=_g(1), vdivstep_rad=_g(2))),
    (r"^\s+(-?\d+) divergence steps$", _set(divergence_steps=_g(1, int))),
    (r"^\s+(\d+) sources$", _set(sources=_g(1, int))),
    (rf"^\s+(\d+) mosaic domains over mosaic spread of {_N} degrees$",
     _set(mosaic_domains=_g(1, int), mosaic_spread_deg=_g(2))),
    (rf"^\s+(\d+) phi steps from {_N} to {_N} degrees$",
     _set(phi_steps=_g(1, int), phi_start_deg=_g(2), phi_end_deg=_g(3))),
    (r"^\s+(\d+)x\d+ pixel oversample steps((?: \+\w+)*)$",
     lambda m, cfg: cfg.update(oversample=int(m.group(1)), oversample_thick="+thick" in m.group(2),
                               oversample_polar="+polar" in m.group(2), oversample_omega="+omega" in m.group(2))),
    (r"^\s+skipping zero-flagged pixels in (\S+)$", _set(mask_file=_g(1, str))),
    (r"^\s+seed: (-?\d+)$", _set(noise_seed=_g(1, int))),
    (rf"^\s+water droplet size: {_N} m$", _set(water_size_m=_g(1))),
    (r"^(WARNING: .*?)\s*$", _append("warnings", str)),
]
_COMPILED = [(re.compile(p), h) for p, h in _RULES]
_MATRIX_ROW = re.compile(rf"^([XYZ]):\s+{_N}\s+{_N}\s+{_N}$")
_FLAGS_DEFAULT = {"curved_detector": False, "point_pixel": False}


def _source_row(m: re.Match, cfg: Config) -> None:
    x, y, z, w, lam = (float(v) for v in m.groups())
    cfg["source_positions_m"] = cfg.get("source_positions_m", ()) + (x, y, z)
    cfg["source_weights"] = cfg.get("source_weights", ()) + (w,)
    cfg["source_lambdas_m"] = cfg.get("source_lambdas_m", ()) + (lam,)


def parse_config(text: str) -> Config:
    """The flat effective-configuration dict of one stdout text (see module docstring)."""
    cfg: Config = {}
    matrix: str | None = None
    for line in text.splitlines():
        if line.endswith("% done") or line.startswith(_STOP):
            break
        if line.startswith("TRACE"):
            continue
        if line.startswith("real-space cell vectors"):
            matrix = "A"
            continue
        if line.startswith("reciprocal-space cell vectors"):
            matrix = "A_inv"
            continue
        row = _MATRIX_ROW.match(line)
        if row and matrix:
            _matrix_row(row, matrix, cfg)
            matrix = None if row.group(1) == "Z" else matrix
            continue
        for rx, handler in _COMPILED:
            m = rx.match(line)
            if m:
                handler(m, cfg)
                break
    if "distance_m" in cfg:
        for key, val in _FLAGS_DEFAULT.items():
            cfg.setdefault(key, val)
    return cfg


def _matrix_row(m: re.Match, unit: str, cfg: Config) -> None:
    axis = "XYZ".index(m.group(1))
    names = ("a", "b", "c") if unit == "A" else ("a_star", "b_star", "c_star")
    for col, name in enumerate(names):
        key = f"{name}_vec_{unit}"
        vec = list(cfg.get(key, (0.0, 0.0, 0.0)))
        vec[axis] = float(m.group(2 + col))
        cfg[key] = tuple(vec)


def parse_any_config(text: str, dialect=None) -> tuple[Config, dict[str, str]]:
    """The C-format keys of `text` plus those other ports print in their own words; and, per key,
    where it came from ("c" or "words"). `dialect` (tracekit.dialect.Dialect) adds its ``config:``
    rules in front of the built-in table and lets its prefixes lead a configuration line."""
    cfg = parse_config(text)
    sources = dict.fromkeys(cfg, "c")
    rules = [*(compile_rules(dialect.config, dialect.source) if dialect is not None and dialect.config else ()),
             *builtin_rules()]
    prefixes = tuple(dialect.prefixes) if dialect is not None else ()
    lines = [_strip_prefix(ln, prefixes) for ln in text.splitlines()]
    for key, value in read_words(lines, rules).items():
        if key not in cfg:
            cfg[key] = value
            sources[key] = "words"
    return cfg, sources


def _strip_prefix(line: str, prefixes: tuple[str, ...]) -> str:
    for p in prefixes:
        if line.startswith(p):
            return line[len(p):].lstrip(": ")
    return line


def read_config_any(path: str | Path, dialect=None) -> tuple[Config, dict[str, str]]:
    """parse_any_config of a file; TraceParseError (exit 5) if unreadable or nothing found."""
    cfg, sources = parse_any_config(_read_text(Path(path)), dialect)
    if not cfg:
        raise TraceParseError(f"{path}: no configuration lines found (the C's printout, or a port's "
                              "'Key: value' lines; a dialect's config: section adds patterns)")
    return cfg, sources


def read_config(path: str | Path) -> Config:
    """parse_config of a stdout file; TraceParseError (exit 5) if unreadable or no config found."""
    path = Path(path)
    cfg = parse_config(_read_text(path))
    if not cfg:
        raise TraceParseError(f"{path}: no nanoBragg configuration lines found")
    return cfg


def _read_text(path: Path) -> str:
    from tracekit.inputs import read_input_bytes

    data = read_input_bytes(path)        # a FIFO, folder or device is refused, never read
    if not data:
        raise TraceParseError(f"{path}: empty file")
    if b"\x00" in data:
        raise TraceParseError(f"{path}: binary data (NUL bytes), not a stdout text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise TraceParseError(f"{path}: undecodable bytes (not UTF-8 text)") from None
