"""``--bundle [--slug SLUG] [--reports-root DIR] [--workspace DIR]`` for any command, and the wrapper
that honours them.

Typer has no optional-value options (``--bundle`` *or* ``--bundle SLUG``), so the request is split:
``--bundle`` is a flag, ``--slug SLUG`` names the bundle and implies ``--bundle``, ``--workspace DIR``
says which project the evidence belongs to (default: ``$PWB_WORKSPACE``, else the git top level of
the cwd, else the cwd; see `parity.evidence.workspace`) and ``--reports-root DIR`` moves the reports
root (default ``<workspace>/reports``). Usage in a command::

    from cli.bundle_opts import (BundleFlag, SlugOption, ReportsRootOption, WorkspaceOption,
                                 bundle_request, maybe_bundle)

    @app.command()
    def compare(case: str, bundle: BundleFlag = False, slug: SlugOption = None,
                reports_root: ReportsRootOption = None, workspace: WorkspaceOption = None):
        request = bundle_request(bundle, slug, reports_root, workspace)   # bad slug/workspace → exit 2
        with guarded(), maybe_bundle(request, kind="compare", default_slug=case, case=case) as b:
            ...                                                       # b.write_text(...) etc.
            b.add_metrics({"corr": corr}, headline=True)              # no-ops when no bundle was asked for

Without ``--bundle``/``--slug`` the body gets a `NullBundle` whose methods do nothing, so command
code has no ``if bundle:`` branches. Either way the body runs inside the workspace (``in_workspace``),
so provenance and every default root below it agree. The published bundle's path goes to stderr
(stdout stays for the command's own output). Commands that read or write evidence without a bundle
(``pwb fixplan``, ``pwb plan``, ``pwb report``) take ``WorkspaceOption`` and wrap their body in
``in_workspace(workspace)``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import sys
from pathlib import Path
from typing import Annotated, Iterable, Iterator, Optional

import typer

from parity.evidence.bundle import Bundle, open_bundle, validate_slug
from parity.evidence.provenance import relpath_from_root
from parity.evidence.workspace import resolve_workspace, using_workspace as in_workspace

__all__ = ["BundleFlag", "SlugOption", "ReportsRootOption", "WorkspaceOption", "BundleRequest", "bundle_request",
           "NullBundle", "invocation_argv", "maybe_bundle", "in_workspace"]

BundleFlag = Annotated[bool, typer.Option("--bundle", help="Write an evidence bundle <workspace>/reports/<UTC>-<slug>/ for this run.")]
SlugOption = Annotated[Optional[str], typer.Option(
    "--slug", metavar="SLUG", help="Bundle slug (implies --bundle); default: the case or command name.")]
ReportsRootOption = Annotated[Optional[Path], typer.Option(
    "--reports-root", metavar="DIR", help="Reports root for bundles (default: <workspace>/reports).")]
WorkspaceOption = Annotated[Optional[Path], typer.Option(
    "--workspace", metavar="DIR", help="The project the evidence belongs to (default: $PWB_WORKSPACE, else the"
    " git top level of the cwd, else the cwd): reports/, plans/, docs/ and the provenance's git state.")]


@dataclasses.dataclass(frozen=True)
class BundleRequest:
    """What the user asked for: whether to bundle, the slug (None = default), the reports root, the workspace."""

    enabled: bool
    slug: str | None = None
    reports_root: Path | None = None
    workspace: Path | None = None


def bundle_request(bundle: bool, slug: str | None, reports_root: Path | None = None,
                   workspace: Path | None = None) -> BundleRequest:
    """Combine the options; a bad ``--slug`` or ``--workspace`` is refused here (EvidenceUsageError, exit 2)."""
    if slug is not None:
        validate_slug(slug)
    if workspace is not None:
        resolve_workspace(workspace)
    return BundleRequest(enabled=bool(bundle) or slug is not None, slug=slug, reports_root=reports_root,
                         workspace=workspace)


class NullBundle:
    """Stands in for a Bundle when none was requested: same methods, nothing written."""

    enabled = False
    id = None
    path = None

    def _noop(self, *args, **kwargs) -> None:
        return None

    write_text = write_bytes = write_json = copy_file = save_npy = save_preview_png = _noop
    add_metrics = add_known_divergences = set_exit_code = set_status = set_ports = _noop


def invocation_argv(ctx: typer.Context | None = None) -> list[str]:
    """The command line to record: ``pwb …`` from sys.argv when run as a program, else the
    command path plus the parsed parameters (under CliRunner, sys.argv is pytest's)."""
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    if prog in ("pwb", "nb-compare") or ctx is None:
        return [prog or "pwb", *sys.argv[1:]]
    argv = ctx.command_path.split()
    for name, value in ctx.params.items():
        if value is None or value is False or value == () or value == []:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            for item in value:
                argv += [flag, str(item)]
        else:
            argv += [flag, str(value)]
    return argv


@contextlib.contextmanager
def maybe_bundle(request: BundleRequest, *, kind: str, default_slug: str, argv: Iterable[str] | None = None,
                 ctx: typer.Context | None = None, inputs: Iterable = (), binaries: Iterable = (),
                 config: dict | None = None, case: str | None = None, device: str | None = None,
                 dtype: str | None = None, seed: int | None = None) -> Iterator[Bundle | NullBundle]:
    """``open_bundle`` when ``request.enabled``, else a NullBundle, the body running inside the
    request's workspace either way; prints the bundle path to stderr."""
    with in_workspace(request.workspace):
        if not request.enabled:
            yield NullBundle()
            return
        recorded = list(argv) if argv is not None else invocation_argv(ctx)
        bundle = None
        try:
            with open_bundle(kind=kind, slug=request.slug or default_slug, argv=recorded,
                             reports_root=request.reports_root, inputs=inputs, binaries=binaries, config=config,
                             case=case, device=device, dtype=dtype, seed=seed) as bundle:
                yield bundle
        finally:
            if bundle is not None and bundle.closed:
                print(f"bundle: {relpath_from_root(bundle.path)} ({bundle.manifest['status']})", file=sys.stderr)
