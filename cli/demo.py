"""`pwb demo`: the parity demo on shipped golden data (README's main job); writes a bundle."""
from __future__ import annotations

import typer

from cli.bundle_opts import ReportsRootOption, WorkspaceOption, in_workspace
from cli.errors import guarded
from cli.exit_codes import Exit


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        no_bundle: bool = typer.Option(False, "--no-bundle", help="Do not write a report bundle."),
        slug: str = typer.Option("parity-demo", "--slug", help="Bundle slug."),
        reports_root: ReportsRootOption = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Run simcore on golden C cases shipped with the workbench checkout (float32 and float64), judge
        them with the threshold registry and write an evidence bundle under <workspace>/reports/.
        Exit 0 all pass, 1 one fails, 5 the golden data is absent (an installed wheel has none)."""
        from rich.table import Table

        from cli.tables import console as make_console, narrow
        from parity.matrix.demo import golden_root, run_demo

        console = make_console(piped_width=110)
        short = narrow(console)     # 80 columns: no wall time
        table = Table(title="simcore vs the C program (golden images)")
        for col in ("case", "dtype", "corr", "sum_ratio", "max_rel_err") + (() if short else ("s",)) + ("result",):
            table.add_column(col, overflow="fold")

        def show(row):
            m = row.metrics
            console.print(f"  {row.case} ({row.dtype}): {'PASS' if row.passed else 'FAIL'}")
            table.add_row(row.case, row.dtype, f"{m['correlation']:.9f}", f"{m['sum_ratio']:.9f}",
                          f"{m['max_rel_err']:.2e}", *(() if short else (f"{row.wall_s:.2f}",)),
                          "[green]PASS[/]" if row.passed else "[red]FAIL[/]")

        with guarded("pwb demo"), in_workspace(workspace):
            golden_root()  # before any bundle is opened: one line and exit 5 without the shipped data
            if no_bundle:
                rows = run_demo(progress=show)
                path = None
            else:
                from parity.evidence.bundle import open_bundle

                with open_bundle(kind="demo", slug=slug, argv=["pwb", "demo"], reports_root=reports_root) as b:
                    rows = run_demo(bundle=b, progress=show)
                    b.set_status("passed" if all(r.passed for r in rows) else "failed")
                path = b.path
        console.print(table)
        n_pass = sum(r.passed for r in rows)
        console.print(f"{n_pass}/{len(rows)} passed")
        if path is not None:
            console.print(f"bundle: {path}")
        raise typer.Exit(Exit.OK if n_pass == len(rows) else Exit.FAILED)
