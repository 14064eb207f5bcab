"""`pwb plan`: phased plans under plans/active/<ID>/ (plan.yaml + generated plan.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cli.bundle_opts import ReportsRootOption, WorkspaceOption, in_workspace
from cli.errors import guarded

PlansRootOption = Annotated[Optional[Path], typer.Option(
    "--plans-root", metavar="DIR", help="Plans root (default: <workspace>/plans).")]


def _done(plan: dict, what: str) -> None:
    typer.echo(f"{what} (plan {plan['id']}, updated {plan['updated_utc']})")


def register(app: typer.Typer) -> None:
    plan = typer.Typer(help="Phased plans: new, add-phase, add-task, set, status, archive.", no_args_is_help=True)

    @plan.command("new")
    def new(plan_id: Annotated[str, typer.Argument(metavar="ID")],
            title: Annotated[Optional[str], typer.Option("--title")] = None,
            context: Annotated[Optional[str], typer.Option("--context", help="Context paragraph.")] = None,
            plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Create plans/active/ID/ with an empty phased plan."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.new_plan(plans_root, plan_id, title=title, context=context)
        _done(p, "created")

    @plan.command("add-phase")
    def add_phase(plan_id: Annotated[str, typer.Argument(metavar="ID")],
                  phase: Annotated[str, typer.Argument(metavar="PHASE", help="Phase ID, e.g. A.")],
                  title: Annotated[str, typer.Option("--title")],
                  goal: Annotated[str, typer.Option("--goal")] = "",
                  prereqs: Annotated[str, typer.Option("--prereqs")] = "",
                  exit_criteria: Annotated[str, typer.Option("--exit-criteria")] = "",
                  plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Append a phase (### Phase X — title) with goal, prereqs and exit criteria."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.add_phase(plans_root, plan_id, phase, title=title, goal=goal, prereqs=prereqs,
                                exit_criteria=exit_criteria)
        _done(p, f"added phase {phase}")

    @plan.command("add-task")
    def add_task(plan_id: Annotated[str, typer.Argument(metavar="ID")],
                 phase: Annotated[str, typer.Argument(metavar="PHASE")],
                 task: Annotated[str, typer.Argument(metavar="TASK_ID")],
                 text: Annotated[str, typer.Option("--text", help="Task description.")],
                 guidance: Annotated[str, typer.Option("--guidance", help="How/Why & guidance.")] = "",
                 plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Append an open task to a phase."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.add_task(plans_root, plan_id, phase, task, text=text, guidance=guidance)
        _done(p, f"added task {task}")

    @plan.command("set")
    def set_(plan_id: Annotated[str, typer.Argument(metavar="ID")],
             task: Annotated[str, typer.Argument(metavar="TASK")],
             state: Annotated[str, typer.Argument(metavar="STATE", help="[ ] | [P] | [D] | [B] (or open/P/D/B).")],
             evidence: Annotated[Optional[List[str]], typer.Option("--evidence", metavar="BUNDLE_ID",
                                                                   help="Existing bundle id (repeatable); [D] needs one.")] = None,
             note: Annotated[Optional[str], typer.Option("--note")] = None,
             plans_root: PlansRootOption = None, workspace: WorkspaceOption = None, reports_root: ReportsRootOption = None) -> None:
        """Change a task's state, citing evidence bundles."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            p = plans.set_task(plans_root, plan_id, task, state, evidence=evidence or [], note=note,
                               reports_root=reports_root)
        _done(p, f"{task} → {plans.normalize_state(state)}")

    @plan.command("status")
    def status(plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Across all active plans: what is open, what is blocked, which evidence closed what."""
        from parity.evidence import plans

        with guarded(), in_workspace(workspace):
            rows = plans.plan_status(plans_root)
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
                typer.echo(f"  done     {t['phase']}/{t['id']} {t['text']} ← {', '.join(t['evidence'])}")

    @plan.command("archive")
    def archive(plan_id: Annotated[str, typer.Argument(metavar="ID")], plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Move plans/active/ID/ to plans/archive/ID/."""
        from parity.evidence import plans
        from parity.evidence.provenance import relpath_from_root

        with guarded(), in_workspace(workspace):
            target = plans.archive_plan(plans_root, plan_id)
            typer.echo(f"archived {plan_id} → {relpath_from_root(target)}")

    app.add_typer(plan, name="plan")
