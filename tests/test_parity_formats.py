"""Images from anywhere (parity.images.formats via read_image): detector formats written by fabio
itself, HDF5 by h5py, PNG by Pillow, raw files of any dtype, and the orientation check.

Each file is tiny and written in a tmp dir; values are compared exactly.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from conftest import GOLDEN_DIR
from parity.errors import ParityInputError, ParityShapeError, ParityUsageError
from parity.images.io import read_image, read_pair
from parity.images.metrics import check_orientation, compare_images

RNG = np.random.default_rng(7)
IMAGE = RNG.integers(0, 60000, size=(6, 10)).astype(np.int32)     # non-square: slow 6, fast 10


def _fabio_write(kind: str, data: np.ndarray, path):
    from fabio import adscimage, cbfimage, edfimage, pnmimage, tifimage

    cls = {"cbf": cbfimage.CbfImage, "edf": edfimage.EdfImage, "tif": tifimage.TifImage,
           "smv": adscimage.AdscImage, "pgm": pnmimage.PnmImage}[kind]
    cls(data=data).write(str(path))
    return path


@pytest.mark.parametrize("kind, dtype", [("cbf", np.int32), ("edf", np.float32), ("edf", np.float64),
                                         ("tif", np.uint16), ("tif", np.float32), ("smv", np.uint16),
                                         ("pgm", np.uint8)])
def test_fabio_formats_read_exactly(tmp_path, kind, dtype):
    data = (IMAGE % 250).astype(dtype) if kind == "pgm" else IMAGE.astype(dtype)
    path = _fabio_write(kind, data, tmp_path / "image.data")           # the extension says nothing
    image = read_image(path)
    assert image.shape == (6, 10) and image.dtype == dtype
    np.testing.assert_array_equal(image, data)
    with pytest.raises(ParityInputError, match="shape"):
        read_image(path, shape=(10, 6))


def test_nanobragg_pgm_header_with_comment(tmp_path):
    pixels = (IMAGE % 256).astype(np.uint8)
    path = tmp_path / "image.pgm"
    path.write_bytes(b"P5\n10 6\n# pixels scaled by 2.5\n255\n" + pixels.tobytes())
    np.testing.assert_array_equal(read_image(path), pixels)


def test_hdf5_single_dataset_named_and_found(tmp_path):
    import h5py

    path = tmp_path / "out.h5"
    with h5py.File(path, "w") as handle:
        handle["results/image"] = IMAGE.astype(np.float64)
        handle["results/scale"] = np.float64(2.0)                      # a scalar is not an image
    np.testing.assert_array_equal(read_image(path), IMAGE.astype(np.float64))
    np.testing.assert_array_equal(read_image(f"{path}::/results/image"), IMAGE.astype(np.float64))
    with pytest.raises(ParityInputError, match="no dataset"):
        read_image(f"{path}::/results/nope")


def test_hdf5_ambiguous_multiframe_and_eiger(tmp_path):
    import h5py

    two = tmp_path / "two.h5"
    with h5py.File(two, "w") as handle:
        handle["a"] = IMAGE
        handle["b"] = IMAGE
    with pytest.raises(ParityInputError, match=r"2 image datasets \(/a, /b\).*::/path"):
        read_image(two)
    np.testing.assert_array_equal(read_image(f"{two}::/b"), IMAGE)
    stack = tmp_path / "stack.h5"
    with h5py.File(stack, "w") as handle:
        handle["data"] = np.stack([IMAGE, IMAGE])
    with pytest.raises(ParityInputError, match="2 frames"):
        read_image(stack)
    eiger = tmp_path / "x_master.h5"                                    # NeXus/Eiger layout: fabio reads it
    with h5py.File(eiger, "w") as handle:
        handle["entry/data/data"] = IMAGE[None].astype(np.uint32)
    np.testing.assert_array_equal(read_image(eiger), IMAGE.astype(np.uint32))


def test_png_grey_is_read_and_colour_is_refused(tmp_path):
    from PIL import Image

    Image.fromarray((IMAGE % 256).astype(np.uint8)).save(tmp_path / "g8.png")
    np.testing.assert_array_equal(read_image(tmp_path / "g8.png"), (IMAGE % 256).astype(np.uint8))
    Image.fromarray(IMAGE.astype(np.uint16)).save(tmp_path / "g16.png")
    np.testing.assert_array_equal(read_image(tmp_path / "g16.png").astype(np.int64), IMAGE)
    Image.new("RGB", (10, 6)).save(tmp_path / "rgb.png")
    with pytest.raises(ParityInputError, match="PNG picture in colour mode RGB"):
        read_image(tmp_path / "rgb.png")


def test_dataset_suffix_on_a_non_hdf5_file(tmp_path):
    path = _fabio_write("edf", IMAGE.astype(np.float32), tmp_path / "a.edf")
    with pytest.raises(ParityInputError, match="not HDF5"):
        read_image(f"{path}::/x")


def test_corrupt_detector_file_is_one_line_error(tmp_path):
    path = tmp_path / "bad.cbf"
    path.write_bytes(b"###CBF: VERSION 1.5\nnothing else")
    with pytest.raises(ParityInputError, match="unreadable CBF"):
        read_image(path)


# ---- raw files of any dtype -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "uint16", ">f4", "int32"])
def test_raw_with_dtype(tmp_path, dtype):
    data = IMAGE.astype(np.dtype(dtype).newbyteorder("<") if dtype[0] != ">" else dtype)
    path = tmp_path / "img.raw"
    data.tofile(path)
    image = read_image(path, shape=(6, 10), dtype=dtype)
    assert image.dtype.isnative and image.dtype.kind == np.dtype(dtype).kind
    np.testing.assert_array_equal(image, IMAGE)


def test_raw_float64_error_names_the_dtype(tmp_path):
    path = tmp_path / "img.bin"
    np.zeros((256, 256), "<f8").tofile(path)
    with pytest.raises(ParityInputError, match=r"524288 bytes = 256 x 256 float64; pass --dtype float64"):
        read_image(path, shape=(256, 256))
    with pytest.raises(ParityInputError, match=r"unknown shape \(524288 bytes = 256 x 256 float64 "
                                               r"\(--dtype float64 --shape 256 256\)"):
        read_image(path)
    assert read_image(path, shape=(256, 256), dtype="float64").dtype == np.float64


@pytest.mark.parametrize("dtype", ["complex64", "bool", "no-such-type", "U4"])
def test_raw_bad_dtype_is_usage_error(tmp_path, dtype):
    path = tmp_path / "img.bin"
    np.zeros((2, 2), "<f4").tofile(path)
    with pytest.raises(ParityUsageError, match="dtype"):
        read_image(path, shape=(2, 2), dtype=dtype)


def test_raw_float32_default_stays_bit_exact():
    case = GOLDEN_DIR / "at012_simple_cubic"
    image = read_image(case / "float.bin")
    assert image.dtype == np.float32
    assert image.tobytes() == (case / "float.bin").read_bytes()


# ---- orientation ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def triclinic():
    return read_image(GOLDEN_DIR / "at012_triclinic_P1" / "float.bin")


@pytest.mark.parametrize("name, view", [("transpose", lambda a: a.T), ("flip_slow", lambda a: a[::-1]),
                                        ("flip_fast", lambda a: a[:, ::-1]),
                                        ("rotate_180", lambda a: a[::-1, ::-1])])
def test_orientation_names_the_transform(triclinic, name, view):
    cand = np.ascontiguousarray(view(triclinic))
    result = check_orientation(triclinic, cand)
    assert result["best"] == name and result["correlation"] == pytest.approx(1.0, abs=1e-12)
    assert result["as_given"] < 0.2 and "better" in result["hint"]
    metrics = compare_images(triclinic, cand, orientation=True)
    assert metrics.to_dict()["orientation"]["best"] == name


def test_orientation_as_given_for_a_good_or_symmetric_candidate(triclinic):
    assert check_orientation(triclinic, triclinic * np.float32(1.01))["best"] == "as_given"
    cubic = read_image(GOLDEN_DIR / "at029_oversample1" / "float.bin")        # symmetric under transpose
    assert check_orientation(cubic, cubic.T.copy())["best"] == "as_given"
    assert compare_images(triclinic, triclinic).orientation is None          # only when asked


def test_transposed_shape_is_named_in_the_shape_error(tmp_path):
    nonsquare = GOLDEN_DIR / "feat_nonsquare_detector" / "float.bin"
    np.save(tmp_path / "t.npy", read_image(nonsquare).T)
    with pytest.raises(ParityShapeError, match="transposed"):
        read_pair(nonsquare, tmp_path / "t.npy")


def test_metrics_cli_says_transposed(tmp_path, triclinic):
    from cli import metrics as metrics_cli

    app = typer.Typer()
    metrics_cli.register(app)
    app.command("unused")(lambda: None)
    np.save(tmp_path / "ref.npy", triclinic)
    np.save(tmp_path / "cand.npy", triclinic.T)
    out = tmp_path / "m.json"
    result = CliRunner().invoke(app, ["metrics", str(tmp_path / "ref.npy"), str(tmp_path / "cand.npy"),
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "better transposed" in " ".join(result.stdout.split())
    orientation = json.loads(out.read_text())["orientation"]
    assert orientation["best"] == "transpose" and orientation["correlation"] > 0.99999
    raw = tmp_path / "f64.bin"
    triclinic.astype("<f8").tofile(raw)
    bad = CliRunner().invoke(app, ["metrics", str(tmp_path / "ref.npy"), str(raw), "--shape", "512", "512"])
    assert bad.exit_code == 5 and "pass --dtype float64" in bad.stderr
    good = CliRunner().invoke(app, ["metrics", str(tmp_path / "ref.npy"), str(raw), "--shape", "512", "512",
                                    "--dtype", "float64"])
    assert good.exit_code == 0, good.output
