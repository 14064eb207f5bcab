"""``pwb port add|list|show|check``: port profiles in ``<workspace>/.pwb/ports/NAME.yaml``.

    pwb port add NAME --cmd "python -m theirport --fast" [--env K=V ...] [--dtype float32]
                      [--trace-args "-trace_pixel {slow} {fast}"] [--dialect FILE] [--replace]
    pwb port list | show NAME | check NAME [--json FILE]

Exit codes: 0 ok · 1 ``check`` found something that does not work · 2 usage (bad name, bad
``--env``, unknown port, a profile that exists already) · 5 the command is not found, a
``--dialect`` file is missing, a profile is unreadable. The work is in parity.ports.profile and
parity.ports.check; this module parses and renders. Every command takes ``--workspace DIR``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cli.errors import guarded

from cli.bundle_opts import WorkspaceOption as WorkspaceDir


def _ws(workspace: Optional[Path]):
    from parity.evidence.workspace import resolve_workspace

    return resolve_workspace(workspace)


def _lines(port) -> list[str]:
    rows = [("name", port.name), ("kind", port.kind), ("command", port.describe()), ("source", port.source),
            ("dtype", port.dtype or "unknown"), ("trace_args", port.trace_args or "none (cannot trace)"),
            ("dialect", str(port.dialect) if port.dialect else "none (catalogue names)")]
    return [f"{k:<11} {v}" for k, v in rows]


def register(app: typer.Typer) -> None:
    port = typer.Typer(help="Port profiles: how to run (and trace) a port of nanoBragg.", no_args_is_help=True)

    @port.command("add")
    def add(name: Annotated[str, typer.Argument(metavar="NAME")],
            cmd: Annotated[str, typer.Option("--cmd", metavar="CMD", help="The whole command line (shell-split);"
                                             " the nanoBragg ARGS are appended.")],
            env: Annotated[Optional[List[str]], typer.Option("--env", metavar="K=V", help="Extra environment"
                                                             " (repeatable).")] = None,
            dtype: Annotated[Optional[str], typer.Option("--dtype", help="What it computes in: float32|float64.")] = None,
            trace_args: Annotated[Optional[str], typer.Option("--trace-args", metavar="TEMPLATE", help="Arguments"
                                  " that make it trace one pixel, with {slow} and {fast}.")] = None,
            dialect: Annotated[Optional[Path], typer.Option("--dialect", metavar="FILE",
                                                            help="tracekit dialect YAML of its traces.")] = None,
            replace: Annotated[bool, typer.Option("--replace", help="Replace an existing profile.")] = False,
            workspace: WorkspaceDir = None) -> None:
        """Save a port profile (the command must exist)."""
        from parity.ports.process import preflight, runner_for
        from parity.ports.profile import port_from_cmd, save_profile, validate_name

        with guarded("pwb port add"):
            ws = _ws(workspace)
            p = port_from_cmd(cmd, name=validate_name(name), env=env or [], dtype=dtype, trace_args=trace_args,
                              dialect=dialect.resolve() if dialect else None, source="--cmd")
            preflight(runner_for(p))
            path = save_profile(p, workspace=ws, replace=replace)
        typer.echo(f"port {name}: saved {path}")

    @port.command("list")
    def list_(workspace: WorkspaceDir = None) -> None:
        """Built-in ports and the workspace's profiles."""
        from parity.ports.profile import list_profiles, resolve_port

        with guarded("pwb port list"):
            ws = _ws(workspace)
            rows = [("c", "built in: the C (--c-bin / NB_C_BIN / ./nanoBragg)"),
                    ("c-trace", "built in: the instrumented C (NB_C_TRACE_BIN, else c)"),
                    ("simcore", "built in: python -m simcore")]
            for name in list_profiles(workspace=ws):
                rows.append((name, resolve_port(name, workspace=ws).describe()))
        for name, what in rows:
            typer.echo(f"{name:<16} {what}")

    @port.command("show")
    def show(name: Annotated[str, typer.Argument(metavar="NAME")], workspace: WorkspaceDir = None) -> None:
        """A port as it will run: command, environment, dtype, trace arguments, dialect."""
        from parity.ports.profile import resolve_port

        with guarded("pwb port show"):
            p = resolve_port(name, workspace=_ws(workspace))
        for line in _lines(p):
            typer.echo(line)

    @port.command("check")
    def check(name: Annotated[str, typer.Argument(metavar="NAME")],
              timeout: Annotated[float, typer.Option("--timeout", metavar="S", help="Per run.")] = 300.0,
              json_out: Annotated[Optional[Path], typer.Option("--json", metavar="FILE")] = None,
              workspace: WorkspaceDir = None) -> None:
        """Run the port on a tiny case (16² detector) and say what works: image, trace, closure."""
        from parity.ports.check import check_port
        from parity.ports.profile import resolve_port

        with guarded("pwb port check"):
            result = check_port(resolve_port(name, workspace=_ws(workspace)), timeout_s=timeout)
            if json_out is not None:
                from parity.evidence.atomic import atomic_write_text

                atomic_write_text(json_out, json.dumps(result.to_dict(), indent=1) + "\n", overwrite=False)
        typer.echo(f"port {name}: {result.port.describe()}")
        for item in result.items:
            typer.echo(f"  {item.name:<8} {item.word:<5} {item.detail}")
        works = [i.name for i in result.items if i.ok]
        typer.echo(f"port {name}: {'works' if result.exit_code == 0 else 'FAILS'}"
                   f" ({', '.join(works) or 'nothing'} ok)")
        raise typer.Exit(result.exit_code)

    app.add_typer(port, name="port")
