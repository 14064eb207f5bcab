"""Bundles: manifest, hashes, no absolute paths, collisions, refusals, failures and kills (parity/evidence/bundle.py)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from cli.bundle_opts import BundleFlag, ReportsRootOption, SlugOption, bundle_request, maybe_bundle
from cli.errors import guarded
from parity.evidence import bundle as bundle_mod
from parity.evidence import provenance
from parity.evidence.bundle import list_bundles, load_manifest, open_bundle, validate_slug
from parity.evidence.errors import BundleError, EvidenceUsageError, UnknownBundleError

FIXED = dt.datetime(2025, 10, 10, 5, 37, 11, tzinfo=dt.timezone.utc)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(provenance, "utc_now", lambda: FIXED)
    return FIXED


def _snapshot(directory: Path) -> dict[str, str]:
    return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _assert_no_absolute_paths(directory: Path, *needles: str) -> None:
    for path in directory.rglob("*"):
        if not path.is_file() or path.suffix in (".npy", ".png", ".bin"):
            continue
        text = path.read_text(encoding="utf-8")
        for needle in (*needles, "/tmp/", "/home/", "/root/", "/work/"):
            assert needle not in text, f"{needle!r} in {path.name}"


def test_bundle_manifest_hashes_and_no_absolute_paths(tmp_path, repo_root, monkeypatch):
    monkeypatch.setenv("PWB_WORKSPACE", str(repo_root))  # this checkout as the workspace
    reports = tmp_path / "reports"
    hkl = tmp_path / "in" / "P1.hkl"
    hkl.parent.mkdir()
    hkl.write_text("0 0 1 100.0\n")
    image = np.arange(512 * 256, dtype=np.float32).reshape(512, 256)
    argv = ["pwb", "compare", str(hkl), f"--out={tmp_path}/x.png", str(repo_root / "tests" / "conftest.py")]
    with open_bundle(kind="compare", slug="at001 det256", argv=argv, reports_root=reports, inputs=[hkl],
                     binaries=[sys.executable], config={"hkl": hkl, "n_cells": 5}, case="at001_det256",
                     device="cpu", dtype="float64", seed=1) as b:
        b.write_text("logs/c_stdout.txt", f"reading {hkl}\nwriting {tmp_path}/out/float.bin\n")
        b.write_json("metrics_detail.json", {"sum_c": 1.5, "where": hkl, "bad": float("nan")})
        b.save_npy("c.npy", image, max_pixels=64 * 32)
        b.copy_file(hkl, "inputs/P1.hkl")
        b.add_metrics({"corr": 0.99995, "rmse": 1.25e-3}, headline=True)
        b.add_metrics({"max_abs_diff": 0.5})
        b.set_exit_code("c", 0)
        b.set_status("passed")
    assert b.closed and b.path == reports / b.id and b.id == "%s-at001-det256" % b.id[:16]
    assert not any(p.name.endswith(".partial") for p in reports.iterdir())
    m = json.loads((b.path / "bundle.json").read_text())
    for key in ("id", "created_utc", "kind", "command", "provenance", "exit_codes", "metrics", "status", "artifacts"):
        assert key in m
    assert m["status"] == "passed" and m["complete"] is True and m["exit_codes"] == {"c": 0}
    assert m["command"]["argv"][2] == "external:P1.hkl" and m["command"]["argv"][4] == "tests/conftest.py"
    prov = m["provenance"]
    assert prov["inputs"][0]["sha256"] == hashlib.sha256(hkl.read_bytes()).hexdigest()
    assert prov["binaries"][0]["sha256"] == provenance.sha256_file(sys.executable)
    assert prov["device"] == "cpu" and prov["dtype"] == "float64" and prov["python"] and "sha" in prov["git"]
    assert m["headline"] == ["corr", "rmse"]
    arts = {a["name"]: a for a in m["artifacts"]}
    assert set(arts) == {"logs/c_stdout.txt", "metrics_detail.json", "c.npy", "inputs/P1.hkl"}
    for name, art in arts.items():
        data = (b.path / name).read_bytes()
        assert art["sha256"] == hashlib.sha256(data).hexdigest() and art["size_bytes"] == len(data)
    small = np.load(b.path / "c.npy")
    assert small.shape == tuple(arts["c.npy"]["shape"]) == (64, 32)
    assert arts["c.npy"]["downsampled_from"] == [512, 256] and arts["c.npy"]["downsample_factor"] == 8
    assert np.isclose(small.sum() * 64, image.astype(np.float64).sum())  # block mean keeps the total
    assert small[1, 2] == image[8:16, 16:24].astype(np.float64).mean()
    summary = (b.path / "summary.md").read_text()
    assert "PASSED" in summary and "corr" in summary and m["provenance"]["git"]["sha"] in summary
    _assert_no_absolute_paths(b.path, str(tmp_path), str(repo_root))


def test_two_bundles_in_the_same_second_get_distinct_dirs(tmp_path, frozen):
    ids = []
    for _ in range(3):
        with open_bundle(kind="test", slug="same", reports_root=tmp_path, argv=["x"]) as b:
            b.write_text("n.txt", "x")
        ids.append(b.id)
    assert ids == ["20251010T053711Z-same", "20251010T053711Z-same-2", "20251010T053711Z-same-3"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == sorted(ids)  # (+ index.html)


_RACE_CHILD = textwrap.dedent("""
    import datetime as dt, sys, time
    from parity.evidence import provenance
    from parity.evidence.bundle import open_bundle
    provenance.utc_now = lambda: dt.datetime(2025, 10, 10, 5, 37, 11, tzinfo=dt.timezone.utc)
    while time.time() < float(sys.argv[2]):
        pass
    with open_bundle(kind="test", slug="race", reports_root=sys.argv[1], argv=["race"]) as b:
        b.write_text("who.txt", sys.argv[3])
    print(b.id)
