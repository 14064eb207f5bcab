"""parity.images.io: readers (raw float32, npy, SMV), the C's shape rule, input checks, atomic writes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import GOLDEN_DIR, golden_case_ids, golden_meta
from parity.errors import ParityInputError, ParityShapeError, ParityUsageError
from parity.images.io import (check_image, read_image, read_pair, shape_from_nanobragg_args, write_json_atomic,
                           write_output_atomic)

RNG = np.random.default_rng(20261122)


def _smv_bytes(image: np.ndarray, *, order: str = "little_endian", kind: str = "unsigned_short",
               header_bytes: int = 512) -> bytes:
    n_slow, n_fast = image.shape
    text = (f"{{\nHEADER_BYTES={header_bytes};\nDIM=2;\nBYTE_ORDER={order};\nTYPE={kind};\n"
            f"SIZE1={n_fast};\nSIZE2={n_slow};\nPIXEL_SIZE=0.1;\n}}\f").encode()
    payload = image.astype(">u2" if order == "big_endian" else "<u2").tobytes()
    return text.ljust(header_bytes, b" ") + payload


# ---- shape rule ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", golden_case_ids())
def test_shape_from_args_matches_every_golden_case(case):
    meta = golden_meta(case)
    args = (GOLDEN_DIR / case / "args.txt").read_text()
    assert shape_from_nanobragg_args(args) == (meta["spixels"], meta["fpixels"])


@pytest.mark.parametrize("args, expected", [
    ("", (1024, 1024)),                                            # 102.4 mm / 0.1 mm
    ("-pixel 0.2", (512, 512)),                                    # default detsize, bigger pixels
    ("-detsize 100 -pixel 0.172", (581, 581)),                     # ceil(581.39 - 0.5)
    ("-detsize 100.04 -pixel 0.1", (1000, 1000)),                  # ceil(1000.4 - 0.5) = 1000
    ("-detsize 100.06 -pixel 0.1", (1001, 1001)),                  # ceil(1000.6 - 0.5) = 1001
    ("-detpixels 256 -detsize 10", (256, 256)),                    # detpixels beats detsize ...
    ("-detsize 10 -detpixels 256", (256, 256)),                    # ... in either order
    ("-detpixels_f 320 -detpixels_s 192", (192, 320)),
    ("-detpixels_x 320 -detpixels_y 192", (192, 320)),
    ("-detpixels 64 -detpixels_f 80", (64, 80)),                   # later flags win
    ("-detpixels_f 80 -detpixels 64", (64, 64)),
    ("-detsize_f 20 -detsize_s 10 -pixel 0.1", (100, 200)),
    (["-detpixels", "128"], (128, 128)),                           # argument list form
])
def test_shape_rule(args, expected):
    assert shape_from_nanobragg_args(args) == expected


@pytest.mark.parametrize("args", ["-detpixels", "-detpixels abc", "-pixel 0", "-img x.img", "-mask m.img",
                                  "-detsize -5"])
def test_shape_rule_refuses_bad_arguments(args):
    with pytest.raises(ParityUsageError) as err:
        shape_from_nanobragg_args(args)
    assert err.value.exit_code == 2


# ---- raw float32 --------------------------------------------------------------------------------
def test_read_golden_raw_uses_meta_shape():
    meta = golden_meta("feat_nonsquare_detector")
    image = read_image(GOLDEN_DIR / "feat_nonsquare_detector" / "float.bin")
    assert image.shape == (meta["spixels"], meta["fpixels"]) == (192, 320)
    assert image.dtype == np.float32 and image.flags.writeable
    s, f = np.unravel_index(int(np.argmax(image)), image.shape)
    assert (s, f) == (meta["argmax_slow"], meta["argmax_fast"])
    assert float(image.sum(dtype=np.float64)) == pytest.approx(meta["sum"], rel=1e-9)


def test_read_raw_with_explicit_shape_or_args(tmp_path):
    image = RNG.random((6, 10), dtype=np.float32)
    path = tmp_path / "img.bin"
    image.astype("<f4").tofile(path)
    np.testing.assert_array_equal(read_image(path, shape=(6, 10)), image)
    np.testing.assert_array_equal(read_image(path, nanobragg_args="-detpixels_f 10 -detpixels_s 6"), image)
    with pytest.raises(ParityInputError, match="unknown shape"):
        read_image(path)


@pytest.mark.parametrize("shape", [(6, 11), (5, 10), (1, 1)])
def test_read_raw_wrong_byte_count(tmp_path, shape):
    path = tmp_path / "img.bin"
    np.zeros((6, 10), "<f4").tofile(path)
    with pytest.raises(ParityInputError, match="240 bytes, expected") as err:
        read_image(path, shape=shape)
    assert err.value.exit_code == 5


@pytest.mark.parametrize("shape", [(0, 10), (-1, 4), ("a", 2), (3,)])
def test_read_raw_bad_shape_argument(tmp_path, shape):
    path = tmp_path / "img.bin"
    np.zeros((6, 10), "<f4").tofile(path)
    with pytest.raises(ParityUsageError, match="shape"):
        read_image(path, shape=shape)


def test_read_missing_file_and_directory(tmp_path):
    with pytest.raises(ParityInputError, match="no such file") as err:
        read_image(tmp_path / "absent.bin", shape=(2, 2))
    assert err.value.exit_code == 5
    with pytest.raises(ParityInputError, match="directory"):
        read_image(tmp_path, shape=(2, 2))


def test_meta_json_with_wrong_dtype_is_refused(tmp_path):
    np.zeros((2, 3), "<f4").tofile(tmp_path / "float.bin")
    (tmp_path / "meta.json").write_text(json.dumps({"spixels": 2, "fpixels": 3, "dtype": "float64"}))
    with pytest.raises(ParityInputError, match="float32"):
        read_image(tmp_path / "float.bin")
    (tmp_path / "meta.json").write_text("{not json")
    with pytest.raises(ParityInputError, match="meta.json"):
        read_image(tmp_path / "float.bin")


# ---- SMV and npy --------------------------------------------------------------------------------
def test_read_golden_smv_is_the_c_int_conversion_of_float():
    # nanoBragg writes int.img pixels as floor(float * intfile_scale + adc + 0.5), clipped to uint16;
    # this case has -scale 1.0 -adc 40, so the SMV reader's orientation/byte order must make this exact.
    case = GOLDEN_DIR / "at014_noise_seed123"
    floats = read_image(case / "float.bin").astype(np.float64)
    ints = read_image(case / "int.img")
    assert ints.dtype == np.uint16 and ints.shape == floats.shape == (256, 256)
    np.testing.assert_array_equal(ints, np.clip(np.floor(floats + 40.0 + 0.5), 0, 65535))
    noise = read_image(case / "noise.img")
    assert noise.shape == ints.shape and noise.dtype == np.uint16


@pytest.mark.parametrize("order", ["little_endian", "big_endian"])
def test_read_smv_non_square_both_byte_orders(tmp_path, order):
    image = RNG.integers(0, 65535, size=(3, 5), dtype=np.uint16)
    path = tmp_path / "x.img"
    path.write_bytes(_smv_bytes(image, order=order))
    np.testing.assert_array_equal(read_image(path), image)
    with pytest.raises(ParityInputError, match="shape"):
        read_image(path, shape=(5, 3))


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b[:-2], "bytes, expected"),
    (lambda b: b.replace(b"TYPE=unsigned_short", b"TYPE=float_32bits!!"), "unsupported SMV"),
    (lambda b: b.replace(b"BYTE_ORDER=little_endian", b"BYTE_ORDER=middle_endian"), "unsupported SMV"),
    (lambda b: b.replace(b"SIZE1=5", b"SIZE1=x"), "HEADER_BYTES/SIZE1/SIZE2"),
    (lambda b: b.replace(b"}", b" "), "not an SMV header"),
])
def test_read_smv_malformed(tmp_path, mutate, message):
    path = tmp_path / "x.img"
    path.write_bytes(mutate(_smv_bytes(np.ones((3, 5), dtype=np.uint16))))
    with pytest.raises(ParityInputError, match=message):
        read_image(path)


def test_read_npy(tmp_path):
    image = RNG.random((4, 7))
    np.save(tmp_path / "a.npy", image)
    np.testing.assert_array_equal(read_image(tmp_path / "a.npy"), image)
    np.save(tmp_path / "b.npy", np.zeros((2, 2, 2)))
    with pytest.raises(ParityInputError, match="2-D"):
        read_image(tmp_path / "b.npy")


def test_read_pair_shape_mismatch_is_exit_4(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((4, 4)))
    np.save(tmp_path / "b.npy", np.zeros((4, 5)))
    with pytest.raises(ParityShapeError) as err:
        read_pair(tmp_path / "a.npy", tmp_path / "b.npy")
    assert err.value.exit_code == 4


# ---- checks and writing -------------------------------------------------------------------------
@pytest.mark.parametrize("bad, message", [
    (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN/Inf"),
    (np.array([[1.0, 2.0], [np.inf, 1.0]]), "first at slow=1 fast=0"),
    (np.zeros(4), "2-D"),
    (np.zeros((0, 3)), "empty"),
    (np.array([["a", "b"]]), "real numbers"),
    (np.ones((2, 2), dtype=bool), "real numbers"),
    (np.ones((2, 2), dtype=complex), "real numbers"),
])
def test_check_image_refuses(bad, message):
    with pytest.raises(ParityInputError, match=message) as err:
        check_image(bad)
    assert err.value.exit_code == 5


def test_write_output_atomic_never_overwrites_silently(tmp_path):
    path = tmp_path / "out.txt"
    write_output_atomic(path, "first")
    with pytest.raises(ParityUsageError, match="exists"):
        write_output_atomic(path, "second")
    assert path.read_text() == "first"
    write_output_atomic(path, b"third", overwrite=True)
    assert path.read_text() == "third"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]      # no temp file left behind
    with pytest.raises(ParityUsageError, match="does not exist"):
        write_output_atomic(tmp_path / "no" / "out.txt", "x")


def test_write_json_converts_numpy_and_nan(tmp_path):
    path = write_json_atomic(tmp_path / "a.json", {"a": np.float32(1.5), "b": np.int64(3), "c": float("nan"),
                                                   "d": np.arange(2), "e": (1, 2)})
    assert json.loads(path.read_text()) == {"a": 1.5, "b": 3, "c": "n/a", "d": [0, 1], "e": [1, 2]}
