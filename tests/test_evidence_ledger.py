"""Attempts ledger: numbering, clock dates, evidence, atomicity, concurrency and the rendered view."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli import fixplan as fixplan_cli
from parity.evidence import fixplan_render
from parity.evidence import ledger
from parity.evidence import provenance
from parity.evidence.bundle import load_manifest, open_bundle
from parity.evidence.errors import ClockError, LedgerCorruptError, UnknownBundleError

T0 = dt.datetime(2025, 10, 10, 5, 37, 11, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += dt.timedelta(**kw)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(T0)
    monkeypatch.setattr(provenance, "utc_now", c)
    return c


@pytest.fixture
def roots(tmp_path):
    reports, plans = tmp_path / "reports", tmp_path / "plans"
    with open_bundle(kind="compare", slug="at021", reports_root=reports, argv=["pwb", "compare", "at021"]) as b:
        b.add_metrics({"corr": 0.98765, "rmse": 0.0123}, headline=True)
        b.add_known_divergences([{"id": "KD-PHI-CARRYOVER", "verdict": "differs by design: KD-PHI-CARRYOVER",
                                  "certain": True, "reason": "phi_tic=0 is exactly 0"}])
        b.set_status("failed")
    return reports, plans, b.id


def _add(plans: Path) -> Path:
    path = ledger.ledger_path(plans)
    ledger.add_item(path, "C-PARITY-001", title="phi carry-over", spec="AT-PARALLEL-021", priority="high",
                    repro=["pwb compare at021_osc90_phisteps9"], exit_criteria=["corr >= 0.9995"])
    return path


def test_attempt_numbers_and_clock_dates(roots, clock):
    reports, plans, bid = roots
    path = _add(plans)
    clock.advance(hours=1)
    a1 = ledger.record_attempt(path, "C-PARITY-001", bundle_ids=[bid], result="partial", note="14.6% low",
                               hypothesis="ap not reset at phi=0", reports_root=reports)
    clock.advance(days=1, minutes=3)
    a2 = ledger.record_attempt(path, "C-PARITY-001", bundle_ids=[bid], result="success", note="emulated",
                               next_actions=["pin the case"], reports_root=reports)
    assert (a1.number, a2.number) == (1, 2)
    assert a1.at_utc == provenance.utc_stamp(T0 + dt.timedelta(hours=1))
    assert a2.at_utc == "2025-10-11T06:40:11Z"
    manifest = load_manifest(bid, reports_root=reports)
    assert a1.bundles[0]["metrics"] == manifest["metrics"]
    assert a1.bundles[0]["git_sha"] == manifest["provenance"]["git"]["sha"]
    reloaded = ledger.load_ledger(path)
    assert [a.number for a in reloaded.items["C-PARITY-001"].attempts] == [1, 2]


def test_unknown_or_incomplete_bundle_refused(roots, clock):
    reports, plans, _ = roots
    path = _add(plans)
    before = path.read_bytes()
    for bad in ("20991231T000000Z-nothing", "not-an-id", "../etc"):
        with pytest.raises(UnknownBundleError) as err:
            ledger.record_attempt(path, "C-PARITY-001", bundle_ids=[bad], result="failed", note="x", reports_root=reports)
        assert err.value.exit_code == 2
    (reports / "20251010T000000Z-half.partial").mkdir()
    with pytest.raises(UnknownBundleError, match="incomplete"):
        ledger.record_attempt(path, "C-PARITY-001", bundle_ids=["20251010T000000Z-half"], result="failed", note="x",
                              reports_root=reports)
    assert path.read_bytes() == before


def test_clock_going_backwards_is_refused(roots, clock):
    reports, plans, bid = roots
    path = _add(plans)
    clock.advance(days=-2)
    with pytest.raises(ClockError) as err:
        ledger.record_attempt(path, "C-PARITY-001", bundle_ids=[bid], result="failed", note="x", reports_root=reports)
    assert err.value.exit_code == 5


def test_hand_edited_duplicates_and_time_travel_are_refused(roots, clock):
    reports, plans, bid = roots
    path = _add(plans)
    ledger.record_attempt(path, "C-PARITY-001", bundle_ids=[bid], result="failed", note="x", reports_root=reports)
    lines = path.read_text().splitlines()
    dup = json.loads(lines[-1])
    dup["seq"] += 1
    path.write_text("\n".join(lines + [json.dumps(dup)]) + "\n")
    with pytest.raises(LedgerCorruptError, match="attempt #1, expected #2"):
        ledger.load_ledger(path)
    early = json.loads(lines[-1])
    early.update(seq=3, attempt=2, at_utc="2025-09-30T00:00:00Z")
    path.write_text("\n".join(lines + [json.dumps(early)]) + "\n")
    with pytest.raises(LedgerCorruptError, match="earlier than the previous"):
        ledger.load_ledger(path)


def test_failed_write_leaves_the_ledger_byte_identical(roots, clock, monkeypatch):
    reports, plans, bid = roots
    path = _add(plans)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("parity.evidence.atomic.os.replace", broken_replace)
    with pytest.raises(OSError):
        ledger.record_attempt(path, "C-PARITY-001", bundle_ids=[bid], result="failed", note="x", reports_root=reports)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # temp file cleaned up


_KILL_CHILD = textwrap.dedent("""
    import os, sys, time
    from parity.evidence import atomic as bundle_atomic
    from parity.evidence import ledger
    real = os.replace
    def slow_replace(src, dst):
        print("READY", flush=True)
        time.sleep(60)
        real(src, dst)
    bundle_atomic.os.replace = slow_replace
    ledger.record_attempt(sys.argv[1], "C-PARITY-001", bundle_ids=[sys.argv[2]], result="failed",
                          note="killed while writing", reports_root=sys.argv[3])
