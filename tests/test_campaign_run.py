"""A campaign end to end (parity/campaign): drawn cases on a local Dask cluster of 2 workers, a worker that
dies mid-case, pwb matrix run's Dask option, and --add-cases output that pwb matrix lint accepts.

The C side is ``make_fake()`` (no physics) in CI, so simcore as the candidate fails every case the
same honest way (wrong image, or a shape the fake does not draw): what is tested is the machinery. With
``NB_C_BIN`` a live-C variant runs the same small campaign and must pass in float64. One cluster serves
the module (its start-up costs seconds).
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys

import pytest
import yaml

from conftest import make_fake
from parity.campaign.add_cases import INPUTS_DIR, add_cases
from parity.campaign.campaign import CampaignOptions, resolve_ports, run_campaign
from parity.campaign.cluster import open_executor
from parity.campaign.draw import draw_cases
from parity.matrix.cases import CASES_PATH, load_cases, parse_cases
from parity.matrix.lint import lint_matrix
from parity.matrix.registry import REGISTRY_PATH, load_registry
from parity.matrix.run import run_matrix

SMALL = {"max_work": 40_000, "max_side": 32}


@pytest.fixture(scope="module")
def cluster():
    with open_executor(workers=2) as executor:
        yield executor


@pytest.fixture
def fake_c(tmp_path):
    return make_fake(tmp_path, "nanoBragg")


def test_a_campaign_on_two_dask_workers_reports_every_case(cluster, fake_c, tmp_path):
    c_runner, cand = resolve_ports(c_bin=fake_c)
    seen = []
    report = run_campaign(CampaignOptions(n=6, seed=3, **SMALL), c_runner=c_runner, cand_runner=cand,
                          executor=cluster, on_result=lambda row, done, total: seen.append((done, total)))
    j = json.loads(json.dumps(report.to_json()))
    assert (j["n_cases"], j["passed"], j["failed"], j["errors"]) == (6, 0, 6, 0)
    assert [c["case_id"] for c in j["cases"]] == [f"s3-{i:04d}" for i in range(6)]
    assert sorted(seen) == [(i, 6) for i in range(1, 7)]
    drawn = draw_cases(6, 3, **SMALL)
    assert [c["args"] for c in j["cases"]] == [list(c.args) for c in drawn]        # the seed's cases
    for row in j["cases"]:
        assert row["reason"] and row["c_s"] > 0 and row["cand_s"] > 0 and row["minimal_args"] is None
        assert row["shrink"] == "no shrinker" and row["work"] <= SMALL["max_work"]
        assert row["gates"] or "shape" in row["reason"]
        assert row["setup_work"]["work"] <= row["work"]                             # simcore's own count
    t = j["throughput"]
    assert j["executor"] == {"kind": "dask", "workers": 2, "address": cluster.address}
    assert t["cases_per_minute"] > 0 and 0 < t["c_share"] < 1 and 0 < t["cand_share"] < 1
    assert t["c_share"] + t["cand_share"] <= 1
    test_a_campaign_on_two_dask_workers_reports_every_case.report = report


def test_add_cases_output_is_accepted_by_matrix_lint(tmp_path):
    report = test_a_campaign_on_two_dask_workers_reports_every_case.report
    cases, registry = tmp_path / "parity_cases.yaml", tmp_path / "thresholds.yaml"
    shutil.copy(CASES_PATH, cases)
    shutil.copy(REGISTRY_PATH, registry)
    if (CASES_PATH.parent / INPUTS_DIR).is_dir():       # the campaign cases already kept in the matrix
        shutil.copytree(CASES_PATH.parent / INPUTS_DIR, tmp_path / INPUTS_DIR)
    added = add_cases(report, cases, registry=registry)
    assert added.added == [f"fuzz-s3-{i:04d}" for i in range(6)] and added.registry_written == str(registry)
    lint = lint_matrix(cases_path=cases, registry_path=registry, base=None)
    assert lint.findings == []
    runs = {r.run_id: r for c in load_cases(cases, registry=load_registry(str(registry))) for r in c.runs}
    for row in report.rows:
        run = runs[f"fuzz-{row['case_id']}"]
        assert list(run.args) == row["args"] and run.threshold_class == "CAMPAIGN-IMAGE"
        assert sorted(p.name for p in (run.input_base.iterdir() if run.input_base else [])) == row["files"]
        if row["files"]:
            assert run.input_base == tmp_path / INPUTS_DIR / run.run_id
    folders = list((tmp_path / INPUTS_DIR).iterdir()) if (tmp_path / INPUTS_DIR).is_dir() else []
    assert all(any(folder.iterdir()) for folder in folders)                          # no empty folders
    doc = yaml.safe_load(cases.read_text())
    assert doc["cases"][-1]["runs"][0]["description"].startswith("xfail float32: ")
    again = add_cases(report, cases, registry=registry)                 # already there: kept, not doubled
    assert again.added == [] and len(again.kept) == 6
    report64 = dataclasses.replace(report, options=dataclasses.replace(report.options, dtype="float64"))
    other = add_cases(report64, cases, registry=registry)               # the other dtype: noted in place
    assert other.added == [] and other.kept == [] and len(other.updated) == 6
    description = yaml.safe_load(cases.read_text())["cases"][-1]["runs"][0]["description"]
    assert description.startswith("xfail float32: ") and "; xfail float64: " in description
    assert len(add_cases(report64, cases, registry=registry).kept) == 6
    assert lint_matrix(cases_path=cases, registry_path=registry, base=None).findings == []


KILLER = """#!{python}
import os, signal, sys, time
marker = open({marker!r}).read()
if marker in " ".join(sys.argv[1:]):
    with open({attempts!r}, "a") as f:
        f.write(str(os.getppid()) + "\\n")
    os.kill(os.getppid(), signal.SIGKILL)      # the parent is the Dask worker running this case
    time.sleep(30)
