"""Benchmarks: simcore in-process (warm) vs the C program's whole process, on the same arguments.

Each simcore measurement runs in its own worker process (parity/ports/bench_worker.py) so its
peak memory is its own; the C program (``NB_C_BIN``) runs in a scratch directory like nb-compare.
With a C binary the two are interleaved (one simcore warm run, one C run, repeated), because these
shared machines drift by tens of percent within minutes; ``paired_ratio_median`` is the median of the
per-pair ratios. Ratios are ``c_time / simcore_time`` (higher is better). Nothing here asserts a time.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from parity.errors import ParityInputError, ParityUsageError


@dataclass
class BenchRow:
    label: str
    args: list
    dtype: str
    device: str
    pixels: int
    simcore: dict
    c: dict | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if not self.c or not self.simcore.get("median_s"):
            return None
        return self.c["median_s"] / self.simcore["median_s"]

    def to_dict(self) -> dict:
        sm = self.simcore.get("median_s")
        out = {"label": self.label, "args": self.args, "dtype": self.dtype, "device": self.device,
               "pixels": self.pixels, "simcore": self.simcore, "c": self.c, "ratio_c_over_simcore": self.ratio,
               "simcore_pixels_per_s": self.pixels / sm if sm else None}
        if self.c:
            out["c_pixels_per_s"] = self.pixels / self.c["median_s"]
        out.update(self.extra)
        return out


def machine_state() -> dict:
    """CPUs and load averages now: these shared machines are loaded by other work, which a bench
    bundle must say (ratios are interleaved and paired for that reason)."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {"cpus": os.cpu_count(), "loadavg_1_5_15_min": load}


def with_size(args: list[str], size: int | None) -> list[str]:
    """The case's arguments with ``-detpixels size`` appended (last flag wins, as in the C)."""
    return list(args) if size is None else list(args) + ["-detpixels", str(int(size))]


def worker_env() -> dict:
    """The worker's environment: torch's OpenMP threads wait passively, as ``python -m simcore``
    sets them (spinning waiters on a shared CPU make a 2-thread run 5x slower, measured at load 4);
    a value the caller set wins."""
    return dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))


