"""The first divergence a dialect-aware trace-diff should find, worked out the simple way.

Takes the C trace's first block (every loop index 0 or unset: layer 0, sub-pixel 0,0, source 0,
phi 0, mosaic 0, and the once-per-pixel taps), reads the mutant's dialect trace back into catalogue
names and units (dialect.read_dialect), and walks the taps both sides have in computation order
with tracekit's default float32 tolerances. It checks the expectations against the live C without
depending on the trace-diff under test (no hints, no consistency checks: only "where").
"""
from __future__ import annotations

from pathlib import Path

from tests.mutants import dialect
from tests.mutants.expect import NONE


def first_block(c_trace: Path) -> tuple[dict, str | None]:
    """(catalogue name → values of the C's first evaluation, pivot branch) of a C trace file."""
    from tracekit import read_trace

    parsed = read_trace(c_trace)
    out: dict = {}
    for (tap, index), rec in parsed.records.items():
        if all(v in (None, 0) for v in index) and tap not in out:
            out[tap] = rec.values
    return out, parsed.branch


def oracle_divergence(c_trace: Path, mutant_lines: list[str]) -> str:
    """The first tap (computation order) where the mutant's block leaves float32 tolerance."""
    from tracekit import catalogue, default_rules
    from tracekit.align import order_key_fn
    from tracekit.records import LoopIndex
    from tracekit.tolerance import compare

    ref, branch = first_block(c_trace)
    cand = dialect.read_dialect(mutant_lines)
    cat = catalogue()
    rules = default_rules("float32")
    order = order_key_fn(cat, branch)
    scale = {d.taps[0]: d for d in cat.defects if d.kind == "print_scale"}
    for tap in sorted(set(ref) & set(cand), key=lambda t: order(t, LoopIndex())):
        spec = cat.get(tap)
        if spec is None or isinstance(ref[tap][0], str):
            continue
        r = ref[tap]
        if tap in scale:
            comps = scale[tap].components or range(len(r))
            r = tuple(v / scale[tap].factor if i in comps else v for i, v in enumerate(r))
        rule = rules.resolve(tap, spec.level, spec.tol)
        if not compare(tuple(r), tuple(cand[tap]), rule).passed:
            return tap
    return NONE
