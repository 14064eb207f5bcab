"""simcore file formats: C number text, SMV, PGM, HKL/Fdump and source files against the C."""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import golden_meta
from simcore.cfmt import c_atof, c_atoi, c_cast_uint8, c_cast_uint16, c_g, scanf_double, scanf_int
from simcore.errors import SimcoreInputError, SimcoreUsageError
from simcore.io.hkl import fdump_bytes, read_fdump, read_hkl, write_fdump
from simcore.noise.poisson import roi_bounds
from simcore.io.pgm import pgm_bytes, pgm_image, pgm_scale_rule, write_pgm
from simcore.io.smv import (SmvHeader, ingest_headers, int_image, intfile_scale_rule, read_smv,
                         rendered_max_I, smv_bytes, value_of, write_smv)
from simcore.io.sourcefile import read_source_file

C_BIN = os.environ.get("NB_C_BIN")
DATA = Path(__file__).parent / "data" / "simcore"
NOISE_CASES = ["at014_noise_seed123", "at014_noise_seed456", "feat_water_noise"]


def _float_image(golden_dir, case):
    meta = golden_meta(case)
    return np.fromfile(golden_dir / case / "float.bin", "<f4").reshape(meta["spixels"], meta["fpixels"])


def _stdout(golden_dir, case):
    return (golden_dir / case / "stdout.txt").read_text()


# ---- C number text ------------------------------------------------------------------------------
def test_c_printf_helpers():
    assert c_g(math.nan) == "nan" and c_g(-math.nan) == "-nan"
    assert c_g(math.inf) == "inf" and c_g(-0.0) == "-0"
    assert c_g(0.0128500000001) == "0.01285" and c_g(123456789.0) == "1.23457e+08"
    assert c_g(2.5, 1) == "2"                                   # round half even, like glibc


def test_c_atof_atoi_take_prefixes():
    assert c_atof("  -12abc") == -12.0 and c_atof("0x1p3") == 8.0 and c_atof("1e+") == 1.0
    assert c_atof("abc") == 0.0 and math.isnan(c_atof("nan(12)x"))
    assert c_atoi("3000000000") == -1294967296 and c_atoi("99999999999999999999") == -1


@pytest.mark.parametrize("text,value,end", [
    ("1e+ 5", 1.0, 3), ("1.5.3", 1.5, 3), ("0x1p 5", 1.0, 4), ("nan(abc)", math.nan, 3),
    ("infin 3", None, None), ("+ 3", None, None), (".e3", None, None), ("0x 4", None, None)])
def test_scanf_double_follows_glibc(text, value, end):
    got, pos = scanf_double(text, 0)
    if value is None:
        assert got is None
    else:
        assert (got == value or (math.isnan(got) and math.isnan(value))) and pos == end


def test_scanf_int_follows_glibc():
    assert scanf_int("1.5", 0) == (1, 1)
    assert scanf_int("99999999999", 0) == (1215752191, 11)
    assert scanf_int("-", 0)[0] is None


def test_c_casts_wrap_like_x86_gcc():
    vals = [-95.0, -1.5, math.nan, 70000.0, 1e12, 65535.9, -0.5]
    assert c_cast_uint16(vals).tolist() == [65441, 65535, 0, 4464, 0, 65535, 0]
    assert c_cast_uint8(vals).tolist() == [161, 255, 0, 112, 0, 255, 0]


# ---- SMV ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", NOISE_CASES)
@pytest.mark.parametrize("kind", ["int.img", "noise.img"])
def test_smv_header_text_round_trips(golden_dir, case, kind):
    raw = (golden_dir / case / kind).read_bytes()
    frame = read_smv(golden_dir / case / kind)
    assert (frame.header_size, frame.width, frame.height, frame.swap_bytes) == (512, 256, 256, False)
    assert SmvHeader.from_text(frame.header_text).text() == raw[:512]
    assert np.array_equal(frame.data, np.frombuffer(raw[512:], "<u2").reshape(256, 256))


