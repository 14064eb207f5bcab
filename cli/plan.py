"""`pwb plan`: phased plans under <workspace>/plans/active/<ID>/ (plan.yaml + generated plan.md).

Tasks cite the tests that show them done (``--test SELECTOR``: a pytest node id, a file, ``-k EXPR``
or ``-m EXPR``; repeatable) or say why none can (``--test-na REASON``). ``verify`` runs them,
``set … D`` runs them before marking a task done, ``lint`` lists tasks that check nothing.

Exit codes: 0 ok · 1 a cited test fails (``verify``, ``set … D``), lint findings · 2 usage (bad ID,
refused change, unknown or ambiguous bundle id, a named --plans-root/--reports-root that does not
exist) · 3 a cited selector collects nothing (``verify``, ``set … D``) · 5 malformed plan.yaml, or
pytest / pytest-json-report missing.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cli.bundle_opts import ReportsRootOption, WorkspaceOption, in_workspace, invocation_argv
from cli.errors import guarded
from cli.exit_codes import Exit

PlansRootOption = Annotated[Optional[Path], typer.Option(
    "--plans-root", metavar="DIR", help="Plans root (default: <workspace>/plans).")]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="Plan ID.")]
PhaseArg = Annotated[str, typer.Argument(metavar="PHASE", help="Phase ID, e.g. A.")]
TaskArg = Annotated[str, typer.Argument(metavar="TASK", help="Task ID, e.g. A1.")]
TestOption = Annotated[Optional[List[str]], typer.Option(
    "--test", metavar="SELECTOR", help="pytest selector that shows the task done: node id, file, '-k EXPR' or"
    " '-m EXPR' (repeatable).")]
TestNaOption = Annotated[Optional[str], typer.Option("--test-na", metavar="REASON",
                                                     help="Why no test can show this task done.")]
TimeoutOption = Annotated[float, typer.Option("--timeout", metavar="S", help="Per pytest run (default 600 s).")]


def _done(plan: dict, what: str) -> None:
    typer.echo(f"{what} (plan {plan['id']}, updated {plan['updated_utc']})")


def require_roots(plans_root, reports_root=None) -> None:
    from parity.evidence.workspace import require_dir

    require_dir(plans_root, "--plans-root")
    require_dir(reports_root, "--reports-root")


def register(app: typer.Typer) -> None:
    plan = typer.Typer(help="Phased plans: new, add/edit/remove phases and tasks, set, verify, lint, status,"
                       " link, render, archive.", no_args_is_help=True)

    @plan.command("new")
    def new(plan_id: IdArg, title: Annotated[Optional[str], typer.Option("--title")] = None,
            context: Annotated[Optional[str], typer.Option("--context", help="Context paragraph.")] = None,
            fixplan: Annotated[Optional[List[str]], typer.Option("--fixplan", metavar="ITEM",
                                                                 help="Fix-plan item this plan works on (repeatable).")] = None,
            plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Create plans/active/ID/ with an empty phased plan."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.new_plan(plans_root, plan_id, title=title, context=context)
            for item in fixplan or []:
                p = plans.link_fixplan(plans_root, plan_id, item)
        _done(p, "created")

    @plan.command("add-phase")
    def add_phase(plan_id: IdArg, phase: PhaseArg, title: Annotated[str, typer.Option("--title")],
                  goal: Annotated[str, typer.Option("--goal")] = "",
                  prereqs: Annotated[str, typer.Option("--prereqs")] = "",
                  exit_criteria: Annotated[str, typer.Option("--exit-criteria")] = "",
                  plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Append a phase (### Phase X — title) with goal, prereqs and exit criteria (each optional)."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.add_phase(plans_root, plan_id, phase, title=title, goal=goal, prereqs=prereqs,
                                exit_criteria=exit_criteria)
        _done(p, f"added phase {phase}")

    @plan.command("edit-phase")
    def edit_phase(plan_id: IdArg, phase: PhaseArg, title: Annotated[Optional[str], typer.Option("--title")] = None,
                   goal: Annotated[Optional[str], typer.Option("--goal", help="'' clears it.")] = None,
                   prereqs: Annotated[Optional[str], typer.Option("--prereqs", help="'' clears it.")] = None,
                   exit_criteria: Annotated[Optional[str], typer.Option("--exit-criteria", help="'' clears it.")] = None,
                   plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Change a phase's title, goal, prereqs or exit criteria."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.edit_phase(plans_root, plan_id, phase, title=title, goal=goal, prereqs=prereqs,
                                 exit_criteria=exit_criteria)
        _done(p, f"edited phase {phase}")

    @plan.command("remove-phase")
    def remove_phase(plan_id: IdArg, phase: PhaseArg,
                     force: Annotated[bool, typer.Option("--force", help="Also remove its tasks.")] = False,
                     plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Remove a phase (refused while it has tasks, unless --force)."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.remove_phase(plans_root, plan_id, phase, force=force)
        _done(p, f"removed phase {phase}")

    @plan.command("add-task")
    def add_task(plan_id: IdArg, phase: PhaseArg, task: TaskArg,
                 text: Annotated[str, typer.Option("--text", help="Task description.")],
                 guidance: Annotated[str, typer.Option("--guidance", help="How/Why & guidance.")] = "",
                 test: TestOption = None, test_na: TestNaOption = None,
                 plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Append an open task to a phase, citing its tests (--test) or why it has none (--test-na)."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.add_task(plans_root, plan_id, phase, task, text=text, guidance=guidance, tests=test or [],
                               test_na=test_na)
        _done(p, f"added task {task}")

    @plan.command("edit-task")
    def edit_task(plan_id: IdArg, task: TaskArg, text: Annotated[Optional[str], typer.Option("--text")] = None,
                  guidance: Annotated[Optional[str], typer.Option("--guidance", help="'' clears it.")] = None,
                  test: TestOption = None, test_na: TestNaOption = None,
                  no_test: Annotated[bool, typer.Option("--no-test", help="Clear the tests and the N/A reason.")] = False,
                  phase: Annotated[Optional[str], typer.Option("--phase", metavar="PHASE", help="Move it to this phase.")] = None,
                  plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Change a task's text, guidance, tests (--test replaces them) or phase."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.edit_task(plans_root, plan_id, task, text=text, guidance=guidance, tests=test, test_na=test_na,
                                no_test=no_test, phase=phase)
        _done(p, f"edited task {task}")

    @plan.command("remove-task")
    def remove_task(plan_id: IdArg, task: TaskArg, plans_root: PlansRootOption = None,
                    workspace: WorkspaceOption = None) -> None:
        """Remove a task (its evidence bundles stay in reports/)."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.remove_task(plans_root, plan_id, task)
        _done(p, f"removed task {task}")

    @plan.command("set")
    def set_(ctx: typer.Context, plan_id: IdArg, task: TaskArg,
             state: Annotated[str, typer.Argument(metavar="STATE", help="[ ] | [P] | [D] | [B] (or open/P/D/B).")],
             evidence: Annotated[Optional[List[str]], typer.Option("--evidence", metavar="BUNDLE_ID",
                                                                   help="Existing bundle id, 'latest' or a unique prefix"
                                                                   " (repeatable); [D] needs one unless the task cites tests.")] = None,
             note: Annotated[Optional[str], typer.Option("--note")] = None,
             force: Annotated[bool, typer.Option("--force", help="[D] although its tests fail or collect nothing"
                                                 " (needs --note; the plan shows it).")] = False,
             timeout: TimeoutOption = 600.0,
             plans_root: PlansRootOption = None, workspace: WorkspaceOption = None,
             reports_root: ReportsRootOption = None) -> None:
        """Change a task's state, citing evidence bundles; [D] on a task that cites tests runs them first."""
        from parity.evidence import plans
        from parity.evidence.plan_verify import set_task_checked

        with guarded(), in_workspace(workspace):
            p = set_task_checked(plans_root, plan_id, task, state, evidence=evidence or [], note=note, force=force,
                                 reports_root=reports_root, argv=invocation_argv(ctx), timeout_s=timeout)
        _, t = plans.find_task(p, task)
        _done(p, f"{task} → {t['state']}" + (" (forced: its tests do not pass)" if t.get("forced") else ""))

    @plan.command("link")
    def link(plan_id: IdArg, item: Annotated[str, typer.Argument(metavar="ITEM", help="Fix-plan item ID.")],
             plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Link the plan and a fix-plan item both ways (plan.md and docs/fix_plan.md link each other)."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.link_fixplan(plans_root, plan_id, item)
        _done(p, f"linked fix-plan item {item}")

    @plan.command("verify")
    def verify(ctx: typer.Context, plan_id: IdArg,
               task: Annotated[Optional[str], typer.Option("--task", metavar="TASK", help="Only this task.")] = None,
               bundle: Annotated[bool, typer.Option("--bundle", help="Logs and pytest JSON reports into one bundle,"
                                                    " linked from the plan.")] = False,
               json_out: Annotated[Optional[Path], typer.Option("--json", metavar="FILE", help="Write the results as JSON.")] = None,
               timeout: TimeoutOption = 600.0,
               plans_root: PlansRootOption = None, workspace: WorkspaceOption = None,
               reports_root: ReportsRootOption = None) -> None:
        """Collect (pytest --collect-only) and run every test the plan cites, in the workspace.
        Exit 0 all collect and pass, 3 one collects nothing, 1 one fails."""
        from parity.evidence.plan_verify import verify_plan

        with guarded(), in_workspace(workspace):
            require_roots(plans_root, reports_root)
            result = verify_plan(plans_root, plan_id, task_id=task, bundle=bundle, argv=invocation_argv(ctx),
                                 reports_root=reports_root, timeout_s=timeout)
            if json_out is not None:
                from tracekit.atomic import write_atomic     # the one writer: through links, umask, atomic

                write_atomic(json_out, json.dumps({"plan": plan_id, **result}, indent=2) + "\n")
        for r in result["results"]:
            typer.echo(f"{r['outcome'].upper():8} {r['phase']}/{r['task']} `{r['selector']}`: {r['reason']}")
        if not result["results"]:
            typer.echo(f"no task of {plan_id} cites a test (pwb plan lint lists them)")
        if result["bundle"]:
            typer.echo(f"bundle: {result['bundle']}", err=True)
        if result["problem"]:
            typer.echo(f"pwb plan verify: {result['problem']}", err=True)
        raise typer.Exit(result["exit_code"])

    @plan.command("lint")
    def lint(plan_ids: Annotated[Optional[List[str]], typer.Argument(metavar="[ID]...", help="Default: every active plan.")] = None,
             no_collect: Annotated[bool, typer.Option("--no-collect", help="Do not run pytest --collect-only.")] = False,
             timeout: TimeoutOption = 600.0,
             plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Tasks with neither a test nor an N/A reason, empty N/A reasons, selectors that no longer collect.
        Exit 0 clean, 1 findings."""
        from parity.evidence.plan_verify import lint_plans

        with guarded(), in_workspace(workspace):
            require_roots(plans_root)
            findings = lint_plans(plans_root, plan_ids or None, collect=not no_collect, timeout_s=timeout)
        for finding in findings:
            typer.echo(f"FINDING: {finding}")
        typer.echo(f"plan lint: {len(findings)} finding(s)")
        raise typer.Exit(Exit.FAILED if findings else Exit.OK)

    @plan.command("status")
    def status(plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Across all active plans: what is open, what is blocked, which evidence closed what."""
        from parity.evidence.plan_status import plan_status

        with guarded(), in_workspace(workspace):
            require_roots(plans_root)
            rows = plan_status(plans_root)
        if not rows:
            typer.echo("no active plans")
        for s in rows:
            counts = " ".join(f"{k} {v}" for k, v in s.counts.items())
            stale = "  (plan.md is stale: rerun any pwb plan command)" if s.md_stale else ""
            typer.echo(f"== {s.id} — {s.title}  [{counts}]  updated {s.updated_utc}{stale}")
            for t in s.open:
                typer.echo(f"  open     {t['phase']}/{t['id']} {t['state']} {t['text']}")
            for t in s.blocked:
                typer.echo(f"  blocked  {t['phase']}/{t['id']} {t['text']}" + (f" — {t['note']}" if t["note"] else ""))
            for t in s.done:
                forced = f" (FORCED: {t['forced']})" if t.get("forced") else ""
                typer.echo(f"  done     {t['phase']}/{t['id']} {t['text']} ← {', '.join(t['evidence'])}{forced}")

    @plan.command("render")
    def render(plan_ids: Annotated[Optional[List[str]], typer.Argument(metavar="[ID]...", help="Default: every active plan.")] = None,
               plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Rewrite plan.md from plan.yaml (data unchanged), e.g. after the workbench's renderer changed."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            require_roots(plans_root)
            done = plans.rerender(plans_root, plan_ids or None)
        typer.echo(f"rendered {len(done)} plan(s): {', '.join(done) or '-'}")

    @plan.command("archive")
    def archive(plan_id: IdArg, plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Move plans/active/ID/ to plans/archive/ID/."""
        from parity.evidence import plans
        from parity.evidence.provenance import relpath_from_root

        with guarded(), in_workspace(workspace):
            target = plans.archive_plan(plans_root, plan_id)
            typer.echo(f"archived {plan_id} → {relpath_from_root(target)}")

    app.add_typer(plan, name="plan")