os.execv({fake!r}, [{fake!r}, *sys.argv[1:]])
"""


def test_a_worker_that_dies_loses_only_its_case(cluster, fake_c, tmp_path):
    cases = draw_cases(5, 4, **SMALL)
    target = cases[2]
    marker, attempts = tmp_path / "marker.txt", tmp_path / "attempts.txt"
    marker.write_text(" ".join(target.args))
    killer = tmp_path / "killer.py"
    killer.write_text(KILLER.format(python=sys.executable, marker=str(marker), attempts=str(attempts),
                                    fake=str(fake_c)))
    killer.chmod(0o755)
    c_runner, cand = resolve_ports(c_bin=fake_c, cand_cmd=str(killer))
    report = run_campaign(CampaignOptions(n=5, seed=4, **SMALL), c_runner=c_runner, cand_runner=cand,
                          executor=cluster, cases=cases)
    status = {r["case_id"]: r for r in report.rows}
    assert len(status) == 5
    assert status[target.case_id]["status"] == "error"
    assert "worker died" in status[target.case_id]["reason"]
    assert len(attempts.read_text().split()) == 2                      # retried once, on another worker
    assert all(r["status"] == "pass" for cid, r in status.items() if cid != target.case_id)
    assert report.exit_code == 1


def test_failures_are_shrunk_on_the_cluster(cluster, fake_c, tmp_path):
    """pwb shrink's engine, its comparisons submitted to the Dask workers: the same failure, fewer flags."""
    c_runner, cand = resolve_ports(c_bin=fake_c, cand_cmd=str(make_fake(tmp_path, "cand", scale=1.5)))
    report = run_campaign(CampaignOptions(n=2, seed=8, **SMALL), c_runner=c_runner, cand_runner=cand,
                          executor=cluster, shrink_budget=8)
    for row in report.rows:
        assert row["status"] == "fail" and row["minimal_args"] is not None, row["shrink"]
        assert len(row["minimal_args"]) < len(row["args"])
    assert report.shrink_s > 0


def test_matrix_run_on_dask_gives_the_serial_verdicts(cluster, tmp_path):
    fake = make_fake(tmp_path, "c", image="noise")
    c_runner, _ = resolve_ports(c_bin=fake)
    doc = {"cases": [{"id": "T", "spec": "test", "threshold_class": "PERF-IMAGE",
                      "base_args": "-default_F 100 -cell 50 50 50 90 90 90 -N 2",
                      "runs": [{"name": "t16", "extra_args": "-detpixels 16"},
                               {"name": "t20", "extra_args": "-detpixels 20"}]}]}
    runs = [r for c in parse_cases(doc, registry=load_registry())[0] for r in c.runs]
    serial = run_matrix(runs, c_runner=c_runner)
    dask = run_matrix(runs, c_runner=c_runner, executor=cluster)
    assert [(o.run.run_id, o.live, o.golden) for o in dask.outcomes] == \
        [(o.run.run_id, o.live, o.golden) for o in serial.outcomes] == [("t16", "fail", "n/a"), ("t20", "fail", "n/a")]
    assert [o.live_metrics["correlation"] for o in dask.outcomes] == [o.live_metrics["correlation"]
                                                                      for o in serial.outcomes]


@pytest.mark.needs_c
@pytest.mark.skipif(not os.environ.get("NB_C_BIN"), reason="NB_C_BIN not set (the live C)")
def test_live_c_campaign_passes_in_float64(cluster):
    c_runner, cand = resolve_ports()
    report = run_campaign(CampaignOptions(n=6, seed=3, dtype="float64", **SMALL), c_runner=c_runner,
                          cand_runner=cand, executor=cluster)
    bad = [(r["case_id"], r["reason"], " ".join(r["args"])) for r in report.rows if r["status"] in ("fail", "error")]
    assert bad == []
    counts = report.counts()
    assert counts["passed"] >= 2 and counts["passed"] + counts["degenerate"] == 6
