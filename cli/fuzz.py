"""``pwb fuzz``: a random campaign — N drawn nanoBragg configurations, each on the C and a candidate port.

    pwb fuzz --n N --seed S [--c-bin C] [--cand PORT | --cand-cmd CMD] [--dtype D] [--workers W | --scheduler ADDR]
             [--max-work W] [--max-side PX] [--timeout S] [--shrink-budget N] [--json F] [--bundle [--slug S]] [--add-cases FILE
             [--registry FILE]] [--workspace DIR]

Exit codes: 0 every case passed (or was degenerate: both images constant), 1 a case failed or erred,
2 usage (a bad option; no Dask, or a cluster that does not start or cannot be reached), 5 bad input
(the C binary or the candidate not found, a --json file that exists, an --add-cases file that does not parse).
The work is in :mod:`parity.campaign`; this module parses and renders.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from cli.bundle_opts import BundleFlag, ReportsRootOption, SlugOption, WorkspaceOption, bundle_request, in_workspace, \
    maybe_bundle
from cli.errors import guarded

WORKERS_HELP = ("Run on a local Dask cluster of W worker processes (one thread each); 0 = serially in this"
                " process (the default, as in CI).")
SCHEDULER_HELP = ("Run on an existing Dask cluster (tcp://HOST:8786): every worker needs the workbench installed,"
                  " the C binary at the --c-bin path and the candidate's command; inputs are made on the worker.")


def register(app: typer.Typer) -> None:
    app.command("fuzz")(fuzz)


def fuzz(
    ctx: typer.Context,
    n: int = typer.Option(100, "--n", metavar="N", help="Number of random cases."),
    seed: int = typer.Option(0, "--seed", metavar="S", help="Seed: the same seed draws the same cases."),
    c_bin: Optional[Path] = typer.Option(None, "--c-bin", metavar="C", help="The C nanoBragg (default $NB_C_BIN,"
                                         " else ./nanoBragg)."),
    cand: Optional[str] = typer.Option(None, "--cand", metavar="PORT", help="Candidate port: simcore (as a command),"
                                       " c, or a profile of pwb port add (default: simcore in-process)."),
    cand_cmd: Optional[str] = typer.Option(None, "--cand-cmd", metavar="CMD", help="Candidate as a command line"
                                           " (shell-split; the case's arguments are appended)."),
    dtype: str = typer.Option("float32", "--dtype", help="float32 or float64 (simcore's -dtype)."),
    workers: int = typer.Option(0, "--workers", metavar="W", help=WORKERS_HELP),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="ADDR", help=SCHEDULER_HELP),
    max_work: int = typer.Option(2_000_000, "--max-work", metavar="W", help="Bound on pixels x sources x mosaic x"
                                 " phi x thickness x oversample^2 per case."),
    max_side: int = typer.Option(128, "--max-side", metavar="PX", help="Largest detector side drawn (pixels)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", metavar="S", help="Kill a port's run after S seconds."),
    shrink_budget: int = typer.Option(40, "--shrink-budget", metavar="N", help="Shrink each failure to a minimal"
                                      " argument list with at most N comparisons (pwb shrink's engine); 0 = off."),
    threshold_class: str = typer.Option("CAMPAIGN-IMAGE", "--threshold-class", metavar="NAME",
                                        help="Registry class whose gates judge each case."),
    json_out: Optional[Path] = typer.Option(None, "--json", metavar="F", help="Write the campaign JSON here."),
    add_cases: Optional[Path] = typer.Option(None, "--add-cases", metavar="FILE", help="Append each failure as a"
                                             " case to this case-matrix YAML (inputs beside it)."),
    registry: Optional[Path] = typer.Option(None, "--registry", metavar="FILE", help="With --add-cases: add the new"
                                            " runs to this threshold registry too (else the lines are printed)."),
    bundle: BundleFlag = False,
    slug: SlugOption = None,
    reports_root: ReportsRootOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Draw N random valid nanoBragg configurations (Hypothesis, seeded), run each on the C and the candidate,
    judge it with the registry's gates, and report pass/fail per case with the throughput."""
    with guarded("pwb fuzz"), in_workspace(workspace):
        from parity.campaign.campaign import CampaignOptions, resolve_ports, run_campaign
        from parity.campaign.cluster import open_executor
        from parity.campaign.record import record_bundle, write_json
        from parity.errors import ParityInputError, ParityUsageError

        if registry is not None and add_cases is None:
            raise ParityUsageError("--registry goes with --add-cases")
        if shrink_budget < 0:
            raise ParityUsageError(f"--shrink-budget must be 0 (off) or more, got {shrink_budget}")
        options = CampaignOptions(n=n, seed=seed, dtype=dtype, max_work=max_work, max_side=max_side,
                                  threshold_class=threshold_class, timeout_s=timeout).validate()
        request = bundle_request(bundle, slug, reports_root, workspace)
        if json_out is not None and json_out.exists():
            raise ParityInputError(f"--json {json_out}: exists already; refusing to overwrite it")
        c_runner, cand_runner = resolve_ports(c_bin=c_bin, cand=cand, cand_cmd=cand_cmd, dtype=dtype,
                                              workspace=workspace)
        with open_executor(workers=workers, scheduler=scheduler) as executor:
            report = _run(options, c_runner, cand_runner, executor, run_campaign, shrink_budget)
        if json_out is not None:
            write_json(report, json_out)
        added = None
        if add_cases is not None:
            from parity.campaign.add_cases import add_cases as append

            added = append(report, add_cases, registry=registry)
        default_slug = f"fuzz-s{seed}-{dtype}"
        with maybe_bundle(request, kind="campaign", default_slug=default_slug, ctx=ctx, dtype=dtype, seed=seed,
                          binaries=[c_runner.executable], config=report.to_json() | {"cases": None}) as b:
            record_bundle(b, report)
    _render(report, added)
    raise typer.Exit(report.exit_code)