def test_smv_header_from_c_state_matches_golden(golden_dir):
    """at014: -detpixels 256 -pixel 0.1 -distance 100 -lambda 6.2 -mosflm, default beam centre."""
    pixel, n = 0.1 / 1000.0, 256
    detsize = pixel * n
    xbeam = ybeam = (detsize + pixel) / 2.0
    header = SmvHeader.from_c_state(
        fpixels=n, spixels=n, pixel_size_m=pixel, distance_m=100 / 1000.0, lambda0_m=6.2 / 1e10,
        xbeam_m=xbeam, ybeam_m=ybeam, fbeam_m=ybeam + 0.5 * pixel, sbeam_m=xbeam + 0.5 * pixel,
        detsize_s_m=detsize, dials_origin_mm=(-12.9, 12.9, -100.0), orgx_px=129.5, orgy_px=129.5,
        close_distance_m=0.1, phi0_rad=0.0, osc_rad=0.0, detector_twotheta_rad=0.0)
    gold = (golden_dir / "at014_noise_seed123" / "int.img").read_bytes()
    assert header.text() == gold[:512]
    assert b"DIALS_ORIGIN=-12.9,12.9,-100\nXDS_ORGX" in header.text()


@pytest.mark.parametrize("case", NOISE_CASES)
def test_int_image_is_byte_exact(golden_dir, case):
    img = _float_image(golden_dir, case)
    args = (golden_dir / case / "args.txt").read_text().split()
    user_scale = float(args[args.index("-scale") + 1]) if "-scale" in args else 0.0
    scale = intfile_scale_rule(user_scale, rendered_max_I(img))
    assert c_g(scale) == re.search(r"intfile_scale = (\S+)", _stdout(golden_dir, case)).group(1)
    header = SmvHeader.from_text(read_smv(golden_dir / case / "int.img").header_text)
    assert smv_bytes(int_image(img, scale=scale, adc=40.0), header) == \
        (golden_dir / case / "int.img").read_bytes()


def test_int_image_rounds_in_float32_and_zeroes_outside_roi():
    img = np.array([[0.0, 1.0, -1e9, np.nan], [5.0, 5.0, 5.0, 5.0]], np.float32)
    out = int_image(img, scale=1.0, adc=40.49999999, roi=(0, 3, 0, 0))
    # 40.49999999 + 0.5 is 40.99999999 in double but 41.0 as the float floorf() receives
    assert out.tolist() == [[41, 42, 0, 0], [0, 0, 0, 0]]
    assert intfile_scale_rule(0.0, 0.0) == 1.0 and intfile_scale_rule(-2.0, 110.0) == 500.0
    assert intfile_scale_rule(3.0, 110.0) == 3.0


def _write_header_file(path, header, image=None):
    image = np.zeros((header.spixels, header.fpixels), np.uint16) if image is None else image
    write_smv(path, image, header)
    return read_smv(path)


def _header(**kw):
    base = dict(fpixels=4, spixels=3, pixel_size_mm=0.1, distance_mm=100, wavelength_A=1,
                beam_center_x_mm=1, beam_center_y_mm=2, adxv_center_x_mm=0, adxv_center_y_mm=0,
                mosflm_center_x_mm=0, mosflm_center_y_mm=0, denzo_x_beam_mm=0, denzo_y_beam_mm=0,
                dials_origin_mm=(0, 0, -100), xds_orgx_px=7.5, xds_orgy_px=8.5,
                close_distance_mm=100, phi_deg=0, osc_start_deg=0, osc_range_deg=0,
                twotheta_deg=0)
    base.update(kw)
    return SmvHeader(**base)


def test_value_of_substring_quirks():
    text = "{\nHEADER_BYTES=512;\nDISTANCE=100;\nXDS_ORGX=12.5;\nCLOSE_DISTANCE=80;\nKEY;\n}"
    assert value_of("DISTANCE", text) == 80.0              # last occurrence: CLOSE_DISTANCE
    assert value_of("ORGX", text) == 12.5                  # matches XDS_ORGX
    assert math.isnan(value_of("ORGY", text))              # absent -> NaN
    assert value_of("}", text) == 0.0                      # no '=' after it -> 0.0
    assert value_of("KEY", "KEY;\nOTHER=3") == 3.0         # the next '=' anywhere after the key
    with pytest.raises(SimcoreUsageError):
        value_of("", text)