""")


def test_sigkill_while_writing_leaves_the_ledger_byte_identical(roots):
    reports, plans, bid = roots
    path = _add(plans)
    before = path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", _KILL_CHILD, str(path), bid, str(reports)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "READY"  # the new ledger is written to a temp file, not yet renamed
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert path.read_bytes() == before
    # the lock died with the writer, the stray temp file is ignored, and numbering continues at #1
    attempt = ledger.record_attempt(path, "C-PARITY-001", bundle_ids=[bid], result="partial", note="after the kill",
                                    reports_root=reports)
    assert attempt.number == 1


_CONCURRENT_CHILD = textwrap.dedent("""
    import sys, time
    from parity.evidence import ledger
    while time.time() < float(sys.argv[4]):
        pass
    for _ in range(5):
        ledger.record_attempt(sys.argv[1], "C-PARITY-001", bundle_ids=[sys.argv[2]], result="partial",
                              note="concurrent", reports_root=sys.argv[3])
""")


def test_concurrent_attempts_never_share_a_number(roots):
    import time

    reports, plans, bid = roots
    path = _add(plans)
    start = time.time() + 1.0
    procs = [subprocess.Popen([sys.executable, "-c", _CONCURRENT_CHILD, str(path), bid, str(reports), str(start)])
             for _ in range(3)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    led = ledger.load_ledger(path)  # validates seq and per-item numbering
    assert [a.number for a in led.items["C-PARITY-001"].attempts] == list(range(1, 16))
    assert [r["seq"] for r in led.records] == list(range(1, 17))


def test_render_is_deterministic_and_carries_metrics_and_sha(roots, clock, tmp_path):
    reports, plans, bid = roots
    path = _add(plans)
    ledger.add_item(path, "GEOM-002", title="MOSFLM half pixel | offset", priority="low")
    ledger.set_item(path, "C-PARITY-001", status="in_progress")
    clock.advance(minutes=5)
    ledger.record_attempt(path, "C-PARITY-001", bundle_ids=[bid], result="partial", note="first look",
                          reports_root=reports)
    led = ledger.load_ledger(path)
    text = fixplan_render.render(led)
    assert text == fixplan_render.render(ledger.load_ledger(path))
    manifest = load_manifest(bid, reports_root=reports)
    sha = manifest["provenance"]["git"]["sha"]
    assert "| ID | Title | Priority | Status |" in text
    assert "| C-PARITY-001 | phi carry-over | High | in_progress |" in text
    assert "MOSFLM half pixel \\| offset" in text
    attempt_block = text[text.index("Attempt #1"):]
    assert "[2025-10-10] Attempt #1 — Result: partial" in text
    assert f"`{bid}`" in attempt_block and (sha[:12] if sha else "unknown") in attempt_block
    for key, value in manifest["metrics"].items():
        assert f"{key}={value:.6g}" in attempt_block
    assert "Known divergences: differs by design: KD-PHI-CARRYOVER" in attempt_block
    out = fixplan_render.write(led, tmp_path / "docs" / "fix_plan.md")
    first = out.read_bytes()
    fixplan_render.write(ledger.load_ledger(path), out)
    assert out.read_bytes() == first


def test_cli_round_trip_and_exit_codes(roots, clock, tmp_path):
    reports, plans, bid = roots
    app = typer.Typer()
    fixplan_cli.register(app)
    run = lambda *args: CliRunner().invoke(app, ["fixplan", *args, "--plans-root", str(plans)])  # noqa: E731
    assert run("item", "add", "C-PARITY-001", "--title", "phi", "--priority", "high", "--repro", "pwb compare x",
               "--exit-criterion", "corr>0.999").exit_code == 0
    assert run("item", "add", "C-PARITY-001", "--title", "again").exit_code == 2
    assert run("item", "add", "bad id", "--title", "x").exit_code == 2
    assert run("item", "set", "C-PARITY-001", "--status", "sleeping").exit_code == 2
    assert run("item", "set", "C-PARITY-001", "--status", "in_progress").exit_code == 0
    ok = run("attempt", "C-PARITY-001", "--bundle", bid, "--result", "partial", "--note", "n", "--reports-root",
             str(reports))
    assert ok.exit_code == 0 and "attempt #1" in ok.output
    missing = run("attempt", "C-PARITY-001", "--bundle", "20991231T000000Z-ghost", "--result", "partial", "--note",
                  "n", "--reports-root", str(reports))
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    assert run("attempt", "C-PARITY-001", "--bundle", bid, "--result", "meh", "--note", "n", "--reports-root",
               str(reports)).exit_code == 2
    out = tmp_path / "fix_plan.md"
    assert run("render", "--out", str(out)).exit_code == 0
    assert run("render", "--out", str(out), "--check").exit_code == 0
    out.write_text(out.read_text() + "hand edit\n")
    assert run("render", "--out", str(out), "--check").exit_code == 1
    listed = run("list")
    assert listed.exit_code == 0 and "last attempt #1 partial" in listed.output