def _run(options, c_runner, cand_runner, executor, run_campaign, shrink_budget):
    from cli.progress import task_progress

    where = f"{executor.workers} Dask worker(s)" if executor.kind == "dask" else "serial"
    print(f"pwb fuzz: {options.n} cases, seed {options.seed}, {options.dtype}, {where}", file=sys.stderr)
    with task_progress(options.n, "pwb fuzz") as step:
        def on_result(row, done, total):
            text = f"{row['case_id']} {row['status']}"
            bad = row["status"] in ("fail", "error")
            step(text + (f": {row['reason']}" if bad else ""), notable=bad)

        def on_shrink(row):
            n = len(row["minimal_args"] or row["args"])
            print(f"pwb fuzz: shrank {row['case_id']}: {len(row['args'])} -> {n} tokens ({row['shrink']})",
                  file=sys.stderr)

        return run_campaign(options, c_runner=c_runner, cand_runner=cand_runner, executor=executor,
                            on_result=on_result, shrink_budget=shrink_budget, on_shrink=on_shrink)


def _render(report, added) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    j = report.to_json()
    bad = [r for r in j["cases"] if r["status"] in ("fail", "error")]
    if bad:
        table = Table(title=f"failures and errors ({len(bad)})")
        for column in ("case", "status", "reason", "args"):
            table.add_column(column, no_wrap=column in ("case", "status"))
        for r in bad:
            args = " ".join(r["minimal_args"] or r["args"])
            table.add_row(r["case_id"], r["status"], r["reason"], args if len(args) <= 90 else args[:87] + "...")
        console.print(table)
    t = j["throughput"]
    verdict = "FAILED" if report.exit_code else "OK"
    console.print(f"fuzz {verdict}: {j['n_cases']} cases: passed {j['passed']}, failed {j['failed']}, errors "
                  f"{j['errors']}, degenerate {j['degenerate']} | {t['cases_per_minute']} cases/min on "
                  f"{t['workers'] or 1} {'worker(s)' if t['workers'] else 'process'}, C {100 * (t['c_share'] or 0):.0f} %"
                  f" / candidate {100 * (t['cand_share'] or 0):.0f} % of task time")
    if added is not None:
        console.print(f"added {len(added.added)} case(s) to {added.path}" +
                      (f", noted this dtype in {len(added.updated)} already there" if added.updated else "") +
                      (f", kept {len(added.kept)} already there as they were" if added.kept else ""))
        if added.added and not added.registry_written:
            console.print("add under 'cases:' in the threshold registry (pwb matrix lint wants them): "
                          + "; ".join(added.registry_lines))
