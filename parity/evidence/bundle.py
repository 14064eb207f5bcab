"""Evidence bundles: ``reports/<YYYYMMDDTHHMMSSZ>-<slug>/`` with a manifest written first and last.

    with open_bundle(kind="compare", slug="at001", argv=sys.argv, inputs=[hkl], binaries=[c_bin]) as b:
        b.save_npy("c.npy", image_c, max_pixels=256 * 256)
        b.add_metrics({"corr": 0.9999}, headline=True)
        b.set_status("passed")
    b.id, b.path            # the published directory

Lifecycle (after Hydra's run dir, without its ``exist_ok``): the directory is claimed as a
``<id>.partial`` sibling with an atomic ``mkdir`` (``-2``, ``-3``… on collision), the manifest with
command, config and provenance is written into it *before* the body runs, artifacts are added, and
on exit the status, metrics, artifact list (sha256 + size), ``summary.md`` and ``summary.html`` are
written last and the directory is renamed into place without replacing anything (then the reports
root's ``index.html`` is refreshed). An exception in
the body finalises the bundle with status ``failed`` and the exception text, then re-raises. A
killed process leaves only the ``.partial`` sibling, which listings flag as incomplete.
Bundles go to ``<workspace>/reports/``; paths inside a bundle are relative to the workspace root
(or ``external:<name>``), never absolute.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Iterable, Iterator

from parity.evidence import provenance
from parity.evidence.atomic import _fsync_dir, atomic_write_bytes, atomic_write_text
from tracekit.atomic import copy_atomic, rename_noreplace
from parity.evidence.store import (BUNDLE_ID_RE, MANIFEST, PARTIAL_SUFFIX, list_bundles, load_manifest)
from parity.evidence.summary import render_summary_md
from parity.evidence.errors import BundleError, EvidenceUsageError
from parity.evidence.workspace import resolve_workspace

__all__ = ["Bundle", "open_bundle", "validate_slug", "list_bundles", "load_manifest", "STATUSES"]

SCHEMA = "pwb.bundle/1"
STATUSES = ("passed", "failed", "error", "skipped", "done")
ENVELOPE = (MANIFEST, "summary.md", "summary.html")
_SLUG_MAX = 64
_KIND_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def validate_slug(slug: str) -> str:
    """Sanitised slug, or EvidenceUsageError (exit 2) for empty, absolute, ``..`` or separator slugs.

    Whitespace and characters outside ``[A-Za-z0-9._-]`` become ``-``; refusal is reserved for
    slugs that could escape the reports root or name nothing.
    """
    if not isinstance(slug, str) or not slug.strip():
        raise EvidenceUsageError("bundle slug is empty")
    raw = slug.strip()
    if "/" in raw or "\\" in raw or raw.startswith("~"):
        raise EvidenceUsageError(f"bundle slug {slug!r} contains a path separator")
    if ".." in raw:
        raise EvidenceUsageError(f"bundle slug {slug!r} contains '..'")
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", raw)
    clean = re.sub(r"-{2,}", "-", clean).strip("-.")[:_SLUG_MAX].rstrip("-.")
    if not clean or not BUNDLE_ID_RE.match(f"20000101T000000Z-{clean}"):
        raise EvidenceUsageError(f"bundle slug {slug!r} has no usable characters")
    if clean.endswith(PARTIAL_SUFFIX):
        raise EvidenceUsageError(f"bundle slug {slug!r} may not end in {PARTIAL_SUFFIX}")
    return clean


def _validate_kind(kind: str) -> str:
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        raise EvidenceUsageError(f"bundle kind {kind!r} must match {_KIND_RE.pattern}")
    return kind


def _validate_artifact_name(name: str) -> str:
    if not isinstance(name, str) or not name or "\\" in name or name.startswith("/"):
        raise EvidenceUsageError(f"artifact name {name!r} must be a relative POSIX path")
    parts = name.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        raise EvidenceUsageError(f"artifact name {name!r} has an empty, hidden or '..' component")
    if name in ENVELOPE:
        raise EvidenceUsageError(f"artifact name {name!r} is reserved for the bundle itself")
    return name


def _jsonable(value, *, root: Path):
    """JSON-ready copy: Paths root-relative, strings scrubbed, numpy scalars unwrapped, NaN as text."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v, root=root) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, root=root) for v in value]
    if isinstance(value, os.PathLike):
        return provenance.relpath_from_root(value, root=root)
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays/scalars, torch tensors
        value = value.tolist()
        if isinstance(value, list):
            return [_jsonable(v, root=root) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return provenance.scrub_paths(str(value), root=root)


def _rename_noreplace(src: Path, dst: Path) -> None:
    """rename(2) that fails with FileExistsError instead of replacing ``dst`` (tracekit.atomic)."""
    rename_noreplace(src, dst)


def _claim(reports_root: Path, stamp: str, slug: str) -> tuple[str, Path]:
    """Atomically claim ``<stamp>-<slug>[-N].partial``; a name is ours only if its final dir is absent too."""
    for n in range(1, 10_000):
        bundle_id = f"{stamp}-{slug}" + ("" if n == 1 else f"-{n}")
        partial = reports_root / (bundle_id + PARTIAL_SUFFIX)
        try:
            partial.mkdir()  # atomic; fails if another writer holds the name (no exist_ok)
        except FileExistsError:
            continue
        if (reports_root / bundle_id).exists():  # published earlier this second by someone else
            partial.rmdir()
            continue
        return bundle_id, partial
    raise BundleError(f"could not claim a bundle directory for {stamp}-{slug}")


class Bundle:
    """An open bundle. Write artifacts through its methods; it is finalised by `open_bundle`."""

    enabled = True  # NullBundle (cli/bundle_opts.py) says False

    def __init__(self, *, bundle_id: str, reports_root: Path, partial_dir: Path, manifest: dict, root: Path):
        self.id = bundle_id
        self.reports_root = reports_root
        self.partial_dir = partial_dir
        self.final_dir = reports_root / bundle_id
        self.manifest = manifest
        self.closed = False
        self._root = root
        self._status: str | None = None
        self._artifact_meta: dict[str, dict] = {}

    @property
    def path(self) -> Path:
        """The ``.partial`` directory while open, the published directory after a clean close."""
        return self.final_dir if self.closed and self.final_dir.is_dir() else self.partial_dir

    # ------------------------------------------------------------------ artifacts
    def _target(self, name: str) -> Path:
        if self.closed:
            raise BundleError(f"bundle {self.id} is closed; artifacts can no longer be added")
        target = self.partial_dir / _validate_artifact_name(name)
        if target.exists():
            raise EvidenceUsageError(f"artifact {name!r} already exists in bundle {self.id}")
        target.parent.mkdir(parents=True, exist_ok=True)  # sub-folders inside our own .partial
        return target

    def write_bytes(self, name: str, data: bytes, **meta) -> Path:
        """Add ``name`` with exactly these bytes."""
        target = self._target(name)
        atomic_write_bytes(target, bytes(data), overwrite=False)
        if meta:
            self._artifact_meta[name] = _jsonable(meta, root=self._root)
        return target

    def write_text(self, name: str, text: str, *, scrub_paths: bool = True) -> Path:
        """Add a UTF-8 text artifact. Absolute paths are rewritten (see `provenance.scrub_paths`)
        unless ``scrub_paths=False`` (then the text must be path-free or is stored verbatim)."""
        if scrub_paths:
            text = provenance.scrub_paths(text, root=self._root)
        return self.write_bytes(name, text.encode("utf-8"))

    def write_json(self, name: str, obj) -> Path:
        """Add ``obj`` as indented, key-sorted JSON (paths made relative, NaN as text)."""
        return self.write_bytes(name, (json.dumps(_jsonable(obj, root=self._root), indent=2, sort_keys=True) + "\n").encode())

    def copy_file(self, src: str | os.PathLike, name: str | None = None) -> Path:
        """Copy a file in byte for byte; its origin (root-relative) and sha256 go to the manifest."""
        src_path = Path(src)
        record = provenance.file_record(src_path, root=self._root)
        target = self._target(name or src_path.name)
        copy_atomic(src_path, target, overwrite=False, durable=True)
        self._artifact_meta[str(target.relative_to(self.partial_dir).as_posix())] = {"copied_from": record["path"]}
        return target

    def save_npy(self, name: str, array, *, max_pixels: int | None = None) -> Path:
        """Save an array as ``.npy``; with ``max_pixels`` a larger 2-D image is block-mean downsampled
        (factor and original shape recorded in the manifest) so committed bundles stay small."""
        import io

        import numpy as np

        from parity.evidence.arrays import block_mean, downsample_factor

        if not name.endswith(".npy"):
            name += ".npy"
        a = np.asarray(array)
        meta = {"shape": list(a.shape), "dtype": str(a.dtype)}
        if max_pixels is not None and a.ndim >= 2:
            factor = downsample_factor(a.shape, max_pixels=max_pixels)
            if factor > 1:
                a = block_mean(a, factor=factor)
                meta.update(downsampled_from=meta["shape"], shape=list(a.shape), dtype=str(a.dtype),
                            downsample_factor=factor, downsample_method="block_mean")
        buffer = io.BytesIO()
        np.save(buffer, a, allow_pickle=False)
        return self.write_bytes(name, buffer.getvalue(), **meta)

    def save_preview_png(self, name: str, image, *, max_side_px: int = 512, log_scale: bool = True,
                         title: str | None = None) -> Path:
        """A small grey-scale PNG preview of a 2-D image (shown by summary.html and the report index)."""
        from parity.evidence.arrays import preview_png_bytes

        if not name.endswith(".png"):
            name += ".png"
        data = preview_png_bytes(image, max_side_px=max_side_px, log_scale=log_scale, title=title)
        return self.write_bytes(name, data, preview=True, log_scale=log_scale)

    # ------------------------------------------------------------------ results
    def add_metrics(self, metrics: dict, *, headline: bool = False) -> None:
        """Merge ``metrics`` into the manifest; ``headline=True`` also lists their keys as headline."""
        if not isinstance(metrics, dict):
            raise EvidenceUsageError("metrics must be a dict")
        clean = _jsonable(metrics, root=self._root)
        self.manifest["metrics"].update(clean)
        if headline:
            self.manifest["headline"] += [k for k in clean if k not in self.manifest["headline"]]

    def add_known_divergences(self, matches) -> None:
        """Record the known divergences that apply (``known_divergences.classify`` output or dicts with
        id/verdict/certain/reason), so the verdict reads "passed — matches C via KD-…", never a silent pass."""
        for m in matches:
            row = m if isinstance(m, dict) else {"id": m.id, "verdict": m.verdict, "certain": m.certain,
                                                 "reason": m.reason}
            row = _jsonable({k: row.get(k) for k in ("id", "verdict", "certain", "reason")}, root=self._root)
            if row["id"] not in {r["id"] for r in self.manifest["known_divergences"]}:
                self.manifest["known_divergences"].append(row)

    def set_story(self, markdown: str) -> None:
        """The command's own account (markdown), shown in ``summary.md`` right under the status line."""
        if not isinstance(markdown, str):
            raise EvidenceUsageError("a story must be markdown text")
        self.manifest["story"] = _jsonable(markdown, root=self._root)

    def set_ports(self, identities) -> None:
        """Record the identities of the ports that ran (`parity.evidence.port_identity` records)."""
        self.manifest["provenance"]["ports"] = _jsonable(list(identities), root=self._root)

    def set_exit_code(self, name: str, code: int) -> None:
        """Record the exit code of one step (``"c"``, ``"pytorch"``, ``"pytest"``…)."""
        self.manifest["exit_codes"][str(name)] = int(code)

    def set_status(self, status: str) -> None:
        """One of STATUSES; the default on a clean exit is ``done`` (ran, no verdict)."""
        if status not in STATUSES:
            raise EvidenceUsageError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        self._status = status

    # ------------------------------------------------------------------ finalisation
    def _artifacts(self) -> list[dict]:
        rows = []
        for path in sorted(self.partial_dir.rglob("*")):
            rel = path.relative_to(self.partial_dir).as_posix()
            if not path.is_file() or rel in ENVELOPE or any(p.startswith(".") for p in rel.split("/")):
                continue
            row = {"name": rel, "sha256": provenance.sha256_file(path), "size_bytes": path.stat().st_size}
            row.update(self._artifact_meta.get(rel, {}))
            rows.append(row)
        return rows

    def _finalise(self, exc: BaseException | None) -> None:
        from parity.evidence.report_index import render_bundle_page

        m = self.manifest
        if exc is not None:
            m["status"] = "failed"
            m["error"] = {"type": type(exc).__name__, "message": _jsonable(str(exc), root=self._root),
                          "exit_code": getattr(exc, "exit_code", None)}
        else:
            m["status"] = self._status or "done"
        m["finished_utc"] = provenance.utc_stamp(provenance.utc_now())
        m["artifacts"] = self._artifacts()
        m["complete"] = True
        m.pop("writer_pid", None)
        atomic_write_text(self.partial_dir / "summary.md", render_summary_md(m))
        atomic_write_text(self.partial_dir / "summary.html", render_bundle_page(m))
        atomic_write_text(self.partial_dir / MANIFEST, json.dumps(m, indent=2) + "\n")  # last
        _fsync_dir(self.partial_dir)
        _rename_noreplace(self.partial_dir, self.final_dir)
        _fsync_dir(self.reports_root)
        self.closed = True
        from parity.evidence.report_index import refresh_index

        refresh_index(self.reports_root)   # the index lists it at once (best effort)


def _is_clean_exit(exc: BaseException) -> bool:
    """typer.Exit(0)/SystemExit(0) inside a body are a normal end, not a failure."""
    if isinstance(exc, SystemExit):
        return exc.code in (0, None)
    return type(exc).__name__ == "Exit" and getattr(exc, "exit_code", None) == 0


@contextlib.contextmanager
def open_bundle(*, kind: str, slug: str, argv: Iterable[str] | None = None,
                reports_root: str | os.PathLike | None = None, inputs: Iterable[str | os.PathLike] = (),
                binaries: Iterable[str | os.PathLike] = (), config: dict | None = None, case: str | None = None,
                device: str | None = None, dtype: str | None = None, seed: int | None = None,
                workspace: str | os.PathLike | None = None, ports: Iterable[dict] = ()) -> Iterator[Bundle]:
    """Open a new bundle under ``reports_root`` (default ``<workspace>/reports``) and publish it on exit.

    ``argv`` defaults to this process's argv (program name only, no path); ``config`` is the
    resolved configuration; ``inputs``/``binaries`` are hashed before the body runs; ``ports`` are
    port identity records (`parity.evidence.port_identity`). ``workspace`` overrides the resolved
    workspace (its git state is the provenance; paths are made relative to it).
    Raises EvidenceUsageError (exit 2) for a bad slug or kind before anything is created.
    """
    kind = _validate_kind(kind)
    clean_slug = validate_slug(slug)
    ws = resolve_workspace(workspace)
    root = ws.root
    reports = Path(reports_root) if reports_root is not None else ws.reports
    if os.path.exists(reports) and not os.path.isdir(reports):
        raise EvidenceUsageError(f"reports root {reports} is not a folder (--reports-root names a folder)")
    try:
        os.makedirs(reports, exist_ok=True)  # the reports root itself; bundle dirs never use exist_ok
    except OSError as exc:
        raise BundleError(f"reports root {reports}: cannot create it ({exc.strerror or exc})") from None
    if argv is None:
        argv = [Path(sys.argv[0]).name, *sys.argv[1:]]
    prov = provenance.collect_provenance(inputs=list(inputs), binaries=list(binaries), device=device,
                                         dtype=dtype, seed=seed, root=root, ports=list(ports))
    prov["workspace"]["source"] = ws.source
    created = provenance.utc_now()
    bundle_id, partial = _claim(reports, provenance.utc_stamp(created, compact=True), clean_slug)
    manifest = {
        "schema": SCHEMA, "id": bundle_id, "kind": kind, "slug": clean_slug, "case": case,
        "created_utc": provenance.utc_stamp(created), "finished_utc": None, "status": "running",
        "complete": False, "writer_pid": os.getpid(),
        "command": {"argv": provenance.sanitize_argv(list(argv), root=root), "config": _jsonable(config or {}, root=root)},
        "provenance": prov, "exit_codes": {}, "metrics": {}, "headline": [], "known_divergences": [], "error": None,
        "artifacts": [],
    }
    atomic_write_text(partial / MANIFEST, json.dumps(manifest, indent=2) + "\n")  # config + provenance first
    bundle = Bundle(bundle_id=bundle_id, reports_root=reports, partial_dir=partial, manifest=manifest, root=root)
    try:
        yield bundle
    except BaseException as exc:
        if _is_clean_exit(exc):
            bundle._finalise(None)
            raise
        try:
            bundle._finalise(exc)
        except Exception as fin_exc:  # keep the original error; the .partial stays as evidence
            if hasattr(exc, "add_note"):
                exc.add_note(f"bundle {bundle_id} left incomplete ({PARTIAL_SUFFIX}): {fin_exc}")
        raise
    try:
        bundle._finalise(None)
    except OSError as exc:
        raise BundleError(f"bundle {bundle_id} left incomplete ({PARTIAL_SUFFIX}): {exc}") from exc
