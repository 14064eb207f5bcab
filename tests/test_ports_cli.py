"""``pwb port add|list|show|check`` (cli/port.py, parity/ports/check.py) with fake ports and simcore."""
from __future__ import annotations

import json
import shlex
import sys

import pytest
from typer.testing import CliRunner

from cli import port as port_cli
from parity.ports.check import CHECK_ARGS, check_port
from parity.ports.profile import port_from_cmd
from conftest import make_fake, sub_app

RUNNER = CliRunner()
TRACE = "-trace_pixel {slow} {fast}"


@pytest.fixture(scope="module")
def app():
    return sub_app(port_cli.register)


def pwb(app, *args):
    return RUNNER.invoke(app, ["port", *[str(a) for a in args]])


def test_add_list_show(app, tmp_path):
    fake = make_fake(tmp_path, "theirport")
    result = pwb(app, "add", "theirs", "--cmd", f"{shlex.quote(sys.executable)} {fake} --fast", "--env", "JIT=0",
                 "--dtype", "float32", "--trace-args", TRACE, "--workspace", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".pwb" / "ports" / "theirs.yaml").is_file()
    listed = pwb(app, "list", "--workspace", tmp_path)
    assert listed.exit_code == 0 and "simcore" in listed.stdout and "theirs" in listed.stdout
    shown = pwb(app, "show", "theirs", "--workspace", tmp_path)
    assert shown.exit_code == 0 and "JIT=0" in shown.stdout and "--fast" in shown.stdout and TRACE in shown.stdout
    again = pwb(app, "add", "theirs", "--cmd", str(fake), "--workspace", tmp_path)
    assert again.exit_code == 2 and "exists already" in again.stderr
    assert pwb(app, "add", "theirs", "--cmd", str(fake), "--replace", "--workspace", tmp_path).exit_code == 0


@pytest.mark.parametrize("args, code, fragment", [
    (["add", "x", "--cmd", "no-such-port-command -m x"], 5, "not found on PATH"),
    (["add", "x", "--cmd", sys.executable, "--env", "NOEQUALS"], 2, "expected KEY=VALUE"),
    (["add", "simcore", "--cmd", sys.executable], 2, "built in"),
    (["add", "x", "--cmd", sys.executable, "--dialect", "missing.yaml"], 5, "--dialect"),
    (["show", "nope"], 2, "no port 'nope'"),
    (["check", "nope"], 2, "no port 'nope'"),
])
def test_errors_are_one_line_with_their_code(app, tmp_path, args, code, fragment):
    result = pwb(app, *args, "--workspace", tmp_path)
    assert result.exit_code == code, result.output
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_check_simcore_works_end_to_end(app, tmp_path):
    """simcore as a profile: image, trace (TRACE_PY parsed by tracekit) and closure all ok."""
    assert pwb(app, "add", "sc", "--cmd", f"{shlex.quote(sys.executable)} -m simcore", "--trace-args", TRACE,
               "--workspace", tmp_path).exit_code == 0
    result = pwb(app, "check", "sc", "--workspace", tmp_path, "--json", tmp_path / "check.json")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "check.json").read_text())
    assert [(i["name"], i["ok"]) for i in report["items"]] == [("image", True), ("trace", True), ("closure", True)]
    assert "prefix TRACE_PY" in report["items"][1]["detail"] and "works" in result.stdout


def test_check_names_what_does_not_work(tmp_path):
    # wrong image size: image fails; a trace that does not close: closure fails
    wrong = check_port(port_from_cmd(str(make_fake(tmp_path, "small", shape=[8, 8]))))
    assert wrong.items[0].ok is False and "expected 1024" in wrong.items[0].detail and wrong.exit_code == 1
    unclosed = check_port(port_from_cmd(str(make_fake(tmp_path, "liar", trace="TRACE_PY", trace_scale=1.5)),
                                        trace_args=TRACE))
    by_name = {i.name: i for i in unclosed.items}
    assert by_name["image"].ok and by_name["trace"].ok and by_name["closure"].ok is False
    assert "!=" in by_name["closure"].detail and unclosed.exit_code == 1
    honest = check_port(port_from_cmd(str(make_fake(tmp_path, "honest", trace="TRACE_PY")), trace_args=TRACE))
    assert [i.ok for i in honest.items] == [True, True, True]
    # no trace arguments: trace and closure are n/a, the image alone decides
    plain = check_port(port_from_cmd(str(make_fake(tmp_path, "plain"))))
    assert [i.ok for i in plain.items] == [True, None, None] and plain.exit_code == 0
    # trace arguments that print nothing tracekit reads
    silent = check_port(port_from_cmd(str(make_fake(tmp_path, "silent")), trace_args=TRACE))
    assert {i.name: i.ok for i in silent.items} == {"image": True, "trace": False, "closure": None}
    # a failing port
    broken = check_port(port_from_cmd(str(make_fake(tmp_path, "broken", exit=4, stderr="no GPU"))))
    assert broken.items[0].ok is False and "exited 4: no GPU" in broken.items[0].detail


def test_check_case_is_the_tiny_one():
    assert CHECK_ARGS[-2:] == ("-detpixels", "16") and "-N" in CHECK_ARGS
