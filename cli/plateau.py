"""`pwb plateau REF CAND`: unique float32 values of both images in a pinned ROI (fragmentation).

Exit codes: 0 ok, 2 usage (bad option, ROI outside the image, output exists), 4 shape mismatch,
5 unreadable/malformed image.
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
    app.command("plateau")(plateau)


def plateau(
    ref: Path = typer.Argument(..., help=REF_HELP),
    cand: Path = typer.Argument(..., help=CAND_HELP),
    shape: Optional[Tuple[int, int]] = typer.Option(None, "--shape", metavar="S F", help=SHAPE_HELP),
    nb_args: Optional[str] = typer.Option(None, "--nb-args", help=NB_ARGS_HELP),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=DTYPE_HELP),
    roi: Optional[Tuple[int, int, int, int]] = typer.Option(None, "--roi", metavar="XMIN XMAX YMIN YMAX",
                                                            help=ROI_HELP),
    size: int = typer.Option(20, "--size", min=1, help="Side (px) of the default ROI around the brightest"
                                                        " reference peak."),
    png: Optional[Path] = typer.Option(None, "--png", help="Write the histograms (PNG)."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Write value,count per image (CSV)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the result (JSON)."),
    force: bool = typer.Option(False, "--force", help="Replace existing output files."),
    bundle: BundleFlag = False, slug: SlugOption = None, reports_root: ReportsRootOption = None,
    ctx: typer.Context = None,
) -> None:
    """Count distinct float32 values of REF and CAND in one ROI; ratio = cand/ref. With --bundle: an
    evidence bundle with the inputs' hashes, metrics.json, plateau.csv and the PNG when made."""
    with guarded("pwb plateau"):
        from parity.images.io import read_pair, write_json_atomic, write_output_atomic
        from parity.images.plateau import plateau_csv_text, plateau_metric, render_plateau_png
        from parity.images.roi import Roi

        request = bundle_request(bundle, slug, reports_root)
        ref_img, cand_img = read_pair(ref, cand, shape=shape, nanobragg_args=nb_args, dtype=dtype)
        with maybe_bundle(request, kind="plateau", default_slug="plateau", ctx=ctx,
                          inputs=image_inputs(ref, cand), config=bundle_config(ctx)) as b:
            result = plateau_metric(ref_img, cand_img, roi=Roi.from_c_inclusive(*roi) if roi else None,
                                    size_px=size)
            payload = {"ref": str(ref), "cand": str(cand), **result.to_dict()}
            table = plateau_csv_text(result)
            if csv:
                write_output_atomic(csv, table, overwrite=force)
            if png:
                picture = render_plateau_png(result, title=f"{ref.name} vs {cand.name}")
                write_output_atomic(png, picture, overwrite=force)
                b.write_bytes("plateau.png", picture)
            if json_out:
                write_json_atomic(json_out, payload, overwrite=force)
            b.write_json("metrics.json", payload)
            b.write_bytes("plateau.csv", table.encode())
            b.add_metrics({k: payload[k] for k in ("n_unique_ref", "n_unique_cand", "unique_ratio")}, headline=True)
            _render(result)


def _render(result) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="plateau metric: distinct float32 values in the ROI",
                  caption="max equal = largest group of pixels sharing one value")
    table.add_column("image", no_wrap=True)
    table.add_column("unique values", justify="right", no_wrap=True)
    table.add_column("max equal", justify="right", no_wrap=True)
    table.add_row("reference", str(result.n_unique_ref), str(int(result.ref_counts.max())))
    table.add_row("candidate", str(result.n_unique_cand), str(int(result.cand_counts.max())))
    console = Console()
    console.print(table)
    console.print(f"ratio cand/ref = {result.unique_ratio:.4g} over {result.roi.n_pixels} pixels")
    console.print(f"ROI used: {result.roi.describe()} — {result.roi_source}")