""")


def test_concurrent_processes_never_share_a_bundle(tmp_path):
    import time

    start = time.time() + 1.5
    procs = [subprocess.Popen([sys.executable, "-c", _RACE_CHILD, str(tmp_path), str(start), str(n)],
                              stdout=subprocess.PIPE, text=True) for n in range(4)]
    ids = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(ids)) == 4
    writers = sorted((tmp_path / i / "who.txt").read_text() for i in ids)
    assert writers == ["0", "1", "2", "3"]


@pytest.mark.parametrize("slug", ["../../x", "a/b", "/abs", "", "  ", "..", "a\\b", "x/../y"])
def test_bad_slugs_refused_by_the_api(tmp_path, slug):
    with pytest.raises(EvidenceUsageError) as err:
        with open_bundle(kind="test", slug=slug, reports_root=tmp_path, argv=[]):
            pass
    assert err.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_slug_is_sanitised():
    assert validate_slug(" at001 det 256!") == "at001-det-256"
    with pytest.raises(EvidenceUsageError):
        validate_slug("???")


def _demo_app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def demo(ctx: typer.Context, fail: bool = False, bundle: BundleFlag = False, slug: SlugOption = None,
             reports_root: ReportsRootOption = None) -> None:
        with guarded():
            request = bundle_request(bundle, slug, reports_root)
            with maybe_bundle(request, kind="demo", default_slug="demo-default", ctx=ctx) as b:
                b.write_text("out.txt", "hello\n")
                b.add_metrics({"corr": 1.0}, headline=True)
                if fail:
                    raise RuntimeError("boom")
                b.set_status("passed")
        typer.echo("ran")

    @app.command()
    def other() -> None:
        pass

    return app


@pytest.mark.parametrize("slug", ["../../x", "a/b", "/abs", ""])
def test_bad_slugs_refused_by_the_cli_with_exit_2(tmp_path, slug):
    result = CliRunner().invoke(_demo_app(), ["demo", "--slug", slug, "--reports-root", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and list(tmp_path.iterdir()) == []


def test_bundle_option_helper(tmp_path):
    runner = CliRunner()
    app = _demo_app()
    plain = runner.invoke(app, ["demo", "--reports-root", str(tmp_path)])
    assert plain.exit_code == 0 and list(tmp_path.iterdir()) == []  # no --bundle: NullBundle, nothing written
    flag = runner.invoke(app, ["demo", "--bundle", "--reports-root", str(tmp_path)])
    named = runner.invoke(app, ["demo", "--slug", "mine", "--reports-root", str(tmp_path)])
    assert flag.exit_code == 0 and named.exit_code == 0
    rows = list_bundles(tmp_path)
    assert sorted(r.slug for r in rows) == ["demo-default", "mine"] and all(r.state == "passed" for r in rows)
    argvs = {r.slug: load_manifest(r.id, reports_root=tmp_path)["command"]["argv"] for r in rows}
    assert "demo" in argvs["demo-default"] and "--bundle" in argvs["demo-default"]
    assert argvs["mine"][argvs["mine"].index("--slug") + 1] == "mine"
    failed = runner.invoke(app, ["demo", "--fail", "--slug", "bad-run", "--reports-root", str(tmp_path)])
    # an unforeseen error is a bug: one line with "please report" and exit 70, never a traceback
    assert failed.exit_code == 70 and "please report" in failed.stderr and "Traceback" not in failed.stderr
    bad = [r for r in list_bundles(tmp_path) if r.slug == "bad-run"]
    assert len(bad) == 1 and bad[0].state == "failed" and bad[0].error == "boom"


def test_existing_bundle_never_overwritten(tmp_path, frozen, monkeypatch):
    with open_bundle(kind="test", slug="keep", reports_root=tmp_path, argv=[]) as first:
        first.write_text("a.txt", "original")
    before = _snapshot(first.path)
    # a writer that skipped the claim protocol would try to publish onto the same name: refused
    monkeypatch.setattr(bundle_mod, "_claim", lambda root, stamp, slug: ("20251010T053711Z-keep", _mk(root)))
    with pytest.raises(BundleError):
        with open_bundle(kind="test", slug="keep", reports_root=tmp_path, argv=[]) as second:
            second.write_text("a.txt", "intruder")
    assert _snapshot(first.path) == before
    assert (tmp_path / "20251010T053711Z-keep-intruder.partial").is_dir()  # left behind, flagged incomplete


def _mk(root: Path) -> Path:
    p = root / "20251010T053711Z-keep-intruder.partial"
    p.mkdir()
    return p


def test_failure_in_body_finalises_as_failed_and_reraises(tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "big.bin"))

    with pytest.raises(OSError, match="No space left"):
        with open_bundle(kind="test", slug="broken", reports_root=tmp_path, argv=[]) as b:
            b.write_text("ok.txt", "fine")
            monkeypatch.setattr(bundle_mod, "atomic_write_bytes", disk_full)
            b.write_bytes("big.bin", b"x" * 10)
    monkeypatch.undo()
    m = load_manifest(b.id, reports_root=tmp_path)
    assert m["status"] == "failed" and m["error"]["type"] == "OSError"
    assert "No space left" in m["error"]["message"] and str(tmp_path) not in m["error"]["message"]
    assert [a["name"] for a in m["artifacts"]] == ["ok.txt"]


def test_failure_while_publishing_leaves_only_a_partial(tmp_path, monkeypatch):
    real = bundle_mod.atomic_write_text

    def fail_manifest(path, text, **kw):
        if Path(path).name == "bundle.json" and '"complete": true' in text:
            raise OSError(5, "I/O error")
        return real(path, text, **kw)

    with pytest.raises(BundleError):
        with open_bundle(kind="test", slug="unpublished", reports_root=tmp_path, argv=[]) as b:
            b.write_text("a.txt", "x")
            monkeypatch.setattr(bundle_mod, "atomic_write_text", fail_manifest)
    names = [p.name for p in tmp_path.iterdir()]
    assert names == [b.id + ".partial"]
    rows = list_bundles(tmp_path)
    assert len(rows) == 1 and not rows[0].complete and rows[0].state == "incomplete"
    assert json.loads((tmp_path / names[0] / "bundle.json").read_text())["status"] == "running"
    with pytest.raises(UnknownBundleError, match="incomplete"):
        load_manifest(b.id, reports_root=tmp_path)


_KILL_CHILD = textwrap.dedent("""
    import os, sys, time
    from parity.evidence.bundle import open_bundle
    with open_bundle(kind="test", slug="killed", reports_root=sys.argv[1], argv=["killed"]) as b:
        b.write_text("first.txt", "hello")
        for i in range(400):
            b.write_bytes(f"chunk{i:03d}.bin", os.urandom(1 << 16))
            if i == 2:
                print("READY", flush=True)
            time.sleep(0.002)
    print("FINISHED", flush=True)
