"""The shrinker (parity.triage.shrink) on injected comparisons, and --add-case's case file."""
from __future__ import annotations

import concurrent.futures as cf
import threading

import pytest
import yaml

from parity.triage.pair import Outcome
from parity.triage.shrink import shrink

ARGS = ("-default_F 100 -cell 100 100 100 90 90 90 -N 5 -detpixels 64 -distance 100 -twotheta 2 -lambda 1"
        " -oversample 1 -mosaic 0.5 -mosaic_dom 8 -nonoise").split()


class Counting:
    """A pure comparison: the reference needs -cell; the candidate fails with -twotheta != 0 unless -pivot."""

    def __init__(self, rule=None):
        self.calls = []
        self.lock = threading.Lock()
        self.rule = rule or (lambda a: "-twotheta" in a and a[a.index("-twotheta") + 1] != "0" and "-pivot" not in a)

    def __call__(self, args):
        a = list(args)
        with self.lock:
            self.calls.append(tuple(a))
        if "-cell" not in a:
            return Outcome(tuple(a), "ref_error", notes=["no -cell"])
        if self.rule(a):
            gates = ("correlation",) if "-N" not in a else ("correlation", "sum_ratio")
            return Outcome(tuple(a), "fail", gates)
        return Outcome(tuple(a), "pass")


def test_keeps_the_trigger_and_the_required_and_drops_the_rest():
    cmp = Counting()
    r = shrink(ARGS, cmp, budget=200)
    assert r.reproduced and not r.budget_exhausted
    assert r.minimal_args == ("-cell", "100", "100", "100", "90", "90", "90", "-detpixels", "16", "-twotheta", "2",
                              "-oversample", "1")
    units = {u["unit"]: u["without_it"] for u in r.units}
    assert units["-twotheta 2"] == "passes"
    assert units["-cell 100 100 100 90 90 90"] == "breaks the reference run"
    assert "never removed" in units["-detpixels 16"]
    assert r.sentence == "fails the registry gates only with -twotheta 2"
    assert r.runs == len(cmp.calls) == len(set(cmp.calls))       # every list run once


def test_counts_reduced_and_the_reset_to_default_tried():
    r = shrink(ARGS, Counting(), budget=200)
    changes = {c["unit"]: c for c in r.value_changes}
    assert changes["-detpixels 64"]["now"] == "-detpixels 16"
    assert changes["-twotheta 2"]["now"] == "-twotheta 2"           # with its default 0 it passes
    assert [t["value"] for t in changes["-twotheta 2"]["tried"]] == ["0"]


def test_a_flag_whose_presence_triggers_is_reported_at_its_default():
    r = shrink(ARGS, Counting(rule=lambda a: "-twotheta" in a), budget=200)
    assert ("-twotheta", "0") == r.minimal_args[-4:-2]
    assert "with -twotheta given (even at its C default" in r.sentence


def test_an_original_that_passes_is_not_shrunk():
    r = shrink(ARGS + ["-pivot", "beam"], Counting(), budget=20)
    assert not r.reproduced and r.runs == 1 and "does not fail" in r.sentence


def test_a_removed_flag_that_makes_it_pass_when_added_back_is_a_without_clause():
    # fails with -twotheta unless -default_F is given without -N: the shrinker drops both, and adding
    # -default_F back alone to the minimal list makes it pass
    def rule(a):
        return "-twotheta" in a and a[a.index("-twotheta") + 1] != "0" and not ("-default_F" in a and "-N" not in a)
    r = shrink(["-default_F", "100", "-cell", "1", "1", "1", "90", "90", "90", "-twotheta", "2", "-N", "5"],
               Counting(rule=rule), budget=80)
    assert r.minimal_args == ("-cell", "1", "1", "1", "90", "90", "90", "-twotheta", "2")
    supp = {s["unit"]: s for s in r.suppressors}
    assert supp["-default_F 100"]["suppresses"] and supp["-default_F 100"]["with_it"] == "passes"
    assert not supp["-N 5"]["suppresses"] and supp["-N 5"]["with_it"] == "keeps the failure"
    assert r.sentence == "fails the registry gates only with -twotheta 2 and without -default_F 100"


