"""Issue #11 "done when": the workbench installed from its wheel works in an unrelated project.

The wheel is built (``pip wheel --no-deps``) and installed with ``--no-deps`` into a fresh venv made
*without* pip or system site-packages. The runtime dependencies (torch, numpy, …) come from this test
venv through a ``.pth`` line naming its site-packages: paths added by a ``.pth`` file are not scanned
for further ``.pth`` files, so the editable install's finder hook (``__editable__*.pth``) that points
at this checkout is never installed, and nothing is reinstalled (seconds, not minutes). The test
asserts that the workbench's code comes from the venv only.

Then, in a fresh ``git init`` repository with one commit (the cwd, far from this checkout), it runs
``nb-compare`` (a fake C from conftest.make_fake against the installed simcore), ``pwb trace
--bundle``, ``pwb fixplan`` (an item and an attempt citing the nb-compare bundle, then render) and
``pwb report index`` (and ``pwb demo``, which needs the checkout's golden data: one line, exit 5),
and checks that the evidence landed in that repository (reports/, plans/,
docs/), that nothing was written inside the install location or this checkout, and that the
bundle's provenance records that repository's commit.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import GOLDEN_DIR, REPO_ROOT, make_fake, make_git_workspace

pytestmark = pytest.mark.slow
CASE = GOLDEN_DIR / "at001_det64"
STEP_TIMEOUT_S = 300


def _run(argv, *, cwd, env, timeout=STEP_TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` (bytecode caches aside) with its size and mtime."""
    out = {}
    for path in root.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            st = path.stat()
            out[path.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The wheel installed into a fresh venv: its python, bin dir and site-packages."""
    base = tmp_path_factory.mktemp("wheel")
    wheel_cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", base / "dist", REPO_ROOT]
    built = _run(wheel_cmd[:4] + ["--no-build-isolation"] + wheel_cmd[4:], cwd=base, env=os.environ)
    if built.returncode != 0:       # no setuptools in this venv: let pip build in an isolated environment
        built = _run(wheel_cmd, cwd=base, env=os.environ)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (base / "dist").glob("*.whl")
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=base, env=os.environ)
    assert made.returncode == 0, made.stderr[-2000:]
    python = venv / "bin" / "python"
    done = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
                cwd=base, env=os.environ)
    assert done.returncode == 0, done.stderr[-2000:]
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=base,
                     env=os.environ).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_pwb_test_runtime_deps.pth").write_text("".join(f"{p}\n" for p in sorted(deps)))
    return {"venv": venv, "python": python, "bin": venv / "bin", "site": site}


def test_installed_wheel_end_to_end_in_a_fresh_repository(installed, tmp_path):
    project = tmp_path / "project"
    project_sha = make_git_workspace(project)
    tools = tmp_path / "tools"     # test doubles live outside the project, so they do not dirty it
    tools.mkdir()
    fake_c = make_fake(tools, "nanoBragg", image="copy", copy_from=str(CASE / "float.bin"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PWB_WORKSPACE", "NB_C_BIN", "NB_PY_BIN", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PATH=f"{installed['bin']}{os.pathsep}{env.get('PATH', '')}", PYTHONDONTWRITEBYTECODE="1")
    evidence_here = ("reports", "plans", "docs")
    venv_before = _snapshot(installed["venv"])
    checkout_before = {d: _snapshot(REPO_ROOT / d) for d in evidence_here}

    where = _run([installed["python"], "-c", "import json, parity, cli, simcore, tracekit\n"
                  "from parity.evidence.provenance import workbench_checkout\n"
                  "print(json.dumps([m.__file__ for m in (parity, cli, simcore, tracekit)]"
                  " + [str(workbench_checkout())]))"], cwd=project, env=env)
    assert where.returncode == 0, where.stderr[-2000:]
    *files, checkout = json.loads(where.stdout)
    assert all(Path(f).resolve().is_relative_to(installed["site"].resolve()) for f in files), files
    assert checkout == "None"                                    # no source checkout behind the wheel

    args = (CASE / "args.txt").read_text().split()
    cmp = _run([installed["bin"] / "nb-compare", "--c-bin", fake_c, "--py-cmd", f"{installed['python']} -m simcore",
                "--bundle", "--slug", "wheel-e2e", "--", *args], cwd=project, env=env)
    assert cmp.returncode == 0, cmp.stdout[-2000:] + cmp.stderr[-2000:]
    trace = _run([installed["bin"] / "pwb", "trace", "--pixel", "32", "32", "--bundle", "--slug", "wheel-trace",
                  "--", *args], cwd=project, env=env)
    assert trace.returncode == 0, trace.stderr[-2000:]
    bundles = sorted(p.name for p in (project / "reports").iterdir() if p.is_dir())
    assert [b.split("-", 1)[1] for b in bundles] == ["wheel-e2e", "wheel-trace"], bundles
    cmp_id = bundles[0]
    pwb = [installed["bin"] / "pwb", "fixplan"]
    for step in (["item", "add", "WHEEL-001", "--title", "installed wheel end to end"],
                 ["attempt", "WHEEL-001", "--bundle", cmp_id, "--result", "success", "--note", "from the wheel"],
                 ["render"]):
        res = _run([*pwb, *step], cwd=project, env=env)
        assert res.returncode == 0, (step, res.stdout[-1000:], res.stderr[-2000:])
    index = _run([installed["bin"] / "pwb", "report", "index"], cwd=project, env=env)
    assert index.returncode == 0, index.stderr[-2000:]

    demo = _run([installed["bin"] / "pwb", "demo"], cwd=project, env=env)   # no golden data in a wheel
    assert demo.returncode == 5 and "golden data" in demo.stderr and "Traceback" not in demo.stderr, demo.stderr
    assert (project / "plans" / "fix_plan.jsonl").is_file()
    fix_plan = (project / "docs" / "fix_plan.md").read_text()
    assert cmp_id in fix_plan and project_sha[:12] in fix_plan
    assert all(b in (project / "reports" / "index.html").read_text() for b in bundles)
    manifest = json.loads((project / "reports" / cmp_id / "bundle.json").read_text())
    prov = manifest["provenance"]
    assert prov["git"]["sha"] == project_sha and prov["git"]["dirty"] is False
    assert prov["workbench"]["checkout"] is False and prov["workbench"]["version"]
    assert {(p["side"], p["name"]) for p in prov["ports"]} == {("ref", "c"), ("cand", "cmd")}
    cand = next(p for p in prov["ports"] if p["side"] == "cand")
    assert cand["script"]["module"] == "simcore"          # the port's code is identified, from the install
    assert _snapshot(installed["venv"]) == venv_before              # nothing written inside the install
    assert {d: _snapshot(REPO_ROOT / d) for d in evidence_here} == checkout_before   # nor into this checkout
