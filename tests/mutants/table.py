"""The mutant table: every mutant through nb-compare and trace-diff against the live C.

    python -m tests.mutants.table [--c-bin C] [--c-trace-bin CT] [--json OUT] [--workdir DIR] [-k NAME ...]
    python tests/mutants/table.py ...                      (same)

For each mutant of expected.yaml: (a) ``nb-compare`` at its defaults, the C as reference and the
mutant as candidate (``--py-cmd "python tests/mutants/port.py NAME"`` when nb-compare has it, else a
generated ``--py-bin`` wrapper); (b) the traced pixel on the instrumented C (``-trace_pixel S F``)
and on the mutant, then ``pwb trace-diff C_TRACE MUTANT_TRACE --dialect tests/mutants/dialect.yaml
--dtype float32 --partial-ok --image MUTANT.bin --shape S F --pixel S F --json OUT`` (options the
installed trace-diff lacks are left out, and said so); (c) the verdict against expected.yaml.
Prints the table and writes it as JSON. Exit: 0 the done-when holds (every image defect caught,
≥ 90 % located), 1 it does not, 2 usage (no C binary, unknown mutant, existing --json file).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.mutants.expect import (Divergence, Expectation, Row, divergence_from_json, judge,  # noqa: E402
                                  load_expected, summarize)

HERE = Path(__file__).resolve().parent
PORT = HERE / "port.py"
DIALECT = HERE / "dialect.yaml"
TRACE_DIFF_OPTIONS = ("--dialect", "--dtype", "--partial-ok", "--image")
TIMEOUT_S = 300


def _tool(name: str) -> str:
    """A console script of this environment (beside the interpreter), else from PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found beside {sys.executable} or on PATH")
    return found


def _help_text(cmd: list[str]) -> str:
    env = {**os.environ, "COLUMNS": "250", "TERM": "dumb", "NO_COLOR": "1"}
    proc = subprocess.run([*cmd, "--help"], capture_output=True, text=True, env=env, timeout=120)
    return proc.stdout + proc.stderr


def probe_tools() -> dict:
    """Which interface features the installed nb-compare and trace-diff have."""
    nb, pwb = _tool("nb-compare"), _tool("pwb")
    nb_help, td_help = _help_text([nb]), _help_text([pwb, "trace-diff"])
    return {"nb_compare": nb, "pwb": pwb, "py_cmd": "--py-cmd" in nb_help,
            "trace_diff": {opt: opt in td_help for opt in TRACE_DIFF_OPTIONS}}


def port_command(name: str) -> list[str]:
    """The mutant as a separate command (absolute paths: runners start in fresh temp dirs)."""
    return [sys.executable, str(PORT), name]


def _wrapper(name: str, folder: Path) -> Path:
    path = folder / f"port_{name}.sh"
    path.write_text(f'#!/bin/sh\nexec {shlex.join(port_command(name))} "$@"\n')
    path.chmod(0o755)
    return path


def _run(cmd: list[str], cwd: Path, out: Path | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)
    if out is not None:
        out.write_text(proc.stdout + proc.stderr)
    return proc


def run_nb_compare(exp: Expectation, tools: dict, c_bin: str, folder: Path) -> tuple[int, list, dict]:
    """(exit code, failed gate names, summary.json) of nb-compare at its defaults."""
    outdir = folder / "nb-compare"
    if tools["py_cmd"]:
        py = ["--py-cmd", shlex.join(port_command(exp.name))]
    else:
        py = ["--py-bin", str(_wrapper(exp.name, folder))]
    proc = _run([tools["nb_compare"], "--outdir", str(outdir), "--c-bin", c_bin, *py, "--", *exp.args],
                folder, folder / "nb-compare.log")
    summary_path = outdir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    failed = [g.get("name") for g in summary.get("gates", []) if not g.get("passed", True)]
    return proc.returncode, failed, summary


