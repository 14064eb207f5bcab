"""``pwb triage`` and ``pwb shrink`` end to end on fake ports (tests/data/compare/fake_nanobragg.py)."""
from __future__ import annotations

import json
import shlex

import pytest
from typer.testing import CliRunner

from cli import shrink as shrink_cli
from cli import triage as triage_cli
from conftest import make_fake

RUNNER = CliRunner()
ARGS = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-N", "5", "-detpixels", "32"]
ASYM = [[5, 20, 50.0]]           # an extra peak off the diagonal, so a transposed image differs


@pytest.fixture(scope="module")
def app():
    import typer

    app = typer.Typer()
    triage_cli.register(app)
    shrink_cli.register(app)
    app.command("noop")(lambda: None)
    return app


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "ws").mkdir()
    return tmp_path / "ws"


def fake(folder, name, **cfg):
    return str(make_fake(folder, name, trace="TRACE_C", extra_peaks=cfg.pop("extra_peaks", ASYM), **cfg))


def run(app, command, ws, ref, cand, *options, args=ARGS):
    result = RUNNER.invoke(app, [command, "--ref-cmd", ref, "--cand-cmd", cand, "--workspace", str(ws), *options,
                                 "--", *args])
    assert "Traceback" not in result.output, result.output
    return result


def triage_json(app, ws, ref, cand, *options, args=ARGS):
    out = ws / "triage.json"
    result = run(app, "triage", ws, ref, cand, "--json", str(out), *options, args=args)
    return result, json.loads(out.read_text())


def test_a_pass_says_so_and_stops(app, ws, tmp_path):
    ref = fake(tmp_path, "ref")
    result, d = triage_json(app, ws, ref, fake(tmp_path, "same"))
    assert result.exit_code == 0, result.output
    assert "PASS" in result.stdout and d["verdict"]["passed"] and d["pixels"] == [] and d["classification"] is None


def test_power_of_ten_located_by_the_traces(app, ws, tmp_path):
    result, d = triage_json(app, ws, fake(tmp_path, "ref"), fake(tmp_path, "cand", scale=1e-3), "--pixels", "3")
    assert result.exit_code == 1, result.output
    assert {"sum_ratio", "max_rel_err"} <= set(d["verdict"]["failed_gates"])
    cls = d["classification"]
    assert cls["primary"] == "constant_ratio"
    ratio = next(c for c in cls["classes"] if c["class"] == "constant_ratio")
    assert ratio["numbers"]["power_of_ten"] and ratio["numbers"]["exponent"] == -3
    assert [p["role"] for p in d["pixels"]] == ["worst_rel", "worst_peak", "typical"]
    for p in d["pixels"]:
        assert p["status"] == "diverged" and p["first_divergence"]["tap"] == "I_pixel_final"
        assert p["first_divergence"]["hint"]["class"] == "unit_power_of_ten"
    assert d["aggregate"]["text"].startswith("3 of 3 traced pixels first diverge at I_pixel_final")
    assert d["cause"] == {**d["cause"], "class": "unit_power_of_ten", "defect_class": "unit mismatch",
                          "source": "trace", "located": True}
    assert "cause: unit mismatch" in result.stdout
    assert "triage: running" in result.stderr and "triage: [3/3] traced" in result.stderr   # plain progress lines
    assert any("pwb shrink" in step for step in d["next_steps"])


def test_a_transposed_image_is_named_image_orientation(app, ws, tmp_path):
    cand = fake(tmp_path, "transposed", extra_peaks=[[20, 5, 50.0]])
    result, d = triage_json(app, ws, fake(tmp_path, "ref"), cand, "--pixels", "2")
    assert result.exit_code == 1, result.output
    geo = next(c for c in d["classification"]["classes"] if c["class"] == "geometric")
    assert geo["applies"] and geo["numbers"]["best"] == "transpose"
    assert d["cause"]["class"] == "image_orientation" and d["cause"]["defect_class"] == "image orientation"


def test_a_shifted_image_is_a_beam_centre_shift(app, ws, tmp_path):
    result, d = triage_json(app, ws, fake(tmp_path, "ref", extra_peaks=[]),
                            fake(tmp_path, "shifted", image="spot_shifted", extra_peaks=[]), "--pixels", "1")
    assert result.exit_code == 1, result.output
    geo = next(c for c in d["classification"]["classes"] if c["class"] == "geometric")
    assert geo["numbers"]["shift"]["shift_px"] == [-8, -8]
    assert d["cause"]["class"] == "beam_center" and d["cause"]["source"] == "image+trace"


