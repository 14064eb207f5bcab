"""Rebuild TapValues from a parsed trace, so a recorded trace can be re-emitted.

Each catalogued tap that has records becomes a TapValue over its full index dims (sizes from
the trace), NaN (or 0) where the trace printed nothing; ``reached_source``/``reached_fcell``
are rebuilt from which group B / F_cell (and SOURCE2) lines were printed. Known print-scale
defects of a C trace are undone, so the TapValues hold true values (as simcore's would).
Used to test the emitter against real C traces, and to replay a trace through another format.
"""
from __future__ import annotations

import numpy as np

from tracekit.records import LEVEL_DIMS, TapValue
from tracekit.trace import ParsedTrace


def taps_from_trace(trace: ParsedTrace, *, dtype: str = "float64") -> dict[str, TapValue]:
    """TapValues for every catalogued tap printed at occurrence 0 of `trace`."""
    cat = trace.cat
    recs = [r for r in trace.records.values() if r.index.occurrence == 0 and cat.get(r.tap) is not None]
    sizes = _sizes(trace, recs)
    by_tap: dict[str, list] = {}
    for rec in recs:
        by_tap.setdefault(rec.tap, []).append(rec)
    out: dict[str, TapValue] = {}
    for tap, rows in by_tap.items():
        spec = cat.get(tap)
        dims = spec.index_dims
        ncomp = 1 if spec.kind == "str" else spec.ncomp
        shape = tuple(sizes[d] for d in dims) + (ncomp,)
        if spec.kind == "str":
            arr = np.full(shape, "", dtype=object)
        elif spec.kind in ("int", "bool"):
            arr = np.zeros(shape, dtype=np.int64)
        else:
            arr = np.full(shape, np.nan)
        for rec in rows:
            vals = rec.values
            if trace.is_c:
                for d in cat.defects_for(tap, "print_scale"):
                    vals = tuple(v / d.factor if i in d.components else v for i, v in enumerate(vals))
            arr[tuple(getattr(rec.index, d) for d in dims)] = vals
        out[tap] = TapValue(tap, dims, arr, dtype)
    _fill_from_views(out, recs, cat)
    out.update(_reached(trace, recs, sizes, dtype))
    return out


def _fill_from_views(out: dict[str, TapValue], recs, cat) -> None:
    """Where a primary tap was not printed but a view of it was (F_latt at phi > 0 through the
    per-phi lines, F_cell at source 2 through SOURCE2), copy the view's value into the primary."""
    for rec in recs:
        spec = cat.get(rec.tap)
        if not spec.same_as or spec.same_as not in out or cat.get(spec.same_as).level != spec.level:
            continue
        target = out[spec.same_as]
        pos = tuple(getattr(rec.index, d) for d in target.dims)
        comp = spec.component
        if comp is not None:
            if np.isnan(target.values[pos][comp]):
                target.values[pos + (comp,)] = rec.values[0]
        elif target.values.dtype.kind == "f" and np.isnan(target.values[pos]).all():
            target.values[pos] = rec.values


def _sizes(trace: ParsedTrace, recs) -> dict[str, int]:
    sizes = {d: 1 for d in LEVEL_DIMS["mosaic"]}
    for rec in recs:
        for d, v in rec.index.as_dict().items():
            if d in sizes:
                sizes[d] = max(sizes[d], v + 1)
    if trace.stats.oversample:
        sizes["sub_s"] = sizes["sub_f"] = trace.stats.oversample
    if trace.stats.layers:
        sizes["layer"] = trace.stats.layers
    return sizes


def _reached(trace: ParsedTrace, recs, sizes: dict[str, int], dtype: str) -> dict[str, TapValue]:
    cat = trace.cat
    b_taps = {s.name for s in cat.group("B")} | {s.name for s in cat.group("source2")}
    fcell_taps = {"F_cell", "source2_F_cell"}
    src_dims, mos_dims = LEVEL_DIMS["source"], LEVEL_DIMS["mosaic"]
    reached_src = np.zeros(tuple(sizes[d] for d in src_dims) + (1,), dtype=bool)
    reached_f = np.zeros(tuple(sizes[d] for d in mos_dims) + (1,), dtype=bool)
    for rec in recs:
        if rec.tap in b_taps:
            reached_src[tuple(getattr(rec.index, d) for d in src_dims)] = True
        if rec.tap in fcell_taps:
            reached_f[tuple(getattr(rec.index, d) for d in mos_dims)] = True
    return {"reached_source": TapValue("reached_source", src_dims, reached_src, dtype),
            "reached_fcell": TapValue("reached_fcell", mos_dims, reached_f, dtype)}
