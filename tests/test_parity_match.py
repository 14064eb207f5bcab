"""parity.images.match: Hungarian matching with a gate, fixed denominator; golden self and roll checks."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from conftest import GOLDEN_DIR
from parity.errors import ParityUsageError
from parity.images.io import read_image
from parity.images.match import DENOMINATOR_RULE, match_peaks
from parity.images.metrics import NotAvailable, compare_images
from parity.images.peak_table import compare_peaks
from parity.images.peaks import find_peaks

RNG = np.random.default_rng(3331877153)
GOLDEN_CASES = ["at012_simple_cubic", "at012_triclinic_P1", "feat_nonsquare_detector"]


def test_gate_is_inclusive_and_pairs_beyond_it_are_unmatched():
    m = match_peaks([[0, 0], [10, 10]], [[0, 1.0], [10, 11.0001]], gate_px=1.0)
    assert m.pairs.tolist() == [[0, 0]] and m.distances_px.tolist() == [1.0]
    assert m.missing.tolist() == [1] and m.extra.tolist() == [1]


def test_hungarian_beats_greedy_nearest_neighbour():
    # greedy closest-pair-first takes (ref 0, cand 0) at 0.45 px and leaves ref 1 with no partner
    # within the gate; the optimal assignment matches both (ref 0 - cand 1 at 0.5, ref 1 - cand 0 at 0.55)
    ref = [[0.0, 0.0], [0.0, 1.0]]
    cand = [[0.0, 0.45], [0.0, -0.5]]
    m = match_peaks(ref, cand, gate_px=0.6)
    assert m.n_matched == 2 and sorted(m.pairs.tolist()) == [[0, 1], [1, 0]]


def test_denominator_is_the_reference_count_not_the_smaller_set():
    ref = [[0, 0], [5, 5], [9, 9], [20, 20]]
    m = match_peaks(ref, [[0, 0]], gate_px=1)
    assert m.denominator == 4 and m.matched_fraction == 0.25          # min(n_ref, n_cand) would say 1.0
    m = match_peaks(ref[:1], ref, gate_px=1)
    assert m.denominator == 1 and m.matched_fraction == 1.0 and len(m.extra) == 3
    assert "reference" in DENOMINATOR_RULE


@pytest.mark.parametrize("ref, cand", [([], []), ([], [[1, 1]]), ([[1, 1]], []), (np.zeros((0, 2)), [[1, 2]])])
def test_empty_sets(ref, cand):
    m = match_peaks(ref, cand, gate_px=2)
    assert m.n_matched == 0 and len(m.missing) == len(ref) and len(m.extra) == len(cand)
    if len(ref) == 0:
        assert isinstance(m.matched_fraction, NotAvailable)
    else:
        assert m.matched_fraction == 0.0


def test_zero_gate_matches_only_identical_positions():
    m = match_peaks([[1, 1], [2, 2]], [[1, 1], [2, 2.001]], gate_px=0)
    assert m.pairs.tolist() == [[0, 0]]


def test_same_result_as_one_global_assignment():
    for _ in range(300):
        n, k = (int(v) for v in RNG.integers(0, 15, 2))
        ref, cand = RNG.random((n, 2)) * 12, RNG.random((k, 2)) * 12
        gate = float(RNG.random() * 3)
        m = match_peaks(ref, cand, gate_px=gate)
        expected_n, expected_total = 0, 0.0
        if n and k:
            dist = np.sqrt(((ref[:, None] - cand[None]) ** 2).sum(-1))
            inside = dist <= gate
            rows, cols = linear_sum_assignment(np.where(inside, dist, 1e6))
            keep = inside[rows, cols]
            expected_n, expected_total = int(keep.sum()), float(dist[rows, cols][keep].sum())
        assert m.n_matched == expected_n
        assert m.distances_px.sum() == pytest.approx(expected_total, abs=1e-9)
        assert np.all(m.distances_px <= gate)
        assert len(set(m.pairs[:, 0])) == m.n_matched == len(set(m.pairs[:, 1]))


@pytest.mark.parametrize("kwargs", [{"gate_px": -1}, {"gate_px": float("nan")}, {"gate_px": "1"},
                                    {"gate_px": True}])
def test_invalid_gate(kwargs):
    with pytest.raises(ParityUsageError, match="gate_px"):
        match_peaks([[0, 0]], [[0, 0]], **kwargs)


@pytest.mark.parametrize("positions", [[[0, 0, 0]], [0, 1], [[np.nan, 1]]])
def test_invalid_positions(positions):
    with pytest.raises(ParityUsageError, match="positions"):
        match_peaks(positions, [[0, 0]], gate_px=1)


def test_inputs_not_mutated():
    ref, cand = RNG.random((5, 2)), RNG.random((6, 2))
    r0, c0 = ref.copy(), cand.copy()
    match_peaks(ref, cand, gate_px=0.3)
    np.testing.assert_array_equal(ref, r0)
    np.testing.assert_array_equal(cand, c0)


# ---- real C images ------------------------------------------------------------------------------
@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_against_itself(case):
    image = read_image(GOLDEN_DIR / case / "float.bin")
    comp = compare_peaks(image, image.copy(), top_n=50, gate_px=0.5)
    assert comp.match.matched_fraction == 1.0 and comp.match.denominator == len(comp.ref_peaks) > 0
    assert compare_images(image, image.copy()).correlation == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_rolled_by_one_fast_pixel(case):
    # np.roll along fast moves every peak by exactly +1 fast pixel. Denominator: the reference's top-50
    # peaks lying more than nms radius + 2 px from the fast edges (the wrap-around seam can create,
    # split or drop peaks there); stated as `eligible` below.
    image = read_image(GOLDEN_DIR / case / "float.bin")
    rolled = np.roll(image, 1, axis=1)
    nms = 3.0
    ref = find_peaks(image, top_n=50, nms_radius_px=nms)
    cand = find_peaks(rolled, top_n=50, nms_radius_px=nms)
    eligible = (ref.fast_px > nms + 2) & (ref.fast_px < image.shape[1] - 1 - (nms + 2))
    assert eligible.sum() >= 0.8 * len(ref) > 0
    ref_pos = ref.positions_px[eligible]
    tight = match_peaks(ref_pos, cand.positions_px, gate_px=0.5)
    loose = match_peaks(ref_pos, cand.positions_px, gate_px=1.5)
    assert tight.matched_fraction == 0.0
    assert loose.matched_fraction == 1.0 and loose.denominator == eligible.sum()
    shift = cand.positions_px[loose.pairs[:, 1]] - ref_pos[loose.pairs[:, 0]]
    np.testing.assert_array_equal(shift, np.tile([0.0, 1.0], (len(shift), 1)))      # (slow, fast)
