"""`pwb trace-diff` and `pwb config-diff`: compare traces / effective configurations.

Exit codes: 0 clean; 1 divergence found, candidate trace not live (inconsistent or not its image)
or less than half of the reference compared (unless --partial-ok); 2 usage error; 5 unreadable or
unparseable input. All logic lives in tracekit; this module parses arguments, renders with rich
and maps exit codes.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Tuple

import typer

from cli.bundle_opts import (BundleFlag, ReportsRootOption, SlugOption, WorkspaceOption, bundle_request,
                             in_workspace, maybe_bundle)
from cli.errors import guarded
from cli.exit_codes import Exit

_MAX_ONLY = 8


def register(app: typer.Typer) -> None:
    """Add `trace-diff` and `config-diff` to the root app."""
    app.command("trace-diff")(trace_diff)
    app.command("config-diff")(config_diff)


def trace_diff(
    ctx: typer.Context,
    ref: Path = typer.Argument(..., help="Reference trace (C trace_S_F.txt, TRACE_PY text or JSONL)."),
    cand: Path = typer.Argument(..., help="Candidate trace (same formats)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the full result as JSON (atomic; refuses to overwrite)."),
    tolerances: Optional[Path] = typer.Option(None, "--tolerances", help="YAML tolerance rules file (see tracekit/tolerance.py)."),
    show_all: bool = typer.Option(False, "--all", help="Show every aligned tap, not only failures and context."),
    pixel_mm: Optional[float] = typer.Option(None, "--pixel-mm", help="Pixel size for the half-pixel hint (default: from the trace)."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help="What the candidate computes in: float32 or float64 "
                                        "(sets the tolerance classes; default: its trace header or dialect)."),
    dialect: Optional[Path] = typer.Option(None, "--dialect", help="Dialect YAML of the candidate's trace "
                                           "(prefixes, aliases, scale, ignore; see tracekit/dialect.py)."),
    ref_dialect: Optional[Path] = typer.Option(None, "--ref-dialect", help="Dialect YAML of the reference's trace."),
    partial_ok: bool = typer.Option(False, "--partial-ok", help="Exit 0 even when less than half of the "
                                    "reference values could be compared (still reported)."),
    image: Optional[Path] = typer.Option(None, "--image", help="The candidate's float image (raw float32 "
                                         "-floatfile with --shape, or .npy): its pixel must equal the trace's final value."),
    shape: Optional[Tuple[int, int]] = typer.Option(None, "--shape", metavar="S F", help="Image size, slow then fast."),
    pixel: Optional[Tuple[int, int]] = typer.Option(None, "--pixel", metavar="S F",
                                                    help="Traced pixel, slow then fast (default: the trace's own)."),
    no_consistency: bool = typer.Option(False, "--no-consistency", help="Skip the checks that the candidate's "
                                        "taps agree with each other (see tracekit/consistency.py)."),
    bundle: BundleFlag = False, slug: SlugOption = None, reports_root: ReportsRootOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Align two pixel traces by (tap, loop index) and report the first divergence."""
    from tracekit import diff_files
    from tracekit.atomic import write_text_atomic

    with guarded("pwb trace-diff"), in_workspace(workspace):
        request = bundle_request(bundle, slug, reports_root, workspace)
        if dtype not in (None, "float32", "float64"):
            raise typer.BadParameter(f"--dtype must be float32 or float64, got {dtype!r}")
        if image is None and (shape or pixel):
            raise typer.BadParameter("--shape and --pixel go with --image")
        result = diff_files(ref, cand, tolerances=tolerances, pixel_mm=pixel_mm, dtype=dtype, dialect=dialect,
                            ref_dialect=ref_dialect, image=image, shape=shape, pixel=pixel,
                            consistency=not no_consistency)
        if json_out is not None:
            write_text_atomic(json_out, json.dumps(result.to_dict(), indent=1, allow_nan=False) + "\n")
        ok = result.ok(partial_ok=partial_ok)
        with maybe_bundle(request, kind="trace-diff", default_slug="trace-diff", ctx=ctx, inputs=[ref, cand],
                          dtype=dtype) as b:
            _record_pair(b, "trace_diff.json", result.to_dict(), ref, cand, ok)
            first = result.first
            b.add_metrics({"compared": result.compared, "divergent": result.n_divergent,
                           "first_divergence": f"{first.tap}[{first.index.label()}]" if first else None},
                          headline=True)
    _render_trace_diff(result, show_all)
    raise typer.Exit(int(Exit.OK if ok else Exit.FAILED))


