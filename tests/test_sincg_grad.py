"""The lattice factor's derivative on the reduced argument (simcore/kernel/sincg_grad.py), forward-mode
AD through render, and that a gradient run computes the same image as a plain run."""
from __future__ import annotations

import math

import pytest
import torch
import torch.autograd.forward_ad as fwAD

import simcore
from simcore.kernel.lattice import sincg, sincg_split
from simcore.kernel.sincg_grad import partials

mpmath = pytest.importorskip("mpmath")   # comes with torch (sympy)
F64 = torch.float64
TINY = ("-default_F 100 -cell 70 80 90 85 95 105 -lambda 1.2 -N 3 -distance 60 -detpixels 12 -pixel 0.4 "
        "-oversample 1 -misset 10 20 30 -detector_rotx 2 -twotheta 4 -Xbeam 2.3 -Ybeam 2.5 -mosflm").split()


def _reduced(h, N):
    """sincg by the reduced argument (the function differentiated), in mpmath at 50 digits."""
    n = int(mpmath.nint(h))
    d = h - n
    sign = (-1) ** (n * (round(float(N)) - 1))
    return sign * (N if d == 0 else mpmath.sin(N * mpmath.pi * d) / mpmath.sin(mpmath.pi * d))


@pytest.mark.parametrize("N", [2.0, 3.0, 5.0, 8.0, 25.0])
@pytest.mark.parametrize("h", [0.0, 1e-17, 3e-9, -2e-4, 0.013, 0.31, -0.47, 3.0 + 1e-12, -7.0 + 0.004, 12.2])
def test_partials_match_an_exact_derivative(h, N):
    dh, dN = partials(torch.tensor([h], dtype=F64), N)
    with mpmath.workdps(50):
        hm, Nm = mpmath.mpf(h), mpmath.mpf(N)
        ref_h = float(mpmath.diff(lambda x: _reduced(x, Nm), hm))
        ref_N = float(mpmath.diff(lambda m: _reduced(hm, m), Nm))
    assert abs(float(dh) - ref_h) <= 1e-12 * max(1.0, abs(ref_h))
    assert abs(float(dN) - ref_N) <= 1e-12 * max(1.0, abs(ref_N))


def test_direct_beam_derivative_is_zero_not_1e18():
    h = torch.tensor([1e-17, 0.0, -3e-18], dtype=F64, requires_grad=True)
    sincg(h, 5.0).sum().backward()
    assert float(h.grad.abs().max()) < 1e-12


def test_n_derivative_has_no_spurious_peak_term():
    # at h = n + d near a peak n = 4 the unreduced ∂/∂N carries π·n·cos/sin ≈ n/d ≈ 4e3
    N = torch.tensor(5.0, dtype=F64, requires_grad=True)
    h = torch.tensor([4.001], dtype=F64)
    sincg(h, N).sum().backward()
    t = math.pi * 0.001
    assert float(N.grad) == pytest.approx(t * math.cos(5 * t) / math.sin(t), rel=1e-9)


def test_gradcheck_and_gradgradcheck_in_float64():
    h = torch.tensor([0.013, -0.2, 3.4, -6.01, 1e-9], dtype=F64, requires_grad=True)
    N = torch.tensor(6.0, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: sincg(x, 6.0), (h,))
    assert torch.autograd.gradgradcheck(lambda x, n: sincg(x, n), (h, N))


def test_float32_split_path_differentiates_its_fraction():
    d = torch.tensor([0.0, 1e-7, 0.2, -0.4], dtype=torch.float32, requires_grad=True)
    n = torch.tensor([0.0, 3.0, -2.0, 5.0], dtype=torch.float32)
    sincg_split(n, d, 4.0).sum().backward()
    dh, _ = partials(d.detach(), 4.0, n)
    assert torch.allclose(d.grad, dh.to(torch.float32), rtol=1e-6, atol=1e-6)
    assert float(d.grad[0]) == 0.0


def test_non_integer_n_is_the_reduced_continuation():
    h = torch.linspace(-6.3, 6.3, 101, dtype=F64)
    at5 = sincg(h, 5.0)
    near = sincg(h, torch.tensor(5.0 + 1e-9, dtype=F64))
    assert torch.allclose(near, at5, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_gradient_run_renders_the_plain_image(dtype):
    t = torch.tensor(60.0, dtype=F64, requires_grad=True)
    graph = simcore.simulate(TINY, dtype=dtype, params={"distance_mm": t}).image
    plain = simcore.simulate(TINY, dtype=dtype, fused="off").image   # the eager path, bit for bit
    assert graph.requires_grad and torch.equal(graph.detach(), plain)
    fast = simcore.simulate(TINY, dtype=dtype, fused="on").image   # float32: the fused kernel, to float rounding
    tol = {"rtol": 0, "atol": 0} if dtype == "float64" else {"rtol": 1e-4, "atol": 1e-6 * float(plain.max())}
    assert torch.allclose(fast, plain, **tol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_mode_dual_gives_the_jacobian_vector_product(dtype):
    t = torch.tensor(2.3, dtype=F64, requires_grad=True)
    img = simcore.simulate(TINY, dtype=dtype, params={"Xbeam_mm": t}).image_compute
    u = torch.zeros_like(img, requires_grad=True)
    (g,) = torch.autograd.grad((img * u).sum(), t, create_graph=True)
    (jac,) = torch.autograd.grad(g, u)
    with fwAD.dual_level():
        dual = fwAD.make_dual(torch.tensor(2.3, dtype=F64), torch.tensor(0.5, dtype=F64))
        out = simcore.simulate(TINY, dtype=dtype, params={"Xbeam_mm": dual})
        primal, tangent = fwAD.unpack_dual(out.image_compute)
    assert float(jac.abs().max()) > 0
    assert torch.equal(primal, img.detach())
    assert torch.allclose(tangent, 0.5 * jac, rtol=1e-6, atol=1e-9 * float(jac.abs().max()))


def test_mixing_dual_and_requires_grad_is_refused():
    with fwAD.dual_level():
        dual = fwAD.make_dual(torch.tensor(2.3, dtype=F64), torch.tensor(1.0, dtype=F64))
        with pytest.raises(ValueError, match="mixing forward-mode"):
            simcore.simulate(TINY, params={"Xbeam_mm": dual,
                                           "distance_mm": torch.tensor(60.0, dtype=F64, requires_grad=True)})


def test_effective_config_has_the_misset_angles():
    config = simcore.simulate(TINY[:-1] + ["-detpixels", "2", "-mosflm"]).config
    assert config["misset_deg"] == pytest.approx([10.0, 20.0, 30.0])
    assert simcore.simulate("-default_F 1 -cell 50 50 50 90 90 90 -detpixels 2".split()).config["misset_deg"] == \
        [0.0, 0.0, 0.0]
