"""The per-family line grammars of the text parser (``P_PHI``, ``P_SOURCE2``/``P_TAP5``,
``P_TAP5_HKL``, ``P_AT``), as a mixin of `tracekit.parse._LineParser`: each turns one line into
records at the loop index the block tracker gives it.
"""
from __future__ import annotations

from tracekit import grammar as g
from tracekit.records import LoopIndex, TraceRecord


class FamilyLines:
    """Record builders for the family grammars; needs the parser's `blk`, `names`, `cat`,
    `stats` and `_values`."""

    def _family_record(self, family: str, name: str, text: str, line: str, n: int, prefix: str):
        r = self.names.resolve(family, name)
        if r.ignored:
            self.stats.skip("ignored")
            return None
        spec = r.spec
        values, keys = self._values(spec, name, text, r.factor)
        tap = spec.name if spec else f"{family}_{name}"
        if family == "tap5":
            index = self.blk.e_tap(tap)
        else:
            self.blk.enter(tap, n, trailing=True)
            index = self.blk.idx_src2
        return [TraceRecord(tap, index, values, keys, prefix, n, line)]

    def _phi_records(self, rest: str, line: str, n: int, prefix: str) -> list[TraceRecord]:
        pairs = [tok.partition("=") for tok in rest.split()]
        if not pairs or pairs[0][0] != "phi_tic":
            raise g.GrammarError("PHI line must start with phi_tic=")
        try:
            phi = int(pairs[0][2])
        except ValueError:
            raise g.GrammarError(f"bad phi_tic in {rest!r}") from None
        blk = self.blk
        blk.enter(("phi", phi), n, trailing=True)
        layer, sub_s, sub_f = blk.block_lsf
        index = LoopIndex(layer, sub_s, sub_f, 0, phi, 0, blk.idx_src0.occurrence)
        out = []
        for key, sep, text in pairs[1:]:
            if not sep:
                continue
            r = self.names.resolve("phi", key)
            if r.ignored:
                continue
            spec = r.spec
            if spec is not None and spec.kind == "float" and r.factor == 1.0:
                try:
                    values, keys = (float(text),), None
                except ValueError:
                    raise g.GrammarError(f"tap {key}: cannot read float value {text!r}") from None
            else:
                values, keys = self._values(spec, key, text, r.factor)
            out.append(TraceRecord(spec.name if spec else f"phi_{key}", index, values, keys, prefix, n, line))
        return out

    def _tap5_hkl_records(self, rest: str, line: str, n: int, prefix: str) -> list[TraceRecord]:
        m = g.TAP5_HKL_RE.match(rest)
        if not m:
            raise g.GrammarError(f"malformed TAP5_HKL line {rest!r}")
        blk = self.blk
        sub_s, sub_f = int(m.group(1)), int(m.group(2))
        blk.enter(("tap5_hkl", sub_s, sub_f), n, trailing=True)
        index = LoopIndex(blk.block_lsf[0], sub_s, sub_f, 0, 0, 0, blk.idx_src0.occurrence)
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

    def _at_records(self, rest: str, line: str, n: int, prefix: str) -> list[TraceRecord]:
        m = g.AT_RE.match(rest)
        if not m:
            raise g.GrammarError(f"malformed AT line {rest!r}")
        name, fields = m.group(1), g.parse_index(m.group(2))
        r = self.names.resolve("at", name)
        if r.ignored:
            return []
        values, keys = self._values(r.spec, name, m.group(3), r.factor)
        unknown = set(fields) - set(LoopIndex._fields)
        if unknown:
            raise g.GrammarError(f"unknown index field(s) {sorted(unknown)}")
        fields.setdefault("occurrence", self.blk.pixel)
        return [TraceRecord(r.name, LoopIndex(**fields), values, keys, prefix, n, line)]