def run_worker(spec: dict, *, timeout_s: float = 3600) -> dict:
    cmd = [sys.executable, "-m", "parity.ports.bench_worker", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=worker_env())
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ParityInputError(f"simcore benchmark worker failed: {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def time_c_once(c_bin: str, args: list[str], *, input_base: str | None = None) -> float:
    """Whole-process wall time of one C run on ``args`` in a scratch directory."""
    from parity.ports.argfiles import isolate_args

    with tempfile.TemporaryDirectory(prefix="pwb-bench-c-") as run_dir:
        argv = isolate_args(list(args), run_dir=run_dir, base=input_base or os.getcwd(),
                            float_name="c_float.bin").argv
        t0 = time.perf_counter()
        proc = subprocess.run([c_bin, *argv], cwd=run_dir, capture_output=True)
        elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise ParityInputError(f"C program exited {proc.returncode} on the benchmark arguments")
    return elapsed


def _c_summary(c_bin: str, times: list[float]) -> dict:
    from parity.evidence.provenance import sha256_file

    return {"times_s": times, "median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "binary_sha256": sha256_file(c_bin), "kind": "whole process (default output files written)"}


def time_c(c_bin: str, args: list[str], *, repeat: int, input_base: str | None = None) -> dict:
    """Whole-process wall time of the C program on ``args`` (median of ``repeat``), in a scratch dir."""
    return _c_summary(c_bin, [time_c_once(c_bin, args, input_base=input_base) for _ in range(repeat)])


def interleaved(spec: dict, c_bin: str, c_args: list[str], *, repeat: int, input_base: str | None,
                on_progress=None) -> tuple:
    """Alternate one simcore warm run (served by a worker process) and one C run, ``repeat`` times,
    so both sides see the same machine state; returns (simcore stats, C stats, paired ratios).
    ``on_progress(done, repeat, text)`` after each pair."""
    cmd = [sys.executable, "-m", "parity.ports.bench_worker", json.dumps(dict(spec, serve=True))]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=worker_env())

    def ask(line: str) -> dict:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        reply = proc.stdout.readline()
        if not reply:
            err = (proc.stderr.read().strip().splitlines() or ["no output"])[-1]
            raise ParityInputError(f"simcore benchmark worker failed: {err}")
        return json.loads(reply)

    try:
        ready = proc.stdout.readline()
        if not ready:
            err = (proc.stderr.read().strip().splitlines() or ["no output"])[-1]
            raise ParityInputError(f"simcore benchmark worker failed: {err}")
        c_times, pairs = [], []
        for _ in range(repeat):
            t_py = ask("time")["t"]
            c_times.append(time_c_once(c_bin, c_args, input_base=input_base))
            pairs.append(c_times[-1] / t_py)
            if on_progress:
                on_progress(len(pairs), repeat, f"pair {len(pairs)}: simcore {t_py:.3f} s, C {c_times[-1]:.3f} s")
        sim = ask("stats")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return sim, _c_summary(c_bin, c_times), pairs


def resolve_c_bin(explicit: str | None) -> str | None:
    path = explicit or os.environ.get("NB_C_BIN")
    if not path:
        return None
    found = shutil.which(path) or (path if os.path.isfile(path) else None)
    if not found or not os.access(found, os.X_OK):
        raise ParityUsageError(f"C binary {path} is not an executable file")
    return found


def bench_case(label: str, args: list[str], *, dtype: str, device: str, repeat: int, c_bin: str | None,
               input_base: str | None = None, tap_overhead: bool = False, trace_pixel=None,
               max_memory_gb: float | None = None, profile_top: int = 0, on_progress=None) -> BenchRow:
    """Time one case; ``on_progress(done, total, text)`` reports each timed pair (with a C binary) or the
    worker's start and end (without one: its warm runs happen inside the worker)."""
    spec = {"args": list(args), "dtype": dtype, "device": device, "repeat": repeat, "tap_overhead": tap_overhead,
            "trace_pixel": list(trace_pixel) if trace_pixel else None, "max_memory_gb": max_memory_gb,
            "profile_top": int(profile_top)}
    c_args = [a for a in args if a != "-compile"]  # a simcore-only flag
    extra = {}
    if c_bin:
        sim, c, pairs = interleaved(spec, c_bin, c_args, repeat=repeat, input_base=input_base,
                                    on_progress=on_progress)
        extra["paired_ratios"] = pairs
        extra["paired_ratio_median"] = statistics.median(pairs)
    else:
        if on_progress:
            on_progress(0, 1, f"simcore worker: 1 untimed + {repeat} timed runs")
        sim, c = run_worker(spec), None
        if on_progress:
            on_progress(1, 1, f"simcore median {sim['median_s']:.3f} s")
    extra.update({k: sim.pop(k) for k in ("taps", "trace", "profile") if k in sim})
    return BenchRow(label=label, args=list(args), dtype=dtype, device=device, pixels=sim["pixels"], simcore=sim,
                    c=c, extra=extra)


def profile_markdown(rows: list[BenchRow]) -> str:
    """The profiled rows as Markdown: per case and dtype, the top operators by self time with their share."""
    parts = ["# Where the time goes (torch.profiler, one extra warm run per row)", ""]
    for r in rows:
        prof = r.extra.get("profile")
        if not prof:
            continue
        parts += [f"## {r.label} · {r.dtype} · {r.device}", "",
                  f"total operator self time {prof['total_self_s']:.3f} s (sorted by `{prof['sorted_by']}`)", "",
                  "| rank | operator | self s | share | calls |", "| --- | --- | --- | --- | --- |"]
        parts += [f"| {i} | `{t['op']}` | {t['self_s']:.3f} | {100 * t['share']:.1f} % | {t['calls']} |"
                  for i, t in enumerate(prof["top"], 1)]
        parts.append("")
    return "\n".join(parts)
