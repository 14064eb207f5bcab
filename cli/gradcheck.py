"""`pwb gradcheck --param NAME [--cand simcore | --cand-cmd CMD] -- ARGS`: a port's ∂image/∂param
against central finite differences of the C program's images (registry class GRADIENT); and
`pwb refine-demo`: recover perturbed distance, beam centre and misset from a C image by L-BFGS on simcore.

Exit codes (both): 0 passed / converged, 1 a parameter failed (or its gradient could not be computed)
/ the fit did not converge, 2 usage (unknown parameter, no C binary without --reference simcore,
bad step or size), 5 unreadable input / the C run failed.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cli.bundle_opts import BundleFlag, ReportsRootOption, SlugOption, bundle_request, maybe_bundle
from cli.errors import fail, guarded
from cli.exit_codes import Exit


def register(app: typer.Typer) -> None:
    app.command("gradcheck", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(gradcheck)
    app.command("refine-demo")(refine_demo)


def _step(text: str) -> float | None:
    if text == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        raise fail(f"pwb gradcheck: --step {text!r}: give a number (flag units) or auto", Exit.USAGE)
    if not value > 0:
        raise fail(f"pwb gradcheck: --step {text!r}: must be positive", Exit.USAGE)
    return value


def gradcheck(
    ctx: typer.Context,
    param: List[str] = typer.Option(..., "--param", metavar="NAME", help="Parameter (repeatable, or 'all'): "
                                    "distance_mm, Xbeam_mm, Ybeam_mm, misset_{x,y,z}_deg, cell_{a,b,c}_A, "
                                    "cell_{alpha,beta,gamma}_deg, lambda_A, N, Na, Nb, Nc, "
                                    "detector_rot{x,y,z}_deg, twotheta_deg."),
    cand: str = typer.Option("simcore", "--cand", metavar="PORT", help="Candidate port: simcore (in-process "
                             "autograd)."),
    cand_cmd: Optional[str] = typer.Option(None, "--cand-cmd", metavar="CMD", help="Candidate as a command "
                                           "that writes the gradient for `ARGS -grad_param NAME -gradfile FILE` "
                                           "(raw float32, -floatfile layout)."),
    dtype: List[str] = typer.Option(["float64"], "--dtype", metavar="DTYPE", help="simcore's compute dtype: float64 or float32 "
                                    "(repeatable)."),
    case: List[str] = typer.Option([], "--case", metavar="ID", help="Golden case id (tests/golden_data/ID) or a "
                                   "folder with args.txt, instead of ARGS (repeatable)."),
    reference: str = typer.Option("c", "--reference", help="c: finite differences of the C (--c-bin / "
                                  "NB_C_BIN); simcore: simcore's own (autograd self-consistency)."),
    c_bin: Optional[str] = typer.Option(None, "--c-bin", help="C binary (default: NB_C_BIN)."),
    step: str = typer.Option("auto", "--step", metavar="H", help="Finite-difference step in the flag's unit, "
                             "or auto (the parameter's default step, re-balanced between truncation and float32 "
                             "rounding, at most 3 tries)."),
    stencil: str = typer.Option("richardson", "--stencil", help="richardson (4-point, default) or central (2-point)."),
    case_dir: Path = typer.Option(Path("."), "--case-dir", help="Folder relative input files in ARGS are read from."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write every result (JSON)."),
    overlay: Optional[Path] = typer.Option(None, "--overlay", metavar="DIR", help="Write ref | cand | diff PNGs here."),
    force: bool = typer.Option(False, "--force", help="Replace existing output files."),
    bundle_overlays: str = typer.Option("all", "--bundle-overlays",
                                        help="Overlays in the bundle: all, failed or none."),
    bundle: BundleFlag = False, slug: SlugOption = None, reports_root: ReportsRootOption = None,
) -> None:
    """Check the candidate's gradient of the image for each --param against central finite differences
    of the C's images at that parameter's flag. Put the nanoBragg arguments after `--`. -N is an
    integer in the C: its reference is simcore's own finite difference (labelled self-consistency)
    plus the C's integer difference (I(N+1) − I(N−1))/2 as a correlation check."""
    args = list(ctx.args)
    if bool(args) == bool(case):
        raise fail("pwb gradcheck: give the nanoBragg arguments after -- or --case ID (not both)", Exit.USAGE)
    if bundle_overlays not in ("all", "failed", "none"):
        raise fail(f"pwb gradcheck: --bundle-overlays {bundle_overlays}: use all, failed or none", Exit.USAGE)
    fixed_step = _step(step)
    request = bundle_request(bundle, slug, reports_root)
    with guarded("pwb gradcheck"):
        from parity.gradients.params import expand_names
        from parity.gradients.session import CaseSpec, golden_case, resolve_c_reference, run_gradcheck, write_results
        from parity.ports.gradients import resolve_gradient_port

        names = expand_names(param)
        ports = [resolve_gradient_port(cand, cmd=cand_cmd, dtype=d) for d in (dtype if not cand_cmd else dtype[:1])]
        runner = resolve_c_reference(reference, c_bin)
        cases = [golden_case(c) for c in case] or [CaseSpec(label=None, args=tuple(args), base_dir=case_dir)]
        default_slug = "gradcheck-" + (names[0] if len(names) == 1 else "all")
        with maybe_bundle(request, kind="gradcheck", default_slug=default_slug, ctx=ctx,
                          binaries=[runner.executable] if runner else [], dtype=",".join(dtype),
                          config={"cases": [{"label": c.label, "args": list(c.args)} for c in cases], "params": names,
                                  "candidates": [p.describe() for p in ports], "reference": reference,
                                  "stencil": stencil, "step": step}) as b:
            run = run_gradcheck(cases, names, ports=ports, c_runner=runner, step=fixed_step, stencil=stencil)
            write_results(run, json_path=json_out, overlay_dir=overlay, bundle=b if b.enabled else None,
                          overwrite=force, overlays=bundle_overlays)
        _render(run)
    if not run.passed:
        raise typer.Exit(Exit.FAILED)


