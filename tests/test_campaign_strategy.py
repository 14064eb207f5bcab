"""The campaign's strategy (parity/campaign/strategy*.py, draw.py): its vocabulary is the C's, its cases stay
under the work bound by the C's own counting, and a seed always draws the same cases."""
from __future__ import annotations

import math

import pytest

from parity.campaign.draw import draw_cases, draw_in_process, independent, shared
from parity.campaign.spec import Builder, CaseSpec, work_of
from parity.campaign.strategy_crystal import reciprocal_vectors
from parity.campaign.vocabulary import FLAGS
from parity.ports.flagspec import flag_info
from parity.ports.simcore_facts import setup_work


def test_the_vocabulary_is_a_subset_of_the_c_flag_table():
    """Each flag the strategy may write is one the C recognises, reading as many values as the strategy gives."""
    read = {f: flag_info(f, ["1"] * n + ["-next"]) for f, n in FLAGS.items()}
    assert {f for f, info in read.items() if not info.known} == set()
    assert {f: (n, read[f].nargs) for f, n in FLAGS.items() if read[f].nargs != n} == {}
    assert {"-mosflm", "-xds", "-adxv", "-denzo", "-dials", "-fdet_vector", "-pivot", "-twotheta", "-mat",
            "-hkl", "-mosaic", "-phisteps", "-divergence", "-dispersion", "-detector_thick", "-oversample",
            "-polar", "-round_xtal", "-detpixels_f"} <= set(FLAGS)


def test_the_builder_refuses_a_flag_outside_the_vocabulary_or_a_wrong_count():
    b = Builder()
    b.add("-distance", "100")
    with pytest.raises(ValueError):
        b.add("-trace_pixel", "1", "2")
    with pytest.raises(ValueError):
        b.add("-distance", "1", "2")


def test_work_is_the_product_of_the_loops_with_oversample_squared():
    assert work_of({"pixels": 256, "sources": 3, "mosaic_domains": 2, "phisteps": 5, "thicksteps": 2,
                    "oversample": 3}) == 256 * 3 * 2 * 5 * 2 * 9


def test_reciprocal_vectors_of_a_cubic_and_a_hexagonal_cell():
    cubic = reciprocal_vectors((50, 50, 50, 90, 90, 90))
    assert all(math.isclose(cubic[i][i], 0.02) for i in range(3))
    hexa = reciprocal_vectors((40, 40, 60, 90, 90, 120))
    assert math.isclose(math.hypot(*hexa[0]), 2 / (40 * math.sqrt(3)), rel_tol=1e-12)


@pytest.mark.parametrize("max_work, seed", [(6000, 21), (300_000, 22)])
def test_every_drawn_case_stays_under_the_work_bound_by_the_c_rules(tmp_path, max_work, seed):
    """simcore's set-up (the C's sampling rules, automatic oversample included) counts no more work
    than the strategy booked, and that is at most --max-work."""
    for case in draw_in_process(16, seed, max_work=max_work, max_side=64):
        folder = tmp_path / case.case_id
        folder.mkdir()
        case.write_inputs(folder)
        counted = setup_work(case.args, cwd=folder)
        assert counted["work"] <= case.work <= max_work, (case.args, counted, case.loops)
        assert all(counted[k] <= case.loops[k] for k in case.loops), (case.args, counted, case.loops)


def test_the_same_seed_draws_the_same_cases_and_another_seed_others():
    first = draw_cases(12, 5, max_work=100_000, max_side=48)
    again = draw_cases(12, 5, max_work=100_000, max_side=48)
    other = draw_cases(12, 6, max_work=100_000, max_side=48)
    assert [c.to_dict() for c in first] == [c.to_dict() for c in again]
    assert [c.case_id for c in first] == [f"s5-{i:04d}" for i in range(12)]
    assert [c.args for c in first] != [c.args for c in other]
    assert len({c.args for c in first}) == 12
    assert all(isinstance(c, CaseSpec) and c.work <= 100_000 for c in first)
    assert all(shared(a, b) < 0.5 for a, b in zip(first, first[1:]))        # independent, not mutations


def test_near_copies_and_repeats_are_not_kept():
    a = CaseSpec("a", ("-distance", "100", "-pixel", "0.1", "-N", "5", "-default_F", "10"))
    copy = CaseSpec("b", ("-distance", "100", "-pixel", "0.1", "-N", "5", "-default_F", "10", "-nopolar"))
    other = CaseSpec("c", ("-distance", "50", "-pixel", "0.2", "-N", "3", "-default_F", "20"))
    assert shared(a, a) == 1.0 and shared(a, copy) > 0.5 and shared(a, other) == 0.0
    assert [c.case_id for c in independent([a, copy, other, a], taken=set())] == ["a", "c"]


def test_a_case_survives_its_json_round_trip():
    case = draw_in_process(3, 9, max_work=50_000)[2]
    assert CaseSpec.from_dict(case.to_dict()) == case
