"""`pwb report`: the evidence bundles as a static web page (`index`) or a terminal table (`list`).

Malformed or unfinished bundles are rows flagged INCOMPLETE with the reason, never a failure of the
whole command. Exit codes: 0 ok · 2 a named --reports-root that does not exist.
"""
from __future__ import annotations

import typer

from cli.bundle_opts import ReportsRootOption, WorkspaceOption, in_workspace
from cli.errors import guarded


def register(app: typer.Typer) -> None:
    report = typer.Typer(help="Evidence bundles: list them, show one, write reports/index.html.", no_args_is_help=True)

    @report.command("index")
    def index(reports_root: ReportsRootOption = None,
              workspace: WorkspaceOption = None) -> None:
        """Write <reports-root>/index.html (one row per bundle, incomplete ones flagged)."""
        from parity.evidence.provenance import relpath_from_root
        from parity.evidence.report_index import write_index
        from parity.evidence.workspace import require_dir

        with guarded(), in_workspace(workspace):
            require_dir(reports_root, "--reports-root")
            path = write_index(reports_root)
            typer.echo(f"wrote {relpath_from_root(path)}")

    @report.command("list")
    def list_(reports_root: ReportsRootOption = None,
              workspace: WorkspaceOption = None) -> None:
        """List bundles (oldest first) with status and headline metrics."""
        from rich.markup import escape
        from rich.table import Table

        from cli.tables import console, narrow
        from parity.evidence.store import list_bundles
        from parity.evidence.summary import flatten_metrics, format_value
        from parity.evidence.workspace import require_dir

        with guarded(), in_workspace(workspace):
            require_dir(reports_root, "--reports-root")
            rows = list_bundles(reports_root)
        con = console(piped_width=160)
        short = narrow(con)         # 80 columns: one cell per bundle, its metrics on the lines under its id
        table = Table()
        if short:
            table.add_column("bundle · result · kind / headline metrics", overflow="fold")
        else:
            for column in ("bundle", "kind", "case", "result", "headline metrics", "git"):
                table.add_column(column, overflow="fold")
        for s in rows:
            metrics = ", ".join(f"{k}={format_value(v)}" for k, v in flatten_metrics(s.headline).items())
            result = s.state if s.complete else f"INCOMPLETE ({s.problem})"
            sha = (s.git_sha or "")[:10] + ("+dirty" if s.git_dirty else "")
            if short:
                table.add_row(f"[bold]{escape(s.dirname)}[/bold]  {escape(result)}  {escape(s.kind or '')}"
                              + (f"\n{escape(metrics)}" if metrics else ""))
            else:
                table.add_row(s.dirname, s.kind or "", s.case or s.slug or "", result, metrics, sha)
        con.print(table)

    @report.command("show")
    def show(bundle_id: str = typer.Argument(..., metavar="BUNDLE_ID", help="An id, 'latest' or a unique prefix."),
             reports_root: ReportsRootOption = None, workspace: WorkspaceOption = None) -> None:
        """One bundle: where it is, its status, headline metrics and git commit (exit 2: unknown or
        ambiguous id)."""
        from parity.evidence.provenance import relpath_from_root
        from parity.evidence.store import default_reports_root, headline_metrics, load_manifest
        from parity.evidence.summary import flatten_metrics, format_value
        from parity.evidence.workspace import require_dir

        with guarded(), in_workspace(workspace):
            require_dir(reports_root, "--reports-root")
            manifest = load_manifest(bundle_id, reports_root=reports_root)
            root = reports_root if reports_root is not None else default_reports_root()
            typer.echo(f"{manifest['id']}: {manifest.get('status')} ({manifest.get('kind')}),"
                       f" {relpath_from_root(root / manifest['id'] / 'summary.md')}")
        for key, value in flatten_metrics(headline_metrics(manifest)).items():
            typer.echo(f"  {key} = {format_value(value)}")
        git = (manifest.get("provenance") or {}).get("git") or {}
        typer.echo(f"  git {git.get('sha')}" + (" (dirty)" if git.get("dirty") else ""))

    app.add_typer(report, name="report")
