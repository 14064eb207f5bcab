"""Line grammars of the trace protocol: recognise a line, parse its values, render values back.

C forms (all `%.15g`):
  ``TRACE_C: name v1 v2 v3``                 pixel block (groups A-E)
  ``TRACE_C:name=v1 v2 v3``                  setup block; also ``[a b c; d e f; g h i]``,
                                             ``k1:v1 k2:v2`` and plain strings after ``=``
  ``TRACE_C_PHI phi_tic=0 phi_deg=.. k_frac=.. F_latt_b=.. F_latt=..``   (no colon)
  ``TRACE_C_SOURCE2: name v`` / ``TRACE_C_TAP5: name v..``
  ``TRACE_C_TAP5_HKL: subpixel=s f hkl_frac=h k l h0=.. k0=.. l0=.. F_cell=.. out_of_bounds=..``
  ``TRACE_CONFIG: tracing pixel (spixel=S, fpixel=F)``   ``DETECTOR_FAST_AXIS x y z``
Our extra forms, for any prefix P (``TRACE_PY`` by default):
  ``P_META key=value ...``                   header: dtype, device, oversample, layers, ...
  ``P_AT name[layer=0,sub_s=1,sub_f=0,source=2,phi=3,mosaic=4] v1 v2 v3``   one value at an
                                             explicit loop index (values as in the setup form)
  ``P_END records=N``                        trailer; a trace with META and no END is truncated
  ``P_CONFIG: tracing pixel (spixel=S, fpixel=F)``
A prefix is ``TRACE_`` + capitals/digits (``TRACE_C``, ``TRACE_PY``, ``TRACE_GPU2``).
"""
from __future__ import annotations

import math
import re
from typing import Sequence

from tracekit.records import Value

PREFIX_RE = re.compile(r"^(TRACE_[A-Z0-9]+?)(_TAP5_HKL|_TAP5|_SOURCE2|_PHI|_META|_AT|_END|_CONFIG)?(?=[: ]|$)")
DETECTOR_RE = re.compile(r"^(DETECTOR_(?:FAST_AXIS|SLOW_AXIS|NORMAL_AXIS|PIX0_VECTOR)) (.*)$")
CONFIG_RE = re.compile(r"^: tracing pixel \(spixel=(-?\d+), fpixel=(-?\d+)\)\s*$")
AT_RE = re.compile(r"^ (\S+?)\[([^\]]*)\] ?(.*)$")
OVERSAMPLE_RE = re.compile(r"^\s+(\d+)x\d+ pixel oversample steps")
LAYERS_RE = re.compile(r"^\s+sensor is \S+ m thick in (\d+) layers")
TAP5_HKL_RE = re.compile(
    r"^: subpixel=(-?\d+) (-?\d+) hkl_frac=(\S+) (\S+) (\S+) h0=(-?\d+) k0=(-?\d+) l0=(-?\d+)"
    r"(?: F_cell=(\S+))?(?: out_of_bounds=(-?\d+))?\s*$"
)
C_PREFIX = "TRACE_C"
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
SUFFIXES = ("_TAP5_HKL", "_TAP5", "_SOURCE2", "_PHI", "_META", "_AT", "_END", "_CONFIG")
#: A line of another port in the pixel or setup grammar with any prefix: ``DEBUG pixel_pos_meters 1 2 3``,
#: ``TRACE_TORCH: F_cell 100``, ``DBG:distance_m=0.1``, ``DEBUG: polar = 0.99``.
GENERIC_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)(?::\s*|\s+)([A-Za-z_][A-Za-z0-9_]*)(\s*[:=]\s*|\s+)(\S.*)$")
_LOOSE_NUM = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)(?![a-z])", re.I)
_LOOSE_DROP = re.compile(r"(?:dtype|device|requires_grad|grad_fn)\s*=\s*\S+|tensor|array|np\.|torch\.|[\[\](),;]", re.I)


def prefix_re(prefixes: Sequence[str], extra: str | None = None) -> re.Pattern:
    """PREFIX_RE for a dialect's own prefixes (any of them, then an optional protocol suffix);
    `extra` (a pattern without its ``^``) is tried when none of them matches."""
    alt = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    suffixes = "|".join(SUFFIXES)
    own = rf"^({alt})({suffixes})?(?=[: ]|$)"
    if extra is None:
        return re.compile(own)
    return _Either(re.compile(own), re.compile("^" + extra))


