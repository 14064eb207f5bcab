"""`pwb sim -- ARGS`: the nanoBragg command line run by simcore (same as `python -m simcore ARGS`)."""
from __future__ import annotations

import sys

import typer

from cli.bundle_opts import (BundleFlag, ReportsRootOption, SlugOption, WorkspaceOption, bundle_request,
                             in_workspace, maybe_bundle)


def register(app: typer.Typer) -> None:
    @app.command("sim", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def sim(ctx: typer.Context, bundle: BundleFlag = False, slug: SlugOption = None,
            reports_root: ReportsRootOption = None, workspace: WorkspaceOption = None) -> None:
        """Simulate with the C program's flags (put them after `--`); writes the C's default files
        unless told otherwise. Progress: a bar on a terminal, the C's `NN% done` lines when piped
        (-noprogress: none). --bundle (before `--`) records stdout, the float image and the effective
        configuration. Exit codes: 0 ok, 2 usage, 5 bad input file, 6 unwritable output."""
        from cli.errors import guarded
        from cli.progress import counter_progress
        from parity.ports.inprocess import run_simcore_cli

        args = list(ctx.args)
        with guarded("pwb sim"), in_workspace(workspace):
            request = bundle_request(bundle, slug, reports_root, workspace)
            with maybe_bundle(request, kind="sim", default_slug="sim", ctx=ctx, config={"args": args}) as b:
                record = b if b.enabled else None
                if not _bar_wanted(args):
                    code = run_simcore_cli(args, bundle=record)
                else:
                    with counter_progress("pwb sim") as on_progress:
                        code = run_simcore_cli(args, on_progress=on_progress, bundle=record)
        raise typer.Exit(code)


def _bar_wanted(args: list[str]) -> bool:
    """A bar instead of the ``NN% done`` lines: both streams on a terminal and the meter not turned off."""
    from cli.progress import is_terminal

    return is_terminal() and sys.stdout.isatty() and not {"-noprogress", "-printout", "-h", "--help"} & set(args)
