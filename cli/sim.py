"""`pwb sim -- ARGS`: the nanoBragg command line run by simcore (same as `python -m simcore ARGS`)."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("sim", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def sim(ctx: typer.Context) -> None:
        """Simulate with the C program's flags (put them after `--`); writes the C's default files
        unless told otherwise. Exit codes: 0 ok, 2 usage, 5 bad input file, 6 unwritable output."""
        from parity.ports.inprocess import run_simcore_cli

        raise typer.Exit(run_simcore_cli(list(ctx.args)))
