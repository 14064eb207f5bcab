"""Image files in and result files out, for every parity tool.

Reading (:func:`read_image`) returns a 2-D array indexed ``[slow, fast]`` (C order, fast index
fastest, as nanoBragg writes it) with the file's own dtype, so float32 values stay bit-exact.
The format is recognised from the first bytes, never the extension:

* raw ``-floatfile`` output: float32, little-endian, no header (another dtype with ``dtype=``,
  e.g. ``"float64"``, ``"uint16"``, ``">f4"``; no byte order given means little-endian). The shape
  comes from, in this order, an explicit ``shape=(slow, fast)``, a nanoBragg argument list
  (:func:`shape_from_nanobragg_args`), or a sibling ``meta.json`` holding ``spixels``/``fpixels``;
  otherwise it is an error (no guessing) that says which shapes and dtypes the byte count fits.
* ``.npy`` (recognised by its magic bytes): any real 2-D numeric array.
* nanoBragg's (ADSC) SMV (``-intfile``/``-noisefile``; ``{`` + ``HEADER_BYTES=`` with a ``TYPE=``
  key, which must be ``unsigned_short``): ``SIZE1`` is the fast size, ``SIZE2`` the slow size,
  ``BYTE_ORDER`` little/big_endian; read here, bit-exactly.
* CBF, EDF, TIFF, other SMV variants, HDF5 (``FILE::/dataset`` or the file's only image dataset),
  PGM and one-channel PNG: :mod:`parity.images.formats` (fabio, h5py, Pillow).

Every unusable input (missing or unreadable file, wrong byte count for the shape, bad header,
NaN/Inf where finite values are required) raises :class:`parity.errors.ParityInputError` (exit 5)
with a one-line message. Writing (:func:`write_output_atomic`) goes through a temporary sibling and
a rename, and refuses to replace an existing file unless asked.
"""
from __future__ import annotations

import json
import math
import os
import shlex
from pathlib import Path
from typing import Sequence

import numpy as np

from parity.errors import ParityInputError, ParityUsageError
from parity.images.formats import raw_size_hint, read_detector_file, sniff_format, split_dataset_path
from parity.images.outputs import write_json_atomic, write_output_atomic  # noqa: F401 - re-exported

__all__ = [
    "DEFAULT_DETSIZE_MM", "DEFAULT_PIXEL_MM", "read_image", "read_smv_header", "shape_from_meta",
    "shape_from_nanobragg_args", "check_image", "check_same_shape", "read_pair", "write_output_atomic",
    "write_json_atomic", "raw_dtype",
]

DEFAULT_DETSIZE_MM = 102.4   # nanoBragg default detsize_f = detsize_s (mm)
DEFAULT_PIXEL_MM = 0.1       # nanoBragg default pixel size (mm)
_NPY_MAGIC = b"\x93NUMPY"
_SMV_TYPES = {"unsigned_short": "u2"}
_SMV_ORDERS = {"little_endian": "<", "big_endian": ">"}


# ---- shape resolution -------------------------------------------------------------------------
def _flag_value(tokens: list[str], i: int, kind: type) -> float:
    flag = tokens[i]
    if i + 1 >= len(tokens):
        raise ParityUsageError(f"nanoBragg argument {flag} needs a value")
    text = tokens[i + 1]
    try:
        return kind(text)
    except ValueError:
        raise ParityUsageError(f"nanoBragg argument {flag} needs a {kind.__name__}, got {text!r}") from None


