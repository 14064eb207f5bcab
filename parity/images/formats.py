"""Detector and picture formats beyond nanoBragg's own, recognised by their first bytes.

=========  =====================================  ===============================================
format     recognised by                          read with
=========  =====================================  ===============================================
CBF        ``###CBF``                             fabio (Pilatus/mini-CBF, byte-offset compressed)
EDF        ``{`` + ``EDF_``/``HeaderID`` header   fabio (ESRF data format)
TIFF       ``II*\\0`` / ``MM\\0*``                  fabio (MarCCD, Pilatus TIFF, float TIFF...)
SMV        ``{`` + ``HEADER_BYTES=`` (not the     fabio (ADSC/d*TREK variants); nanoBragg's own
           nanoBragg ``TYPE=unsigned_short``)     unsigned_short SMV is read bit-exactly in io.py
HDF5       ``\\x89HDF``                             ``FILE::/path`` or the file's only 2-D dataset
                                                  (h5py); Eiger/NeXus masters via fabio
PGM        ``P5`` / ``P2``                          here (nanoBragg ``-pgmfile``: 8-bit, scaled!)
PNG        ``\\x89PNG``                             Pillow, one channel only (a colour PNG is a
                                                  picture, e.g. an overlay, not data)
=========  =====================================  ===============================================

fabio is the community's reader for these formats (maintained at ESRF, used by pyFAI and DIALS-era
tools), so no home-made parser is needed, and Pillow reads PNG. PGM is read here, values as stored:
fabio's PNM reader stops at the comment line nanoBragg writes, and Pillow rescales any maxval other
than 255 to 0..255. A file holding several frames is refused: which frame to
compare is the user's choice (write that frame as ``.npy``). Every failure is a one-line
:class:`parity.errors.ParityInputError` (exit 5).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from parity.errors import ParityInputError

__all__ = ["sniff_format", "read_detector_file", "split_dataset_path", "raw_size_hint"]

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_GAP = rb"(?:\s|#[^\n]*\n)*"                   # whitespace and comment lines of a Netpbm header
_PGM_HEADER = re.compile(rb"P[25]\s" + _GAP + rb"\d+\s" + _GAP + rb"\d+\s" + _GAP + rb"\d+\s")
_ITEM_NAMES = {8: ("float64",), 4: ("float32", "int32"), 2: ("uint16", "int16"), 1: ("uint8",)}


def sniff_format(data: bytes) -> str | None:
    """The format name of a file from its first bytes, or None (raw or unknown).

    >>> sniff_format(b"###CBF: VERSION 1.5"), sniff_format(b"P5\\n10 12\\n255\\n"), sniff_format(b"\\0\\0")
    ('CBF', 'PGM', None)
    """
    head = data[:1024]
    if head.startswith(b"###CBF"):
        return "CBF"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if head.startswith(_HDF5_MAGIC):
        return "HDF5"
    if head.startswith(_PNG_MAGIC):
        return "PNG"
    if _PGM_HEADER.match(head):
        return "PGM"
    if head.startswith(b"{"):
        if b"HEADER_BYTES" in head[:512]:
            return "SMV"
        if b"EDF_" in head or b"HeaderID" in head or b"ByteOrder" in head:
            return "EDF"
    return None


def split_dataset_path(path: str) -> tuple[Path, str | None]:
    """``"file.h5::/entry/data"`` → (Path("file.h5"), "/entry/data"); other paths unchanged."""
    text = str(path)
    if "::" in text:
        name, _, dataset = text.partition("::")
        return Path(name), dataset or None
    return Path(text), None


def _one_frame(array: np.ndarray, path, n_frames: int = 1) -> np.ndarray:
    if n_frames > 1:
        raise ParityInputError(f"{path}: holds {n_frames} frames; save the frame to compare as .npy")
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ParityInputError(f"{path}: expected one 2-D image, got shape {array.shape}")
    if array.dtype.kind not in "iuf":
        raise ParityInputError(f"{path}: holds {array.dtype} values, not real numbers")
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))


def _read_fabio(path: Path, kind: str) -> np.ndarray:
    import fabio

    try:
        image = fabio.open(str(path))
    except Exception as exc:  # noqa: BLE001 - fabio raises many types for one cause: an unreadable file
        raise ParityInputError(f"{path}: unreadable {kind} file ({type(exc).__name__}: {exc})".strip()) from None
    return _one_frame(np.asarray(image.data), path, int(getattr(image, "nframes", 1) or 1))


def _hdf5_images(handle) -> list[str]:
    found: list[str] = []

    def visit(name, obj):
        if hasattr(obj, "shape") and len(obj.shape) in (2, 3) and obj.dtype.kind in "iuf" and obj.size > 1:
            found.append("/" + name)

    handle.visititems(visit)
    return found


def _read_hdf5(path: Path, dataset: str | None) -> np.ndarray:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if dataset is None:
                names = _hdf5_images(handle)
                if len(names) != 1 and handle.get("entry/data") is not None:
                    return _read_fabio(path, "HDF5 (Eiger/NeXus)")
                if len(names) != 1:
                    listed = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "") if names else "none"
                    raise ParityInputError(f"{path}: {len(names)} image datasets ({listed}); name one as"
                                           f" {path}::/path/to/dataset")
                dataset = names[0]
            if dataset not in handle or not hasattr(handle[dataset], "shape"):
                raise ParityInputError(f"{path}: no dataset {dataset!r}")
            data = handle[dataset][()]
    except OSError as exc:
        raise ParityInputError(f"{path}: unreadable HDF5 file ({exc})") from None
    n = data.shape[0] if data.ndim == 3 else 1
    return _one_frame(np.asarray(data), f"{path}::{dataset}", n)


def _read_pillow(path: Path, kind: str) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as picture:
            mode = picture.mode
            if mode not in ("L", "I;16", "I;16B", "I", "F"):
                raise ParityInputError(f"{path}: a {kind} picture in colour mode {mode}, not detector data"
                                       " (one channel); compare the images it was made from")
            array = np.array(picture)
    except OSError as exc:
        raise ParityInputError(f"{path}: unreadable {kind} ({exc})") from None
    return _one_frame(array, path)


def _read_pgm(path: Path) -> np.ndarray:
    """Netpbm greymap, P5 (binary; 1 byte per pixel when maxval < 256, else 2, big-endian) or P2
    (ASCII); ``#`` comments allowed in the header."""
    data = path.read_bytes()
    tokens: list[bytes] = []
    pos = 2
    while len(tokens) < 3:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.find(b"\n", pos) + 1 or len(data)
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        if start == pos:
            raise ParityInputError(f"{path}: PGM header ends early")
        tokens.append(data[start:pos])
    try:
        n_fast, n_slow, maxval = (int(v) for v in tokens)
    except ValueError:
        raise ParityInputError(f"{path}: PGM header {b' '.join(tokens)!r} is not width height maxval") from None
    kind = np.dtype("u1") if maxval < 256 else np.dtype(">u2")
    if data[:2] == b"P2":
        values = np.array(data[pos:].split(), dtype=np.int64)
    else:
        size = n_fast * n_slow * kind.itemsize
        gap = data[pos:len(data) - size]           # one whitespace by the standard; some writers put more
        body = data[len(data) - size:] if len(gap) >= 1 and gap.isspace() else data[pos + 1:]
        if len(body) != size:
            raise ParityInputError(f"{path}: PGM {n_fast} x {n_slow} needs {n_fast * n_slow * kind.itemsize}"
                                   f" bytes of pixels, has {len(body)}")
        values = np.frombuffer(body, dtype=kind)
    if values.size != n_fast * n_slow:
        raise ParityInputError(f"{path}: PGM {n_fast} x {n_slow} holds {values.size} values")
    return _one_frame(values.reshape(n_slow, n_fast).astype(kind.newbyteorder("=")), path)