def test_smv_write_read_round_trip_and_refuses_overwrite(tmp_path):
    image = np.arange(12, dtype=np.uint16).reshape(3, 4)
    frame = _write_header_file(tmp_path / "a.img", _header(), image)
    assert (frame.width, frame.height) == (4, 3) and np.array_equal(frame.data, image)
    assert frame.value_of("SIZE1") == 4 and frame.value_of("PIXEL_SIZE") == 0.1
    with pytest.raises(SimcoreUsageError, match="overwrite"):
        write_smv(tmp_path / "a.img", image, _header())
    write_smv(tmp_path / "a.img", image + 1, _header(), overwrite=True)
    assert read_smv(tmp_path / "a.img").data[0, 0] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["a.img"]
    with pytest.raises(SimcoreUsageError, match="shape"):
        smv_bytes(np.zeros((4, 3), np.uint16), _header())


def test_read_smv_flags_but_never_swaps_foreign_byte_order(tmp_path):
    foreign = "big_endian" if np.little_endian else "little_endian"
    image = np.array([[1, 2], [3, 258]], np.uint16)
    write_smv(tmp_path / "f.img", image, _header(fpixels=2, spixels=2, byte_order=foreign))
    frame = read_smv(tmp_path / "f.img")
    assert frame.swap_bytes
    assert np.array_equal(frame.data, image.byteswap())       # raw, as the C's mask/img reader


def test_read_smv_rejects_bad_files_and_zero_fills_short_data(tmp_path):
    (tmp_path / "short.img").write_bytes(b"{\nHEADER_BYTES=512;")
    with pytest.raises(SimcoreInputError) as err:
        read_smv(tmp_path / "short.img")
    assert err.value.c_exit_code == 9
    (tmp_path / "bad.img").write_bytes(b"P5\n" + b" " * 600)
    with pytest.raises(SimcoreInputError, match="ADSC"):
        read_smv(tmp_path / "bad.img")
    data = smv_bytes(np.full((3, 4), 7, np.uint16), _header())
    (tmp_path / "trunc.img").write_bytes(data[:512 + 2 * 5 + 1])
    frame = read_smv(tmp_path / "trunc.img")
    assert frame.data.ravel().tolist() == [7] * 5 + [7] + [0] * 6


def test_header_ingestion_mask_then_img(tmp_path):
    mask = _write_header_file(tmp_path / "m.img", _header(distance_mm=50, beam_center_y_mm=0.1,
                                                         pixel_size_mm=0.2))
    img = _write_header_file(tmp_path / "i.img", _header(distance_mm=120, fpixels=5, spixels=5))
    only_mask = ingest_headers(mask=mask)
    # DISTANCE reads CLOSE_DISTANCE (written later in the header) -> 100 mm, not 50
    assert only_mask["distance_m"] == pytest.approx(0.1)
    assert only_mask["ybeam_m"] == pytest.approx(0.2e-3 * 3 - 0.1e-3)   # flipped for the mask
    assert only_mask["orgx_px"] == 7.5 and only_mask["twotheta_rad"] == 0.0
    both = ingest_headers(mask=mask, img=img)
    assert (both["fpixels"], both["spixels"]) == (5, 5)               # img wins
    assert both["ybeam_m"] == pytest.approx(2e-3) and both["pixel_size_m"] == pytest.approx(1e-4)


# ---- PGM ----------------------------------------------------------------------------------------
def _c_stats(img, roi=None):
    ss, fs = roi_bounds(img.shape, roi)
    v = img[ss, fs].astype(np.float64).ravel()
    avg = np.cumsum(v)[-1] / v.size
    return math.sqrt(np.cumsum((v - avg) ** 2)[-1] / (v.size - 1))


