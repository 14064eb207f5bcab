"""simcore.noise.rng: NR generators and setup-time draws against the C's golden evidence."""
from __future__ import annotations

import math
import os
import re
import subprocess

import numpy as np
import pytest

from simcore.noise.rng import (AM, IM, RNMX, CLong, CRandom, CSeeds, f32, gammln, gaussdev,
                         mosaic_domain_umats, mosaic_rotation_umat, poidev, powf, ran1,
                         random_misset_angles, seed_from_cli, setup_draws, umat2misset)
from simcore.io.smv import RTD

C_BIN = os.environ.get("NB_C_BIN")


def _golden_misset_deg(golden_dir, case):
    text = (golden_dir / case / "stdout.txt").read_text()
    m = re.search(r"random orientation misset angles: (\S+) (\S+) (\S+) deg", text)
    return tuple(float(v) for v in m.groups())


# ---- ran1 ---------------------------------------------------------------------------------------
def test_ran1_first_draws_follow_park_miller_and_shuffle():
    rng, seed = CRandom(), CLong(-5)
    draws = [ran1(seed, rng) for _ in range(1000)]
    assert all(0.0 < u < 1.0 for u in draws)
    assert all(f32(u) == u for u in draws)           # float32 values
    # Park–Miller part: idum advances by 16807 mod (2**31 - 1) per draw after the table load
    before = seed.value
    ran1(seed, rng)
    assert seed.value == (16807 * before) % IM


def test_ran1_output_is_a_table_entry_scaled_to_float32():
    rng, seed = CRandom(), CLong(-12345)
    ran1(seed, rng)
    iy_before, iv_before = rng.iy, list(rng.iv)
    u = ran1(seed, rng)
    j = iy_before // (1 + (IM - 1) // 32)
    assert rng.iy == iv_before[j]
    assert u == f32(AM * iv_before[j])
    assert rng.iv[j] == seed.value


def test_ran1_positive_seed_continues_the_shared_table():
    """A seed that ends up >= 0 does not reload the table (T-SEEDS)."""
    rng = CRandom()
    first = CLong(-7)
    [ran1(first, rng) for _ in range(10)]
    table = list(rng.iv)
    positive = CLong(42)
    ran1(positive, rng)
    assert sum(a != b for a, b in zip(table, rng.iv)) == 1      # one slot replaced, no reload
    assert positive.value == (16807 * 42) % IM


def _first_draws(seed_value, n=5):
    rng, seed = CRandom(), CLong(seed_value)
    return [ran1(seed, rng) for _ in range(n)]


def test_ran1_zero_and_first_positive_seed_collapse_to_one():
    assert _first_draws(0) == _first_draws(99) == _first_draws(-1)
    assert _first_draws(-2) != _first_draws(-1)


def test_ran1_clamps_at_rnmx():
    rng, seed = CRandom(), CLong(-3)
    ran1(seed, rng)
    rng.iy = rng.iv[31] = IM - 1                # slot 31 holds IM-1: AM*(IM-1) rounds to 1.0f
    u = ran1(seed, rng)
    assert f32(AM * (IM - 1)) == 1.0
    assert u == f32(RNMX) and u < 1.0


# ---- deviates -----------------------------------------------------------------------------------
def test_gammln_matches_lgamma_to_float_precision():
    for x in (1.0, 2.0, 5.0, 10.5, 100.0, 1234.5):
        assert gammln(x) == pytest.approx(math.lgamma(x), rel=2e-6, abs=2e-6)
        assert f32(gammln(x)) == gammln(x)


def test_gaussdev_keeps_its_spare_across_calls():
    rng, seed = CRandom(), CLong(-31)
    g1 = gaussdev(seed, rng)
    used = seed.value
    assert rng.gauss_iset == 1
    g2 = gaussdev(seed, rng)
    assert seed.value == used                       # the spare costs no draw
    assert g2 == rng.gauss_gset and rng.gauss_iset == 0
    assert g1 != g2


