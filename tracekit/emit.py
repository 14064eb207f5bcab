"""Emit simcore's live tap values as a trace in exactly the C program's order and `%.15g` format.

Usage from simcore (values are the live tensors' values, never recomputed)::

    taps = {"pixel_pos_meters": TapValue("pixel_pos_meters", ("layer", "sub_s", "sub_f"), arr, "float64"), ...}
    lines = emit_lines(taps, prefix="TRACE_PY", xtal_shape="square")

Which dims to pass, per tap (a subset is fine: the emitter broadcasts; `Catalogue.simcore_taps()`
returns this list):

* setup, dims ``()``: the setup taps of the pivot branch the run used
  (SAMPLE: ``detector_convention angles_rad beam_center_m initial_fdet initial_sdet initial_odet
  Fclose_m Sclose_m close_distance_m ratio distance_m term_fast_before_rot term_slow_before_rot
  term_close_before_rot pix0_before_rotation pix0_after_rotz pix0_after_twotheta``; BEAM: ``... Rx Ry
  Rz R_total convention_mapping Fbeam_m Sbeam_m distance_m term_fast term_slow term_beam
  pix0_vector``); both: ``fdet_after_rotz sdet_after_rotz odet_after_rotz twotheta_axis
  fdet_after_twotheta sdet_after_twotheta odet_after_twotheta`` and ``trace_pixel`` (slow, fast).
  ``beam_center_m`` takes the TRUE (X_m, Y_m, pixel_mm); ``angles_rad`` (rotx, roty, rotz, twotheta).
* group A, at most ``(layer, sub_s, sub_f)``: ``pixel_pos_meters R_distance_meters omega_pixel_sr``
  (the cached value) ``diffracted_vec``; ``()``: ``pix0_vector_meters fdet_vec sdet_vec
  close_distance_meters``; ``(source,)``: ``incident_vec lambda_meters``; ``(layer, sub_s, sub_f,
  source)``: ``scattering_vec_A_inv`` (m^-1), ``reached_source`` (bool), optional ``polar_eval``
  and ``cos2theta_eval`` (what TRACE_C_SOURCE2 prints; else ``polar`` and incident . diffracted).
* groups B-D, at most all six dims: ``rot_a_angstroms rot_b_angstroms rot_c_angstroms`` (usually
  ``(phi, mosaic)``), ``rot_a_star_A_inv rot_b_star_A_inv rot_c_star_A_inv`` (``()``, static),
  ``hkl_frac hkl_rounded F_latt_a F_latt_b F_latt_c F_latt F_cell reached_fcell``; ``phi_deg (phi,)``.
* group E, dims ``()``: ``I_before_scaling r_e_sqr fluence_photons_per_m2 steps oversample_thick
  oversample_polar oversample_omega capture_fraction polar omega_pixel cos_2theta I_pixel_final
  floatimage_accumulated``.
* extra setup values the C prints only as ``TRACE:`` prose, dims ``()``: ``a_star_A_inv b_star_A_inv
  c_star_A_inv V_cell_A3 a0_m b0_m c0_m`` (in --all-indices / JSONL output only).

Derived lines (``obliquity_factor lambda_angstroms r_e_meters``, ``DETECTOR_*``, per-phi and
SOURCE2 lines) are built from those unless passed. Taps not passed are simply not printed.
Loop sizes come from the shapes of the taps that carry each dim: pass at least
``pixel_pos_meters`` over (layer, sub_s, sub_f), ``incident_vec`` over (source,) and the
group B-D taps over all six dims, or the emitter prints fewer blocks than the run had.
``values`` is a numpy array (or anything ``np.asarray`` takes, e.g. ``tensor.detach().cpu()``).
With ``all_indices=True`` every index the C cannot print follows group E as
``P_AT name[layer=0,sub_s=0,sub_f=1,source=2,phi=0,mosaic=0] values`` lines (reached evaluations
only); the trace starts with ``P_META dtype=.. device=.. oversample=.. layers=..`` and ends with
``P_END records=N``.
"""
from __future__ import annotations

import itertools
from typing import Iterator, Mapping, NamedTuple

from tracekit.catalogue import Catalogue, TapSpec, catalogue
from tracekit.errors import TraceUsageError
from tracekit.grammar import C_PREFIX, fmt_value, render_values
from tracekit.records import LOOP_DIMS, LoopIndex, TapValue, TraceRecord
from tracekit.tapset import TapSet

SHAPES = ("square", "round", "gauss", "tophat")


class Item(NamedTuple):
    """One output line: its grammar and the record(s) it prints."""

    kind: str
    records: tuple[TraceRecord, ...]


