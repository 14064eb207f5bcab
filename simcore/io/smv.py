"""SMV (ADSC) images as the C program writes and reads them.

Writing (``-intfile``, ``-noisefile``): the header text of the C with ``%g`` values, ``DIALS_ORIGIN``
without its ``;``, ``}\\f``, then spaces up to byte 512 (none if the text is already longer, as in the C),
then the native-endian ``unsigned short`` pixels, fast index fastest. :class:`SmvHeader` holds the
printed values; :meth:`SmvHeader.from_c_state` does the C's own unit arithmetic.

Reading (``GetFrame``): 512 bytes first, the ``{\\nHEADER_BYT`` check, ``HEADER_BYTES`` (re-read if it
is not 512), ``SIZE1`` (fast) / ``SIZE2`` (slow), ``BYTE_ORDER``; pixel data are taken raw (the C never
swaps them; the swap flag is reported only). :func:`value_of` is the C ``ValueOf``: the **last**
occurrence of the keyword as a substring, so ``DISTANCE`` reads ``CLOSE_DISTANCE`` when that comes
later and ``ORGX`` reads ``XDS_ORGX``.

:func:`int_image` is the C's float → int image conversion (scale rule, ADC, clip, ``floorf(v+0.5)``).
"""
from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from simcore.cfmt import c_atof, c_cast_uint16, c_g
from tracekit.atomic import read_input_bytes
from simcore.errors import SimcoreInputError, SimcoreOutputError, SimcoreUsageError
from simcore.noise.poisson import roi_bounds

__all__ = [
    "RTD", "BYTE_ORDER", "SmvHeader", "SmvFrame", "SmvOverrides", "smv_bytes", "write_smv",
    "read_smv", "value_of", "header_overrides", "ingest_headers", "int_image",
    "intfile_scale_rule", "rendered_max_I", "write_bytes_atomic",
]

