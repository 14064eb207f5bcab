"""parity.gradients: the parameter table (argument editing), the finite-difference machinery on
functions with known derivatives, and the gradient metrics/gates (registry class GRADIENT)."""
from __future__ import annotations

import numpy as np
import pytest

from parity.errors import ParityUsageError
from parity.gradients import params as P
from parity.gradients.fd import choose_step, finite_difference
from parity.gradients.metrics import EXTRA_DIRECTIONS, gates, gradient_metrics, gradient_thresholds

ARGS = "-default_F 100 -cell 100 100 100 90 90 90 -distance 100 -Xbeam 25.6 -N 5".split()
CONFIG = {"oversample": 2, "distance_m": 0.1, "Xbeam_m": 0.0256, "Ybeam_m": 0.0257, "lambda0_m": 1e-10,
          "cell_A": [100.0] * 3, "cell_deg": [90.0] * 3, "N": [5, 5, 5], "detector_rot_deg": [0.0, 0.0, 0.0],
          "twotheta_deg": 0.0}


# ---- the parameter table -------------------------------------------------------------------------
def test_value_is_replaced_in_place_and_absent_flags_go_first():
    spec = P.param_spec("distance_mm")
    assert P.with_value(ARGS, spec, 101.5)[ARGS.index("-distance") + 1] == "101.5"
    ybeam = P.param_spec("Ybeam_mm")   # absent: inserted at the front, so later pivot flags still win
    out = P.with_value(ARGS, ybeam, 25.7, defaults=P.effective_defaults(ybeam, CONFIG, ARGS))
    assert out[:2] == ["-Ybeam", "25.7"] and out[2:] == ARGS


def test_vector_flags_edit_one_component():
    gamma = P.param_spec("cell_gamma_deg")
    assert P.with_value(ARGS, gamma, 91.0)[ARGS.index("-cell") + 1:ARGS.index("-cell") + 7] == \
        ["100", "100", "100", "90", "90", "91.0"]
    my = P.param_spec("misset_y_deg")
    out = P.with_value(ARGS, my, 0.5, defaults=P.effective_defaults(my, CONFIG, ARGS))
    assert out[:4] == ["-misset", "0.0", "0.5", "0.0"]


def test_integers_stay_integers_and_substring_flags_are_refused():
    n = P.param_spec("N")
    assert n.integer and P.with_value(ARGS, n, 6.0)[ARGS.index("-N") + 1] == "6"
    with pytest.raises(ParityUsageError, match="integers only"):
        P.with_value(ARGS, n, 5.5)
    with pytest.raises(ParityUsageError, match="substring"):
        P.with_value(ARGS + ["-twotheta_axis", "0", "0", "1"], P.param_spec("twotheta_deg"), 1.0)


def test_oversample_is_pinned_once_and_names_expand():
    assert P.pinned_args(ARGS, CONFIG)[:2] == ["-oversample", "2"]
    assert P.pinned_args(["-oversample", "3", *ARGS], CONFIG)[:2] == ["-oversample", "3"]
    names = P.expand_names(["all"])
    assert "N" in names and "Na" not in names and len(names) == 18
    with pytest.raises(ParityUsageError, match="unknown parameter"):
        P.expand_names(["distance_m"])


# ---- finite differences --------------------------------------------------------------------------
def _sine_images(dtype):
    """Images f(v) = A·sin(k·v + φ) per pixel, stored in ``dtype``, with the exact derivative."""
    rng = np.random.default_rng(7)
    amp = rng.uniform(1.0, 1000.0, (32, 32))
    k = rng.uniform(0.5, 3.0, (32, 32))
    phase = rng.uniform(0, 2 * np.pi, (32, 32))
    return (lambda v: (amp * np.sin(k * v + phase)).astype(dtype)), (lambda v: amp * k * np.cos(k * v + phase))


@pytest.mark.parametrize("stencil", ["richardson", "central"])
def test_fd_matches_the_derivative_within_its_own_error_estimate(stencil):
    image_at, exact = _sine_images(np.float32)
    fd = finite_difference(image_at, 0.3, 0.01, stencil=stencil)
    err = np.abs(fd.grad - exact(0.3))
    assert np.quantile(err / fd.sigma, 0.99) < 5.0          # the error estimate holds
    assert fd.evaluations == 7 and fd.summary()["step"] == 0.01


