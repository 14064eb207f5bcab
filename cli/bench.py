"""`pwb bench`: simcore in-process (warm) vs the C program's whole process; writes JSON."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.bundle_opts import (BundleFlag, ReportsRootOption, SlugOption, WorkspaceOption, bundle_request,
                             in_workspace, maybe_bundle)
from cli.errors import fail, guarded
from cli.exit_codes import Exit


def _mpix(pixels: int, seconds: float) -> str:
    """Pixels per second in millions, with three significant digits (a 64x64 case is 0.0123, not 0.0)."""
    return f"{pixels / seconds / 1e6:.3g}" if seconds > 0 else "n/a"


def register(app: typer.Typer) -> None:
    @app.command("bench")
    def bench(ctx: typer.Context,
              case: Optional[list[str]] = typer.Option(None, "--case", help="A case-matrix run id (repeatable)."),
              args: Optional[str] = typer.Option(None, "--args", help="A nanoBragg argument string instead."),
              sizes: Optional[str] = typer.Option(None, "--sizes", help="Comma list of -detpixels to sweep."),
              dtype: list[str] = typer.Option(["float32"], "--dtype", help="float32 and/or float64 (repeatable)."),
              device: str = typer.Option("cpu", "--device"),
              repeat: int = typer.Option(5, "--repeat", min=1, help="Warm timed runs (median reported)."),
              json_out: Optional[Path] = typer.Option(None, "--json", help="Write the results as JSON."),
              c_bin: Optional[str] = typer.Option(None, "--c-bin", help="C binary (default: NB_C_BIN)."),
              tap_overhead: bool = typer.Option(False, "--tap-overhead", help="Also time with taps stripped."),
              trace_pixel: Optional[tuple[int, int]] = typer.Option(None, "--trace-pixel",
                                                                     help="Also time tracing SLOW FAST."),
              max_memory_gb: Optional[float] = typer.Option(None, "--max-memory-gb"),
              profile_top: int = typer.Option(0, "--profile", min=0, help="Also profile one extra warm run "
                                              "(torch.profiler) and report its top N operators by self time."),
              compile_: bool = typer.Option(False, "--compile", help="simcore -compile (opt-in torch.compile); "
                                            "the compile time shows in first_run_s, never in the warm median."),
              whole_process: bool = typer.Option(False, "--whole-process", help="Also time `python -m simcore` "
                                                 "whole (the C's default outputs) against the C, interleaved, with "
                                                 "its breakdown (interpreter, torch import, the rest)."),
              bundle: BundleFlag = False, slug: SlugOption = None, reports_root: ReportsRootOption = None,
              workspace: WorkspaceOption = None) -> None:
        """Time simcore warm in-process (after one untimed run; median and spread of --repeat) with its
        peak memory, and the C program's whole process on the same arguments when NB_C_BIN/--c-bin is
        set; prints c_time/simcore_time (higher is better) and pixels per second. Asserts nothing."""
        from rich.table import Table

        from cli.tables import console as make_console, narrow

        from parity.matrix.bench import bench_case, profile_markdown, resolve_c_bin, with_size
        from parity.matrix.cases import find_run

        if not case and not args:
            raise fail("pwb bench: give --case RUN_ID or --args '...'", Exit.USAGE)
        console = make_console(piped_width=140)
        rows = []
        with guarded("pwb bench"), in_workspace(workspace):
            from parity.matrix.bench import machine_state

            machine = {"start": machine_state()}
            request = bundle_request(bundle, slug, reports_root, workspace)
            cbin = resolve_c_bin(c_bin)
            targets = [(c, list(find_run(c).args), find_run(c).input_base) for c in (case or [])]
            if args:
                targets.append(("args", args.split(), None))
            size_list = [int(s) for s in sizes.split(",")] if sizes else [None]
            jobs = [(label, base, input_base, size, dt) for label, base, input_base in targets
                    for size in size_list for dt in dtype]
            from cli.progress import progress_display

            with progress_display("pwb bench") as progress:
                for i, (label, base, input_base, size, dt) in enumerate(jobs, 1):
                    name = label if size is None else f"{label}@{size}"
                    progress.stage(f"[{i}/{len(jobs)}] {name} {dt}")
                    run_args = with_size(base, size) + (["-compile"] if compile_ else [])
                    rows.append(bench_case(name + (" (compiled)" if compile_ else ""), run_args, dtype=dt,
                                           device=device, repeat=repeat, c_bin=cbin,
                                           input_base=str(input_base) if input_base else None,
                                           tap_overhead=tap_overhead, trace_pixel=trace_pixel,
                                           max_memory_gb=max_memory_gb, profile_top=profile_top,
                                           on_progress=lambda d, t, text, n=name: progress.advance(
                                               f"{n} {text}", d, t)))
            machine["end"] = machine_state()
            result = {"c_bin": cbin, "rows": [r.to_dict() for r in rows], "machine": machine}
            if whole_process:
                from parity.matrix.bench_process import whole_process as time_whole

                result["whole_process"] = []
                for label, base, input_base in targets:
                    for size in size_list:
                        name = label if size is None else f"{label}@{size}"
                        console.print(f"  {name} whole process ...", markup=False)
                        wp = time_whole(with_size(base, size), c_bin=cbin, repeat=repeat,
                                        input_base=str(input_base) if input_base else None)
                        result["whole_process"].append(dict(wp, label=name))
            if json_out is not None:
                from parity.images.io import write_json_atomic

                write_json_atomic(json_out, result, overwrite=True)
            with maybe_bundle(request, kind="bench", default_slug="bench", ctx=ctx, dtype=",".join(dtype),
                              device=device, binaries=[cbin] if cbin else ()) as b:
                b.write_json("bench.json", result)
                b.add_metrics({f"machine.loadavg_1min_{k}": v["loadavg_1_5_15_min"][0] for k, v in machine.items()
                               if v["loadavg_1_5_15_min"]}, headline=True)
                b.add_metrics({f"{r.label}.{r.dtype}.ratio": r.ratio for r in rows}, headline=True)
                b.add_metrics({f"{r.label}.{r.dtype}.paired_ratio": r.extra["paired_ratio_median"] for r in rows
                               if "paired_ratio_median" in r.extra}, headline=True)
                b.add_metrics({f"{r.label}.{r.dtype}.simcore_median_s": r.simcore["median_s"] for r in rows})
                for wp in result.get("whole_process", []):
                    b.add_metrics({f"{wp['label']}.whole_process.simcore_median_s": wp["steps"]["simcore"]["median_wall_s"]},
                                  headline=True)
                    if "c" in wp["steps"]:
                        b.add_metrics({f"{wp['label']}.whole_process.c_median_s": wp["steps"]["c"]["median_wall_s"],
                                       f"{wp['label']}.whole_process.paired_simcore_over_c": wp["paired_ratio_median"]})
                    b.add_metrics({f"{wp['label']}.whole_process.{k}_s": v for k, v in wp["breakdown_median_wall_s"].items()})
                if any("profile" in r.extra for r in rows):
                    b.write_text("profile.md", profile_markdown(rows))
                    b.add_metrics({f"{r.label}.{r.dtype}.top_op": f"{t['op']} {100 * t['share']:.0f}%"
                                   for r in rows for t in r.extra.get("profile", {}).get("top", [])[:1]})
                b.set_status("done")
        short = narrow(console)     # 80 columns: no spread, first run or paired ratio
        table = Table(title="simcore vs C (ratio = C whole process / simcore warm in-process)")
        for col in (("case", "dtype", "simcore s", "peak MB", "C s", "ratio", "Mpix/s") if short else
                    ("case", "dtype", "simcore median s", "spread s", "first run s", "peak MB", "C median s", "ratio",
                     "paired ratio", "Mpix/s")):
            table.add_column(col, overflow="fold")
        for r in rows:
            sm = r.simcore
            cells = {"case": r.label, "dtype": r.dtype, "median": f"{sm['median_s']:.3f}",
                     "spread": f"{sm['min_s']:.3f}-{sm['max_s']:.3f}", "first": f"{sm['first_run_s']:.2f}",
                     "mb": f"{sm['peak_memory_bytes'] / 2**20:.0f}", "c": f"{r.c['median_s']:.3f}" if r.c else "n/a",
                     "ratio": f"{r.ratio:.1f}" if r.ratio else "n/a",
                     "paired": f"{r.extra['paired_ratio_median']:.1f}" if "paired_ratio_median" in r.extra else "n/a",
                     "mpix": _mpix(r.pixels, sm["median_s"])}
            keys = (("case", "dtype", "median", "mb", "c", "ratio", "mpix") if short else
                    ("case", "dtype", "median", "spread", "first", "mb", "c", "ratio", "paired", "mpix"))
            table.add_row(*(cells[k] for k in keys))
        console.print(table)
        for r in rows:
            top = r.extra.get("profile", {}).get("top", [])
            if top:
                costs = ", ".join(f"{t['op']} {100 * t['share']:.0f}%" for t in top[:3])
                console.print(f"  {r.label} {r.dtype} top costs: {costs}", markup=False)
        for wp in result.get("whole_process", []):
            parts = ", ".join(f"{k} {v:.2f}" for k, v in wp["breakdown_median_wall_s"].items())
            steps = wp["steps"]
            c_part = f"; C {steps['c']['median_wall_s']:.2f} s" if "c" in steps else ""
            console.print(f"  {wp['label']} whole process (median wall s): {parts}{c_part}; simcore CPU "
                          f"{steps['simcore']['median_cpu_s']:.2f} s", markup=False)
        load = [m["loadavg_1_5_15_min"] for m in machine.values()]
        console.print(f"  machine: {machine['start']['cpus']} CPUs, 1-min load average {load[0][0] if load[0] else '?'} at the "
                      f"start, {load[1][0] if load[1] else '?'} at the end", markup=False)
        if not cbin:
            console.print("C program not timed: set NB_C_BIN or --c-bin")
        raise typer.Exit(Exit.OK)
