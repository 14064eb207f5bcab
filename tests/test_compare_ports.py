"""nb-compare for any pair of ports: --py-cmd/--cand-cmd/--ref-cmd command lines, --ref/--cand profiles,
port vs port (simcore vs simcore as two real ports), conflicts and errors, and a timeout that kills a
wrapper's children."""
from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import compare as compare_cli
from parity.evidence.workspace import resolve_workspace
from parity.ports.profile import port_from_cmd, save_profile
from conftest import make_fake, process_gone, sub_app

RUNNER = CliRunner()
ARGS = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-detpixels", "32"]


@pytest.fixture(scope="module")
def app():
    return sub_app(compare_cli.register)


def compare(app, *options, args=ARGS):
    return RUNNER.invoke(app, ["compare", *[str(o) for o in options], "--", *args], env={"COLUMNS": "200"})


def summary_of(outdir: Path) -> dict:
    return json.loads((outdir / "summary.json").read_text())


def test_py_cmd_takes_a_whole_command_line(app, tmp_path):
    """No wrapper script: the interpreter, a path with a space and the port's own flag in one string."""
    folder = tmp_path / "their port"
    folder.mkdir()
    record = tmp_path / "rec.json"
    fake = make_fake(folder, "port.py", record=str(record))
    out = tmp_path / "out"
    result = compare(app, "--outdir", out, "--c-bin", make_fake(tmp_path, "fake_c"),
                     "--py-cmd", f"{shlex.quote(sys.executable)} {shlex.quote(str(fake))} --no-jit")
    assert result.exit_code == 0, result.output
    assert json.loads(record.read_text())["argv"] == ["--no-jit", *ARGS, "-floatfile", "float.bin"]
    s = summary_of(out)
    assert s["ports"]["cand"]["kind"] == "command" and s["ports"]["cand"]["source"] == "--cand-cmd"
    assert s["ports"]["cand"]["command"][-1] == "--no-jit"
    assert [i["sha256"] for i in s["ports"]["cand"]["identity"]][1] is not None      # the script is hashed too
    assert str(tmp_path) not in json.dumps({k: s[k] for k in ("ports", "binaries")})   # no absolute paths
    assert "Py runtime:" in result.stdout and "C runtime:" in result.stdout


