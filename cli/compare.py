"""``nb-compare`` (console entry ``cli.compare:main``) and ``pwb compare``: two ports on the same ARGS.

    nb-compare [--outdir DIR] [--roi XMIN XMAX YMIN YMAX] [--threshold-class NAME] [--threshold T]
               [--resample] [--png-scale PCTL] [--save-diff] [--c-bin PATH] [--py-bin PATH]
               [--ref PORT | --ref-cmd CMD] [--cand PORT | --cand-cmd/--py-cmd CMD] [--workspace DIR]
               [--dtype D] [--device D] [--timeout S] [--case RUN_ID] [--bundle] [--slug SLUG] -- ARGS...

The reference is the C and the candidate simcore unless told otherwise (parity.compare.sides); the
verdict is the four gates of a registry threshold class (parity.compare.gates; default GOLDEN-IMAGE).
Both keep nb-compare's own exit codes (docs/nb-compare.md), not the pwb table:
0 success · 1 usage error · 2 a runner failed · 3 a gate failed (correlation, sum ratio, relative
error, brightest pixel) · 4 shape mismatch without --resample · 5 I/O or parse error (missing binary,
command or input file, unparseable ARGS, unreadable image). The work is in parity.compare.run; this
module parses and renders.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import typer
from typer.core import TyperCommand

from cli.bundle_opts import (BundleFlag, ReportsRootOption, SlugOption, WorkspaceOption, bundle_request, in_workspace,
                             maybe_bundle)
from cli.errors import ClickException, UsageError, error_code, error_line, fail, run_command

ROI_HELP = ("C inclusive, as nanoBragg's -roi: XMIN XMAX YMIN YMAX, x = fast, y = slow, zero-based, both"
            " ends inclusive (recorded so in summary.json).")
HELP = ("Run two ports (default: the C nanoBragg and simcore) on the same ARGS (after --), each in a fresh"
        " temp dir, and judge the candidate's float image against the reference's with the gates of a"
        " registry threshold class (correlation, sum ratio, relative error above 1% of max, brightest"
        " pixel). Exit: 0 ok, 1 usage, 2 runner failed, 3 a gate failed, 4 shape mismatch,"
        " 5 I/O or parse error.")


class NbCompareCommand(TyperCommand):
    """A Typer command whose argument-parsing errors exit 1 (nb-compare's usage code), not Click's 2."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            exc.exit_code = 1
            raise


def register(app: typer.Typer) -> None:
    app.command("compare", cls=NbCompareCommand, help=HELP)(compare)


@contextlib.contextmanager
def nb_guarded(prog: str) -> Iterator[None]:
    """Like cli.errors.guarded, but with nb-compare's codes: usage errors (2 elsewhere) exit 1, every
    I/O problem (unreadable input 5, unwritable output 6 elsewhere) exits 5; a bug exits 70."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit, BrokenPipeError):
        raise
    except ClickException as exc:         # a BadParameter from the command body: nb-compare's usage code
        raise fail(f"{prog}: {exc.format_message()}", 1 if exc.exit_code == 2 else exc.exit_code) from None
    except Exception as exc:  # noqa: BLE001 - dispatch on the code below
        code = error_code(exc)
        if code is None or code == 70:
            from tracekit.entry import report_internal_error

            raise typer.Exit(report_internal_error(prog, exc)) from None
        raise fail(error_line(prog, exc), {2: 1, 6: 5}.get(code, code)) from None


def compare(
    ctx: typer.Context,
    args: Optional[List[str]] = typer.Argument(None, metavar="-- ARGS...",
                                               help="nanoBragg arguments, given unchanged to both runners."),
    outdir: Optional[Path] = typer.Option(None, "--outdir", help="Output folder (new or empty); default"
                                          " comparisons/<YYYYMMDD-HHMMSS>-<args hash>/ in the cwd (UTC)."),
    roi: Optional[Tuple[int, int, int, int]] = typer.Option(None, "--roi", metavar="XMIN XMAX YMIN YMAX",
                                                            help=ROI_HELP),
    threshold_class: Optional[str] = typer.Option(None, "--threshold-class", metavar="NAME", help="Registry"
                                                  " class whose gates judge the images (default GOLDEN-IMAGE)."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Minimum correlation, replacing the"
                                              " class's corr_min (the other gates stay)."),
    resample: bool = typer.Option(False, "--resample", help="Resize the Python image to the C shape"
                                  " (nearest neighbour) instead of exiting 4 on a shape mismatch."),
    png_scale: float = typer.Option(99.5, "--png-scale", metavar="PCTL", help="PNG white level: this"
                                    " percentile of both images' ROI pixels (linear from 0)."),
    save_diff: bool = typer.Option(False, "--save-diff", help="Also write diff.bin (py - c) and diff.png."),
    c_bin: Optional[Path] = typer.Option(None, "--c-bin", help="C binary (else $NB_C_BIN, else ./nanoBragg)."),
    py_bin: Optional[Path] = typer.Option(None, "--py-bin",
                                          help="Python runner (else $NB_PY_BIN, else python -m simcore)."),
    ref: Optional[str] = typer.Option(None, "--ref", metavar="PORT", help="Reference port: c (default), c-trace,"
                                      " simcore or a profile name (pwb port add)."),
    cand: Optional[str] = typer.Option(None, "--cand", metavar="PORT", help="Candidate port: c, c-trace, simcore"
                                       " or a profile name (default: --py-bin, else simcore)."),
    ref_cmd: Optional[str] = typer.Option(None, "--ref-cmd", metavar="CMD", help="Reference as a whole command"
                                          " line (shell-split; ARGS are appended)."),
    cand_cmd: Optional[str] = typer.Option(None, "--cand-cmd", "--py-cmd", metavar="CMD", help="Candidate as a"
                                           " whole command line, e.g. \"python -m theirport --fast\"."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help="float32|float64, passed as -dtype to simcore and"
                                       " to a candidate that is not the C."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu|cuda, passed as -device (as --dtype)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", metavar="S", help="Kill a runner (its whole process"
                                            " group) after S seconds; default 120 s + 5 us x pixels x loops."),
    case: Optional[str] = typer.Option(None, "--case", metavar="RUN_ID", help="Take ARGS from this case-matrix"
                                       " run (input files from its golden folder) instead of after --."),
    bundle: BundleFlag = False,
    slug: SlugOption = None,
    reports_root: ReportsRootOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    prog = "nb-compare"
    with nb_guarded(prog), in_workspace(workspace):
        from parity.compare.run import CompareOptions, execute_compare, plan_compare
        from parity.compare.bundle import record_compare_bundle
        from parity.compare.outdir import args_hash

        request = bundle_request(bundle, slug, reports_root, workspace)
        nb_args, base = _resolve_args(args, case)
        options = CompareOptions(args=tuple(nb_args), outdir=outdir, roi=roi, threshold=threshold,
                                 threshold_class=threshold_class,
                                 resample=resample, png_percentile=png_scale, save_diff=save_diff,
                                 c_bin=str(c_bin) if c_bin else None, py_bin=str(py_bin) if py_bin else None,
                                 ref=ref, cand=cand, ref_cmd=ref_cmd, cand_cmd=cand_cmd,
                                 workspace=str(workspace) if workspace else None, dtype=dtype, device=device, timeout_s=timeout, base=base, case=case)
        plan = plan_compare(options)
        with maybe_bundle(request, kind="nb-compare", default_slug=case or f"nb-compare-{args_hash(plan.args)}",
                          ctx=ctx, inputs=plan.inputs, binaries=[plan.c.executable, plan.py.executable],
                          config={"args": list(plan.args), "threshold": plan.corr_min,
                                  "threshold_class": plan.thresholds.klass, "roi": list(roi) if roi else None,
                                  "resample": resample, "png_scale": png_scale},
                          case=case, device=plan.device, dtype=plan.dtype) as b:
            _prefetch_identities(plan)
            result = execute_compare(plan)
            record_compare_bundle(b, result)
    _render(result)
    raise typer.Exit(result.exit_code)


def _prefetch_identities(plan) -> None:
    """Start identifying both ports (hashes, git, --version) while they run; the summary collects it."""
    from parity.evidence.port_identity import prefetch

    for runner in (plan.c, plan.py):
        prefetch(runner.name, runner.command, getattr(runner, "env", None))


def _resolve_args(args: Optional[List[str]], case: Optional[str]) -> tuple[list[str], Optional[Path]]:
    from parity.errors import ParityUsageError

    if case is None:
        return list(args or []), None
    if args:
        raise ParityUsageError("give either --case RUN_ID or ARGS after --, not both")
    from parity.matrix.cases import find_run

    run = find_run(case)
    return list(run.args), run.input_base


def _render(result) -> None:
    from rich.console import Console
    from rich.table import Table

    from parity.compare.summary import one_line, table_rows

    s = result.summary
    ref, cand = s["ports"]["ref"], s["ports"]["cand"]
    console = Console(highlight=False)
    if s["runtime_c_ms"] is not None:
        label = "C runtime" if ref["kind"] == "c" else f"Ref runtime ({ref['name']})"
        console.print(f"{label}: {s['runtime_c_ms'] / 1000.0:.3f} s")
    if s["runtime_py_ms"] is not None:
        label = "Py runtime" if cand["kind"] != "c" else f"Cand runtime ({cand['name']})"
        console.print(f"{label}: {s['runtime_py_ms'] / 1000.0:.3f} s")
    if s["correlation"] is not None:
        table = Table(title=f"nb-compare (reference = {ref['name']}, candidate = {cand['name']})", show_header=True)
        table.add_column("metric")
        table.add_column("value", justify="right")
        for label, value in table_rows(s):
            table.add_row(label, value)
        console.print(table)
    for kd in s["known_divergences"]:
        console.print(f"known divergence: {kd['verdict']}" + ("" if kd["certain"] else " (possible)"))
    for note in s["notes"]:
        print(f"nb-compare: {note}", file=sys.stderr)
    print(one_line(s, outdir=_shown(result.outdir)))


def _shown(path: Path) -> str:
    """The output folder relative to the cwd when it is inside it (as the user would type it)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: Optional[List[str]] = None) -> None:
    """Console entry point ``nb-compare``: one-line errors, nb-compare's exit codes (cli.errors)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
    app.command(cls=NbCompareCommand, help=HELP)(compare)
    sys.exit(run_command(typer.main.get_command(app), prog="nb-compare", argv=argv, usage_code=1,
                         help_hint="nb-compare --help"))


if __name__ == "__main__":
    main()
