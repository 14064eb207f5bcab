"""`pwb trace --pixel S F -- ARGS`: TRACE_PY lines for one pixel from simcore's live taps."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.bundle_opts import BundleFlag, ReportsRootOption, SlugOption, WorkspaceOption, bundle_request, maybe_bundle
from cli.errors import fail, guarded
from cli.exit_codes import Exit


def register(app: typer.Typer) -> None:
    @app.command("trace", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def trace(ctx: typer.Context,
              pixel: tuple[int, int] = typer.Option(..., "--pixel", help="SLOW FAST (zero-based), as -trace_pixel."),
              out: Optional[Path] = typer.Option(None, "--out", help="Write the trace here instead of stdout."),
              jsonl: Optional[Path] = typer.Option(None, "--jsonl", help="Also write the taps as JSONL."),
              all_indices: bool = typer.Option(False, "--all-indices", help="Every source/phi/mosaic/sub-pixel index."),
              closure: bool = typer.Option(False, "--closure", help="Also render the whole image and check the "
                                           "traced value equals its pixel (exit 1 if not)."),
              dtype: str = typer.Option("float64", "--dtype", help="float64 (default for tracing) or float32."),
              device: Optional[str] = typer.Option(None, "--device"),
              bundle: BundleFlag = False, slug: SlugOption = None, reports_root: ReportsRootOption = None,
              workspace: WorkspaceOption = None) -> None:
        """Trace one pixel: the C program's trace names, order and %.15g format, with the values of the
        very tensors the image is computed from. Put the nanoBragg arguments after `--`.
        Only the traced pixel is computed (unless --closure). Exit 0 ok, 1 closure mismatch, 2 usage."""
        from parity.ports.inprocess import trace_args

        args = list(ctx.args)
        if not args:
            raise fail("pwb trace: give the nanoBragg arguments after --", Exit.USAGE)
        if dtype not in ("float32", "float64"):
            raise fail(f"pwb trace: --dtype must be float32 or float64, got {dtype}", Exit.USAGE)
        with guarded("pwb trace"):
            request = bundle_request(bundle, slug, reports_root, workspace)
            run = trace_args(args, pixel, dtype=dtype, device=device, all_indices=all_indices, closure=closure)
            text = "\n".join(run.lines) + "\n"
            if out is not None:
                from tracekit import write_lines

                write_lines(run.lines, out, overwrite=True)
            else:
                typer.echo(text, nl=False)
            if jsonl is not None:
                from tracekit import write_jsonl

                write_jsonl(run.tap_values, jsonl, overwrite=True)
            with maybe_bundle(request, kind="trace", default_slug=f"trace-{pixel[0]}-{pixel[1]}", ctx=ctx,
                              config=run.config, dtype=dtype) as b:
                b.write_text(f"trace_{pixel[0]}_{pixel[1]}.txt", text)
                b.add_metrics({"pixel": list(pixel), "pixel_value": run.pixel_value, "wall_s": run.wall_s,
                               **({"closure": run.closure} if run.closure else {})}, headline=True)
                b.set_status("failed" if run.closure and not run.closure["closed"] else "passed")
        if run.closure is not None:
            typer.echo(f"closure: traced {run.closure['traced']!r} image {run.closure['image']!r} "
                       f"{'ok' if run.closure['closed'] else 'MISMATCH'}", err=True)
            if not run.closure["closed"]:
                raise typer.Exit(Exit.FAILED)