class _Either:
    """Two prefix patterns tried in order (a port's own prefix, then the TRACE_ ones)."""

    def __init__(self, first: re.Pattern, second: re.Pattern) -> None:
        self.first, self.second = first, second

    def match(self, line: str):
        return self.first.match(line) or self.second.match(line)


def loose_numbers(text: str) -> tuple[float, ...] | None:
    """The numbers of a value printed another way (``[1.0, 2.0, 3.0]``, ``tensor([1., 2.])``,
    ``(1, 2, 3)``); None when anything but numbers and punctuation is left."""
    rest = _LOOSE_DROP.sub(" ", text)
    nums = _LOOSE_NUM.findall(rest)
    if not nums or _LOOSE_NUM.sub(" ", rest).strip():
        return None
    return tuple(float(x) for x in nums)


class GrammarError(ValueError):
    """A recognised trace line whose values do not parse (the caller adds file and line)."""


def parse_values(kind: str, text: str, ncomp: int | None) -> tuple[tuple[Value, ...], tuple[str, ...] | None]:
    """Parse the value part of a line for a tap of `kind`; check the component count."""
    text = text.strip()
    keys = None
    try:
        if kind == "str":
            return (text,), None
        if kind == "matrix":
            if not (text.startswith("[") and text.endswith("]")):
                raise GrammarError(f"expected [a b c; d e f; g h i], got {text!r}")
            values: tuple[Value, ...] = tuple(float(t) for t in text[1:-1].replace(";", " ").split())
        elif kind == "keyvalue":
            pairs = [t.split(":", 1) for t in text.split()]
            if any(len(p) != 2 for p in pairs):
                raise GrammarError(f"expected key:value pairs, got {text!r}")
            keys = tuple(p[0] for p in pairs)
            values = tuple(float(p[1]) for p in pairs)
        elif kind == "int":
            values = tuple(int(t) for t in text.split())
        elif kind == "bool":
            values = tuple(int(t.lower() in ("1", "true")) for t in text.split())
        else:
            values = tuple(float(t) for t in text.split())
    except ValueError as exc:
        if isinstance(exc, GrammarError):
            raise
        raise GrammarError(f"cannot read {kind} values from {text!r}") from None
    if ncomp is not None and len(values) != ncomp:
        raise GrammarError(f"expected {ncomp} value(s), got {len(values)} in {text!r}")
    return values, keys


def infer_values(text: str) -> tuple[tuple[Value, ...], tuple[str, ...] | None]:
    """Values of a tap the catalogue does not know: numbers, matrix, key:value or a string."""
    text = text.strip()
    for kind in ("float", "matrix", "keyvalue"):
        try:
            values, keys = parse_values(kind, text, None)
        except GrammarError:
            continue
        if values:
            return values, keys
    return (text,), None


def fmt_value(v: Value) -> str:
    """`%.15g` for floats, `%d` for ints, strings as they are: the C's print formats."""
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return "%d" % v
    return "%.15g" % v


def render_values(kind: str, values: Sequence[Value], keys: Sequence[str] | None = None) -> str:
    """The value part of a line, as the C prints it for this kind."""
    if kind == "str":
        return str(values[0])
    if kind in ("int", "bool"):
        return " ".join("%d" % int(v) for v in values)
    if kind == "matrix":
        cells = ["%.15g" % float(v) for v in values]
        return "[" + "; ".join(" ".join(cells[i:i + 3]) for i in range(0, len(cells), 3)) + "]"
    if kind == "keyvalue":
        return " ".join(f"{k}:{'%.15g' % float(v)}" for k, v in zip(keys or (), values))
    return " ".join("%.15g" % float(v) for v in values)


def parse_index(text: str) -> dict[str, int]:
    """``layer=0,sub_s=1`` -> {"layer": 0, "sub_s": 1}."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, val = part.partition("=")
        if not sep:
            raise GrammarError(f"bad index field {part!r}")
        try:
            out[key.strip()] = int(val)
        except ValueError:
            raise GrammarError(f"bad index value {part!r}") from None
    return out


def parse_kv_tokens(text: str) -> dict[str, str]:
    """``a=1 b=x`` -> {"a": "1", "b": "x"} (META lines, PHI lines)."""
    out: dict[str, str] = {}
    for tok in text.split():
        key, sep, val = tok.partition("=")
        if sep:
            out[key] = val
    return out


def is_finite(v: Value) -> bool:
    return isinstance(v, str) or math.isfinite(v)
