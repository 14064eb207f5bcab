"""Ports as data (parity/ports/profile.py) and the runner that runs one (parity/ports/process.py):
built-in ports, ad-hoc commands with spaces and environment, profiles saved in the workspace,
process-group timeouts that leave no grandchild behind, and traced runs."""
from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import pytest

from parity.errors import ParityInputError, ParityUsageError
from parity.evidence.workspace import resolve_workspace
from parity.ports.process import preflight, run_isolated, runner_for, trace_port
from parity.ports.profile import (Port, list_profiles, load_profile, parse_env, port_from_cmd, resolve_port,
                                  save_profile)
from conftest import make_fake, process_gone


# ---- built-in ports --------------------------------------------------------------------------------
def test_builtin_ports(tmp_path, monkeypatch):
    monkeypatch.delenv("NB_C_TRACE_BIN", raising=False)
    monkeypatch.setenv("NB_C_BIN", str(tmp_path / "c_env"))
    c = resolve_port("c")
    assert (c.kind, c.cmd, c.source, c.trace_args, c.dtype) == ("c", (str(tmp_path / "c_env"),), "NB_C_BIN",
                                                                  None, "float64")
    assert resolve_port("c", c_bin=tmp_path / "flag").cmd == (str(tmp_path / "flag"),)
    assert resolve_port("c-trace").cmd == c.cmd and resolve_port("c-trace").trace_args is None   # falls back
    monkeypatch.setenv("NB_C_TRACE_BIN", str(tmp_path / "c_tr"))
    traced = resolve_port("c-trace")
    assert traced.cmd == (str(tmp_path / "c_tr"),) and traced.trace_argv(3, 4) == ["-trace_pixel", "3", "4"]
    s = resolve_port("simcore")
    assert s.cmd == (sys.executable, "-m", "simcore") and s.kind == "simcore" and s.dtype == "float32"


def test_cmd_is_shell_split_and_relative_paths_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "port.py").write_text("")
    (tmp_path / "simcore").mkdir()          # a directory named like the module: never touched
    p = port_from_cmd('python tools/port.py --mode "a b" -m simcore', env=["JIT=0", "X=a=b"])
    assert p.cmd == ("python", str(tmp_path / "tools" / "port.py"), "--mode", "a b", "-m", "simcore")
    assert dict(p.env) == {"JIT": "0", "X": "a=b"} and p.name == "cmd" and p.kind == "command"
    assert port_from_cmd("./run.sh -x").cmd[0] == str(tmp_path / "run.sh")
    assert "JIT=0" in p.describe() and "'a b'" in p.describe()


@pytest.mark.parametrize("bad, fragment", [(["NOEQUALS"], "expected KEY=VALUE"), (["=v"], "expected KEY=VALUE"),
                                           (["1X=2"], "not a variable name")])
def test_bad_env_is_a_usage_error(bad, fragment):
    with pytest.raises(ParityUsageError, match=fragment):
        parse_env(bad)


@pytest.mark.parametrize("cmd", ["", "   ", "python 'unclosed"])
def test_bad_cmd_is_a_usage_error(cmd):
    with pytest.raises(ParityUsageError):
        port_from_cmd(cmd)


# ---- profiles ----------------------------------------------------------------------------------------
def test_profile_round_trip_in_the_workspace(tmp_path):
    ws = resolve_workspace(tmp_path)
    (tmp_path / "port.py").write_text("")
    (tmp_path / "dialect.yaml").write_text("name: theirs\n")
    port = port_from_cmd(f"{sys.executable} port.py", name="theirs", env=["JAX_DISABLE_JIT=1"], dtype="float32",
                         trace_args="-trace_pixel {slow} {fast}", dialect=tmp_path / "dialect.yaml", base=tmp_path)
    path = save_profile(port, workspace=ws)
    assert path == tmp_path / ".pwb" / "ports" / "theirs.yaml"
    with pytest.raises(ParityUsageError, match="exists already"):
        save_profile(port, workspace=ws)
    back = load_profile("theirs", workspace=tmp_path)
    assert (back.cmd, dict(back.env), back.dtype, back.trace_args) == (port.cmd, {"JAX_DISABLE_JIT": "1"},
                                                                       "float32", port.trace_args)
    assert back.dialect == tmp_path / "dialect.yaml" and back.source == "profile theirs.yaml"
    assert "dialect: dialect.yaml" in path.read_text()             # inside the workspace: stored relative
    assert resolve_port("theirs", workspace=ws) == back
    assert list_profiles(workspace=ws) == ["theirs"]