def shape_from_nanobragg_args(args: str | Sequence[str]) -> tuple[int, int]:
    """``(spixels, fpixels)`` a nanoBragg command line produces, by the C program's own rule.

    Flags are read left to right, later ones winning: ``-detpixels N`` (both), ``-detpixels_f`` /
    ``-detpixels_x`` (fast), ``-detpixels_s`` / ``-detpixels_y`` (slow), ``-detsize`` (mm, both),
    ``-detsize_f`` / ``-detsize_s``, ``-pixel`` (mm). Then, as in the C: a pixel count that was set
    beats the size (``detsize = pixel * npix``), and ``npix = ceil(detsize / pixel - 0.5)``.
    Defaults: 102.4 mm and 0.1 mm, i.e. 1024 x 1024. Sizes taken from ``-img``/``-mask`` headers are
    not modelled (ParityUsageError); pass the shape explicitly then.

    >>> shape_from_nanobragg_args("-detpixels_f 320 -detpixels_s 192 -pixel 0.1")
    (192, 320)
    >>> shape_from_nanobragg_args("-detsize 100 -pixel 0.172")
    (581, 581)
    """
    try:
        tokens = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
    except ValueError as exc:           # an unbalanced quote
        raise ParityUsageError(f"nanoBragg arguments {args!r}: {exc}") from None
    pixel_m = DEFAULT_PIXEL_MM / 1000.0
    detsize_f_m = detsize_s_m = DEFAULT_DETSIZE_MM / 1000.0
    fpixels = spixels = 0
    for i, flag in enumerate(tokens):
        if flag in ("-img", "-mask"):
            raise ParityUsageError(f"image size from the {flag} file header is not modelled; give the shape")
        if flag == "-detpixels":
            fpixels = spixels = int(_flag_value(tokens, i, int))
        elif flag in ("-detpixels_f", "-detpixels_x"):
            fpixels = int(_flag_value(tokens, i, int))
        elif flag in ("-detpixels_s", "-detpixels_y"):
            spixels = int(_flag_value(tokens, i, int))
        elif flag == "-detsize":
            detsize_f_m = detsize_s_m = _flag_value(tokens, i, float) / 1000.0
        elif flag == "-detsize_f":
            detsize_f_m = _flag_value(tokens, i, float) / 1000.0
        elif flag == "-detsize_s":
            detsize_s_m = _flag_value(tokens, i, float) / 1000.0
        elif flag == "-pixel":
            pixel_m = _flag_value(tokens, i, float) / 1000.0
    if not pixel_m > 0:
        raise ParityUsageError(f"-pixel must be > 0 mm, got {pixel_m * 1000.0:g}")
    if fpixels:
        detsize_f_m = pixel_m * fpixels
    if spixels:
        detsize_s_m = pixel_m * spixels
    n_fast = math.ceil(detsize_f_m / pixel_m - 0.5)
    n_slow = math.ceil(detsize_s_m / pixel_m - 0.5)
    if n_fast < 1 or n_slow < 1:
        raise ParityUsageError(f"nanoBragg arguments give an empty detector ({n_slow} x {n_fast} pixels)")
    return (n_slow, n_fast)