@pytest.mark.parametrize("case", ["at014_noise_seed123", "feat_water_noise", "feat_roi"])
def test_pgm_scale_matches_golden_stdout(golden_dir, case):
    img = _float_image(golden_dir, case)
    args = (golden_dir / case / "args.txt").read_text().split()
    roi = tuple(int(a) for a in args[args.index("-roi") + 1:][:4]) if "-roi" in args else None
    user = float(args[args.index("-scale") + 1]) if "-scale" in args else 0.0
    scale = pgm_scale_rule(0.0, rmsd=_c_stats(img, roi),
                           intfile_scale=intfile_scale_rule(user, rendered_max_I(img, roi=roi)))
    assert c_g(scale) == re.search(r"pgm_scale = (\S+)", _stdout(golden_dir, case)).group(1)
    pix = pgm_image(img, pgm_scale=scale, roi=roi)
    assert pix.max() == 255 and pix.dtype == np.uint8


def test_pgm_bytes_layout(tmp_path):
    img = np.array([[0.0, 1.0, 10.0], [100.0, -1.0, 2.9]], np.float32)
    pix = pgm_image(img, pgm_scale=2.0, roi=(0, 2, 0, 1))
    assert pix.tolist() == [[0, 2, 20], [200, 254, 5]]               # (uchar)(-2.0) == 254
    data = pgm_bytes(pix, pgm_scale=2.0)
    assert data == b"P5\n3 2\n# pixels scaled by 2\n255\n" + bytes([0, 2, 20, 200, 254, 5])
    write_pgm(tmp_path / "x.pgm", pix, pgm_scale=2.0)
    assert (tmp_path / "x.pgm").read_bytes() == data
    assert pgm_scale_rule(0.0, rmsd=0.0, intfile_scale=3.0) == 3.0
    assert pgm_scale_rule(1.5, rmsd=10.0, intfile_scale=3.0) == 1.5


@pytest.mark.skipif(not C_BIN, reason="NB_C_BIN not set")
@pytest.mark.needs_c
def test_pgm_bytes_match_c(golden_dir, tmp_path):
    case = "feat_roi"
    args = (golden_dir / case / "args.txt").read_text().split()
    subprocess.run([C_BIN, *args, "-nonoise", "-floatfile", "f.bin", "-pgmfile", "p.pgm"],
                   cwd=tmp_path, capture_output=True, check=True)
    img = _float_image(golden_dir, case)
    roi = tuple(int(a) for a in args[args.index("-roi") + 1:][:4])
    scale = pgm_scale_rule(0.0, rmsd=_c_stats(img, roi), intfile_scale=1.0)
    assert pgm_bytes(pgm_image(img, pgm_scale=scale, roi=roi), pgm_scale=scale) == \
        (tmp_path / "p.pgm").read_bytes()


# ---- HKL and Fdump ------------------------------------------------------------------------------
GOLDEN_HKL = ["at006_d50_l1p0/single.hkl", "at012_simple_cubic/P1.hkl",
              "at027_nonuniform_hkl/test_pattern.hkl", "feat_interp_auto_switchoff/partial.hkl",
              "feat_interpolate_N1/grid.hkl"]


@pytest.mark.parametrize("rel", GOLDEN_HKL)
def test_golden_hkl_files(golden_dir, rel):
    path = golden_dir / rel
    grid = read_hkl(path)
    count = int(re.search(r"(\d+) initialized hkls", _stdout(golden_dir, path.parent.name)).group(1))
    assert grid.hkls == count and not grid.warnings
    rows = np.loadtxt(path, ndmin=2)
    lo = rows[:, :3].min(axis=0).astype(int)
    hi = rows[:, :3].max(axis=0).astype(int)
    assert (grid.h_min, grid.k_min, grid.l_min) == tuple(lo)
    assert (grid.h_max, grid.k_max, grid.l_max) == tuple(hi)
    assert grid.F.shape == tuple(hi - lo + 2)                        # range + 1 of padding
    for h, k, l, f in rows:
        assert grid.F[int(h) - lo[0], int(k) - lo[1], int(l) - lo[2]] == f
    assert not grid.F[-1].any() and not grid.F[:, -1].any() and not grid.F[:, :, -1].any()


def test_default_f_prefills_all_but_padding(golden_dir):
    grid = read_hkl(golden_dir / "at027_nonuniform_hkl" / "test_pattern.hkl", default_F=7.0)
    assert grid.F[0, 0, 0] == 100.0 and grid.F[2, 2, 0] == 7.0 and grid.F[3, 0, 0] == 0.0