def test_rounding_noise_estimate_matches_the_measured_noise():
    image_at, exact = _sine_images(np.float32)
    fd = finite_difference(image_at, 0.3, 1e-4)   # tiny step: rounding dominates, truncation negligible
    ratio = np.std(fd.grad - exact(0.3)) / np.sqrt(np.mean(fd.noise ** 2))
    assert 0.5 < ratio < 2.0


def test_step_choice_moves_a_bad_step_toward_the_balance():
    image_at, exact = _sine_images(np.float32)
    for bad in (1e-5, 0.5):
        fd, log = choose_step(image_at, 0.3, bad)
        assert len(log) >= 2 and (log[1]["step"] > bad if bad < 1e-3 else log[1]["step"] < bad)
        assert np.median(np.abs(fd.grad - exact(0.3))) < np.median(
            np.abs(finite_difference(image_at, 0.3, bad).grad - exact(0.3)))


def test_bad_stencil_and_step_are_usage_errors():
    image_at, _ = _sine_images(np.float64)
    with pytest.raises(ParityUsageError):
        finite_difference(image_at, 0.0, 0.1, stencil="five")
    with pytest.raises(ParityUsageError):
        finite_difference(image_at, 0.0, -0.1)


# ---- metrics and gates ---------------------------------------------------------------------------
def _pair():
    image_at, exact = _sine_images(np.float32)
    fd = finite_difference(image_at, 0.3, 0.01)
    return fd, exact(0.3)


def test_a_correct_gradient_passes_every_gate():
    fd, exact = _pair()
    th = gradient_thresholds()
    m = gradient_metrics(fd.grad, exact, fd.sigma, th)
    assert all(g["passed"] for g in gates(m, th)), gates(m, th)
    assert m.n_signal > 0.9 * m.n_pixels and m.correlation > 0.99999


@pytest.mark.parametrize("wrong, failing", [
    (lambda g: 1.03 * g, {"sum_ratio_dev", "rel_err_max"}),               # a wrong constant factor
    (lambda g: -g, {"correlation", "rel_err_max"}),                      # a sign flip (Σ|g| is blind to it)
    (lambda g: np.roll(g, 1, axis=1), {"correlation", "rel_err_max"}),   # half a pixel off, roughly
])
def test_a_wrong_gradient_fails(wrong, failing):
    fd, exact = _pair()
    th = gradient_thresholds()
    failed = {g["name"] for g in gates(gradient_metrics(fd.grad, wrong(exact), fd.sigma, th), th) if not g["passed"]}
    assert failing <= failed


def test_fd_below_noise_everywhere_is_a_failure_not_a_pass():
    th = gradient_thresholds()
    ref = np.full((8, 8), 1e-3)
    m = gradient_metrics(ref, ref, np.ones((8, 8)), th)
    assert m.n_signal == 0 and not all(g["passed"] for g in gates(m, th))


def test_gradient_class_only_tightens_over_the_registry_history():
    """The shared registry lint checks classes through their cases; GRADIENT has none, so its
    own values (and the extra keys) are checked here against every committed version."""
    import yaml

    from parity.matrix.registry import GitUnavailable, registry_history

    try:
        history = registry_history()
    except GitUnavailable as exc:
        pytest.skip(str(exc))
    now = yaml.safe_load(open(P.__file__.replace("gradients/params.py", "matrix/thresholds.yaml")).read())
    versions = [yaml.safe_load(text) for _, text in history] + [now]
    directions = {**now["directions"], **EXTRA_DIRECTIONS}
    seen = [v["classes"]["GRADIENT"] for v in versions if "GRADIENT" in v.get("classes", {})]
    assert seen, "the registry has no GRADIENT class"
    for old, new in zip(seen, seen[1:]):
        for key, way in directions.items():
            assert key in new, f"GRADIENT.{key} removed"
            if key in old:
                looser = new[key] < old[key] if way == "min" else new[key] > old[key]
                assert not looser, f"GRADIENT.{key} loosened {old[key]} -> {new[key]}"
