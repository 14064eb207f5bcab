"""The opt-in -compile path agrees with eager; `pwb bench` runs and writes JSON without a C binary."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.app import app
from conftest import make_fake

ARGS = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 24 -pixel 0.8 "
        "-mosaic 0.5 -mosaic_dom 3 -phi 0 -osc 20 -phisteps 3 -oversample 2").split()


@pytest.mark.slow
def test_compiled_inner_sum_matches_eager():
    import simcore

    eager = simcore.simulate(ARGS).image.numpy()
    comp = simcore.simulate(ARGS + ["-compile"]).image.numpy()
    big = eager > 0.01 * eager.max()
    assert np.max(np.abs(comp - eager)[big] / eager[big]) < 1e-4
    assert np.corrcoef(comp.ravel(), eager.ravel())[0, 1] > 0.999999


def test_bench_cli_json(tmp_path, monkeypatch):
    monkeypatch.delenv("NB_C_BIN", raising=False)
    out = tmp_path / "bench.json"
    res = CliRunner().invoke(app, ["bench", "--args", " ".join(ARGS), "--repeat", "2", "--json", str(out),
                                   "--tap-overhead"])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    row = data["rows"][0]
    assert row["c"] is None and row["ratio_c_over_simcore"] is None
    assert row["simcore"]["median_s"] > 0 and row["simcore"]["peak_memory_bytes"] > 0
    assert row["taps"]["tap_calls_per_run"] > 10
    assert "C program not timed" in res.output


def test_bench_interleaves_with_a_c_binary(tmp_path):
    fake = make_fake(tmp_path, "nanoBragg")
    out = tmp_path / "bench.json"
    res = CliRunner().invoke(app, ["bench", "--args", " ".join(ARGS), "--repeat", "3", "--c-bin", str(fake),
                                   "--json", str(out)])
    assert res.exit_code == 0, res.output
    row = json.loads(out.read_text())["rows"][0]
    assert len(row["c"]["times_s"]) == 3 and len(row["simcore"]["times_s"]) == 3
    assert len(row["paired_ratios"]) == 3 and row["paired_ratio_median"] > 0
    assert row["ratio_c_over_simcore"] == pytest.approx(row["c"]["median_s"] / row["simcore"]["median_s"])


def test_bench_profile_names_top_costs_in_json_and_bundle(tmp_path, monkeypatch):
    monkeypatch.delenv("NB_C_BIN", raising=False)
    out = tmp_path / "bench.json"
    res = CliRunner().invoke(app, ["bench", "--args", " ".join(ARGS), "--repeat", "1", "--json", str(out),
                                   "--profile", "3", "--bundle", "--reports-root", str(tmp_path / "reports"),
                                   "--slug", "prof"])
    assert res.exit_code == 0, res.output
    prof = json.loads(out.read_text())["rows"][0]["profile"]
    top = prof["top"]
    assert len(top) == 3 and all(t["op"].startswith("aten::") for t in top)
    assert top[0]["self_s"] >= top[1]["self_s"] >= top[2]["self_s"] > 0
    assert 0 < sum(t["share"] for t in top) <= 1.0 + 1e-9
    assert "top costs:" in res.output and top[0]["op"] in res.output
    (bundle,) = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    text = (bundle / "profile.md").read_text()
    assert f"`{top[0]['op']}`" in text and "| 1 |" in text
