"""``pwb port check``: run a port on a tiny case and say what works (image, trace, closure).

The case (:data:`CHECK_ARGS`): a 16² detector, ``-default_F 100 -cell 100 100 100 90 90 90 -N 2``,
traced at the centre pixel (8, 8), where the direct-beam reflection makes the value large.

========  ===================================================================================
image     the port exits 0 and writes a finite float32 image of 16 × 16 pixels (``-floatfile``)
trace     its ``trace_args`` produce lines tracekit parses (n/a when the port has no trace_args)
closure   the trace's final pixel value (``floatimage_accumulated``, else ``I_pixel_final``)
          equals the image pixel: the same float32, or within ``CLOSURE_REL`` (a value printed
          with 6 significant digits); n/a unless both an image and a trace exist
========  ===================================================================================

The trace is parsed in one place, :func:`read_port_trace` (switch it to tracekit's dialect-aware
reader when that exists). Exit code of the check (``PortCheck.exit_code``): 0 every item that could
be tried works, 1 one does not. A command that cannot be started is ParityInputError (exit 5).
"""
from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from parity.ports.profile import Port

__all__ = ["CHECK_ARGS", "CHECK_PIXEL", "CHECK_SHAPE", "CLOSURE_REL", "CheckItem", "PortCheck", "check_port",
           "read_port_trace", "final_pixel_value"]

CHECK_SHAPE = (16, 16)
CHECK_PIXEL = (8, 8)
CHECK_ARGS = ("-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-N", "2",
              "-detpixels", str(CHECK_SHAPE[0]))
CLOSURE_REL = 5e-6
FINAL_TAPS = ("floatimage_accumulated", "I_pixel_final")


@dataclass(frozen=True)
class CheckItem:
    name: str                 # "image" | "trace" | "closure"
    ok: bool | None           # None: not applicable / could not be tried
    detail: str

    @property
    def word(self) -> str:
        return {True: "ok", False: "FAIL", None: "n/a"}[self.ok]


@dataclass
class PortCheck:
    port: Port
    items: list[CheckItem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if any(i.ok is False for i in self.items) else 0

    def to_dict(self) -> dict:
        return {"port": self.port.name, "command": self.port.describe(), "exit_code": self.exit_code,
                "items": [{"name": i.name, "ok": i.ok, "detail": i.detail} for i in self.items]}


def read_port_trace(path: str | Path, dialect: str | Path | None = None):
    """The one place a port's trace is parsed: ``tracekit.read_trace`` (TraceParseError when nothing
    parses). ``dialect`` is accepted for the dialect-aware reader; not applied by this reader."""
    import tracekit

    return tracekit.read_trace(Path(path))


def final_pixel_value(trace) -> tuple[str, float] | None:
    """``(tap, value)`` of the last final-value record of a parsed trace, or None."""
    for tap in FINAL_TAPS:
        records = trace.by_tap(tap)
        if records and records[-1].values:
            return tap, float(records[-1].values[0])
    return None


def _read_image(path: Path | None, shape=CHECK_SHAPE) -> tuple[np.ndarray | None, str]:
    if path is None or not path.is_file():
        return None, "wrote no float image (-floatfile)"
    data = path.read_bytes()
    want = shape[0] * shape[1] * 4
    if len(data) != want:
        return None, f"wrote {len(data)} bytes, expected {want} ({shape[0]}x{shape[1]} float32)"
    image = np.frombuffer(data, dtype="<f4").reshape(shape)
    if not np.isfinite(image).all():
        return None, f"image has {int((~np.isfinite(image)).sum())} non-finite pixels"
    return image, f"{shape[0]}x{shape[1]} float32 image, max {float(image.max()):.6g}, sum {float(image.sum()):.6g}"


def _tail(run) -> str:
    lines = (run.stderr or run.stdout).strip().splitlines()
    return lines[-1][:200] if lines else "no output"


def _image_item(port: Port, scratch: Path, timeout_s: float | None, extra_args) -> tuple[CheckItem, np.ndarray | None]:
    from parity.ports.process import run_port

    run = run_port(port, CHECK_ARGS, base=scratch, float_dest=scratch / "image.bin", timeout_s=timeout_s,
                   extra_args=extra_args)
    if run.timed_out:
        return CheckItem("image", False, f"timed out after {timeout_s:g} s"), None
    if run.returncode != 0:
        return CheckItem("image", False, f"exited {run.returncode}: {_tail(run)}"), None
    image, detail = _read_image(run.float_path)
    return CheckItem("image", image is not None, detail), image


def _trace_items(port: Port, scratch: Path, image, timeout_s, extra_args) -> list[CheckItem]:
    from parity.ports.process import trace_port
    from tracekit import TracekitError

    if not port.trace_args:
        return [CheckItem("trace", None, "no trace_args (pwb port add NAME ... --trace-args"
                                         " \"-trace_pixel {slow} {fast}\")"),
                CheckItem("closure", None, "needs a trace")]
    s, f = CHECK_PIXEL
    traced = trace_port(port, CHECK_ARGS, s, f, base=scratch, dest_dir=scratch, timeout_s=timeout_s,
                        extra_args=extra_args)
    if not traced.run.ok:
        why = "timed out" if traced.run.timed_out else f"exited {traced.run.returncode}: {_tail(traced.run)}"
        return [CheckItem("trace", False, f"{' '.join(port.trace_argv(s, f))}: {why}"),
                CheckItem("closure", None, "needs a trace")]
    try:
        trace = read_port_trace(traced.trace_path, port.dialect)
    except TracekitError as exc:
        return [CheckItem("trace", False, f"no parseable trace lines: {str(exc).splitlines()[0]}"),
                CheckItem("closure", None, "needs a trace")]
    n, taps = len(trace.records), len(trace.tap_names)
    items = [CheckItem("trace", n > 0, f"{n} values of {taps} taps parsed (prefix {trace.prefix or '?'})")]
    traced_image, _ = _read_image(traced.float_path)
    items.append(_closure(trace, traced_image if traced_image is not None else image))
    return items


def _closure(trace, image) -> CheckItem:
    final = final_pixel_value(trace)
    if final is None:
        return CheckItem("closure", None, f"the trace has none of {', '.join(FINAL_TAPS)}")
    if image is None:
        return CheckItem("closure", None, "needs an image")
    tap, value = final
    pixel = float(image[CHECK_PIXEL])
    same = np.float32(value) == np.float32(pixel)
    close = same or (math.isfinite(value) and abs(value - pixel) <= CLOSURE_REL * max(abs(pixel), 1e-30))
    relation = "==" if same else ("~" if close else "!=")
    return CheckItem("closure", bool(close), f"trace {tap} {value:.9g} {relation} image pixel"
                                             f" {CHECK_PIXEL} {pixel:.9g}")


def check_port(port: Port, *, timeout_s: float | None = 300.0, extra_args=()) -> PortCheck:
    """Run ``port`` on :data:`CHECK_ARGS` (image) and traced at :data:`CHECK_PIXEL`; see the module table."""
    from parity.ports.process import preflight, runner_for

    preflight(runner_for(port))                 # a command that is not found: ParityInputError (exit 5)
    result = PortCheck(port=port)
    with tempfile.TemporaryDirectory(prefix="pwb-port-check-") as tmp:
        scratch = Path(tmp)
        item, image = _image_item(port, scratch, timeout_s, extra_args)
        result.items.append(item)
        result.items += _trace_items(port, scratch, image, timeout_s, extra_args)
    return result