def trace_both(exp: Expectation, c_trace_bin: str, folder: Path) -> tuple[Path, Path, Path, str]:
    """Trace the pixel on the C and on the mutant (its own image too, for closure)."""
    s, f = (str(v) for v in exp.pixel)
    c_dir, m_dir = folder / "c_trace", folder / "mutant_trace"
    c_dir.mkdir()
    m_dir.mkdir()
    c_trace, m_trace, m_image = folder / "c_trace.txt", folder / "mutant_trace.txt", m_dir / "mutant.bin"
    _run([c_trace_bin, *exp.args, "-trace_pixel", s, f], c_dir, c_trace)
    proc = _run([*port_command(exp.name), *exp.args, "-trace_pixel", s, f, "-floatfile", str(m_image)],
                m_dir, m_trace)
    note = "" if proc.returncode == 0 else f"mutant trace run exited {proc.returncode}"
    return c_trace, m_trace, m_image, note


def run_trace_diff(exp: Expectation, tools: dict, c_trace: Path, m_trace: Path, m_image: Path,
                   folder: Path) -> Divergence:
    from parity.images.io import shape_from_nanobragg_args

    have = tools["trace_diff"]
    out = folder / "trace-diff.json"
    cmd = [tools["pwb"], "trace-diff", str(c_trace), str(m_trace), "--json", str(out)]
    if have["--dialect"]:
        cmd += ["--dialect", str(DIALECT)]
    if have["--dtype"]:
        cmd += ["--dtype", "float32"]
    if have["--partial-ok"]:
        cmd.append("--partial-ok")
    if have["--image"] and m_image.exists():
        shape = shape_from_nanobragg_args(list(exp.args))
        cmd += ["--image", str(m_image), "--shape", *map(str, shape), "--pixel", *map(str, exp.pixel)]
    proc = _run(cmd, folder, folder / "trace-diff.log")
    if not out.exists():
        last = (proc.stderr or proc.stdout).strip().splitlines()
        return Divergence("error", "?", exit_code=proc.returncode, note=last[-1] if last else "no output")
    return divergence_from_json(json.loads(out.read_text()), proc.returncode)


def build_table(names: list[str] | None = None, *, c_bin: str, c_trace_bin: str, workdir: Path | None = None,
                tools: dict | None = None, log=None) -> dict:
    """Run every (or the named) mutant; returns {tools, rows, summary} (rows as dicts)."""
    expected = load_expected()
    unknown = [n for n in names or [] if n not in expected]
    if unknown:
        raise KeyError(f"unknown mutant(s) {', '.join(unknown)} (known: {', '.join(expected)})")
    tools = tools or probe_tools()
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="mutant-table-"))
    root.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    for name in names or list(expected):
        exp = expected[name]
        folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
        t0 = time.monotonic()
        nb_exit, failed, summary = run_nb_compare(exp, tools, c_bin, folder)
        c_trace, m_trace, m_image, note = trace_both(exp, c_trace_bin, folder)
        div = run_trace_diff(exp, tools, c_trace, m_trace, m_image, folder)
        row = judge(exp, nb_exit=nb_exit, nb_failed=failed or _old_style_failure(summary), divergence=div,
                    oracle_tap=_oracle(c_trace, m_trace))
        if note:
            row.notes.append(note)
        rows.append(row)
        if log:
            log(f"{name}: nb-compare {nb_exit}, trace-diff {div.tap}/{div.hint} ({time.monotonic() - t0:.1f} s)")
    return {"tools": tools, "c_bin": c_bin, "c_trace_bin": c_trace_bin, "workdir": str(root),
            "rows": [r.to_dict() for r in rows],
            "summary": summarize(rows)}


def _oracle(c_trace: Path, m_trace: Path) -> str:
    from tests.mutants.oracle import oracle_divergence

    try:
        return oracle_divergence(c_trace, m_trace.read_text().splitlines())
    except Exception as exc:  # noqa: BLE001 - a C trace the parser rejects is a table entry, not a crash
        return f"error: {type(exc).__name__}"


def _old_style_failure(summary: dict) -> list:
    """Without registry gates (an older nb-compare), say what it judged on."""
    corr = summary.get("correlation")
    return [f"correlation={corr:.6g}"] if "gates" not in summary and isinstance(corr, (int, float)) else []


COLUMNS = (("mutant", 25), ("class", 22), ("nb", 3), ("tap (expected)", 22), ("tap (actual)", 22),
           ("hint (expected)", 18), ("hint (actual)", 18), ("ok", 3), ("oracle tap", 22))


