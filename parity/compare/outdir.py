"""Where nb-compare writes: ``--outdir DIR`` or ``comparisons/<YYYYMMDD-HHMMSS>-<args hash>/``.

Rules (never overwrite silently):

* ``--outdir DIR`` is used when it does not exist (created, parents too) or is an empty directory;
  an existing file or non-empty directory is refused (ParityUsageError; nb-compare exit 1); a
  directory that cannot be created is ParityInputError (exit 5).
* The default is ``comparisons/`` *relative to the cwd* (the contract's wording), the stamp in UTC,
  the hash the first 8 hex digits of sha256 over the canonical ARGS (``shlex.join`` of the tokens).
  The directory is claimed with an atomic ``mkdir`` (no ``exist_ok``); if the name is taken (same
  ARGS in the same second) ``-2``, ``-3``… is appended.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shlex
from pathlib import Path
from typing import Sequence

from parity.errors import ParityInputError, ParityUsageError

__all__ = ["canonical_args", "args_hash", "default_outdir_name", "check_outdir_free", "claim_outdir"]

DEFAULT_PARENT = "comparisons"


def canonical_args(args: Sequence[str]) -> str:
    """The ARGS as one shell-quoted string (what is hashed and recorded)."""
    return shlex.join([str(a) for a in args])


def args_hash(args: Sequence[str]) -> str:
    """First 8 hex digits of sha256(canonical ARGS).

    >>> args_hash(["-N", "5"]) == args_hash(("-N", "5"))
    True
    """
    return hashlib.sha256(canonical_args(args).encode()).hexdigest()[:8]


def default_outdir_name(args: Sequence[str], *, now: dt.datetime) -> str:
    """``<YYYYMMDD-HHMMSS>-<hash>`` with the stamp of ``now`` in UTC."""
    return f"{now.astimezone(dt.timezone.utc):%Y%m%d-%H%M%S}-{args_hash(args)}"


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def check_outdir_free(outdir: str | os.PathLike) -> None:
    """ParityUsageError unless ``outdir`` is absent or an empty directory (checked before any run)."""
    path = Path(outdir)
    if path.exists() and not _is_empty_dir(path):
        raise ParityUsageError(f"--outdir {outdir}: exists and is not an empty directory;"
                               " nb-compare never overwrites, choose another")


def claim_outdir(outdir: str | os.PathLike | None, *, args: Sequence[str], now: dt.datetime,
                 cwd: str | os.PathLike | None = None) -> Path:
    """Create (or accept an empty) output directory and return it; see the module rules."""
    if outdir is not None:
        path = Path(outdir)
        check_outdir_free(path)
        try:
            path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            if not _is_empty_dir(path):
                raise ParityUsageError(f"--outdir {outdir}: was created by someone else meanwhile") from None
        except OSError as exc:
            raise ParityInputError(f"--outdir {outdir}: cannot create ({exc.strerror or exc})") from None
        return path
    parent = Path(cwd or Path.cwd()) / DEFAULT_PARENT
    try:
        parent.mkdir(parents=True, exist_ok=True)  # the shared parent only; run dirs never use exist_ok
    except OSError as exc:
        raise ParityInputError(f"{DEFAULT_PARENT}/: cannot create ({exc.strerror or exc})") from None
    base = default_outdir_name(args, now=now)
    for n in range(1, 10_000):
        path = parent / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise ParityUsageError(f"{DEFAULT_PARENT}/{base}: no free name")
