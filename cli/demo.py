"""`pwb demo`: the parity demo on shipped golden data (README's main job); writes a bundle."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.errors import guarded
from cli.exit_codes import Exit


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        no_bundle: bool = typer.Option(False, "--no-bundle", help="Do not write a report bundle."),
        slug: str = typer.Option("parity-demo", "--slug", help="Bundle slug."),
        reports_root: Optional[Path] = typer.Option(None, "--reports-root", help="Default: the repo's reports/."),
    ) -> None:
        """Run simcore on shipped golden C cases (float32 and float64), judge them with the threshold
        registry and write an evidence bundle under reports/."""
        from rich.console import Console
        from rich.table import Table

        from parity.matrix.demo import run_demo

        console = Console(width=max(Console().width, 110))
        table = Table(title="simcore vs the C program (golden images)")
        for col in ("case", "dtype", "corr", "sum_ratio", "max_rel_err", "s", "result"):
            table.add_column(col)

        def show(row):
            m = row.metrics
            console.print(f"  {row.case} ({row.dtype}): {'PASS' if row.passed else 'FAIL'}")
            table.add_row(row.case, row.dtype, f"{m['correlation']:.9f}", f"{m['sum_ratio']:.9f}",
                          f"{m['max_rel_err']:.2e}", f"{row.wall_s:.2f}",
                          "[green]PASS[/]" if row.passed else "[red]FAIL[/]")

        with guarded("pwb demo"):
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
