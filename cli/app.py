"""The `pwb` Typer application: root app plus one module per command group.

Each module in COMMAND_MODULES exposes ``register(app)``. Modules import heavy libraries
(torch, matplotlib, scipy) inside the command functions so `pwb --help` stays fast.
Only commands that work are registered.
"""
from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="pwb",
    help="nanoBragg parity workbench: simulate, trace, diff and compare C vs PyTorch.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

# One entry per command group; each module has register(app).
COMMAND_MODULES: list[str] = [
    "cli.demo",
    "cli.sim",
    "cli.trace",
    "cli.trace_diff",
    "cli.trace_sweep",
    "cli.compare",
    "cli.port",
    "cli.matrix",
    "cli.bench",
    "cli.metrics",
    "cli.peaks",
    "cli.plateau",
    "cli.pick",
    "cli.fixplan",
    "cli.plan",
    "cli.report",
    "cli.fuzz",
    "cli.gradcheck",
    "cli.triage",
    "cli.shrink",
]


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()


def main() -> None:
    """Console entry point for `pwb`: one-line errors and documented codes, never a traceback."""
    from cli.errors import run_app

    run_app(app, prog="pwb")


if __name__ == "__main__":
    main()
