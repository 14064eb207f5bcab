"""`pwb peaks REF CAND`: detect, match (Hungarian, gated) and tabulate the Bragg peaks of two images.

Exit codes: 0 ok, 2 usage (bad option, ROI outside the image, output exists), 3 ``--min-match`` not
met, 4 shape mismatch, 5 unreadable/malformed image (wrong byte count, NaN/Inf, missing file).
``--bundle`` (also on metrics, pick and plateau, whose helpers live here) writes an evidence bundle.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import typer

from cli.bundle_opts import BundleFlag, ReportsRootOption, SlugOption, bundle_request, maybe_bundle
from cli.errors import fail, guarded
from cli.exit_codes import Exit

SHAPE_HELP = "SLOW FAST pixel counts of raw float32 files (else meta.json beside them, or --nb-args)."
NB_ARGS_HELP = "The nanoBragg command line that wrote raw files; the shape follows the C's rule."
ROI_HELP = "C inclusive form, as nanoBragg's -roi: XMIN XMAX YMIN YMAX, x = fast, y = slow, zero-based."
REF_HELP = ("Reference image: raw float32 (-floatfile), .npy, SMV, CBF, EDF, TIFF, HDF5 (FILE::/dataset),"
            " PGM or one-channel PNG; recognised by its first bytes.")
CAND_HELP = "Candidate image (any of the same formats; same shape)."
DTYPE_HELP = "Element type of raw files (float32 default; e.g. float64, uint16, '>f4' for big-endian)."


def register(app: typer.Typer) -> None:
    app.command("peaks")(peaks)


def peaks(
    ref: Path = typer.Argument(..., help=REF_HELP),
    cand: Path = typer.Argument(..., help=CAND_HELP),
    shape: Optional[Tuple[int, int]] = typer.Option(None, "--shape", metavar="S F", help=SHAPE_HELP),
    nb_args: Optional[str] = typer.Option(None, "--nb-args", help=NB_ARGS_HELP),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=DTYPE_HELP),
    top: int = typer.Option(50, "--top", min=1, help="Keep the N brightest peaks of each image."),
    percentile: float = typer.Option(99.5, "--percentile", min=0.0, max=100.0, help="Detection threshold."),
    nms_radius: float = typer.Option(3.0, "--nms-radius", min=0.0, help="Suppression disk radius (px)."),
    gate: float = typer.Option(1.0, "--gate", min=0.0, help="Largest matched distance (px)."),
    subpixel: bool = typer.Option(False, "--subpixel", help="Intensity-weighted sub-pixel positions."),
    plateau_rtol: float = typer.Option(0.0, "--plateau-rtol", min=0.0, max=0.999,
                                       help="Merge a top's pixels within this relative tolerance."),
    roi: Optional[Tuple[int, int, int, int]] = typer.Option(None, "--roi", metavar="XMIN XMAX YMIN YMAX",
                                                            help=ROI_HELP),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Write the peak table (CSV)."),
    overlay: Optional[Path] = typer.Option(None, "--overlay", help="Write the overlay PNG."),
    overlay_width: Optional[int] = typer.Option(None, "--overlay-width", min=200, max=4096, metavar="PX",
                                                help="Width of each overlay panel in pixels (default: the"
                                                     " image width, 600-1024)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the summary (JSON)."),
    min_match: Optional[float] = typer.Option(None, "--min-match", min=0.0, max=1.0,
                                              help="Exit 3 unless matched fraction >= FRACTION."),
    shells: Optional[int] = typer.Option(None, "--shells", min=1, max=100, metavar="K",
                                         help="Split the detector into K equal-area radial shells around the"
                                              " beam; each gets its own threshold and --per-shell peaks."),
    per_shell: int = typer.Option(10, "--per-shell", min=1, metavar="N",
                                  help="Peaks per shell with --shells (then --top is not used)."),
    rank: str = typer.Option("brightness", "--rank", metavar="brightness|relerr",
                             help="Keep the brightest peaks, or those of largest relative error |cand-ref|/|ref|."),
    beam_center: Optional[Tuple[float, float]] = typer.Option(
        None, "--beam-center", metavar="S F", help="Beam centre (slow, fast) px for the shells; default the"
                                                    " detector centre."),
    case: Optional[str] = typer.Option(None, "--case", help="Case name for the overlay title."),
    force: bool = typer.Option(False, "--force", help="Replace existing output files."),
    bundle: BundleFlag = False, slug: SlugOption = None, reports_root: ReportsRootOption = None,
    ctx: typer.Context = None,
) -> None:
    """Compare the peaks of REF and CAND; matched fraction = matched / reference's top N.
    With --bundle: an evidence bundle with the inputs' hashes, metrics.json, peaks.csv and the overlay."""
    with guarded("pwb peaks"):
        from parity.images.io import read_pair, write_json_atomic, write_output_atomic
        from parity.images.metrics import compare_images
        from parity.images.peak_table import compare_peaks
        from parity.images.roi import Roi

        request = bundle_request(bundle, slug, reports_root)
        ref_img, cand_img = read_pair(ref, cand, shape=shape, nanobragg_args=nb_args, dtype=dtype)
        with maybe_bundle(request, kind="peaks", default_slug=case or "peaks", ctx=ctx, case=case,
                          inputs=image_inputs(ref, cand), config=bundle_config(ctx)) as b:
            region = Roi.from_c_inclusive(*roi) if roi else None
            comp = compare_peaks(ref_img, cand_img, top_n=top, percentile=percentile, nms_radius_px=nms_radius,
                                 gate_px=gate, subpixel=subpixel, plateau_rtol=plateau_rtol, roi=region,
                                 shells=shells, per_shell=per_shell, rank=rank, beam_center_px=beam_center)
            summary = comp.summary()
            metrics = compare_images(ref_img, cand_img, roi=comp.roi, orientation=True)
            met = _min_match_met(summary["matched_fraction"], min_match)
            payload = {"ref": str(ref), "cand": str(cand), **summary, "min_match": min_match,
                       "min_match_met": met, "image_metrics": metrics.to_dict()}
            table_csv = comp.table().to_csv(index=False)
            if csv:
                write_output_atomic(csv, table_csv, overwrite=force)
            if json_out:
                write_json_atomic(json_out, payload, overwrite=force)
            if overlay:
                from parity.images.overlay import overlay_png

                png = overlay_png(ref_img, cand_img, comp, case=case, metrics=metrics, width_px=overlay_width)
                write_output_atomic(overlay, png, overwrite=force)
                b.write_bytes("overlay.png", png)
            b.write_json("metrics.json", payload)
            b.write_bytes("peaks.csv", table_csv.encode())
            b.add_metrics(_headline(summary, metrics.to_dict()), headline=True)
            if met is not None:
                b.set_status("passed" if met else "failed")
                b.set_exit_code("pwb peaks", Exit.OK if met else Exit.THRESHOLD)
            _render(summary, comp)
            if metrics.orientation["hint"]:
                typer.echo(f"orientation: {metrics.orientation['hint']}")
    if met is False:
        raise fail(f"pwb peaks: matched fraction {summary['matched_fraction']} is below --min-match {min_match}",
                   Exit.THRESHOLD)


