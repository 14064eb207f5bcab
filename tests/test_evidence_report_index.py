"""reports/index.html and per-bundle summary.html, checked as HTML and rendered in headless Chromium."""
from __future__ import annotations

import html.parser
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from cli import report as report_cli
from parity.evidence.bundle import list_bundles, open_bundle
from parity.quirks.registry import classify
from parity.evidence.report_index import write_index

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _Rows(html.parser.HTMLParser):
    """Collect <tr data-bundle=… data-state=…> rows and every src/href of a document."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, str] = {}
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-bundle" in a:
            self.rows[a["data-bundle"]] = a.get("data-state")
        self.links += [v for k, v in attrs if k in ("src", "href") and v]


def _parse(text: str) -> _Rows:
    parser = _Rows()
    parser.feed(text)
    return parser


@pytest.fixture
def reports(tmp_path):
    root = tmp_path / "reports"
    yy, xx = np.mgrid[0:256, 0:256]
    image = 1e3 * np.exp(-((yy - 100.0) ** 2 + (xx - 150.0) ** 2) / 50.0) + 1.0
    with open_bundle(kind="compare", slug="at001", reports_root=root, argv=["pwb", "compare", "at001"],
                     case="at001_det256") as ok:
        ok.save_preview_png("c_preview.png", image, title="C")
        ok.save_preview_png("diff_overlay.png", image[::-1], title="|Δ|")
        ok.add_metrics({"corr": 0.999987, "rmse": 3.2e-4}, headline=True)
        ok.add_known_divergences(classify("-phi 0 -osc 90 -phisteps 9 -default_F 1 -hkl x.hkl".split()))
        ok.set_status("passed")
    with pytest.raises(RuntimeError):
        with open_bundle(kind="compare", slug="at021", reports_root=root, argv=["pwb", "compare", "at021"]) as bad:
            bad.add_metrics({"corr": 0.854}, headline=True)
            raise RuntimeError("runner crashed <oops>")
    partial = root / "20250101T000000Z-killed.partial"  # what a SIGKILL leaves behind
    partial.mkdir()
    (partial / "bundle.json").write_text('{"id": "20250101T000000Z-killed", "status": "running", "kind": "trace"}')
    write_index(root)
    return root, ok.id, bad.id


def test_index_lists_every_bundle_with_state_and_no_external_assets(reports):
    root, ok_id, bad_id = reports
    text = (root / "index.html").read_text()
    parsed = _parse(text)
    assert parsed.rows == {ok_id: "passed", bad_id: "failed", "20250101T000000Z-killed": "incomplete"}
    assert f'href="{ok_id}/summary.html"' in text and 'href="20250101T000000Z-killed.partial/bundle.json"' in text
    assert "corr = 0.999987" in text and "runner crashed &lt;oops&gt;" in text
    assert "matches C via KD-PHI-CARRYOVER" in text  # a pass touched by a C quirk is labelled, not silent
    for page in [root / "index.html", *root.glob("*/summary.html")]:
        for link in _parse(page.read_text()).links:
            assert "://" not in link and not link.startswith("/"), (page.name, link)
    summary = (root / ok_id / "summary.html").read_text()
    assert '<img src="c_preview.png"' in summary and '<img src="diff_overlay.png"' in summary
    assert str(root) not in summary
    assert "&quot;status&quot;: &quot;passed&quot;" in summary  # the manifest, escaped inside <pre>


def test_cli_index_and_list(reports):
    root, ok_id, _ = reports
    app = typer.Typer()
    report_cli.register(app)
    (root / "index.html").unlink()
    assert CliRunner().invoke(app, ["report", "index", "--reports-root", str(root)]).exit_code == 0
    assert (root / "index.html").is_file()
    listed = CliRunner().invoke(app, ["report", "list", "--reports-root", str(root)])
    assert listed.exit_code == 0 and ok_id in listed.output and "INCOMPLETE" in listed.output
    assert len(list_bundles(root)) == 3


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium-profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(tmp_path)})


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (apt-get install chromium)")
def test_index_renders_in_headless_chromium(reports, tmp_path):
    root, ok_id, bad_id = reports
    dom = _chromium(tmp_path, "--dump-dom", (root / "index.html").as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = _parse(dom.stdout)
    assert rendered.rows == {ok_id: "passed", bad_id: "failed", "20250101T000000Z-killed": "incomplete"}
    assert "INCOMPLETE" in dom.stdout and "FAILED" in dom.stdout
    shot = tmp_path / "index.png"
    run = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,800", (root / "index.html").as_uri())
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")) == (1200, 800)
    page = _chromium(tmp_path, "--dump-dom", (root / ok_id / "summary.html").as_uri())
    assert page.returncode == 0 and "c_preview.png" in page.stdout and "0.999987" in page.stdout
    assert "Known divergences" in page.stdout and "matches C via KD-PHI-CARRYOVER" in page.stdout
    if os.environ.get("PWB_SCREENSHOT_DIR"):  # keep the pictures for a person to look at
        out = Path(os.environ["PWB_SCREENSHOT_DIR"])
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, out / "index.png")
        _chromium(tmp_path, f"--screenshot={out / 'summary.png'}", "--window-size=1200,1400",
                  (root / ok_id / "summary.html").as_uri())


def test_bundle_page_shows_the_story_as_html(tmp_path):
    """A command's story (summary.md) is on its summary.html too: tables, code, headings; raw HTML
    in it stays text."""
    root = tmp_path / "reports"
    story = ("## Triage\n\n| pixel | first divergence |\n| --- | --- |\n| (6, 62) | pix0_vector_meters |\n\n"
             "```\nTRACE_C: pix0 <1 2 3>\n```\n\n<script>alert(1)</script>\n")
    with open_bundle(kind="triage", slug="story", reports_root=root, argv=["pwb", "triage"]) as b:
        b.set_story(story)
        b.set_status("failed")
    page = (root / b.id / "summary.html").read_text(encoding="utf-8")
    assert "<h2>Triage</h2>" in page and "<td>pix0_vector_meters</td>" in page
    assert "<pre><code>TRACE_C: pix0 &lt;1 2 3&gt;" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
