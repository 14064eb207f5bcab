"""Static HTML over the reports root: ``index.html`` (one row per bundle) and each bundle's ``summary.html``.

No server and no external assets: inline CSS, relative links, images referenced by their file
name inside the bundle. ``summary.html`` is written by the bundle itself when it is finalised
(so a published bundle never changes); ``index.html`` is rewritten atomically by `write_index`,
under a lock on the reports root, and `refresh_index` does so after every bundle publish, attempt
and plan change. The index links the fix plan (``<ws>/docs/fix_plan.md``) and the plans
(``<ws>/plans/{active,archive}/<ID>/plan.md``), shows each bundle's overlay (or first PNG) as a
thumbnail linking the full-size image, and lists incomplete or malformed bundles, flagged with
the reason, linking their raw ``bundle.json``.
"""
from __future__ import annotations

import html
import json
import os
import warnings
from pathlib import Path

from parity.evidence.atomic import atomic_write_text, dir_lock
from parity.evidence.store import BundleSummary, default_reports_root, list_bundles
from parity.evidence.summary import command_line, flatten_metrics, format_value, provenance_facts

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1d232a;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #d8dee4}
table{border-collapse:collapse;background:#fff;margin:6px 0 12px}
th,td{border:1px solid #d8dee4;padding:4px 9px;text-align:left;vertical-align:top}
th{background:#eef1f4}tr.incomplete td{background:#fff8e5;color:#6b5500}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#fff;border:1px solid #d8dee4;padding:8px;overflow:auto;max-height:480px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;color:#fff}
.passed{background:#1a7f37}.failed,.error{background:#cf222e}.done,.skipped{background:#57606a}
.incomplete{background:#bf8700}.running{background:#0969da}
.muted{color:#57606a}figure{display:inline-block;margin:0 14px 14px 0;vertical-align:top}
figure img{border:1px solid #d8dee4;max-width:520px;image-rendering:pixelated;background:#fff}
figcaption{font-size:12px;color:#57606a}.kd{font-size:12px;color:#8250df}
img.thumb{max-width:96px;max-height:96px;border:1px solid #d8dee4;background:#fff;image-rendering:pixelated}
nav{margin:4px 0 14px}nav a{margin-right:10px}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _badge(state: str) -> str:
    css = state if state in ("passed", "failed", "error", "done", "skipped", "incomplete", "running") else "done"
    return f'<span class="badge {css}">{_e(state.upper())}</span>'


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def _kv_table(rows: list[tuple[str, str]], *, headers=("key", "value")) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _markdown(text: str) -> str:
    """A command's story (markdown) as HTML. Raw HTML in it is not passed through (it shows as text):
    a story quotes port output and file names, never markup."""
    import markdown

    md = markdown.Markdown(extensions=["tables", "fenced_code"])
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return md.convert(text)


def render_bundle_page(manifest: dict) -> str:
    """``summary.html`` of one finalised manifest: verdict, command, metrics, previews, artifacts, manifest."""
    state = str(manifest.get("status") or "unknown")
    bid = manifest.get("id")
    parts = [f"<h1>Bundle <code>{_e(bid)}</code> {_badge(state)}</h1>",
             f'<p class="muted">kind <b>{_e(manifest.get("kind"))}</b> · case <b>{_e(manifest.get("case"))}</b> · '
             f'created {_e(manifest.get("created_utc"))} · finished {_e(manifest.get("finished_utc"))} · '
             f'<a href="../index.html">all bundles</a></p>',
             f"<h2>What ran</h2><pre>{_e(command_line(manifest))}</pre>"]
    story = manifest.get("story")
    if isinstance(story, str) and story.strip():
        parts.append(f'<div class="story">{_markdown(story)}</div>')
    error = manifest.get("error")
    if error:
        parts.append(f'<h2>Error</h2><p><code>{_e(error.get("type"))}</code>: {_e(error.get("message"))}</p>')
    kds = manifest.get("known_divergences") or []
    if kds:
        items = "".join(f"<li><b>{_e(k.get('verdict'))}</b>{'' if k.get('certain') else ' (possible)'} — {_e(k.get('reason'))}</li>"
                        for k in kds)
        parts.append(f"<h2>Known divergences</h2><ul>{items}</ul>")
    metrics = flatten_metrics(manifest.get("metrics") or {})
    headline = set(manifest.get("headline") or [])
    rows = [(k, f"<b>{_e(format_value(v))}</b>" if k in headline else _e(format_value(v))) for k, v in metrics.items()]
    parts.append("<h2>Metrics</h2>" + (_kv_table(rows, headers=("metric", "value")) if rows else "<p>(none)</p>"))
    codes = manifest.get("exit_codes") or {}
    if codes:
        parts.append("<h2>Exit codes</h2>" + _kv_table([(k, _e(v)) for k, v in codes.items()], headers=("step", "code")))
    artifacts = manifest.get("artifacts") or []
    pngs = [a for a in artifacts if a["name"].lower().endswith(".png")]
    if pngs:
        figs = "".join(f'<figure><img src="{_e(a["name"])}" alt="{_e(a["name"])}"><figcaption>{_e(a["name"])}</figcaption></figure>'
                       for a in pngs)
        parts.append(f"<h2>Previews and overlays</h2><div>{figs}</div>")
    art_rows = "".join(f'<tr><td><a href="{_e(a["name"])}">{_e(a["name"])}</a></td><td>{_e(a["size_bytes"])}</td>'
                       f'<td><code>{_e(a["sha256"][:16])}…</code></td></tr>' for a in artifacts)
    parts.append("<h2>Artifacts</h2>" + (f"<table><thead><tr><th>file</th><th>size (B)</th><th>sha256</th></tr></thead>"
                                          f"<tbody>{art_rows}</tbody></table>" if artifacts else "<p>(none)</p>"))
    prov = manifest.get("provenance") or {}
    git = prov.get("git") or {}
    host = prov.get("host") or {}
    prov_rows = [("git sha", _e(git.get("sha"))), ("git dirty", _e(git.get("dirty"))),
                 ("dirty diff sha256", _e(git.get("dirty_diff_sha256"))), ("python", _e(prov.get("python"))),
                 ("numpy", _e(prov.get("numpy"))), ("torch", _e(prov.get("torch"))), ("device", _e(prov.get("device"))),
                 ("dtype", _e(prov.get("dtype"))), ("host cpu", _e(host.get("cpu_model")))]
    prov_rows += [(k, _e(v)) for k, v in provenance_facts(prov)]
    prov_rows += [(f"input {r['path']}", f"<code>{_e(r['sha256'])}</code>") for r in prov.get("inputs") or []]
    prov_rows += [(f"binary {r['path']}", f"<code>{_e(r['sha256'])}</code>") for r in prov.get("binaries") or []]
    parts.append("<h2>Provenance</h2>" + _kv_table(prov_rows))
    parts.append(f'<h2>Manifest</h2><p><a href="bundle.json">bundle.json</a></p><pre>{_e(json.dumps(manifest, indent=2))}</pre>')
    return _page(f"Bundle {bid}", "\n".join(parts))


def _index_row(s: BundleSummary, reports_root: Path) -> str:
    if s.complete and (reports_root / s.dirname / "summary.html").is_file():
        link = f'<a href="{_e(s.dirname)}/summary.html">{_e(s.id)}</a>'
    else:
        link = f'<a href="{_e(s.dirname)}/bundle.json">{_e(s.id)}</a>'
    metrics = "<br>".join(f"{_e(k)} = {_e(format_value(v))}" for k, v in flatten_metrics(s.headline).items()) or "—"
    note = f'<br><span class="muted">{_e(s.problem)}</span>' if s.problem else ""
    note += "".join(f'<br><span class="kd">{_e(v)}</span>' for v in s.known_divergences)
    if s.error:
        note += f'<br><span class="muted">{_e(s.error)}</span>'
    thumb = "—"
    if s.thumbnail and (reports_root / s.dirname / s.thumbnail).is_file():
        src = f"{_e(s.dirname)}/{_e(s.thumbnail)}"
        thumb = f'<a href="{src}"><img class="thumb" src="{src}" alt="{_e(s.thumbnail)}" loading="lazy"></a>'
    css = "" if s.complete else ' class="incomplete"'
    stamp = s.id[:16]  # YYYYMMDDTHHMMSSZ
    date = s.created_utc or f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z"
    return (f'<tr{css} data-bundle="{_e(s.id)}" data-state="{_e(s.state)}"><td>{_e(date)}</td><td>{link}</td>'
            f"<td>{_e(s.kind)}</td><td>{_e(s.case or s.slug)}</td><td>{thumb}</td><td>{metrics}</td>"
            f"<td>{_badge(s.state)}{note}</td></tr>")


def _rel(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def _nav(reports_root: Path, plans_root: Path | None, fix_plan_md: Path | None) -> str:
    """Links to the fix plan and every plan (relative to the index); empty when there are none."""
    links = []
    if fix_plan_md is not None and fix_plan_md.is_file():
        links.append(f'<a href="{_e(_rel(fix_plan_md, reports_root))}">fix plan</a>')
    for where in ("active", "archive"):
        folder = plans_root / where if plans_root is not None else None
        for md in sorted(folder.glob("*/plan.md")) if folder is not None and folder.is_dir() else []:
            suffix = "" if where == "active" else " (archived)"
            links.append(f'<a href="{_e(_rel(md, reports_root))}">plan {_e(md.parent.name)}{suffix}</a>')
    return f"<nav>{' '.join(links)}</nav>" if links else ""


def render_index(bundles: list[BundleSummary], *, reports_root: Path, plans_root: Path | None = None,
                 fix_plan_md: Path | None = None) -> str:
    """``index.html`` for these bundles, newest first, with links to the fix plan and the plans."""
    ordered = sorted(bundles, key=lambda s: (s.id, s.dirname), reverse=True)
    counts: dict[str, int] = {}
    for s in ordered:
        counts[s.state] = counts.get(s.state, 0) + 1
    tally = " · ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no bundles yet"
    rows = "\n".join(_index_row(s, reports_root) for s in ordered)
    body = (f"<h1>Evidence bundles</h1><p class=\"muted\">{len(ordered)} bundles: {_e(tally)}</p>"
            f"{_nav(reports_root, plans_root, fix_plan_md)}"
            f'<table id="bundles"><thead><tr><th>created (UTC)</th><th>bundle</th><th>kind</th><th>case</th>'
            f"<th>preview</th><th>headline metrics</th><th>result</th></tr></thead><tbody>\n{rows}\n</tbody></table>")
    return _page("Evidence bundles", body)


def write_index(reports_root: str | os.PathLike | None = None, *, plans_root: str | os.PathLike | None = None,
                fix_plan_md: str | os.PathLike | None = None) -> Path:
    """Write ``<reports_root>/index.html`` atomically (under a lock on the root) and return its path.

    ``plans_root`` and ``fix_plan_md`` default to the workspace layout beside the reports root
    (``../plans``, ``../docs/fix_plan.md``)."""
    root = Path(reports_root) if reports_root is not None else default_reports_root()
    plans = Path(plans_root) if plans_root is not None else root.parent / "plans"
    fix_md = Path(fix_plan_md) if fix_plan_md is not None else root.parent / "docs" / "fix_plan.md"
    root.mkdir(parents=True, exist_ok=True)
    with dir_lock(root):
        text = render_index(list_bundles(root), reports_root=root, plans_root=plans, fix_plan_md=fix_md)
        return atomic_write_text(root / "index.html", text)


def refresh_index(reports_root: str | os.PathLike | None = None, *, plans_root: str | os.PathLike | None = None) -> Path | None:
    """`write_index` after a change, best effort: a failure warns and never undoes the change.

    The reports root is ``reports_root``, else the one beside ``plans_root``, else the workspace's."""
    if reports_root is None and plans_root is not None:
        reports_root = Path(plans_root).parent / "reports"
    try:
        return write_index(reports_root, plans_root=plans_root)
    except OSError as exc:
        warnings.warn(f"reports index not refreshed: {exc}", RuntimeWarning, stacklevel=2)
        return None
