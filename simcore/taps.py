"""Named taps on the live computation (hook points in the TransformerLens sense).

The engine calls ``x = tap("omega_pixel", x, dims)`` on the very tensors the image is computed
from. With no trace active a tap is one global read and a return. Inside ``with trace(...)``
the session keeps detached float64 copies of the traced pixels' slices, so a TRACE_PY line is
the value the image used — never a recomputation beside the physics.

Pixel-level tensors use the engine layout ``(layer, sub_s, sub_f, source, phi, mosaic, pixel)``
with size-1 broadcast dims; ``dims`` names the loop dims the tap really varies over.
Setup-level taps (``dims=None``) are scalars, 3-vectors, 3×3 matrices or strings.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

import numpy as np

LOOP_DIMS = ("layer", "sub_s", "sub_f", "source", "phi", "mosaic")

_session: "TraceSession | None" = None


def tap(name: str, value, dims: tuple | None = None):
    """Identity on ``value``; records it when a trace is active."""
    s = _session
    if s is not None:
        s.record(name, value, dims)
    return value


def tap_chunk(slow, fast, loop_sizes: tuple) -> None:
    """The engine announces the pixels (1-D index tensors) of the chunk it is about to compute."""
    s = _session
    if s is not None:
        s.begin_chunk(slow, fast, loop_sizes)


def tracing() -> bool:
    return _session is not None


@dataclass
class Captured:
    """One tap's values: ``values`` has shape (*sizes of dims, ncomp)."""

    tap: str
    dims: tuple
    values: np.ndarray
    dtype: str


class TraceSession:
    """Holds the taps of a traced run: setup values once, pixel values per traced (slow, fast)."""

    def __init__(self, pixels: list[tuple[int, int]], dtype: str = "float64"):
        self.pixels = [tuple(int(v) for v in p) for p in pixels]
        self.dtype = dtype
        self.setup: dict[str, Captured] = {}
        self.per_pixel: dict[tuple, dict[str, Captured]] = {p: {} for p in self.pixels}
        self._cols: list[tuple[int, tuple]] = []
        self._sizes: tuple = (1,) * 6

    def begin_chunk(self, slow, fast, loop_sizes) -> None:
        s = slow.detach().cpu().numpy()
        f = fast.detach().cpu().numpy()
        self._sizes = tuple(int(v) for v in loop_sizes)
        self._cols = []
        for p in self.pixels:
            hit = np.nonzero((s == p[0]) & (f == p[1]))[0]
            if hit.size:
                self._cols.append((int(hit[0]), p))

    def record(self, name: str, value, dims) -> None:
        if dims is None:
            self.setup[name] = Captured(name, (), _as_setup_array(value), self.dtype)
            return
        for col, pixel in self._cols:
            comps = value if isinstance(value, (tuple, list)) else (value,)
            arrays = [self._slice(c, col, dims, name) for c in comps]
            self.per_pixel[pixel][name] = Captured(name, tuple(dims), np.stack(arrays, axis=-1),
                                                   self.dtype)

    def _slice(self, t, col: int, dims: tuple, name: str) -> np.ndarray:
        import torch

        if not isinstance(t, torch.Tensor):
            t = torch.as_tensor(t)
        if t.dim() == 1:
            t = t.reshape((1,) * 6 + (-1,))
        if t.dim() != 7:
            raise ValueError(f"tap {name}: expected the 7-D engine layout, got shape {tuple(t.shape)}")
        a = t[..., col if t.shape[-1] > 1 else 0].detach()
        a = a.to("cpu", torch.float64 if a.is_floating_point() else torch.int64).numpy()
        keep = []
        for k, dim in enumerate(LOOP_DIMS):
            if dim in dims:
                keep.append(k)
            elif a.shape[k] != 1:
                raise ValueError(f"tap {name}: varies over {dim} but dims={dims}")
        a = np.broadcast_to(a, tuple(self._sizes[k] if k in keep else 1 for k in range(6)))
        return np.array(a.reshape([self._sizes[k] for k in keep]))  # (ascontiguousarray would make 0-d 1-d)

    def taps_for(self, pixel: tuple[int, int]) -> dict[str, Captured]:
        """Setup taps plus the pixel's own taps (pixel values win on a name clash)."""
        merged = dict(self.setup)
        merged.update(self.per_pixel.get(tuple(pixel), {}))
        return merged


def _as_setup_array(value):
    import torch

    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)):
        return np.array([float(v.detach()) if isinstance(v, torch.Tensor) else float(v) for v in value])
    if isinstance(value, torch.Tensor):
        out = value.detach().to("cpu", torch.float64).numpy().copy()
    else:
        out = np.asarray(value)
    return out.reshape(1) if out.ndim == 0 else out


@contextlib.contextmanager
def trace(pixels: list[tuple[int, int]], *, dtype: str = "float64") -> Iterator[TraceSession]:
    """Activate tap recording for ``pixels`` (slow, fast); state is removed in ``finally``."""
    global _session
    previous = _session
    _session = TraceSession(pixels, dtype=dtype)
    try:
        yield _session
    finally:
        _session = previous
