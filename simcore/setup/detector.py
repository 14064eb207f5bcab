"""Detector geometry set-up: size, convention, pivot, rotations, pix0 (reference G1–G11).

Mirrors the C set-up sequence step for step in float64 torch, so parameters given as tensors
(distance, beam centre, rotations, 2θ) carry gradients into pix0 and the basis vectors.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import torch

from simcore import vec as V
from simcore.setup.conventions import CONVENTIONS, beam_centre_defaults, beam_to_fs
from simcore.taps import tap

DBL_MIN = sys.float_info.min


@dataclass
class DetectorGeometry:
    """Lab-frame detector after set-up. Vectors are float64 (3,) tensors; lengths in m."""

    convention: str
    pivot: str
    fpixels: int
    spixels: int
    pixel_m: float
    detsize_f_m: float
    detsize_s_m: float
    fdet: torch.Tensor
    sdet: torch.Tensor
    odet: torch.Tensor
    beam: torch.Tensor
    polar: torch.Tensor
    spindle: torch.Tensor
    vert: torch.Tensor
    twotheta_axis: torch.Tensor
    pix0_m: torch.Tensor
    distance_m: torch.Tensor
    close_distance_m: torch.Tensor
    ratio: torch.Tensor
    Xbeam_m: torch.Tensor
    Ybeam_m: torch.Tensor
    Fbeam_m: torch.Tensor
    Sbeam_m: torch.Tensor
    Xclose_m: float
    Yclose_m: float
    Fclose_m: torch.Tensor
    Sclose_m: torch.Tensor
    ORGX: torch.Tensor
    ORGY: torch.Tensor
    dials_origin_mm: torch.Tensor
    rot_rad: tuple
    twotheta_rad: torch.Tensor
    curved: bool
    point_pixel: bool
    odet_regenerated: bool


def detector_size(cargs):
    """(fpixels, spixels, detsize_f_m, detsize_s_m) by the C rule (G1)."""
    detsize_f, detsize_s = cargs.detsize_f_m, cargs.detsize_s_m
    if cargs.fpixels:
        detsize_f = cargs.pixel_m * cargs.fpixels
    if cargs.spixels:
        detsize_s = cargs.pixel_m * cargs.spixels
    fpixels = math.ceil(detsize_f / cargs.pixel_m - 0.5)
    spixels = math.ceil(detsize_s / cargs.pixel_m - 0.5)
    return fpixels, spixels, detsize_f, detsize_s


def _nan(x) -> bool:
    return (not isinstance(x, torch.Tensor)) and math.isnan(x)


def build_detector(cargs, params) -> DetectorGeometry:
    """Run the C detector set-up. ``params`` supplies float64 tensors for differentiable inputs."""
    pixel = cargs.pixel_m
    fpixels, spixels, detsize_f, detsize_s = detector_size(cargs)
    Fclose = (cargs.ORGX - 0.5) * pixel if not math.isnan(cargs.ORGX) else detsize_f / 2.0
    Sclose = (cargs.ORGY - 0.5) * pixel if not math.isnan(cargs.ORGY) else (detsize_s + 0 * pixel) / 2.0
    Xclose = Fclose if math.isnan(cargs.Xclose_m) else cargs.Xclose_m
    Yclose = Sclose if math.isnan(cargs.Yclose_m) else cargs.Yclose_m
    Xbeam = params.get("Xbeam_m", cargs.Xbeam_m)
    Ybeam = params.get("Ybeam_m", cargs.Ybeam_m)

    conv = CONVENTIONS[cargs.convention]
    if conv.name == "CUSTOM":
        given = cargs.vectors
        raw = {k: given.get(k, getattr(conv, k if k != "twotheta" else "twotheta_axis"))
               for k in ("beam", "fdet", "sdet", "odet", "polar", "spindle", "twotheta")}
        Xbeam = Xclose if _nan(Xbeam) else Xbeam
        Ybeam = Yclose if _nan(Ybeam) else Ybeam
        Fbeam, Sbeam = Xbeam, Ybeam
        Fclose, Sclose = Xbeam, Ybeam
        pivot = cargs.pivot
    else:
        raw = {"beam": conv.beam, "fdet": conv.fdet, "sdet": conv.sdet, "odet": conv.odet,
               "polar": conv.polar, "spindle": conv.spindle, "twotheta": conv.twotheta_axis}
        dx, dy = beam_centre_defaults(conv.name, detsize_f_m=detsize_f, detsize_s_m=detsize_s,
                                      pixel_m=pixel, Xclose_m=Xclose, Yclose_m=Yclose)
        Xbeam = dx if _nan(Xbeam) else Xbeam
        Ybeam = dy if _nan(Ybeam) else Ybeam
        Fbeam, Sbeam = beam_to_fs(conv.name, Xbeam, Ybeam, detsize_s_m=detsize_s, pixel_m=pixel)
        pivot = conv.forced_pivot

    beam, _ = V.unitize(V.t64(raw["beam"]))
    fdet, _ = V.unitize(V.t64(raw["fdet"]))
    sdet, _ = V.unitize(V.t64(raw["sdet"]))
    odet, omag = V.unitize(V.t64(raw["odet"]))
    regenerated = V.val(omag) != 1.0
    if regenerated:
        odet, _ = V.unitize(V.cross(fdet, sdet))
    polar, _ = V.unitize(V.t64(raw["polar"]))
    spindle, _ = V.unitize(V.t64(raw["spindle"]))
    twotheta_axis = V.t64(raw["twotheta"])
    vert, _ = V.unitize(V.cross(beam, polar))

    rx = params.get("detector_rotx_rad", cargs.detector_rot_rad[0])
    ry = params.get("detector_roty_rad", cargs.detector_rot_rad[1])
    rz = params.get("detector_rotz_rad", cargs.detector_rot_rad[2])
    twotheta = V.t64(params.get("twotheta_rad", cargs.twotheta_rad))
    distance = V.t64(params.get("distance_m", cargs.distance_m))

    tap("detector_convention", conv.name)
    tap("angles_rad", (V.t64(rx), V.t64(ry), V.t64(rz), twotheta))
    if pivot == "sample":  # the C prints the near point in the SAMPLE branch, the beam centre in BEAM
        tap("beam_center_m", (V.t64(Xclose), V.t64(Yclose), V.t64(pixel * 1000.0)))
    else:
        tap("beam_center_m", (V.t64(Xbeam), V.t64(Ybeam), V.t64(pixel * 1000.0)))
    tap("initial_fdet", fdet)
    tap("initial_sdet", sdet)
    tap("initial_odet", odet)

    ratio = V.dot(beam, V.rotate_xyz(odet, rx, ry, rz))
    if V.val(ratio) == 0.0:
        ratio = ratio + DBL_MIN
    close_distance = params.get("close_distance_m", cargs.close_distance_m)
    close_distance = (torch.abs(ratio * distance) if _nan(close_distance) else V.t64(close_distance))
    distance = close_distance / ratio

    Fclose, Sclose = V.t64(Fclose), V.t64(Sclose)
    if pivot == "sample":
        term_f, term_s, term_o = -Fclose * fdet, -Sclose * sdet, close_distance * odet
        pix0 = term_f - Sclose * sdet + term_o
        tap("Fclose_m", Fclose)
        tap("Sclose_m", Sclose)
        tap("close_distance_m", close_distance)
        tap("ratio", ratio)
        tap("distance_m", distance)
        tap("term_fast_before_rot", term_f)
        tap("term_slow_before_rot", term_s)
        tap("term_close_before_rot", term_o)
        tap("pix0_before_rotation", pix0)
        pix0 = V.rotate_xyz(pix0, rx, ry, rz)
        tap("pix0_after_rotz", pix0)
        pix0 = V.rotate_axis(pix0, twotheta_axis, twotheta)
        tap("pix0_after_twotheta", pix0)

    fdet = V.rotate_xyz(fdet, rx, ry, rz)
    sdet = V.rotate_xyz(sdet, rx, ry, rz)
    odet = V.rotate_xyz(odet, rx, ry, rz)
    tap("fdet_after_rotz", fdet)
    tap("sdet_after_rotz", sdet)
    tap("odet_after_rotz", odet)
    tap("twotheta_axis", twotheta_axis)
    fdet = V.rotate_axis(fdet, twotheta_axis, twotheta)
    sdet = V.rotate_axis(sdet, twotheta_axis, twotheta)
    odet = V.rotate_axis(odet, twotheta_axis, twotheta)
    tap("fdet_after_twotheta", fdet)
    tap("sdet_after_twotheta", sdet)
    tap("odet_after_twotheta", odet)

    if pivot == "beam":
        Fbeam_t, Sbeam_t = V.t64(Fbeam), V.t64(Sbeam)
        term_f, term_s, term_b = -Fbeam_t * fdet, -Sbeam_t * sdet, distance * beam
        pix0 = term_f - Sbeam_t * sdet + term_b
        tap("Rx", V.rotation_matrix_xyz(rx, 0.0, 0.0))
        tap("Ry", V.rotation_matrix_xyz(0.0, ry, 0.0))
        tap("Rz", V.rotation_matrix_xyz(0.0, 0.0, rz))
        tap("R_total", V.rotation_matrix_xyz(rx, ry, rz))
        # the C prints this constant string in the BEAM branch whatever the convention (a trace defect)
        tap("convention_mapping", "Fbeam←Ybeam_mm(+0.5px),Sbeam←Xbeam_mm(+0.5px),beam_vec=[1 0 0]")
        tap("Fbeam_m", Fbeam_t)
        tap("Sbeam_m", Sbeam_t)
        tap("distance_m", distance)
        tap("term_fast", term_f)
        tap("term_slow", term_s)
        tap("term_beam", term_b)
    tap("pix0_vector", pix0)

    Fclose = -V.dot(pix0, fdet)
    Sclose = -V.dot(pix0, sdet)
    close_distance = V.dot(pix0, odet)
    newvec = V.scale(beam, close_distance / ratio) - pix0
    Fbeam = V.dot(fdet, newvec)
    Sbeam = V.dot(sdet, newvec)
    distance = close_distance / ratio
    dials = torch.stack([1000.0 * pix0[2], 1000.0 * pix0[1], 1000.0 * -pix0[0]])
    return DetectorGeometry(
        convention=conv.name, pivot=pivot, fpixels=fpixels, spixels=spixels, pixel_m=pixel,
        detsize_f_m=detsize_f, detsize_s_m=detsize_s, fdet=fdet, sdet=sdet, odet=odet, beam=beam,
        polar=polar, spindle=spindle, vert=vert, twotheta_axis=twotheta_axis, pix0_m=pix0,
        distance_m=distance, close_distance_m=close_distance, ratio=ratio,
        Xbeam_m=V.t64(Xbeam), Ybeam_m=V.t64(Ybeam), Fbeam_m=Fbeam, Sbeam_m=Sbeam,
        Xclose_m=Xclose, Yclose_m=Yclose, Fclose_m=Fclose, Sclose_m=Sclose,
        ORGX=Fclose / pixel + 0.5, ORGY=Sclose / pixel + 0.5, dials_origin_mm=dials,
        rot_rad=(rx, ry, rz), twotheta_rad=twotheta, curved=cargs.curved_det,
        point_pixel=cargs.point_pixel, odet_regenerated=regenerated)
