"""`pwb sim -- ARGS`: the nanoBragg command line run by simcore (same as `python -m simcore ARGS`)."""
from __future__ import annotations

import sys

import typer


def register(app: typer.Typer) -> None:
    @app.command("sim", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def sim(ctx: typer.Context) -> None:
        """Simulate with the C program's flags (put them after `--`); writes the C's default files
        unless told otherwise. Progress: a bar on a terminal, the C's `NN% done` lines when piped
        (-noprogress: none). Exit codes: 0 ok, 2 usage, 5 bad input file, 6 unwritable output."""
        from cli.progress import counter_progress
        from parity.ports.inprocess import run_simcore_cli

        args = list(ctx.args)
        if not _bar_wanted(args):
            raise typer.Exit(run_simcore_cli(args))
        with counter_progress("pwb sim") as on_progress:
            code = run_simcore_cli(args, on_progress=on_progress)
        raise typer.Exit(code)


def _bar_wanted(args: list[str]) -> bool:
    """A bar instead of the ``NN% done`` lines: both streams on a terminal and the meter not turned off."""
    from cli.progress import is_terminal

    return is_terminal() and sys.stdout.isatty() and not {"-noprogress", "-printout", "-h", "--help"} & set(args)
