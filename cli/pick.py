"""`pwb pick REF CAND`: the pixels worth tracing, printed as `slow fast` for `pwb trace --pixel S F`.

Exit codes: 0 ok, 2 usage, 4 shape mismatch, 5 unreadable/malformed image.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import typer

from cli.bundle_opts import BundleFlag, ReportsRootOption, SlugOption, bundle_request, maybe_bundle
from cli.errors import guarded
from cli.peaks import CAND_HELP, DTYPE_HELP, NB_ARGS_HELP, REF_HELP, SHAPE_HELP, bundle_config, image_inputs


def register(app: typer.Typer) -> None:
    app.command("pick")(pick)


def pick(
    ref: Path = typer.Argument(..., help=REF_HELP),
    cand: Path = typer.Argument(..., help=CAND_HELP),
    n: int = typer.Option(1, "--n", min=1, help="Pixels per role."),
    shape: Optional[Tuple[int, int]] = typer.Option(None, "--shape", metavar="S F", help=SHAPE_HELP),
    nb_args: Optional[str] = typer.Option(None, "--nb-args", help=NB_ARGS_HELP),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=DTYPE_HELP),
    top: int = typer.Option(50, "--top", min=1, help="Peaks per image considered."),
    percentile: float = typer.Option(99.5, "--percentile", min=0.0, max=100.0, help="Peak threshold."),
    nms_radius: float = typer.Option(3.0, "--nms-radius", min=0.0, help="Peak suppression radius (px)."),
    gate: float = typer.Option(1.0, "--gate", min=0.0, help="Peak match distance (px)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the picks (JSON)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing JSON file."),
    bundle: BundleFlag = False, slug: SlugOption = None, reports_root: ReportsRootOption = None,
    ctx: typer.Context = None,
) -> None:
    """Pick pixels to trace: largest |Δ|, largest relative Δ, brightest peak, flank, background,
    missing/extra peak. Each line gives `slow fast`. With --bundle: an evidence bundle with the
    inputs' hashes and metrics.json (the picks)."""
    with guarded("pwb pick"):
        from parity.images.io import read_pair, write_json_atomic
        from parity.images.pick import pick_pixels

        request = bundle_request(bundle, slug, reports_root)
        ref_img, cand_img = read_pair(ref, cand, shape=shape, nanobragg_args=nb_args, dtype=dtype)
        with maybe_bundle(request, kind="pick", default_slug="pick", ctx=ctx,
                          inputs=image_inputs(ref, cand), config=bundle_config(ctx)) as b:
            result = pick_pixels(ref_img, cand_img, n=n, top_n=top, percentile=percentile,
                                 nms_radius_px=nms_radius, gate_px=gate)
            payload = {"ref": str(ref), "cand": str(cand), **result.to_dict()}
            if json_out:
                write_json_atomic(json_out, payload, overwrite=force)
            b.write_json("metrics.json", payload)
            b.add_metrics({"n_pixels": len(result.pixels),
                           "pixels": [f"{p.role} {p.slow} {p.fast}" for p in result.pixels]}, headline=True)
            _render(result)


def _render(result) -> None:
    """The picks as a table; under 100 columns the reasons are stacked below it, one line each."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    stacked = console.width < 100
    table = Table(title="pixels to trace (slow, fast)")
    for column in ("role", "slow", "fast", "ref", "cand") + (() if stacked else ("reason",)):
        table.add_column(column, justify="right" if column in ("slow", "fast", "ref", "cand") else "left",
                         no_wrap=column != "reason")
    for p in result.pixels:
        cells = [p.role, str(p.slow), str(p.fast), f"{p.ref_value:.6g}", f"{p.cand_value:.6g}"]
        table.add_row(*cells, *(() if stacked else (p.reason,)))
    console.print(table)
    if stacked:
        for p in result.pixels:
            console.print(f"{p.role} ({p.slow}, {p.fast}): {p.reason}", markup=False, highlight=False)
    for role, reason in result.skipped.items():
        console.print(f"skipped {role}: {reason}")
    console.print("# paste: slow fast", markup=False)
    for p in result.pixels:
        console.print(f"{p.trace_command}  # {p.role}", markup=False, highlight=False)