def test_profiles_on_both_sides_with_environment(app, tmp_path):
    """An old version of a port vs a new one, both saved profiles with their own environment."""
    ws = resolve_workspace(tmp_path)
    recs = {}
    for name, image in (("old", "spot"), ("new", "spot")):
        recs[name] = tmp_path / f"{name}.json"
        fake = make_fake(tmp_path, f"{name} port", image=image, record=str(recs[name]), record_env=["PORT_VERSION"])
        save_profile(port_from_cmd(shlex.quote(str(fake)), name=name, env=[f"PORT_VERSION={name} build"],
                                   dtype="float64"), workspace=ws)
    out = tmp_path / "out"
    result = compare(app, "--outdir", out, "--ref", "old", "--cand", "new", "--workspace", tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(recs["old"].read_text())["env"] == {"PORT_VERSION": "old build"}
    assert json.loads(recs["new"].read_text())["env"] == {"PORT_VERSION": "new build"}
    s = summary_of(out)
    assert (s["ports"]["ref"]["name"], s["ports"]["cand"]["name"], s["dtype"]) == ("old", "new", "float64")
    assert "Ref runtime (old):" in result.stdout and "reference = old, candidate = new" in result.stdout


def test_simcore_vs_simcore_as_two_real_ports(app, tmp_path):
    out = tmp_path / "out"
    args = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-N", "2", "-detpixels", "16"]
    result = compare(app, "--outdir", out, "--ref", "simcore", "--cand-cmd", f"{shlex.quote(sys.executable)} -m simcore",
                     args=args)
    assert result.exit_code == 0, result.output
    s = summary_of(out)
    assert s["max_abs_diff"] == 0.0 and s["ports"]["ref"]["kind"] == "simcore"
    assert s["argv_c"][-2:] == ["-floatfile", "float.bin"]          # no -dtype unless --dtype is given


@pytest.mark.parametrize("options, code, fragment", [
    (["--cand", "simcore", "--py-cmd", "x"], 1, "give one of"),
    (["--ref", "c", "--ref-cmd", "x"], 1, "give one of"),
    (["--cand", "nope"], 1, "no port 'nope'"),
    (["--cand", "cmd"], 1, "ad-hoc command"),
    (["--py-cmd", ""], 1, "empty command"),
    (["--py-cmd", "no-such-port-command -x"], 5, "not found on PATH"),
    (["--ref-cmd", "python 'unclosed"], 1, "No closing quotation"),
])
def test_side_errors_are_one_line(app, tmp_path, options, code, fragment):
    result = compare(app, "--outdir", tmp_path / "out", "--c-bin", make_fake(tmp_path, "fake_c"),
                     "--workspace", tmp_path, *options)
    assert result.exit_code == code, result.output
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_timeout_kills_a_wrapped_runner_and_its_children(app, tmp_path):
    """issue #13 item 6: the C runner is a shell wrapper; its child (and that child's child) must die."""
    pid_file = tmp_path / "child.pid"
    fake = make_fake(tmp_path, "spawner", spawn_sleeper=str(pid_file))
    wrapper = tmp_path / "nanoBragg.sh"
    wrapper.write_text(f"#!/bin/sh\n{shlex.quote(str(fake))} \"$@\"\n")
    wrapper.chmod(0o755)
    out = tmp_path / "out"
    result = compare(app, "--outdir", out, "--timeout", "5", "--c-bin", wrapper,
                     "--py-bin", make_fake(tmp_path, "fake_py"))
    assert result.exit_code == 2, result.output
    s = summary_of(out)
    assert s["timeout"] == {"timeout_s": 5.0, "source": "--timeout"} and "timed out" in result.stderr
    deadline = time.monotonic() + 60
    while not process_gone(int(pid_file.read_text())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process_gone(int(pid_file.read_text()))


def test_default_timeout_is_recorded(app, tmp_path):
    out = tmp_path / "out"
    result = compare(app, "--outdir", out, "--c-bin", make_fake(tmp_path, "c"), "--py-bin", make_fake(tmp_path, "p"))
    assert result.exit_code == 0, result.output
    t = summary_of(out)["timeout"]
    assert t["source"] == "default" and t["pixels"] == 32 * 32 and t["timeout_s"] >= 120


# ---- known divergences are statements about the C ---------------------------------------------------
PHI_ARGS = ARGS + ["-phi", "0", "-osc", "90", "-phisteps", "9"]


def _kds(tmp_path, **sides) -> dict:
    from parity.compare.run import CompareOptions, plan_compare
    from parity.compare.summary import known_divergences

    plan = plan_compare(CompareOptions(args=tuple(PHI_ARGS), c_bin=str(make_fake(tmp_path, "fake_c")), **sides))
    return {kd["id"]: kd for kd in known_divergences(plan)}


def test_known_divergence_wording_follows_the_port(tmp_path):
    simcore = _kds(tmp_path)["KD-PHI-CARRYOVER"]
    assert simcore["verdict"] == "matches C via KD-PHI-CARRYOVER (emulated)" and simcore["port"] == "simcore"
    assert simcore["verdicts"]["ref"] == "the C does KD-PHI-CARRYOVER here"
    theirs = _kds(tmp_path, cand_cmd=str(make_fake(tmp_path, "theirs")))
    assert theirs["KD-PHI-CARRYOVER"]["verdict"] == ("the C does KD-PHI-CARRYOVER here: check that your port"
                                                     " reproduces it")
    assert not any("matches" in kd["verdict"] for kd in theirs.values())
    legacy = _kds(tmp_path, py_bin=str(make_fake(tmp_path, "py_bin")))      # --py-bin: not known to be simcore
    assert legacy["KD-PHI-CARRYOVER"]["verdict"].endswith("check that your port reproduces it")
    # port vs port: the verdict is about the candidate; the reference's own wording is kept beside it
    both = _kds(tmp_path, ref="simcore", cand_cmd=str(make_fake(tmp_path, "theirs2")))["KD-PHI-CARRYOVER"]
    assert both["verdicts"] == {"ref": "matches C via KD-PHI-CARRYOVER (emulated)",
                                "cand": "the C does KD-PHI-CARRYOVER here: check that your port reproduces it"}


def test_simcore_emulation_switch_in_args_changes_its_wording(tmp_path):
    from parity.compare.run import CompareOptions, plan_compare
    from parity.compare.summary import known_divergences

    args = tuple(PHI_ARGS + ["-emulate_c", "phi_carryover=off"])
    plan = plan_compare(CompareOptions(args=args, c_bin=str(make_fake(tmp_path, "fake_c"))))
    [kd] = [k for k in known_divergences(plan) if k["id"] == "KD-PHI-CARRYOVER"]
    assert kd["verdict"] == "differs by design: KD-PHI-CARRYOVER"


def test_console_prints_the_port_wording(app, tmp_path):
    result = compare(app, "--outdir", tmp_path / "out", "--c-bin", make_fake(tmp_path, "c"),
                     "--cand-cmd", str(make_fake(tmp_path, "theirs")), args=PHI_ARGS)
    assert result.exit_code == 0, result.output
    assert "known divergence: the C does KD-PHI-CARRYOVER here: check that your port reproduces it" in result.stdout
    assert "matches C via" not in result.stdout
