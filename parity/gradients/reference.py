"""Images as functions of one parameter value: the C program (the reference model) or simcore
float64 (the self-consistency reference where the C has no image, e.g. non-integer N).

Each C run goes through :func:`parity.ports.process.run_isolated` (fresh directory, inputs copied),
and repeated values are served from a small cache (the 4-point stencils share points).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from parity.errors import ParityInputError

__all__ = ["c_image_at", "simcore_image_at"]


def _cached(fn: Callable[[float], np.ndarray]) -> Callable[[float], np.ndarray]:
    cache: dict[float, np.ndarray] = {}

    def image_at(value: float) -> np.ndarray:
        key = float(value)
        if key not in cache:
            cache[key] = fn(key)
        return cache[key]

    image_at.cache = cache   # type: ignore[attr-defined]
    return image_at


def c_image_at(args_for: Callable[[float], Sequence[str]], *, runner, base_dir: str | os.PathLike,
               shape: tuple[int, int], timeout_s: float | None = 300.0) -> Callable[[float], np.ndarray]:
    """``value → the C's float32 image`` for the arguments ``args_for(value)``."""
    from parity.ports.process import run_isolated

    def run(value: float) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="pwb-gradc-") as scratch:
            dest = Path(scratch) / "c.bin"
            result = run_isolated(runner, list(args_for(value)), base=base_dir, float_dest=dest, timeout_s=timeout_s)
            if not result.ok or result.float_path is None:
                tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no float image written"]
                raise ParityInputError(f"C run failed (exit {result.returncode}) at value {value!r}: {tail[0][:200]}")
            data = np.fromfile(dest, dtype="<f4")
        if data.size != shape[0] * shape[1]:
            raise ParityInputError(f"C image has {data.size} values, expected {shape[0]}x{shape[1]}")
        return data.reshape(shape)

    return _cached(run)


def simcore_image_at(args_for: Callable[[float], Sequence[str]], request_for, *, base_dir: str | os.PathLike,
                     dtype: str = "float64") -> Callable[[float], np.ndarray]:
    """``value → simcore's image`` (compute dtype, no float32 store) with the parameter override at
    ``value`` (through ``params``, the path autograd differentiates)."""
    from parity.ports.gradients import simcore_image

    def run(value: float) -> np.ndarray:
        image = simcore_image(list(args_for(value)), request=request_for(value), dtype=dtype, cwd=base_dir)
        return image.astype(np.float64 if dtype == "float64" else np.float32)

    return _cached(run)
