"""Hints that generalize: live traces of ports with one real defect (simcore with other flags, C
traces of neighbouring configurations, a float32 port rebuilt from a C trace) against the C, and
the first divergence's tap and hint class."""
from __future__ import annotations

import numpy as np
import pytest

import tracekit_foreign as fx
from tracekit import diff_traces, read_trace
from tracekit.hints import CHECKS, CLASSES, Hint


def c_trace(golden_dir, case, pixel):
    return read_trace(golden_dir / case / f"trace_{pixel[0]}_{pixel[1]}.txt")


def simcore(case, pixel, edit=lambda a: a, **kw):
    from parity.matrix.cases import find_run
    from parity.ports.inprocess import trace_args

    run = find_run(case)
    return trace_args(edit(list(run.args)), pixel, cwd=str(run.golden_dir), **kw).lines


def swap(old, new):
    return lambda args: [new if a == old else a for a in args]


def port(lines):
    """Only the pixel lines, reprefixed: a port that prints no set-up block and no headers."""
    return read_trace(fx.reprefix(fx.pixel_lines(lines), "TRACE_PY"))


def test_every_class_has_a_check_sentence():
    assert set(CHECKS) == set(CLASSES) and all(CHECKS[c] for c in CLASSES)
    assert Hint("sampling", "x").to_dict() == {"class": "sampling", "text": "x", "check": CHECKS["sampling"]}
    with pytest.raises(ValueError):
        Hint("no_such_class", "x")


def test_detector_pivot(golden_dir):
    """CUSTOM with -twotheta 20 -pivot sample: a port that pivots around the beam spot."""
    ref = c_trace(golden_dir, "feat_custom_pivot_sample_tt20", (255, 243))
    lines = simcore("feat_custom_pivot_sample_tt20", (255, 243), swap("sample", "beam"))
    full = diff_traces(ref, read_trace(lines))
    assert full.live and full.first.tap == "beam_center_m" and full.hint.cls == "detector_pivot"
    pix = diff_traces(ref, port(lines))
    assert pix.first.tap == "pix0_vector_meters" and pix.hint.cls == "detector_pivot"
    assert "BEAM-pivot pix0" in pix.hint.text and "pivots around the SAMPLE" in pix.hint.text
    assert "CUSTOM" in pix.hint.text and "-twotheta" in pix.hint.check


def test_half_pixel_beam_centre(golden_dir):
    ref = c_trace(golden_dir, "at004_mosflm", (246, 246))
    lines = simcore("at004_mosflm", (246, 246), lambda a: a[:-4] + ["-Xbeam", "25.65", "-Ybeam", "25.6"])
    for cand in (read_trace(lines), port(lines)):
        result = diff_traces(ref, cand)
        assert result.live and result.hint.cls == "half_pixel", result.hint
        assert result.first.tap in ("beam_center_m", "pix0_vector_meters") and "MOSFLM" in result.hint.check


def test_sampling(golden_dir):
    """-oversample 1 where the C ran 2: other sub-pixel positions, steps 2 against 8."""
    result = diff_traces(c_trace(golden_dir, "at029_oversample2", (255, 255)),
                         c_trace(golden_dir, "at029_oversample1", (255, 255)))
    assert result.live and result.first.tap == "pixel_pos_meters" and result.hint.cls == "sampling"
    assert "steps ref 8 cand 2" in result.hint.text


def test_constant_factor_polarization(golden_dir):
    """-polar 0.95 against -nopolar at the same pixel: polar differs while the sum agrees."""
    result = diff_traces(c_trace(golden_dir, "at011_polarized_k0p95_d40", (1, 143)),
                         c_trace(golden_dir, "at011_nopolar", (1, 143)))
    assert result.live and result.first.tap == "polar" and result.hint.cls == "constant_factor"
    assert "intensity sum upstream agrees" in result.hint.text


