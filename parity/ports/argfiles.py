"""Which nanoBragg arguments name files, and how to give each runner its own private copy of them.

A runner works in a fresh, empty directory (peer lesson §1.6 item 6: a stale ``Fdump.bin`` in a
shared cwd silently replaced the structure factors). :func:`isolate_args` rewrites an argument list
for such a directory, by the C program's own flag matching (``strstr`` on tokens starting with
``-``; a flag is used only when a value follows):

=======================================  =====================================================
input files (copied in, renamed locally)  ``-hkl``, ``-mat``/``-matrix``, ``-sourcefile``,
                                          ``-img``, ``-mask`` (substring match, as the C);
                                          ``-stol``, ``-4stol``, ``-Q`` (exact, as the C);
                                          ``-dump`` when the named file exists
the float image                           every ``-floatfile``/``-floatimage`` value is replaced
                                          by ours; one is appended when the caller gave none
other outputs (kept inside the run dir)   ``-intfile``/``-intimage``, ``-pgmfile``/``-pgmimage``,
                                          ``-noisefile``/``-noiseimage``, ``-stolout``,
                                          ``-dump`` (when absent): the value becomes its basename
=======================================  =====================================================

Inputs are *copied* (not referenced by absolute path) so a runner can neither modify the caller's
file nor write beside it (the C writes ``Fdump.bin`` next to its cwd after reading ``-hkl``).
Every other token is passed unchanged, in order. A named input that is missing or unreadable is
:class:`parity.errors.ParityInputError` (exit 5).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from parity.errors import ParityInputError

__all__ = ["IsolatedArgs", "isolate_args", "input_files", "file_flag_kind"]

_INPUT_SUBSTRINGS = ("-hkl", "-mat", "-sourcefile", "-img", "-mask")
_INPUT_EXACT = ("-stol", "-4stol", "-Q")
_FLOAT_SUBSTRINGS = ("-floatfile", "-floatimage")
_OUTPUT_SUBSTRINGS = ("-intfile", "-intimage", "-pgmfile", "-pgmimage", "-noisefile", "-noiseimage")


def file_flag_kind(token: str) -> str | None:
    """``"input"``, ``"float"``, ``"output"``, ``"dump"`` or None for one argument token.

    >>> [file_flag_kind(t) for t in ("-matrix", "-hkl", "-floatfile", "-intfile", "-stol", "-N")]
    ['input', 'input', 'float', 'output', 'input', None]
    """
    if not token.startswith("-"):
        return None
    if any(s in token for s in _FLOAT_SUBSTRINGS):
        return "float"
    if any(s in token for s in _INPUT_SUBSTRINGS) or token in _INPUT_EXACT:
        return "input"
    if any(s in token for s in _OUTPUT_SUBSTRINGS) or ("-stolout" in token and len(token) > 7):
        return "output"
    if "-dump" in token and not token.startswith("-dump_pixel"):
        return "dump"
    return None


def _resolve(value: str, base: Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else base / path


def _check_readable(flag: str, value: str, path: Path) -> None:
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "no such file"
        raise ParityInputError(f"ARGS {flag} {value}: {what}")
    if not os.access(path, os.R_OK):
        raise ParityInputError(f"ARGS {flag} {value}: not readable")


def input_files(args: Sequence[str], *, base: str | os.PathLike) -> list[Path]:
    """The input files ``args`` name, resolved against ``base`` and checked readable (exit 5 if not).

    ``-dump`` files count only when they exist (otherwise the C would write one there).
    """
    base = Path(base)
    tokens, found = [str(a) for a in args], []
    for i, token in enumerate(tokens[:-1]):
        kind = file_flag_kind(token)
        path = _resolve(tokens[i + 1], base) if kind in ("input", "dump") else None
        if kind == "input":
            _check_readable(token, tokens[i + 1], path)
            found.append(path)
        elif kind == "dump" and path.is_file():
            found.append(path)
    return found


@dataclass(frozen=True)
class IsolatedArgs:
    """An argument list rewritten for one run directory."""

    argv: list[str]                       # what the runner is given (paths relative to run_dir)
    copied: dict[str, Path]               # local name -> original file
    float_name: str                       # our -floatfile, relative to run_dir
    outputs: dict[str, str]               # flag value as given -> local name


def _local_name(original: Path, taken: set[str]) -> str:
    name, n = original.name, 2
    while name in taken:
        name, n = f"in{n}_{original.name}", n + 1
    taken.add(name)
    return name


def isolate_args(args: Sequence[str], *, run_dir: str | os.PathLike, base: str | os.PathLike,
                 float_name: str = "float.bin") -> IsolatedArgs:
    """Copy the inputs ``args`` name (relative to ``base``) into ``run_dir`` and rewrite ``args``.

    Parameters
    ----------
    args : sequence of str
        nanoBragg arguments, as the user gave them.
    run_dir : path-like
        The runner's fresh working directory (must exist).
    base : path-like
        Directory relative paths in ``args`` are resolved against (the caller's cwd, or a golden
        case folder).
    float_name : str
        Name of the float image inside ``run_dir``.

    Returns
    -------
    IsolatedArgs
    """
    run_dir, base = Path(run_dir), Path(base)
    tokens = [str(a) for a in args]
    out: list[str] = []
    copied: dict[str, Path] = {}
    outputs: dict[str, str] = {}
    taken = {float_name}
    has_float = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = file_flag_kind(token) if i + 1 < len(tokens) else None
        if kind is None:
            out.append(token)
            i += 1
            continue
        value = tokens[i + 1]
        path = _resolve(value, base)
        if kind == "input" or (kind == "dump" and path.is_file()):
            _check_readable(token, value, path)
            name = _local_name(path, taken)
            try:
                shutil.copyfile(path, run_dir / name)
            except OSError as exc:
                raise ParityInputError(f"ARGS {token} {value}: cannot copy ({exc.strerror or exc})") from None
            copied[name] = path
            value = name
        elif kind == "float":
            has_float, value = True, float_name
        else:  # outputs (and a -dump file that does not exist yet) stay inside the run dir
            name = outputs.get(value) or _local_name(Path(value), taken)
            outputs[value] = value = name
        out += [token, value]
        i += 2
    if not has_float:
        out += ["-floatfile", float_name]
    return IsolatedArgs(argv=out, copied=copied, float_name=float_name, outputs=outputs)
