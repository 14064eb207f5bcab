"""Port identities in provenance: command, code hashes, the code's git commit, --version (parity/evidence/port_identity.py)."""
from __future__ import annotations

import hashlib
import json
import sys
import time

import pytest

from conftest import make_fake, make_git_workspace
from parity.evidence import port_identity as pid


@pytest.fixture
def root(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    ws.mkdir()
    monkeypatch.setenv("PWB_WORKSPACE", str(ws))
    return ws


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_python_script_is_hashed_and_its_repo_commit_recorded(root, tmp_path):
    repo = tmp_path / "myport"
    sha = make_git_workspace(repo)
    script = repo / "port.py"
    script.write_text("import sys\nif '--version' in sys.argv:\n    print('myport 2.1')\n")
    ident = pid.port_identity("mine", [sys.executable, "-u", str(script)], env={"OMP_NUM_THREADS": "1"})
    assert ident["script"]["kind"] == "script" and ident["script"]["sha256"] == _sha(script)
    assert ident["executable"]["sha256"] == _sha(type(script)(sys.executable).resolve())
    assert ident["code_git"]["sha"] == sha and ident["code_git"]["tracked"] is False
    assert ident["version"] == "myport 2.1" and ident["version_probe"] == "ok"
    assert ident["env"] == {"OMP_NUM_THREADS": "1"}
    assert all(not str(c).startswith("/") for c in ident["command"])
    assert "/tmp/" not in json.dumps(ident)


def test_python_dash_m_hashes_the_module_and_the_package(root, tmp_path):
    pkg = tmp_path / "lib" / "toyport"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text("print('toy')\n")
    (pkg / "core.py").write_text("X = 1\n")
    ident = pid.port_identity("toy", [sys.executable, "-m", "toyport"], env={"PYTHONPATH": str(tmp_path / "lib")},
                              ask_version=False)
    script = ident["script"]
    assert script["module"] == "toyport" and script["sha256"] == _sha(pkg / "__main__.py")
    assert script["package_files"] == 3 and len(script["package_sha256"]) == 64
    before = script["package_sha256"]
    (pkg / "core.py").write_text("X = 2\n")           # any file of the package changes its identity
    again = pid.port_identity("toy", [sys.executable, "-m", "toyport"], env={"PYTHONPATH": str(tmp_path / "lib")},
                              ask_version=False)
    assert again["script"]["package_sha256"] != before and again["version_probe"] == "not asked"


def test_simcore_is_workbench_code_and_not_probed(root):
    ident = pid.port_identity("py", [sys.executable, "-m", "simcore"])
    assert ident["workbench_code"] is True and ident["script"]["path"].endswith("__main__.py")
    assert ident["version"] is None and "workbench" in ident["version_probe"]


def test_the_c_is_never_asked_for_a_version(root, tmp_path):
    fake = make_fake(tmp_path, "nanoBragg", image="zeros")
    ident = pid.port_identity("c", [str(fake)])
    assert ident["executable"]["sha256"] == _sha(fake) and ident["version_probe"].startswith("not asked")
    assert not any(tmp_path.glob("*.bin"))


def test_a_program_that_ignores_version_is_killed_quickly(root, tmp_path):
    script = tmp_path / "simulates.py"      # ignores --version, starts "simulating", writes into its cwd
    script.write_text("import time, pathlib\npathlib.Path('image.bin').write_bytes(b'x')\ntime.sleep(60)\n")
    start = time.monotonic()
    ident = pid.port_identity("slow", [sys.executable, str(script)], version_timeout_s=1.0)
    assert time.monotonic() - start < 30
    assert ident["version"] is None and "killed" in ident["version_probe"]
    assert not (tmp_path / "image.bin").exists()        # it ran in a throw-away directory


def test_missing_executable_is_reported_not_raised(root):
    ident = pid.port_identity("ghost", ["no-such-program-xyz", "--flag"])
    assert ident["executable"] is None and "not found" in ident["problem"]


def test_prefetch_is_collected_by_the_next_call(root, tmp_path):
    script = tmp_path / "v.py"
    script.write_text("print('v 1')\n")
    pid.prefetch("p", [sys.executable, str(script)])
    ident = pid.port_identity("p", [sys.executable, str(script)])
    assert ident["version"] == "v 1" and not pid._PENDING


def test_bounded_runs_kill_the_whole_process_group(tmp_path):
    """What --version probes and plan verification share: on timeout no grandchild survives."""
    import os
    from pathlib import Path

    from parity.evidence.procs import run_bounded

    code, out, _ = run_bounded(["sh", "-c", "sleep 30 & echo $!; wait"], cwd=tmp_path, env=os.environ, timeout_s=5.0)
    assert code is None
    grandchild = int(out.split()[0])      # (5 s: a loaded machine may take seconds to start the shell)
    for _ in range(200):
        status = Path(f"/proc/{grandchild}/status")
        if not status.exists() or "\nState:\tZ" in status.read_text():
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"grandchild {grandchild} still running")
