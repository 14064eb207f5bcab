"""The random campaign's failures kept in the case matrix (issue #14): every ``fuzz-*`` run of
tests/parity_cases.yaml (added by ``pwb fuzz --add-cases``), judged against the live C in both dtypes.

Judged as the campaign judges (``parity.campaign.runner.judge_images``: a C image that is constant, all
zero say, and equal to simcore's is *degenerate*, nothing to judge, not a failure). A run's
``description`` carries its verdict as measured: ``xfail <dtype>: <failed gates with their
numbers> [pwb fuzz seed S]`` (the case's own description says why). Such a dtype is a *strict* xfail
here: when a fix makes the case pass, the test turns red and the note becomes ``was <dtype>: …`` (the
case stays, as a regression case). Without ``NB_C_BIN`` only the bookkeeping is checked.
"""
from __future__ import annotations

import os
import re

import pytest
import yaml

from parity.matrix.cases import CASES_PATH, iter_runs
from parity.ports.argfiles import input_files

DESCRIPTIONS = {run["name"]: str(run.get("description") or "")
                for case in yaml.safe_load(CASES_PATH.read_text())["cases"] for run in case["runs"] if "name" in run}
RUNS = [r for r in iter_runs() if r.run_id.startswith("fuzz-")]


def _xfail_note(description: str, dtype: str) -> str | None:
    m = re.search(rf"xfail {dtype}: (.*?)(?=; xfail |$)", description)
    return m.group(1).strip() if m else None


def _params():
    for run in RUNS:
        for dtype in ("float32", "float64"):
            note = _xfail_note(DESCRIPTIONS[run.run_id], dtype)
            marks = [pytest.mark.xfail(strict=True, reason=note)] if note else []
            yield pytest.param(run, dtype, id=f"{run.run_id}-{dtype}", marks=marks)


def test_every_campaign_case_has_its_inputs_and_its_measured_numbers():
    for run in RUNS:
        assert run.threshold_class == "CAMPAIGN-IMAGE"
        input_files(run.args, base=run.input_base or CASES_PATH.parent)      # every file it names is there
        description = DESCRIPTIONS[run.run_id]
        notes = [_xfail_note(description, d) for d in ("float32", "float64")]
        was = re.findall(r"was (?:float32|float64): ([^;]*)", description)       # measured before a fix
        assert any(notes) or was, f"{run.run_id}: neither 'xfail <dtype>: ...' nor 'was <dtype>: ...'"
        assert all(re.search(r"\d", n) for n in [*notes, *was] if n), f"{run.run_id}: a note without its numbers"


@pytest.mark.needs_c
@pytest.mark.skipif(not os.environ.get("NB_C_BIN"), reason="needs the nanoBragg C binary via NB_C_BIN")
@pytest.mark.parametrize("run, dtype", list(_params()))
def test_campaign_case_against_the_live_c(run, dtype):
    from parity.campaign.runner import judge_images
    from parity.matrix.run import c_runner_from_env, compute_one

    out, images = compute_one(run, c_runner=c_runner_from_env(), dtype=dtype)
    assert "c" in images, f"{run.run_id} [{dtype}]: {out.live_reason}"
    verdict = judge_images(images["c"], images["simcore"], run.thresholds)    # the campaign's own judgement
    assert verdict["status"] in ("pass", "degenerate"), f"{run.run_id} [{dtype}]: {verdict['reason']}"