def _render(run) -> None:
    from rich.table import Table

    from cli.tables import console as make_console, narrow
    from parity.gradients.session import summary_rows

    console = make_console(piped_width=150)
    short = narrow(console)         # 80 columns: case, cand, param, corr, rel err max, result
    keep = ("case", "cand", "param", "corr", "rel err max", "result")
    columns = [c for c in ("case", "cand", "param", "ref", "step", "noise/max", "signal px", "corr", "rel err max",
                           "Σ|c|/Σ|r|", "result") if not short or c in keep]
    table = Table(title=f"gradient parity: {' / '.join(run.candidates)} vs finite differences (class GRADIENT)")
    for col in columns:
        table.add_column(col, justify="left" if col in ("case", "cand", "param", "ref", "result") else "right",
                         overflow="fold")
    for row in summary_rows(run):
        verdict = "pass" if row["passed"] else "FAIL " + ",".join(row["failed"])
        cells = dict(zip(("case", "cand", "param", "ref", "step", "noise/max", "signal px", "corr", "rel err max",
                          "Σ|c|/Σ|r|", "result"),
                         (row["case"] or "-", row["dtype"] or "cmd", row["param"], row["reference"], f"{row['step']:.3g}",
                          f"{row['fd_noise_rel']:.1e}", str(row["signal_px"]), f"{row['correlation']:.7f}",
                          f"{row['rel_err_max']:.2e}", f"{row['sum_ratio']:.6f}", verdict)))
        table.add_row(*(cells[c] for c in columns))
    console.print(table)
    for r in run.results:
        where = f"{r.case}: " if r.case else ""
        if r.error:
            console.print(f"{where}{r.param}: {r.error}", soft_wrap=True)
        if r.secant:
            console.print(f"{where}{r.param}: C integer difference (I({r.value - 1:g}) … I({r.value + 1:g}))/2 vs "
                          f"candidate: corr {r.secant.get('correlation', float('nan')):.4f}", soft_wrap=True)
    for note in dict.fromkeys(r.reference_note for r in run.results if r.reference != "c-fd"):
        console.print(f"reference: {note}", soft_wrap=True)