def test_missing_or_bad_profiles(tmp_path):
    ws = resolve_workspace(tmp_path)
    with pytest.raises(ParityUsageError, match="no port 'nope'"):
        resolve_port("nope", workspace=ws)
    for name in ("c", "simcore", "../x", ""):
        with pytest.raises(ParityUsageError):
            save_profile(Port(name=name, kind="command", cmd=("x",)), workspace=ws)
    with pytest.raises(ParityInputError, match="--dialect"):
        save_profile(port_from_cmd("x", name="d", dialect=tmp_path / "none.yaml"), workspace=ws)
    with pytest.raises(ParityUsageError, match="does not format"):
        save_profile(port_from_cmd("x", name="t", trace_args="-trace_pixel {row}"), workspace=ws)
    ws.ports.mkdir(parents=True)
    (ws.ports / "broken.yaml").write_text("cmd: [\n")
    with pytest.raises(ParityInputError, match="unreadable"):
        resolve_port("broken", workspace=ws)


# ---- running a port ------------------------------------------------------------------------------------
def test_port_with_spaces_and_environment_runs(tmp_path):
    folder = tmp_path / "my port dir"
    folder.mkdir()
    record = tmp_path / "rec.json"
    fake = make_fake(folder, "fake port", record=str(record), record_env=["PORT_MODE", "OTHER"])
    port = port_from_cmd(f"{shlex.quote(sys.executable)} {shlex.quote(str(fake))} --their-flag",
                         env=["PORT_MODE=fast lane"])
    runner = preflight(runner_for(port))
    assert runner.executable == Path(sys.executable) and runner.identity_files == (fake,)
    result = run_isolated(runner, ["-detpixels", "8"], base=tmp_path, float_dest=tmp_path / "f.bin")
    assert result.ok, result.stderr
    seen = json.loads(record.read_text())
    assert seen["argv"] == ["--their-flag", "-detpixels", "8", "-floatfile", "float.bin"]
    assert seen["env"] == {"PORT_MODE": "fast lane", "OTHER": None}
    assert (tmp_path / "f.bin").stat().st_size == 8 * 8 * 4


def test_command_not_found_is_one_input_error(tmp_path):
    with pytest.raises(ParityInputError, match="not found on PATH"):
        preflight(runner_for(port_from_cmd("no-such-port-command --x")))
    with pytest.raises(ParityInputError, match="not found"):
        preflight(runner_for(port_from_cmd(str(tmp_path / "absent"))))


def test_timeout_kills_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"
    fake = make_fake(tmp_path, "spawner", spawn_sleeper=str(pid_file))
    shell = tmp_path / "wrapper.sh"        # a shell wrapper, as users write them: its child is a grandchild
    shell.write_text(f"#!/bin/sh\n{shlex.quote(str(fake))} \"$@\"\n")
    shell.chmod(0o755)
    port = port_from_cmd(str(shell))
    deadline = time.monotonic() + 60
    result = run_isolated(port, ["-N", "1"], base=tmp_path, float_dest=None, timeout_s=5)
    assert result.timed_out and not result.ok and "timeout" in result.stderr
    while not pid_file.is_file() and time.monotonic() < deadline:     # the child was started before the kill
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process_gone(pid), f"grandchild {pid} survived the timeout"


def test_trace_port_keeps_the_trace_and_the_image(tmp_path):
    fake = make_fake(tmp_path, "tracer", trace="TRACE_C")
    port = port_from_cmd(str(fake), trace_args="-trace_pixel {slow} {fast}")
    traced = trace_port(port, ["-detpixels", "16"], 8, 9, base=tmp_path, dest_dir=tmp_path)
    assert traced.run.ok and traced.trace_path == tmp_path / "trace_8_9.txt"
    assert traced.run.argv[:5] == ["-detpixels", "16", "-trace_pixel", "8", "9"]
    text = traced.trace_path.read_text()
    assert "TRACE_C: floatimage_accumulated" in text and text.startswith("fake nanoBragg")
    assert traced.float_path.stat().st_size == 16 * 16 * 4
    with pytest.raises(ParityUsageError, match="cannot trace"):
        trace_port(port_from_cmd(str(fake)), [], 0, 0, base=tmp_path, dest_dir=tmp_path)


# ---- nb-compare's default timeout --------------------------------------------------------------------
def test_default_timeout_grows_with_the_work(tmp_path):
    from parity.compare.timeout import BASE_S, PER_EVALUATION_S, default_timeout

    small = default_timeout(["-detpixels", "16", "-oversample", "1"], shape=(16, 16))
    assert small["loops"] == 1 and small["timeout_s"] == pytest.approx(BASE_S + PER_EVALUATION_S * 256, abs=0.1)
    (tmp_path / "src.txt").write_text("0 0 1 1 1e-10\n0 0 1 1 1e-10\n\n0 0 1 1 1e-10\n")
    big = default_timeout(["-mosaic", "0.5", "-phisteps", "4", "-osc", "1", "-oversample", "2",
                           "-sourcefile", "src.txt"], base=tmp_path, shape=(512, 512))
    assert big["loops"] == 3 * 10 * 4 * 2 * 2        # 3 sources, 10 mosaic domains (the C's rule), 4 phi steps
    assert big["timeout_s"] > small["timeout_s"] and "pixels x loops" in big["rule"]
