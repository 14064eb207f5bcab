"""Pair the candidate's pixel blocks with the reference's when their loop indices differ.

The C prints one block per (layer, sub_s, sub_f) and says which through its header lines; most
ports print one block per pixel with no header, so their blocks carry only an ordinal. Before the
tap-by-tap alignment, each candidate block that has no exact counterpart is given a reference
block: by position when both sides have the same number of unmatched blocks and position fits
at least as well as the best match, else the reference block the candidate matches best (fewest
failing sub-pixel-dependent taps under the tolerance rules, then smallest error). Every such
choice is reported (`BlockMatch`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

from tracekit.catalogue import Catalogue, TapSpec
from tracekit.records import LoopIndex, TraceRecord
from tracekit.tolerance import RuleSet, compare
from tracekit.trace import ParsedTrace

BlockKey = tuple[Optional[int], Optional[int], Optional[int], int]
_SUB = ("layer", "sub_s", "sub_f")


@dataclass(frozen=True)
class BlockMatch:
    """How one candidate block was paired with a reference block."""

    cand: BlockKey
    ref: BlockKey | None
    method: str           # "position" | "best match" | "unmatched"
    choices: int          # reference blocks it could have been paired with
    failing: int = 0      # sub-pixel-dependent taps that differ under that pairing
    compared: int = 0

    def describe(self) -> str:
        where = "no reference block left" if self.ref is None else label(self.ref)
        return (f"candidate block {label(self.cand)} -> reference {where} by {self.method} "
                f"of {self.choices} ({self.failing} of {self.compared} sub-pixel taps differ)")

    def to_dict(self) -> dict:
        return {"cand": label(self.cand), "ref": None if self.ref is None else label(self.ref),
                "method": self.method, "choices": self.choices, "failing": self.failing, "compared": self.compared}


def label(key: BlockKey) -> str:
    if key[0] is None:
        return f"#{key[3]}"
    return f"layer={key[0]},sub_s={key[1]},sub_f={key[2]}" + (f",occurrence={key[3]}" if key[3] else "")


def block_of(index: LoopIndex) -> BlockKey | None:
    """The block a record belongs to (None for setup and pixel-level records)."""
    if index.source is None and index.layer is None:
        return None
    return (index.layer, index.sub_s, index.sub_f, index.occurrence)


def in_block(index: LoopIndex, key: BlockKey) -> LoopIndex:
    return index._replace(layer=key[0], sub_s=key[1], sub_f=key[2], occurrence=key[3])


def subpixel_free(spec: TapSpec | None, cat: Catalogue) -> bool:
    """True for taps whose value does not depend on the sub-pixel or layer (catalogue dims)."""
    seen = 0
    while spec is not None and spec.dims is None and spec.same_as and seen < 4:
        spec, seen = cat.get(spec.same_as), seen + 1
    return spec is not None and spec.dims is not None and not any(d in _SUB for d in spec.dims)


def map_blocks(ref: ParsedTrace, cand: ParsedTrace, rules: RuleSet) -> tuple[ParsedTrace, list[BlockMatch]]:
    """`cand` with its unmatched blocks re-keyed onto reference blocks, and what was done."""
    ref_blocks, cand_blocks = _blocks(ref), _blocks(cand)
    free_ref = [b for b in ref_blocks if b not in cand_blocks and _first_pixel(ref, b)]
    lone = [b for b in cand_blocks if b not in ref_blocks and _first_pixel(cand, b)]
    if not lone or not free_ref:
        return cand, [BlockMatch(b, None, "unmatched", 0) for b in lone]
    by_block = _records_by_block(cand)
    scores = {(c, r): _score(ref, by_block[c], r, rules) for c in lone for r in free_ref}
    best = _greedy(lone, free_ref, scores)
    mapping, method = best, "best match"
    if len(lone) == len(free_ref):
        position = dict(zip(lone, free_ref))
        if _total(position, scores)[0] <= _total(best, scores)[0]:
            mapping, method = position, "position"
    matches = []
    for c in lone:
        r = mapping.get(c)
        fail, n = scores[(c, r)][:2] if r is not None else (0, 0)
        matches.append(BlockMatch(c, r, method if r is not None else "unmatched", len(free_ref), fail, n))
    records: dict = {}
    for key, rec in cand.records.items():
        b = block_of(rec.index)
        if b in mapping:
            rec = dataclasses.replace(rec, index=in_block(rec.index, mapping[b]))
        records[rec.key] = rec
    return dataclasses.replace(cand, records=records), matches


def _first_pixel(trace: ParsedTrace, key: BlockKey) -> bool:
    """True for blocks of the trace's first pixel (a headerless block's ordinal counts on
    across pixels; later pixels, e.g. a re-printed section after group E, are not paired)."""
    if key[0] is not None:
        return key[3] == 0
    per_pixel = trace.stats.blocks_per_pixel
    return not per_pixel or key[3] < per_pixel[0]


def _blocks(trace: ParsedTrace) -> list[BlockKey]:
    seen: dict[BlockKey, None] = {}
    for rec in trace.records.values():
        b = block_of(rec.index)
        if b is not None:
            seen.setdefault(b)
    return list(seen)


def _records_by_block(trace: ParsedTrace) -> dict[BlockKey, list[TraceRecord]]:
    out: dict[BlockKey, list[TraceRecord]] = {}
    for rec in trace.records.values():
        b = block_of(rec.index)
        if b is not None:
            out.setdefault(b, []).append(rec)
    return out


def _score(ref: ParsedTrace, recs: list[TraceRecord], target: BlockKey, rules: RuleSet) -> tuple[int, int, float]:
    """(failing, compared, summed error) of the sub-pixel-dependent taps of one candidate block
    put at reference block `target`."""
    cat = ref.cat
    fail = n = 0
    err = 0.0
    for rec in recs:
        spec = cat.get(rec.tap)
        if spec is None or subpixel_free(spec, cat):
            continue
        other = ref.records.get((rec.tap, in_block(rec.index, target)))
        if other is None:
            continue
        verdict = compare(other.values, rec.values, rules.resolve(spec.name, spec.level, spec.tol))
        n += 1
        fail += not verdict.passed
        err += min(verdict.rel_err, 1.0)
    return fail, n, err


def _greedy(lone: list[BlockKey], free: list[BlockKey], scores) -> dict[BlockKey, BlockKey]:
    """Each candidate block to its best free reference block, best pairs first, no block twice."""
    ranked = sorted(((scores[(c, r)][0], scores[(c, r)][2], free.index(r), lone.index(c), c, r)
                     for c in lone for r in free))
    out: dict[BlockKey, BlockKey] = {}
    used: set[BlockKey] = set()
    for *_, c, r in ranked:
        if c not in out and r not in used:
            out[c] = r
            used.add(r)
    return out


def _total(mapping: dict[BlockKey, BlockKey], scores) -> tuple[int, float]:
    picked = [scores[(c, r)] for c, r in mapping.items()]
    return sum(s[0] for s in picked), sum(s[2] for s in picked)
