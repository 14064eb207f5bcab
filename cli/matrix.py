"""``pwb matrix run|lint|list``: the case matrix (tests/parity_cases.yaml, schema in parity/matrix/cases.py).

Exit codes: ``run`` 0 every judged verdict passed, 1 a verdict failed or errored (runs without a C
binary are *not run*, counted and shown, never failures), 2 usage (no run matches ``-k``; a bad
``--workers``/``--scheduler``), 5 a malformed matrix or an ``NB_C_BIN`` that is not an executable file.
``--workers W``/``--scheduler ADDR`` run the runs on Dask (``parity.campaign.cluster``). ``lint`` 0 clean, 1 findings,
2 unknown ``--base`` revision. ``list`` 0, 2 when nothing matches.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from cli.bundle_opts import (BundleFlag, ReportsRootOption, SlugOption, WorkspaceOption, bundle_request, in_workspace,
                             invocation_argv, maybe_bundle)
from cli.errors import guarded

PATTERN_HELP = ("Select runs: substring (or glob with * ? [) of the run id, case id or spec;"
                " comma-separated alternatives.")
CASES_HELP = ("Matrix YAML (default: the workspace's tests/parity_cases.yaml when it has one, else the"
              " workbench checkout's).")


def register(app: typer.Typer) -> None:
    matrix_app = typer.Typer(help="The case matrix: one definition per run drives C, simcore, golden,"
                             " traces and benchmarks.", no_args_is_help=True)
    matrix_app.command("run")(run)
    matrix_app.command("lint")(lint)
    matrix_app.command("list")(list_runs)
    app.add_typer(matrix_app, name="matrix")


def _select(pattern: Optional[str], cases: Optional[Path] = None):
    from parity.matrix.cases import iter_runs
    from parity.errors import ParityUsageError

    runs = list(iter_runs(pattern, path=cases))
    if not runs:
        raise ParityUsageError(f"no matrix run matches -k {pattern!r} (pwb matrix list shows them)")
    return runs


def run(
    ctx: typer.Context,
    pattern: Optional[str] = typer.Option(None, "-k", "--pattern", help=PATTERN_HELP),
    dtype: str = typer.Option("float32", "--dtype", help="simcore precision: float32 or float64."),
    device: str = typer.Option("cpu", "--device", help="simcore device: cpu or cuda."),
    timeout: Optional[float] = typer.Option(None, "--timeout", metavar="S", help="Kill a C run after S seconds."),
    bundle: BundleFlag = False,
    slug: SlugOption = None,
    reports_root: ReportsRootOption = None,
    summary_bundle: bool = typer.Option(False, "--summary-bundle", help="One bundle with every run's verdicts "
                                        "and metrics (no images), instead of/besides per-run bundles."),
    cases: Optional[Path] = typer.Option(None, "--cases", metavar="FILE", help=CASES_HELP),
    workers: int = typer.Option(0, "--workers", metavar="W", help="Run the runs on a local Dask cluster of W"
                                " worker processes (one thread each); 0 = one after the other here (default)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="ADDR", help="Run on an existing Dask"
                                            " cluster (every worker needs the workbench, NB_C_BIN's path, the"
                                            " matrix's input folders)."),
    workspace: WorkspaceOption = None,
) -> None:
    """Run simcore vs the live C (NB_C_BIN) and vs the stored golden image for every selected run."""
    with guarded("pwb matrix run"), in_workspace(workspace):
        from parity.errors import ParityUsageError
        from parity.matrix.run import c_runner_from_env, run_matrix

        if dtype not in ("float32", "float64"):
            raise ParityUsageError(f"--dtype must be float32 or float64, got {dtype!r}")
        request = bundle_request(bundle, slug, reports_root, workspace)
        runs = _select(pattern, cases)
        c_runner = c_runner_from_env()
        if c_runner is None:
            print("pwb matrix run: NB_C_BIN is not set: live C verdicts are 'not run'", file=sys.stderr)
        from cli.progress import task_progress
        from parity.campaign.cluster import open_executor

        with open_executor(workers=workers, scheduler=scheduler) as executor, \
                task_progress(len(runs), "pwb matrix run") as step:
            def progress(o) -> None:
                step(f"{o.run.run_id}: live {o.live}, golden {o.golden}" + (f" (bundle {o.bundle})" if o.bundle else ""),
                     notable=o.failed)

            report = run_matrix(runs, c_runner=c_runner, dtype=dtype, device=device, timeout_s=timeout,
                                bundles=request.enabled and not summary_bundle, bundle_slug=request.slug,
                                reports_root=request.reports_root, argv=invocation_argv(ctx), on_result=progress,
                                executor=None if executor.kind == "serial" else executor)
        if summary_bundle:
            from parity.matrix.run import record_summary

            summary_request = bundle_request(True, request.slug or f"matrix-{dtype}", reports_root, workspace)
            with maybe_bundle(summary_request, kind="matrix", default_slug=f"matrix-{dtype}", ctx=ctx,
                              dtype=dtype, device=device) as b:
                record_summary(b, report, dtype=dtype)
    _render_report(report)
    raise typer.Exit(report.exit_code)


def _fmt(metrics: dict, key: str = "correlation") -> str:
    value = metrics.get(key)
    return "-" if value is None else (f"{value:.9f}" if isinstance(value, float) else str(value))


def _render_report(report) -> None:
    from rich.console import Console
    from rich.table import Table

    style = {"pass": "green", "fail": "bold red", "error": "bold red", "not run": "yellow", "n/a": "dim"}
    table = Table(title="case matrix: simcore vs C (live) and vs golden float.bin")
    for column in ("run", "spec", "vs C live", "vs golden", "corr live", "corr golden", "simcore s", "C s", "note"):
        numeric = column.startswith("corr") or column.endswith(" s")
        table.add_column(column, justify="right" if numeric else "left",
                         no_wrap=column in ("run", "vs C live", "vs golden"))
    for o in report.outcomes:
        kds = ", ".join(m["id"] for m in o.known_divergences if m["certain"])
        note = o.live_reason if o.live in ("fail", "error") else o.golden_reason if o.golden in ("fail", "error") \
            else "; ".join(t for t in (o.live_reason, kds) if t)
        table.add_row(o.run.run_id, o.run.spec, f"[{style[o.live]}]{o.live}[/]", f"[{style[o.golden]}]{o.golden}[/]",
                      _fmt(o.live_metrics), _fmt(o.golden_metrics),
                      "-" if o.simcore_s is None else f"{o.simcore_s:.2f}", "-" if o.c_s is None else f"{o.c_s:.2f}",
                      note[:80])
    console = Console(highlight=False)
    console.print(table)
    counts = report.counts()
    parts = [f"{counts['runs']} runs"]
    for column in ("live", "golden"):
        items = [f"{k.split(' ', 1)[1]} {v}" for k, v in counts.items() if k.startswith(column + " ")]
        parts.append(f"vs {'C live' if column == 'live' else 'golden'}: " + ", ".join(items))
    verdict = "FAILED" if report.exit_code else "OK"
    console.print(f"matrix {verdict}: " + " | ".join(parts))


def lint(
    base: Optional[str] = typer.Option("HEAD", "--base", metavar="REV",
                                       help="Git revision whose registry/matrix may not be looser (default HEAD)."),
    no_git: bool = typer.Option(False, "--no-git", help="Skip the comparison with --base."),
    cases: Optional[Path] = typer.Option(None, "--cases", metavar="FILE", help=CASES_HELP),
    registry: Optional[Path] = typer.Option(None, "--registry", help="Registry (default parity/matrix/thresholds.yaml)."),
    workspace: WorkspaceOption = None,
) -> None:
    """Check the matrix against the threshold registry and the registry against git (only tightening;
    skipped with a notice when the workbench is installed from a wheel)."""
    with guarded("pwb matrix lint"), in_workspace(workspace):
        from parity.matrix.lint import lint_matrix

        report = lint_matrix(cases_path=cases, registry_path=registry, base=None if no_git else base)
    for notice in report.notices:
        print(f"notice: {notice}", file=sys.stderr)
    for finding in report.findings:
        print(f"FINDING: {finding}")
    print(f"matrix lint: {len(report.findings)} finding(s); {report.n_runs} runs,"
          f" {report.n_registry_cases} registry entries")
    raise typer.Exit(report.exit_code)


def list_runs(pattern: Optional[str] = typer.Option(None, "-k", "--pattern", help=PATTERN_HELP),
              cases: Optional[Path] = typer.Option(None, "--cases", metavar="FILE", help=CASES_HELP),
              workspace: WorkspaceOption = None) -> None:
    """List the matrix runs with their spec, threshold class, source of args and arguments."""
    with guarded("pwb matrix list"), in_workspace(workspace):
        runs = _select(pattern, cases)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"case matrix ({len(runs)} runs)")
    for column in ("run", "case", "spec", "class", "args from", "args"):
        table.add_column(column)
    for r in runs:
        source = f"{r.golden_dir.parent.name}/{r.golden_dir.name}/args.txt" if r.golden_dir else "yaml"
        args = " ".join(r.args)
        table.add_row(r.run_id, r.case_id, r.spec, r.threshold_class, source, args if len(args) <= 70 else args[:67] + "...")
    Console(highlight=False).print(table)
