"""The emitter's view of simcore's live taps: validation, loop sizes, values at a loop index.

Views and print-time arithmetic (``lambda_angstroms = lambda_meters * 1e10``, SOURCE2 squares,
the per-phi lines) are built here from the catalogue's ``derive`` rules when simcore does not
pass the tap itself, in plain double arithmetic in the C's operation order.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from tracekit.catalogue import Catalogue, TapSpec
from tracekit.errors import TraceUsageError
from tracekit.records import TapValue, Value

Index = Mapping[str, int]


class TapSet:
    """Validated taps plus the loop sizes they imply."""

    def __init__(self, taps: Mapping[str, TapValue], cat: Catalogue) -> None:
        self.cat = cat
        self.taps: dict[str, TapValue] = {}
        self.sizes: dict[str, int] = {}
        for key, tv in taps.items():
            if not isinstance(tv, TapValue):
                raise TraceUsageError(f"taps[{key!r}] is a {type(tv).__name__}, expected TapValue")
            spec = cat.get(tv.tap)
            if spec is None:
                raise TraceUsageError(f"unknown tap {tv.tap!r}: add it to tracekit/catalogue.yaml first")
            if key != tv.tap and cat.get(key) is not spec:
                raise TraceUsageError(f"taps[{key!r}] holds TapValue for {tv.tap!r}")
            self._check(spec, tv)
            self.taps[spec.name] = tv
        self.dtype = _common_dtype(self.taps.values())

    def _check(self, spec: TapSpec, tv: TapValue) -> None:
        extra = [d for d in tv.dims if d not in spec.index_dims]
        if extra:
            raise TraceUsageError(f"tap {spec.name!r}: dims {list(extra)} do not apply at level {spec.level!r} "
                                  f"(allowed {list(spec.index_dims)})")
        ncomp = 1 if spec.kind == "str" else spec.ncomp
        if tv.ncomp != ncomp:
            raise TraceUsageError(f"tap {spec.name!r}: {tv.ncomp} component(s), expected {ncomp}")
        for dim, n in tv.sizes.items():
            if self.sizes.setdefault(dim, n) != n:
                raise TraceUsageError(f"tap {spec.name!r}: size of {dim!r} is {n}, other taps say {self.sizes[dim]}")

    def size(self, dim: str) -> int:
        return self.sizes.get(dim, 1)

    def reached(self, name: str, index: Index) -> bool:
        """Pseudo-tap `name` (reached_source / reached_fcell) at index; True when not passed."""
        tv = self.taps.get(name)
        return True if tv is None else bool(tv.at(index)[0])

    def value(self, name: str, index: Index) -> tuple[Value, ...] | None:
        """The tap's components at a loop index as Python values, or None if unavailable."""
        spec = self.cat.get(name)
        tv = self.taps.get(spec.name if spec else name)
        if tv is not None:
            return _to_python(tv.at(index), spec)
        if spec is None:
            return None
        return self._derive(spec, index)

    def _derive(self, spec: TapSpec, index: Index) -> tuple[Value, ...] | None:
        for rule in spec.derive_rules:
            (op, arg), = rule.items()
            value = self._apply(spec, op, arg, index)
            if value is not None:
                return value
        return None

    def _apply(self, spec: TapSpec, op: str, arg, index: Index) -> tuple[Value, ...] | None:
        if op == "const":
            return tuple(arg)
        if op == "same":
            for name in arg:
                v = self.value(name, index)
                if v is not None:
                    return v
            return None
        if op == "component":
            v = self.value(arg[0], index)
            return None if v is None else (v[int(arg[1])],)
        if op in ("scale", "sqrt"):
            v = self.value(arg[0] if op == "scale" else arg, index)
            if v is None:
                return None
            return tuple(x * float(arg[1]) for x in v) if op == "scale" else tuple(math.sqrt(x) for x in v)
        operands = [self.value(n, index) for n in arg]
        if any(v is None for v in operands):
            return None
        if op == "div":
            return (_div(operands[0][0], operands[1][0]),)
        if op == "product":
            acc = operands[0][0]
            for v in operands[1:]:
                acc = acc * v[0]
            return (acc,)
        if op == "dot":
            a, b = operands
            acc = a[0] * b[0]
            for x, y in zip(a[1:], b[1:]):
                acc = acc + x * y
            return (acc,)
        raise ValueError(f"catalogue: unknown derive op {op!r} for {spec.name}")


def _div(a: float, b: float) -> float:
    if b == 0.0:
        return math.copysign(math.inf, a) if a else math.nan
    return a / b


def _to_python(arr: np.ndarray, spec: TapSpec | None) -> tuple[Value, ...]:
    kind = spec.kind if spec else "float"
    if kind == "str":
        return (str(arr[0]),)
    if kind in ("int", "bool"):
        return tuple(int(x) for x in arr)
    return tuple(float(x) for x in arr)


def _common_dtype(taps) -> str:
    """The least precise compute dtype among the taps (float32 wins over float64)."""
    dtypes = {tv.dtype for tv in taps}
    if not dtypes:
        return "float64"
    return "float32" if "float32" in dtypes else sorted(dtypes)[0]