def emit_items(taps: Mapping[str, TapValue], *, prefix: str = "TRACE_PY", all_indices: bool = False,
               xtal_shape: str = "square", tap5: bool = False, pivot: str | None = None,
               cat: Catalogue | None = None) -> tuple[list[Item], dict[str, str]]:
    """The trace as line items plus the META fields (see emit_lines)."""
    cat = cat or catalogue()
    _validate_options(prefix, xtal_shape, pivot)
    ts = TapSet(taps, cat)
    branch = pivot or cat.branch_of(frozenset(ts.taps))
    e = _Emitter(ts, cat, prefix, branch, xtal_shape == "square")
    items = list(e.setup())
    items += e.pixel_blocks(tap5)
    items += e.group_e(tap5)
    if all_indices:
        items += e.extras()
    meta = {"format": "tracekit-trace", "version": "1", "dtype": ts.dtype, "xtal_shape": xtal_shape}
    if branch:
        meta["branch"] = branch
    if e.has_pixel_block:
        meta.update(oversample=str(ts.size("sub_s")), layers=str(ts.size("layer")),
                    sources=str(ts.size("source")), phisteps=str(ts.size("phi")),
                    mosaic_domains=str(ts.size("mosaic")))
    return items, meta


def emit_records(taps: Mapping[str, TapValue], **kwargs) -> list[TraceRecord]:
    """All records the trace holds, in print order (same keyword options as emit_lines)."""
    items, _ = emit_items(taps, **kwargs)
    return [r for item in items for r in item.records]


def emit_lines(taps: Mapping[str, TapValue], *, prefix: str = "TRACE_PY", all_indices: bool = False,
               xtal_shape: str = "square", tap5: bool = False, pivot: str | None = None,
               meta: Mapping[str, str] | None = None) -> list[str]:
    """The trace text lines (without newlines), C order and format, framed by META/END.

    `xtal_shape` is the run's crystal shape (group C and the per-phi lines print only for
    "square"); `tap5` adds the lines the C prints with TRACE_C_TAP5/TRACE_C_TAP5_HKL set;
    `pivot` ("sample"/"beam") overrides the branch inferred from the setup taps; `meta` adds
    header fields such as ``device``. Raises TraceUsageError for taps that do not fit the catalogue.
    """
    cat = catalogue()
    items, head = emit_items(taps, prefix=prefix, all_indices=all_indices, xtal_shape=xtal_shape,
                             tap5=tap5, pivot=pivot, cat=cat)
    head.update({k: str(v) for k, v in (meta or {}).items()})
    body = [render_item(item, prefix, cat) for item in items]
    fields = " ".join(f"{k}={str(v).replace(' ', '_')}" for k, v in head.items())
    return [f"{prefix}_META {fields}", *body, f"{prefix}_END records={sum(len(i.records) for i in items)}"]


def render_item(item: Item, prefix: str, cat: Catalogue) -> str:
    """One line of text for an item, in the grammar its kind names."""
    recs = item.records
    if item.kind == "phi":
        body = " ".join(f"{cat.get(r.tap).c_name}={fmt_value(r.values[0])}" for r in recs)
        return f"{prefix}_PHI phi_tic={recs[0].index.phi} {body}"
    if item.kind == "tap5_hkl":
        return f"{prefix}_TAP5_HKL: subpixel={recs[0].index.sub_s} {recs[0].index.sub_f} " + " ".join(
            _hkl_field(cat.get(r.tap), r) for r in recs)
    rec = recs[0]
    spec = cat.get(rec.tap)
    vals = render_values(spec.kind if spec else "float", rec.values, rec.keys)
    if item.kind == "at":
        idx = ",".join(f"{d}={getattr(rec.index, d)}" for d in spec.index_dims)
        return f"{prefix}_AT {rec.tap}[{idx}] {vals}".rstrip()
    if item.kind == "config":
        head = "TRACE_CONFIG" if prefix == C_PREFIX else f"{prefix}_CONFIG"
        return f"{head}: tracing pixel (spixel={rec.values[0]}, fpixel={rec.values[1]})"
    name = spec.c_name if spec else rec.tap
    return {
        "setup": f"{prefix}:{name}={vals}", "detector": f"{name} {vals}", "pixel": f"{prefix}: {name} {vals}",
        "source2": f"{prefix}_SOURCE2: {name} {vals}", "tap5": f"{prefix}_TAP5: {name} {vals}",
    }[item.kind]


def _hkl_field(spec: TapSpec, rec: TraceRecord) -> str:
    if spec.c_name == "h0 k0 l0":
        return " ".join(f"{k}={v}" for k, v in zip(("h0", "k0", "l0"), rec.values))
    return f"{spec.c_name}={render_values(spec.kind, rec.values)}"


def _validate_options(prefix: str, xtal_shape: str, pivot: str | None) -> None:
    if not (prefix.startswith("TRACE_") and prefix[6:].isalnum() and prefix[6:].isupper()):
        raise TraceUsageError(f"prefix must be TRACE_ + capitals/digits, got {prefix!r}")
    if xtal_shape not in SHAPES:
        raise TraceUsageError(f"xtal_shape must be one of {SHAPES}, got {xtal_shape!r}")
    if pivot not in (None, "sample", "beam"):
        raise TraceUsageError(f"pivot must be 'sample', 'beam' or None, got {pivot!r}")