def test_untraceable_candidate_named_but_not_located(app, ws, tmp_path):
    result, d = triage_json(app, ws, fake(tmp_path, "ref"), fake(tmp_path, "cand", scale=0.9),
                            "--cand-trace-args", "", "--pixels", "2")
    assert result.exit_code == 3, result.output
    assert {p["status"] for p in d["pixels"]} == {"not_traced"}
    assert d["cause"]["class"] == "constant_factor" and not d["cause"]["located"]
    assert "--cand-trace-args is empty" in d["pixels"][0]["note"]


def test_bundle_tells_the_story_in_order_and_records_the_attempt(app, ws, tmp_path):
    from parity.evidence import ledger

    ledger.add_item(ledger.ledger_path(ws / "plans"), "TRIAGE-001", title="fake port 1000x low")
    result = run(app, "triage", ws, fake(tmp_path, "ref"), fake(tmp_path, "cand", scale=1e-3), "--pixels", "2",
                 "--fixplan", "TRIAGE-001")
    assert result.exit_code == 1, result.output
    bundles = [p for p in (ws / "reports").iterdir() if p.is_dir()]
    assert len(bundles) == 1
    b = bundles[0]
    md = (b / "summary.md").read_text()
    heads = ["## 1. Verdict", "## 2. What the difference image looks like", "## 3. Configuration",
             "## 4. Traced pixels", "## 5. Cause", "## 6. What to check next", "## What ran"]
    assert [md.index(h) for h in heads] == sorted(md.index(h) for h in heads)
    assert "**unit mismatch** (`unit_power_of_ten`" in md
    names = {a["name"] for a in json.loads((b / "bundle.json").read_text())["artifacts"]}
    assert {"triage.json", "overlay.png", "summary.json", "c.npy", "py.npy"} <= names
    assert sum(n.startswith("traces/") and n.endswith("_diff.json") for n in names) == 2
    item = ledger.load_ledger(ledger.ledger_path(ws / "plans")).items["TRIAGE-001"]
    attempt = item.attempts[-1]
    assert attempt.result == "failed" and attempt.bundles[0]["id"] == b.name
    assert attempt.bundles[0]["metrics"]["cause_class"] == "unit_power_of_ten"
    assert "unit mismatch" in attempt.hypothesis


@pytest.mark.parametrize("options, args, code, fragment", [
    (["--pixels", "0"], ARGS, 2, "--pixels"),
    (["--fixplan", "NO-SUCH-ITEM"], ARGS, 2, "no such item"),
    (["--workers", "0"], ARGS, 2, "--workers"),
    ([], [], 2, "no nanoBragg arguments"),
])
def test_triage_usage_errors_are_one_line(app, ws, tmp_path, options, args, code, fragment):
    result = run(app, "triage", ws, fake(tmp_path, "ref"), fake(tmp_path, "cand"), *options, args=args)
    assert result.exit_code == code, result.output
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_triage_refuses_an_existing_json_and_a_missing_port(app, ws, tmp_path):
    (ws / "taken.json").write_text("{}")
    result = run(app, "triage", ws, fake(tmp_path, "ref"), fake(tmp_path, "c"), "--json", str(ws / "taken.json"))
    assert result.exit_code == 2 and "exists already" in result.stderr
    result = run(app, "triage", ws, fake(tmp_path, "ref"), str(tmp_path / "no-such-port"))
    assert result.exit_code == 5 and "not found" in result.stderr


def _conditional(folder, ref: str, cand: str, flag: str) -> str:
    """A port that is ``cand`` when ``flag`` is in its arguments, else ``ref``."""
    path = folder / "conditional.sh"
    path.write_text(f'#!/bin/sh\nfor a in "$@"; do case "$a" in {flag}) exec {shlex.quote(cand)} "$@";; esac; done\n'
                    f'exec {shlex.quote(ref)} "$@"\n')
    path.chmod(0o755)
    return str(path)


SHRINK_ARGS = ARGS + ["-distance", "100", "-twotheta", "2", "-lambda", "1", "-oversample", "1", "-nonoise"]


def test_shrink_keeps_the_trigger_drops_the_rest_and_adds_a_case(app, ws, tmp_path):
    ref = fake(tmp_path, "ref")
    cand = _conditional(tmp_path, ref, fake(tmp_path, "low", scale=0.5), "-twotheta")
    out = ws / "shrink.json"
    result = run(app, "shrink", ws, ref, cand, "--json", str(out), "--budget", "40", "--add-case", "SHRUNK-TT",
                 args=SHRINK_ARGS)
    assert result.exit_code == 0, result.output
    d = json.loads(out.read_text())
    assert d["reproduced"] and "-twotheta" in d["minimal_args"]
    for dropped in ("-default_F", "-cell", "-N", "-distance", "-lambda", "-nonoise"):
        assert dropped not in d["minimal_args"]
    assert d["minimal_args"][d["minimal_args"].index("-detpixels") + 1] == "16"
    assert 0 < d["runs"] <= 40 and not d["budget_exhausted"]
    assert "only with -twotheta" in d["sentence"] and "only with -twotheta" in result.stdout
    assert f"shrink: [{d['runs']}/40]" in result.stderr
    case_file = ws / "tests" / "parity_cases.yaml"
    from parity.matrix.cases import load_cases

    runs = {r.run_id: r for c in load_cases(case_file) for r in c.runs}
    assert list(runs["SHRUNK-TT"].args) == d["minimal_args"] and d["added_case"]["id"] == "SHRUNK-TT"


