"""`pwb fixplan`: the attempts ledger (<workspace>/plans/fix_plan.jsonl) and its markdown view
(<workspace>/docs/fix_plan.md).

Exit codes: 0 ok · 1 ``render --check`` found the markdown stale · 2 usage (bad ID or value, unknown
or ambiguous bundle id, a named --plans-root that does not exist for ``list``/``render``) · 5 a
corrupt ledger or a clock earlier than its newest record.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cli.bundle_opts import ReportsRootOption, WorkspaceOption, in_workspace
from cli.errors import guarded
from cli.exit_codes import Exit
from cli.plan import PlansRootOption, require_roots

IdArg = Annotated[str, typer.Argument(metavar="ID", help="Item ID, e.g. C-PARITY-001.")]


def register(app: typer.Typer) -> None:
    fix = typer.Typer(help="Fix-plan ledger: items, attempts (with bundle evidence), rendered view.",
                      no_args_is_help=True)
    item = typer.Typer(help="Add or change fix-plan items.", no_args_is_help=True)
    fix.add_typer(item, name="item")

    @item.command("add")
    def item_add(item_id: IdArg, title: Annotated[str, typer.Option("--title")],
                 spec: Annotated[Optional[str], typer.Option("--spec", help="Spec/acceptance reference.")] = None,
                 priority: Annotated[str, typer.Option("--priority", help="high | medium | low")] = "medium",
                 repro: Annotated[Optional[List[str]], typer.Option("--repro", metavar="CMD",
                                                                    help="Reproduction command (repeatable).")] = None,
                 exit_criterion: Annotated[Optional[List[str]], typer.Option("--exit-criterion", metavar="TEXT",
                                                                             help="Exit criterion (repeatable).")] = None,
                 plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Add a fix-plan item (status pending)."""
        from parity.evidence import ledger

        with guarded(), in_workspace(workspace):
            it = ledger.add_item(ledger.ledger_path(plans_root), item_id, title=title, spec=spec,
                                 priority=priority.lower(), repro=repro or [], exit_criteria=exit_criterion or [])
        typer.echo(f"added [{it.id}] {it.title} ({it.created_utc})")

    @item.command("set")
    def item_set(item_id: IdArg,
                 status: Annotated[Optional[str], typer.Option("--status", help="pending | in_planning | in_progress | blocked | done")] = None,
                 title: Annotated[Optional[str], typer.Option("--title")] = None,
                 priority: Annotated[Optional[str], typer.Option("--priority")] = None,
                 spec: Annotated[Optional[str], typer.Option("--spec")] = None,
                 plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Change an item's status (or title / priority / spec)."""
        from parity.evidence import ledger

        with guarded(), in_workspace(workspace):
            it = ledger.set_item(ledger.ledger_path(plans_root), item_id, status=status, title=title,
                                 priority=priority.lower() if priority else None, spec=spec)
        typer.echo(f"[{it.id}] status {it.status}, priority {it.priority} ({it.updated_utc})")

    @fix.command("attempt")
    def attempt(item_id: IdArg,
                bundle: Annotated[List[str], typer.Option("--bundle", metavar="BUNDLE_ID",
                                                          help="Evidence bundle: an id, 'latest' or a unique prefix"
                                                          " (repeatable, at least one).")],
                result: Annotated[str, typer.Option("--result", help="success | partial | failed")],
                note: Annotated[str, typer.Option("--note", help="Observations (1-3 lines).")],
                hypothesis: Annotated[Optional[str], typer.Option("--hypothesis")] = None,
                next_: Annotated[Optional[List[str]], typer.Option("--next", metavar="TEXT",
                                                                   help="Next action (repeatable).")] = None,
                plans_root: PlansRootOption = None, workspace: WorkspaceOption = None, reports_root: ReportsRootOption = None) -> None:
        """Record attempt #N (number and UTC date assigned here) citing existing bundles."""
        from parity.evidence import ledger

        with guarded(), in_workspace(workspace):
            a = ledger.record_attempt(ledger.ledger_path(plans_root), item_id, bundle_ids=bundle, result=result,
                                      note=note, hypothesis=hypothesis, next_actions=next_ or [],
                                      reports_root=reports_root)
        typer.echo(f"[{item_id}] attempt #{a.number} — {a.result} ({a.at_utc}); bundles: "
                   + ", ".join(b["id"] for b in a.bundles))

    @fix.command("render")
    def render(out: Annotated[Optional[Path], typer.Option("--out", help="Default: <workspace>/docs/fix_plan.md.")] = None,
               check: Annotated[bool, typer.Option("--check", help="Exit 1 if the file differs; write nothing.")] = False,
               plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Write the markdown view of the ledger (deterministic)."""
        from parity.evidence import fixplan_render
        from parity.evidence import ledger
        from parity.evidence.provenance import relpath_from_root
        from parity.evidence.report_index import refresh_index

        with guarded(), in_workspace(workspace):
            require_roots(plans_root)
            led = ledger.load_ledger(ledger.ledger_path(plans_root))
            target = out if out is not None else fixplan_render.default_out()
            if check:
                current = target.read_text(encoding="utf-8") if target.is_file() else None
                if current != fixplan_render.render(led, out=target):
                    typer.echo(f"{relpath_from_root(target)} is stale; run `pwb fixplan render`", err=True)
                    raise typer.Exit(Exit.FAILED)
                typer.echo(f"{relpath_from_root(target)} is up to date")
                return
            path = fixplan_render.write(led, target)
            refresh_index(plans_root=led.path.parent)   # the index links the fix plan
            typer.echo(f"wrote {relpath_from_root(path)} ({len(led.items)} items, {len(led.records)} records)")

    @fix.command("list")
    def list_(plans_root: PlansRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Items with priority, status and their latest attempt."""
        from parity.evidence import ledger

        with guarded(), in_workspace(workspace):
            require_roots(plans_root)
            led = ledger.load_ledger(ledger.ledger_path(plans_root))
        if not led.items:
            typer.echo("no fix-plan items")
        for it in led.items.values():
            last = it.attempts[-1] if it.attempts else None
            tail = f"last attempt #{last.number} {last.result} {last.at_utc[:10]}" if last else "no attempts"
            typer.echo(f"[{it.id}] {it.title} — {it.priority}, {it.status}; {tail}")

    app.add_typer(fix, name="fixplan")
