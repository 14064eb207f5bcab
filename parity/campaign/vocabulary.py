"""The campaign's flag vocabulary: every C flag a drawn case may use, with the number of values it takes.

This is the strategy's own list (the draw must not import simcore, see :mod:`parity.campaign.draw`);
``tests/test_campaign_strategy.py`` checks that it is a subset of the C's flag table
(:func:`parity.ports.flagspec.flag_info`): each flag is a pattern of the table with the same
number of values. Grouped by the physics they drive, so a case's *features* can be named.
"""
from __future__ import annotations

__all__ = ["FLAGS", "GROUPS", "feature_of"]

GROUPS: dict[str, dict[str, int]] = {
    "detector": {"-detpixels": 1, "-detpixels_f": 1, "-detpixels_s": 1, "-pixel": 1, "-distance": 1,
                 "-close_distance": 1, "-point_pixel": 0, "-curved_det": 0, "-roi": 4},
    "convention": {"-mosflm": 0, "-xds": 0, "-adxv": 0, "-denzo": 0, "-dials": 0, "-pivot": 1},
    "custom_vectors": {"-fdet_vector": 3, "-sdet_vector": 3, "-odet_vector": 3, "-beam_vector": 3,
                       "-polar_vector": 3, "-spindle_axis": 3, "-twotheta_axis": 3, "-pix0_vector": 3},
    "beam_centre": {"-Xbeam": 1, "-Ybeam": 1, "-Xclose": 1, "-Yclose": 1, "-ORGX": 1, "-ORGY": 1},
    "rotation": {"-detector_rotx": 1, "-detector_roty": 1, "-detector_rotz": 1, "-twotheta": 1},
    "beam": {"-lambda": 1, "-energy": 1, "-fluence": 1},
    "dispersion": {"-dispersion": 1, "-dispsteps": 1},
    "divergence": {"-divergence": 1, "-divsteps": 1, "-hdivrange": 1, "-vdivrange": 1, "-hdivsteps": 1,
                   "-vdivsteps": 1, "-round_div": 0, "-square_div": 0},
    "polarization": {"-polar": 1, "-nopolar": 0},
    "cell": {"-cell": 6, "-mat": 1, "-misset": 3, "-misset_seed": 1},
    "crystal": {"-N": 1, "-Na": 1, "-Nb": 1, "-Nc": 1, "-round_xtal": 0, "-square_xtal": 0, "-gauss_xtal": 0,
                "-tophat_spots": 0, "-fudge": 1},
    "structure_factors": {"-default_F": 1, "-hkl": 1, "-interpolate": 0, "-nointerpolate": 0},
    "mosaic": {"-mosaic": 1, "-mosaic_dom": 1, "-mosaic_seed": 1},
    "phi": {"-phi": 1, "-osc": 1, "-phisteps": 1, "-phistep": 1},
    "thickness": {"-detector_thick": 1, "-detector_abs": 1, "-thicksteps": 1, "-oversample_thick": 0},
    "oversample": {"-oversample": 1, "-oversample_polar": 0, "-oversample_omega": 0},
    "resolution": {"-dmin": 1},
    "background": {"-water": 1},
}

FLAGS: dict[str, int] = {flag: n for group in GROUPS.values() for flag, n in group.items()}
_GROUP_OF = {flag: name for name, group in GROUPS.items() for flag in group}


def feature_of(flag: str) -> str:
    """The group a vocabulary flag belongs to (KeyError for a flag outside the vocabulary)."""
    return _GROUP_OF[flag]
