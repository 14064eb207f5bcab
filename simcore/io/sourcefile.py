"""The C ``-sourcefile`` reader: ``read_text_file(filename, 5, &X, &Y, &Z, &I, &lambda)``.

What the C does, line by line (``fgets`` chunks of at most 10239 characters):

* skip the delimiters ``" \\t,;:!"``; a line that is then exactly ``"\\n"`` is blank and skipped.
  **Every other line counts as a source**, including ``#`` comment lines and header words.
* columns are read with ``atof`` (its longest numeric prefix, 0.0 when there is none), then the
  scan skips the characters ``0123456789-+.EGeg``, then up to the next delimiter, then delimiters.
  So ``# a b c`` gives 0 0 0 0 0 and counts; ``nan`` gives NaN (a "missing" column).
* a column never reached is NaN (the caller applies the C defaults: −10·beam components, weight 1,
  λ0). But when the line does **not** end in a bare ``"\\n"`` right after its last number (CRLF
  endings, a last line without newline, trailing text), the scan runs past the end and fills the
  remaining columns with **0.0**, not NaN: weight 0 and λ = 0 m.

The reader reproduces this exactly (:attr:`SourceTable.columns`) and reports the lines a caller
should warn about (comment/text lines, zero-filled columns). ``strict=True`` refuses such files
with a one-line :class:`SimcoreInputError` instead (exit 5). A file with no counted line is the
C's exit 9.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simcore.cfmt import c_atof, strtod_prefix
from tracekit.atomic import read_input_bytes
from simcore.errors import SimcoreInputError

__all__ = ["SourceTable", "read_source_file", "read_text_file", "DELIMITERS", "NUMBERSTUF"]

DELIMITERS = " \t,;:!"
NUMBERSTUF = "0123456789-+.EGeg"
_FGETS_SIZE = 10240


@dataclass(frozen=True)
class SourceTable:
    """``columns``: ``(lines, 5)`` float64 as the C fills them (NaN = not given) for X, Y, Z (m,
    any scale: the C unitizes them), weight (unused by the C), λ (m).
    ``comment_lines`` / ``text_lines``: 1-based file line numbers of counted lines that start with
    ``#`` / hold other non-numeric text; ``zero_filled_lines``: lines where the C wrote 0.0 into
    columns the line does not give. ``warnings``: one line each, ready to print."""

    columns: np.ndarray
    comment_lines: tuple[int, ...] = ()
    text_lines: tuple[int, ...] = ()
    zero_filled_lines: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def sources(self) -> int:
        """The C's source count (every non-blank line)."""
        return int(self.columns.shape[0])


def _fgets(data: bytes):
    """(line number, C string) for each ``fgets(text, 10240, f)`` chunk."""
    i, n, line_no = 0, len(data), 1
    while i < n:
        j = data.find(b"\n", i, i + _FGETS_SIZE - 1)
        end = j + 1 if j >= 0 else min(n, i + _FGETS_SIZE - 1)
        chunk = data[i:end]
        yield line_no, chunk.split(b"\0", 1)[0].decode("latin-1")
        line_no += chunk.count(b"\n")
        i = end


def _span(s: str, p: int, chars: str) -> int:
    n = len(s)
    while p < n and s[p] in chars:
        p += 1
    return p


def _cspan(s: str, p: int, chars: str) -> int:
    n = len(s)
    while p < n and s[p] not in chars:
        p += 1
    return p


def _parse_line(s: str, p: int, nargs: int) -> tuple[list[float], bool, bool]:
    """One counted line: (values, zero_filled, clean) following the C's do-while exactly."""
    vals = [math.nan] * nargs
    zero_filled, clean = False, True
    i = 0
    while True:
        if p >= len(s):
            zero_filled = True
        else:
            _, used = strtod_prefix(s, p)
            end_tok = _cspan(s, p, DELIMITERS + "\r\n")
            if used != end_tok:
                clean = False
        vals[i] = c_atof(s[p:])
        p = _span(s, p, NUMBERSTUF)
        if s[p:] == "\n":
            break
        p = _cspan(s, p, DELIMITERS)
        p = _span(s, p, DELIMITERS)
        if s[p:] == "\n":
            break
        i += 1
        if i >= nargs:
            break
    return vals, zero_filled, clean


def read_text_file(path, nargs: int = 5) -> tuple[np.ndarray, list[tuple[int, bool, bool, bool]]]:
    """The C ``read_text_file``: ``(lines, nargs)`` values and, per counted line,
    ``(line number, is_comment, zero_filled, clean)``."""
    try:
        data = read_input_bytes(path)
    except OSError as exc:
        raise SimcoreInputError(f"reading source definition file {path}: {exc.strerror}",
                                c_exit_code=9) from None
    rows, info = [], []
    for line_no, s in _fgets(data):
        p = _span(s, 0, DELIMITERS)
        if s[p:] == "\n":
            continue
        vals, zero_filled, clean = _parse_line(s, p, nargs)
        rows.append(vals)
        info.append((line_no, s[p:p + 1] == "#", zero_filled, clean))
    return np.array(rows, dtype=np.float64).reshape(len(rows), nargs), info


def read_source_file(path, *, strict: bool = False) -> SourceTable:
    """Read a ``-sourcefile`` exactly as the C does (see the module notes).

    ``strict``: refuse (``SimcoreInputError``, exit 5) a file with comment/text lines or
    zero-filled columns instead of reproducing the C's zero sources.
    """
    cols, info = read_text_file(path, 5)
    if cols.shape[0] == 0:
        raise SimcoreInputError(f"reading source definition file {path}: no sources", c_exit_code=9)
    comments = tuple(n for n, com, _, _ in info if com)
    texts = tuple(n for n, com, _, clean in info if not com and not clean)
    zeros = tuple(n for n, _, zf, _ in info if zf)
    warnings = []
    if comments:
        warnings.append(f"WARNING: {path}: {len(comments)} comment line(s) (first: line "
                        f"{comments[0]}) count as sources at 0 0 0 with weight 0 and lambda 0, as in the C")
    if texts:
        warnings.append(f"WARNING: {path}: {len(texts)} line(s) with non-numeric text (first: line "
                        f"{texts[0]}); the C reads their numeric prefixes (0 where there is none)")
    if zeros:
        warnings.append(f"WARNING: {path}: {len(zeros)} line(s) (first: line {zeros[0]}) do not end "
                        "in a bare newline after the last number (CRLF, no final newline or trailing "
                        "text): the C sets their missing columns to 0, not to the defaults")
    if strict and warnings:
        raise SimcoreInputError(warnings[0].removeprefix("WARNING: "))
    return SourceTable(columns=cols, comment_lines=comments, text_lines=texts,
                       zero_filled_lines=zeros, warnings=tuple(warnings))