def test_constant_factor_left_out_is_named(golden_dir):
    """A port that leaves the solid angle out of the scaling (prints omega but does not use it)."""
    path = golden_dir / "at004_mosflm" / "trace_246_246.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    omega = 9.99684895265676e-07
    cand = fx.scale(fx.scale(lines, "I_pixel_final", 1 / omega), "floatimage_accumulated", 1 / omega)
    result = diff_traces(read_trace(path), read_trace(cand), consistency=False)
    assert result.first.tap == "I_pixel_final" and result.hint.cls == "constant_factor"
    assert "leaves out omega_pixel" in result.hint.text


def test_float32_precision(golden_dir):
    """A float32 port (h, sincg and sums in float32, a fast sine) at h = -41 near an integer."""
    ref = c_trace(golden_dir, "feat_custom_pivot_sample_tt20", (188, 53))
    lines = (golden_dir / "feat_custom_pivot_sample_tt20" / "trace_188_53.txt").read_text().splitlines()
    fast = lambda x: np.float32(np.sin(x) * (1 + abs(float(x)) * 2.0 ** -20))   # noqa: E731
    cand = read_trace(fx.reprefix(fx.float32_port(lines, sin=fast), "TRACE_PY"))
    result = diff_traces(ref, cand, dtype="float32")
    assert result.live, result.consistency.summary()
    assert result.first.tap == "F_latt_c" and result.hint.cls == "float32_precision"
    assert "h = -41.0" in result.hint.text and "float64" in result.hint.check
    exact = read_trace(fx.reprefix(fx.float32_port(lines), "TRACE_PY"))      # plain float32 is noise here
    assert diff_traces(ref, exact, dtype="float32").first is None or \
        diff_traces(ref, exact, dtype="float32").hint.cls == "float32_precision"


def test_phi0_carryover(golden_dir):
    """-phi 0 with 9 steps: the C carries the last phi rotation into phi step 0; a port without it."""
    ref = c_trace(golden_dir, "at021_osc90_phisteps9", (124, 124))
    lines = simcore("at021_osc90_phisteps9", (124, 124), lambda a: a + ["-emulate_c", "phi_carryover=off"])
    result = diff_traces(ref, read_trace(lines))
    assert result.live and result.first.tap == "rot_a_angstroms" and result.first.index.phi == 0
    assert result.hint.cls == "phi0_carryover" and "8 phi step(s) of 10 deg" in result.hint.text


def test_mosaic_rng(golden_dir):
    """Every loop index (simcore --all-indices): another mosaic seed differs at domains > 0 only."""
    ref = read_trace(simcore("feat_mosaic_dom5", (249, 200), all_indices=True))
    cand = read_trace(simcore("feat_mosaic_dom5", (249, 200), swap("4242", "4343"), all_indices=True))
    result = diff_traces(ref, cand)
    assert result.live and result.first.tap == "rot_a_angstroms" and result.first.index.mosaic > 0
    assert result.hint.cls == "mosaic_rng"


def test_a_turned_crystal_at_domain_zero_is_the_mosaic_only_when_the_static_cell_agrees(golden_dir):
    """Mosaic on (0.5 deg, 5 domains): a port with another misset turns rot_a/b/c at domain 0 as
    well, but its static cell (rot_*_star, misset included) differs: not the mosaic matrices."""
    ref = c_trace(golden_dir, "feat_mosaic_dom5", (249, 200))
    assert ref.config["mosaic_spread_deg"] == 0.5
    keep = ["-oversample", str(ref.stats.oversample)]          # the misset would change the auto-oversample
    cand = read_trace(simcore("feat_mosaic_dom5", (249, 200), lambda a: a + ["-misset", "1", "2", "0", *keep]))
    result = diff_traces(ref, cand)
    assert result.live and result.first.tap == "rot_a_angstroms" and result.first.index.mosaic == 0
    assert any(r.failed for r in result.rows if r.tap == "rot_a_star_A_inv")
    assert result.hint.cls != "mosaic_rng", result.hint.text
