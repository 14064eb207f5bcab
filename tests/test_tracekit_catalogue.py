"""The tap catalogue against real C traces: names, order, and the defect registry."""
from __future__ import annotations

import re

import pytest

from tracekit.catalogue import catalogue
from tracekit.records import LEVEL_DIMS, LOOP_DIMS
from tracekit.trace import read_trace

PIXEL_LINE = re.compile(r"^TRACE_C(?:_PHI|_SOURCE2)?:? (\S+)")


def _pixel_names_from_text(path) -> list[str]:
    """Names of the pixel-block lines of a C trace, straight from the text (no tracekit parser)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("TRACE_C: "):
            out.append(line.split()[1])
        elif line.startswith("TRACE_C_PHI "):
            out.append("TRACE_C_PHI")
    return out


def test_pixel_block_order_matches_real_c_trace(golden_dir):
    """One sub-pixel block + group E of a real trace, in print order, equals the catalogue order."""
    cat = catalogue()
    names = _pixel_names_from_text(golden_dir / "at001_det64" / "trace_32_32.txt")
    expected = [s.c_name for s in cat.pixel_block() if s.group in "ABC"] + ["TRACE_C_PHI"]
    expected += [s.c_name for s in cat.pixel_block() if s.group == "D"]
    expected += [s.c_name for s in cat.group("E")]
    assert names == expected


def test_pixel_block_order_oversampled_case(golden_dir):
    """at004_mosflm (2x2 oversample): four identical A-D blocks, then E, all in catalogue order."""
    cat = catalogue()
    names = _pixel_names_from_text(golden_dir / "at004_mosflm" / "trace_246_246.txt")
    block = [s.c_name for s in cat.pixel_block() if s.group in "ABC"] + ["TRACE_C_PHI", "F_cell"]
    assert names == block * 4 + [s.c_name for s in cat.group("E")]


def test_every_printed_name_is_catalogued(golden_dir):
    """No golden trace prints a tap the catalogue does not know."""
    unknown = set()
    for path in sorted(golden_dir.glob("*/trace_*.txt"))[::7]:
        unknown |= read_trace(path).stats.unknown_taps
    assert unknown == set()


def test_setup_sequences_match_real_traces(golden_dir):
    """The BEAM and SAMPLE setup print sequences equal real C traces' setup lines."""
    cat = catalogue()
    for case, branch in (("at004_mosflm", "beam"), ("feat_custom_pivot_sample_tt20", "sample")):
        trace = read_trace(next((golden_dir / case).glob("trace_*.txt")))
        setup = [r.tap for r in trace.records.values() if cat.get(r.tap).level == "setup"]
        assert trace.branch == branch
        assert tuple(setup) == cat.setup_sequences[branch]


def test_spec_fields_are_consistent():
    cat = catalogue()
    for spec in cat.specs.values():
        assert spec.index_dims == LEVEL_DIMS[spec.level]
        if spec.dims is not None:
            assert set(spec.dims) <= set(spec.index_dims)
            assert list(spec.dims) == [d for d in LOOP_DIMS if d in spec.dims]
        if spec.kind == "keyvalue":
            assert spec.keys
    names = [n for n, _ in cat.simcore_taps()]
    assert "pixel_pos_meters" in names and "reached_fcell" in names
    assert "lambda_angstroms" in names  # derivable, but simcore may pass it


def test_real_units_not_c_labels():
    cat = catalogue()
    assert cat.get("scattering_vec_A_inv").unit == "m^-1"
    assert cat.get("scattering_vec_m_inv") is cat.get("scattering_vec_A_inv")  # alias
    assert cat.get("omega_pixel_sr") is not cat.get("omega_pixel")
    assert "omega_pixel" in cat.get("omega_pixel_sr").related


def test_defects_are_data():
    cat = catalogue()
    (scale,) = cat.defects_for("beam_center_m", "print_scale")
    assert scale.factor == pytest.approx(1e-3) and scale.components == (0, 1) and scale.side == "C"
    ignored = {t for d in cat.defects if d.kind == "ignore" and d.branch == "beam" for t in d.taps}
    assert {"detector_convention", "initial_fdet", "initial_sdet", "initial_odet"} <= ignored
    assert cat.defects_for("scattering_vec_A_inv", "note")
    assert cat.glue_texts()
    with pytest.raises(ValueError):
        type(cat)({"taps": [{"name": "x", "family": "pixel", "unit": "m", "level": "nowhere", "group": "A",
                             "tol": "geometry"}], "setup_sequences": {}, "branch_markers": {}, "defects": []})


def test_tracekit_imports_no_torch_and_none_of_our_packages():
    import subprocess
    import sys

    code = ("import sys, tracekit, tracekit.replay; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'simcore', 'parity', 'cli')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