def test_fdump_round_trip(golden_dir, tmp_path):
    grid = read_hkl(golden_dir / "feat_interp_auto_switchoff" / "partial.hkl", default_F=3.5)
    write_fdump(tmp_path / "Fdump.bin", grid)
    back = read_fdump(tmp_path / "Fdump.bin")
    assert np.array_equal(back.F, grid.F) and not back.warnings
    assert (back.h_min, back.h_max, back.k_min, back.k_max, back.l_min, back.l_max) == \
        (grid.h_min, grid.h_max, grid.k_min, grid.k_max, grid.l_min, grid.l_max)
    assert back.hkls == grid.h_range * grid.k_range * grid.l_range
    assert (tmp_path / "Fdump.bin").read_bytes().startswith(b"-3 3 -1 5 -5 5\n\f")


def test_fdump_header_swallows_whitespace_data_bytes(tmp_path):
    """The C's fscanf("...\\n\\f") eats a first data byte of 0x20 (verified with the C binary)."""
    grid = read_hkl(DATA / "hkl_midcomment.hkl")
    first = np.frombuffer(bytes([0x20, 0x11, 0x22, 0x33, 0x44, 0x55, 0x59, 0x40]), "<f8")[0]
    grid.F[0, 0, 0] = first
    (tmp_path / "Fdump.bin").write_bytes(fdump_bytes(grid))
    back = read_fdump(tmp_path / "Fdump.bin")
    assert back.F[0, 0, 0] != first and back.warnings
    assert back.F.tobytes()[:7] == fdump_bytes(grid)[len(b"0 1 0 0 0 0\n\f") + 1:][:7]


def test_hkl_with_extra_columns_is_read_as_a_stream():
    """5 columns: the C reads 4-number groups out of step (Fdump checked against the C binary)."""
    grid = read_hkl(DATA / "hkl_fivecol.hkl")
    assert grid.column_mismatch and grid.n_odd_lines == 4 and grid.odd_lines == (1, 2, 3, 4)
    assert grid.hkls == 5
    assert (grid.h_min, grid.h_max, grid.k_min, grid.k_max, grid.l_min, grid.l_max) == \
        (0, 50, 0, 25, 0, 10)
    assert grid.warnings[0] == "WARNING: non-integer value for h (0.5) at line 1"
    assert grid.pass2_stop_line == 1 and np.count_nonzero(grid.F) == 1 and grid.F[0, 0, 0] == 100


def test_hkl_comment_and_float_index_stop_the_passes():
    mid = read_hkl(DATA / "hkl_midcomment.hkl")
    assert mid.hkls == 2 and mid.pass1_stop_line == 3 and mid.h_max == 1
    flt = read_hkl(DATA / "hkl_float_index.hkl")
    assert flt.hkls == 3 and flt.h_max == 2 and flt.pass2_stop_line == 2
    assert flt.F[1, 0, 0] == 0.0 and flt.F[2, 0, 0] == 0.0          # "1.0" stops pass 2


def test_hkl_without_groups_is_the_c_exit_9(tmp_path):
    (tmp_path / "c.hkl").write_text("# h k l F\n1 2 3 4\n")
    with pytest.raises(SimcoreInputError) as err:
        read_hkl(tmp_path / "c.hkl")
    assert err.value.c_exit_code == 9 and err.value.exit_code == 5


@pytest.mark.skipif(not C_BIN, reason="NB_C_BIN not set")
@pytest.mark.needs_c
@pytest.mark.parametrize("path", [DATA / "hkl_fivecol.hkl", DATA / "hkl_midcomment.hkl",
                                  DATA / "hkl_float_index.hkl"])
def test_fdump_matches_c(tmp_path, path):
    shutil.copy(path, tmp_path)
    subprocess.run([C_BIN, "-hkl", path.name, "-cell", "100", "100", "100", "90", "90", "90",
                    "-detpixels", "8", "-nonoise", "-nopgm", "-default_F", "2"],
                   cwd=tmp_path, capture_output=True, check=True)
    assert fdump_bytes(read_hkl(path, default_F=2.0)) == (tmp_path / "Fdump.bin").read_bytes()


