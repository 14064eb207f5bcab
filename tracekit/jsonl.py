"""JSONL form of a trace: one JSON object per line, same records as the text form.

    {"meta": {"format": "tracekit-jsonl", "version": 1, "prefix": "TRACE_PY", "dtype": "float64", ...}}
    {"tap": "F_cell", "index": {"layer": 0, "sub_s": 0, "sub_f": 1, "source": 3, "phi": 2, "mosaic": 5},
     "unit": "1", "dtype": "float64", "values": [100.0]}          (+ "keys" for key:value taps)
    {"end": {"records": N}}

Index fields that do not apply are null; ``occurrence`` appears only when non-zero. Values keep
full double precision (``repr``), NaN/Infinity as Python's json writes them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from tracekit.atomic import write_text_atomic
from tracekit.catalogue import catalogue
from tracekit.emit import emit_items
from tracekit.errors import TraceParseError
from tracekit.records import LOOP_DIMS, LoopIndex, TapValue, TraceRecord
from tracekit.stream_state import StreamState


def jsonl_lines(taps: Mapping[str, TapValue], *, prefix: str = "TRACE_PY", xtal_shape: str = "square",
                tap5: bool = False, pivot: str | None = None, meta: Mapping[str, str] | None = None) -> list[str]:
    """Every record of the trace (the C-format ones and every other loop index) as JSONL lines."""
    cat = catalogue()
    items, head = emit_items(taps, prefix=prefix, all_indices=True, xtal_shape=xtal_shape, tap5=tap5,
                             pivot=pivot, cat=cat)
    head.update({k: str(v) for k, v in (meta or {}).items()})
    head.update(format="tracekit-jsonl", prefix=prefix)
    records = [r for item in items for r in item.records]
    out = [json.dumps({"meta": head})]
    for rec in records:
        spec = cat.get(rec.tap)
        obj = {"tap": rec.tap, "index": {d: getattr(rec.index, d) for d in LOOP_DIMS},
               "unit": spec.unit if spec else "", "dtype": head["dtype"], "values": list(rec.values)}
        if rec.index.occurrence:
            obj["index"]["occurrence"] = rec.index.occurrence
        if rec.keys:
            obj["keys"] = list(rec.keys)
        out.append(json.dumps(obj))
    out.append(json.dumps({"end": {"records": len(records)}}))
    return out


def write_jsonl(taps: Mapping[str, TapValue], path: str | Path, *, overwrite: bool = False, **kwargs) -> Path:
    """Write jsonl_lines(taps, **kwargs) to `path` atomically (an existing file only if `overwrite`)."""
    return write_text_atomic(path, "\n".join(jsonl_lines(taps, **kwargs)) + "\n", overwrite=overwrite)


def iter_jsonl_records(lines: Iterable[str], stream: StreamState) -> Iterator[TraceRecord]:
    """Records of JSONL lines (newlines kept, as read from a file); fills stream.stats.
    Raises TraceParseError on bad input."""
    stats, name = stream.stats, stream.name
    ended, n, last_nl = False, 0, True
    for n, raw in enumerate(lines, 1):
        had_nl = raw.endswith("\n")
        line = raw.rstrip("\r\n")
        stats.n_lines, last_nl = n, had_nl
        if not line.strip():
            stats.n_skipped += 1
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            cut = "truncated trace (last line cut)" if not had_nl else f"malformed JSON ({exc.msg})"
            raise TraceParseError(f"{name}:{n}: {cut}") from None
        if not isinstance(obj, dict):
            raise TraceParseError(f"{name}:{n}: expected a JSON object")
        if "meta" in obj:
            stats.meta.update({k: str(v) for k, v in obj["meta"].items()})
            stats.prefix = stats.meta.get("prefix", stats.prefix or "TRACE_PY")
            continue
        if "end" in obj:
            ended = True
            continue
        rec = _record(obj, name, n, line, stats.prefix or "TRACE_PY", stream)
        stats.n_records += 1
        yield rec
    if n == 0:
        raise TraceParseError(f"{name}: empty file")
    if not last_nl and not ended:
        raise TraceParseError(f"{name}:{n}: truncated trace (last line cut)")
    if stats.n_records == 0:
        raise TraceParseError(f"{name}: no trace records found")
    if not ended:
        raise TraceParseError(f"{name}: truncated trace (no closing {{\"end\": ...}} line)")


def _record(obj: dict, name: str, n: int, line: str, prefix: str, stream: StreamState) -> TraceRecord:
    try:
        tap, values = obj["tap"], obj["values"]
        idx = obj.get("index") or {}
        index = LoopIndex(**{k: (None if v is None else int(v)) for k, v in idx.items() if k != "occurrence"},
                          occurrence=int(idx.get("occurrence", 0)))
    except (KeyError, TypeError, ValueError) as exc:
        raise TraceParseError(f"{name}:{n}: bad JSONL record ({exc})") from None
    spec = stream.cat.get(tap)
    if spec is None:
        stream.stats.unknown_taps.add(tap)
    elif not isinstance(values, list) or (spec.kind != "str" and len(values) != spec.ncomp):
        raise TraceParseError(f"{name}:{n}: tap {tap}: expected {spec.ncomp} value(s), got {values!r}")
    keys = tuple(obj["keys"]) if obj.get("keys") else None
    conv = int if spec is not None and spec.kind in ("int", "bool") else None
    vals = tuple(conv(v) if conv else (v if isinstance(v, str) else float(v)) for v in values)
    return TraceRecord(spec.name if spec else tap, index, vals, keys, prefix, n, line)
