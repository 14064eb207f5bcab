"""A triage as evidence: one bundle (kind ``triage``) whose ``summary.md`` tells the story, and the
fix-plan attempt that cites it.

The bundle holds nb-compare's part (:func:`parity.compare.bundle.record_compare_bundle`: stdout and
stderr of both runs, ``summary.json``, downsampled images and previews), ``triage.json`` (what
``--json`` writes), ``overlay.png`` (reference, candidate, difference, peaks;
:func:`parity.images.overlay.overlay_png`), ``config_diff.json``, and per traced pixel
``traces/<role>_<slow>_<fast>_{ref,cand}.txt`` with the diff ``..._diff.json``. Headline metrics:
the verdict, the primary image class, the cause and the aggregated first-divergence tap.
"""
from __future__ import annotations

__all__ = ["record_triage_bundle", "record_fixplan_attempt", "headline"]


def headline(d: dict) -> dict:
    v, cause, agg = d["verdict"], d.get("cause") or {}, d.get("aggregate") or {}
    cls = d.get("classification") or {}
    return {"triage_status": v["status"], "failed_gates": ",".join(v["failed_gates"]) or None,
            "image_class": cls.get("primary"), "cause_class": cause.get("class"),
            "defect_class": cause.get("defect_class"), "first_divergence_tap": agg.get("tap"),
            "traced_diverged": f"{agg.get('n_diverged', 0)}/{agg.get('n_traced', 0)}" if agg else None,
            "correlation": v["metrics"].get("correlation"), "sum_ratio": v["metrics"].get("sum_ratio")}


def record_triage_bundle(bundle, result) -> None:
    """Write ``result`` (a :class:`parity.triage.triage.TriageResult`) into ``bundle`` (no-op without one)."""
    if not getattr(bundle, "enabled", False):
        return
    from parity.compare.bundle import record_compare_bundle
    from parity.triage.story import render_story

    d = result.to_dict()
    if result.compare is not None:
        record_compare_bundle(bundle, result.compare)
    bundle.write_json("triage.json", d)
    if d.get("config_diff") is not None:
        bundle.write_json("config_diff.json", d["config_diff"])
    c = result.compare
    if c is not None and c.c_image is not None and c.py_image is not None and c.c_image.shape == c.py_image.shape \
            and not d["verdict"]["passed"]:
        from parity.images.overlay import overlay_png

        bundle.write_bytes("overlay.png", overlay_png(c.c_image, c.py_image, result.peaks,
                                                      metrics=c.details.get("metrics")))
    for px in result.pixels:
        stem = f"traces/{px.role}_{px.slow}_{px.fast}"
        if px.ref_trace is not None and px.ref_trace.is_file():
            bundle.copy_file(px.ref_trace, f"{stem}_ref.txt")
        if px.cand_trace is not None and px.cand_trace.is_file():
            bundle.copy_file(px.cand_trace, f"{stem}_cand.txt")
        if px.diff is not None:
            bundle.write_json(f"{stem}_diff.json", px.diff)
    bundle.add_metrics(headline(d), headline=True)
    bundle.set_exit_code("pwb triage", result.exit_code)
    bundle.set_status("passed" if d["verdict"]["passed"] else "failed")
    bundle.set_story(render_story(d))


def record_fixplan_attempt(item_id: str, bundle_id: str, d: dict, *, plans_root=None, reports_root=None):
    """Record the triage as attempt #N of fix-plan item ``item_id``, citing the bundle (its metrics come with it)."""
    from parity.evidence import ledger

    cause = d.get("cause") or {}
    result = "success" if d["verdict"]["passed"] else "failed"
    agg = (d.get("aggregate") or {}).get("text")
    note = ("pwb triage: the comparison passes" if d["verdict"]["passed"] else
            f"pwb triage: {', '.join(d['verdict']['failed_gates']) or d['verdict']['status']} failed; {agg or ''}").strip("; ")
    hypothesis = f"{cause['defect_class']} ({cause['class']}): {cause['text']}" if cause else None
    return ledger.record_attempt(ledger.ledger_path(plans_root), item_id, bundle_ids=[bundle_id], result=result,
                                 note=note, hypothesis=hypothesis, next_actions=list(d.get("next_steps") or [])[:4],
                                 reports_root=reports_root)
