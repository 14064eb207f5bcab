"""Where the compiled noise pass comes from: an ahead-of-time build in the user's cache, else numba's JIT.

Why two ways: numba compiles :mod:`simcore.noise.kernel` to the C's speed, but importing numba and
loading even a cached JIT function costs 0.4–0.8 s per process, more than the whole noise pass. So
the first run on a machine builds the same kernel once ahead of time (``numba.pycc``, in a child
process so its compiler chatter never reaches our stdout) into a small extension module that later
runs import in under a millisecond, without numba. Where that cannot be built (no C compiler, no
Python headers, a numba without ``pycc``) the JIT is used, with numba's on-disk cache.

Everything compiled goes under :func:`cache_dir` (``$SIMCORE_CACHE_DIR``, else
``$XDG_CACHE_HOME/simcore``, else ``~/.cache/simcore``; a private temp folder if none is writable),
never into the installed package. ``NUMBA_CACHE_DIR`` defaults to ``<cache_dir>/numba``.
``SIMCORE_NOISE_BACKEND`` = ``auto`` (default) | ``aot`` | ``jit`` picks the way (tests use it).
The AOT module's name carries a hash of the kernel source, Python, numpy and the machine, so a
changed kernel is rebuilt, never stale.
"""
from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

__all__ = ["BACKENDS", "cache_dir", "aot_path", "poisson_pass", "backend_used"]

BACKENDS = ("auto", "aot", "jit")
_KERNEL_SRC = Path(__file__).with_name("kernel.py")
_LOADED: dict[str, object] = {}
_BUILD_TIMEOUT_S = 600


def cache_dir() -> Path:
    """The folder for compiled code (created if missing): see the module notes for the order."""
    env = os.environ.get("SIMCORE_CACHE_DIR")
    if env:
        root = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "simcore"
    try:
        root.mkdir(parents=True, exist_ok=True)
        if os.access(root, os.W_OK):
            return root
    except OSError:
        pass
    import tempfile

    tmp = Path(tempfile.gettempdir()) / f"simcore-cache-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    tmp.mkdir(mode=0o700, parents=True, exist_ok=True)
    return tmp


def _key() -> str:
    import numpy as np

    h = hashlib.sha256(_KERNEL_SRC.read_bytes())
    machine = os.uname().machine if hasattr(os, "uname") else sys.platform
    h.update(f"|{sys.implementation.cache_tag}|{np.__version__}|{machine}|".encode())
    return h.hexdigest()[:16]


def aot_path(root: Path | None = None) -> Path:
    """The AOT extension module for the current kernel source (it may not exist yet)."""
    name = f"simcore_noise_{_key()}"
    return (root or cache_dir()) / "aot" / (name + importlib.machinery.EXTENSION_SUFFIXES[0])


def _import_extension(path: Path):
    name = path.name.split(".")[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.poisson_pass


def _build_aot(path: Path) -> str | None:
    """Build the AOT module at ``path`` in a child process; None on success, else why not."""
    import subprocess

    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"simcore: compiling the noise kernel once, into {path.parent} (about 10 s)", file=sys.stderr,
          flush=True)
    package_parent = str(Path(__file__).resolve().parents[2])      # where `simcore` is importable from
    env = dict(os.environ, NUMBA_DISABLE_INTEL_SVML="1",
               PYTHONPATH=os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH")) if p))
    env.setdefault("NUMBA_CACHE_DIR", str(path.parent.parent / "numba"))
    try:
        proc = subprocess.run([sys.executable, "-m", "simcore.noise.native", str(path)], env=env,
                              cwd=path.parent, capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if proc.returncode != 0 or not path.is_file():
        return (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    return None


def _load_aot():
    """The AOT kernel, built first if missing. A failed build leaves ``<name>.failed`` (its reason)
    beside it so later runs go straight to the JIT; delete that file to try again."""
    path = aot_path()
    failed = path.with_suffix(".failed")
    try:
        if path.is_file():
            try:
                return _import_extension(path)
            except ImportError:
                path.unlink(missing_ok=True)      # a damaged file: build it again once
        elif failed.is_file():
            raise ImportError(f"AOT build failed before: {failed.read_text().strip()}")
        why = _build_aot(path)
        if why is not None:
            failed.write_text(why + "\n")
            raise ImportError(f"AOT build failed: {why}")
    except OSError as exc:                        # an unwritable or vanished cache folder
        raise ImportError(f"AOT cache unusable: {exc}") from None
    return _import_extension(path)


def _load_jit():
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir() / "numba"))
    os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")
    import numba

    if not numba.config.CACHE_DIR:           # numba imported earlier by the host program
        numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]
    from simcore.noise import kernel

    return kernel.poisson_pass


def _choice() -> str:
    choice = os.environ.get("SIMCORE_NOISE_BACKEND", "auto").strip().lower() or "auto"
    if choice not in BACKENDS:
        from simcore.errors import SimcoreUsageError

        raise SimcoreUsageError(f"SIMCORE_NOISE_BACKEND must be one of {', '.join(BACKENDS)}, got {choice!r}")
    return choice


def poisson_pass():
    """The compiled ``poisson_pass(xm, out, ist, fst)`` (see :mod:`simcore.noise.kernel`), loaded once."""
    choice = _choice()
    if choice not in _LOADED:
        if choice == "jit":
            fn = _load_jit()
        else:
            try:
                fn = _load_aot()
            except ImportError:
                if choice == "aot":
                    raise
                fn = _load_jit()
        _LOADED[choice] = fn
    return _LOADED[choice]


def backend_used() -> str:
    """``aot`` or ``jit``: what :func:`poisson_pass` loaded (for reports and tests)."""
    fn = poisson_pass()
    return "jit" if hasattr(fn, "py_func") else "aot"


def _build_main(target: str) -> int:
    """Child process: compile the kernel with ``numba.pycc`` into ``target`` (atomically)."""
    import tempfile
    import warnings

    warnings.simplefilter("ignore")
    from numba.pycc import CC

    from simcore.noise import kernel

    target_path = Path(target)
    name = target_path.name.split(".")[0]
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=target_path.parent))
    try:
        cc = CC(name)
        cc.output_dir = str(work)
        cc.verbose = False
        cc.export("poisson_pass", kernel.SIGNATURE)(kernel.poisson_pass.py_func)
        cc.compile()
        built = next(work.glob(name + ".*"))
        os.replace(built, target_path)
    finally:
        for p in sorted(work.rglob("*"), reverse=True):
            p.rmdir() if p.is_dir() else p.unlink()
        work.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(_build_main(sys.argv[1]))
