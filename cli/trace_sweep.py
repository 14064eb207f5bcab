"""`pwb trace-sweep`: simcore's TRACE_PY vs every C trace shipped with the golden runs."""
from __future__ import annotations

from typing import Optional

import typer

from cli.bundle_opts import (BundleFlag, ReportsRootOption, SlugOption, WorkspaceOption, bundle_request,
                             in_workspace, maybe_bundle)
from cli.errors import guarded
from cli.exit_codes import Exit


def register(app: typer.Typer) -> None:
    @app.command("trace-sweep")
    def trace_sweep(ctx: typer.Context,
                    k: Optional[str] = typer.Option(None, "-k", help="Only runs whose id matches this pattern."),
                    dtype: str = typer.Option("float64", "--dtype", help="float64 (exact) or float32."),
                    bundle: BundleFlag = False, slug: SlugOption = None,
                    reports_root: ReportsRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Trace every pixel the instrumented C traced (3 per golden case) and diff it against the C
        trace. Exit 0 when every pixel is clean, 1 otherwise."""
        from cli.tables import console as make_console
        from parity.matrix.cases import iter_runs
        from parity.matrix.trace_sweep import sweep

        console = make_console(piped_width=120)
        with guarded("pwb trace-sweep"), in_workspace(workspace):
            request = bundle_request(bundle, slug, reports_root, workspace)
            runs = [r for r in iter_runs(k) if r.golden_dir is not None]

            def show(row):
                if row.status != "clean":
                    first = row.first or {}
                    console.print(f"  {row.status}: {row.run_id} pixel {row.pixel[0]} {row.pixel[1]}: "
                                  f"{first.get('tap', '')} {(first.get('hint') or {}).get('text', '') if isinstance(first.get('hint'), dict) else first.get('hint', '')} {row.note}", markup=False)

            from cli.progress import counter_progress

            with counter_progress("pwb trace-sweep") as on_progress:
                report = sweep(runs, dtype=dtype, progress=show, on_progress=on_progress)
            counts = report.counts()
            with maybe_bundle(request, kind="trace-sweep", default_slug=f"trace-sweep-{dtype}", ctx=ctx,
                              dtype=dtype) as b:
                b.write_json("rows.json", [r.__dict__ for r in report.rows])
                b.add_metrics({f"{key}": value for key, value in counts.items()}, headline=True)
                b.set_status("passed" if counts["clean"] == counts["total"] else "failed")
        console.print(f"{counts['clean']}/{counts['total']} traced pixels clean ({dtype}); "
                      f"{counts['divergent']} divergent, {counts['error']} errors")
        raise typer.Exit(Exit.OK if counts["clean"] == counts["total"] else Exit.FAILED)
