"""Streaming parser for C and PyTorch text traces: lines in, `TraceRecord`s out, flat memory.

Every grammar of `tracekit.grammar` is read; other lines (progress meter, ``TRACE:`` prose,
usage text) are skipped and counted. The pixel block (groups A-D) repeats once per (layer,
sub_s, sub_f) in loop order (thickness outer, then sub-pixel slow, then fast); each block gets
that index from the trace's own header lines (``NxN pixel oversample steps``, ``sensor is ..
in N layers``, or ``P_META oversample= layers=``), else an ordinal in ``occurrence``.
JSONL input is detected by its first character and handed to `tracekit.jsonl`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from tracekit import grammar as g
from tracekit.catalogue import Catalogue, TapSpec, catalogue
from tracekit.errors import TraceParseError
from tracekit.jsonl import iter_jsonl_records
from tracekit.records import SETUP_INDEX, LoopIndex, TraceRecord
from tracekit.stream_state import ParseStats

_SNIFF_BYTES = 8192
_CLOSING_TAP = "floatimage_accumulated"


class TraceStream:
    """Iterate the records of a trace file (path) or of text lines, one at a time.

    >>> stream = TraceStream(["TRACE_C: steps 4"], name="demo")
    >>> [r.tap for r in stream], stream.stats.n_records
    (['steps'], 1)
    """

    def __init__(self, source: str | Path | Iterable[str], *, name: str | None = None,
                 cat: Catalogue | None = None) -> None:
        self._source = source
        self.name = name or (str(source) if isinstance(source, (str, Path)) else "<lines>")
        self.cat = cat or catalogue()
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
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
        if not head:
            raise TraceParseError(f"{self.name}: empty file")
        if b"\x00" in head:
            raise TraceParseError(f"{self.name}: binary data (NUL bytes), not a text trace")
        with open(path, encoding="utf-8", errors="strict", newline="") as fh:
            try:
                if head.lstrip()[:1] == b"{":
                    self.stats.fmt = "jsonl"
                    yield from iter_jsonl_records(fh, self)
                else:
                    yield from _LineParser(self).run(fh, from_file=True)
            except UnicodeDecodeError:
                raise TraceParseError(
                    f"{self.name}:{self.stats.n_lines + 1}: undecodable bytes (not UTF-8 text)") from None


class _LineParser:
    """The state machine behind TraceStream for text traces."""

    def __init__(self, stream: TraceStream) -> None:
        self.s = stream
        self.cat = stream.cat
        self.stats = stream.stats
        self.glues = self.cat.glue_texts()
        self.setup_counts: dict[str, int] = {}
        self.pixel = 0          # pixel ordinal in the file
        self.blocks = 0         # blocks in the current pixel
        self.global_block = 0
        self.in_block = False
        self.in_e = False
        self.last_order = -1
        self.closed = True      # no block open, or the last one closed by floatimage_accumulated
        self.block_line = 0
        self.config_line = 0
        self.after_config = 0
        self.end_seen = False
        self.idx_src0 = self.idx_mos0 = self.idx_src2 = self.idx_sub = SETUP_INDEX
        self.block_lsf: tuple[int | None, int | None, int | None] = (None, None, None)
        self.fast, self.fast_len, self.fast_prefix = "\x00never", 0, ""
        self.pixel_info = {s.c_name: (s, s.group, s.order, s.level == "source", s.kind == "float", s.ncomp)
                           for s in self.cat.in_family("pixel")}
        self.phi_specs = {s.c_name: s for s in self.cat.in_family("phi")}

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
            last_is_trace = False
            if glues and line.startswith(glues):
                line = line[len(next(gl for gl in glues if line.startswith(gl))):]
            if line.startswith(self.fast):
                text = line[self.fast_len:]
                key, _, vals = text.partition(" ")
                try:
                    rec = self._pixel_record(key, vals, line, line_no, self.fast_prefix)
                except g.GrammarError as exc:
                    raise TraceParseError(f"{name}:{line_no}: {exc}") from None
                last_is_trace = True
                stats.n_records += 1
                yield rec
            elif line.startswith("TRACE_"):
                try:
                    recs = self._trace_line(line, line_no)
                except g.GrammarError as exc:
                    raise TraceParseError(f"{name}:{line_no}: {exc}") from None
                if recs is None:
                    stats.n_skipped += 1
                    continue
                last_is_trace = True
                for rec in recs:
                    stats.n_records += 1
                    yield rec
            elif line.startswith("DETECTOR_") and (m := g.DETECTOR_RE.match(line)):
                last_is_trace = True
                stats.n_records += 1
                yield self._setup_record(m.group(1), "detector", m.group(2), line, line_no, "")
            else:
                self._other_line(line)
        stats.n_lines = line_no
        self._finish(line_no, from_file and last_is_trace and not raw.endswith("\n"))

    def _other_line(self, line: str) -> None:
        self.stats.n_skipped += 1
        if line.endswith("% done") or not line.strip():
            return
        if self.config_line:
            self.after_config += 1
        if not line.startswith("  "):
            return
        m = g.OVERSAMPLE_RE.match(line)
        if m:
            self.stats.oversample = int(m.group(1))
            return
        m = g.LAYERS_RE.match(line)
        if m:
            self.stats.layers = int(m.group(1))

    def _finish(self, n_lines: int, cut_last: bool) -> None:
        name, stats = self.s.name, self.stats
        if n_lines == 0:
            raise TraceParseError(f"{name}: empty file")
        if cut_last:
            raise TraceParseError(f"{name}:{n_lines}: truncated trace (last line cut without newline)")
        if stats.n_records == 0:
            raise TraceParseError(f"{name}: no trace lines found in {n_lines} line(s)")
        if stats.meta and not self.end_seen:
            raise TraceParseError(f"{name}: truncated trace ({stats.prefix}_META header without {stats.prefix}_END)")
        if not stats.meta and not self.closed:
            raise TraceParseError(
                f"{name}:{self.block_line}: truncated trace (pixel block never closed by {_CLOSING_TAP})")
        if self.config_line and not self.in_block and not self.in_e and self.after_config == 0:
            raise TraceParseError(f"{name}:{self.config_line}: truncated trace (nothing after TRACE_CONFIG)")

    # -- one TRACE_ line ---------------------------------------------------------------------
    def _trace_line(self, line: str, n: int) -> list[TraceRecord] | None:
        m = g.PREFIX_RE.match(line)
        if not m:
            return None
        prefix, suffix = m.group(1), m.group(2)
        rest = line[m.end():]
        if prefix == "TRACE_CONFIG":
            prefix, suffix = g.C_PREFIX, "_CONFIG"
        if self.stats.prefix is None and suffix not in ("_META", "_END"):
            self.stats.prefix = prefix
        if suffix is None:
            if rest.startswith(": "):
                self.fast, self.fast_len, self.fast_prefix = prefix + ": ", len(prefix) + 2, prefix
                name, _, vals = rest[2:].partition(" ")
                return [self._pixel_record(name, vals, line, n, prefix)]
            if rest.startswith(":") and "=" in rest:
                name, _, vals = rest[1:].partition("=")
                return [self._setup_record(name, "setup", vals, line, n, prefix)]
            return None
        if suffix == "_PHI":
            return self._phi_records(rest, line, n, prefix)
        if suffix in ("_SOURCE2", "_TAP5"):
            if not rest.startswith(": "):
                return None
            name, _, vals = rest[2:].partition(" ")
            return [self._family_record("source2" if suffix == "_SOURCE2" else "tap5", name, vals, line, n, prefix)]
        if suffix == "_TAP5_HKL":
            return self._tap5_hkl_records(rest, line, n, prefix)
        if suffix == "_CONFIG":
            cm = g.CONFIG_RE.match(rest)
            if not cm:
                return None
            self.config_line = n
            return [self._setup_record("trace_pixel", "config", f"{cm.group(1)} {cm.group(2)}", line, n, prefix)]
        if suffix == "_META":
            self.stats.meta.update(g.parse_kv_tokens(rest))
            self.stats.prefix = self.stats.prefix or prefix
            for key in ("oversample", "layers"):
                if self.stats.meta.get(key, "").isdigit():
                    setattr(self.stats, key, int(self.stats.meta[key]))
            return []
        if suffix == "_END":
            self.end_seen = True
            return []
        return [self._at_record(rest, line, n, prefix)]

    # -- record builders -----------------------------------------------------------------------
    def _values(self, spec: TapSpec | None, name: str, text: str):
        if spec is None:
            self.stats.unknown_taps.add(name)
            return g.infer_values(text)
        try:
            return g.parse_values(spec.kind, text, spec.ncomp)
        except g.GrammarError as exc:
            raise g.GrammarError(f"tap {name}: {exc}") from None

    def _setup_record(self, name: str, family: str, text: str, line: str, n: int, prefix: str) -> TraceRecord:
        spec = self.cat.lookup(family, name)
        tap = spec.name if spec else name
        values, keys = self._values(spec, name, text)
        occ = self.setup_counts.get(tap, 0)
        self.setup_counts[tap] = occ + 1
        index = SETUP_INDEX if occ == 0 else LoopIndex(occurrence=occ)
        return TraceRecord(tap, index, values, keys, prefix, n, line)

    def _pixel_record(self, name: str, text: str, line: str, n: int, prefix: str) -> TraceRecord:
        info = self.pixel_info.get(name)
        if info is None:
            return self._pixel_record_slow(name, text, line, n, prefix)
        spec, group, order, at_source, is_float, ncomp = info
        values = None
        if is_float:
            try:
                values, keys = tuple(map(float, text.split())), None
            except ValueError:
                pass
        if values is None or len(values) != ncomp:
            values, keys = self._values(spec, name, text)
        if group == "E":
            index = self._e_index()
            if spec.name == _CLOSING_TAP:
                self.closed = True
        else:
            if not self.in_block or self.in_e or (group == "A" and order <= self.last_order):
                self._start_block(n)
            self.last_order = order
            index = self.idx_src0 if at_source else self.idx_mos0
        return TraceRecord(spec.name, index, values, keys, prefix, n, line)

    def _pixel_record_slow(self, name: str, text: str, line: str, n: int, prefix: str) -> TraceRecord:
        """A name printed with the pixel grammar that is not a catalogued C name (alias/unknown)."""
        spec = self.cat.lookup("pixel", name)
        if spec is not None and spec.family == "pixel":
            return self._pixel_record(spec.c_name, text, line, n, prefix)
        values, keys = self._values(spec, name, text)
        if spec is not None:
            return TraceRecord(spec.name, self.idx_mos0 if self.in_block else SETUP_INDEX, values, keys, prefix, n, line)
        index = self.idx_sub if self.in_block and not self.in_e else LoopIndex(occurrence=self.pixel)
        return TraceRecord(name, index, values, keys, prefix, n, line)

    def _e_index(self) -> LoopIndex:
        self.in_e = True
        return LoopIndex(occurrence=self.pixel) if self.pixel else SETUP_INDEX

    def _family_record(self, family: str, name: str, text: str, line: str, n: int, prefix: str) -> TraceRecord:
        spec = self.cat.lookup(family, name)
        values, keys = self._values(spec, name, text)
        tap = spec.name if spec else f"{family}_{name}"
        if family == "tap5":
            index = self._e_index()
        else:
            if not self.in_block or self.in_e:
                self._start_block(n)
            index = self.idx_src2
        return TraceRecord(tap, index, values, keys, prefix, n, line)

    def _phi_records(self, rest: str, line: str, n: int, prefix: str) -> list[TraceRecord]:
        pairs = [tok.partition("=") for tok in rest.split()]
        if not pairs or pairs[0][0] != "phi_tic":
            raise g.GrammarError("PHI line must start with phi_tic=")
        try:
            phi = int(pairs[0][2])
        except ValueError:
            raise g.GrammarError(f"bad phi_tic in {rest!r}") from None
        if not self.in_block or self.in_e:
            self._start_block(n)
        layer, sub_s, sub_f = self.block_lsf
        index = LoopIndex(layer, sub_s, sub_f, 0, phi, 0, self.idx_src0.occurrence)
        out = []
        for key, sep, text in pairs[1:]:
            if not sep:
                continue
            spec = self.phi_specs.get(key)
            if spec is not None and spec.kind == "float":
                try:
                    values, keys = (float(text),), None
                except ValueError:
                    raise g.GrammarError(f"tap {key}: cannot read float value {text!r}") from None
            else:
                values, keys = self._values(spec, key, text)
            out.append(TraceRecord(spec.name if spec else f"phi_{key}", index, values, keys, prefix, n, line))
        return out

    def _tap5_hkl_records(self, rest: str, line: str, n: int, prefix: str) -> list[TraceRecord]:
        m = g.TAP5_HKL_RE.match(rest)
        if not m:
            raise g.GrammarError(f"malformed TAP5_HKL line {rest!r}")
        if not self.in_block or self.in_e:
            self._start_block(n)
        sub_s, sub_f = int(m.group(1)), int(m.group(2))
        index = LoopIndex(self.block_lsf[0], sub_s, sub_f, 0, 0, 0, self.idx_src0.occurrence)
        parts = {"hkl_frac": " ".join(m.group(3, 4, 5)), "h0 k0 l0": " ".join(m.group(6, 7, 8)),
                 "F_cell": m.group(9), "out_of_bounds": m.group(10)}
        out = []
        for key, text in parts.items():
            if text is None:
                continue
            spec = self.cat.lookup("tap5_hkl", key)
            values, keys = self._values(spec, key, text)
            out.append(TraceRecord(spec.name if spec else key, index, values, keys, prefix, n, line))
        return out

    def _at_record(self, rest: str, line: str, n: int, prefix: str) -> TraceRecord:
        m = g.AT_RE.match(rest)
        if not m:
            raise g.GrammarError(f"malformed AT line {rest!r}")
        name, fields = m.group(1), g.parse_index(m.group(2))
        spec = self.cat.get(name)
        values, keys = self._values(spec, name, m.group(3))
        unknown = set(fields) - set(LoopIndex._fields)
        if unknown:
            raise g.GrammarError(f"unknown index field(s) {sorted(unknown)}")
        fields.setdefault("occurrence", self.pixel)
        return TraceRecord(spec.name if spec else name, LoopIndex(**fields), values, keys, prefix, n, line)

    # -- block bookkeeping ---------------------------------------------------------------------
    def _start_block(self, n: int) -> None:
        if self.in_e:
            self.pixel += 1
            self.blocks = 0
            self.in_e = False
        b = self.blocks
        self.blocks += 1
        if b == 0:
            self.stats.blocks_per_pixel.append(0)
        self.stats.blocks_per_pixel[-1] = self.blocks
        os_, layers = self.stats.oversample, self.stats.layers
        if os_ and layers:
            per_layer = os_ * os_
            layer, rem = divmod(b, per_layer)
            lsf = (layer, rem // os_, rem % os_)
            occ = self.pixel
        else:
            lsf, occ = (None, None, None), self.global_block
        self.global_block += 1
        self.block_lsf = lsf
        self.idx_sub = LoopIndex(*lsf, occurrence=occ)
        self.idx_src0 = LoopIndex(*lsf, 0, None, None, occ)
        self.idx_mos0 = LoopIndex(*lsf, 0, 0, 0, occ)
        self.idx_src2 = LoopIndex(*lsf, 2, 0, 0, occ)
        self.in_block = True
        self.closed = False
        self.block_line = n
        self.last_order = -1
