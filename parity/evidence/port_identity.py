"""Which program a port is: its command, the hash of its code, the repository it lives in, its version.

``port_identity(name, cmd, env)`` takes plain values (no dependency on ``parity.ports``) and returns a
JSON-ready record:

- ``executable``: ``cmd[0]`` resolved on PATH, with its sha256;
- ``script``: for ``python path/to/script.py`` the script, for ``python -m pkg`` the module file
  (``pkg/__main__.py`` for a package, found by the port's own interpreter and environment), with its
  sha256; a package also gets ``package_sha256`` over all its ``.py`` files;
- ``code_git``: the git commit (and dirty flag) of the repository the code lives in, when it lives in
  one and is not git-ignored there (a virtual environment inside a checkout is not "in" it);
- ``version``: the first line the program prints for ``--version`` when it answers quickly (exit 0
  within ``version_timeout_s``, stdin closed, run in a throw-away directory in its own process
  group, killed on timeout). Never asked of the C (nanoBragg has no ``--version`` and would start
  simulating), nor of the workbench's own modules (their version is the workbench's).

Probing a port can take seconds (an interpreter importing torch), so `prefetch` starts it in a
background thread while the comparison runs; `port_identity` then picks the finished record up.
"""
from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from parity.evidence import provenance
from parity.evidence.procs import run_bounded as _run

__all__ = ["port_identity", "prefetch", "NO_VERSION_PORTS"]

NO_VERSION_PORTS = frozenset({"c", "c-trace"})   # the C program: no --version, and it would simulate
_WORKBENCH_SITE = Path(__file__).resolve().parents[2]
_WORKBENCH_PACKAGES = ("simcore", "tracekit", "parity", "cli")
_PYTHON_RE = re.compile(r"^python(\d+(\.\d+)*)?$")
_PY_VALUE_OPTIONS = {"-X", "-W", "-Q"}
_PROBE = ("import importlib.util, sys\n"
          "s = importlib.util.find_spec(sys.argv[1])\n"
          "print((s.origin or '') if s else '')\n"
          "print(list(s.submodule_search_locations)[0] if s and s.submodule_search_locations else '')\n")
_EXECUTOR: concurrent.futures.ThreadPoolExecutor | None = None
_PENDING: dict[tuple, concurrent.futures.Future] = {}


def _environ(env: Mapping[str, str] | None) -> dict[str, str]:
    return {**os.environ, **{str(k): str(v) for k, v in (env or {}).items()}}


def _which(program: str, env: dict[str, str]) -> Path | None:
    if "/" in program:
        p = Path(program)
        return p if p.exists() else None
    found = shutil.which(program, path=env.get("PATH"))
    return Path(found) if found else None


def _record(path: Path, root: Path) -> dict:
    return {"path": provenance.relpath_from_root(path, root=root), "sha256": provenance.sha256_file(path),
            "size_bytes": path.stat().st_size}


def _python_target(args: Sequence[str]) -> tuple[str, str] | None:
    """``("module", name)``, ``("script", path)``, ``("inline", "")`` or None from a python argv tail."""
    it = iter(args)
    for token in it:
        if token == "-m":
            return ("module", next(it, ""))
        if token == "-c":
            return ("inline", "")
        if token in _PY_VALUE_OPTIONS:
            next(it, None)
        elif token.startswith("-") and token != "-":
            continue
        else:
            return ("script", token)
    return None


def _find_module(interpreter: Path, module: str, env: dict[str, str], timeout_s: float) -> tuple[Path | None, Path | None]:
    """(file to hash, package directory or None) for ``python -m module``, as that interpreter sees it."""
    code, out, _ = _run([str(interpreter), "-c", _PROBE, module], env=env, cwd=os.getcwd(), timeout_s=timeout_s)
    if code != 0:
        return None, None
    lines = (out.splitlines() + ["", ""])[:2]
    origin = Path(lines[0]) if lines[0] not in ("", "built-in", "frozen") else None
    package = Path(lines[1]) if lines[1] else None
    if package is not None and (package / "__main__.py").is_file():
        return package / "__main__.py", package
    return (origin if origin is not None and origin.is_file() else None), package


def _package_sha256(package: Path) -> tuple[str, int]:
    import hashlib

    digest, n = hashlib.sha256(), 0
    for path in sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts):
        digest.update(f"{path.relative_to(package).as_posix()}\0{provenance.sha256_file(path)}\n".encode())
        n += 1
    return digest.hexdigest(), n


def _code_git(path: Path, root: Path) -> dict | None:
    """The repository ``path`` is tracked (or at least not ignored) in, with its commit; None outside one."""
    directory = path.parent if path.is_file() else path
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=directory, capture_output=True,
                             text=True, timeout=30, check=False)
        if top.returncode != 0 or not top.stdout.strip():
            return None
        repo = Path(top.stdout.strip())
        ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=repo, capture_output=True,
                                 timeout=30, check=False).returncode == 0
        if ignored:
            return None
        tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(path)], cwd=repo, capture_output=True,
                                 timeout=30, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return None
    state = provenance.git_state(root=repo)
    return {"repo": provenance.relpath_from_root(repo, root=root), "sha": state["sha"], "dirty": state["dirty"],
            "tracked": tracked}