class _Emitter:
    """Walks the C print sequence over a TapSet."""

    def __init__(self, ts: TapSet, cat: Catalogue, prefix: str, branch: str | None, square: bool) -> None:
        self.ts, self.cat, self.prefix, self.branch, self.square = ts, cat, prefix, branch, square
        self.printed: set[tuple[str, LoopIndex]] = set()
        self.has_pixel_block = False

    def _rec(self, spec: TapSpec, index: dict[str, int], loop_index: LoopIndex, value_tap: str | None = None):
        vals = self.ts.value(value_tap or spec.name, index)
        if vals is None:
            return None
        keys = spec.keys_for(self.branch) if spec.kind == "keyvalue" else None
        self.printed.add((spec.name, loop_index))
        return TraceRecord(spec.name, loop_index, vals, keys, prefix=self.prefix)

    def _item(self, kind: str, names, index: dict[str, int], loop_index: LoopIndex) -> Iterator[Item]:
        for name in names:
            rec = self._rec(self.cat.specs[name], index, loop_index)
            if rec is not None:
                yield Item(kind, (rec,))

    def setup(self) -> Iterator[Item]:
        seq = self.cat.setup_sequences.get(self.branch or "")
        if seq is None:
            seq = [s.name for s in self.cat.specs.values() if s.level == "setup"]
        seen: dict[str, int] = {}
        for name in seq:
            occ = seen.get(name, 0)
            seen[name] = occ + 1
            spec = self.cat.specs[name]
            source = self._value_of(name, occ)
            rec = self._rec(spec, {}, LoopIndex(occurrence=occ), source)
            if rec is not None:
                yield Item(spec.family, (rec,))

    def _value_of(self, name: str, occ: int) -> str | None:
        for d in self.cat.defects_for(name, "value_of"):
            if d.occurrence == occ and d.branch in (None, self.branch):
                return d.source.get(name)
        return None

    def pixel_blocks(self, tap5: bool) -> Iterator[Item]:
        cat, ts = self.cat, self.ts
        groups = {g: [s.name for s in cat.pixel_block() if s.group == g] for g in "ABCD"}
        phi_names = [s.name for s in cat.group("phi")]
        hkl_names = [s.name for s in cat.group("tap5_hkl")]
        src2_names = [s.name for s in cat.group("source2")]
        if not any(n in ts.taps for names in groups.values() for n in names):
            return
        self.has_pixel_block = True
        os_, nphi = ts.size("sub_s"), ts.size("phi")
        for layer, sub_s, sub_f in itertools.product(range(ts.size("layer")), range(os_), range(ts.size("sub_f"))):
            i_src = dict(layer=layer, sub_s=sub_s, sub_f=sub_f, source=0)
            yield from self._item("pixel", groups["A"], i_src, LoopIndex(layer, sub_s, sub_f, 0))
            if ts.reached("reached_source", i_src):
                for phi in range(nphi):
                    idx = dict(i_src, phi=phi, mosaic=0)
                    li = LoopIndex(layer, sub_s, sub_f, 0, phi, 0)
                    if phi == 0:
                        yield from self._item("pixel", groups["B"], idx, li)
                    if self.square:
                        if phi == 0:
                            yield from self._item("pixel", groups["C"], idx, li)
                        recs = [r for n in phi_names if (r := self._rec(cat.specs[n], idx, li))]
                        if recs:
                            yield Item("phi", tuple(recs))
                    if phi == 0 and ts.reached("reached_fcell", idx):
                        yield from self._item("pixel", groups["D"], idx, li)
                        recs = [r for n in hkl_names if tap5 and (r := self._rec(cat.specs[n], idx, li))]
                        if recs:
                            yield Item("tap5_hkl", tuple(recs))
            i2 = dict(layer=layer, sub_s=sub_s, sub_f=sub_f, source=2, phi=0, mosaic=0)
            if ts.size("source") > 2 and ts.reached("reached_source", i2) and ts.reached("reached_fcell", i2):
                yield from self._item("source2", src2_names, i2, LoopIndex(layer, sub_s, sub_f, 2, 0, 0))

    def group_e(self, tap5: bool) -> Iterator[Item]:
        yield from self._item("pixel", [s.name for s in self.cat.group("E")], {}, LoopIndex())
        if tap5:
            yield from self._item("tap5", [s.name for s in self.cat.group("tap5")], {}, LoopIndex())

    def extras(self) -> Iterator[Item]:
        """AT items for every (tap, index) of groups A-D the C-format section did not print, and
        for the values simcore taps that the C never prints as TRACE_C (group "extra")."""
        ts = self.ts
        for spec in self.cat.pixel_block() + self.cat.group("extra"):
            if spec.shape == "square" and not self.square:
                continue
            dims = spec.index_dims
            for combo in itertools.product(*(range(ts.size(d)) for d in dims)):
                idx = dict(zip(dims, combo))
                li = LoopIndex(*(idx.get(d) for d in LOOP_DIMS))
                if (spec.name, li) in self.printed:
                    continue
                if spec.group not in ("A", "extra") and not ts.reached("reached_source", idx):
                    continue
                if spec.group == "D" and not ts.reached("reached_fcell", idx):
                    continue
                rec = self._rec(spec, idx, li)
                if rec is not None:
                    yield Item("at", (rec,))
