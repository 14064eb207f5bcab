"""Effective-configuration parser and config diff on real C stdout files."""
from __future__ import annotations

import re

import pytest

from tracekit import config_diff, config_diff_files, parse_config, read_config
from tracekit.errors import TraceParseError


def _text(golden_dir, case: str) -> str:
    return (golden_dir / case / "stdout.txt").read_text(encoding="utf-8")


def test_mosflm_default_case(golden_dir):
    cfg = parse_config(_text(golden_dir, "at001_det64"))
    assert cfg["convention"] == "mosflm" and cfg["detector_pivot"] == "beam"
    assert cfg["distance_m"] == 0.1 and cfg["pixel_m"] == 0.0001
    assert (cfg["fpixels"], cfg["spixels"]) == (64, 64)
    assert (cfg["Xbeam_m"], cfg["Fbeam_m"]) == (0.0032, 0.00325)
    assert cfg["fdet_vector"] == (0, 0, 1) and cfg["beam_vector"] == (1, 0, 0)
    assert cfg["dials_origin_mm"] == (-3.25, 3.25, -100)
    assert cfg["roi_px"] == (0, 64, 0, 64)
    assert (cfg["Na"], cfg["crystal_shape"], cfg["default_F"]) == (3, "parallelpiped", 100.0)
    assert cfg["oversample"] == 1 and cfg["oversample_auto"] == 1 and cfg["oversample_omega"] is False
    assert cfg["kahn_polarization"] == 0 and cfg["polarization_disabled"] is False
    assert cfg["fluence_photons_per_m2"] == pytest.approx(1.25932e29)
    assert cfg["detector_thicksteps"] == 1 and cfg["lambda0_m"] == 6.2e-10
    assert cfg["a_vec_A"] == (100, 0, 0) and cfg["c_star_vec_A_inv"] == (0, 0, 0.01)
    assert cfg["source_positions_m"] == (-10, 0, 0) and cfg["source_lambdas_m"] == (6.2e-10,)


def test_xds_custom_mosaic_divergence_cases(golden_dir):
    xds = parse_config(_text(golden_dir, "at004_xds"))
    assert xds["convention"] == "xds" and xds["detector_pivot"] == "sample"
    assert xds["spindle_vector"] == (1, 0, 0) and xds["oversample"] == 2
    custom = parse_config(_text(golden_dir, "feat_custom_pivot_sample_tt20"))
    assert custom["convention"] == "custom" and custom["detector_pivot"] == "sample"
    mosaic = parse_config(_text(golden_dir, "feat_mosaic_dom5"))
    assert (mosaic["mosaic_domains"], mosaic["mosaic_spread_deg"], mosaic["mosaic_domains_created"]) == (5, 0.5, 5)
    div = parse_config(_text(golden_dir, "feat_divergence_dispersion"))
    assert (div["hdivrange_rad"], div["vdivstep_rad"], div["divergence_steps"]) == (0.002, 0.0005, 5)
    assert div["sources"] == div["sources_created"] == 15 and len(div["source_positions_m"]) == 45
    assert div["dispersion_lambdas_m"] == (9.9e-11, 1e-10, 1.01e-10) and div["dispersion_percent"] == 2
    assert len(div["divergence_deviations_rad"]) == 10
    thick = parse_config(_text(golden_dir, "feat_detector_abs"))
    assert thick["thick_layers_um"] == (0, 112.5, 225, 337.5, 450) and thick["detector_mu_m_inv"] == 2000
    flags = parse_config(_text(golden_dir, "feat_oversample2_flags"))
    assert flags["oversample_thick"] and flags["oversample_polar"] and flags["oversample_omega"]
    assert parse_config(_text(golden_dir, "at011_nopolar"))["polarization_disabled"] is True
    assert parse_config(_text(golden_dir, "feat_curved_det"))["curved_detector"] is True
    assert parse_config(_text(golden_dir, "at024_random_misset_seed12345"))["misset_random_deg"][0] == pytest.approx(105.720755)


def test_instrumented_trace_holds_the_same_config_plus_detector_lines(golden_dir):
    case = golden_dir / "at004_xds"
    trace_cfg = read_config(next(case.glob("trace_*.txt")))
    assert trace_cfg["detector_pix0_vector_m"] == (-0.0128, -0.0128, 0.1)
    result = config_diff_files(case / "stdout.txt", next(case.glob("trace_*.txt")))
    assert not result.differences
    assert set(result.only_in_cand) == {"detector_fast_axis", "detector_slow_axis", "detector_normal_axis",
                                        "detector_pix0_vector_m"}


@pytest.mark.parametrize("case", ["at001_det64", "at004_xds", "feat_conv_custom", "feat_mosaic_dom5",
                                  "feat_divergence_dispersion", "feat_sourcefile3"])
def test_config_diff_of_a_stdout_with_itself(golden_dir, case):
    text = _text(golden_dir, case)
    result = config_diff(text, text)
    assert result.ok and result.n_compared > 60


def test_config_diff_reports_an_edited_pivot_and_numbers(golden_dir):
    text = _text(golden_dir, "at004_mosflm")
    edited = (text.replace("pivoting detector around direct beam spot", "pivoting detector around sample")
              .replace("  Fbeam=0.02565", "  Fbeam=0.02575"))
    result = config_diff(text, edited)
    assert {r.key for r in result.differences} == {"detector_pivot", "Fbeam_m"}
    assert not result.ok
    rounded = text.replace("  Fbeam=0.02565", "  Fbeam=0.0256501")   # below %g resolution: same
    assert config_diff(text, rounded).ok
    dropped = config_diff(text, text.replace("  roi:", "  roi_gone:"))
    assert dropped.only_in_ref == ["roi_px"] and not dropped.ok


def test_noise_seed_is_ignored_by_default(golden_dir):
    text = _text(golden_dir, "at004_mosflm")
    other = re.sub(r"  seed: -?\d+", "  seed: 12345", text)
    assert other != text
    result = config_diff(text, other)
    assert result.ok and "noise_seed" in result.to_dict()["ignored"]
    assert not config_diff(text, other, ignore=()).ok


@pytest.mark.parametrize("content, match", [(b"", "empty"), (b"\x00\x01\x02", "binary"),
                                            (b"hello\nworld\n", "no nanoBragg configuration")])
def test_unreadable_stdout(tmp_path, content, match):
    path = tmp_path / "s.txt"
    path.write_bytes(content)
    with pytest.raises(TraceParseError, match=match) as info:
        read_config(path)
    assert info.value.exit_code == 5
