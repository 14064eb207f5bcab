"""Trace one pixel from the live computation: TRACE_PY lines in the C's names, order and format.

Only the traced pixel is computed (plus, when C state depends on earlier pixels, the minimum the
serial C would have done before it). The emitted values are the tap captures of the very tensors
the image uses; ``closure`` checks the traced ``floatimage_accumulated`` against the same pixel of
a full-image run with the same arguments.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore import taps as T
from simcore.kernel.render import render


@dataclass
class TraceResult:
    pixel: tuple
    lines: list
    tap_values: dict            # name → tracekit.TapValue
    pixel_value: float          # the float32 value stored for the pixel
    result: object              # the SimResult of the 1-pixel run
    closure: dict | None = None


def _tap_values(session, pixel, setup):
    from tracekit import TapValue

    out = {}
    for name, cap in session.taps_for(pixel).items():
        values = cap.values
        if isinstance(values, str):
            values = np.array([values], dtype=object)
        out[name] = TapValue(name, cap.dims, values, cap.dtype)
    out["phi_deg"] = TapValue("phi_deg", ("phi",), np.asarray(setup.rot.phi_deg, dtype=np.float64)[:, None],
                              session.dtype)
    out["trace_pixel"] = TapValue("trace_pixel", (), np.asarray(pixel, dtype=np.int64), "int")
    return out


def trace_pixel(cargs, pixel, *, dtype: str | None = None, device: str | None = None, cwd: str | None = None,
                all_indices: bool | None = None, prefix: str = "TRACE_PY") -> TraceResult:
    """Run simcore for one (slow, fast) pixel under a tap session and emit its trace lines."""
    from tracekit import emit_lines

    from simcore.argv.validate import check_trace_pixel

    pixel = (int(pixel[0]), int(pixel[1]))
    check_trace_pixel(cargs, pixel)
    dt = dtype or cargs.dtype
    with T.trace([pixel], dtype=dt) as session:
        res = render(cargs, dtype=dt, device=device, pixels=[pixel], cwd=cwd)
    setup = res.setup
    values = _tap_values(session, pixel, setup)
    lines = emit_lines(values, prefix=prefix, all_indices=cargs.trace_all_indices if all_indices is None else all_indices,
                       xtal_shape=cargs.xtal_shape, pivot=setup.det.pivot,
                       meta={"device": str(res.inputs.device), "simcore_dtype": dt})
    inside = 0 <= pixel[0] < setup.det.spixels and 0 <= pixel[1] < setup.det.fpixels
    value = float(res.image[pixel].item()) if inside else float("nan")
    return TraceResult(pixel=pixel, lines=lines, tap_values=values, pixel_value=value, result=res)


def check_closure(traced: TraceResult, full_image) -> dict:
    """Compare the traced stored value with the full image's pixel (bit for bit, float32)."""
    s, f = traced.pixel
    tv = traced.tap_values.get("floatimage_accumulated")
    traced_value = np.float32(np.asarray(tv.values).ravel()[0]) if tv is not None else np.float32(np.nan)
    image_value = np.float32(full_image[s, f].item())
    ok = bool(traced_value == image_value) or (image_value == 0 and tv is None)
    traced.closure = {"pixel": [s, f], "traced": float(traced_value), "image": float(image_value), "closed": ok}
    return traced.closure


def print_trace(traced: TraceResult, full_result, cargs) -> None:
    """Print the trace lines and the closure line (used by python -m simcore -trace_pixel)."""
    for line in traced.lines:
        print(line)
    c = check_closure(traced, full_result.image)
    status = "ok" if c["closed"] else "MISMATCH"
    print(f"TRACE_PY_CLOSURE pixel={c['pixel'][0]},{c['pixel'][1]} traced={c['traced']!r} "
          f"image={c['image']!r} {status}")
    if cargs.trace_jsonl:
        from tracekit import write_jsonl

        write_jsonl(traced.tap_values, cargs.trace_jsonl, overwrite=True, xtal_shape=cargs.xtal_shape)
