"""Malformed inputs: a one-line error, or the C's own documented behaviour plus a warning."""
from __future__ import annotations

import pytest

import simcore
from simcore.errors import SimcoreInputError, SimcoreUsageError

CELL = ["-cell", "100", "100", "100", "90", "90", "90", "-detpixels", "8", "-nonoise", "-nopgm"]


def test_hkl_with_phase_columns_warns_and_follows_c(tmp_path):
    (tmp_path / "p.hkl").write_text("0 1 0 100 45.0\n0 2 0 50 90.0\n1 0 0 20 0.0\n")
    res = simcore.simulate(CELL + ["-hkl", "p.hkl"], cwd=str(tmp_path))
    warnings = res.config["warnings"]
    assert any("do not hold exactly 4 numbers" in w for w in warnings)


def test_mat_file_with_eight_numbers_is_refused(tmp_path):
    (tmp_path / "A.mat").write_text("0.01 0 0\n0 0.01 0\n0 0\n")
    with pytest.raises(SimcoreInputError, match="expected 9 numbers"):
        simcore.simulate(["-mat", "A.mat", "-default_F", "1", "-detpixels", "8"], cwd=str(tmp_path))


def test_sourcefile_with_text_warns_like_c(tmp_path):
    (tmp_path / "s.txt").write_text("# x y z w lambda\n-10 0 0 1 1e-10\nabc def\n")
    res = simcore.simulate(CELL + ["-default_F", "1", "-sourcefile", "s.txt"], cwd=str(tmp_path))
    assert res.config["sources"] == 3  # the C counts every non-blank line
    assert any("comment line" in w for w in res.config["warnings"])
    assert any("non-numeric text" in w for w in res.config["warnings"])


def test_negative_thickness_is_refused():
    with pytest.raises(SimcoreUsageError, match="must not be negative"):
        simcore.simulate(CELL + ["-default_F", "1", "-detector_thick", "-5"])


def test_missing_mask_file(tmp_path):
    with pytest.raises(SimcoreInputError, match="nope.img"):
        simcore.simulate(CELL + ["-default_F", "1", "-mask", "nope.img"], cwd=str(tmp_path))


def test_missing_hkl_file(tmp_path):
    with pytest.raises(SimcoreInputError, match="missing.hkl"):
        simcore.simulate(CELL + ["-hkl", "missing.hkl"], cwd=str(tmp_path))
