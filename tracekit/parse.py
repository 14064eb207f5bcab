"""Streaming parser for C and PyTorch text traces: lines in, `TraceRecord`s out, flat memory.

Every grammar of `tracekit.grammar` is read, for the C's prefix, ours, a dialect's prefixes, or a
port's own prefix recognised from its first line that names a catalogue tap (``DEBUG
pixel_pos_meters 1 2 3``). Names go through `tracekit.names` (dialect aliases and scales, the
catalogue, the built-in rename table). Lines in other prefixes, prose (``TRACE: Fluence = ..``,
``Final intensity = ..``), the progress meter and usage text are skipped and counted by kind.

Two modes. A C trace (prefix ``TRACE_C``) or one in our protocol (a ``P_META`` header) is read
strictly: a malformed line or a cut trace is an error (exit 5). Any other port's trace is read
leniently: a malformed line is skipped, counted and noted; only a last line cut mid-value is fatal.
Block bookkeeping (which sub-pixel a record belongs to) is `tracekit.blocks`. JSONL input is
detected by its first character and handed to `tracekit.jsonl`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from tracekit import grammar as g
from tracekit.blocks import C_CLOSING_TAP, BlockTracker
from tracekit.catalogue import Catalogue, TapSpec, catalogue
from tracekit.dialect import Dialect
from tracekit.errors import TraceParseError
from tracekit.inputs import open_input
from tracekit.jsonl import iter_jsonl_records
from tracekit.names import NameResolver, Resolved
from tracekit.parse_family import FamilyLines
from tracekit.records import SETUP_INDEX, LoopIndex, TraceRecord
from tracekit.stream_state import ParseStats

_SNIFF_BYTES = 8192
_MAX_NOTES = 8
_MAX_CONFIG_LINES = 2000
_BLOCK_GROUPS = frozenset("ABCD")


class TraceStream:
    """Iterate the records of a trace file (path) or of text lines, one at a time.

    >>> stream = TraceStream(["TRACE_C: steps 4"], name="demo")
    >>> [r.tap for r in stream], stream.stats.n_records
    (['steps'], 1)
    """

    def __init__(self, source: str | Path | Iterable[str], *, name: str | None = None,
                 cat: Catalogue | None = None, dialect: Dialect | None = None) -> None:
        self._source = source
        self.name = name or (str(source) if isinstance(source, (str, Path)) else "<lines>")
        self.cat = cat or catalogue()
        self.dialect = dialect or Dialect()
        self.names = NameResolver(self.cat, self.dialect)
        self.stats = ParseStats()

    def __iter__(self) -> Iterator[TraceRecord]:
        src = self._source
        if isinstance(src, (str, Path)):
            yield from self._iter_file(Path(src))
        elif isinstance(src, (list, tuple)) and next((ln for ln in src if ln.strip()), "").lstrip()[:1] == "{":
            self.stats.fmt = "jsonl"
            yield from iter_jsonl_records((ln + "\n" for ln in src), self)
        else:
            yield from _LineParser(self).run(src, from_file=False)

    def _iter_file(self, path: Path) -> Iterator[TraceRecord]:
        with open_input(path, "rb") as fh:       # a FIFO, folder or device is refused, never read
            head = fh.read(_SNIFF_BYTES)
        if not head:
            raise TraceParseError(f"{self.name}: empty file")
        if b"\x00" in head:
            raise TraceParseError(f"{self.name}: binary data (NUL bytes), not a text trace")
        with open_input(path, "r", encoding="utf-8", errors="strict", newline="") as fh:
            try:
                if head.lstrip()[:1] == b"{":
                    self.stats.fmt = "jsonl"
                    yield from iter_jsonl_records(fh, self)
                else:
                    yield from _LineParser(self).run(fh, from_file=True)
            except UnicodeDecodeError:
                raise TraceParseError(
                    f"{self.name}:{self.stats.n_lines + 1}: undecodable bytes (not UTF-8 text)") from None


class _LineParser(FamilyLines):
    """The state machine behind TraceStream for text traces (family grammars: `FamilyLines`)."""

    def __init__(self, stream: TraceStream) -> None:
        self.s, self.cat, self.stats, self.names = stream, stream.cat, stream.stats, stream.names
        self.glues = self.cat.glue_texts()
        self.blk = BlockTracker(self.stats)
        self.setup_counts: dict[str, int] = {}
        self.config_line = self.after_config = self.last_bad = 0
        self.end_seen = False
        self.fast, self.fast_len, self.fast_prefix = "\x00never", 0, ""
        self.pixel_info: dict[str, tuple] = {}
        own = stream.dialect.prefixes
        self.own = own
        self.starts = tuple(own) if own else ("TRACE_",)
        self.prefix_re = g.prefix_re(own) if own else g.PREFIX_RE
        self.main: str | None = None

    @property
    def strict(self) -> bool:
        return self.main == g.C_PREFIX or bool(self.stats.meta)

    # -- driver ---------------------------------------------------------------------------
    def run(self, lines: Iterable[str], *, from_file: bool) -> Iterator[TraceRecord]:
        """Parse lines (with their newlines when `from_file`); yield records."""
        stats, name, glues = self.stats, self.s.name, self.glues
        last_is_trace, raw, line_no = False, "\n", 0
        for line_no, raw in enumerate(lines, 1):
            line = raw.rstrip("\r\n") if from_file else raw
            if "\x00" in line:
                stats.n_lines = line_no
                raise TraceParseError(f"{name}:{line_no}: binary data (NUL bytes), not a text trace")
            if glues and line.startswith(glues):
                line = line[len(next(gl for gl in glues if line.startswith(gl))):]
            try:
                if line.startswith(self.fast):
                    key, _, vals = line[self.fast_len:].partition(" ")
                    recs = self._pixel_record(key, vals, line, line_no, self.fast_prefix)
                elif line.startswith(self.starts):
                    recs = self._prefixed_line(line, line_no)
                elif line.startswith("DETECTOR_") and (m := g.DETECTOR_RE.match(line)):
                    recs = self._setup_record(m.group(1), "detector", m.group(2), line, line_no, "")
                else:
                    recs = self._other_line(line, line_no)
            except g.GrammarError as exc:
                recs = self._bad_line(exc, line_no)
            last_is_trace = bool(recs)
            if recs:
                for rec in recs:
                    stats.n_records += 1
                    yield rec
        stats.n_lines = line_no
        cut = from_file and not raw.endswith("\n")
        self._finish(line_no, cut and (last_is_trace and self.strict or self.last_bad == line_no))

    def _bad_line(self, exc: g.GrammarError, n: int) -> None:
        if self.strict:
            raise TraceParseError(f"{self.s.name}:{n}: {exc}") from None
        self.stats.skip("malformed")
        self.last_bad = n
        if len(self.stats.notes) < _MAX_NOTES:
            self.stats.notes.append(f"line {n} skipped: {exc}")

    def _other_line(self, line: str, n: int):
        """A line that is no trace line of the main grammar: a port's own prefix, or skipped."""
        if line.endswith("% done") or not line.strip():
            self.stats.skip("progress" if line.strip() else "blank")
            return None
        if self.config_line:
            self.after_config += 1
        if not self.blk.in_block and len(self.stats.config_lines) < _MAX_CONFIG_LINES:
            self.stats.config_lines.append(line)       # the configuration printout, for tracekit.config
        if line.startswith("  "):
            if m := g.OVERSAMPLE_RE.match(line):
                self.stats.oversample = int(m.group(1))
            elif m := g.LAYERS_RE.match(line):
                self.stats.layers = int(m.group(1))
        elif m := g.GENERIC_RE.match(line):
            prefix, name, sep, vals = m.groups()
            r = self.names.resolve("pixel", name)
            if r.spec is not None and (sep.strip() or g.loose_numbers(vals) is not None):
                if self.own or self.main == g.C_PREFIX or self.main not in (None, prefix) or prefix.startswith("TRACE_"):
                    self.stats.skip("other_prefix")
                    return None
                self._adopt(prefix)
                if "=" in sep and r.spec.level == "setup":
                    return self._setup_record(name, "setup", vals, line, n, prefix)
                return self._pixel_record(name, vals, line, n, prefix)
        self.stats.skip("prose")
        return None

    def _adopt(self, prefix: str) -> None:
        """Make `prefix` the trace's main prefix (the first that carries a catalogue tap)."""
        if self.main is None:
            self.main = prefix
            self.stats.prefix = prefix
            if not self.own and not prefix.startswith("TRACE_"):   # a port's own prefix: its families too
                self.starts = ("TRACE_", prefix)
                self.prefix_re = g.prefix_re([prefix], extra=g.PREFIX_RE.pattern[1:])

    def _accepts(self, prefix: str) -> bool:
        return bool(self.own) or self.main is None or prefix == self.main

    def _finish(self, n_lines: int, cut_last: bool) -> None:
        name, stats, blk = self.s.name, self.stats, self.blk
        stats.renamed.update({k: r.how for k, r in self.names.renamed.items()})
        stats.ignored_taps |= self.names.ignored
        if n_lines == 0:
            raise TraceParseError(f"{name}: empty file")
        if cut_last:
            raise TraceParseError(f"{name}:{n_lines}: truncated trace (last line cut without newline)")
        if stats.n_records == 0:
            raise TraceParseError(f"{name}: no trace lines found in {n_lines} line(s) (a port with its own "
                                  "line prefix needs a dialect: prefixes: [...])")
        if stats.meta and not self.end_seen:
            raise TraceParseError(f"{name}: truncated trace ({stats.prefix}_META header without {stats.prefix}_END)")
        if self.main == g.C_PREFIX and not stats.meta:
            if not blk.closed:
                raise TraceParseError(
                    f"{name}:{blk.block_line}: truncated trace (pixel block never closed by {C_CLOSING_TAP})")
            if self.config_line and not blk.in_block and self.after_config == 0:
                raise TraceParseError(f"{name}:{self.config_line}: truncated trace (nothing after TRACE_CONFIG)")
        elif blk.ends_open():
            stats.notes.append(f"the trace ends inside a pixel block (line {blk.block_line} on) with no "
                               "group-E tap after it: it may be cut, or the port prints no group E")

    # -- one prefixed line ---------------------------------------------------------------------
    def _prefixed_line(self, line: str, n: int) -> list[TraceRecord] | None:
        m = self.prefix_re.match(line)
        if not m:
            self.stats.skip("prose")
            return None
        prefix, suffix = m.group(1), m.group(2)
        rest = line[m.end():]
        if prefix == "TRACE_CONFIG":
            prefix, suffix = g.C_PREFIX, "_CONFIG"
        if prefix == g.C_PREFIX:
            self._adopt(prefix)          # the C's own trace: read strictly from its first line
        if suffix == "_META":
            self.stats.meta.update(g.parse_kv_tokens(rest))
            self._adopt(prefix)
            for key in ("oversample", "layers"):
                if self.stats.meta.get(key, "").isdigit():
                    setattr(self.stats, key, int(self.stats.meta[key]))
            return []
        if not self._accepts(prefix):
            self.stats.skip("other_prefix")
            return None
        if suffix is None:
            if rest.startswith(": ") or (rest.startswith(" ") and not prefix.startswith("TRACE_")):
                name, sep, vals = rest.lstrip(": ").partition(" ")
                recs = self._pixel_record(name, vals, line, n, prefix)
                if rest.startswith(": ") and prefix == self.main:
                    self.fast, self.fast_len, self.fast_prefix = prefix + ": ", len(prefix) + 2, prefix
                return recs
            if rest.startswith(":") and "=" in rest:
                name, _, vals = rest[1:].partition("=")
                return self._setup_record(name, "setup", vals, line, n, prefix)
            self.stats.skip("prose")
            return None
        if suffix == "_PHI":
            return self._phi_records(rest, line, n, prefix)
        if suffix in ("_SOURCE2", "_TAP5"):
            if not rest.startswith(": "):
                self.stats.skip("prose")
                return None
            name, _, vals = rest[2:].partition(" ")
            return self._family_record("source2" if suffix == "_SOURCE2" else "tap5", name, vals, line, n, prefix)
        if suffix == "_TAP5_HKL":
            return self._tap5_hkl_records(rest, line, n, prefix)
        if suffix == "_CONFIG":
            cm = g.CONFIG_RE.match(rest)
            if not cm:
                self.stats.skip("prose")
                return None
            self.config_line = n
            return self._setup_record("trace_pixel", "config", f"{cm.group(1)} {cm.group(2)}", line, n, prefix)
        if suffix == "_END":
            self.end_seen = True
            return []
        return self._at_records(rest, line, n, prefix)

    # -- record builders -----------------------------------------------------------------------
    def _values(self, spec: TapSpec | None, name: str, text: str, factor: float = 1.0):
        if spec is None:
            self.stats.unknown_taps.add(name)
            return g.infer_values(text)
        try:
            values, keys = g.parse_values(spec.kind, text, spec.ncomp)
        except g.GrammarError as exc:
            loose = None if self.strict or spec.kind not in ("float", "matrix") else g.loose_numbers(text)
            if loose is None or len(loose) != spec.ncomp:
                raise g.GrammarError(f"tap {name}: {exc}") from None
            values, keys = loose, None
        if factor != 1.0 and spec.kind in ("float", "matrix", "keyvalue"):
            values = tuple(v * factor for v in values)
        return values, keys

    def _setup_record(self, name: str, family: str, text: str, line: str, n: int, prefix: str):
        r = self.names.resolve(family, name)
        if r.ignored:
            self.stats.skip("ignored")
            return None
        spec = r.spec
        if spec is not None and spec.family == "pixel" and spec.group in "ABCDE" and family == "setup":
            return self._pixel_record(name, text, line, n, prefix)   # a pixel tap in the setup grammar
        if spec is not None and prefix:
            self._adopt(prefix)
        tap = spec.name if spec else name
        values, keys = self._values(spec, name, text, r.factor)
        occ = self.setup_counts.get(tap, 0)
        self.setup_counts[tap] = occ + 1
        index = SETUP_INDEX if occ == 0 else LoopIndex(occurrence=occ)
        return [TraceRecord(tap, index, values, keys, prefix, n, line)]

    def _pixel_record(self, name: str, text: str, line: str, n: int, prefix: str):
        info = self.pixel_info.get(name)
        if info is None:
            return self._pixel_record_slow(name, text, line, n, prefix)
        spec, group, at_source, is_float, ncomp, factor = info
        values = None
        if is_float:
            try:
                values, keys = tuple(map(float, text.split())), None
            except ValueError:
                pass
        if values is None or len(values) != ncomp:
            values, keys = self._values(spec, name, text)
        if factor != 1.0 and is_float:
            values = tuple(v * factor for v in values)
        blk = self.blk
        if group == "E":
            index = blk.e_tap(spec.name)
        else:
            blk.enter(spec.name, n)
            index = blk.idx_src0 if at_source else blk.idx_mos0
        return [TraceRecord(spec.name, index, values, keys, prefix, n, line)]

    def _pixel_record_slow(self, name: str, text: str, line: str, n: int, prefix: str):
        """A name printed with the pixel grammar that is not yet in `pixel_info`."""
        clean = name.rstrip(":=")
        if clean != name or text[:1] in ":=":
            text = text.lstrip(":= ")
        r: Resolved = self.names.resolve("pixel", clean)
        if r.ignored:
            self.stats.skip("ignored")
            return None
        spec = r.spec
        if spec is None:
            loose = g.loose_numbers(text)
            if not g.NAME_RE.match(clean) or (loose is None and g.infer_values(text)[1] is None):
                self.stats.skip("prose")
                return None
            values, keys = self._values(None, clean, text)
            if isinstance(values[0], str) and loose is not None:
                values, keys = loose, None
            blk = self.blk
            index = blk.idx_sub if blk.in_block and not blk.e_run else blk.pixel_index()
            return [TraceRecord(clean, index, values, keys, prefix, n, line)]
        self._adopt(prefix)
        if spec.family == "pixel" and spec.group in "ABCDE":
            self.pixel_info[clean] = (spec, spec.group, spec.level == "source", spec.kind == "float",
                                      spec.ncomp, r.factor)
            return self._pixel_record(clean, text, line, n, prefix)
        if spec.level == "setup" or spec.family in ("setup", "detector", "config"):
            return self._setup_record(clean, "setup", text, line, n, prefix)
        values, keys = self._values(spec, clean, text, r.factor)
        index = self.blk.idx_mos0 if self.blk.in_block else SETUP_INDEX
        return [TraceRecord(spec.name, index, values, keys, prefix, n, line)]