def test_poidev_zero_takes_exactly_one_draw():
    rng, seed = CRandom(), CLong(-11)
    ran1(seed, rng)
    ref_rng, ref_seed = rng.copy(), CLong(seed.value)
    assert poidev(0.0, seed, rng) == 0.0
    ran1(ref_seed, ref_rng)
    assert (seed.value, rng.iy, rng.iv) == (ref_seed.value, ref_rng.iy, ref_rng.iv)


def test_poidev_means_are_poisson_like():
    rng, seed = CRandom(), CLong(-2024)
    for mean in (0.5, 5.0, 40.0, 1000.0):
        draws = np.array([poidev(mean, seed, rng) for _ in range(4000)])
        assert np.all(draws == np.floor(draws)) and draws.min() >= 0
        assert draws.mean() == pytest.approx(mean, rel=0.08, abs=0.05)
        assert draws.var() == pytest.approx(mean, rel=0.15, abs=0.1)


def test_poidev_first_call_at_minus_one_uses_the_static_cache():
    """oldm starts at -1.0 with g = 0, so xm == -1.0 first loops until t underflows (C quirk)."""
    rng, seed = CRandom(), CLong(-5)
    assert poidev(-1.0, seed, rng) > 50
    assert poidev(-1.0, seed, rng) > 50                        # still cached: g == 0
    assert poidev(-2.0, seed, rng) == 0.0                      # fresh xm: g = exp(2) > 1


# ---- orientations -------------------------------------------------------------------------------
@pytest.mark.parametrize("case,misset_seed", [("at024_random_misset_seed12345", 12345),
                                              ("at024_random_misset_seed54321", 54321)])
def test_random_misset_matches_golden_stdout(golden_dir, case, misset_seed):
    angles = random_misset_angles(CLong(seed_from_cli(misset_seed)), CRandom())
    expected = _golden_misset_deg(golden_dir, case)
    assert tuple(f"{a * RTD:f}" for a in angles) == tuple(f"{e:f}" for e in expected)


def test_wrong_misset_seed_does_not_match(golden_dir):
    angles = random_misset_angles(CLong(seed_from_cli(12346)), CRandom())
    expected = _golden_misset_deg(golden_dir, "at024_random_misset_seed12345")
    assert max(abs(a * RTD - e) for a, e in zip(angles, expected)) > 1e-3


def _trace_vectors(text, key):
    return [np.array([float(v) for v in m.split()]) for m in re.findall(rf"TRACE_C: {key} (.*)", text)]


def _sincg(x, n):
    return n if x == 0.0 else math.sin(n * x) / math.sin(x)


def test_mosaic_domains_reproduce_golden_trace_intensity(golden_dir):
    """feat_mosaic_dom5 (-mosaic 0.5 -mosaic_dom 5 -mosaic_seed 4242 -N 10, F = 100): summing
    F²·F_latt² over the traced sub-pixel q vectors and our 5 domain matrices gives the C's
    I_before_scaling."""
    text = (golden_dir / "feat_mosaic_dom5" / "trace_249_200.txt").read_text()
    qs = _trace_vectors(text, "scattering_vec_A_inv")            # m^-1 despite the name
    a0, b0, c0 = (_trace_vectors(text, f"rot_{x}_angstroms")[0] * 1e-10 for x in "abc")
    i_ref = float(re.search(r"TRACE_C: I_before_scaling (\S+)", text).group(1))

    def intensity(umats):
        total = 0.0
        for q in qs:
            for u in umats:
                h, k, l = (u @ a0) @ q, (u @ b0) @ q, (u @ c0) @ q
                f = _sincg(math.pi * h, 10) * _sincg(math.pi * k, 10) * _sincg(math.pi * l, 10)
                total += 100.0**2 * f * f
        return total

    spread = 0.5 / RTD
    umats = mosaic_domain_umats(spread, 5, CLong(seed_from_cli(4242)), CRandom())
    assert umats.shape == (5, 3, 3)
    assert np.array_equal(umats[0], np.eye(3))
    assert intensity(umats) == pytest.approx(i_ref, rel=1e-10)
    other = mosaic_domain_umats(spread, 5, CLong(seed_from_cli(4243)), CRandom())
    assert intensity(other) != pytest.approx(i_ref, rel=1e-3)


