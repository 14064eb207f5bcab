"""One benchmark measurement in a fresh process (so peak memory belongs to this case alone).

``python -m parity.ports.bench_worker JSON`` prints one JSON line: warm timings (after one untimed run),
peak memory (RSS on CPU, torch.cuda.max_memory_allocated on GPU), optional tap-overhead,
trace-cost and profiler (top operators of one extra warm run) measurements. Used by parity.matrix.bench; not a user command.
"""
from __future__ import annotations

import json
import resource
import statistics
import sys
import time


def _warm_times(fn, repeat: int, *, warmed: bool = False) -> list[float]:
    if not warmed:
        fn()  # untimed: first-call costs (allocator, thread pool) are not part of a warm number
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _tap_overhead(args, dtype, device, repeat) -> dict:
    """Count tap() calls in one run and time the same run with every tap replaced by a bare identity."""
    import simcore.kernel.engine as E
    import simcore.kernel.geometry as KG
    import simcore.kernel.render as R
    import simcore.setup.sequence as S
    import simcore.setup.crystal as SC
    import simcore.setup.detector as SD
    from simcore.kernel.render import render

    modules = (E, KG, R, S, SC, SD)
    originals = {m: m.tap for m in modules}
    calls = [0]

    def counting(name, value, dims=None):
        calls[0] += 1
        return value

    for m in modules:
        m.tap = counting
    try:
        render(list(args), dtype=dtype, device=device)
        n_calls = calls[0]
        for m in modules:
            m.tap = lambda name, value, dims=None: value
        bare = _warm_times(lambda: render(list(args), dtype=dtype, device=device), repeat)
    finally:
        for m, fn in originals.items():
            m.tap = fn
    tapped = _warm_times(lambda: render(list(args), dtype=dtype, device=device), repeat)
    return {"tap_calls_per_run": n_calls, "median_s_with_taps": statistics.median(tapped),
            "median_s_taps_stripped": statistics.median(bare)}


def _trace_cost(args, pixel, dtype, device, repeat) -> dict:
    from parity.ports.inprocess import trace_args

    big = _warm_times(lambda: trace_args(list(args), pixel, dtype=dtype, device=device), repeat)
    tiny_args = list(args) + ["-detpixels", "1"]
    tiny = _warm_times(lambda: trace_args(tiny_args, (0, 0), dtype=dtype, device=device), repeat)
    return {"trace_pixel": list(pixel), "trace_median_s": statistics.median(big),
            "trace_1px_detector_median_s": statistics.median(tiny)}


def _profile(run, top: int, device: str) -> dict:
    """One extra warm run under ``torch.profiler``: the ``top`` operators by self time and their share
    of all operator self time, so a missed speed target names its costs (never part of a timing)."""
    from torch.profiler import ProfilerActivity, profile

    cuda = device.startswith("cuda")
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        run()
    key = "self_device_time_total" if cuda else "self_cpu_time_total"
    events = [e for e in prof.key_averages() if getattr(e, key, 0) > 0]
    total_us = sum(getattr(e, key) for e in events)
    events.sort(key=lambda e: getattr(e, key), reverse=True)
    return {"profiler": "torch.profiler", "sorted_by": key, "total_self_s": total_us / 1e6,
            "top": [{"op": e.key, "self_s": getattr(e, key) / 1e6, "share": getattr(e, key) / total_us,
                     "calls": int(e.count)} for e in events[:top]]}


def _extras(out: dict, spec: dict, run, repeat: int) -> dict:
    args, dtype, device = spec["args"], spec["dtype"], spec["device"]
    if spec.get("tap_overhead"):
        out["taps"] = _tap_overhead(args, dtype, device, repeat)
    if spec.get("trace_pixel"):
        out["trace"] = _trace_cost(args, tuple(spec["trace_pixel"]), dtype, device, max(3, repeat // 2))
    if spec.get("profile_top"):
        out["profile"] = _profile(run, int(spec["profile_top"]), device)
    return out


def _runner(spec: dict):
    """The timed call for ``spec`` (threads and CUDA peak-memory counters set up first), and its first,
    untimed run: ``(run, first_result, first_run_s)``."""
    import torch

    from simcore.kernel.render import render

    args, dtype, device = spec["args"], spec["dtype"], spec["device"]
    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()

    def run():
        r = render(list(args), dtype=dtype, device=device, max_memory_gb=spec.get("max_memory_gb"),
                   fused=spec.get("fused", "on"))   # the fused float32 kernel (SIMCORE_FUSED overrides)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return r

    t0 = time.perf_counter()
    first = run()
    return run, first, time.perf_counter() - t0


def _stats(first, first_s: float, times: list[float], device: str) -> dict:
    """Median and spread of the warm times plus peak memory (RSS on CPU, the CUDA allocator's peak on GPU)."""
    import torch

    out = {"first_run_s": first_s, "times_s": times, "median_s": statistics.median(times),
           "min_s": min(times), "max_s": max(times), "pixels": int(first.rendered),
           "threads": torch.get_num_threads(), "torch": torch.__version__}
    if device.startswith("cuda"):
        out["peak_memory_bytes"] = int(torch.cuda.max_memory_allocated())
        out["peak_memory_kind"] = "torch.cuda.max_memory_allocated"
    else:
        out["peak_memory_bytes"] = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
        out["peak_memory_kind"] = "process peak RSS (includes the torch runtime)"
    return out


def measure(spec: dict) -> dict:
    repeat = int(spec.get("repeat", 5))
    run, first, first_s = _runner(spec)
    times = _warm_times(run, repeat, warmed=True)
    return _extras(_stats(first, first_s, times, spec["device"]), spec, run, repeat)


def serve(spec: dict) -> int:
    """Interleaved mode: after one untimed run, answer each stdin line ``time`` with one timed run
    (JSON ``{"t": seconds}``) and ``stats`` with the final measurement; the parent times the C
    program between requests, so both sides see the same machine state (timings here drift)."""
    run, first, first_s = _runner(spec)
    print(json.dumps({"ready": True}), flush=True)
    times = []
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "time":
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
            print(json.dumps({"t": times[-1]}), flush=True)
        elif cmd == "stats":
            out = _stats(first, first_s, times, spec["device"])
            print(json.dumps(_extras(out, spec, run, max(2, int(spec.get("repeat", 3))))), flush=True)
            return 0
    return 0


def main() -> int:
    spec = json.loads(sys.argv[1])
    if spec.get("serve"):
        return serve(spec)
    print(json.dumps(measure(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
