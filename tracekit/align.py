"""Align a reference and a candidate trace by (canonical tap, loop index), never by line number.

Parsers already map C names, TRACE_PY names and aliases to canonical names. When one side has a
view tap and the other only the tap it views (``phi_F_latt`` vs ``F_latt`` at the same index,
``DETECTOR_FAST_AXIS`` vs ``fdet_after_twotheta``, ``source2_F_cell`` vs ``F_cell`` at source 2),
the catalogue's ``same_as`` pairs them. Pairs come back in computation order: setup taps in the
reference branch's print order, then catalogue order, then loop index.
"""
from __future__ import annotations

from dataclasses import dataclass

from tracekit.catalogue import Catalogue, TapSpec
from tracekit.records import LoopIndex, TraceRecord, Value
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


@dataclass
class Alignment:
    pairs: list[Pair]
    only_in_ref: list[Key]
    only_in_cand: list[Key]


def align(ref: ParsedTrace, cand: ParsedTrace) -> Alignment:
    """Pair every reference record with a candidate record (see module docstring)."""
    cat = ref.cat
    pairs: list[Pair] = []
    only_ref: list[Key] = []
    used_cand: set[Key] = set()
    for key, rrec in ref.records.items():
        spec = cat.get(key[0])
        crec = cand.records.get(key)
        if crec is not None:
            used_cand.add(key)
            pairs.append(Pair(key[0], key[1], spec, rrec, crec, rrec.values, crec.values))
            continue
        partner = _via_same_as(spec, key[1], cand, cat)
        if partner is None:
            only_ref.append(key)
            continue
        crec, values = partner
        used_cand.add(crec.key)
        pairs.append(Pair(key[0], key[1], spec, rrec, crec, rrec.values, values, via=crec.tap))
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
        pairs.append(Pair(key[0], key[1], spec, rrec, crec, values, crec.values, via=rrec.tap))
    order = order_key_fn(cat, ref.branch or cand.branch)
    pairs.sort(key=lambda p: order(p.tap, p.index))
    return Alignment(pairs, sorted(only_ref, key=lambda k: order(*k)), sorted(only_cand, key=lambda k: order(*k)))


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
