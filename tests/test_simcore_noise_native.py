"""simcore.noise.native and .kernel: the compiled noise pass, both ways of loading it, and its state.

The AOT build and the JIT compile the same kernel source; both must equal the scalar reference
(simcore.noise.rng.poidev) draw for draw, leave the same generator state, and never depend on how
the pass is cut into pieces. Compiled code must live in the user cache, never in the package.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import simcore
from simcore.noise import native
from simcore.noise.poisson import noise_image, poisson_deviates
from simcore.noise.rng import CLong, CRandom, poidev, ran1

PACKAGE_DIR = Path(simcore.__file__).resolve().parent


def _tricky_values() -> np.ndarray:
    """Every poidev branch and corner: 0, direct (< 12), rejection (12..1e6, repeated and fresh
    means), the Gaussian branch with its spare deviate, non-finite and negative pixels."""
    rs = np.random.default_rng(11)
    special = [2e6, 3e6, 1e7, 5e6, np.nan, np.inf, -np.inf, -3.0, -1000.0, 11.999, 12.0, 1e6, 3.4e38]
    return np.concatenate([np.zeros(20), rs.random(1500) * 12, np.full(30, 250.0), rs.random(800) * 3000,
                           special * 4, rs.exponential(5, 800), [7e6] * 3]).astype(np.float32)


def _reference(values, seed_value=-7):
    seed, rng = CLong(seed_value), CRandom()
    ran1(CLong(-3), rng)            # a table already loaded by an earlier stream, as at run time
    out = np.array([poidev(float(v), seed, rng) for v in values], dtype=np.float32)
    return out, seed, rng


def _state(seed, rng):
    return (seed.value, rng.iy, list(rng.iv), rng.gauss_iset, np.float32(rng.gauss_gset),
            np.float32(rng.poi_sq), np.float32(rng.poi_alxm), np.float32(rng.poi_g))


@pytest.fixture
def backend(monkeypatch, request):
    monkeypatch.setenv("SIMCORE_NOISE_BACKEND", request.param)
    if request.param == "aot" and not _aot_available():
        pytest.skip("no C compiler / numba.pycc here: the AOT build cannot be made (the JIT is used)")
    return request.param


def _aot_available() -> bool:
    try:
        native._load_aot()
        return True
    except ImportError:
        return False


@pytest.mark.parametrize("backend", ["aot", "jit"], indirect=True)
def test_compiled_pass_equals_the_scalar_reference(backend):
    values = _tricky_values()
    expected, ref_seed, ref_rng = _reference(values)
    seed, rng = CLong(-7), CRandom()
    ran1(CLong(-3), rng)
    got = poisson_deviates(values, seed=seed, rng=rng)
    assert native.backend_used() == backend
    assert np.array_equal(expected, got, equal_nan=True)
    assert _state(seed, rng) == _state(ref_seed, ref_rng)
    assert (np.isnan(rng.poi_oldm) and np.isnan(ref_rng.poi_oldm)) or rng.poi_oldm == ref_rng.poi_oldm


def test_minus_one_on_the_very_first_call_and_positive_seeds():
    """oldm starts at -1.0 (g = 0 then, as in the C) and a positive seed continues the table."""
    values = np.array([-1.0, -1.0, 2.0, -1.0, 30.0, 30.0], np.float32)
    for seed_value in (-5, 5):
        expected, ref_seed, ref_rng = _reference(values, seed_value)
        seed, rng = CLong(seed_value), CRandom()
        ran1(CLong(-3), rng)
        assert np.array_equal(poisson_deviates(values, seed=seed, rng=rng), expected)
        assert _state(seed, rng) == _state(ref_seed, ref_rng)


@pytest.mark.parametrize("cuts", [(1,), (137, 138, 2000), (500, 1000, 1500, 2500, 3000)])
def test_result_does_not_depend_on_chunking(cuts):
    """Cut anywhere (inside a Gaussian pair, between repeated rejection means): the generator state
    carried between pieces gives the one-pass result and the same final state."""
    values = _tricky_values()
    whole_seed, whole_rng = CLong(-21), CRandom()
    whole = poisson_deviates(values, seed=whole_seed, rng=whole_rng)
    seed, rng = CLong(-21), CRandom()
    pieces = [poisson_deviates(part, seed=seed, rng=rng) for part in np.split(values, list(cuts))]
    assert np.array_equal(np.concatenate(pieces), whole, equal_nan=True)
    assert _state(seed, rng) == _state(whole_seed, whole_rng)


def test_noise_image_photons_are_the_c_running_sum():
    img = np.abs(np.random.default_rng(5).normal(3.0, 4.0, (40, 50))).astype(np.float32)
    res = noise_image(img, seed=CLong(-9), rng=CRandom(), adc=40.0)
    dev = poisson_deviates(img, seed=CLong(-9), rng=CRandom()).astype(np.float64)
    assert res.photons == float(np.cumsum(dev)[-1])          # sequential double sum, pixel order
    assert np.array_equal(res.image, (dev + 40.0).astype(np.uint16).reshape(img.shape))


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SIMCORE_CACHE_DIR", str(tmp_path / "explicit"))
    assert native.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("SIMCORE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert native.cache_dir() == tmp_path / "xdg" / "simcore"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert native.cache_dir() == tmp_path / "home" / ".cache" / "simcore"
    assert native.aot_path().parent == tmp_path / "home" / ".cache" / "simcore" / "aot"


def test_compiled_code_never_lands_in_the_package():
    poisson_deviates(np.ones(10, np.float32), seed=CLong(-1), rng=CRandom())
    where = native.aot_path() if native.backend_used() == "aot" else Path(os.environ["NUMBA_CACHE_DIR"])
    assert PACKAGE_DIR not in where.resolve().parents
    built = [p for p in PACKAGE_DIR.rglob("*") if p.suffix in (".so", ".pyd", ".nbi", ".nbc")]
    assert built == []


def test_a_failed_build_falls_back_to_the_jit(monkeypatch, tmp_path):
    """A marker left by a failed AOT build (no compiler) makes auto use the JIT, without retrying."""
    monkeypatch.setenv("SIMCORE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SIMCORE_NOISE_BACKEND", "auto")
    monkeypatch.setattr(native, "_LOADED", {})
    path = native.aot_path()
    path.parent.mkdir(parents=True)
    path.with_suffix(".failed").write_text("no compiler\n")
    monkeypatch.setattr(native, "_build_aot", lambda p: pytest.fail("must not rebuild"))
    assert native.backend_used() == "jit"
    monkeypatch.setenv("SIMCORE_NOISE_BACKEND", "aot")
    with pytest.raises(ImportError, match="no compiler"):
        native.poisson_pass()


def test_unknown_backend_is_a_usage_error(monkeypatch):
    from simcore.errors import SimcoreUsageError

    monkeypatch.setenv("SIMCORE_NOISE_BACKEND", "fortran")
    with pytest.raises(SimcoreUsageError, match="SIMCORE_NOISE_BACKEND"):
        native.poisson_pass()


def test_loading_the_built_kernel_needs_no_numba():
    """The everyday path: a process that writes a noise image imports neither numba nor llvmlite."""
    if not _aot_available():
        pytest.skip("no AOT build possible here")
    code = ("import sys, numpy as np; from simcore.noise.poisson import poisson_deviates;"
            "from simcore.noise.rng import CLong, CRandom;"
            "poisson_deviates(np.ones(5, np.float32), seed=CLong(-1), rng=CRandom());"
            "print(sorted(m for m in ('numba', 'llvmlite') if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), SIMCORE_NOISE_BACKEND="auto")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.needs_c
@pytest.mark.skipif(not os.environ.get("NB_C_BIN"), reason="NB_C_BIN not set")
def test_all_three_poidev_branches_match_the_live_c(tmp_path):
    """A fluence where pixels span the direct (< 12), rejection and Gaussian (> 1e6) branches:
    float64 simcore writes the C's noise image byte for byte and prints its photon line."""
    args = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 96 "
            "-pixel 0.1 -seed 7 -fluence 1.25932e+36 -nopgm").split()
    c = subprocess.run([os.environ["NB_C_BIN"], *args, "-floatfile", "c.bin", "-noisefile", "c.img"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    py = subprocess.run([sys.executable, "-m", "simcore", *args, "-dtype", "float64", "-floatfile", "p.bin",
                         "-noisefile", "p.img"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert c.returncode == 0 and py.returncode == 0, py.stderr
    floats = np.fromfile(tmp_path / "c.bin", "<f4")
    assert (floats < 12).any() and ((floats >= 12) & (floats <= 1e6)).any() and (floats > 1e6).any()
    assert (tmp_path / "p.bin").read_bytes() == (tmp_path / "c.bin").read_bytes()
    assert (tmp_path / "p.img").read_bytes() == (tmp_path / "c.img").read_bytes()
    line = next(x for x in c.stdout.splitlines() if "photons on noise image" in x)
    assert line in py.stdout.splitlines()
