"""nb-compare's default runner timeout: proportional to the work, so a hung port is killed and a big run is not.

    timeout_s = BASE_S + PER_EVALUATION_S * pixels * loops
    loops     = sources * mosaic domains * phi steps * thickness steps * oversample^2

``pixels`` from the detector flags (1024² when the size comes from an ``-img``/``-mask`` header),
the loop counts by the C's rules (:func:`parity.ports.workload.loop_counts`); an automatic oversample
is the C's formula when the arguments fix it (:func:`parity.quirks.triggers.auto_oversample`), else
``UNKNOWN_OVERSAMPLE``. ``BASE_S`` = 120 s covers interpreter and torch start-up and file staging on a
loaded machine; ``PER_EVALUATION_S`` = 5 µs is ~30x what the C (~0.15 µs) and simcore on CPU
(~0.35 µs) take per pixel evaluation here, room for a slower port on a busy machine. The limit is
per runner; ``--timeout S`` replaces it. On expiry the runner's whole process group is killed
(:mod:`parity.ports.process`) and nb-compare exits 2 (runner failed).
"""
from __future__ import annotations

import os
from typing import Sequence

__all__ = ["default_timeout", "BASE_S", "PER_EVALUATION_S", "UNKNOWN_OVERSAMPLE", "UNKNOWN_PIXELS"]

BASE_S = 120.0
PER_EVALUATION_S = 5e-6
UNKNOWN_OVERSAMPLE = 4
UNKNOWN_PIXELS = 1024 * 1024


def default_timeout(args: Sequence[str], *, base: str | os.PathLike | None = None,
                    shape: tuple[int, int] | None = None) -> dict:
    """``{"timeout_s", "pixels", "loops", "rule"}`` for ``args`` (``shape`` = the expected (slow, fast))."""
    from parity.ports.workload import loop_counts
    from parity.quirks.triggers import auto_oversample

    counts = loop_counts(args, base=base)
    oversample = counts.oversample or auto_oversample(list(args)) or UNKNOWN_OVERSAMPLE
    pixels = int(shape[0]) * int(shape[1]) if shape else UNKNOWN_PIXELS
    loops = counts.per_subpixel * oversample * oversample
    seconds = BASE_S + PER_EVALUATION_S * pixels * loops
    return {"timeout_s": round(seconds, 1), "pixels": pixels, "loops": loops,
            "rule": f"{BASE_S:g} s + {PER_EVALUATION_S * 1e6:g} us x pixels x loops (per runner)"}