def test_mosaic_umat_is_a_rotation_by_the_float32_angle():
    rng, seed = CRandom(), CLong(-77)
    for mosaicity in (0.01, 0.3, 90.0):
        u = mosaic_rotation_umat(mosaicity, seed, rng).reshape(3, 3)
        assert np.allclose(u @ u.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(u) == pytest.approx(1.0, abs=1e-12)
    zero = mosaic_rotation_umat(0.0, seed, rng)
    assert np.array_equal(zero, np.eye(3).ravel())


def test_powf_is_float32_cube_root_power():
    for x in (0.0, 0.125, 0.5, 0.999):
        assert powf(x, 1.0 / 3.0) == pytest.approx(x ** (1.0 / 3.0), rel=2e-7)
        assert f32(powf(x, 1.0 / 3.0)) == powf(x, 1.0 / 3.0)


def test_umat2misset_branches():
    assert umat2misset(np.eye(3)) == (0.0, 0.0, 0.0)
    rx, ry, rz = 0.3, -0.2, 1.1
    cx, sx, cy, sy, cz, sz = (math.cos(rx), math.sin(rx), math.cos(ry), math.sin(ry),
                              math.cos(rz), math.sin(rz))
    rot = (np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
           @ np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
           @ np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]]))
    assert umat2misset(rot * 3.0) == pytest.approx((rx, ry, rz), abs=1e-12)   # rows renormalised
    # uzx**2 >= 1: gimbal branch (pi, pi/2, atan2(uxy, -uyy))
    gimbal = np.array([[0, 0, 1], [0, 1, 0], [-1, 0, 0]], dtype=float)
    assert umat2misset(gimbal) == pytest.approx((math.pi, math.pi / 2, math.atan2(0, -1)))
    # an empty z row is replaced by x × y
    assert umat2misset(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]], float)) == (0.0, 0.0, 0.0)


# ---- seeds and setup order ----------------------------------------------------------------------
def test_seed_defaults_follow_the_c():
    s = CSeeds.from_cli(seed=5, now_s=1000.0)
    assert s.seed.value == -5
    assert s.misset_seed.value == -1000            # the time seed, not -seed
    assert s.mosaic_seed.value == -12345678
    assert seed_from_cli(-3) == 3 and seed_from_cli(-(2**31)) == -(2**31)


def test_setup_draws_consume_misset_then_mosaic():
    seeds = CSeeds.from_cli(misset_seed=12345, mosaic_seed=4242, now_s=0)
    rng = CRandom()
    draws = setup_draws(misset_random=True, mosaic_spread_rad=0.5 / RTD, mosaic_domains=5,
                        seeds=seeds, rng=rng)
    assert draws.misset_rad == random_misset_angles(CLong(-12345), CRandom())
    assert np.array_equal(draws.mosaic_umats,
                          mosaic_domain_umats(0.5 / RTD, 5, CLong(-4242), CRandom()))
    plain = setup_draws(misset_random=False, mosaic_spread_rad=0.0, mosaic_domains=1,
                        seeds=CSeeds.from_cli(now_s=0), rng=CRandom())
    assert plain.misset_rad is None and np.array_equal(plain.mosaic_umats, np.eye(3)[None])


@pytest.mark.needs_c
@pytest.mark.skipif(not C_BIN, reason="NB_C_BIN not set")
@pytest.mark.parametrize("misset_seed", [1, 7, 99999])
def test_random_misset_matches_c_binary(tmp_path, misset_seed):
    out = subprocess.run(
        [C_BIN, "-default_F", "1", "-cell", "100", "100", "100", "90", "90", "90", "-detpixels",
         "4", "-nonoise", "-nopgm", "-misset", "random", "-misset_seed", str(misset_seed)],
        cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    expected = re.search(r"random orientation misset angles: (\S+) (\S+) (\S+) deg", out).groups()
    angles = random_misset_angles(CLong(seed_from_cli(misset_seed)), CRandom())
    assert tuple(f"{a * RTD:f}" for a in angles) == expected
