"""Where nb-compare writes: ``--outdir DIR`` or ``comparisons/<YYYYMMDD-HHMMSS>-<args hash>/``.

Rules (never overwrite silently):

* ``--outdir DIR`` is used when it does not exist (parents are created) or is an empty directory;
  an existing file or non-empty directory is refused (ParityUsageError; nb-compare exit 1); a
  directory that cannot be created is an OutputError (nb-compare exit 5).
* The default is ``comparisons/`` *relative to the cwd* (the contract's wording), the stamp in UTC,
  the hash the first 8 hex digits of sha256 over the canonical ARGS (``shlex.join`` of the tokens);
  if the name is taken (same ARGS in the same second) ``-2``, ``-3``… is appended.
* Atomic like a bundle: everything is written into a hidden ``.NAME.<pid>.<rand>.partial`` sibling
  (:func:`tracekit.atomic.atomic_dir`) and renamed to the final name once summary.json is written.
  A run interrupted (Ctrl-C, SIGTERM) removes the sibling; a SIGKILL leaves only the hidden sibling.
  The folder is never half-filled under its final name.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shlex
from pathlib import Path
from typing import Sequence

from parity.errors import ParityInputError, ParityUsageError

__all__ = ["canonical_args", "args_hash", "default_outdir_name", "check_outdir_free", "planned_outdir",
           "publish_outdir"]

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


def planned_outdir(outdir: str | os.PathLike | None, *, args: Sequence[str], now: dt.datetime,
                   cwd: str | os.PathLike | None = None) -> Path:
    """The folder the results will be published as: ``--outdir`` (checked free), else the first free
    ``comparisons/<stamp>-<hash>[-N]`` (the name is taken only at :func:`publish_outdir`)."""
    if outdir is not None:
        check_outdir_free(outdir)
        return Path(outdir)
    parent = Path(cwd or Path.cwd()) / DEFAULT_PARENT
    if parent.exists() and not parent.is_dir():
        raise ParityInputError(f"{DEFAULT_PARENT}/: exists and is not a folder")
    base = default_outdir_name(args, now=now)
    for n in range(1, 10_000):
        path = parent / (base if n == 1 else f"{base}-{n}")
        if not os.path.lexists(path):
            return path
    raise ParityUsageError(f"{DEFAULT_PARENT}/{base}: no free name")


def publish_outdir(work: Path, final: Path, *, explicit: bool) -> Path:
    """Rename the complete ``work`` folder (a hidden ``.partial`` sibling) to ``final``; a default name
    taken meanwhile moves on to ``-2``, ``-3``…; an explicit ``--outdir`` filled meanwhile is refused
    (ParityUsageError, the results stay in ``work``)."""
    from tracekit.atomic import OutputExistsError, publish_dir

    candidates = [final] if explicit else [final] + [final.with_name(f"{final.name}-{n}") for n in range(2, 10_000)]
    for path in candidates:
        try:
            return publish_dir(work, path)
        except OutputExistsError:
            continue
    raise ParityUsageError(f"{final}: was created by someone else meanwhile; the results stay in {work}")
