"""Ports as data: the C, simcore and any other nanoBragg port, each a command line plus an environment.

A :class:`Port` is what it takes to run one implementation: an argv prefix (the nanoBragg ARGS are
appended), extra environment variables, the dtype it computes in when known, how to make it trace
one pixel (``trace_args``, formatted with ``{slow}``/``{fast}``; its trace is its stdout and stderr)
and the tracekit dialect of that trace. Two ports are built in:

========== =========================================================================================
``c``       the C program: ``--c-bin``, else ``$NB_C_BIN``, else ``./nanoBragg``; cannot trace
``c-trace`` the instrumented C (``$NB_C_TRACE_BIN``; falls back to ``c``): ``-trace_pixel S F``
``simcore`` ``<this interpreter> -m simcore``: float32 unless ``-dtype``, ``-trace_pixel S F``
========== =========================================================================================

Any other port is a *profile*, ``<workspace>/.pwb/ports/NAME.yaml`` (``pwb port add``), or an
ad-hoc command line (:func:`port_from_cmd`, shell-split; name ``cmd``). Ports run in a fresh
temporary directory, so relative paths in a command are made absolute when the port is resolved:
the first token (an executable path, or a name looked up on ``PATH``) and any later token that names
an existing file and looks like a path (has a ``/`` or ends in ``.py``/``.sh``), except after
``-m``/``-c`` — against the cwd for ad-hoc commands, against the workspace root for profiles.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from parity.errors import ParityInputError, ParityUsageError

__all__ = ["Port", "resolve_port", "port_from_cmd", "parse_env", "save_profile", "load_profile",
           "list_profiles", "profile_path", "validate_name", "BUILTIN_NAMES", "C_BIN_ENV", "C_TRACE_BIN_ENV",
           "DEFAULT_C_BIN", "TRACE_PIXEL_ARGS"]

C_BIN_ENV = "NB_C_BIN"
C_TRACE_BIN_ENV = "NB_C_TRACE_BIN"
DEFAULT_C_BIN = "./nanoBragg"
TRACE_PIXEL_ARGS = "-trace_pixel {slow} {fast}"
BUILTIN_NAMES = ("c", "c-trace", "simcore", "cmd")
DTYPES = ("float32", "float64")
PROFILE_SCHEMA = "pwb.port/1"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATHLIKE_SUFFIXES = (".py", ".sh")


@dataclass(frozen=True)
class Port:
    """One implementation of nanoBragg, run as ``[*cmd, *ARGS]`` with ``env`` added to the environment."""

    name: str                     # "c", "simcore", a profile name, or "cmd" for an ad-hoc --*-cmd
    kind: str                     # "c" | "simcore" | "command"
    cmd: tuple[str, ...]          # argv prefix; the nanoBragg ARGS are appended
    env: Mapping[str, str] = field(default_factory=dict)   # extra environment
    dtype: str | None = None      # what the port computes in ("float32"/"float64"), None = unknown
    trace_args: str | None = None # e.g. "-trace_pixel {slow} {fast}"; None = cannot trace
    dialect: Path | None = None   # tracekit dialect YAML for its traces (None = catalogue names)
    source: str = ""              # how it was chosen ("--c-bin", "NB_C_BIN", "profile <path>", "--py-cmd"...)

    def describe(self) -> str:
        """The command line as a user would type it (environment first)."""
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        return (env + " " if env else "") + shlex.join(self.cmd)

    def trace_argv(self, slow: int, fast: int) -> list[str]:
        """``trace_args`` formatted for one pixel and shell-split (ParityUsageError when it cannot trace)."""
        if not self.trace_args:
            raise ParityUsageError(f"port {self.name} cannot trace: it has no trace_args"
                                   " (pwb port add NAME ... --trace-args \"-trace_pixel {slow} {fast}\")")
        try:
            return shlex.split(self.trace_args.format(slow=int(slow), fast=int(fast)))
        except (KeyError, IndexError, ValueError) as exc:
            raise ParityUsageError(f"port {self.name}: trace_args {self.trace_args!r} does not format"
                                   f" with {{slow}} and {{fast}} ({exc})") from None


# ---------------------------------------------------------------------------- parsing helpers
def validate_name(name: str) -> str:
    """A profile name: letters, digits, ``_ . -``, at most 64, not a built-in name."""
    if not _NAME.match(str(name or "")):
        raise ParityUsageError(f"port name {name!r}: use letters, digits, '_', '.', '-' (at most 64)")
    if name in BUILTIN_NAMES:
        raise ParityUsageError(f"port name {name!r} is built in ({', '.join(BUILTIN_NAMES)}); choose another")
    return name


def parse_env(pairs: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """``["K=V", ...]`` (or a mapping) → ``{"K": "V"}``; ParityUsageError naming the bad item."""
    if pairs is None:
        return {}
    items = pairs.items() if isinstance(pairs, Mapping) else [_split_env(p) for p in pairs]
    out = {}
    for key, value in items:
        if not _ENV_KEY.match(str(key)):
            raise ParityUsageError(f"--env {key}={value}: {key!r} is not a variable name")
        out[str(key)] = str(value)
    return out


def _split_env(pair: str) -> tuple[str, str]:
    key, eq, value = str(pair).partition("=")
    if not eq or not key:
        raise ParityUsageError(f"--env {pair!r}: expected KEY=VALUE")
    return key, value


def _check_dtype(dtype: str | None) -> str | None:
    if dtype is not None and dtype not in DTYPES:
        raise ParityUsageError(f"--dtype must be float32 or float64, got {dtype!r}")
    return dtype


def split_cmd(cmd: str | Iterable[str], *, what: str = "--cmd") -> tuple[str, ...]:
    """A command line shell-split (a sequence is taken as already split); empty is a usage error."""
    if isinstance(cmd, str):
        try:
            tokens = shlex.split(cmd)
        except ValueError as exc:
            raise ParityUsageError(f"{what} {cmd!r}: {exc}") from None
    else:
        tokens = [str(t) for t in cmd]
    if not tokens:
        raise ParityUsageError(f"{what}: empty command")
    return tuple(tokens)


def _absolutize(cmd: tuple[str, ...], base: Path) -> tuple[str, ...]:
    """Relative paths in ``cmd`` made absolute against ``base`` (see the module docstring)."""
    first = cmd[0]
    if "/" in first or first.startswith("."):
        path = Path(first).expanduser()
        first = str(path if path.is_absolute() else (base / path))
    out = [first]
    for prev, token in zip(cmd, cmd[1:]):
        looks = ("/" in token or token.endswith(_PATHLIKE_SUFFIXES)) and not token.startswith("-")
        path = Path(token).expanduser()
        if looks and prev not in ("-m", "-c") and not path.is_absolute() and (base / path).is_file():
            token = str(base / path)
        out.append(token)
    return tuple(out)


# ---------------------------------------------------------------------------- constructors
def port_from_cmd(cmd: str | Iterable[str], *, name: str = "cmd", env: Iterable[str] | Mapping | None = None,
                  dtype: str | None = None, trace_args: str | None = None, dialect: str | os.PathLike | None = None,
                  base: str | os.PathLike | None = None, source: str = "--cmd") -> Port:
    """An ad-hoc port from a whole command line (shell-split), relative paths against ``base`` (cwd)."""
    tokens = _absolutize(split_cmd(cmd, what=source), Path(base) if base is not None else Path.cwd())
    return Port(name=name, kind="command", cmd=tokens, env=parse_env(env), dtype=_check_dtype(dtype),
                trace_args=trace_args or None, dialect=Path(dialect) if dialect else None, source=source)


def c_port(c_bin: str | os.PathLike | None = None, *, trace: bool = False) -> Port:
    """The C program by the contract's order (flag, ``NB_C_BIN``, ``./nanoBragg``); ``trace`` prefers
    ``NB_C_TRACE_BIN`` (the instrumented build, which can trace)."""
    if trace and os.environ.get(C_TRACE_BIN_ENV):
        path, source = Path(os.environ[C_TRACE_BIN_ENV]), C_TRACE_BIN_ENV
    elif c_bin:
        path, source = Path(c_bin), "--c-bin"
    elif os.environ.get(C_BIN_ENV):
        path, source = Path(os.environ[C_BIN_ENV]), C_BIN_ENV
    else:
        path, source = Path(DEFAULT_C_BIN), "default ./nanoBragg"
    path = path if path.is_absolute() else Path.cwd() / path
    return Port(name="c-trace" if trace else "c", kind="c", cmd=(str(path),), dtype="float64",
                trace_args=TRACE_PIXEL_ARGS if trace and source == C_TRACE_BIN_ENV else None, source=source)


def simcore_port() -> Port:
    """simcore as a subprocess of this interpreter (float32 unless ``-dtype`` is given)."""
    return Port(name="simcore", kind="simcore", cmd=(sys.executable, "-m", "simcore"), dtype="float32",
                trace_args=TRACE_PIXEL_ARGS, source="default python -m simcore")


def resolve_port(spec: str, *, workspace=None, c_bin: str | os.PathLike | None = None) -> Port:
    """``"c"``, ``"c-trace"``, ``"simcore"`` or a profile name saved in ``<ws>/.pwb/ports/<NAME>.yaml``.

    ``workspace`` is a :class:`parity.evidence.workspace.Workspace`, a directory, or None (resolved
    the usual way). An unknown name is ParityUsageError; an unreadable profile ParityInputError.
    """
    spec = str(spec or "").strip()
    if spec == "c":
        return c_port(c_bin)
    if spec == "c-trace":
        return c_port(c_bin, trace=True)
    if spec == "simcore":
        return simcore_port()
    if spec == "cmd":
        raise ParityUsageError("'cmd' is the name of an ad-hoc command: give it with --ref-cmd/--cand-cmd")
    return load_profile(validate_name(spec), workspace=workspace)


# ---------------------------------------------------------------------------- profiles on disk
def _workspace(workspace):
    from parity.evidence.workspace import Workspace, resolve_workspace

    return workspace if isinstance(workspace, Workspace) else resolve_workspace(workspace)


def profile_path(name: str, *, workspace=None) -> Path:
    return _workspace(workspace).ports / f"{validate_name(name)}.yaml"


def _profile_dict(port: Port, root: Path) -> dict:
    dialect = None
    if port.dialect is not None:
        d = Path(port.dialect).resolve()
        dialect = str(d.relative_to(root)) if d.is_relative_to(root) else str(d)
    return {"schema": PROFILE_SCHEMA, "name": port.name, "cmd": [_inside(t, root) for t in port.cmd],
            "env": dict(port.env),
            "dtype": port.dtype, "trace_args": port.trace_args, "dialect": dialect}


def _inside(token: str, root: Path) -> str:
    """An absolute path inside the workspace stored relative to it (the profile moves with the workspace)."""
    if not os.path.isabs(token):
        return token
    path = Path(token)
    if not (path.is_relative_to(root) and path.exists()):
        return token
    rel = str(path.relative_to(root))
    return rel if "/" in rel else f"./{rel}"     # still a path, not a name to look up on PATH


def save_profile(port: Port, *, workspace=None, replace: bool = False) -> Path:
    """Write ``port`` as ``<ws>/.pwb/ports/NAME.yaml`` atomically; an existing profile is kept unless
    ``replace`` (ParityUsageError). A dialect file must exist (ParityInputError)."""
    import yaml

    from parity.evidence.atomic import atomic_write_text

    ws = _workspace(workspace)
    path = ws.ports / f"{validate_name(port.name)}.yaml"
    if path.exists() and not replace:
        raise ParityUsageError(f"port {port.name} exists already ({path}); pwb port add --replace to change it")
    if port.dialect is not None and not Path(port.dialect).is_file():
        raise ParityInputError(f"--dialect {port.dialect}: no such file")
    _check_dtype(port.dtype)
    if port.trace_args:
        port.trace_argv(0, 0)      # refuse a template that does not format
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(_profile_dict(port, ws.root), sort_keys=False)
    atomic_write_text(path, text, overwrite=replace)
    return path


def load_profile(name: str, *, workspace=None) -> Port:
    """The profile ``name`` of the workspace as a Port (relative paths against the workspace root)."""
    import yaml

    ws = _workspace(workspace)
    path = ws.ports / f"{validate_name(name)}.yaml"
    if not path.is_file():
        known = ", ".join(list_profiles(workspace=ws)) or "none"
        raise ParityUsageError(f"no port {name!r}: not built in (c, c-trace, simcore) and no profile {path}"
                               f" (profiles: {known}; pwb port add {name} --cmd \"...\")")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ParityInputError(f"port profile {path}: unreadable ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict) or not raw.get("cmd"):
        raise ParityInputError(f"port profile {path}: needs a 'cmd'")
    try:
        dialect = raw.get("dialect")
        dialect = None if not dialect else (Path(dialect) if Path(dialect).is_absolute() else ws.root / dialect)
        port = port_from_cmd(raw["cmd"], name=name, env=raw.get("env") or {}, dtype=raw.get("dtype"),
                             trace_args=raw.get("trace_args"), dialect=dialect, base=ws.root,
                             source=f"profile {path.name}")
    except ParityUsageError as exc:
        raise ParityInputError(f"port profile {path}: {exc}") from None
    return port


def list_profiles(*, workspace=None) -> list[str]:
    """Names of the workspace's saved profiles, sorted."""
    folder = _workspace(workspace).ports
    return sorted(p.stem for p in folder.glob("*.yaml") if _NAME.match(p.stem)) if folder.is_dir() else []


def with_source(port: Port, source: str) -> Port:
    return dataclasses.replace(port, source=source)
