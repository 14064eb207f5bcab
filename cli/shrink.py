"""``pwb shrink``: a failing argument list reduced to the flags that matter (delta debugging).

    pwb shrink [port options of pwb triage] [--budget N] [--workers W] [--keep any|gates|tap]
               [--json F] [--add-case ID [--cases FILE]] [--workspace DIR] -- ARGS...

Exit codes: 0 a minimal failing list found (also when the budget ran out first: said so, and
``budget_exhausted`` in the JSON) · 2 usage · 3 the original list does not fail (or the reference
cannot run it): nothing to shrink · 5 unreadable input or a port that cannot be started. The work
is in parity.triage.shrink / shrink_run; this module parses, shows progress and renders.
"""
from __future__ import annotations

import shlex
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.bundle_opts import in_workspace
from cli.errors import guarded
from cli.triage import (ArgsArg, CandCmdOpt, CandDialectOpt, CandOpt, CandTraceOpt, CBinOpt, ClassOpt, CTraceOpt,
                        DeviceOpt, DtypeOpt, JsonOpt, RefCmdOpt, RefDialectOpt, RefOpt, RefTraceOpt, TimeoutOpt,
                        WorkersOpt, WorkspaceOpt, check_new_file, pair_spec, progress_display)


def register(app: typer.Typer) -> None:
    app.command("shrink")(shrink)


def shrink(
    args: ArgsArg = None, ref: RefOpt = None, ref_cmd: RefCmdOpt = None, cand: CandOpt = None,
    cand_cmd: CandCmdOpt = None, c_bin: CBinOpt = None, c_trace_bin: CTraceOpt = None,
    ref_trace_args: RefTraceOpt = None, cand_trace_args: CandTraceOpt = None, ref_dialect: RefDialectOpt = None,
    cand_dialect: CandDialectOpt = None, dtype: DtypeOpt = None, device: DeviceOpt = None, timeout: TimeoutOpt = None,
    threshold_class: ClassOpt = None,
    budget: Annotated[int, typer.Option("--budget", metavar="N", help="At most N comparisons (each runs both"
                                        " ports once; cached by argument list).")] = 60,
    workers: WorkersOpt = 2,
    keep: Annotated[str, typer.Option("--keep", metavar="any|gates|tap", help="What counts as the same failure:"
                    " any gate failure (default), the same failed gates, or the same first-divergence tap"
                    " at the worst pixel (traces both sides: slower).")] = "any",
    add_case: Annotated[Optional[str], typer.Option("--add-case", metavar="ID", help="Append the minimal list"
                        " as case ID to the workspace's case matrix.")] = None,
    cases: Annotated[Optional[Path], typer.Option("--cases", metavar="FILE", help="The case file for --add-case"
                     " (default <workspace>/tests/parity_cases.yaml).")] = None,
    json_out: JsonOpt = None, workspace: WorkspaceOpt = None,
) -> None:
    """Reduce a failing argument list: remove flag groups, shrink counts, reset values to the C's
    defaults, keeping a change only while the registry gates still fail the same way; then say
    which flags it needs. Exit: 0 shrunk, 2 usage, 3 nothing to shrink, 5 bad input."""
    with guarded("pwb shrink"), in_workspace(workspace):
        from parity.evidence.workspace import resolve_workspace
        from parity.triage.cases_out import CASE_ID_RE, default_cases_path
        from parity.triage.shrink_run import EXIT_NO_FAILURE, EXIT_SHRUNK, ShrinkOptions, plan_shrink, run_shrink
        from parity.errors import ParityUsageError

        check_new_file(json_out, "--json")
        if add_case is not None and not CASE_ID_RE.match(add_case):
            raise ParityUsageError(f"--add-case {add_case!r}: use letters, digits, '_', '.', '-' (at most 80)")
        ws = resolve_workspace(workspace)
        spec = pair_spec(ref=ref, ref_cmd=ref_cmd, cand=cand, cand_cmd=cand_cmd, c_bin=c_bin, c_trace_bin=c_trace_bin,
                         workspace=ws.root, dtype=dtype, device=device, timeout=timeout,
                         threshold_class=threshold_class, ref_trace_args=ref_trace_args,
                         cand_trace_args=cand_trace_args, ref_dialect=ref_dialect, cand_dialect=cand_dialect)
        plan = plan_shrink(ShrinkOptions(args=tuple(args or ()), pair=spec, budget=budget, workers=workers, keep=keep))
        with tempfile.TemporaryDirectory(prefix="pwb-shrink-") as tmp, progress_display("shrink") as progress:
            result = run_shrink(plan, workdir=Path(tmp), progress=progress)
        d = {"schema": "pwb.shrink/1", "ports": plan.pair.describe(), "keep": keep, **result.to_dict()}
        code = EXIT_SHRUNK if result.reproduced else EXIT_NO_FAILURE
        if add_case is not None and result.reproduced:
            d["added_case"] = _add_case(add_case, cases or default_cases_path(ws.root), result, plan)
        d["exit_code"] = code
        if json_out is not None:
            from parity.images.io import write_json_atomic

            write_json_atomic(json_out, d)
    _render(d)
    raise typer.Exit(code)


def _add_case(case_id: str, path: Path, result, plan) -> dict:
    from parity.triage.cases_out import append_case

    ports = plan.pair.describe()
    return append_case(path, case_id, result.minimal_args, threshold_class=plan.pair.thresholds.klass,
                       spec=f"pwb shrink: {result.sentence}",
                       description=(f"reference {ports['ref']['command']}, candidate {ports['cand']['command']};"
                                    f" reduced from {len(result.original_args)} to {len(result.minimal_args)} tokens"
                                    f" in {result.runs} comparisons"))


def _render(d: dict) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    if not d["reproduced"]:
        console.print(f"nothing to shrink: {escape(d['sentence'])}")
        return
    n0, n1 = len(d["original_args"]), len(d["minimal_args"])
    console.print(f"minimal failing list ({n1} of {n0} tokens, {d['runs']} comparisons,"
                  f" {d['cache_hits']} cached{', budget spent' if d['budget_exhausted'] else ''}):")
    console.print("  " + escape(shlex.join(d["minimal_args"])))
    console.print(f"[bold]{escape(d['sentence'])}[/bold]")
    for u in d["necessary"]:
        console.print(f"  {escape(u['unit']):<40} without it: {escape(u['without_it'])}")
    for c in d["value_changes"]:
        if c["now"] != c["unit"]:
            console.print(f"  {escape(c['unit'])} -> {escape(c['now'])} ({c['why']})")
    for s in d["suppressors"]:
        if s["suppresses"]:
            console.print(f"  adding back {escape(s['unit'])} makes it pass")
    added = d.get("added_case")
    if added:
        console.print(f"added case {added['id']} to {escape(added['path'])}; for pwb matrix lint add"
                      f" `{escape(added['registry_line'])}` under cases: in the threshold registry")
