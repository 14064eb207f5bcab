"""The C's pre-parse of ``-mask`` and ``-img`` (reference R3): SMV headers set starting values.

Both files are read before any option: the mask first, then the img, so the img header wins
whatever the argv order; the options parsed afterwards override both (trap T-HEADERS).
"""
from __future__ import annotations

import os

from simcore.errors import SimcoreInputError, SimcoreUsageError

_FIELDS = {"fpixels": "fpixels", "spixels": "spixels", "detsize_f_m": "detsize_f_m",
           "detsize_s_m": "detsize_s_m", "pixel_size_m": "pixel_m", "distance_m": "distance_m",
           "close_distance_m": "close_distance_m", "lambda0_m": "lambda0_m", "xbeam_m": "Xbeam_m",
           "ybeam_m": "Ybeam_m", "orgx_px": "ORGX", "orgy_px": "ORGY", "phi0_rad": "phi0_rad",
           "osc_rad": "osc_rad"}


def _find(argv: list[str], pattern: str) -> str | None:
    found = None
    for i, tok in enumerate(argv):
        if tok.startswith("-") and pattern in tok and i + 1 < len(argv):
            found = argv[i + 1]
    return found


def _read(path: str, cwd: str | None, what: str):
    from simcore.io.smv import read_smv

    full = path if (cwd is None or os.path.isabs(path)) else os.path.join(cwd, path)
    try:
        return read_smv(full)
    except OSError as exc:
        raise SimcoreInputError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None


def ingest_header_files(args, argv: list[str], cwd: str | None) -> None:
    """Apply the -mask and -img headers to ``args`` (in place) and keep the mask pixels."""
    mask_path, img_path = _find(argv, "-mask"), _find(argv, "-img")
    if mask_path is None and img_path is None:
        return
    from simcore.io.smv import ingest_headers

    mask = _read(mask_path, cwd, "-mask") if mask_path else None
    img = _read(img_path, cwd, "-img") if img_path else None
    state = ingest_headers(mask=mask, img=img, pixel_size_m=args.pixel_m)
    for key, value in state.items():
        if key in _FIELDS:
            setattr(args, _FIELDS[key], value)
    if mask is not None:
        args.mask_data = mask.data.copy()
        args.warnings.append(f"skipping zero-flagged pixels in {mask_path}")


def check_mask_shape(args, spixels: int, fpixels: int) -> None:
    if args.mask_data is not None and tuple(args.mask_data.shape) != (spixels, fpixels):
        raise SimcoreUsageError(f"-mask is {args.mask_data.shape[1]}x{args.mask_data.shape[0]} pixels but the "
                                f"detector is {fpixels}x{spixels}")
