"""Index and ids (issue #15 items 2-3, issue #13 item 7): typed ids, a live index, links, thumbnails,
numbers that show a difference from 1, and malformed bundles isolated."""
from __future__ import annotations

import datetime as dt
import html.parser
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.app import app
from parity.evidence import provenance
from parity.evidence.bundle import open_bundle
from parity.evidence.errors import UnknownBundleError
from parity.evidence.store import list_bundles, load_manifest, resolve_bundle_id
from parity.evidence.summary import format_value


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.thumbs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.links += [v for k, v in attrs if k in ("href", "src") and v]
        if tag == "img" and "thumb" in (a.get("class") or ""):
            self.thumbs.append(a["src"])


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.setenv("PWB_WORKSPACE", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _bundle(slug, *, when=None, metrics=None, pngs=(), monkeypatch=None):
    if when is not None:
        monkeypatch.setattr(provenance, "utc_now", lambda: when)
    image = np.outer(np.arange(32.0), np.arange(32.0))
    with open_bundle(kind="test", slug=slug, argv=["pwb", "test"]) as b:
        for name in pngs:
            b.save_preview_png(name, image, max_side_px=32)
        b.add_metrics(metrics or {"corr": 0.5}, headline=True)
        b.set_status("passed")
    return b.id


def _at(hour):
    return dt.datetime(2026, 1, 2, hour, 0, 0, tzinfo=dt.timezone.utc)


def test_latest_and_unique_prefixes_everywhere_an_id_is_typed(ws, monkeypatch):
    a = _bundle("alpha", when=_at(1), monkeypatch=monkeypatch)
    b = _bundle("beta", when=_at(2), monkeypatch=monkeypatch)
    c = _bundle("beta-two", when=_at(3), monkeypatch=monkeypatch)
    monkeypatch.undo()
    monkeypatch.setenv("PWB_WORKSPACE", str(ws))
    assert resolve_bundle_id("latest") == c and resolve_bundle_id(a[:12]) == a
    assert resolve_bundle_id(b) == b and load_manifest(a[:11])["id"] == a
    with pytest.raises(UnknownBundleError, match="ambiguous") as err:
        resolve_bundle_id("20260102")
    assert all(i in str(err.value) for i in (a, b, c)) and err.value.exit_code == 2
    runner = CliRunner()
    assert runner.invoke(app, ["fixplan", "item", "add", "ID-001", "--title", "ids"]).exit_code == 0
    ok = runner.invoke(app, ["fixplan", "attempt", "ID-001", "--bundle", "latest", "--bundle", a[:11],
                             "--result", "partial", "--note", "typed ids"])
    assert ok.exit_code == 0 and c in ok.output and a in ok.output
    amb = runner.invoke(app, ["fixplan", "attempt", "ID-001", "--bundle", "20260102T0", "--result", "partial",
                              "--note", "x"])
    assert amb.exit_code == 2 and len(amb.output.strip().splitlines()) == 1 and a in amb.output and c in amb.output
    assert runner.invoke(app, ["plan", "new", "P"]).exit_code == 0
    assert runner.invoke(app, ["plan", "add-phase", "P", "A", "--title", "a"]).exit_code == 0
    assert runner.invoke(app, ["plan", "add-task", "P", "A", "A1", "--text", "t", "--test-na", "manual"]).exit_code == 0
    done = runner.invoke(app, ["plan", "set", "P", "A1", "D", "--evidence", "latest"])
    assert done.exit_code == 0 and c in (ws / "plans" / "active" / "P" / "plan.md").read_text()
    shown = runner.invoke(app, ["report", "show", "latest"])
    assert shown.exit_code == 0 and shown.output.startswith(f"{c}: passed") and "corr = 0.5" in shown.output
    assert runner.invoke(app, ["report", "show", "2099"]).exit_code == 2


def test_index_is_live_links_plans_and_fix_plan_and_shows_thumbnails(ws):
    first = _bundle("with-overlay", pngs=("c_preview.png", "peaks/overlay.png"))
    index = ws / "reports" / "index.html"
    assert index.is_file() and first in index.read_text()          # refreshed by the publish itself
    second = _bundle("plain")
    assert second in index.read_text()
    runner = CliRunner()
    assert runner.invoke(app, ["fixplan", "item", "add", "LIVE-001", "--title", "live"]).exit_code == 0
    before = index.stat().st_mtime_ns
    assert runner.invoke(app, ["fixplan", "attempt", "LIVE-001", "--bundle", first, "--result", "success",
                               "--note", "n"]).exit_code == 0
    assert index.stat().st_mtime_ns >= before
    assert runner.invoke(app, ["plan", "new", "LIVE", "--fixplan", "LIVE-001"]).exit_code == 0
    assert runner.invoke(app, ["fixplan", "render"]).exit_code == 0
    parsed = _Links()
    parsed.feed(index.read_text())
    assert "../plans/active/LIVE/plan.md" in parsed.links and "../docs/fix_plan.md" in parsed.links
    assert parsed.thumbs == [f"{first}/peaks/overlay.png"]           # the overlay, not the first PNG
    assert f"{first}/peaks/overlay.png" in parsed.links              # full size a click away
    for link in parsed.links:
        assert not link.startswith("/") and "://" not in link and (index.parent / link).exists(), link
    fix_plan = (ws / "docs" / "fix_plan.md").read_text()
    assert f"[`{first}`](../reports/{first}/summary.html)" in fix_plan
    assert (ws / "docs" / f"../reports/{first}/summary.html").resolve().is_file()
    assert "- Plans: [LIVE](../plans/active/LIVE/plan.md)" in fix_plan


def test_numbers_near_one_keep_their_difference(ws):
    assert format_value(0.999999806) == "0.999999806" and format_value(1.0000002) == "1.0000002"
    assert format_value(1.0) == "1" and format_value(0.5) == "0.5" and format_value(3.2e-4) == "0.00032"
    assert format_value(0.999987) == "0.999987" and format_value(1 - 1e-16) != "1"
    bid = _bundle("near-one", metrics={"correlation": 0.999999806, "sum_ratio": 1.0000002})
    text = (ws / "reports" / "index.html").read_text()
    assert "correlation = 0.999999806" in text and "sum_ratio = 1.0000002" in text
    summary = (ws / "reports" / bid / "summary.md").read_text()
    assert "| 0.999999806 |" in summary


@pytest.mark.parametrize("content, reason", [
    ('{"id": "X", "complete": true, "status": "passed", "metrics": "notadict"}', "metrics is"),
    ("{not json", "unreadable"),
    ('["a", "list"]', "not an object"),
    ('{"complete": true, "artifacts": [3]}', "artifact"),
])
def test_malformed_bundles_are_isolated_not_fatal(ws, content, reason):
    good = _bundle("good")
    bad = ws / "reports" / "20260101T000000Z-broken"
    bad.mkdir()
    (bad / "bundle.json").write_text(content)
    runner = CliRunner()
    index = runner.invoke(app, ["report", "index"])
    assert index.exit_code == 0, index.output
    text = (ws / "reports" / "index.html").read_text()
    assert 'data-bundle="20260101T000000Z-broken" data-state="incomplete"' in text and reason in text
    assert f'data-bundle="{good}" data-state="passed"' in text
    listed = runner.invoke(app, ["report", "list"])
    assert listed.exit_code == 0 and "INCOMPLETE" in listed.output and good in listed.output
    rows = {s.id: s for s in list_bundles()}
    assert not rows[bad.name].complete and reason in rows[bad.name].problem
    with pytest.raises(UnknownBundleError, match="not usable"):
        load_manifest(bad.name)
    assert _bundle("after")                                          # publishing still refreshes the index


def test_links_in_the_index_resolve_from_a_nested_reports_root(tmp_path, monkeypatch):
    monkeypatch.setenv("PWB_WORKSPACE", str(tmp_path))
    root = tmp_path / "deep" / "reports"
    with open_bundle(kind="test", slug="x", reports_root=root, argv=[]) as b:
        b.set_status("done")
    text = (root / "index.html").read_text()
    assert f'href="{b.id}/summary.html"' in text and os.path.isfile(root / b.id / "summary.html")
    assert Path(root / "index.html").read_text().count("<tr ") == 1


def test_every_plan_change_and_attempt_rewrites_the_index_and_links_the_evidence(ws):
    first = _bundle("evidence", pngs=("overlay.png",))
    index = ws / "reports" / "index.html"
    runner = CliRunner()

    def rewrites(*args):
        index.unlink()
        res = runner.invoke(app, list(args))
        assert res.exit_code == 0, res.output
        assert index.is_file(), f"{' '.join(args)} did not refresh the index"
        return index.read_text()

    rewrites("fixplan", "item", "add", "IDX-001", "--title", "one")
    rewrites("fixplan", "item", "add", "IDX-002", "--title", "two")
    assert "../docs/fix_plan.md" in rewrites("fixplan", "render")     # rendered once, kept current from now on
    assert "../plans/active/P/plan.md" in rewrites("plan", "new", "P", "--fixplan", "IDX-001")
    rewrites("plan", "add-phase", "P", "A", "--title", "a")
    rewrites("plan", "edit-phase", "P", "A", "--goal", "the goal")
    rewrites("plan", "add-task", "P", "A", "A1", "--text", "t", "--test-na", "manual check")
    rewrites("plan", "add-task", "P", "A", "A2", "--text", "u", "--test-na", "manual check")
    rewrites("plan", "edit-task", "P", "A2", "--text", "u edited")
    rewrites("plan", "remove-task", "P", "A2")
    rewrites("plan", "set", "P", "A1", "D", "--evidence", "latest")
    rewrites("plan", "link", "P", "IDX-002")
    assert "../docs/fix_plan.md" in rewrites("fixplan", "attempt", "IDX-002", "--bundle", first, "--result",
                                             "partial", "--note", "n")
    md = (ws / "plans" / "active" / "P" / "plan.md").read_text()
    link = f"[`{first}`](../../../reports/{first}/summary.html)"
    assert link in md and (ws / "plans" / "active" / "P" / f"../../../reports/{first}/summary.html").is_file()
    assert "A2" not in md and "Goal: the goal" in md
    assert "- Fix-plan items: [IDX-001](../../../docs/fix_plan.md), [IDX-002](../../../docs/fix_plan.md)" in md
    fix_plan = (ws / "docs" / "fix_plan.md").read_text()             # re-rendered by the attempt and the link
    section = fix_plan[fix_plan.index("IDX-002"):]
    assert "- Plans: [P](../plans/active/P/plan.md)" in section and f"[`{first}`](../reports/{first}/summary.html)" in \
        section
    assert runner.invoke(app, ["plan", "link", "P", "NOPE-001"]).exit_code == 2