""")


def test_sigkill_mid_write_leaves_only_a_flagged_partial(tmp_path):
    with open_bundle(kind="test", slug="earlier", reports_root=tmp_path, argv=[]) as earlier:
        earlier.write_text("keep.txt", "evidence")
    before = _snapshot(earlier.path)
    proc = subprocess.Popen([sys.executable, "-c", _KILL_CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "READY"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    partials = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    complete = [p.name for p in tmp_path.iterdir() if p.is_dir() and not p.name.endswith(".partial")]
    assert len(partials) == 1 and complete == [earlier.id]
    assert json.loads((partials[0] / "bundle.json").read_text())["status"] == "running"  # config+provenance were first
    rows = {r.dirname: r for r in list_bundles(tmp_path)}
    killed = rows[partials[0].name]
    assert killed.state == "incomplete" and "killed" in killed.problem
    assert rows[earlier.id].state == "done"
    assert _snapshot(earlier.path) == before


def test_closed_bundle_refuses_writes_and_bad_names(tmp_path):
    with open_bundle(kind="test", slug="names", reports_root=tmp_path, argv=[]) as b:
        for bad in ("../x", "/abs", "bundle.json", ".hidden", "a//b", ""):
            with pytest.raises(EvidenceUsageError):
                b.write_text(bad, "x")
        b.write_text("a.txt", "1")
        with pytest.raises(EvidenceUsageError, match="already exists"):
            b.write_text("a.txt", "2")
        with pytest.raises(EvidenceUsageError):
            b.set_status("great")
    with pytest.raises(BundleError):
        b.write_text("late.txt", "x")
    assert (b.path / "a.txt").read_text() == "1"


def test_preview_png_is_small_and_listed(tmp_path):
    image = np.zeros((1024, 1024))
    image[500:510, 500:510] = 1e4
    with open_bundle(kind="test", slug="preview", reports_root=tmp_path, argv=[]) as b:
        b.save_preview_png("preview", image, max_side_px=256)
    png = b.path / "preview.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 50_000
    width, height = int.from_bytes(png.read_bytes()[16:20], "big"), int.from_bytes(png.read_bytes()[20:24], "big")
    assert max(width, height) <= 256 + 100  # the image itself is 256 px; margins only


def test_clean_exit_is_not_a_failure_and_numpy_metrics_are_plain_json(tmp_path):
    with pytest.raises(typer.Exit):
        with open_bundle(kind="test", slug="exit0", reports_root=tmp_path, argv=[]) as b:
            b.add_metrics({"corr": np.float32(0.5), "hist": np.arange(3), "bad": np.float64("nan")})
            raise typer.Exit(0)
    m = load_manifest(b.id, reports_root=tmp_path)
    assert m["status"] == "done" and m["error"] is None
    assert m["metrics"] == {"corr": 0.5, "hist": [0, 1, 2], "bad": "NaN"}
    with pytest.raises(KeyboardInterrupt):
        with open_bundle(kind="test", slug="interrupted", reports_root=tmp_path, argv=[]) as b2:
            raise KeyboardInterrupt
    assert load_manifest(b2.id, reports_root=tmp_path)["status"] == "failed"
