"""The triage table: ``pwb triage`` and ``pwb shrink`` on every mutant, judged against expected.yaml.

    python -m tests.mutants.triage_table [--mutants DIR] [--c-bin C --c-trace-bin CT | --ref simcore]
        [-k NAME ...] [--pixels N] [--budget N] [--workers W] [--no-shrink] [--json OUT] [--bundle]
        [--workspace DIR] [--from-json TABLE.json]

For each mutant of ``DIR/expected.yaml`` (default: this folder): (a) the triage of the mutant
(``python DIR/port.py NAME``, its dialect ``DIR/dialect.yaml``) against the reference (the live C
and its instrumented build; ``--ref simcore`` without a C: simcore is the C's image to the registry's
gates on these cases); (b) the shrink of its argument list. Judged:

* triage: an image defect must fail (exit 1 or 3) and name the expected class — the cause's defect
  class is the mutant's class (or its first part before `` / ``), or its hint class is one of the
  expected hints; *located* when the triage exits 1. A mutant without an image defect must pass (0).
* shrink: the minimal list still fails, keeps at least one trigger flag (expected ``trigger_flags``;
  dropping all of them makes the defect vanish) and no flag it could drop: every remaining removable
  flag is needed (removing it passes, breaks the reference or changes the failure). A mutant without
  an image defect has nothing to shrink.

``--from-json`` judges and renders a table written before (no runs). Prints the table (markdown),
writes it as JSON, and with ``--bundle`` as an evidence bundle
(kind ``triage-table``: table.md in its summary, every triage and shrink JSON beside it). Exit: 0
every row ok, 1 some row not, 2 usage (no reference, unknown mutant, existing --json).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

HERE = Path(__file__).resolve().parent


def load_mutants(folder: Path) -> dict:
    import yaml

    data = yaml.safe_load((folder / "expected.yaml").read_text())["mutants"]
    return {name: {**e, "args": shlex.split(e["args"]), "trigger_flags": list(e.get("trigger_flags") or []),
                   "hints_ok": [e["hint"], *(e.get("hint_also_ok") or [])]} for name, e in data.items()}


def class_ok(exp: dict, cause: dict | None) -> bool:
    if not cause:
        return False
    klass = exp["class"]
    return (cause.get("defect_class") in (klass, klass.split(" / ")[0]) or cause.get("class") in exp["hints_ok"])


def _spec(name: str, folder: Path, ref: dict, workspace: Path):
    from parity.triage.pair import PairSpec

    return PairSpec(**ref, cand_cmd=shlex.join([sys.executable, str(folder / "port.py"), name]),
                    cand_dialect=folder / "dialect.yaml", workspace=str(workspace))


def run_row(name: str, exp: dict, *, folder: Path, ref: dict, workspace: Path, work: Path, pixels: int,
            budget: int, workers: int, shrink: bool) -> dict:
    from parity.triage.shrink_run import ShrinkOptions, plan_shrink, run_shrink
    from parity.triage.triage import TriageOptions, plan_triage, run_triage

    spec = _spec(name, folder, ref, workspace)
    t0 = time.monotonic()
    tri = run_triage(plan_triage(TriageOptions(args=tuple(exp["args"]), pair=spec, n_pixels=pixels, workers=workers)),
                     workdir=work / f"{name}-triage")
    row = {"name": name, "triage": tri.to_dict(), "triage_s": round(time.monotonic() - t0, 1), "shrink": None}
    if shrink:
        t1 = time.monotonic()
        sr = run_shrink(plan_shrink(ShrinkOptions(args=tuple(exp["args"]), pair=spec, budget=budget,
                                                  workers=workers)), workdir=work / f"{name}-shrink")
        row.update(shrink=sr.to_dict(), shrink_s=round(time.monotonic() - t1, 1))
    return judge_row(exp, row)


def _flags(tokens) -> list[str]:
    return [t for t in tokens if t.startswith("-") and not t[1:2].isdigit() and t[1:2] != "."]


def judge_row(exp: dict, row: dict) -> dict:
    """The verdicts of one row from its triage and shrink JSON (module docstring)."""
    d, s = row["triage"], row.get("shrink")
    cause, agg = d.get("cause") or {}, d.get("aggregate") or {}
    code = d["exit_code"]
    triage_ok = (code in (1, 3) and class_ok(exp, cause)) if exp["image_defect"] else code == 0
    row.update(name=row["name"], **{"class": exp["class"]}, image_defect=exp["image_defect"], triage_exit=code,
               cause_class=cause.get("class"), defect_class=cause.get("defect_class"),
               cause_source=cause.get("source"), tap=agg.get("tap"), located=code == 1, triage_ok=triage_ok,
               shrink_ok=None)
    if s is not None:
        kept, given, triggers = _flags(s["minimal_args"]), _flags(exp["args"]), exp["trigger_flags"]
        unneeded = [u["unit"] for u in s["necessary"] if u["removable"] and u["needed"] is False]
        if exp["image_defect"]:
            ok = s["reproduced"] and (not triggers or any(t in kept for t in triggers)) and not unneeded
        else:
            ok = not s["reproduced"]
        row.update(shrink_ok=ok, minimal_args=s["minimal_args"], shrink_runs=s["runs"], sentence=s["sentence"],
                   dropped=[f for f in given if f not in kept], unneeded_kept=unneeded)
    return row


def summarize(rows: list[dict]) -> dict:
    image = [r for r in rows if r["image_defect"]]
    shrunk = [r for r in rows if r["shrink_ok"] is not None]
    return {"mutants": len(rows), "triage_ok": sum(r["triage_ok"] for r in rows),
            "located": sum(r["located"] for r in image), "image_defects": len(image),
            "shrink_ok": sum(bool(r["shrink_ok"]) for r in shrunk), "shrunk": len(shrunk),
            "done": all(r["triage_ok"] for r in rows) and all(r["shrink_ok"] for r in shrunk)}


def render(table: dict) -> str:
    lines = ["| mutant | class | triage | cause (source) | first tap | ok | shrink: minimal list | what it needs | ok |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in table["rows"]:
        minimal = shlex.join(r.get("minimal_args") or []) if r["shrink"] else "-"
        lines.append(f"| {r['name']} | {r['class']} | {r['triage_exit']} | {r['defect_class']} ({r['cause_class']},"
                     f" {r['cause_source']}) | {r['tap'] or '-'} | {'yes' if r['triage_ok'] else '**no**'} |"
                     f" `{minimal}` | {r.get('sentence') or '-'} |"
                     f" {'-' if r['shrink_ok'] is None else ('yes' if r['shrink_ok'] else '**no**')} |")
    s = table["summary"]
    lines += ["", f"triage names the expected class: {s['triage_ok']}/{s['mutants']} (located, exit 1:"
                  f" {s['located']}/{s['image_defects']} image defects); shrink keeps a trigger and no flag it could drop"
                  f": {s['shrink_ok']}/{s['shrunk']}; done: {'yes' if s['done'] else 'no'}"]
    return "\n".join(lines)


def build_table(names=None, *, folder: Path = HERE, ref: dict, workspace: Path, pixels: int = 4, budget: int = 40,
                workers: int = 2, shrink: bool = True, log=None) -> dict:
    mutants = load_mutants(folder)
    unknown = [n for n in names or [] if n not in mutants]
    if unknown:
        raise KeyError(f"unknown mutant(s) {', '.join(unknown)} (known: {', '.join(mutants)})")
    rows = []
    with tempfile.TemporaryDirectory(prefix="triage-table-") as tmp:
        for name in names or list(mutants):
            row = run_row(name, mutants[name], folder=folder, ref=ref, workspace=workspace, work=Path(tmp),
                          pixels=pixels, budget=budget, workers=workers, shrink=shrink)
            rows.append(row)
            if log:
                log(f"{name}: triage {row['triage_exit']} {row['defect_class']} ({'ok' if row['triage_ok'] else 'NOT ok'})"
                    + (f"; shrink {row['shrink_runs']} runs ({'ok' if row['shrink_ok'] else 'NOT ok'})"
                       if row["shrink"] else ""))
    return {"reference": ref, "mutants_dir": str(folder), "rows": rows, "summary": summarize(rows)}


def _bundle(table: dict, workspace: Path, argv: list[str]) -> str:
    from parity.evidence.bundle import open_bundle
    from parity.evidence.workspace import resolve_workspace

    ws = resolve_workspace(workspace)
    with open_bundle(kind="triage-table", slug="mutant-triage-table", argv=argv, reports_root=ws.reports,
                     config={"reference": table["reference"], "mutants_dir": table["mutants_dir"]}) as b:
        text = render(table)
        b.write_text("table.md", text + "\n")
        b.write_json("table.json", {**table, "rows": [{k: v for k, v in r.items() if k not in ("triage", "shrink")}
                                                       for r in table["rows"]]})
        for r in table["rows"]:
            b.write_json(f"triage/{r['name']}.json", r["triage"])
            if r["shrink"]:
                b.write_json(f"shrink/{r['name']}.json", r["shrink"])
        b.add_metrics(table["summary"], headline=True)
        b.set_status("passed" if table["summary"]["done"] else "failed")
        b.set_story("## The mutant table\n\n" + text + "\n")
    return b.id


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.mutants.triage_table", description=__doc__.split("\n\n")[0])
    p.add_argument("--mutants", type=Path, default=HERE, help="folder with expected.yaml, port.py, dialect.yaml")
    p.add_argument("--c-bin", default=os.environ.get("NB_C_BIN"), help="the C (default $NB_C_BIN)")
    p.add_argument("--c-trace-bin", default=os.environ.get("NB_C_TRACE_BIN"), help="its instrumented build")
    p.add_argument("--ref", help="a reference port instead of the C (e.g. simcore)")
    p.add_argument("-k", dest="names", action="append", help="only this mutant (repeatable)")
    p.add_argument("--pixels", type=int, default=4)
    p.add_argument("--budget", type=int, default=40, help="shrink budget (comparisons) per mutant")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--no-shrink", action="store_true")
    p.add_argument("--json", type=Path)
    p.add_argument("--bundle", action="store_true", help="write the table as an evidence bundle")
    p.add_argument("--workspace", type=Path, default=Path.cwd())
    p.add_argument("--from-json", type=Path, help="judge and render a table JSON written before (no runs)")
    a = p.parse_args(argv)
    if a.from_json is not None:
        table = rejudge(json.loads(a.from_json.read_text()))
        return _finish(table, a, argv)
    if a.ref:
        ref = {"ref": a.ref}
    elif a.c_bin:
        ref = {"c_bin": a.c_bin, "c_trace_bin": a.c_trace_bin}
    else:
        print("triage_table: no reference: give --c-bin (or set NB_C_BIN), or --ref simcore", file=sys.stderr)
        return 2
    if a.json is not None and a.json.exists():
        print(f"triage_table: refusing to overwrite {a.json}", file=sys.stderr)
        return 2
    try:
        table = build_table(a.names, folder=a.mutants.resolve(), ref=ref, workspace=a.workspace, pixels=a.pixels,
                            budget=a.budget, workers=a.workers, shrink=not a.no_shrink,
                            log=lambda m: print(m, file=sys.stderr, flush=True))
    except KeyError as exc:
        print(f"triage_table: {exc.args[0]}", file=sys.stderr)
        return 2
    return _finish(table, a, argv)


def rejudge(table: dict) -> dict:
    """The rows of a table JSON judged again (the judgement of this version of the module)."""
    mutants = load_mutants(Path(table["mutants_dir"]))
    rows = [judge_row(mutants[r["name"]], r) for r in table["rows"]]
    return {**table, "rows": rows, "summary": summarize(rows)}


def _finish(table: dict, a, argv) -> int:
    print(render(table))
    if a.json is not None:
        if a.json.exists():
            print(f"triage_table: refusing to overwrite {a.json}", file=sys.stderr)
            return 2
        a.json.write_text(json.dumps(table, indent=1, sort_keys=True, default=str) + "\n")
    if a.bundle:
        print(f"bundle: {_bundle(table, a.workspace, ['python', '-m', 'tests.mutants.triage_table', *(argv or sys.argv[1:])])}",
              file=sys.stderr)
    return 0 if table["summary"]["done"] else 1


if __name__ == "__main__":
    sys.exit(main())
