"""simcore's TRACE_PY output → the mutant ports' foreign trace dialect ("torchport"), and back.

What the rewrite does (dialect.yaml says the same for tracekit):

- another prefix (``TRACE_TORCH``), no META/END framing, no ``TRACE_CONFIG`` line, no
  ``DETECTOR_*`` lines, no loop-index header (simcore's set-up summary with its "NxN pixel
  oversample steps" line is replaced by a banner and a configuration printout in the port's words);
- one block per pixel: the first evaluation's values (layer 0, sub-pixel 0,0, source 0, phi 0,
  mosaic 0), then the once-per-pixel taps;
- renamed taps (``F_cell_interpolated``, ``I_before_scaling_pre_polar``, ``omega_pixel_sr`` for the
  final solid angle; the per-sub-pixel ``omega_pixel_sr`` is dropped), ``pixel_pos_meters`` in mm,
  an extra ``spindle_magnitude``;
- extra lines: ``TORCH_PHI step=K ...`` per phi step, ``TRACE: Fluence = ...``, ``Final intensity = ...``;
- numbers in ``%.10g`` (not the C's ``%.15g``).

``read_dialect`` parses the dialect back into catalogue names and units (the CI tests compare
mutant and simcore traces with it, without tracekit's dialect support).
"""
from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DIALECT_YAML = Path(__file__).with_name("dialect.yaml")
PY_PREFIX = "TRACE_PY"
PHI_PREFIX = "TORCH_PHI"
SETUP_KEEP = ("Fbeam_m", "Sbeam_m", "Fclose_m", "Sclose_m", "close_distance_m", "distance_m")
DROPPED = ("omega_pixel_sr",)       # the per-sub-pixel solid angle: this port does not print it
EXTRA_AFTER = {"scattering_vec_A_inv": ("spindle_magnitude", "1")}


@dataclass
class DialectSpec:
    """dialect.yaml: ``aliases`` port name → catalogue name, ``scale`` catalogue = port · factor."""

    name: str
    prefix: str
    aliases: dict
    scale: dict
    ignore: list

    def port_name(self, catalogue_name: str) -> str:
        for port, cat in self.aliases.items():
            if cat == catalogue_name:
                return port
        return catalogue_name

    def ignored(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pat) for pat in self.ignore)


def load_spec(path: Path = DIALECT_YAML) -> DialectSpec:
    data = yaml.safe_load(Path(path).read_text())
    return DialectSpec(data["name"], data["prefixes"][0], dict(data.get("aliases") or {}),
                       dict(data.get("scale") or {}), list(data.get("ignore") or []))


@dataclass
class Block:
    """Ordered (name, tokens) pairs; numeric access for defects that re-derive values."""

    items: list = field(default_factory=list)

    def names(self) -> list[str]:
        return [n for n, _ in self.items]

    def get(self, name: str) -> list[float] | None:
        for n, toks in self.items:
            if n == name:
                return [float(t) for t in toks]
        return None

    def set(self, name: str, values, *, only_if_present: bool = False) -> None:
        toks = [_fmt(v) for v in values]
        for i, (n, _) in enumerate(self.items):
            if n == name:
                self.items[i] = (n, toks)
                return
        if not only_if_present:
            self.items.append((name, toks))


@dataclass
class SimcoreTrace:
    """The parts of simcore's stdout the dialect is built from."""

    meta: dict = field(default_factory=dict)
    setup: dict = field(default_factory=dict)
    pixel: tuple | None = None
    block: Block = field(default_factory=Block)       # groups A-D of the first block
    final: Block = field(default_factory=Block)       # group E
    phi: list = field(default_factory=list)           # [(step, {key: token})] of the first block
    other: list = field(default_factory=list)         # non-trace lines ("writing ..." etc.)


def read_simcore_trace(lines: list[str], prefix: str = PY_PREFIX) -> SimcoreTrace:
    """Split simcore's stdout into the trace parts (the first block only)."""
    from tracekit.catalogue import catalogue

    group_e = {s.name for s in catalogue().group("E")}   # once-per-pixel taps, after every loop
    t = SimcoreTrace()
    in_first = True
    for line in lines:
        if line.startswith(prefix + "_META"):
            t.meta = dict(tok.partition("=")[::2] for tok in line.split()[1:])
        elif line.startswith(prefix + "_CONFIG"):
            nums = [int(x) for x in line.replace(",", " ").replace(")", " ").replace("=", " ").split() if _is_int(x)]
            t.pixel = (nums[0], nums[1])
        elif line.startswith(prefix + "_PHI "):
            if in_first:
                toks = dict(tok.partition("=")[::2] for tok in line.split()[1:])
                t.phi.append((int(toks.pop("phi_tic")), toks))
        elif line.startswith(prefix + ": "):
            name, _, vals = line[len(prefix) + 2:].partition(" ")
            toks = vals.split()
            if name in group_e:
                in_first = False
                t.final.items.append((name, toks))
            elif name in t.block.names():
                in_first = False
            elif in_first:
                t.block.items.append((name, toks))
        elif line.startswith(prefix + ":") and "=" in line:
            name, _, value = line[len(prefix) + 1:].partition("=")
            t.setup.setdefault(name, value)
        elif line.startswith("writing "):
            t.other.append(line)
    return t