def _is_workbench_code(path: Path | None) -> bool:
    if path is None:
        return False
    resolved = path.resolve()
    return any(resolved.is_relative_to(_WORKBENCH_SITE / pkg) for pkg in _WORKBENCH_PACKAGES)


def _version(cmd: Sequence[str], env: dict[str, str], timeout_s: float) -> tuple[str | None, str]:
    with tempfile.TemporaryDirectory(prefix="pwb-version-") as scratch:
        code, out, err = _run([*cmd, "--version"], env=env, cwd=scratch, timeout_s=timeout_s)
    if code is None:
        return None, f"no answer within {timeout_s:g} s (killed)"
    first = next((line.strip() for line in (out + "\n" + err).splitlines() if line.strip()), "")[:200]
    if code == 0 and first:
        return first, "ok"
    return None, f"exit {code}" + (f": {first}" if first else "")


def _identity(name: str, cmd: tuple[str, ...], env: Mapping[str, str] | None, ask_version: bool | None,
              timeout_s: float, root: Path) -> dict:
    full_env = _environ(env)
    scrub = lambda text: provenance.scrub_paths(str(text), root=root)  # noqa: E731
    ident: dict = {"name": name, "command": provenance.sanitize_argv(cmd, root=root),
                   "env": {str(k): scrub(v) for k, v in (env or {}).items()},
                   "executable": None, "script": None, "code_git": None, "workbench_code": False,
                   "version": None, "version_probe": None}
    exe = _which(cmd[0], full_env) if cmd else None
    if exe is None or not exe.is_file():
        ident["problem"] = f"executable {cmd[0] if cmd else '(empty command)'!r} not found"
        return ident
    ident["executable"] = _record(exe, root)
    code_file = exe
    is_python = _PYTHON_RE.match(exe.name) is not None or exe.resolve() == Path(sys.executable).resolve()
    target = _python_target(cmd[1:]) if is_python else None
    if target is not None and target[0] == "script":
        script = Path(target[1])
        if script.is_file():
            ident["script"] = {"kind": "script", **_record(script, root)}
            code_file = script
    elif target is not None and target[0] == "module" and target[1]:
        found, package = _find_module(exe, target[1], full_env, timeout_s)
        ident["script"] = {"kind": "module", "module": target[1], "path": None, "sha256": None}
        if found is not None:
            ident["script"].update(_record(found, root))
            code_file = found
        if package is not None and package.is_dir():
            ident["script"]["package_sha256"], ident["script"]["package_files"] = _package_sha256(package)
    ident["code_git"] = _code_git(code_file, root)
    ident["workbench_code"] = code_file is not exe and _is_workbench_code(code_file)
    if ask_version is False or (ask_version is None and name in NO_VERSION_PORTS):
        ident["version_probe"] = "not asked (the C program has no --version)" if name in NO_VERSION_PORTS \
            else "not asked"
    elif ask_version is None and ident["workbench_code"]:
        ident["version_probe"] = "not asked (workbench code: see provenance.workbench.version)"
    else:
        ident["version"], ident["version_probe"] = _version(cmd, full_env, timeout_s)
    return ident


def _key(name, cmd, env, ask_version, timeout_s, root) -> tuple:
    return (name, tuple(str(c) for c in cmd), tuple(sorted((env or {}).items())), ask_version, timeout_s, str(root))


def prefetch(name: str, cmd: Sequence[str], env: Mapping[str, str] | None = None, *,
             ask_version: bool | None = None, version_timeout_s: float = 5.0, root: Path | None = None) -> None:
    """Start computing `port_identity` with the same arguments in the background (a later call collects it)."""
    global _EXECUTOR
    base = (root or provenance.default_root()).resolve()
    key = _key(name, cmd, env, ask_version, version_timeout_s, base)
    if key in _PENDING:
        return
    if _EXECUTOR is None:
        _EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="pwb-port-id")
    _PENDING[key] = _EXECUTOR.submit(_identity, name, tuple(str(c) for c in cmd), dict(env or {}), ask_version,
                                     version_timeout_s, base)


def port_identity(name: str, cmd: Sequence[str], env: Mapping[str, str] | None = None, *,
                  ask_version: bool | None = None, version_timeout_s: float = 5.0, root: Path | None = None) -> dict:
    """The identity record of one port (see the module docstring). ``ask_version=None`` asks ``--version``
    except of the C and of the workbench's own modules; paths are relative to ``root`` (the workspace)."""
    base = (root or provenance.default_root()).resolve()
    future = _PENDING.pop(_key(name, cmd, env, ask_version, version_timeout_s, base), None)
    if future is not None:
        return future.result()
    return _identity(name, tuple(str(c) for c in cmd), dict(env or {}), ask_version, version_timeout_s, base)