def _headline(summary: dict, metrics: dict) -> dict:
    head = {k: summary[k] for k in ("matched_fraction", "n_ref", "n_matched", "intensity_ratio_rms",
                                    "median_ratio_at_ref_pixel")}
    worst = (summary.get("shells") or {}).get("worst")
    if worst:
        head["worst_shell"] = worst["shell"]
        head["worst_shell_median_ratio_at_ref_pixel"] = worst["median_ratio_at_ref_pixel"]
    head["correlation"] = metrics["correlation"]
    head["orientation"] = metrics["orientation"]["best"]
    return head


def image_inputs(*paths: Path) -> list[Path]:
    """The files behind image arguments (``FILE::/dataset`` names FILE), for the bundle's provenance."""
    from parity.images.formats import split_dataset_path

    return [split_dataset_path(str(p))[0] for p in paths]


def bundle_config(ctx: Optional[typer.Context]) -> dict:
    """The command's parsed options, for the bundle manifest (bundle options left out)."""
    skip = {"bundle", "slug", "reports_root", "workspace"}
    return {k: v for k, v in (ctx.params.items() if ctx is not None else ()) if k not in skip}


def _min_match_met(fraction: object, min_match: Optional[float]) -> Optional[bool]:
    if min_match is None:
        return None
    return isinstance(fraction, float) and fraction >= min_match


def _render(summary: dict, comp) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="peak comparison (positions are slow, fast px)", show_header=True)
    table.add_column("quantity", no_wrap=True)
    table.add_column("value", justify="right", overflow="fold")
    sel = summary["selection"]
    chosen = f"{sel['n']} per shell" if sel["per"] == "shell" else f"top {sel['n']}"
    rows = [
        ("selection", f"{chosen}, by {sel['rank']}"),
        ("ref peaks (denominator)", summary["n_ref"]), ("cand peaks", summary["n_cand"]),
        ("matched", summary["n_matched"]), ("missing (ref only)", summary["n_missing"]),
        ("extra (cand only)", summary["n_extra"]),
        ("matched fraction", _fmt(summary["matched_fraction"], ".4f")),
        ("gate (px)", _fmt(summary["gate_px"], "g")),
        ("dist median/p90/max (px)", " / ".join(_fmt(summary[k], ".3f") for k in
                                                 ("median_dist_px", "p90_dist_px", "max_dist_px"))),
        ("intensity ratio RMS err", _fmt(summary["intensity_ratio_rms"], ".4g")),
        ("median cand/ref at ref px", _fmt(summary["median_ratio_at_ref_pixel"], ".4g")),
        ("ROI", comp.roi.describe()),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console = Console()
    console.print(table)
    if summary.get("shells"):
        console.print(_shell_table(summary["shells"]))
    console.print(f"matched fraction = {summary['n_matched']}/{summary['denominator']};"
                  f" denominator = {summary['denominator_rule']}")


def _shell_table(shells: dict):
    """Per-shell rows, headers short enough for 80 columns."""
    from rich.table import Table

    c = shells["center_px"]
    table = Table(title=f"per shell (equal-area, centre {c[0]:.1f}, {c[1]:.1f} px)",
                  caption="ratio = median cand/ref peak intensity (matched); at ref = median cand/ref"
                          " at the reference peak pixels")
    for name in ("shell", "r (px)", "ref", "cand", "match", "frac", "ratio", "at ref"):
        table.add_column(name, justify="left" if name == "shell" else "right", no_wrap=True)
    worst = (shells.get("worst") or {}).get("shell")
    for row in shells["per_shell"]:
        table.add_row(f"{row['shell']}{' *' if row['shell'] == worst else ''}",
                      f"{row['r_min_px']:.0f}-{row['r_max_px']:.0f}", str(row["n_ref"]), str(row["n_cand"]),
                      str(row["n_matched"]), _fmt(row["matched_fraction"], ".3f"),
                      _fmt(row["median_intensity_ratio"], ".4g"), _fmt(row["median_ratio_at_ref_pixel"], ".4g"))
    return table


def _fmt(value: object, spec: str) -> str:
    return value if isinstance(value, str) else format(value, spec)