RTD = 180.0 * 0.31830988618379067154   # the C's ``180.0*M_1_PI``
BYTE_ORDER = "little_endian" if sys.byteorder == "little" else "big_endian"   # get_byte_order()
_SMV_MAGIC = b"{\nHEADER_BYT"
_MAX_PIXELS = 2**31                      # refuse absurd SIZE1·SIZE2 instead of allocating them


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` with the project's one writer (:func:`tracekit.atomic.write_atomic`): a temporary
    sibling and a rename (never half-written), through symlinks and into devices or FIFOs as the C's
    fopen would, never replacing a device or a folder, new files 0666 less the umask. An existing file
    is refused unless ``overwrite`` (SimcoreUsageError); what cannot be written is SimcoreOutputError
    (exit 6)."""
    from tracekit.atomic import OutputError, OutputExistsError, write_atomic

    try:
        return write_atomic(path, data, overwrite=overwrite)
    except OutputExistsError:
        raise SimcoreUsageError(f"refusing to overwrite existing file {path}") from None
    except OutputError as exc:
        raise SimcoreOutputError(str(exc)) from None


# ---- writing ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmvHeader:
    """The values the C prints into an SMV header, in the printed units (mm, Å, degrees, pixels)."""

    fpixels: int
    spixels: int
    pixel_size_mm: float
    distance_mm: float
    wavelength_A: float
    beam_center_x_mm: float
    beam_center_y_mm: float
    adxv_center_x_mm: float
    adxv_center_y_mm: float
    mosflm_center_x_mm: float
    mosflm_center_y_mm: float
    denzo_x_beam_mm: float
    denzo_y_beam_mm: float
    dials_origin_mm: tuple[float, float, float]
    xds_orgx_px: float
    xds_orgy_px: float
    close_distance_mm: float
    phi_deg: float
    osc_start_deg: float
    osc_range_deg: float
    twotheta_deg: float
    byte_order: str = BYTE_ORDER

    @classmethod
    def from_c_state(cls, *, fpixels: int, spixels: int, pixel_size_m: float, distance_m: float,
                     lambda0_m: float, xbeam_m: float, ybeam_m: float, fbeam_m: float,
                     sbeam_m: float, detsize_s_m: float, dials_origin_mm, orgx_px: float,
                     orgy_px: float, close_distance_m: float, phi0_rad: float, osc_rad: float,
                     detector_twotheta_rad: float, noisefile: bool = False) -> "SmvHeader":
        """The header from the C's variables (SI units, radians), with the C's arithmetic.

        ``noisefile`` picks the DENZO line of the noise writer (``Sbeam+0.0·pixel``) instead of the
        int writer's (``Sbeam-0.0·pixel``); they differ only for a beam centre of -0.0.
        """
        sign = 1.0 if noisefile else -1.0
        ox, oy, oz = (float(v) for v in dials_origin_mm)
        return cls(
            fpixels=int(fpixels), spixels=int(spixels),
            pixel_size_mm=pixel_size_m * 1000.0, distance_mm=distance_m * 1000.0,
            wavelength_A=lambda0_m * 1e10,
            beam_center_x_mm=xbeam_m * 1000.0, beam_center_y_mm=ybeam_m * 1000,
            adxv_center_x_mm=fbeam_m * 1000.0, adxv_center_y_mm=(detsize_s_m - sbeam_m) * 1000,
            mosflm_center_x_mm=(sbeam_m - 0.5 * pixel_size_m) * 1000.0,
            mosflm_center_y_mm=(fbeam_m - 0.5 * pixel_size_m) * 1000,
            denzo_x_beam_mm=(sbeam_m + sign * 0.0 * pixel_size_m) * 1000.0,
            denzo_y_beam_mm=(fbeam_m + sign * 0.0 * pixel_size_m) * 1000,
            dials_origin_mm=(ox, oy, oz), xds_orgx_px=float(orgx_px), xds_orgy_px=float(orgy_px),
            close_distance_mm=close_distance_m * 1000.0,
            phi_deg=phi0_rad * RTD, osc_start_deg=phi0_rad * RTD, osc_range_deg=osc_rad * RTD,
            twotheta_deg=detector_twotheta_rad * RTD)

    @classmethod
    def from_text(cls, header_text: str) -> "SmvHeader":
        """Read the values back from a header the C wrote (``%g`` text re-prints identically)."""
        def v(key: str) -> float:
            return value_of(key, header_text)
        text_origin = header_text.split("DIALS_ORIGIN=", 1)
        if len(text_origin) != 2:
            raise SimcoreInputError("SMV header has no DIALS_ORIGIN line")
        origin = tuple(c_atof(p) for p in text_origin[1].split("\n", 1)[0].split(",")[:3])
        order = header_text.split("BYTE_ORDER=", 1)[-1].split(";", 1)[0]
        return cls(
            fpixels=int(v("SIZE1")), spixels=int(v("SIZE2")), pixel_size_mm=v("PIXEL_SIZE"),
            distance_mm=v("\nDISTANCE"), wavelength_A=v("WAVELENGTH"),
            beam_center_x_mm=v("\nBEAM_CENTER_X"), beam_center_y_mm=v("\nBEAM_CENTER_Y"),
            adxv_center_x_mm=v("ADXV_CENTER_X"), adxv_center_y_mm=v("ADXV_CENTER_Y"),
            mosflm_center_x_mm=v("MOSFLM_CENTER_X"), mosflm_center_y_mm=v("MOSFLM_CENTER_Y"),
            denzo_x_beam_mm=v("DENZO_X_BEAM"), denzo_y_beam_mm=v("DENZO_Y_BEAM"),
            dials_origin_mm=origin, xds_orgx_px=v("XDS_ORGX"), xds_orgy_px=v("XDS_ORGY"),
            close_distance_mm=v("CLOSE_DISTANCE"), phi_deg=v("\nPHI"),
            osc_start_deg=v("OSC_START"), osc_range_deg=v("OSC_RANGE"),
            twotheta_deg=v("TWOTHETA"), byte_order=order)

    def text(self) -> bytes:
        """The header bytes exactly as the C writes them, padded with spaces to 512."""
        g = c_g
        ox, oy, oz = self.dials_origin_mm
        s = (
            f"{{\nHEADER_BYTES=512;\nDIM=2;\nBYTE_ORDER={self.byte_order};\nTYPE=unsigned_short;\n"
            f"SIZE1={self.fpixels};\nSIZE2={self.spixels};\nPIXEL_SIZE={g(self.pixel_size_mm)};\n"
            f"DISTANCE={g(self.distance_mm)};\nWAVELENGTH={g(self.wavelength_A)};\n"
            f"BEAM_CENTER_X={g(self.beam_center_x_mm)};\nBEAM_CENTER_Y={g(self.beam_center_y_mm)};\n"
            f"ADXV_CENTER_X={g(self.adxv_center_x_mm)};\nADXV_CENTER_Y={g(self.adxv_center_y_mm)};\n"
            f"MOSFLM_CENTER_X={g(self.mosflm_center_x_mm)};\n"
            f"MOSFLM_CENTER_Y={g(self.mosflm_center_y_mm)};\n"
            f"DENZO_X_BEAM={g(self.denzo_x_beam_mm)};\nDENZO_Y_BEAM={g(self.denzo_y_beam_mm)};\n"
            f"DIALS_ORIGIN={g(ox)},{g(oy)},{g(oz)}\n"
            f"XDS_ORGX={g(self.xds_orgx_px)};\nXDS_ORGY={g(self.xds_orgy_px)};\n"
            f"CLOSE_DISTANCE={g(self.close_distance_mm)};\n"
            f"PHI={g(self.phi_deg)};\nOSC_START={g(self.osc_start_deg)};\n"
            f"OSC_RANGE={g(self.osc_range_deg)};\nTWOTHETA={g(self.twotheta_deg)};\n"
            "DETECTOR_SN=000;\nBEAMLINE=fake;\n}\f"
        ).encode("ascii")
        return s + b" " * max(0, 512 - len(s))


def smv_bytes(image, header: SmvHeader) -> bytes:
    """The whole file: header then the (slow, fast) uint16 image in native byte order."""
    img = np.asarray(image)
    if img.ndim != 2 or img.dtype != np.uint16:
        raise SimcoreUsageError(f"image must be a 2-D uint16 array, got {img.dtype} {img.shape}")
    if img.shape != (header.spixels, header.fpixels):
        raise SimcoreUsageError(
            f"image shape {img.shape} does not match header (SIZE2, SIZE1) = "
            f"({header.spixels}, {header.fpixels})")
    order = "<" if header.byte_order == "little_endian" else ">"
    return header.text() + np.ascontiguousarray(img, dtype=order + "u2").tobytes()


def write_smv(path, image, header: SmvHeader, *, overwrite: bool = False) -> Path:
    """Write an SMV file like the C ``-intfile``/``-noisefile`` writer (atomically)."""
    return write_bytes_atomic(path, smv_bytes(image, header), overwrite=overwrite)


# ---- reading ------------------------------------------------------------------------------------
def value_of(keyword: str, header_text: str) -> float:
    """The C ``ValueOf``: ``atof`` after the first ``=`` following the **last** (non-overlapping,
    left-to-right) occurrence of ``keyword``; NaN if the keyword is absent, 0.0 if no ``=`` follows."""
    if not keyword:
        raise SimcoreUsageError("keyword must not be empty")
    text = header_text.split("\0", 1)[0]
    pos, found = 0, False
    while (i := text.find(keyword, pos)) >= 0:
        pos, found = i + len(keyword), True
    if not found:
        return math.nan
    eq = text.find("=", pos)
    return 0.0 if eq < 0 else c_atof(text[eq + 1:])


def _c_int(value: float) -> int:
    """``(int) double`` on x86-64: truncation; NaN and out-of-range give INT_MIN."""
    if not math.isfinite(value) or not -2.0**31 <= math.trunc(value) < 2.0**31:
        return -(2**31)
    return int(math.trunc(value))


@dataclass(frozen=True)
class SmvFrame:
    """An SMV file as ``GetFrame`` sees it: header text (C string), sizes, and the raw pixels
    ``data`` (height, width) uint16 in this machine's byte order, never swapped (as in the C)."""

    header_text: str
    header_size: int
    width: int
    height: int
    swap_bytes: bool
    data: np.ndarray

    def value_of(self, keyword: str) -> float:
        return value_of(keyword, self.header_text)


def read_smv(path) -> SmvFrame:
    """Read an SMV file with the C ``GetFrame`` rules; unusable files raise :class:`SimcoreInputError`."""
    path = Path(path)
    raw = read_input_bytes(path)
    if len(raw) < 512:
        raise SimcoreInputError(f"{path}: SMV file header: shorter than 512 bytes", c_exit_code=9)
    if raw[:12] != _SMV_MAGIC:
        raise SimcoreInputError(f"{path} does not look like an ADSC frame!")
    header_size = _c_int(value_of("HEADER_BYTES", raw[:512].decode("latin-1")))
    if header_size <= 0 or header_size > len(raw):
        raise SimcoreInputError(f"{path}: bad or truncated HEADER_BYTES ({header_size})", c_exit_code=9)
    text = raw[:header_size].decode("latin-1").split("\0", 1)[0]
    key = text.rfind("BYTE_ORDER=")
    if key < 0:
        raise SimcoreInputError(f"{path}: SMV header has no BYTE_ORDER")
    swap = text[key + 11:key + 21] != BYTE_ORDER[:10]
    width, height = _c_int(value_of("SIZE1", text)), _c_int(value_of("SIZE2", text))
    if width == 0:
        width = height = _c_int(value_of("DETECTOR_DIMENSIONS", text))
    if width <= 0 or height <= 0 or width * height > _MAX_PIXELS:
        raise SimcoreInputError(f"{path}: bad image size SIZE1={width} SIZE2={height}")
    start = (header_size // 2) * 2            # the C indexes ushorts from header_size/2
    chunk = raw[start:start + 2 * width * height]
    if len(chunk) % 2:
        chunk += b"\0"                        # a last half pixel: its other byte stays 0
    buf = np.zeros(width * height, dtype=np.uint16)
    avail = np.frombuffer(chunk, dtype=np.uint16)
    buf[:avail.size] = avail                   # a short file leaves zeros, as the C's calloc
    return SmvFrame(header_text=text, header_size=header_size, width=width, height=height,
                    swap_bytes=swap, data=buf.reshape(height, width))


# ---- header ingestion (-img / -mask) -------------------------------------------------------------
@dataclass(frozen=True)
class SmvOverrides:
    """C variables an ``-img``/``-mask`` header sets (``None``: key absent, the C keeps its value)."""

    fpixels: int
    spixels: int
    detsize_f_m: float
    detsize_s_m: float
    pixel_size_m: float | None = None
    distance_m: float | None = None
    close_distance_m: float | None = None
    lambda0_m: float | None = None
    xbeam_m: float | None = None
    ybeam_m: float | None = None
    orgx_px: float | None = None
    orgy_px: float | None = None
    phi0_rad: float | None = None
    osc_rad: float | None = None
    twotheta_rad: float | None = None


def header_overrides(frame: SmvFrame, *, role: str, pixel_size_m: float) -> SmvOverrides:
    """What the C takes from one header. ``role`` is ``"img"`` or ``"mask"`` (the mask flips the
    Y beam centre: ``Ybeam = detsize_s − BEAM_CENTER_Y/1000``). ``pixel_size_m`` is the C's current
    pixel size, used for ``detsize`` when the header has no ``PIXEL_SIZE``. ``TWOTHETA`` lands in
    ``twotheta_rad``, a C variable nothing else reads."""
    if role not in ("img", "mask"):
        raise SimcoreUsageError(f"role must be 'img' or 'mask', got {role!r}")
    v = frame.value_of
    got: dict[str, float] = {}
    px = v("PIXEL_SIZE")
    if not math.isnan(px):
        pixel_size_m = got["pixel_size_m"] = px / 1000.0
    detsize_s = pixel_size_m * frame.height
    for key, name, conv in (
            ("DISTANCE", "distance_m", lambda t: t / 1000.0),
            ("CLOSE_DISTANCE", "close_distance_m", lambda t: t / 1000.0),
            ("WAVELENGTH", "lambda0_m", lambda t: t / 1e10),
            ("BEAM_CENTER_X", "xbeam_m", lambda t: t / 1000.0),
            ("BEAM_CENTER_Y", "ybeam_m",
             (lambda t: detsize_s - t / 1000.0) if role == "mask" else (lambda t: t / 1000.0)),
            ("ORGX", "orgx_px", float), ("ORGY", "orgy_px", float),
            ("PHI", "phi0_rad", lambda t: t / RTD), ("OSC_RANGE", "osc_rad", lambda t: t / RTD),
            ("TWOTHETA", "twotheta_rad", lambda t: t / RTD)):
        t = v(key)
        if not math.isnan(t):
            got[name] = conv(t)
    return SmvOverrides(fpixels=frame.width, spixels=frame.height,
                        detsize_f_m=pixel_size_m * frame.width, detsize_s_m=detsize_s, **got)


def ingest_headers(*, mask: SmvFrame | None = None, img: SmvFrame | None = None,
                   pixel_size_m: float = 0.1e-3) -> dict[str, float | int]:
    """The C's pre-argv ingestion: mask header first, then img header, so **img wins** whatever
    the argv order. Returns the final values of the C variables that were set (keys as in
    :class:`SmvOverrides`)."""
    state: dict[str, float | int] = {}
    for frame, role in ((mask, "mask"), (img, "img")):
        if frame is None:
            continue
        o = header_overrides(frame, role=role, pixel_size_m=float(state.get("pixel_size_m", pixel_size_m)))
        state.update({f.name: getattr(o, f.name) for f in fields(o) if getattr(o, f.name) is not None})
    return state


# ---- float -> int image -----------------------------------------------------------------------
def rendered_max_I(float_image, *, roi=None, mask=None) -> float:
    """The C's ``max_I``: the largest rendered pixel (inside the ROI, mask value ≠ 0), at least 0.0."""
    img = np.asarray(float_image, dtype=np.float32)
    ss, fs = roi_bounds(img.shape, roi)
    vals = img[ss, fs].astype(np.float64)
    if mask is not None:
        vals = vals[np.asarray(mask)[ss, fs] != 0]
    vals = vals[~np.isnan(vals)]
    return float(max(0.0, vals.max())) if vals.size else 0.0


def intfile_scale_rule(intfile_scale: float, max_I: float) -> float:
    """``-scale`` if it is > 0, else ``55000/max_I`` if ``max_I > 0``, else 1 (C's rule; NaN stays)."""
    if intfile_scale <= 0.0:
        return 55000.0 / max_I if max_I > 0.0 else 1.0
    return float(intfile_scale)


def int_image(float_image, *, scale: float, adc: float = 40.0, roi=None) -> np.ndarray:
    """The C's int image: ``v = float·scale + adc`` (double), clipped to [0, 65535], then
    ``(unsigned short) floorf(v + 0.5)`` (the sum rounded to float32 first). Outside the ROI: 0.
    ``scale`` is the value after :func:`intfile_scale_rule`."""
    img = np.asarray(float_image, dtype=np.float32)
    if img.ndim != 2:
        raise SimcoreUsageError(f"float_image must be 2-D (slow, fast), got shape {img.shape}")
    out = np.zeros(img.shape, dtype=np.uint16)
    ss, fs = roi_bounds(img.shape, roi)
    test = img[ss, fs].astype(np.float64)
    test *= float(scale)
    test += float(adc)
    np.clip(test, 0.0, 65535.0, out=test)       # NaN stays NaN, as the C's two ifs leave it
    test += 0.5
    rounded = test.astype(np.float32)           # floorf() takes a float
    np.floor(rounded, out=rounded)
    out[ss, fs] = c_cast_uint16(rounded)
    return out
