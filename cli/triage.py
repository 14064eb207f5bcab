"""``pwb triage``: compare two ports, classify the difference, trace pixels on both sides, name the cause.

    pwb triage [--ref PORT | --ref-cmd CMD | --c-bin C] [--c-trace-bin CT] (--cand PORT | --cand-cmd CMD)
               [--pixels N] [--workers W] [--bundle [--slug S]] [--fixplan ITEM] [--json F]
               [--workspace DIR] -- ARGS...

Exit codes: 0 the comparison passes the registry gates · 1 a divergence located (traced first
divergence, a geometric difference, or a configuration key) · 2 usage · 3 it fails but nothing
located it (a runner failed, nothing traced, an image class alone) · 5 unreadable input or a port
that cannot be started. The work is in parity.triage; this module parses, shows progress and renders.
The port options (shared with ``pwb shrink``) and the progress display live here.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cli.bundle_opts import (BundleFlag, ReportsRootOption, SlugOption, WorkspaceOption, bundle_request, in_workspace,
                              maybe_bundle)
from cli.errors import guarded

ArgsArg = Annotated[Optional[List[str]], typer.Argument(metavar="-- ARGS...", help="nanoBragg arguments, given"
                                                        " unchanged to both ports.")]
RefOpt = Annotated[Optional[str], typer.Option("--ref", metavar="PORT", help="Reference port: c (default),"
                                               " c-trace, simcore or a profile name.")]
RefCmdOpt = Annotated[Optional[str], typer.Option("--ref-cmd", metavar="CMD", help="Reference as a whole command"
                                                  " line (shell-split; ARGS are appended).")]
CandOpt = Annotated[Optional[str], typer.Option("--cand", metavar="PORT", help="Candidate port: simcore"
                                                " (default), c, c-trace or a profile name.")]
CandCmdOpt = Annotated[Optional[str], typer.Option("--cand-cmd", metavar="CMD", help="Candidate as a whole command"
                                                   " line, e.g. \"python -m theirport\".")]
CBinOpt = Annotated[Optional[Path], typer.Option("--c-bin", metavar="C", help="The C binary (else $NB_C_BIN,"
                                                 " else ./nanoBragg).")]
CTraceOpt = Annotated[Optional[Path], typer.Option("--c-trace-bin", metavar="CT", help="The C's instrumented"
                                                   " build, which traces (else $NB_C_TRACE_BIN).")]
RefTraceOpt = Annotated[Optional[str], typer.Option("--ref-trace-args", metavar="TEMPLATE", help="How --ref-cmd"
                        " traces one pixel (default \"-trace_pixel {slow} {fast}\"; \"\" = it cannot).")]
CandTraceOpt = Annotated[Optional[str], typer.Option("--cand-trace-args", metavar="TEMPLATE", help="How --cand-cmd"
                         " traces one pixel (default \"-trace_pixel {slow} {fast}\"; \"\" = it cannot).")]
RefDialectOpt = Annotated[Optional[Path], typer.Option("--ref-dialect", metavar="FILE", help="tracekit dialect"
                                                       " of the reference's trace and printout.")]
CandDialectOpt = Annotated[Optional[Path], typer.Option("--cand-dialect", metavar="FILE", help="tracekit dialect"
                                                        " of the candidate's trace and printout.")]
DtypeOpt = Annotated[Optional[str], typer.Option("--dtype", help="float32|float64, passed as -dtype to simcore and"
                                                 " to a candidate that is not the C.")]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", help="cpu|cuda, passed as -device (as --dtype).")]
TimeoutOpt = Annotated[Optional[float], typer.Option("--timeout", metavar="S", help="Kill a run after S seconds"
                                                     " (default: nb-compare's, proportional to the work).")]
ClassOpt = Annotated[Optional[str], typer.Option("--threshold-class", metavar="NAME", help="Registry class whose"
                                                 " gates judge the images (default GOLDEN-IMAGE).")]
WorkersOpt = Annotated[int, typer.Option("--workers", metavar="W", help="Runs at the same time (threads; each run"
                                         " is its own process).")]
JsonOpt = Annotated[Optional[Path], typer.Option("--json", metavar="F", help="Write the result as JSON (a new file).")]
WorkspaceOpt = WorkspaceOption      # the project: port profiles, reports/, plans/, the case file


def pair_spec(*, ref, ref_cmd, cand, cand_cmd, c_bin, c_trace_bin, workspace, dtype, device, timeout,
              threshold_class, ref_trace_args, cand_trace_args, ref_dialect, cand_dialect):
    """The shared port options as a :class:`parity.triage.pair.PairSpec`."""
    from parity.triage.pair import PairSpec

    return PairSpec(ref=ref, ref_cmd=ref_cmd, cand=cand, cand_cmd=cand_cmd, c_bin=str(c_bin) if c_bin else None,
                    c_trace_bin=str(c_trace_bin) if c_trace_bin else None,
                    workspace=str(workspace) if workspace else None, dtype=dtype, device=device, timeout_s=timeout,
                    threshold_class=threshold_class, ref_trace_args=ref_trace_args, cand_trace_args=cand_trace_args,
                    ref_dialect=ref_dialect.resolve() if ref_dialect else None,
                    cand_dialect=cand_dialect.resolve() if cand_dialect else None)


class RichProgress:
    """Progress on a terminal: each stage printed as it starts, a spinner and bar for the runs."""

    def __init__(self, title: str):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True),
                                 transient=True)
        self.task = None
        self.title = title

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def stage(self, text: str) -> None:
        from rich.markup import escape

        self.progress.console.print(f"[bold]{self.title}[/bold] {escape(text)}", highlight=False)
        if self.task is None:
            self.task = self.progress.add_task(escape(text), total=None)
        else:
            self.progress.update(self.task, description=escape(text), total=None, completed=0)

    def advance(self, text: str, done: int, total: int | None) -> None:
        from rich.markup import escape

        if self.task is None:
            self.task = self.progress.add_task(escape(text), total=total)
        self.progress.update(self.task, description=escape(text), completed=done, total=total)


class _Plain:
    def __init__(self, title: str):
        from parity.triage.progress import LineProgress

        self.line = LineProgress(sys.stderr, prefix=title)

    def __enter__(self):
        return self.line

    def __exit__(self, *exc) -> None:
        return None


def progress_display(title: str):
    """A context manager giving the progress object: rich on a terminal, plain lines otherwise."""
    return RichProgress(title) if sys.stderr.isatty() else _Plain(title)


def check_new_file(path: Optional[Path], option: str) -> None:
    from parity.errors import ParityUsageError

    if path is not None and path.exists():
        raise ParityUsageError(f"{option} {path}: exists already; refusing to overwrite it")


def register(app: typer.Typer) -> None:
    app.command("triage")(triage)


def triage(
    ctx: typer.Context, args: ArgsArg = None, ref: RefOpt = None, ref_cmd: RefCmdOpt = None, cand: CandOpt = None,
    cand_cmd: CandCmdOpt = None, c_bin: CBinOpt = None, c_trace_bin: CTraceOpt = None,
    ref_trace_args: RefTraceOpt = None, cand_trace_args: CandTraceOpt = None, ref_dialect: RefDialectOpt = None,
    cand_dialect: CandDialectOpt = None, dtype: DtypeOpt = None, device: DeviceOpt = None, timeout: TimeoutOpt = None,
    threshold_class: ClassOpt = None,
    pixels: Annotated[int, typer.Option("--pixels", metavar="N", help="Pixels to trace (1-16).")] = 4,
    shells: Annotated[int, typer.Option("--shells", metavar="K", help="Radial shells for the radial class.")] = 5,
    workers: WorkersOpt = 2,
    fixplan: Annotated[Optional[str], typer.Option("--fixplan", metavar="ITEM", help="Record the triage as an"
                       " attempt of this fix-plan item (implies --bundle).")] = None,
    json_out: JsonOpt = None, bundle: BundleFlag = False, slug: SlugOption = None,
    reports_root: ReportsRootOption = None, workspace: WorkspaceOpt = None,
) -> None:
    """Compare two ports on ARGS and, when the registry gates fail, find out why: configuration diff,
    difference-image classes, pixels traced and diffed on both sides, the cause and what to check
    next. Exit: 0 pass, 1 divergence located, 2 usage, 3 failed but not located, 5 bad input."""
    with guarded("pwb triage"), in_workspace(workspace):
        from parity.evidence.workspace import resolve_workspace
        from parity.triage.record import record_fixplan_attempt, record_triage_bundle
        from parity.triage.pair import port_label
        from parity.triage.triage import TriageOptions, plan_triage, run_triage

        check_new_file(json_out, "--json")
        ws = resolve_workspace(workspace)
        request = bundle_request(bundle or fixplan is not None, slug, reports_root, workspace)
        if fixplan is not None:
            _check_item(fixplan, ws)
        spec = pair_spec(ref=ref, ref_cmd=ref_cmd, cand=cand, cand_cmd=cand_cmd, c_bin=c_bin, c_trace_bin=c_trace_bin,
                         workspace=ws.root, dtype=dtype, device=device, timeout=timeout,
                         threshold_class=threshold_class, ref_trace_args=ref_trace_args,
                         cand_trace_args=cand_trace_args, ref_dialect=ref_dialect, cand_dialect=cand_dialect)
        plan = plan_triage(TriageOptions(args=tuple(args or ()), pair=spec, n_pixels=pixels, workers=workers,
                                         n_shells=shells))
        with tempfile.TemporaryDirectory(prefix="pwb-triage-") as tmp, progress_display("triage") as progress:
            with maybe_bundle(request, kind="triage", default_slug=_slug(port_label(plan.pair.cand.port)), ctx=ctx,
                              inputs=plan.pair.plan.inputs, binaries=[plan.pair.ref.executable,
                                                                      plan.pair.cand.executable],
                              config={"args": list(plan.args), "ports": plan.pair.describe()},
                              dtype=plan.pair.plan.dtype, device=plan.pair.plan.device) as b:
                result = run_triage(plan, workdir=Path(tmp), progress=progress)
                record_triage_bundle(b, result)
            d = result.to_dict()
            d["bundle"] = b.id
        if json_out is not None:
            from parity.images.io import write_json_atomic

            write_json_atomic(json_out, d)
        attempt = None
        if fixplan is not None:
            attempt = record_fixplan_attempt(fixplan, b.id, d, plans_root=ws.plans, reports_root=request.reports_root)
    _render(d, attempt, fixplan)
    raise typer.Exit(result.exit_code)


def _slug(label: str) -> str:
    """``triage-<candidate label>`` with only slug characters (no separators, no ``..``)."""
    import re

    return "triage-" + (re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "-", label)).strip("-.") or "port")[:48]


def _check_item(item_id: str, ws) -> None:
    from parity.evidence import ledger
    from parity.errors import ParityUsageError

    led = ledger.load_ledger(ledger.ledger_path(ws.plans))
    if item_id not in led.items:
        raise ParityUsageError(f"--fixplan {item_id}: no such item in {ledger.ledger_path(ws.plans)}"
                               f" (pwb fixplan item add {item_id} --title ...)")


def _render(d: dict, attempt, item: Optional[str]) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    v = d["verdict"]
    if v["passed"]:
        console.print(f"[green]PASS[/green]: {escape(d['ports']['cand']['label'])} passes every gate of"
                      f" {v['threshold_class']} against {escape(d['ports']['ref']['label'])}: nothing to triage")
        return
    console.print(f"[red]FAIL[/red] ({v['status']}): {escape(', '.join(v['failed_gates']) or '; '.join(v['notes']))}")
    cls = d.get("classification")
    if cls:
        for c in cls["classes"]:
            if c["applies"]:
                console.print(f"  image: {c['class']} (score {c['score']:.2f}): {escape(c['text'])}")
    cfg = d.get("config_diff") or {}
    if cfg.get("available") and cfg.get("differences"):
        keys = ", ".join(r["key"] for r in cfg["differences"][:6])
        console.print(f"  config: the printouts differ in {escape(keys)}")
    for p in d.get("pixels") or []:
        fd = p.get("first_divergence")
        where = (f"{fd['tap']} ({(fd.get('hint') or {}).get('class', '?')})" if fd else
                 (p["status"] + (f": {p['note']}" if p.get("note") else "")))
        console.print(f"  pixel {p['role']:<10} ({p['slow']}, {p['fast']}): {escape(where)}")
    if d.get("aggregate", {}).get("text"):
        console.print(f"  traces: {escape(d['aggregate']['text'])}")
    cause = d.get("cause") or {}
    if cause:
        console.print(f"[bold]cause[/bold]: {escape(cause['defect_class'])} ({cause['class']}, from the"
                      f" {cause['source']}{'' if cause['located'] else '; not located'})")
    for i, step in enumerate(d.get("next_steps") or [], 1):
        console.print(f"  {i}. {escape(step)}")
    if attempt is not None:
        console.print(f"fix plan: [{item}] attempt #{attempt.number} ({attempt.result})")
