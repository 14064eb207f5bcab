"""The bundle's ``summary.md``: what a person reads first (what ran, verdict, metrics, files, provenance).

Rendered from the final manifest only, so the same manifest always gives the same bytes.
"""
from __future__ import annotations

import json
import shlex


def format_value(value) -> str:
    """Compact, stable text for a metric value: floats with 6 significant digits, rest as JSON."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (int, str)):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def flatten_metrics(metrics: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}`` (one table row per leaf), keys in stored order."""
    flat = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten_metrics(value, prefix=name + "."))
        else:
            flat[name] = value
    return flat


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def command_line(manifest: dict) -> str:
    """The recorded argv as one shell-quoted line."""
    argv = (manifest.get("command") or {}).get("argv") or []
    return shlex.join(str(a) for a in argv) if argv else "(argv not recorded)"


def _provenance_lines(prov: dict) -> list[str]:
    git = prov.get("git") or {}
    sha = git.get("sha") or "unknown"
    dirty = git.get("dirty")
    dirty_text = ("dirty, diff sha256 " + str(git.get("dirty_diff_sha256"))) if dirty else ("clean" if dirty is False else "dirty state unknown")
    host = prov.get("host") or {}
    lines = [
        f"- git: `{sha}` ({dirty_text}), branch `{git.get('branch')}`",
        f"- python {prov.get('python')}, numpy {prov.get('numpy')}, torch {prov.get('torch')}",
        f"- device `{prov.get('device')}`, dtype `{prov.get('dtype')}`, seed `{prov.get('seed')}`",
        f"- host: {host.get('cpu_model')} ({host.get('cpu_count')} CPUs, {host.get('system')} {host.get('machine')})",
        f"- cwd: `{prov.get('cwd')}`",
    ]
    for label in ("inputs", "binaries"):
        for rec in prov.get(label) or []:
            lines.append(f"- {label[:-1] if label == 'inputs' else 'binary'}: `{rec['path']}` sha256 `{rec['sha256']}` ({rec['size_bytes']} B)")
    return lines


def render_summary_md(manifest: dict) -> str:
    """Markdown summary of a finalised manifest (bundle.json)."""
    status = str(manifest.get("status", "unknown")).upper()
    out = [f"# Bundle {manifest.get('id')}", ""]
    out.append(f"**Status: {status}** · kind `{manifest.get('kind')}` · case `{manifest.get('case')}` · "
               f"created {manifest.get('created_utc')} · finished {manifest.get('finished_utc')}")
    story = manifest.get("story")
    if story:        # a command's own account of what it found (pwb triage), before the generic sections
        out += ["", str(story).rstrip("\n")]
    out += ["", "## What ran", "", "```", command_line(manifest), "```", ""]
    metrics = flatten_metrics(manifest.get("metrics") or {})
    headline = [k for k in (manifest.get("headline") or []) if k in metrics] or list(metrics)[:4]
    out += ["## Headline metrics", ""]
    if metrics:
        out += ["| metric | value |", "| --- | --- |"]
        out += [f"| {'**' + _cell(k) + '**' if k in headline else _cell(k)} | {_cell(format_value(v))} |"
                for k, v in metrics.items()]
    else:
        out.append("(no metrics recorded)")
    out.append("")
    codes = manifest.get("exit_codes") or {}
    if codes:
        out += ["## Exit codes", "", "| step | exit code |", "| --- | --- |"]
        out += [f"| {_cell(k)} | {v} |" for k, v in codes.items()] + [""]
    kds = manifest.get("known_divergences") or []
    if kds:
        out += ["## Known divergences", ""]
        out += [f"- {k['verdict']}{'' if k.get('certain') else ' (possible)'} — {k.get('reason')}" for k in kds]
        out.append("")
    error = manifest.get("error")
    if error:
        out += ["## Error", "", f"`{error.get('type')}`: {_cell(error.get('message', ''))}", ""]
    out += ["## Artifacts", ""]
    artifacts = manifest.get("artifacts") or []
    if artifacts:
        out += ["| file | size (B) | sha256 |", "| --- | --- | --- |"]
        out += [f"| [{_cell(a['name'])}]({a['name']}) | {a['size_bytes']} | `{a['sha256'][:16]}…` |" for a in artifacts]
    else:
        out.append("(none)")
    out += ["", "## Provenance", "", *_provenance_lines(manifest.get("provenance") or {}), ""]
    return "\n".join(out)
