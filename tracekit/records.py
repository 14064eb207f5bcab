"""The small value types of the trace protocol: loop indices, parsed records, live tap values.

`TapValue` is what simcore hands to the emitter; `TraceRecord` is one parsed (or emitted) tap
value at one loop index. Both are frozen. Nothing here knows the catalogue.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Union

import numpy as np

from tracekit.errors import TraceUsageError

#: The C loop nest, outermost first (thickness layer, sub-pixel slow/fast, source, phi, mosaic).
LOOP_DIMS: tuple[str, ...] = ("layer", "sub_s", "sub_f", "source", "phi", "mosaic")

#: Which LoopIndex fields a tap printed at each loop level carries.
LEVEL_DIMS: dict[str, tuple[str, ...]] = {
    "setup": (),
    "pixel": (),
    "layer": ("layer",),
    "subpixel": ("layer", "sub_s", "sub_f"),
    "source": ("layer", "sub_s", "sub_f", "source"),
    "phi": ("layer", "sub_s", "sub_f", "source", "phi"),
    "mosaic": LOOP_DIMS,
}

Value = Union[float, int, str]


class LoopIndex(NamedTuple):
    """Where in the C loop nest a value was printed; None where the loop does not apply.

    ``occurrence`` numbers repeated prints at the same position: the second BEAM-pivot
    ``fdet_after_rotz``, the n-th pixel block of a file holding several, or the block ordinal
    when a trace does not state its oversample/layer counts.
    """

    layer: int | None = None
    sub_s: int | None = None
    sub_f: int | None = None
    source: int | None = None
    phi: int | None = None
    mosaic: int | None = None
    occurrence: int = 0

    def as_dict(self) -> dict[str, int]:
        """The fields that are set (occurrence only when non-zero), for JSON and display."""
        out = {k: v for k, v in zip(LOOP_DIMS, self[:6]) if v is not None}
        if self.occurrence:
            out["occurrence"] = self.occurrence
        return out

    def label(self) -> str:
        """Compact display form, e.g. ``layer=0,sub_s=1,sub_f=0,source=0``; ``-`` when empty."""
        d = self.as_dict()
        return ",".join(f"{k}={v}" for k, v in d.items()) or "-"

    def sort_key(self) -> tuple[int, ...]:
        return tuple(-1 if v is None else v for v in self)


SETUP_INDEX = LoopIndex()


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One tap value at one loop index, as parsed from a trace line (or built by the emitter).

    ``values`` holds floats, ints or one string; ``keys`` names the components of key:value
    taps (``angles_rad=rotx:.. roty:..``). ``prefix`` is the line's prefix (``TRACE_C``,
    ``TRACE_PY``, "" for ``DETECTOR_*`` lines). Equality ignores prefix, line and raw text.
    """

    tap: str
    index: LoopIndex
    values: tuple[Value, ...]
    keys: tuple[str, ...] | None = None
    prefix: str = field(default="", compare=False)
    line_no: int = field(default=0, compare=False)
    raw: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, LoopIndex]:
        return (self.tap, self.index)


@dataclass(frozen=True, eq=False)
class TapValue:
    """The live values of one tap, handed over by simcore.

    ``dims`` is a subset of LOOP_DIMS in that order; ``values`` has shape
    ``(*sizes_of_dims, ncomp)`` (ncomp = 1 for scalars; a trailing ncomp axis may be omitted
    for scalars, and a 3x3 matrix may be given as ``(..., 3, 3)``). ``dtype`` is the producing
    run's compute dtype ("float32"/"float64"), not necessarily ``values.dtype``.
    """

    tap: str
    dims: tuple[str, ...]
    values: np.ndarray
    dtype: str = "float64"

    def __post_init__(self) -> None:
        dims = tuple(self.dims)
        _validate_dims(self.tap, dims)
        arr = np.asarray(self.values)
        if arr.ndim == len(dims):
            arr = arr[..., None]
        elif arr.ndim == len(dims) + 2 and arr.shape[-2:] == (3, 3):
            arr = arr.reshape(arr.shape[:-2] + (9,))
        if arr.ndim != len(dims) + 1:
            raise TraceUsageError(
                f"TapValue {self.tap!r}: values has shape {arr.shape}, expected (*sizes of {dims}, ncomp)"
            )
        object.__setattr__(self, "dims", dims)
        object.__setattr__(self, "values", arr)

    @property
    def sizes(self) -> dict[str, int]:
        return dict(zip(self.dims, self.values.shape[:-1]))

    @property
    def ncomp(self) -> int:
        return int(self.values.shape[-1])

    def at(self, index: dict[str, int]) -> np.ndarray:
        """The component vector at a loop index (dims the tap lacks are broadcast; dims the
        index lacks are taken at 0)."""
        return self.values[tuple(index.get(d, 0) for d in self.dims)]


def _validate_dims(tap: str, dims: tuple[str, ...]) -> None:
    unknown = [d for d in dims if d not in LOOP_DIMS]
    if unknown:
        raise TraceUsageError(f"TapValue {tap!r}: unknown dims {unknown}; allowed {LOOP_DIMS}")
    order = [LOOP_DIMS.index(d) for d in dims]
    if order != sorted(set(order)):
        raise TraceUsageError(f"TapValue {tap!r}: dims {dims} must be distinct and in the order {LOOP_DIMS}")
