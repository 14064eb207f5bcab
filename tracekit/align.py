"""Align a reference and a candidate trace by (canonical tap, loop index), never by line number.

Parsers already map C names, TRACE_PY names, dialect names and aliases to canonical names. First,
candidate pixel blocks without a counterpart (a port's block with no loop-index header) are put
on reference blocks (`tracekit.blockmap`). Then: exact (tap, index) pairs; a view tap and the tap
it views (``phi_F_latt`` vs ``F_latt`` at the same index, ``DETECTOR_FAST_AXIS`` vs
``fdet_after_twotheta``, ``source2_F_cell`` vs ``F_cell`` at source 2) through the catalogue's
``same_as``; and for taps that do not depend on the sub-pixel (catalogue dims), a reference
value of any sub-pixel block with the candidate's value of any block. Pairs come back in
computation order: setup taps in the reference branch's print order, then catalogue order, then
loop index.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tracekit.blockmap import BlockMatch, block_of, map_blocks, subpixel_free
from tracekit.catalogue import Catalogue, TapSpec
from tracekit.records import LoopIndex, TraceRecord, Value
from tracekit.tolerance import RuleSet
from tracekit.trace import ParsedTrace

Key = tuple[str, LoopIndex]


@dataclass(frozen=True)
class Pair:
    """A reference record and the candidate values aligned with it."""

    tap: str
    index: LoopIndex
    spec: TapSpec | None
    ref: TraceRecord
    cand: TraceRecord
    ref_values: tuple[Value, ...]
    cand_values: tuple[Value, ...]
    via: str | None = None  # name of the tap used on the other side through same_as
    matched: str = "exact"  # "exact" | "same_as" | "any sub-pixel"


@dataclass
class Alignment:
    pairs: list[Pair]
    only_in_ref: list[Key]
    only_in_cand: list[Key]
    blocks: list[BlockMatch] = field(default_factory=list)


def align(ref: ParsedTrace, cand: ParsedTrace, rules: RuleSet | None = None) -> Alignment:
    """Pair every reference record with a candidate record (see module docstring); `rules`
    (the diff's tolerance rules) judge which reference block a headerless block matches best."""
    cat = ref.cat
    blocks: list[BlockMatch] = []
    if rules is not None:
        cand, blocks = map_blocks(ref, cand, rules)
    pairs: list[Pair] = []
    only_ref: list[Key] = []
    used_cand: set[Key] = set()
    anywhere = _subpixel_free_index(cand)
    for key, rrec in ref.records.items():
        spec = cat.get(key[0])
        crec = cand.records.get(key)
        if crec is not None:
            used_cand.add(key)
            pairs.append(Pair(key[0], key[1], spec, rrec, crec, rrec.values, crec.values))
            continue
        partner = _via_same_as(spec, key[1], cand, cat)
        if partner is not None:
            crec, values = partner
            used_cand.add(crec.key)
            own = _project(spec, cat.get(crec.tap), rrec.values)   # hkl_frac seen through phi_k_frac
            pairs.append(Pair(key[0], key[1], spec, rrec, crec, own, values, via=crec.tap, matched="same_as"))
            continue
        crec = anywhere.get(_free_key(key)) if block_of(key[1]) is not None and subpixel_free(spec, cat) else None
        if crec is None:
            only_ref.append(key)
            continue
        used_cand.add(crec.key)
        pairs.append(Pair(key[0], key[1], spec, rrec, crec, rrec.values, crec.values, matched="any sub-pixel"))
    only_cand: list[Key] = []
    for key, crec in cand.records.items():
        if key in used_cand or key in ref.records:
            continue
        spec = cat.get(key[0])
        partner = _via_same_as(spec, key[1], ref, cat)
        if partner is None:
            only_cand.append(key)
            continue
        rrec, values = partner
        own = _project(spec, cat.get(rrec.tap), crec.values)
        pairs.append(Pair(key[0], key[1], spec, rrec, crec, values, own, via=rrec.tap, matched="same_as"))
    order = order_key_fn(cat, ref.branch or cand.branch)
    pairs.sort(key=lambda p: order(p.tap, p.index))
    return Alignment(pairs, sorted(only_ref, key=lambda k: order(*k)), sorted(only_cand, key=lambda k: order(*k)),
                     blocks)


def _free_key(key: Key) -> tuple:
    i = key[1]
    return (key[0], i.source, i.phi, i.mosaic)


def _subpixel_free_index(trace: ParsedTrace) -> dict[tuple, TraceRecord]:
    """(tap, source, phi, mosaic) -> the first block record of it (for sub-pixel-free taps)."""
    out: dict[tuple, TraceRecord] = {}
    for key, rec in trace.records.items():
        if block_of(key[1]) is not None:
            out.setdefault(_free_key(key), rec)
    return out


def _via_same_as(spec: TapSpec | None, index: LoopIndex, other: ParsedTrace,
                 cat: Catalogue) -> tuple[TraceRecord, tuple[Value, ...]] | None:
    """The other side's record of the tap `spec` views (or of a view of `spec`)."""
    if spec is None:
        return None
    names = [spec.same_as] if spec.same_as else []
    names += cat.views_of(spec.name)
    for name in names:
        rec = other.records.get((name, index))
        if rec is None:
            continue
        target = cat.get(name)
        return rec, _project(spec, target, rec.values)
    return None


def _project(spec: TapSpec, other: TapSpec | None, values: tuple[Value, ...]) -> tuple[Value, ...]:
    """Pick the component a `component` view selects (phi_k_frac = hkl_frac[1])."""
    for s in (spec, other):
        if s is not None and s.component is not None and len(values) > 1:
            return (values[s.component],)
    return values


def order_key_fn(cat: Catalogue, branch: str | None):
    """Computation-order sort key for (tap, LoopIndex)."""
    setup_pos = cat.setup_order(branch)
    n_specs = len(cat.specs)

    def key(tap: str, index: LoopIndex) -> tuple:
        spec = cat.get(tap)
        if spec is None:
            return (3, 0, tap, index.sort_key())
        if spec.level == "setup":
            pos = setup_pos.get((spec.name, index.occurrence))
            return (0, spec.order if pos is None else pos - n_specs, "", index.sort_key())
        return (1, spec.order, "", index.sort_key())

    return key