def read_detector_file(path: Path, kind: str, dataset: str | None = None) -> np.ndarray:
    """Read a file :func:`sniff_format` named ``kind`` as a 2-D ``[slow, fast]`` array in its dtype."""
    if kind == "HDF5":
        return _read_hdf5(path, dataset)
    if dataset is not None:
        raise ParityInputError(f"{path}: '::{dataset}' names a dataset, but this is a {kind} file, not HDF5")
    if kind == "PGM":
        return _read_pgm(path)
    if kind == "PNG":
        return _read_pillow(path, kind)
    return _read_fabio(path, kind)


def raw_size_hint(n_bytes: int, shape: tuple[int, int] | None) -> str | None:
    """What a raw file of ``n_bytes`` could be: ``"256 x 256 float64; pass --dtype float64"`` when the
    shape is known, else the square shapes it fits (float32 first); None when nothing fits.

    >>> raw_size_hint(524288, (256, 256))
    '256 x 256 float64; pass --dtype float64'
    >>> raw_size_hint(262144, None)
    '256 x 256 float32 (--shape 256 256) or 512 x 512 uint8 (--dtype uint8 --shape 512 512)'
    """
    if shape is not None:
        pixels = shape[0] * shape[1]
        for item, names in _ITEM_NAMES.items():
            if n_bytes == pixels * item and names[0] != "float32":
                return f"{shape[0]} x {shape[1]} {' or '.join(names)}; pass --dtype {names[0]}"
        return None
    fits = []
    for item in (4, 8, 2, 1):
        side = int(round((n_bytes / item) ** 0.5)) if n_bytes % item == 0 else 0
        if side > 0 and side * side * item == n_bytes:
            dtype = _ITEM_NAMES[item][0]
            fits.append(f"{side} x {side} {dtype} (--dtype {dtype} --shape {side} {side})"
                        if dtype != "float32" else f"{side} x {side} float32 (--shape {side} {side})")
    return " or ".join(fits) if fits else None