def render(table: dict) -> str:
    """The table as fixed-width text, with the done-when line."""
    def cell(text, width):
        text = str(text)
        return text if len(text) <= width else text[:width - 1] + "~"

    lines = ["  ".join(cell(h, w).ljust(w) for h, w in COLUMNS)]
    for r in table["rows"]:
        values = (r["name"], r["klass"], r["nb_exit"], r["expected_tap"],
                  ("" if r["tap_ok"] else "!") + r["tap"], r["expected_hint"],
                  ("" if r["hint_ok"] else "!") + r["hint"], "yes" if r["ok"] else "no",
                  "-" if r["oracle_tap"] is None else ("" if r["oracle_ok"] else "!") + r["oracle_tap"])
        lines.append("  ".join(cell(v, w).ljust(w) for v, (_, w) in zip(values, COLUMNS)))
    s = table["summary"]
    lines.append(f"image defects caught by nb-compare (exit 3): {s['image_defects_caught']}/{s['image_defects']}; "
                 f"located (tap + hint): {s['located']}/{s['mutants']} ({100 * s['located_fraction']:.0f} %, "
                 f"need {100 * s['located_min_fraction']:.0f} %); done: {'yes' if s['done'] else 'no'}; "
                 f"oracle at an expected tap: {s['oracle_ok']}/{s['mutants']}")
    return "\n".join(lines)


def _write_json(path: Path, data: dict, *, force: bool) -> None:
    if path.exists() and not force:
        raise FileExistsError(f"refusing to overwrite {path} (use --force)")
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _bundle(table: dict, argv: list[str]) -> str:
    """The table as an evidence bundle in the workspace (table.md, table.json, headline counts)."""
    from parity.evidence.bundle import open_bundle

    with open_bundle(kind="mutant-table", slug="mutant-detection-table", argv=argv,
                     config={"c_bin": table.get("c_bin"), "c_trace_bin": table.get("c_trace_bin")}) as b:
        text = render(table)
        b.write_text("table.md", text + "\n")
        b.write_json("table.json", table)
        b.add_metrics({k: v for k, v in table["summary"].items() if isinstance(v, (int, float, bool))}, headline=True)
        b.set_status("passed" if table["summary"]["done"] else "failed")
        b.set_story("## Mutant detection: nb-compare at its defaults, trace-diff's first tap and hint\n\n```\n"
                    + text + "\n```\n")
    return b.id


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.mutants.table", description=__doc__.split("\n\n")[0])
    p.add_argument("--c-bin", default=os.environ.get("NB_C_BIN"), help="the C (default $NB_C_BIN)")
    p.add_argument("--c-trace-bin", default=os.environ.get("NB_C_TRACE_BIN"),
                   help="the instrumented C (default $NB_C_TRACE_BIN, else --c-bin)")
    p.add_argument("--json", type=Path, help="write the table as JSON here")
    p.add_argument("--force", action="store_true", help="replace an existing --json file")
    p.add_argument("--workdir", type=Path, help="keep every run's files here (default: a temp dir)")
    p.add_argument("-k", dest="names", action="append", help="only this mutant (repeatable)")
    p.add_argument("--bundle", action="store_true", help="also write the table as a bundle in the workspace")
    a = p.parse_args(argv)
    c_trace = a.c_trace_bin or a.c_bin
    if not a.c_bin:
        print("table: no C binary: give --c-bin or set NB_C_BIN", file=sys.stderr)
        return 2
    if a.json is not None and a.json.exists() and not a.force:
        print(f"table: refusing to overwrite {a.json} (use --force)", file=sys.stderr)
        return 2
    try:
        table = build_table(a.names, c_bin=a.c_bin, c_trace_bin=c_trace, workdir=a.workdir,
                            log=lambda msg: print(msg, file=sys.stderr))
    except (KeyError, FileNotFoundError) as exc:
        print(f"table: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    print(render(table))
    if a.json is not None:
        _write_json(a.json, table, force=a.force)
    if a.bundle:
        print(f"bundle: {_bundle(table, sys.argv if argv is None else ['table', *argv])}", file=sys.stderr)
    return 0 if table["summary"]["done"] else 1


if __name__ == "__main__":
    sys.exit(main())
