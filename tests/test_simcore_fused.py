"""The fused float32 kernel (simcore/kernel/fused.py) agrees with the eager path and stays out of float64."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("numba")

from simcore.kernel import fused  # noqa: E402
from simcore.kernel.render import render  # noqa: E402

BASE = "-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -distance 100 -pixel 0.1".split()
CASES = {
    "spec": "-N 5 -detpixels 48",
    "loops": "-N 5 -detpixels 24 -mosaic 0.5 -mosaic_dom 3 -phi 0 -osc 30 -phisteps 3 -oversample 2 -divergence 0.5 -divsteps 3",
    "even_mixed_kahn": "-Na 4 -Nb 1 -Nc 8 -detpixels 40 -polar 0.9 -polar_vector 0 1 0",
    "nopolar_point": "-N 2 -detpixels 32 -nopolar -point_pixel -twotheta 20 -Xbeam 3 -Ybeam 5",
    "twin_float64_h": "-N 5 -detpixels 40 -water 50 -roi 5 30 8 25",
    "twin_hires": "-N 7 -lambda 0.5 -distance 500 -pixel 0.05 -detpixels 64",
}


def _pair(args):
    return render(args, dtype="float32", fused="off"), render(args, dtype="float32", fused="on")


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_matches_eager(name, monkeypatch):
    args = BASE + CASES[name].split()
    calls = []
    real = fused.render_chunk
    monkeypatch.setattr(fused, "render_chunk", lambda *a, **k: calls.append(1) or real(*a, **k))
    eager, fast = _pair(args)
    assert calls, "the fused kernel was not used"
    x, y = eager.image.double(), fast.image.double()
    bright = x > 0.01 * x.max()
    assert bright.any()
    assert float(((y - x).abs() / x)[bright].max()) < 1e-4
    assert abs(float(y.sum() / x.sum()) - 1.0) < 1e-6
    assert fast.omega_sum == pytest.approx(eager.omega_sum, rel=1e-6)
    assert int(x.argmax()) == int(y.argmax())


def test_float64_never_fused(monkeypatch):
    monkeypatch.setattr(fused, "render_chunk", lambda *a, **k: pytest.fail("float64 went through the fused kernel"))
    args = BASE + CASES["loops"].split()
    a = render(args, dtype="float64", fused="on").image
    b = render(args, dtype="float64", fused="off").image
    assert torch.equal(a, b)


@pytest.mark.parametrize("extra", ["-N 9", "-round_xtal", "-dmin 5", "-oversample_omega"])
def test_ineligible_runs_stay_eager(extra, monkeypatch):
    monkeypatch.setattr(fused, "render_chunk", lambda *a, **k: pytest.fail(f"{extra} went through the fused kernel"))
    monkeypatch.setattr(fused, "inner_sum", lambda *a, **k: pytest.fail(f"{extra} took the fused inner sum"))
    render(BASE + ["-N", "5", "-detpixels", "16"] + extra.split(), dtype="float32", fused="on")


def test_auto_mode_skips_small_runs_without_numba_loaded(monkeypatch):
    monkeypatch.delitem(__import__("sys").modules, "numba")
    monkeypatch.setattr(fused, "render_chunk", lambda *a, **k: pytest.fail("auto used numba on a tiny run"))
    render(BASE + CASES["spec"].split(), dtype="float32", fused="auto")


def test_bad_mode_is_a_usage_error(monkeypatch):
    from simcore.errors import SimcoreUsageError

    monkeypatch.setenv("SIMCORE_FUSED", "fast")
    with pytest.raises(SimcoreUsageError, match="SIMCORE_FUSED"):
        render(BASE + CASES["spec"].split(), dtype="float32")


def test_auto_mode_fuses_a_run_that_outweighs_the_import(monkeypatch):
    monkeypatch.delitem(__import__("sys").modules, "numba")
    monkeypatch.setattr(fused, "AUTO_MIN_EAGER_S", 1e-6)
    calls = []
    real = fused.render_chunk
    monkeypatch.setattr(fused, "render_chunk", lambda *a, **k: calls.append(1) or real(*a, **k))
    render(BASE + CASES["spec"].split(), dtype="float32", fused="auto")
    assert calls


def test_auto_mode_stays_eager_when_the_arguments_trace_a_pixel(monkeypatch):
    """The image of a traced run comes from the path its trace takes (closure bit for bit)."""
    monkeypatch.setattr(fused, "AUTO_MIN_EAGER_S", 1e-6)
    monkeypatch.setattr(fused, "render_chunk", lambda *a, **k: pytest.fail("a traced run took the fused kernel"))
    monkeypatch.setattr(fused, "inner_sum", lambda *a, **k: pytest.fail("a traced run took the fused inner sum"))
    render(BASE + CASES["spec"].split() + ["-trace_pixel", "1", "1"], dtype="float32", fused="auto")