def _record_pair(b, name: str, data: dict, ref: Path, cand: Path, ok: bool) -> None:
    """A comparison of two files as evidence: the result, both files as they were, pass or fail."""
    b.write_json(name, data)
    b.copy_file(ref, f"ref_{ref.name}")
    b.copy_file(cand, f"cand_{cand.name}")
    b.set_status("passed" if ok else "failed")


def config_diff(
    ctx: typer.Context,
    ref: Path = typer.Argument(..., help="Reference stdout (the C's effective-configuration printout)."),
    cand: Path = typer.Argument(..., help="Candidate stdout: simcore's printout, or any port's output "
                                "(configuration lines in its own words: 'Pivot: SAMPLE', 'Distance (mm): 100', ...)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the result as JSON (atomic; refuses to overwrite)."),
    dialect: Optional[Path] = typer.Option(None, "--dialect", help="Dialect YAML of the candidate (its config: "
                                           "section adds regex -> key patterns)."),
    ref_dialect: Optional[Path] = typer.Option(None, "--ref-dialect", help="Dialect YAML of the reference."),
    bundle: BundleFlag = False, slug: SlugOption = None, reports_root: ReportsRootOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Compare two effective-configuration printouts key by key."""
    from tracekit import config_diff_files
    from tracekit.atomic import write_text_atomic

    with guarded("pwb config-diff"), in_workspace(workspace):
        request = bundle_request(bundle, slug, reports_root, workspace)
        result = config_diff_files(ref, cand, dialect=dialect, ref_dialect=ref_dialect)
        if json_out is not None:
            write_text_atomic(json_out, json.dumps(result.to_dict(), indent=1, default=str) + "\n")
        with maybe_bundle(request, kind="config-diff", default_slug="config-diff", ctx=ctx, inputs=[ref, cand]) as b:
            _record_pair(b, "config_diff.json", json.loads(json.dumps(result.to_dict(), default=str)), ref, cand,
                         result.ok)
            b.add_metrics({"compared": result.n_compared, "different": len(result.differences),
                           "keys": ", ".join(r.key for r in result.differences[:8]) or None}, headline=True)
    _render_config_diff(result)
    raise typer.Exit(int(Exit.OK if result.ok else Exit.FAILED))


def _fmt(values) -> str:
    return " ".join(v if isinstance(v, str) else f"{v:.10g}" for v in values)


def _render_trace_diff(result, show_all: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    from cli.tables import console as make_console, narrow

    console = make_console(piped_width=200)
    short = narrow(console)         # 80 columns: the index joins the tap, no unit or rule
    keep = set(map(id, result.context)) | {id(r) for r in result.rows if r.failed}
    rows = result.rows if show_all else [r for r in result.rows if id(r) in keep]
    table = Table(title=f"trace-diff {result.ref_name} vs {result.cand_name} ({result.dtype})", show_lines=False)
    for col in (("tap", "ref", "cand", "rel err", "status") if short else
                ("tap", "index", "unit", "ref", "cand", "abs err", "rel err", "rule", "status")):
        table.add_column(col, overflow="fold")
    for r in rows:
        style = "bold red" if r is result.first else ("red" if r.failed else ("dim" if r.status == "ignored" else None))
        status = r.status + (f" ({', '.join(r.defects)})" if r.defects else "")
        index = r.index.label()
        cells = ((r.tap + ("" if index == "-" else f" [{index}]"), _fmt(r.ref), _fmt(r.cand), f"{r.rel_err:.3g}",
                  status) if short else
                 (r.tap, index, r.unit, _fmt(r.ref), _fmt(r.cand), f"{r.abs_err:.3g}", f"{r.rel_err:.3g}", r.rule,
                  status))
        table.add_row(*map(escape, cells), style=style)
    if rows:
        console.print(table)
    console.print(f"compared {result.compared} of {result.reference_total} reference values ({result.dtype} "
                  f"tolerances), {result.n_divergent} divergent; only in ref: {len(result.only_in_ref)}, "
                  f"only in cand: {len(result.only_in_cand)}; candidate lines skipped: {result.skipped_lines}",
                  markup=False)
    for label, keys in (("only in ref", result.only_in_ref), ("only in cand", result.only_in_cand)):
        if keys:
            shown = ", ".join(f"{t}[{i.label()}]" for t, i in keys[:_MAX_ONLY])
            console.print(f"  {label}: {shown}" + (" ..." if len(keys) > _MAX_ONLY else ""), markup=False)
    if result.not_compared:
        console.print(f"  not compared: {', '.join(result.not_compared)}", markup=False)
    if result.extra_taps:
        console.print(f"  extra candidate taps (not in the catalogue): {', '.join(result.extra_taps)}", markup=False)
    for note in result.notes:
        label = "known C-trace defect applied" if note.startswith("KD-") else "note"
        console.print(f"  {label}: {note}", markup=False)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    cons, closure = result.consistency, result.closure
    if cons is not None:
        console.print(f"consistency: {len(cons.checks)} checks, " + ("all agree" if cons.ok else
                      f"{len(cons.failing)} disagree ({', '.join(cons.disagreeing)})"), markup=False)
    if closure is not None:
        state = {True: "ok", False: "FAILED", None: "not checked"}[closure.ok]
        console.print(f"closure: pixel ({closure.pixel[0]}, {closure.pixel[1]}) trace {closure.tap}="
                      f"{closure.trace_value} image={closure.image_value}: {state} {closure.note}", markup=False)
    if not result.live:
        console.print("[bold red]candidate trace is not the live computation[/bold red]")
    if result.first is None:
        console.print("[green]no divergence[/green]" if result.live else "no divergence claimed")
        return
    f = result.first
    label = "first divergence" if result.live else "first disagreeing tap"
    console.print(f"[bold red]{label}:[/bold red] " + escape(
        f"{f.tap}[{f.index.label()}] ({f.unit}) ref={_fmt(f.ref)} cand={_fmt(f.cand)} "
        f"abs={f.abs_err:.3g} rel={f.rel_err:.3g} rule {f.rule}"), highlight=False)
    if result.hint is not None:
        console.print(f"hint [{result.hint.cls}]: {result.hint.text}", markup=False)
        console.print(f"check: {result.hint.check}", markup=False)


def _render_config_diff(result) -> None:
    from rich.markup import escape
    from rich.table import Table

    from cli.tables import console as make_console

    console = make_console(piped_width=200)
    if result.differences:
        table = Table(title="config-diff: differing keys")
        for col in ("key", "ref", "cand", "rel err"):
            table.add_column(col, overflow="fold")
        for r in result.differences:
            table.add_row(*(escape(str(c)) for c in (r.key, r.ref, r.cand, f"{r.rel_err:.3g}")), style="red")
        console.print(table)
    console.print(f"compared {result.n_compared} keys, {len(result.differences)} different; "
                  f"only in ref: {result.only_in_ref or '-'}; only in cand: {result.only_in_cand or '-'}", markup=False)
    for side, keys in result.words.items():
        console.print(f"  {side} keys read from its own words: {', '.join(keys)}", markup=False)
    if not result.strict:
        console.print("  (a printout in other words: keys on one side only are listed, not judged)", markup=False)
    console.print("[green]configurations match[/green]" if result.ok else "[red]configurations differ[/red]")
