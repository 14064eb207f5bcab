"""The bundle's ``summary.md``: what a person reads first (what ran, verdict, metrics, files, provenance).

Rendered from the final manifest only, so the same manifest always gives the same bytes.
"""
from __future__ import annotations

import json
import math
import shlex

_NEAR_ONE = 1e-3        # |x| within this of 1: show the difference, not a rounded 1


def format_float(value: float) -> str:
    """6 significant digits, except near ±1 (ratios, correlations), where enough decimals are kept to
    show three significant digits of ``|x| - 1``: 0.999999806 is ``0.999999806``, never ``1``."""
    if not math.isfinite(value):
        return str(value)
    diff = abs(abs(value) - 1.0)
    if 0.0 < diff < _NEAR_ONE:
        decimals = min(2 - math.floor(math.log10(diff)), 17)
        return f"{value:.{decimals}f}".rstrip("0")
    return f"{value:.6g}"


def format_value(value) -> str:
    """Compact, stable text for a metric value: floats via `format_float`, rest as JSON."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return format_float(value)
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


def provenance_facts(prov: dict) -> list[tuple[str, str]]:
    """(label, text) for the workspace, the workbench and each port (shown by summary.md and summary.html)."""
    facts = []
    ws, wb = prov.get("workspace") or {}, prov.get("workbench") or {}
    if ws:
        facts.append(("workspace", f"{ws.get('name')} (found by {ws.get('source')})"))
    if wb:
        where = f"git checkout {str(wb.get('git_sha'))[:12]}" + (" (dirty)" if wb.get("git_dirty") else "") \
            if wb.get("checkout") else "installed package"
        facts.append(("workbench", f"{wb.get('name')} {wb.get('version')}, {where}"))
    for port in prov.get("ports") or []:
        if not isinstance(port, dict):
            continue
        code = port.get("script") or port.get("executable") or {}
        git = port.get("code_git") or {}
        text = f"{shlex.join(str(c) for c in port.get('command') or [])}; code {code.get('path')} sha256 " \
               f"{str(code.get('sha256'))[:16]}"
        text += f"; git {str(git.get('sha'))[:12]}" + (" (dirty)" if git.get("dirty") else "") if git else ""
        text += f"; version {port['version']}" if port.get("version") else ""
        facts.append((f"port {port.get('name')}", text))
    return facts


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
    lines += [f"- {label}: {text}" for label, text in provenance_facts(prov)]
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
