"""The case matrix loader (parity/matrix/cases.py) on the real tests/parity_cases.yaml and on bad copies."""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from conftest import GOLDEN_DIR, golden_case_ids, golden_meta
from parity.matrix.cases import CASES_PATH, find_run, iter_runs, load_cases, parse_cases
from parity.errors import ParityInputError, ParityUsageError
from parity.matrix.registry import load_registry

PERF = {
    "perf-spec-1024": "-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 1024"
                      " -pixel 0.1",
    "perf-hires-4096": "-default_F 100 -cell 100 100 100 90 90 90 -lambda 0.5 -N 5 -distance 500 -detpixels 4096"
                       " -pixel 0.05",
    "perf-heavy-512": "-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 512"
                      " -pixel 0.1 -mosaic 0.5 -mosaic_dom 5 -phi 0 -osc 90 -phisteps 9 -oversample 2"
                      " -divergence 0.5 -divsteps 3",
}


@pytest.fixture(scope="module")
def runs():
    return list(iter_runs())


def test_every_golden_folder_is_exactly_one_run(runs):
    golden = [r.golden_dir.name for r in runs if r.golden_dir is not None and r.golden_dir.parent == GOLDEN_DIR]
    assert sorted(golden) == golden_case_ids() and len(golden) == 101
    assert len({r.run_id for r in runs}) == len(runs)


def test_golden_args_come_from_args_txt_not_the_yaml(runs):
    text = " ".join(CASES_PATH.read_text().split())
    for run in runs:
        if run.golden_dir is not None:
            assert list(run.args) == shlex.split((run.golden_dir / "args.txt").read_text()), run.run_id
            assert " ".join(run.args) not in text, run.run_id    # no copy of the argument list
    for case in yaml.safe_load(CASES_PATH.read_text())["cases"]:
        if any("golden" in r for r in case["runs"]):
            assert "base_args" not in case and not any("extra_args" in r for r in case["runs"])


def test_cases_group_by_spec_and_every_class_exists(runs):
    registry = load_registry()
    for run in runs:
        assert run.threshold_class in registry["classes"]
        if run.golden_dir is not None and (run.golden_dir / "meta.json").is_file():
            assert run.spec == golden_meta(run.run_id)["spec_ref"]
    at001 = [r.run_id for r in runs if r.case_id == "AT-PARALLEL-001"]
    assert len(at001) == 6 and "at001_det64" in at001


def test_performance_runs_are_the_issue_configurations(runs):
    perf = {r.run_id: r for r in runs if r.case_id == "PERF"}
    assert {k: " ".join(r.args) for k, r in perf.items()} == PERF
    for run in perf.values():
        assert run.golden_dir is None and run.threshold_class == "PERF-IMAGE"
        assert run.spec == "performance issue: accuracy holds while fast"
        assert run.thresholds.to_dict() | {"klass": "", "spec": ""} == \
            find_run("at001_det64").thresholds.to_dict() | {"klass": "", "spec": ""}


def test_thresholds_are_the_registry_values(runs):
    registry = load_registry()
    run = find_run("at012_simple_cubic")
    assert run.thresholds.corr_min == registry["classes"]["GOLDEN-IMAGE"]["corr_min"]
    assert run.input_base == GOLDEN_DIR / "at012_simple_cubic"
    assert len(run.args_hash) == 16


def test_pattern_selection():
    assert [r.run_id for r in iter_runs("at001_det64")] == ["at001_det64"]
    assert {r.run_id for r in iter_runs("perf-*")} == set(PERF)
    assert len(list(iter_runs("AT-PARALLEL-029"))) == 4
    assert {r.run_id for r in iter_runs("at001_det64, perf-spec")} == {"at001_det64", "perf-spec-1024"}
    with pytest.raises(ParityUsageError):
        find_run("no_such_run")


# ---- bad matrices -------------------------------------------------------------------------------------
def _doc(**run_extra) -> dict:
    return {"version": 1, "cases": [{"id": "X", "spec": "AT-PARALLEL-001", "threshold_class": "GOLDEN-IMAGE",
                                     "runs": [{"golden": "at001_det64", **run_extra}]}]}


def test_override_only_tightens_and_loosening_is_refused(tmp_path):
    registry = load_registry()
    cases, findings = parse_cases(_doc(thresholds={"corr_min": 0.999999, "rel_err_max": 1e-4}), registry=registry)
    th = cases[0].runs[0].thresholds
    assert (th.corr_min, th.rel_err_max, findings) == (0.999999, 1e-4, [])
    cases, findings = parse_cases(_doc(thresholds={"corr_min": 0.99}), registry=registry)
    assert cases[0].runs[0].thresholds.corr_min == 0.99999       # never applied
    assert findings and "looser" in findings[0]
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(_doc(thresholds={"sum_ratio_tol": 0.1})))
    with pytest.raises(ParityInputError, match="looser"):
        load_cases(path)


@pytest.mark.parametrize("doc, fragment", [
    ({"cases": [{"id": "X", "spec": "s", "threshold_class": "NOPE", "runs": [{"golden": "at001_det64"}]}]},
     "not in the registry"),
    (_doc(extra_args="-N 3"), "args from args.txt only"),
    ({"cases": [{"id": "X", "spec": "s", "threshold_class": "GOLDEN-IMAGE",
                 "runs": [{"golden": "at001_det64"}, {"golden": "at001_det64"}]}]}, "duplicate run id"),
    ({"cases": [{"id": "X", "spec": "s", "threshold_class": "GOLDEN-IMAGE", "runs": [{"golden": "nope"}]}]},
     "cannot read nope/args.txt"),
    ({"cases": [{"id": "X", "spec": "s", "threshold_class": "GOLDEN-IMAGE", "runs": [{"name": "a"}]}]},
     "needs name and extra_args"),
    ({"cases": [{"id": "X", "spec": "s", "threshold_class": "GOLDEN-IMAGE", "runs": [{"golden": "../x"}]}]},
     "golden must name"),
    (_doc(thresholds={"bogus": 1}), None),
    ({"nothing": 1}, "top-level 'cases'"),
])
def test_malformed_matrices_are_input_errors(doc, fragment):
    if fragment is None:      # unknown override keys are findings (lint), refused by load_cases
        assert "unknown threshold" in parse_cases(doc, registry=load_registry())[1][0]
        return
    with pytest.raises(ParityInputError, match=fragment):
        parse_cases(doc, registry=load_registry())


def test_c_cases_folder_is_a_golden_run():
    run = find_run("c_mask_img_roi")
    assert run.golden_dir == Path(GOLDEN_DIR).parent / "c_cases" / "c_mask_img_roi"
    assert "-mask" in run.args
