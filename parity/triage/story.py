"""The triage told in order, as markdown: verdict → classification → configuration → traced pixels
(first divergences with hints) → cause → what to check next. Rendered from the triage JSON
(:meth:`parity.triage.triage.TriageResult.to_dict`) only, so the bundle's ``summary.md`` and the
``--json`` file cannot tell different stories.
"""
from __future__ import annotations

import json

__all__ = ["render_story"]


def _cell(value) -> str:
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (list, dict)):
        text = json.dumps(value, separators=(",", ":"))
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _verdict(d: dict) -> list[str]:
    v = d["verdict"]
    out = ["## 1. Verdict", ""]
    if v["passed"]:
        return out + [f"**PASS** — the candidate passes every gate of {v['threshold_class']}: nothing to triage.", ""]
    failed = ", ".join(v["failed_gates"]) or v["status"]
    out.append(f"**FAIL** ({v['status']}) — {failed} (registry class {v['threshold_class']}).")
    out.append("")
    if v["gates"]:
        out += ["| gate | value | needs | passed |", "| --- | --- | --- | --- |"]
        out += [f"| {g['number']} {g['name']} | {_cell(g['value'])} | {g['op']} {_cell(g['threshold'])} |"
                f" {'yes' if g['passed'] else '**no**'} |" for g in v["gates"]]
        out.append("")
    out += [f"- {n}" for n in v["notes"]]
    out += [f"- known divergence: {k}" for k in v["known_divergences"]]
    return out + ([""] if v["notes"] or v["known_divergences"] else [])


def _classification(d: dict) -> list[str]:
    c = d.get("classification")
    out = ["## 2. What the difference image looks like", ""]
    if not c:
        return out + ["(not classified: the comparison has no two images of one shape)", ""]
    applying = [x for x in c["classes"] if x["applies"]]
    if applying:
        out += [f"- **{x['class']}** (score {x['score']:.2f}): {x['text']}" for x in
                sorted(applying, key=lambda x: -x["score"])]
    else:
        out.append("- no class applies (a diffuse difference)")
    out += ["", "| class | applies | score | summary |", "| --- | --- | --- | --- |"]
    out += [f"| {x['class']} | {'yes' if x['applies'] else 'no'} | {x['score']:.2f} | {_cell(x['text'])} |"
            for x in c["classes"]]
    return out + [""]


def _config(d: dict) -> list[str]:
    c = d.get("config_diff")
    out = ["## 3. Configuration (what each port parsed)", ""]
    if c is None:
        return out + ["(no printout on one side)", ""]
    if not c.get("available"):
        return out + [f"(not compared: {c.get('reason')})", ""]
    diffs = c.get("differences") or []
    if not diffs:
        out.append(f"The printouts agree on {c.get('n_compared')} keys.")
    else:
        out += ["| key | reference | candidate |", "| --- | --- | --- |"]
        out += [f"| {r['key']} | {_cell(r['ref'])} | {_cell(r['cand'])} |" for r in diffs]
    for side in ("only_in_ref", "only_in_cand"):
        if c.get(side):
            out.append(f"- {side.replace('_', ' ')}: {', '.join(map(str, c[side][:12]))}")
    return out + [""]


def _pixels(d: dict) -> list[str]:
    out = ["## 4. Traced pixels: first divergences", ""]
    pixels = d.get("pixels") or []
    if not pixels:
        return out + ["(no pixel traced)", ""]
    out += ["| role | pixel (slow, fast) | ref | cand | first divergence | hint |", "| --- | --- | --- | --- | --- | --- |"]
    for p in pixels:
        fd = p.get("first_divergence")
        if fd:
            hint = fd.get("hint") or {}
            where, what = f"`{fd['tap']}`", f"{hint.get('class', '?')}: {hint.get('text', '')}"
        else:
            where, what = {"clean": "none (clean)"}.get(p["status"], p["status"]), p.get("note") or ""
        out.append(f"| {p['role']} | ({p['slow']}, {p['fast']}) | {_cell(p['ref_value'])} | {_cell(p['cand_value'])}"
                   f" | {where} | {_cell(what)} |")
    agg = d.get("aggregate") or {}
    return out + ["", f"**{agg.get('text', '')}**", ""]


def _cause(d: dict) -> list[str]:
    c = d.get("cause") or {}
    if not c:
        return []
    located = "located" if c.get("located") else "named, not located"
    return ["## 5. Cause", "", f"**{c['defect_class']}** (`{c['class']}`, from the {c['source']}; {located}): "
            f"{c['text']}", ""]


def render_story(d: dict) -> str:
    """Markdown for the triage dict ``d`` (its sections numbered in the order they were found)."""
    ref, cand = (d["ports"][side].get("label") or d["ports"][side]["name"] for side in ("ref", "cand"))
    out = [f"Triage of **{cand}** (candidate) against **{ref}** (reference), exit code {d['exit_code']}.", "",
           "```", " ".join(d["args"]), "```", ""]
    out += _verdict(d)
    if d["verdict"]["passed"]:
        return "\n".join(out)
    out += _classification(d) + _config(d) + _pixels(d) + _cause(d)
    steps = d.get("next_steps") or []
    if steps:
        out += ["## 6. What to check next", ""] + [f"{i}. {s}" for i, s in enumerate(steps, 1)] + [""]
    return "\n".join(out)
