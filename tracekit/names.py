"""Resolve a printed tap name to a catalogue tap: the dialect first, then the catalogue, then a
conservative built-in table (catalogue.yaml ``renames`` and ``unit_suffixes``).

Every name that did not resolve as printed is remembered with how it resolved, so the report
can say "``pixel_pos_mm`` read as pixel_pos_meters (unit suffix mm -> m, x0.001)". The unit-suffix
rule matches only when exactly one catalogue tap has the name's stem and a unit of the same kind
(or, among several in that unit, the one named by the stem itself).
"""
from __future__ import annotations

from dataclasses import dataclass

from tracekit.catalogue import Catalogue, TapSpec
from tracekit.dialect import Dialect


@dataclass(frozen=True)
class Resolved:
    """What a printed name means: its spec (None = unknown), the value factor, and how."""

    spec: TapSpec | None
    name: str                 # canonical name (the printed one when unknown)
    factor: float = 1.0       # catalogue value = printed value * factor
    how: str = ""             # "" when printed as the catalogue names it
    ignored: bool = False


class NameResolver:
    """Cached name resolution for one trace (see module docstring)."""

    def __init__(self, cat: Catalogue, dialect: Dialect | None = None) -> None:
        self.cat = cat
        self.dialect = dialect or Dialect()
        self._cache: dict[tuple[str, str], Resolved] = {}
        self.renamed: dict[str, Resolved] = {}
        self.ignored: set[str] = set()
        self._stems = _stems(cat)

    def resolve(self, family: str, printed: str) -> Resolved:
        key = (family, printed)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._resolve(family, printed)
            if hit.ignored:
                self.ignored.add(printed)
            elif hit.how:
                self.renamed[printed] = hit
        return hit

    def _resolve(self, family: str, printed: str) -> Resolved:
        d = self.dialect
        alias = d.alias_of(printed)
        if d.ignores(printed) and alias is None:
            return Resolved(None, printed, ignored=True)
        if alias is not None:
            spec = self.cat.get(alias)
            if family not in ("pixel", "setup", "at"):
                spec = self.cat.lookup(family, spec.c_name) or spec
            return Resolved(spec, spec.name, d.factor(printed, spec.name), f"dialect alias {printed} -> {spec.name}")
        spec = self.cat.lookup(family, printed)
        if spec is not None:
            if d.ignores(spec.name):
                return Resolved(None, printed, ignored=True)
            factor = d.factor(printed, spec.name)
            return Resolved(spec, spec.name, factor, f"dialect scale x{factor:g}" if factor != 1.0 else "")
        if family not in ("pixel", "setup"):
            return Resolved(None, printed)
        builtin = self._builtin(printed)
        if builtin is None or d.ignores(builtin.name):
            return Resolved(None, printed, ignored=builtin is not None)
        explicit = d.scale.get(printed, d.scale.get(builtin.name))
        return Resolved(builtin.spec, builtin.name, builtin.factor if explicit is None else explicit, builtin.how)

    def _builtin(self, printed: str) -> Resolved | None:
        cat = self.cat
        target = cat.renames.get(printed)
        if target is not None:
            return Resolved(cat.specs[target], target, 1.0, f"built-in rename {printed} -> {target}")
        stem, suffix = _split_suffix(printed, cat.unit_suffixes)
        if suffix is None:
            return None
        kind, to_si = cat.unit_suffixes[suffix]
        matches = [(spec, si) for spec, si in self._stems.get(stem, ()) if si[0] == kind]
        exact = [(spec, si) for spec, si in matches if abs(si[1] / to_si - 1) < 1e-12]
        if len(exact) > 1:                  # omega_pixel_steradian: the tap named by the stem itself
            exact = [(spec, si) for spec, si in exact if spec.name == stem]
        pick = exact if len(exact) == 1 else matches if len(matches) == 1 else []
        if not pick:
            return None
        spec, (_, cat_si) = pick[0]
        factor = to_si / cat_si
        text = f"unit suffix {printed} -> {spec.name}" + (f" ({suffix} -> {spec.unit}, x{factor:g})" if factor != 1 else "")
        return Resolved(spec, spec.name, factor, text)


def _split_suffix(name: str, suffixes) -> tuple[str, str | None]:
    """("pixel_pos", "mm") for "pixel_pos_mm"; the longest suffix wins ("m_inv" over "inv")."""
    best = None
    for suffix in suffixes:
        if name.endswith("_" + suffix) and len(name) > len(suffix) + 1:
            if best is None or len(suffix) > len(best):
                best = suffix
    return (name[: -len(best) - 1], best) if best else (name, None)


def _stems(cat: Catalogue) -> dict[str, list[tuple[TapSpec, tuple[str, float]]]]:
    """stem -> [(spec, (unit kind, SI factor))] for printed catalogue taps with a known unit."""
    out: dict[str, list] = {}
    for spec in cat.specs.values():
        si = cat.unit_si.get(spec.unit)
        if si is None or spec.family in ("none", "phi", "source2", "tap5", "tap5_hkl"):
            continue
        stem, suffix = _split_suffix(spec.name, cat.unit_suffixes)
        for s in {stem, spec.name}:
            out.setdefault(s, []).append((spec, si))
    return out
