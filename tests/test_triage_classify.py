"""parity.triage's image classes, argument units and trace-diff adapter, on synthetic images (no ports)."""
from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

from parity.images.peak_table import compare_peaks
from parity.triage.classify import classify_difference

S, F = np.mgrid[0:64, 0:64].astype(np.float64)


def _spot(cs, cf, amp, w=4.0):
    return amp * np.exp(-((S - cs) ** 2 + (F - cf) ** 2) / w)


def _image(dx=0.0, dy=0.0):
    """Three peaks off the centre on a weak sloping background (so flips and transposes differ)."""
    return (_spot(30 + dx, 36 + dy, 100.0) + _spot(45 + dx, 29 + dy, 50.0, 3.0) + _spot(5 + dx, 50 + dy, 30.0, 3.0)
            + 0.01 * (S + 2 * F + 1))


REF = _image()
RADIUS = np.hypot(S - 31.5, F - 31.5) / 45.0


def classes(cand, ref=REF):
    cl = classify_difference(ref, cand, peaks=compare_peaks(ref, cand, percentile=99))
    return cl, {c.name: c for c in cl.classes}


@pytest.mark.parametrize("module", ["parity.ports.flagspec", "parity.triage.units", "parity.triage.geometry"])
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module), extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0


def test_identical_images_have_no_class():
    cl, _ = classes(REF.copy())
    assert cl.primary is None and cl.applying == []


def test_power_of_ten_ratio_is_a_constant_ratio_and_says_so():
    cl, c = classes(REF * 1e-3)
    assert cl.primary.name == "constant_ratio"
    n = c["constant_ratio"].numbers
    assert n["power_of_ten"] and n["exponent"] == -3 and n["factor"] == pytest.approx(1e-3)
    assert not c["radial"].applies and not c["geometric"].applies


def test_other_constant_factor_is_not_a_power_of_ten_and_names_a_known_factor():
    cl, c = classes(REF * 2.0)
    n = c["constant_ratio"].numbers
    assert cl.primary.name == "constant_ratio" and not n["power_of_ten"] and n["near_known_factor"] == "2"
    _, c = classes(REF * 0.9)
    assert c["constant_ratio"].applies and c["constant_ratio"].numbers["near_known_factor"] is None


def test_a_ratio_below_the_registry_tolerance_is_not_a_class():
    _, c = classes(REF * (1 + 2e-4))
    assert not c["constant_ratio"].applies


@pytest.mark.parametrize("view, best", [(lambda a: a.T, "transpose"), (lambda a: a[::-1, :], "flip_slow"),
                                        (lambda a: a[:, ::-1], "flip_fast"), (lambda a: a[::-1, ::-1], "rotate_180")])
def test_orientations_are_found_by_trying_them(view, best):
    cl, c = classes(view(REF))
    assert cl.primary.name == "geometric" and c["geometric"].numbers["best"] == best
    assert c["geometric"].score > 0.99
    assert not c["constant_ratio"].applies     # a moved image: ratios are not judged


def test_integer_shift_found_by_cross_correlation():
    cl, c = classes(_image(dx=3, dy=-2))
    g = c["geometric"].numbers
    assert cl.primary.name == "geometric" and g["best"] == "shift" and g["shift"]["shift_px"] == [3, -2]


def test_half_pixel_shift_found_to_sub_pixel():
    cl, c = classes(_image(dx=0.5, dy=0.5))
    g = c["geometric"].numbers
    assert cl.primary.name == "geometric" and g["best"] == "subpixel_shift" and g["shift"]["half_pixel"]
    assert g["shift"]["shift_subpx"] == pytest.approx([0.5, 0.5], abs=0.1)


def test_ratio_growing_with_radius_is_radial_with_shell_ratios():
    cl, c = classes(REF * (1.0 - 0.2 * RADIUS))
    r = c["radial"]
    assert cl.primary.name == "radial" and r.numbers["slope_per_rmax"] < 0 and r.numbers["r2"] > 0.9
    meds = [s["median_ratio"] for s in r.numbers["shells"]]
    assert meds == sorted(meds, reverse=True) and meds[0] > meds[-1]
    assert not c["constant_ratio"].applies


def test_peaks_only_and_background_only():
    cl, c = classes(np.where(REF > 5, REF * 0.8, REF))
    assert c["peaks_only"].applies and not c["background_only"].applies
    assert c["peaks_only"].numbers["median_rel_err_background"] == 0
    cl, c = classes(np.where(REF < 5, REF * 1.2, REF))
    assert c["background_only"].applies and not c["peaks_only"].applies


def test_a_few_pixels_are_localized_with_their_bounding_box():
    cand = REF.copy()
    cand[3, 0:5] += 5.0
    cl, c = classes(cand)
    loc = c["localized"]
    assert cl.primary.name == "localized" and loc.numbers["n_pixels"] == 5
    assert loc.numbers["bbox_slow_fast"] == [3, 3, 0, 4] and loc.numbers["where"] == "few_pixels"


def test_edge_pixels_are_localized_at_the_edges():
    cand = REF.copy()
    cand[0, :] *= 3.0
    cand[:, 0] *= 3.0
    _, c = classes(cand)
    assert c["localized"].applies and c["localized"].numbers["where"] == "edges"


def test_more_than_one_class_may_apply():
    cand = np.where(REF > 5, REF * (1.0 - 0.3 * RADIUS), REF)   # outer peaks too low, background right
    cl, c = classes(cand)
    assert {"peaks_only", "localized"} <= {x.name for x in cl.applying}
    assert cl.primary.name == "peaks_only"


def test_to_dict_has_every_class_with_score_and_numbers():
    cl, _ = classes(REF * 1e-3)
    d = cl.to_dict()
    assert d["primary"] == "constant_ratio"
    assert {c["class"] for c in d["classes"]} == {"geometric", "constant_ratio", "radial", "peaks_only",
                                                  "background_only", "localized"}
    assert all(0.0 <= c["score"] <= 1.0 and isinstance(c["numbers"], dict) for c in d["classes"])


def test_split_units_by_the_c_flag_table():
    from parity.triage.units import join_units, split_units

    args = "-cell 100 100 100 90 90 90 -misset random -misset_seed 3 -N 5 -pivot beam -nonoise -myflag a b -seed -5".split()
    units = split_units(args)
    assert [u.text for u in units] == ["-cell 100 100 100 90 90 90", "-misset random", "-misset_seed 3", "-N 5",
                                       "-pivot beam", "-nonoise", "-myflag a b", "-seed -5"]
    assert join_units(units) == tuple(args)
    assert not units[6].known and units[0].handler == "cell"
    assert [u.removable for u in split_units(["-detpixels", "64", "-oversample", "2", "-N", "5"])] == [False, False, True]


def test_hint_dict_from_a_tracekit_hint():
    from parity.triage.tracediff import hint_dict
    from tracekit import Hint

    assert hint_dict(Hint("detector_pivot", "t"))["class"] == "detector_pivot"
    assert hint_dict(Hint("detector_pivot", "t"))["check"]        # tracekit fills the check sentence
    assert hint_dict({"class": "sign_flip", "text": "t"}) == {"class": "sign_flip", "text": "t", "check": ""}
    assert hint_dict(None) is None