def refine_demo(
    ctx: typer.Context,
    size: str = typer.Option("small", "--size", help="small (64², seconds) or big (192², the committed evidence)."),
    measured: str = typer.Option("auto", "--measured", help="c (the C's image, --c-bin / NB_C_BIN), simcore, "
                                 "or auto (c when a C binary is set)."),
    c_bin: Optional[str] = typer.Option(None, "--c-bin", help="C binary (default: NB_C_BIN)."),
    max_evals: int = typer.Option(60, "--max-evals", min=2, help="Loss evaluations at most (L-BFGS)."),
    png: Optional[Path] = typer.Option(None, "--png", help="Write the loss / parameter plot (PNG)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the history and result (JSON)."),
    force: bool = typer.Option(False, "--force", help="Replace existing output files."),
    bundle: BundleFlag = False, slug: SlugOption = None, reports_root: ReportsRootOption = None,
) -> None:
    """Perturb detector distance, beam centre and the three misset angles, then recover them from the
    measured image by L-BFGS on simcore's float64 autograd (loss: MSE of log(1 + I/s))."""
    import os

    request = bundle_request(bundle, slug, reports_root)
    with guarded("pwb refine-demo"):
        from parity.gradients.demo import demo_setup, measured_image, refine, render_refine_png
        from parity.gradients.session import resolve_c_reference
        from parity.images.io import write_json_atomic, write_output_atomic
        from parity.ports.process import C_BIN_ENV

        if measured not in ("auto", "c", "simcore"):
            raise fail(f"pwb refine-demo: --measured {measured}: use c, simcore or auto", Exit.USAGE)
        use_c = measured == "c" or (measured == "auto" and (c_bin or os.environ.get(C_BIN_ENV)))
        runner = resolve_c_reference("c", c_bin) if use_c else None
        setup = demo_setup(size)
        with maybe_bundle(request, kind="refine", default_slug=f"refine-demo-{size}", ctx=ctx, dtype="float64",
                          binaries=[runner.executable] if runner else [],
                          config={"size": size, "base_args": list(setup.base_args), "truth": setup.truth,
                                  "start": setup.start, "max_evals": max_evals}) as b:
            image, who = measured_image(setup, c_runner=runner)
            result = refine(setup, image, max_evals=max_evals, measured_by=who)
            picture = render_refine_png(result)
            data = result.to_dict()
            if png:
                write_output_atomic(png, picture, overwrite=force)
            if json_out:
                write_json_atomic(json_out, data, overwrite=force)
            b.write_bytes("refine.png", picture)
            b.write_json("refine.json", data)
            b.save_preview_png("measured.png", image, title=f"measured ({who})")
            b.add_metrics({"converged": result.converged, "evaluations": len(result.history),
                           "loss_start": data["loss_start"], "loss_final": data["loss_final"],
                           "errors": result.errors, "tolerance": result.tolerance}, headline=True)
            b.set_status("passed" if result.converged else "failed")
        _render_refine(result)
    if not result.converged:
        raise typer.Exit(Exit.FAILED)


def _render_refine(result) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"refinement against a {result.measured_by} image "
                        f"({len(result.history)} loss evaluations)")
    for col in ("parameter", "true", "start", "final", "final − true", "tolerance", ""):
        table.add_column(col, justify="left" if col in ("parameter", "") else "right")
    for k in result.names:
        err = result.errors[k]
        table.add_row(k, f"{result.truth[k]:.6g}", f"{result.start[k]:.6g}", f"{result.final[k]:.8g}",
                      f"{err:+.2e}", f"{result.tolerance[k]:g}", "ok" if abs(err) <= result.tolerance[k] else "OFF")
    Console().print(table)