def test_shrink_with_nothing_to_shrink_exits_3(app, ws, tmp_path):
    ref = fake(tmp_path, "ref")
    result = run(app, "shrink", ws, ref, fake(tmp_path, "same"), "--budget", "5", args=SHRINK_ARGS)
    assert result.exit_code == 3 and "nothing to shrink" in result.stdout


def test_shrink_keep_tap_needs_both_sides_to_trace(app, ws, tmp_path):
    result = run(app, "shrink", ws, fake(tmp_path, "ref"), fake(tmp_path, "c"), "--keep", "tap",
                 "--cand-trace-args", "", args=SHRINK_ARGS)
    assert result.exit_code == 2 and "--keep tap needs both sides to trace" in result.stderr
    result = run(app, "shrink", ws, fake(tmp_path, "ref"), fake(tmp_path, "c"), "--keep", "nope", args=SHRINK_ARGS)
    assert result.exit_code == 2 and "--keep" in result.stderr


@pytest.mark.parametrize("scale, status", [(1.0, "pass"), (0.5, "fail")])
def test_the_lean_comparison_judges_as_nb_compare(tmp_path, scale, status):
    """The shrinker's comparison (no summary, no provenance) and nb-compare agree on verdict and gates."""
    from parity.compare.run import CompareOptions, execute_compare, plan_compare
    from parity.triage.pair import PairSpec, compare_args, resolve_pair

    ref, cand = fake(tmp_path, "ref"), fake(tmp_path, "cand", scale=scale)
    outcome = compare_args(resolve_pair(PairSpec(ref_cmd=ref, cand_cmd=cand), ARGS), ARGS, workdir=tmp_path / "lean")
    full = execute_compare(plan_compare(CompareOptions(args=tuple(ARGS), ref_cmd=ref, cand_cmd=cand,
                                                       outdir=tmp_path / "nb")))
    assert outcome.status == status == ("pass" if full.exit_code == 0 else "fail")
    assert list(outcome.failed_gates) == [g["name"] for g in full.summary["gates"] if not g["passed"]]
    assert not (tmp_path / "lean").exists()


def test_progress_is_rich_on_a_terminal_and_plain_lines_otherwise(monkeypatch, capsys):
    import io
    import sys

    from parity.triage.progress import LineProgress

    with triage_cli.progress_display("triage") as p:       # pytest's stderr is not a terminal
        assert isinstance(p, LineProgress)
        p.stage("running")
        p.advance("one", 1, 2)
    assert capsys.readouterr().err == "triage: running\ntriage: [1/2] one\n"

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Tty())
    display = triage_cli.progress_display("shrink")
    assert isinstance(display, triage_cli.RichProgress)
    with display as p:
        p.stage("delta debugging")
        p.advance("ddmin n=2: fail", 3, 40)
        assert p.progress.tasks[0].completed == 3 and p.progress.tasks[0].total == 40


def test_the_c_reference_traces_through_its_instrumented_build(app, ws, tmp_path, monkeypatch):
    monkeypatch.delenv("NB_C_TRACE_BIN", raising=False)
    c, cand = fake(tmp_path, "c"), fake(tmp_path, "cand", scale=1e-3)
    out = ws / "no-trace.json"
    result = RUNNER.invoke(app, ["triage", "--c-bin", c, "--cand-cmd", cand, "--pixels", "1", "--workspace", str(ws),
                                 "--json", str(out), "--", *ARGS])
    assert result.exit_code == 3, result.output          # named from the image, not located
    d = json.loads(out.read_text())
    assert d["pixels"][0]["status"] == "not_traced" and "--c-trace-bin" in d["pixels"][0]["note"]
    assert d["ports"]["ref"]["kind"] == "c" and d["ports"]["ref"]["trace"] is None
    result = RUNNER.invoke(app, ["triage", "--c-bin", c, "--c-trace-bin", fake(tmp_path, "c_tr"), "--cand-cmd", cand,
                                 "--pixels", "1", "--workspace", str(ws), "--", *ARGS])
    assert result.exit_code == 1 and "cause: unit mismatch" in result.stdout, result.output
