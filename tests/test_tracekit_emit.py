"""Emitter: C order and format against real C traces, derived lines, all-indices and JSONL round trips."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tracekit import (TapValue, diff_traces, emit_lines, emit_records, jsonl_lines, read_trace,
                      taps_from_trace, write_jsonl, write_lines)
from tracekit.errors import TraceParseError, TraceUsageError
from tracekit.records import LoopIndex

CASES = ["at004_mosflm", "feat_phistep", "feat_sourcefile3", "at004_xds", "feat_round_xtal", "feat_dmin",
         "feat_detector_abs", "feat_mosaic_dom5", "feat_tophat_spots_fudge", "at023_triclinic_misset_15_20p5_30p25"]
PIXEL_PREFIXES = ("{p}: ", "{p}_PHI ", "{p}_SOURCE2: ", "{p}_TAP5: ", "{p}_TAP5_HKL: ")


def _shape(case_dir) -> str:
    args = (case_dir / "args.txt").read_text() if (case_dir / "args.txt").exists() else ""
    for flag, shape in (("-round_xtal", "round"), ("-gauss_xtal", "gauss"), ("-tophat_spots", "tophat")):
        if flag in args.split():
            return shape
    return "square"


def _lines(lines, prefix, kinds=PIXEL_PREFIXES):
    heads = tuple(k.format(p=prefix) for k in kinds)
    return [ln for ln in lines if ln.startswith(heads)]


def _trace_paths(golden_dir):
    for case in CASES:
        yield from sorted((golden_dir / case).glob("trace_*.txt"))[:2]


def test_pixel_block_lines_equal_c_lines(golden_dir):
    for path in _trace_paths(golden_dir):
        c_text = path.read_text(encoding="utf-8").splitlines()
        lines = emit_lines(taps_from_trace(read_trace(path)), xtal_shape=_shape(path.parent))
        py = [ln.replace("TRACE_PY", "TRACE_C", 1) for ln in _lines(lines, "TRACE_PY")]
        assert py == _lines(c_text, "TRACE_C"), path
        assert lines[0].startswith("TRACE_PY_META ") and lines[-1].startswith("TRACE_PY_END records=")


def test_setup_lines_equal_c_except_the_beam_center_print_bug(golden_dir):
    for path in _trace_paths(golden_dir):
        c_text = path.read_text(encoding="utf-8").splitlines()
        lines = emit_lines(taps_from_trace(read_trace(path)), xtal_shape=_shape(path.parent))
        heads = ("{p}:", "DETECTOR_")
        c_setup = _lines(c_text, "TRACE_C", heads)
        py_setup = [ln.replace("TRACE_PY", "TRACE_C", 1) for ln in _lines(lines, "TRACE_PY", heads)]
        assert len(py_setup) == len(c_setup), path
        for c, p in zip(c_setup, py_setup):
            if "beam_center_m" in c:  # we print the true metres, the C prints them /1000
                cv = [float(t.split(":")[1]) for t in c.split("=", 1)[1].split()]
                pv = [float(t.split(":")[1]) for t in p.split("=", 1)[1].split()]
                assert pv[:2] == pytest.approx([1000 * v for v in cv[:2]]) and pv[2] == cv[2]
            else:
                assert p == c, path


def test_tap5_fixture_round_trips_line_for_line():
    path = Path(__file__).parent / "data" / "tracekit" / "c_tap5_det64_os2.txt"
    c_text = path.read_text(encoding="utf-8").splitlines()
    lines = emit_lines(taps_from_trace(read_trace(path)), tap5=True)
    py = [ln.replace("TRACE_PY", "TRACE_C", 1) for ln in _lines(lines, "TRACE_PY")]
    assert py == _lines(c_text, "TRACE_C")
    assert any(ln.startswith("TRACE_C_TAP5_HKL: subpixel=1 1 ") for ln in py)


def test_emitted_trace_diffs_clean_against_c(golden_dir):
    for path in _trace_paths(golden_dir):
        ref = read_trace(path)
        back = read_trace(emit_lines(taps_from_trace(ref), xtal_shape=_shape(path.parent)), name="py")
        result = diff_traces(ref, back)
        assert result.first is None, (path, result.first)
        assert not result.only_in_ref and not result.only_in_cand, path
        assert result.n_compared == len(ref.records) - sum(r.status == "ignored" for r in result.rows)


def test_derived_lines_are_rebuilt_from_primary_taps(golden_dir):
    """Drop every view / print-time tap: the emitter rebuilds them and the diff stays clean."""
    from tracekit.catalogue import catalogue

    cat = catalogue()
    # the C trace does not print incident_vec / lambda / polar at source 2: keep those three views
    keep = {"source2_cos2theta", "source2_polar", "source2_lambda_angstroms"}
    derivable = {s.name for s in cat.specs.values() if s.derive} - keep
    for case in ("feat_phistep", "feat_sourcefile3", "at004_xds"):
        path = sorted((golden_dir / case).glob("trace_*.txt"))[0]
        ref = read_trace(path)
        taps = {k: v for k, v in taps_from_trace(ref).items() if k not in derivable}
        assert {"lambda_angstroms", "phi_F_latt", "DETECTOR_FAST_AXIS"} & derivable <= derivable - set(taps)
        lines = emit_lines(taps)
        back = read_trace(lines, name="py")
        result = diff_traces(ref, back)
        assert result.first is None, (case, result.first)
        assert not result.only_in_ref, (case, result.only_in_ref[:3])


# ------------------------------------------------------------------ synthetic multi-index taps
def _synthetic(nsrc=3, nphi=2, nmos=2, os_=2, layers=1, dtype="float64"):
    rng = np.random.default_rng(7)
    L, S = layers, os_
    sub = ("layer", "sub_s", "sub_f")
    full = sub + ("source", "phi", "mosaic")
    shp = {"layer": L, "sub_s": S, "sub_f": S, "source": nsrc, "phi": nphi, "mosaic": nmos}

    def tv(name, dims, ncomp=1, values=None):
        shape = tuple(shp[d] for d in dims) + (ncomp,)
        return name, TapValue(name, dims, rng.normal(size=shape) if values is None else values, dtype)

    reached_src = np.ones((L, S, S, nsrc, 1), bool)
    reached_src[0, 0, 1, 0] = False          # dmin cut at source 0 of one sub-pixel
    reached_f = rng.random((L, S, S, nsrc, nphi, nmos, 1)) > 0.3
    reached_f[..., 0, 0, 0, :] = True
    taps = dict([
        tv("Fbeam_m", ()), tv("pix0_vector", (), 3), tv("distance_m", ()),
        ("beam_center_m", TapValue("beam_center_m", (), np.array([0.0128, 0.0129, 0.1]), dtype)),
        ("detector_convention", TapValue("detector_convention", (), np.array(["MOSFLM"]), dtype)),
        tv("pix0_vector_meters", (), 3), tv("fdet_vec", (), 3), tv("sdet_vec", (), 3),
        tv("pixel_pos_meters", sub, 3), tv("R_distance_meters", sub), tv("omega_pixel_sr", sub),
        tv("close_distance_meters", ()), tv("diffracted_vec", sub, 3), tv("incident_vec", ("source",), 3),
        tv("lambda_meters", ("source",)), tv("scattering_vec_A_inv", sub + ("source",), 3),
        ("reached_source", TapValue("reached_source", sub + ("source",), reached_src, dtype)),
        tv("rot_a_angstroms", ("phi", "mosaic"), 3), tv("rot_a_star_A_inv", (), 3),
        tv("hkl_frac", full, 3),
        ("hkl_rounded", TapValue("hkl_rounded", full, rng.integers(-5, 5, size=(L, S, S, nsrc, nphi, nmos, 3)), dtype)),
        tv("F_latt_b", full), tv("F_latt", full), tv("F_cell", full), tv("phi_deg", ("phi",)),
        ("reached_fcell", TapValue("reached_fcell", full, reached_f, dtype)),
        tv("I_before_scaling", ()), tv("r_e_sqr", (), 1, np.array([7.94079248018965e-30])), tv("polar", ()),
        tv("a0_m", (), 3), tv("polar_eval", sub + ("source",)),
        ("steps", TapValue("steps", (), np.array([12]), dtype)), tv("floatimage_accumulated", ()),
    ])
    return taps, reached_src, reached_f


def test_synthetic_c_format_conditions_and_source2_derivations():
    taps, reached_src, reached_f = _synthetic()
    lines = emit_lines(taps, pivot="beam")
    trace = read_trace(lines)
    # group A at every sub-pixel; group B only where source 0 passed the dmin cut
    assert len(trace.by_tap("pixel_pos_meters")) == 4
    assert len(trace.by_tap("hkl_frac")) == int(reached_src[..., 0, 0].sum()) == 3
    assert len(trace.by_tap("phi_F_latt")) == 3 * 2
    i2 = LoopIndex(0, 1, 1, 2, 0, 0)
    f_cell = taps["F_cell"].values[0, 1, 1, 2, 0, 0, 0]
    f_latt = taps["F_latt"].values[0, 1, 1, 2, 0, 0, 0]
    assert trace.get("source2_I_contribution", i2).values[0] == pytest.approx(f_cell ** 2 * f_latt ** 2, rel=1e-14)
    dot = float(np.dot(taps["incident_vec"].values[2], taps["diffracted_vec"].values[0, 1, 1]))
    assert trace.get("source2_cos2theta", i2).values[0] == pytest.approx(dot, rel=1e-14, abs=1e-15)
    assert trace.get("source2_polar", i2).values == (float("%.15g" % taps["polar_eval"].values[0, 1, 1, 2, 0]),)
    cos_eval = np.full((1, 2, 2, 3, 1), 0.25)
    with_eval = dict(taps, cos2theta_eval=TapValue("cos2theta_eval", ("layer", "sub_s", "sub_f", "source"), cos_eval))
    assert read_trace(emit_lines(with_eval, pivot="beam")).get("source2_cos2theta", i2).values == (0.25,)
    assert trace.get("r_e_meters").values[0] == pytest.approx(math.sqrt(7.94079248018965e-30))
    assert trace.get("beam_center_m").values == (0.0128, 0.0129, 0.1)
    # group C (F_latt_b) is not printed for a non-square crystal, F_latt at source 2 still is
    round_trace = read_trace(emit_lines(taps, pivot="beam", xtal_shape="round"))
    assert not round_trace.by_tap("F_latt_b") and not round_trace.by_tap("phi_F_latt")
    assert round_trace.by_tap("source2_F_latt")


def test_all_indices_text_round_trip():
    taps, reached_src, reached_f = _synthetic()
    records = emit_records(taps, all_indices=True, pivot="beam")
    lines = emit_lines(taps, all_indices=True, pivot="beam")
    trace = read_trace(lines)
    assert [r.tap for r in trace.records.values()] == [r.tap for r in records]
    for rec in records:
        got = trace.records[(rec.tap, rec.index)]
        want = tuple(float("%.15g" % v) if isinstance(v, float) else v for v in rec.values)
        assert got.values == want
    # F_cell at every reached evaluation: the C-format line at (src 0, phi 0, mos 0) + AT lines
    reached = reached_src[..., None, None, :] & reached_f
    assert len(trace.by_tap("F_cell")) == int(reached.sum())
    assert any(ln.startswith("TRACE_PY_AT F_cell[layer=0,sub_s=0,sub_f=0,source=1,") for ln in lines)
    assert trace.get("a0_m").values == tuple(float("%.15g" % v) for v in taps["a0_m"].values)  # extra setup value
    assert len(trace.by_tap("polar_eval")) == 12


def test_jsonl_round_trip(tmp_path):
    taps, _, _ = _synthetic(dtype="float32")
    path = write_jsonl(taps, tmp_path / "t.jsonl", pivot="beam", meta={"device": "cpu"})
    trace = read_trace(path)
    records = emit_records(taps, all_indices=True, pivot="beam")
    assert list(trace.records.values()) == records  # exact: JSON keeps full precision
    assert list(read_trace(jsonl_lines(taps, pivot="beam")).records.values()) == records  # lines in memory
    assert trace.dtype == "float32" and trace.meta["device"] == "cpu"
    text_trace = read_trace(emit_lines(taps, all_indices=True, pivot="beam"))
    result = diff_traces(text_trace, trace, consistency=False)   # synthetic values: not physics
    assert result.first is None and not result.only_in_ref and not result.only_in_cand
    with pytest.raises(TraceUsageError, match="overwrite"):
        write_jsonl(taps, path)


def test_jsonl_truncated_and_malformed(tmp_path):
    taps, _, _ = _synthetic()
    lines = jsonl_lines(taps)
    (tmp_path / "cut.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    (tmp_path / "mid.jsonl").write_text("\n".join(lines[:5]) + "\n" + lines[5][:20])
    (tmp_path / "bad.jsonl").write_text(lines[0] + "\n{not json}\n" + lines[-1] + "\n")
    for name, match in (("cut", "truncated"), ("mid", "truncated"), ("bad", "malformed")):
        with pytest.raises(TraceParseError, match=match):
            read_trace(tmp_path / f"{name}.jsonl")


def test_meta_header_and_atomic_write(tmp_path):
    taps, _, _ = _synthetic(dtype="float32")
    lines = emit_lines(taps, meta={"device": "cuda:0"})
    meta = dict(tok.split("=", 1) for tok in lines[0].split()[1:])
    assert meta["dtype"] == "float32" and meta["device"] == "cuda:0"
    assert (meta["oversample"], meta["layers"], meta["sources"], meta["phisteps"]) == ("2", "1", "3", "2")
    out = write_lines(lines, tmp_path / "py.txt")
    assert read_trace(out).dtype == "float32"
    with pytest.raises(TraceUsageError):
        write_lines(lines, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["py.txt"]


@pytest.mark.parametrize("tap, dims, shape, match", [
    ("pixel_pos_meters", ("sub_f", "layer"), (2, 1, 3), "order"),
    ("pixel_pos_meters", ("layer", "sub_s", "sub_f"), (1, 2, 2, 2), "component"),
    ("no_such_tap", (), (1,), "unknown tap"),
    ("steps", ("layer",), (1, 1), "do not apply"),
    ("pixel_pos_meters", ("layer", "sub_s"), (2,), "shape"),
])
def test_bad_tap_values_raise_usage_errors(tap, dims, shape, match):
    with pytest.raises(TraceUsageError, match=match) as info:
        emit_lines({tap: TapValue(tap, dims, np.zeros(shape))})
    assert info.value.exit_code == 2


def test_inconsistent_sizes_and_bad_options():
    taps = {"pixel_pos_meters": TapValue("pixel_pos_meters", ("layer",), np.zeros((2, 3))),
            "R_distance_meters": TapValue("R_distance_meters", ("layer",), np.zeros((3, 1)))}
    with pytest.raises(TraceUsageError, match="size of 'layer'"):
        emit_lines(taps)
    with pytest.raises(TraceUsageError, match="xtal_shape"):
        emit_lines({}, xtal_shape="cube")
    with pytest.raises(TraceUsageError, match="prefix"):
        emit_lines({}, prefix="trace py")