def shape_from_meta(path: str | os.PathLike, *, check_dtype: bool = True) -> tuple[int, int] | None:
    """``(spixels, fpixels)`` from a ``meta.json`` beside ``path``; None when there is none.
    Its ``dtype``/``byte_order`` must say float32 little-endian unless ``check_dtype=False``
    (an explicit dtype was given)."""
    meta_path = Path(path).with_name("meta.json")
    if not meta_path.is_file():
        return None
    try:
        from tracekit.atomic import read_input_text

        meta = json.loads(read_input_text(meta_path))
        shape = (int(meta["spixels"]), int(meta["fpixels"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ParityInputError(f"{meta_path}: no usable spixels/fpixels ({type(exc).__name__})") from None
    dtype, order = meta.get("dtype", "float32"), meta.get("byte_order", "little-endian")
    if check_dtype and (dtype != "float32" or order != "little-endian"):
        raise ParityInputError(f"{meta_path}: raw images must be float32 little-endian, meta says {dtype} {order}")
    return shape


def _validate_shape(shape: Sequence[int]) -> tuple[int, int]:
    try:
        n_slow, n_fast = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ParityUsageError(f"shape must be two integers (slow, fast), got {shape!r}") from None
    if n_slow < 1 or n_fast < 1:
        raise ParityUsageError(f"shape must be positive (slow, fast), got {shape!r}")
    return (n_slow, n_fast)


# ---- readers ----------------------------------------------------------------------------------
def _read_bytes(path: Path) -> bytes:
    """The whole file; a FIFO, device or socket is refused before a byte is read (never blocks)."""
    from tracekit.atomic import InputFileError, read_input_bytes

    try:
        return read_input_bytes(path)
    except InputFileError as exc:
        raise ParityInputError(str(exc)) from None
    except FileNotFoundError:
        raise ParityInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ParityInputError(f"{path}: is a directory, not an image file") from None
    except OSError as exc:
        raise ParityInputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_smv_header(data: bytes, *, path: str | os.PathLike = "<smv>") -> dict[str, str]:
    """The ``KEY=value;`` pairs of an SMV header (values as stripped strings)."""
    end = data.find(b"}")
    if not data.startswith(b"{") or end < 0:
        raise ParityInputError(f"{path}: not an SMV header (no '{{ ... }}' block)")
    text = data[1:end].decode("ascii", errors="replace")
    header: dict[str, str] = {}
    for line in text.replace("\r", "").split("\n"):
        if "=" in line:
            key, _, value = line.partition("=")
            header[key.strip()] = value.strip().rstrip(";").strip()
    return header


def _is_nanobragg_smv(data: bytes, path: Path) -> bool:
    """An SMV header in the ADSC dialect nanoBragg writes (a ``TYPE=`` key; read here, and an
    unsupported TYPE is refused); other dialects (d*TREK ``Data_type=``...) go to fabio."""
    return "TYPE" in read_smv_header(data, path=path)


def _read_smv(data: bytes, path: Path) -> np.ndarray:
    header = read_smv_header(data, path=path)
    try:
        header_bytes = int(header["HEADER_BYTES"])
        n_fast, n_slow = int(header["SIZE1"]), int(header["SIZE2"])
    except (KeyError, ValueError):
        raise ParityInputError(f"{path}: SMV header lacks integer HEADER_BYTES/SIZE1/SIZE2") from None
    kind = _SMV_TYPES.get(header.get("TYPE", ""))
    order = _SMV_ORDERS.get(header.get("BYTE_ORDER", ""))
    if kind is None or order is None:
        raise ParityInputError(
            f"{path}: unsupported SMV TYPE={header.get('TYPE')!r} BYTE_ORDER={header.get('BYTE_ORDER')!r}")
    expected = header_bytes + n_slow * n_fast * 2
    if len(data) != expected:
        raise ParityInputError(f"{path}: {len(data)} bytes, expected {expected} for SMV header {header_bytes}"
                               f" + {n_slow}x{n_fast} unsigned_short")
    pixels = np.frombuffer(data, dtype=order + kind, count=n_slow * n_fast, offset=header_bytes)
    return pixels.reshape(n_slow, n_fast).astype(np.uint16)


def _read_npy(path: Path) -> np.ndarray:
    try:
        image = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ParityInputError(f"{path}: unreadable .npy ({exc})") from None
    return np.ascontiguousarray(image)


def raw_dtype(dtype: object = None) -> np.dtype:
    """The numpy dtype of raw files: float32 little-endian by default; a real numeric dtype
    otherwise, little-endian unless its byte order is given (``">f4"``). ParityUsageError if not.

    >>> raw_dtype().str, raw_dtype("float64").str, raw_dtype(">u2").str
    ('<f4', '<f8', '>u2')
    """
    if dtype is None:
        return np.dtype("<f4")
    try:
        kind = np.dtype(dtype)
    except TypeError:
        raise ParityUsageError(f"--dtype {dtype!r} is not a numpy dtype (e.g. float32, float64, uint16)") from None
    if kind.kind not in "iuf" or kind.itemsize > 8:
        raise ParityUsageError(f"--dtype must be a real numeric dtype (int, uint, float), got {kind}")
    return kind.newbyteorder("<") if kind.byteorder in ("=", "|") and kind.itemsize > 1 else kind


def _read_raw(data: bytes, path: Path, shape: tuple[int, int] | None, kind: np.dtype) -> np.ndarray:
    if shape is None:
        hint = raw_size_hint(len(data), None)
        raise ParityInputError(f"{path}: raw image of unknown shape ({len(data)} bytes"
                               f"{' = ' + hint if hint else ''}); give the shape (slow, fast),"
                               " the nanoBragg arguments, or a meta.json beside it")
    expected = shape[0] * shape[1] * kind.itemsize
    if len(data) != expected:
        hint = raw_size_hint(len(data), shape)
        if hint and kind == np.dtype("<f4"):
            raise ParityInputError(f"{path}: {len(data)} bytes = {hint} (as float32 it would be"
                                   f" {expected} bytes)")
        raise ParityInputError(f"{path}: {len(data)} bytes, expected {expected} for {kind.name} shape"
                               f" (slow={shape[0]}, fast={shape[1]})")
    return np.frombuffer(data, dtype=kind).reshape(shape).astype(kind.newbyteorder("="))


def read_image(path: str | os.PathLike, *, shape: Sequence[int] | None = None,
               nanobragg_args: str | Sequence[str] | None = None, dtype: object = None) -> np.ndarray:
    """Read a detector image as a 2-D ``[slow, fast]`` array in the file's dtype.

    Parameters
    ----------
    path : path-like
        Raw (``-floatfile``), ``.npy``, SMV, CBF, EDF, TIFF, HDF5 (``FILE::/dataset`` names the
        dataset), PGM or one-channel PNG file; the format is recognised from the first bytes.
    shape : (int, int), optional
        ``(slow, fast)`` pixel counts of a raw file (checked against other formats if given).
    nanobragg_args : str or sequence of str, optional
        The nanoBragg command line that wrote a raw file; its shape per
        :func:`shape_from_nanobragg_args`. Used when ``shape`` is not given.
    dtype : numpy dtype or its name, optional
        Element type of a raw file (:func:`raw_dtype`; default float32 little-endian). Ignored by
        formats that carry their own.

    Returns
    -------
    ndarray of shape (slow, fast)
        float32 for raw files (or ``dtype``), uint16 for nanoBragg's SMV, the stored dtype
        otherwise; native byte order, writable, C-contiguous.

    Raises
    ------
    ParityInputError
        Missing/unreadable file, wrong byte count, bad header, not 2-D, several frames, no way to
        know the shape.
    """
    path, dataset = split_dataset_path(os.fspath(path))
    kind = raw_dtype(dtype)
    data = _read_bytes(path)
    given = _validate_shape(shape) if shape is not None else None
    fmt = sniff_format(data)
    if data.startswith(_NPY_MAGIC):
        image = _read_npy(path)
    elif fmt == "SMV" and _is_nanobragg_smv(data, path):
        image = _read_smv(data, path)
    elif fmt is not None:
        image = read_detector_file(path, fmt, dataset)
    else:
        if given is None and nanobragg_args is not None:
            given = shape_from_nanobragg_args(nanobragg_args)
        return _read_raw(data, path, given or shape_from_meta(path, check_dtype=dtype is None), kind)
    if image.ndim != 2:
        raise ParityInputError(f"{path}: expected a 2-D image, got shape {image.shape}")
    if given is not None and tuple(image.shape) != given:
        raise ParityInputError(f"{path}: holds shape {tuple(image.shape)}, but shape {given} was given")
    return image


def read_pair(ref_path: str | os.PathLike, cand_path: str | os.PathLike, *, shape: Sequence[int] | None = None,
              nanobragg_args: str | Sequence[str] | None = None,
              dtype: object = None) -> tuple[np.ndarray, np.ndarray]:
    """Read a reference and a candidate image (same options) and check they have the same shape
    (ParityShapeError, exit 4, otherwise)."""
    ref = read_image(ref_path, shape=shape, nanobragg_args=nanobragg_args, dtype=dtype)
    cand = read_image(cand_path, shape=shape, nanobragg_args=nanobragg_args, dtype=dtype)
    check_same_shape(ref, cand)
    return ref, cand


# ---- checks -----------------------------------------------------------------------------------
def check_image(image: object, *, name: str = "image", allow_empty: bool = False) -> np.ndarray:
    """Return ``image`` as an ndarray after checking it is 2-D, real numeric, finite and (unless
    ``allow_empty``) non-empty. Never copies or modifies it.

    NaN/Inf are refused (ParityInputError, exit 5) with their count and the first one's (slow, fast).
    """
    array = np.asarray(image)
    if array.ndim != 2:
        raise ParityInputError(f"{name} must be a 2-D (slow, fast) image, got shape {array.shape}")
    if array.size == 0 and not allow_empty:
        raise ParityInputError(f"{name} is empty (shape {array.shape})")
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer)
                                   or np.issubdtype(array.dtype, np.floating)):
        raise ParityInputError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.floating):
        finite = np.isfinite(array)
        if not finite.all():
            bad = np.argwhere(~finite)
            s, f = (int(v) for v in bad[0])
            raise ParityInputError(f"{name} has {len(bad)} NaN/Inf pixel(s), first at slow={s} fast={f}"
                                   f" ({array[s, f]})")
    return array


def check_same_shape(ref: np.ndarray, cand: np.ndarray) -> None:
    """ParityShapeError (exit 4) unless the two images have the same (slow, fast) shape."""
    from parity.errors import ParityShapeError

    if ref.shape != cand.shape:
        swapped = " (transposed: slow and fast swapped?)" if ref.shape == cand.shape[::-1] else ""
        raise ParityShapeError(f"shape mismatch: reference (slow, fast) = {ref.shape},"
                               f" candidate = {cand.shape}{swapped}")