# ---- source files -------------------------------------------------------------------------------
def _with_defaults(table, beam=(1.0, 0.0, 0.0), lambda0_m=1e-10):
    rows = []
    for x, y, z, w, lam in table.columns.tolist():
        xyz = [-10.0 * b if math.isnan(v) else v for v, b in zip((x, y, z), beam)]
        rows.append(" ".join(c_g(v) for v in xyz) + "   " + c_g(1.0 if math.isnan(w) else w)
                    + " " + c_g(lambda0_m if math.isnan(lam) else lam))
    return rows


def _printed_sources(stdout):
    lines = stdout.splitlines()
    i = next(i for i, l in enumerate(lines) if re.match(r"  created a total of \d+ sources:", l))
    n = int(re.search(r"(\d+) sources", lines[i]).group(1))
    return lines[i + 1:i + 1 + n]


def test_golden_sourcefile(golden_dir):
    table = read_source_file(golden_dir / "feat_sourcefile3" / "sources.txt")
    assert table.sources == 3 and not table.warnings
    assert _with_defaults(table) == _printed_sources(_stdout(golden_dir, "feat_sourcefile3"))


def test_comment_line_counts_as_a_zero_source():
    """Verified with the C binary: 3 sources, the first printed as `0 0 0   0 0`."""
    table = read_source_file(DATA / "sources_comment.txt")
    assert table.sources == 3 and table.comment_lines == (1,)
    assert table.columns[0].tolist() == [0.0] * 5
    assert "comment" in table.warnings[0]
    with pytest.raises(SimcoreInputError, match="comment"):
        read_source_file(DATA / "sources_comment.txt", strict=True)


def test_line_endings_zero_fill_missing_columns(tmp_path):
    """Verified with the C binary: CRLF or a missing final newline after the last number make the
    C write 0 (not NaN) into the columns the line does not give; blank/delimiter lines are skipped."""
    (tmp_path / "crlf.txt").write_bytes(b"-10 0 0\r\n-10 0.02 0 0.5 1.02e-10\r\n")
    (tmp_path / "nonl.txt").write_bytes(b"-10 0 0\n\t;\n\n-10 0.02 0")
    (tmp_path / "text.txt").write_bytes(b"-10,0,0;1:1e-10\n-10 nan 0 nan\n-10 0.01 0 2 abc\n")
    crlf = read_source_file(tmp_path / "crlf.txt")
    assert _with_defaults(crlf) == ["-10 0 0   0 0", "-10 0.02 0   0.5 1.02e-10"]
    assert crlf.zero_filled_lines == (1,)
    nonl = read_source_file(tmp_path / "nonl.txt")
    assert _with_defaults(nonl) == ["-10 0 0   1 1e-10", "-10 0.02 0   0 0"]
    assert nonl.zero_filled_lines == (4,)
    text = read_source_file(tmp_path / "text.txt")
    assert _with_defaults(text) == ["-10 0 0   1 1e-10", "-10 -0 0   1 0", "-10 0.01 0   2 0"]
    assert text.text_lines == (3,) and text.zero_filled_lines == (2,)


def test_empty_source_file_is_the_c_exit_9(tmp_path):
    (tmp_path / "e.txt").write_text("\n  \n")
    with pytest.raises(SimcoreInputError) as err:
        read_source_file(tmp_path / "e.txt")
    assert err.value.c_exit_code == 9


@pytest.mark.skipif(not C_BIN, reason="NB_C_BIN not set")
@pytest.mark.needs_c
def test_sourcefiles_match_c(tmp_path):
    (tmp_path / "crlf.txt").write_bytes(b"# hdr\r\n-10 0 0\r\n-10 0.02 0 0.5 1.02e-10\r\n")
    shutil.copy(DATA / "sources_comment.txt", tmp_path)
    for name in ("crlf.txt", "sources_comment.txt"):
        out = subprocess.run(
            [C_BIN, "-sourcefile", name, "-default_F", "100", "-cell", "100", "100", "100", "90",
             "90", "90", "-N", "1", "-detpixels", "4", "-nonoise", "-nopgm"],
            cwd=tmp_path, capture_output=True, text=True, check=True).stdout
        assert _with_defaults(read_source_file(tmp_path / name)) == _printed_sources(out)