def to_dialect(lines: list[str], spec: DialectSpec | None = None, *, mutant: str = "", transform=None,
               ctx: dict | None = None) -> list[str]:
    """Rewrite simcore's stdout (a list of lines) into the dialect. ``transform(block, ctx)`` may
    change the first block before it is printed (a trace re-derived beside the physics)."""
    spec = spec or load_spec()
    t = read_simcore_trace(lines)
    out = [f"torchport 0.3.1 - nanoBragg-compatible PyTorch simulator{f' [{mutant}]' if mutant else ''}"]
    if t.meta or t.setup:
        out.append(f"Device: {t.meta.get('device', 'cpu')}  dtype: {t.meta.get('dtype', '?')}")
        out.append(f"Convention: {t.setup.get('detector_convention', '?')}")
        out.append(f"Pivot: {t.meta.get('branch', '?').upper()}")
        out += _config_words(t)
    if t.pixel is not None:
        out.append(f"Tracing pixel (slow={t.pixel[0]}, fast={t.pixel[1]})")
    if transform is not None and t.block.items:
        transform(t.block, ctx or {})
    p = spec.prefix
    for name in SETUP_KEEP:
        if name in t.setup:
            out.append(f"{p}:{name}={_fmt_tokens([t.setup[name]])}")
    for name, toks in t.block.items:
        if name in DROPPED:
            continue
        out.append(f"{p}: {spec.port_name(name)} {_port_tokens(name, toks, spec)}")
        if name in EXTRA_AFTER:
            extra, value = EXTRA_AFTER[name]
            out.append(f"{p}: {extra} {value}")
    for name, toks in t.final.items:
        out.append(f"{p}: {spec.port_name(name)} {_port_tokens(name, toks, spec)}")
    for step, toks in t.phi:
        out.append(f"{PHI_PREFIX} step={step} " + " ".join(f"{k}={_fmt_tokens([v])}" for k, v in toks.items()))
    fluence = t.final.get("fluence_photons_per_m2")
    if fluence:
        out.append(f"TRACE: Fluence = {fluence[0]:.6g} photons/m^2")
    final = t.final.get("floatimage_accumulated")
    if final:
        out.append(f"Final intensity = {final[0]:.6g} photons")
    out += t.other
    return out


def _config_words(t: SimcoreTrace) -> list[str]:
    """The port's own set-up printout (tracekit's built-in config words read these forms)."""
    out = []
    keyed = dict(tok.partition(":")[::2] for tok in t.setup.get("beam_center_m", "").split())
    if t.meta.get("branch") == "beam" and {"X", "Y"} <= set(keyed):   # SAMPLE prints Xclose/Yclose there
        out.append(f"Beam center (mm): {float(keyed['X']) * 1e3:.6g} {float(keyed['Y']) * 1e3:.6g}")
    if "distance_m" in t.setup:
        out.append(f"Distance (mm): {float(t.setup['distance_m']) * 1e3:.6g}")
    lam = t.block.get("lambda_angstroms")
    if lam:
        out.append(f"Wavelength (A): {lam[0]:.6g}")
    if "pixel_mm" in keyed:
        out.append(f"Pixel size (mm): {float(keyed['pixel_mm']):.6g}")
    return out


def read_dialect(lines: list[str], spec: DialectSpec | None = None) -> dict[str, list[float]]:
    """Catalogue name → values (catalogue units) of a dialect trace; ignored taps left out."""
    spec = spec or load_spec()
    out: dict[str, list[float]] = {}
    for line in lines:
        if line.startswith(spec.prefix + ": "):
            name, _, vals = line[len(spec.prefix) + 2:].partition(" ")
        elif line.startswith(spec.prefix + ":") and "=" in line:
            name, _, vals = line[len(spec.prefix) + 1:].partition("=")
        else:
            continue
        if spec.ignored(name):
            continue
        cat = spec.aliases.get(name, name)
        factor = spec.scale.get(cat, spec.scale.get(name, 1.0))
        out.setdefault(cat, [float(v) * factor for v in vals.split()])
    return out


def simcore_taps(lines: list[str]) -> dict[str, list[float]]:
    """Catalogue name → values of simcore's own TRACE_PY output, restricted to what the dialect
    prints (first block, group E, kept set-up values): the reference for the CI checks."""
    t = read_simcore_trace(lines)
    out = {k: [float(t.setup[k])] for k in SETUP_KEEP if k in t.setup}
    for name, toks in t.block.items + t.final.items:
        if name not in DROPPED:
            out.setdefault(name, [float(x) for x in toks])
    return out


def _port_tokens(name: str, toks: list[str], spec: DialectSpec) -> str:
    factor = spec.scale.get(name)
    if factor:
        return _fmt_tokens([float(x) / factor for x in toks])
    return _fmt_tokens(toks)


def _fmt_tokens(toks) -> str:
    return " ".join(t if isinstance(t, str) and _is_int(t) else _fmt(float(t)) for t in toks)


def _fmt(v: float) -> str:
    if isinstance(v, str):
        return v
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.10g}"


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()
