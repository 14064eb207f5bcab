"""Progress of long commands (cli/progress.py): a rich bar on a terminal, plain ``[done/total]`` lines when piped.

CliRunner's streams are not terminals, so the commands here print the plain lines; the terminal
branch is checked with a stand-in stderr that says it is a terminal. (``pwb triage``/``pwb shrink``
progress lines: tests/test_triage_cli.py; ``pwb fuzz``: tests/test_campaign_cli.py; ``pwb matrix
run``: tests/test_matrix_cli.py.)
"""
from __future__ import annotations

import io
import json
import sys

from typer.testing import CliRunner

from cli import progress as progress_cli
from cli.app import app
from conftest import make_fake

RUNNER = CliRunner()
SMALL = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-lambda", "6.2", "-N", "3",
         "-distance", "100", "-detpixels", "48", "-pixel", "0.1"]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_counter_progress_is_plain_lines_when_piped_and_a_bar_on_a_terminal(monkeypatch, capsys):
    with progress_cli.counter_progress("pwb x") as on_progress:
        on_progress(1, 3, "one")
        on_progress(3, 3, "three")
    assert capsys.readouterr().err == "pwb x: [1/3] one\npwb x: [3/3] three\n"
    monkeypatch.setattr(sys, "stderr", Tty())
    with progress_cli.progress_display("pwb x") as display:
        assert isinstance(display, progress_cli.RichProgress)
        display.advance("long " * 30, 2, 5)
        task = display.progress.tasks[0]
        assert (task.completed, task.total) == (2, 5) and len(task.description) <= 60


def test_simcore_reports_rendered_pixels_to_a_callback_instead_of_its_meter(tmp_path, monkeypatch, capsys):
    from simcore.__main__ import main

    monkeypatch.chdir(tmp_path)
    seen = []
    assert main(SMALL + ["-floatfile", "f.bin"], on_progress=lambda d, t, text: seen.append((d, t, text))) == 0
    out = capsys.readouterr().out
    assert "% done" not in out and "created a total of 1 mosaic domains" in out   # the set-up text still printed
    assert seen[-2][0] == 48 * 48 and all(t == 49 * 49 for _, t, _ in seen)   # the C's (f+1)(s+1)
    assert seen[-1] == (49 * 49, 49 * 49, "rendered")                            # then full
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)


def test_pwb_sim_piped_prints_the_c_meter_and_on_a_terminal_feeds_the_bar(tmp_path, monkeypatch):
    from cli import sim as sim_cli

    monkeypatch.chdir(tmp_path)
    piped = RUNNER.invoke(app, ["sim", "--", *SMALL, "-floatfile", "a.bin"])
    assert piped.exit_code == 0, piped.output
    assert "0% done" in piped.stdout and "90% done" in piped.stdout
    monkeypatch.setattr(sim_cli, "_bar_wanted", lambda args: True)   # what a terminal gets, drawn as lines here
    bar = RUNNER.invoke(app, ["sim", "--", *SMALL, "-floatfile", "b.bin"])
    assert bar.exit_code == 0, bar.output
    assert "% done" not in bar.stdout and f"pwb sim: [{48 * 48}/{49 * 49}] rendering pixels" in bar.stderr
    assert bar.stderr.rstrip().endswith(f"pwb sim: [{49 * 49}/{49 * 49}] rendered")
    assert (tmp_path / "b.bin").stat().st_size == 48 * 48 * 4


def test_pwb_sim_draws_no_bar_when_the_meter_is_off(monkeypatch):
    from cli import sim as sim_cli

    monkeypatch.setattr(progress_cli, "is_terminal", lambda: True)
    monkeypatch.setattr(sys, "stdout", Tty())
    assert sim_cli._bar_wanted(SMALL)
    assert not sim_cli._bar_wanted(SMALL + ["-noprogress"]) and not sim_cli._bar_wanted(SMALL + ["-printout"])


def test_trace_sweep_counts_its_pixels():
    res = RUNNER.invoke(app, ["trace-sweep", "-k", "at001_det64"])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stderr.splitlines() if line.startswith("pwb trace-sweep: [")]
    assert [line.split("]")[0] for line in lines] == ["pwb trace-sweep: [1/3", "pwb trace-sweep: [2/3",
                                                      "pwb trace-sweep: [3/3"]
    assert all(line.endswith(" clean") and "at001_det64 (" in line for line in lines)


def test_bench_reports_each_case_and_each_timed_pair(tmp_path):
    fake = make_fake(tmp_path, "nanoBragg")
    out = tmp_path / "bench.json"
    res = RUNNER.invoke(app, ["bench", "--args", " ".join(SMALL), "--repeat", "2", "--c-bin", str(fake),
                              "--dtype", "float32", "--dtype", "float64", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "pwb bench: [1/2] args float32" in res.stderr and "pwb bench: [2/2] args float64" in res.stderr
    assert res.stderr.count("] args pair 2: simcore ") == 2 and "pwb bench: [2/2] args pair 2" in res.stderr
    assert len(json.loads(out.read_text())["rows"]) == 2
