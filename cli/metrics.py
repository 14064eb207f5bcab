"""`pwb metrics REF CAND`: whole-image parity metrics (parity.images.metrics, versioned definitions).

The orientation check (transposed, flipped, rotated 180°) is always run; when the candidate
matches better another way, a line says so and the JSON's ``orientation.best`` names it.

Exit codes: 0 ok, 2 usage (bad option, ROI outside the image, output exists), 4 shape mismatch,
5 unreadable/malformed image (wrong byte count, NaN/Inf, missing file).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import typer

from cli.bundle_opts import BundleFlag, ReportsRootOption, SlugOption, bundle_request, maybe_bundle
from cli.errors import guarded
from cli.peaks import (CAND_HELP, DTYPE_HELP, NB_ARGS_HELP, REF_HELP, ROI_HELP, SHAPE_HELP, bundle_config,
                       image_inputs)


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics)


def metrics(
    ref: Path = typer.Argument(..., help=REF_HELP),
    cand: Path = typer.Argument(..., help=CAND_HELP),
    shape: Optional[Tuple[int, int]] = typer.Option(None, "--shape", metavar="S F", help=SHAPE_HELP),
    nb_args: Optional[str] = typer.Option(None, "--nb-args", help=NB_ARGS_HELP),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=DTYPE_HELP),
    roi: Optional[Tuple[int, int, int, int]] = typer.Option(None, "--roi", metavar="XMIN XMAX YMIN YMAX",
                                                            help=ROI_HELP),
    rel_floor: float = typer.Option(0.01, "--rel-floor", min=0.0, max=0.999,
                                    help="Relative-error floor as a fraction of the reference maximum."),
    ssim: bool = typer.Option(False, "--ssim", help="Also compute SSIM."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the metrics (JSON)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing JSON file."),
    bundle: BundleFlag = False, slug: SlugOption = None, reports_root: ReportsRootOption = None,
    ctx: typer.Context = None,
) -> None:
    """Correlation, MSE/RMSE, max |Δ|, sums and sum_ratio (cand/ref), relative error, argmax ties,
    orientation. With --bundle: an evidence bundle with the inputs' hashes and metrics.json."""
    with guarded("pwb metrics"):
        from parity.images.io import read_pair, write_json_atomic
        from parity.images.metrics import compare_images
        from parity.images.roi import Roi

        request = bundle_request(bundle, slug, reports_root)
        ref_img, cand_img = read_pair(ref, cand, shape=shape, nanobragg_args=nb_args, dtype=dtype)
        with maybe_bundle(request, kind="metrics", default_slug="metrics", ctx=ctx,
                          inputs=image_inputs(ref, cand), config=bundle_config(ctx)) as b:
            result = compare_images(ref_img, cand_img, roi=Roi.from_c_inclusive(*roi) if roi else None,
                                    rel_floor_fraction=rel_floor, ssim=ssim, orientation=True)
            payload = {"ref": str(ref), "cand": str(cand), **result.to_dict()}
            if json_out:
                write_json_atomic(json_out, payload, overwrite=force)
            b.write_json("metrics.json", payload)
            b.add_metrics({k: payload[k] for k in ("correlation", "sum_ratio", "max_abs_diff", "max_rel_err")}
                          | {"orientation": payload["orientation"]["best"]}, headline=True)
            _render(result.to_dict())


def _render(d: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"image metrics (definitions v{d['metrics_version']})")
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("note", overflow="fold", ratio=1)
    skip = {"metrics_version", "roi", "n/a_reasons", "sum_ratio_definition", "orientation"}
    notes = {"sum_ratio": "cand_sum / ref_sum", "max_rel_err": "above rel_floor, n_above_floor pixels",
             "max_abs_diff_at": "(slow, fast)", "ref_argmax": "(slow, fast)", "cand_argmax": "(slow, fast)"}
    for key, value in d.items():
        if key in skip:
            continue
        text = f"{value:.9g}" if isinstance(value, float) else str(value)
        table.add_row(key, text, d["n/a_reasons"].get(key, notes.get(key, "")))
    console = Console()
    console.print(table)
    roi = d["roi"]
    console.print(f"ROI: slow [{roi['slow_start']}, {roi['slow_stop']}) fast [{roi['fast_start']},"
                  f" {roi['fast_stop']})")
    orientation = d.get("orientation")
    if orientation and orientation["hint"]:
        console.print(f"orientation: {orientation['hint']}", style="bold yellow")
