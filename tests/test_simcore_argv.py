"""The C command-line semantics simcore must reproduce (reference §5, traps T-PARSE-MISC, T-2θ-PARSE)."""
from __future__ import annotations

import math

import pytest

from simcore.argv.parse import parse_argv
from simcore.errors import SimcoreUsageError
from simcore.argv.flags import C_PATTERNS, matching_patterns
from simcore.setup.sequence import build_setup

CELL = ["-cell", "100", "100", "100", "90", "90", "90", "-default_F", "1"]


def test_units_converted_once():
    a = parse_argv(CELL + ["-distance", "250", "-pixel", "0.172", "-lambda", "1.5", "-phi", "10",
                           "-divergence", "2", "-dispersion", "3", "-detector_thick", "450", "-water", "2"])
    assert a.distance_m == pytest.approx(0.25) and a.pixel_m == pytest.approx(0.172e-3)
    assert a.lambda0_m == pytest.approx(1.5e-10) and a.phi0_rad == pytest.approx(math.radians(10))
    assert a.hdivrange_rad == pytest.approx(2e-3) and a.dispersion == pytest.approx(0.03)
    assert a.detector_thick_m == pytest.approx(450e-6) and a.water_m == pytest.approx(2e-6)


def test_energy_and_last_flag_wins():
    a = parse_argv(CELL + ["-lambda", "1", "-energy", "12398.42"])
    assert a.lambda0_m == pytest.approx(1e-10)
    a = parse_argv(CELL + ["-distance", "100", "-distance", "200"])
    assert a.distance_m == pytest.approx(0.2)


def test_cell_stops_at_a_dash_token_and_defaults():
    a = parse_argv(["-cell", "50", "-N", "3", "-default_F", "1"])
    assert a.cell_A == [50.0, 0.0, 0.0] and a.Na == 3
    s = build_setup(a)
    assert s.cr.cell_A == pytest.approx((50.0, 50.0, 50.0))


def test_twotheta_axis_is_also_read_as_twotheta():
    a = parse_argv(CELL + ["-twotheta", "20", "-twotheta_axis", "0", "0", "-1"])
    assert a.convention == "CUSTOM" and a.twotheta_rad == 0.0 and a.pivot == "sample"


def test_misset_seed_is_also_read_as_misset_in_vanilla():
    a = parse_argv(CELL + ["-misset_seed", "5", "-N", "1"])
    assert a.misset_mode == "angles" and a.misset_seed == 5
    assert a.misset_rad[0] == pytest.approx(math.radians(5))
    assert any("also read as -misset" in w for w in a.warnings)
    a = parse_argv(CELL + ["-misset_seed", "5", "-misset", "random"])
    assert a.misset_mode == "random"


def test_named_convention_forces_pivot_and_vector_flag_switches_to_custom():
    s = build_setup(parse_argv(CELL + ["-mosflm", "-close_distance", "120", "-pivot", "sample"]))
    assert s.det.pivot == "beam"
    s = build_setup(parse_argv(CELL + ["-fdet_vector", "0", "0", "1", "-pivot", "sample"]))
    assert s.det.convention == "CUSTOM" and s.det.pivot == "sample"
    s = build_setup(parse_argv(CELL + ["-fdet_vector", "0", "0", "1", "-xds"]))
    assert s.det.convention == "XDS" and s.det.pivot == "sample"


def test_mosflm_beam_centre_half_pixel_and_axis_swap():
    s = build_setup(parse_argv(CELL + ["-detpixels", "1024", "-Xbeam", "51.2", "-Ybeam", "51.2"]))
    assert [float(v) for v in s.det.pix0_m] == pytest.approx([0.1, 0.05125, -0.05125])  # AT-GEO-001


def test_detpixels_beats_detsize_and_c_rounding():
    a = parse_argv(CELL + ["-detpixels", "100", "-detsize", "50"])
    s = build_setup(a)
    assert (s.det.fpixels, s.det.spixels) == (100, 100)
    s = build_setup(parse_argv(CELL + ["-detsize", "10.04", "-pixel", "0.1"]))
    assert s.det.fpixels == math.ceil(10.04 / 0.1 - 0.5)


def test_substring_matching_quirks():
    assert [p.handler for p in matching_patterns("-printout_pixel")] == ["printout", "printout_pixel"]
    assert [p.handler for p in matching_patterns("-detector_absorb")] == ["detector_abs"]
    assert matching_patterns("-detector_twotheta") == []
    assert [p.handler for p in matching_patterns("-N")] == ["N"]
    assert {p.handler for p in matching_patterns("-oversample_omega")} == {"os_omega"}  # the C `continue`s


@pytest.mark.parametrize("argv", [["-cell"], CELL + ["-roi", "1", "2", "3"], CELL + ["-pivot", "middle"],
                                  CELL + ["-emulate_c", "nonsense=on"]])
def test_refused(argv):
    with pytest.raises(SimcoreUsageError):
        parse_argv(argv)


def test_every_pattern_has_a_handler():
    from simcore.argv import handlers as argv_handlers

    for pat in C_PATTERNS:
        assert hasattr(argv_handlers, "h_" + pat.handler), pat.text
