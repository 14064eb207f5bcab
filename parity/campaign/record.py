"""A campaign's evidence: its JSON, its markdown table, its bundle.

``campaign.json`` (:meth:`CampaignReport.to_json`, the file ``--json F`` writes and the bundle holds):
``seed dtype max_work max_side threshold_class thresholds hypothesis_version executor ports n_cases
passed failed errors degenerate throughput{wall_s draw_s shrink_s workers cases_per_minute task_s c_s cand_s
c_share cand_share work_total} cases[{case_id args files loops work features status reason metrics
gates c_s cand_s task_s warmup_s worker known_divergences setup_work minimal_args shrink}]``.
``campaign.md`` has the failures and errors (with their numbers) and the verdicts by feature.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from parity.errors import ParityInputError

__all__ = ["campaign_markdown", "write_json", "record_bundle"]

_STATUSES = ("pass", "fail", "error", "degenerate")


def _s(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def by_feature(rows: list[dict]) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for row in rows:
        for feature in row.get("features") or ["(none)"]:
            out.setdefault(feature, Counter())[row["status"]] += 1
    return dict(sorted(out.items()))


def campaign_markdown(report) -> str:
    j = report.to_json()
    t = j["throughput"]
    lines = [f"# pwb fuzz: seed {j['seed']}, {j['dtype']}, {j['n_cases']} cases",
             "", f"- passed {j['passed']}, failed {j['failed']}, errors {j['errors']}, degenerate {j['degenerate']}"
             f" (threshold class {j['threshold_class']})",
             f"- {t['cases_per_minute']} cases/min on {t['workers'] or 'no'} worker(s) ({j['executor']['kind']});"
             f" task time {t['task_s']} s: C {100 * (t['c_share'] or 0):.1f} %, candidate {100 * (t['cand_share'] or 0):.1f} %",
             f"- work bound {j['max_work']} (pixels x sources x mosaic x phi x thickness x oversample^2), "
             f"largest side {j['max_side']} px; Hypothesis {j['hypothesis_version']}", ""]
    bad = [r for r in j["cases"] if r["status"] in ("fail", "error")]
    lines += ["## Failures and errors", ""]
    if not bad:
        lines.append("none")
    else:
        lines += ["| case | status | reason | work | C s | cand s | args |", "|---|---|---|---|---|---|---|"]
        for r in bad:
            args = " ".join(r["minimal_args"] or r["args"])
            lines.append(f"| {r['case_id']} | {r['status']} | {r['reason'].replace('|', '/')} | {r['work']} | "
                         f"{_s(r['c_s'])} | {_s(r['cand_s'])} | `{args}` |")
    lines += ["", "## Verdicts by feature", "", "| feature | cases | " + " | ".join(_STATUSES) + " |",
              "|---|---|" + "---|" * len(_STATUSES)]
    for feature, counts in by_feature(j["cases"]).items():
        lines.append(f"| {feature} | {sum(counts.values())} | " + " | ".join(str(counts[s]) for s in _STATUSES) + " |")
    return "\n".join(lines) + "\n"


def write_json(report, path: str | Path) -> Path:
    """``--json F``: the campaign JSON, atomically; an existing file is never overwritten (exit 5)."""
    from parity.evidence.atomic import atomic_write_text

    p = Path(path)
    try:
        return atomic_write_text(p, json.dumps(report.to_json(), indent=1) + "\n", overwrite=False)
    except FileExistsError:
        raise ParityInputError(f"--json {p}: exists already; refusing to overwrite it") from None
    except OSError as exc:
        raise ParityInputError(f"--json {p}: cannot write ({exc.strerror or exc})") from None


def record_bundle(bundle, report) -> None:
    """The campaign's JSON and markdown, its headline numbers and status, into an open bundle."""
    j = report.to_json()
    bundle.write_json("campaign.json", j)
    bundle.write_text("campaign.md", campaign_markdown(report))
    for row in j["cases"]:           # the exact input files of every failure and error, to rerun it
        if row["status"] in ("fail", "error"):
            for name, text in report.specs[row["case_id"]].files.items():
                bundle.write_text(f"inputs/{row['case_id']}/{name}", text, scrub_paths=False)
    t = j["throughput"]
    bundle.add_metrics({k: j[k] for k in ("n_cases", "passed", "failed", "errors", "degenerate")}
                       | {"cases_per_minute": t["cases_per_minute"], "c_share": t["c_share"],
                          "cand_share": t["cand_share"], "workers": t["workers"]}, headline=True)
    bundle.add_metrics({"seed": j["seed"], "dtype": j["dtype"], "max_work": j["max_work"], "wall_s": t["wall_s"],
                        "hypothesis_version": j["hypothesis_version"]})
    bundle.set_status("failed" if report.exit_code else "passed")