def test_budget_bounds_the_runs_and_says_so():
    cmp = Counting()
    r = shrink(ARGS, cmp, budget=5)
    assert r.runs == len(cmp.calls) == 5 and r.budget_exhausted
    assert r.sentence.startswith("(budget of 5 comparisons spent")
    assert len(r.minimal_args) <= len(ARGS)


@pytest.mark.parametrize("workers", [1, 3])
def test_workers_do_not_change_the_result(workers):
    base = shrink(ARGS, Counting(), budget=200, workers=1)
    r = shrink(ARGS, Counting(), budget=200, workers=workers)
    assert r.minimal_args == base.minimal_args and r.sentence == base.sentence


def test_the_executor_is_injectable():
    class Recording(cf.ThreadPoolExecutor):
        submitted = 0

        def submit(self, fn, *args, **kwargs):
            Recording.submitted += 1
            return super().submit(fn, *args, **kwargs)

    with Recording(max_workers=2) as pool:
        r = shrink(ARGS, Counting(), budget=200, workers=2, executor=pool)
    assert Recording.submitted == r.runs > 0


def test_same_gates_rule_keeps_the_failed_gate_set():
    from parity.triage.shrink_run import keep_rule

    any_fail = shrink(ARGS, Counting(), budget=200, keep=keep_rule("any"))
    same_gates = shrink(ARGS, Counting(), budget=200, keep=keep_rule("gates"))
    assert "-N" not in any_fail.minimal_args          # -N only changes which gates fail
    assert "-N" in same_gates.minimal_args            # the original's gates need it
    with pytest.raises(ValueError):
        keep_rule("nope")


def test_an_original_the_reference_cannot_run_is_not_shrunk():
    r = shrink(["-N", "5", "-twotheta", "2"], Counting(), budget=10)
    assert not r.reproduced and r.runs == 1 and "reference cannot run" in r.sentence


def test_append_case_to_a_case_file_keeps_it_loadable(tmp_path, repo_root):
    from parity.errors import ParityUsageError
    from parity.matrix.cases import load_cases
    from parity.triage.cases_out import append_case

    path = tmp_path / "tests" / "parity_cases.yaml"
    path.parent.mkdir()
    path.write_text((repo_root / "tests" / "parity_cases.yaml").read_text())
    before = path.read_text()
    out = append_case(path, "SHRUNK-PIVOT", ["-cell", "100", "100", "100", "90", "90", "90", "-twotheta", "2"],
                      threshold_class="GOLDEN-IMAGE", spec="pwb shrink: fails only with -twotheta 2", description="d")
    text = path.read_text()
    assert text.startswith(before) and out["registry_line"] == "SHRUNK-PIVOT: GOLDEN-IMAGE"
    runs = {r.run_id: r for c in load_cases(path) for r in c.runs}
    assert runs["SHRUNK-PIVOT"].args == ("-cell", "100", "100", "100", "90", "90", "90", "-twotheta", "2")
    with pytest.raises(ParityUsageError):
        append_case(path, "SHRUNK-PIVOT", ["-N", "1"], threshold_class="GOLDEN-IMAGE", spec="s", description="d")
    with pytest.raises(ParityUsageError):
        append_case(path, "bad id", ["-N", "1"], threshold_class="GOLDEN-IMAGE", spec="s", description="d")
    with pytest.raises(ParityUsageError):
        append_case(path, "X2", ["-N", "1"], threshold_class="NO-SUCH-CLASS", spec="s", description="d")
    assert path.read_text() == text


def test_append_case_starts_a_missing_file(tmp_path):
    from parity.triage.cases_out import append_case

    path = tmp_path / "tests" / "parity_cases.yaml"
    append_case(path, "A1", ["-N", "1"], threshold_class="GOLDEN-IMAGE", spec="s", description="d")
    append_case(path, "A2", ["-N", "2"], threshold_class="GOLDEN-IMAGE", spec="s", description="d")
    data = yaml.safe_load(path.read_text())
    assert data["version"] == 1 and [c["id"] for c in data["cases"]] == ["A1", "A2"]
