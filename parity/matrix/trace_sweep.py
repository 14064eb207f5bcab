"""Trace every C-traced pixel of the golden runs and diff it against the C trace.

The benchmark-style check of the trace protocol: for each golden-backed run of the case matrix,
each ``trace_S_F.txt`` the instrumented C wrote is compared with simcore's TRACE_PY for the same
pixel (live taps, same arguments). Counts clean / divergent / errored and names the first
divergent tap of each failure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

TRACE_NAME = re.compile(r"^trace_(\d+)_(\d+)\.txt$")


@dataclass
class SweepRow:
    run_id: str
    pixel: tuple
    status: str                  # clean | divergent | error
    n_compared: int = 0
    n_divergent: int = 0
    first: dict | None = None
    note: str = ""


@dataclass
class SweepReport:
    dtype: str
    rows: list = field(default_factory=list)

    def counts(self) -> dict:
        out = {"clean": 0, "divergent": 0, "error": 0}
        for r in self.rows:
            out[r.status] += 1
        out["total"] = len(self.rows)
        return out


def traced_pixels(run) -> list[tuple[int, int]]:
    if run.golden_dir is None:
        return []
    found = []
    for p in sorted(run.golden_dir.iterdir()):
        m = TRACE_NAME.match(p.name)
        if m:
            found.append((int(m.group(1)), int(m.group(2))))
    return found


def sweep(runs, *, dtype: str = "float64", progress=None, keep_traces: dict | None = None,
          on_progress=None) -> SweepReport:
    """Diff simcore's trace against the C trace for every traced pixel of ``runs``.

    ``progress(row)`` sees each row as it is made; ``on_progress(done, total, text)`` counts the pixels
    (the CLI draws it as a bar or plain lines)."""
    from parity.ports.inprocess import trace_args
    from tracekit import diff_traces, read_trace

    report = SweepReport(dtype=dtype)
    todo = [(run, pixel) for run in runs for pixel in traced_pixels(run)]
    for run, pixel in todo:
        c_path = run.golden_dir / f"trace_{pixel[0]}_{pixel[1]}.txt"
        try:
            tr = trace_args(list(run.args), pixel, dtype=dtype, cwd=str(run.golden_dir))
            d = diff_traces(read_trace(c_path), read_trace(tr.lines, name="simcore")).to_dict()
            clean = d["n_divergent"] == 0 and not d["only_in_ref"] and not d["only_in_cand"]
            row = SweepRow(run.run_id, pixel, "clean" if clean else "divergent", d["n_compared"],
                           d["n_divergent"], d["first_divergence"],
                           "" if clean else f"only in C: {len(d['only_in_ref'])}, only in simcore: "
                                            f"{len(d['only_in_cand'])}")
            if keep_traces is not None:
                keep_traces[(run.run_id, pixel)] = tr.lines
        except Exception as exc:  # noqa: BLE001 - a sweep reports every failure and goes on
            row = SweepRow(run.run_id, pixel, "error", note=f"{type(exc).__name__}: {exc}")
        report.rows.append(row)
        if progress:
            progress(row)
        if on_progress:
            on_progress(len(report.rows), len(todo), f"{row.run_id} ({pixel[0]}, {pixel[1]}) {row.status}")
    return report
