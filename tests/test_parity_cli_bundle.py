"""`--bundle` on `pwb metrics`, `pwb peaks`, `pwb pick` and `pwb plateau` (cli/bundle_opts.py API):
each bundle holds the inputs' sha256 (provenance), metrics.json (what --json writes), and per
command the peak table CSV, the overlay PNG when made, the plateau CSV and PNG when made."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from conftest import GOLDEN_DIR
from test_parity_cli import app, run  # noqa: F401 - the app fixture: the four commands on a fresh Typer app


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A 128² crop of a golden image and a candidate 2 % brighter, as .npy files."""
    folder = tmp_path_factory.mktemp("pair")
    image = np.fromfile(GOLDEN_DIR / "at029_oversample1" / "float.bin", "<f4").reshape(256, 256)[64:192, 64:192]
    np.save(folder / "ref.npy", image)
    np.save(folder / "cand.npy", image * np.float32(1.02))
    return folder / "ref.npy", folder / "cand.npy"


def _only_bundle(reports):
    bundles = [p for p in reports.iterdir() if p.is_dir()]
    assert len(bundles) == 1, bundles
    return bundles[0], json.loads((bundles[0] / "bundle.json").read_text())


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_inputs_hashed(manifest, *paths):
    hashes = [r["sha256"] for r in manifest["provenance"]["inputs"]]
    assert hashes == [_sha(p) for p in paths]


def test_peaks_bundle_holds_json_csv_overlay_and_hashes(app, tmp_path, pair):
    reports, out = tmp_path / "reports", tmp_path / "s.json"
    result = run(app, "peaks", *pair, "--shells", 2, "--per-shell", 4, "--overlay", tmp_path / "o.png",
                 "--json", out, "--min-match", 0.9, "--bundle", "--reports-root", reports, "--case", "crop")
    assert result.exit_code == 0, result.output
    folder, manifest = _only_bundle(reports)
    assert folder.name.endswith("-crop") and manifest["kind"] == "peaks" and manifest["status"] == "passed"
    _assert_inputs_hashed(manifest, *pair)
    assert json.loads((folder / "metrics.json").read_text())["n_matched"] == json.loads(out.read_text())["n_matched"]
    assert (folder / "overlay.png").read_bytes() == (tmp_path / "o.png").read_bytes()
    assert (folder / "peaks.csv").read_text().startswith("status,ref_index")
    assert manifest["metrics"]["matched_fraction"] == 1.0 and "worst_shell" in manifest["headline"]
    assert manifest["command"]["config"]["shells"] == 2 and "bundle" not in manifest["command"]["config"]


def test_peaks_bundle_without_overlay_and_failed_min_match(app, tmp_path, pair):
    reports = tmp_path / "reports"
    ref, _ = pair
    blank = tmp_path / "blank.npy"
    np.save(blank, np.zeros((128, 128), np.float32))
    result = run(app, "peaks", ref, blank, "--min-match", 0.5, "--bundle", "--reports-root", reports)
    assert result.exit_code == 3
    folder, manifest = _only_bundle(reports)
    assert manifest["status"] == "failed" and manifest["exit_codes"] == {"pwb peaks": 3}
    assert not (folder / "overlay.png").exists() and (folder / "peaks.csv").is_file()


@pytest.mark.parametrize("command, files", [("metrics", {"metrics.json"}), ("pick", {"metrics.json"}),
                                            ("plateau", {"metrics.json", "plateau.csv"})])
def test_other_commands_bundle(app, tmp_path, pair, command, files):
    reports = tmp_path / "reports"
    result = run(app, command, *pair, "--slug", f"{command}-test", "--reports-root", reports)
    assert result.exit_code == 0, result.output
    folder, manifest = _only_bundle(reports)
    assert folder.name.endswith(f"{command}-test") and manifest["kind"] == command
    _assert_inputs_hashed(manifest, *pair)
    names = {a["name"] for a in manifest["artifacts"]}
    assert files <= names
    payload = json.loads((folder / "metrics.json").read_text())
    assert payload["ref"].endswith("ref.npy")
    if command == "metrics":
        assert manifest["metrics"]["sum_ratio"] == pytest.approx(1.02, rel=1e-6)
        assert manifest["metrics"]["orientation"] == "as_given"


def test_plateau_bundle_keeps_the_png_when_made(app, tmp_path, pair):
    reports = tmp_path / "reports"
    assert run(app, "plateau", *pair, "--png", tmp_path / "p.png", "--bundle", "--reports-root",
               reports).exit_code == 0
    folder, _ = _only_bundle(reports)
    assert (folder / "plateau.png").read_bytes() == (tmp_path / "p.png").read_bytes()


def test_no_bundle_without_the_flag_and_bad_slug_refused(app, tmp_path, pair):
    reports = tmp_path / "reports"
    assert run(app, "metrics", *pair, "--reports-root", reports).exit_code == 0
    assert not reports.exists()
    bad = run(app, "metrics", *pair, "--slug", "../up", "--reports-root", reports)
    assert bad.exit_code == 2 and "slug" in bad.stderr and not reports.exists()


def test_hdf5_dataset_input_is_hashed_as_its_file(app, tmp_path, pair):
    import h5py

    ref, _ = pair
    path = tmp_path / "cand.h5"
    with h5py.File(path, "w") as handle:
        handle["out/image"] = np.load(ref)
    reports = tmp_path / "reports"
    result = run(app, "metrics", ref, f"{path}::/out/image", "--bundle", "--reports-root", reports)
    assert result.exit_code == 0, result.output
    _, manifest = _only_bundle(reports)
    _assert_inputs_hashed(manifest, ref, path)
    assert manifest["metrics"]["correlation"] == 1.0
