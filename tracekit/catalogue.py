"""The tap catalogue: the one list of trace tap names, units, loop levels and known C-trace defects.

The data live in ``catalogue.yaml`` next to this file (list order = computation order) and are
loaded once. Parsers map printed names to canonical ones through `Catalogue.lookup`, the emitter
walks `Catalogue.setup_sequence` and the pixel taps in order, and the diff takes tolerance
classes, units and defects from here: no tap name is special-cased in code.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from tracekit.records import LEVEL_DIMS, LOOP_DIMS

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

FAMILIES = ("setup", "detector", "config", "pixel", "phi", "source2", "tap5", "tap5_hkl", "none")
KINDS = ("float", "int", "str", "matrix", "keyvalue", "bool")
TOL_CLASSES = ("geometry", "physics", "intensity", "integer", "string")
BRANCHES = ("sample", "beam")


@dataclass(frozen=True)
class TapSpec:
    """One catalogued tap (see the field list at the top of catalogue.yaml)."""

    name: str
    family: str
    c_name: str
    unit: str
    ncomp: int
    kind: str
    level: str
    group: str
    tol: str
    order: int
    dims: tuple[str, ...] | None = None
    keys: Mapping[str, tuple[str, ...]] | tuple[str, ...] | None = None
    derive: Mapping[str, Any] | list[Mapping[str, Any]] | None = None
    same_as: str | None = None
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    position: bool = False
    shape: str | None = None
    note: str = ""

    @property
    def index_dims(self) -> tuple[str, ...]:
        """LoopIndex fields set for this tap (from its print level)."""
        return LEVEL_DIMS[self.level]

    @property
    def derive_rules(self) -> list[Mapping[str, Any]]:
        """The derive rules, in the order to try them."""
        if not self.derive:
            return []
        return list(self.derive) if isinstance(self.derive, list) else [self.derive]

    @property
    def component(self) -> int | None:
        """The component a `component` view selects (phi_k_frac -> 1), else None."""
        for rule in self.derive_rules:
            if "component" in rule:
                return int(rule["component"][1])
        return None

    @property
    def is_view(self) -> bool:
        """True for taps simcore does not pass: the emitter builds them from other taps."""
        return self.dims is None

    def keys_for(self, branch: str | None) -> tuple[str, ...] | None:
        if self.keys is None or isinstance(self.keys, tuple):
            return self.keys
        return self.keys.get(branch or "beam") or next(iter(self.keys.values()))


@dataclass(frozen=True)
class KnownDefect:
    """A known defect of the C trace, with the data needed to correct or skip it."""

    id: str
    kind: str
    explanation: str
    taps: tuple[str, ...] = ()
    side: str | None = None
    branch: str | None = None
    occurrence: int | None = None
    components: tuple[int, ...] = ()
    factor: float = 1.0
    source: Mapping[str, str] = field(default_factory=dict)
    text: str = ""


class Catalogue:
    """Lookups over the loaded catalogue data."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.specs: dict[str, TapSpec] = {}
        self._by_family: dict[tuple[str, str], TapSpec] = {}
        self._aliases: dict[str, str] = {}
        for order, raw in enumerate(data["taps"]):
            spec = _make_spec(raw, order)
            if spec.name in self.specs:
                raise ValueError(f"catalogue: duplicate tap {spec.name!r}")
            self.specs[spec.name] = spec
            self._by_family[(spec.family, spec.c_name)] = spec
            for alias in spec.aliases:
                self._aliases[alias] = spec.name
        self.setup_sequences: dict[str, tuple[str, ...]] = {
            b: tuple(seq) for b, seq in data["setup_sequences"].items()
        }
        self.branch_markers: dict[str, frozenset[str]] = {
            b: frozenset(v) for b, v in data["branch_markers"].items()
        }
        self.defects: tuple[KnownDefect, ...] = tuple(_make_defect(d) for d in data["defects"])
        self.renames: dict[str, str] = dict(data.get("renames") or {})
        self.unit_suffixes: dict[str, tuple[str, float]] = {
            k: (str(v[0]), float(v[1])) for k, v in (data.get("unit_suffixes") or {}).items()}
        self.unit_si: dict[str, tuple[str, float]] = {
            k: (str(v[0]), float(v[1])) for k, v in (data.get("unit_si") or {}).items()}
        self.raw: Mapping[str, Any] = data
        self._views: dict[str, tuple[str, ...]] = {}
        for spec in self.specs.values():
            if spec.same_as:
                self._views[spec.same_as] = self._views.get(spec.same_as, ()) + (spec.name,)
        self._check()

    # -- lookups -------------------------------------------------------------------------
    def lookup(self, family: str, printed: str) -> TapSpec | None:
        """The spec of a name printed in a line of `family` (C name, canonical name or alias)."""
        spec = self._by_family.get((family, printed))
        if spec is not None:
            return spec
        name = self._aliases.get(printed, printed)
        spec = self.specs.get(name)
        if spec is not None and (spec.family == family or family in ("pixel", "setup", "at")):
            return spec
        return None

    def get(self, name: str) -> TapSpec | None:
        return self.specs.get(self._aliases.get(name, name))

    def views_of(self, name: str) -> tuple[str, ...]:
        """Taps whose ``same_as`` is `name` (phi_F_latt, source2_F_latt, tap5_hkl... for F_latt)."""
        return self._views.get(name, ())

    def in_family(self, family: str) -> list[TapSpec]:
        return [s for s in self.specs.values() if s.family == family]

    def pixel_block(self) -> list[TapSpec]:
        """Group A-D taps printed with the `P: name v` grammar, in order."""
        return [s for s in self.specs.values() if s.family == "pixel" and s.group in "ABCD"]

    def group(self, group: str) -> list[TapSpec]:
        return [s for s in self.specs.values() if s.group == group]

    def defects_for(self, tap: str, kind: str | None = None) -> list[KnownDefect]:
        return [d for d in self.defects if tap in d.taps and (kind is None or d.kind == kind)]

    def glue_texts(self) -> tuple[str, ...]:
        return tuple(d.text for d in self.defects if d.kind == "line_glue")

    def branch_of(self, tap_names: set[str] | frozenset[str]) -> str | None:
        """"sample" or "beam" when the set holds a marker of exactly one branch."""
        hits = [b for b, markers in self.branch_markers.items() if markers & tap_names]
        return hits[0] if len(hits) == 1 else None

    def setup_order(self, branch: str | None) -> dict[tuple[str, int], int]:
        """(tap, occurrence) -> position in the branch's setup print sequence."""
        seq = self.setup_sequences.get(branch or "", ())
        out: dict[tuple[str, int], int] = {}
        seen: dict[str, int] = {}
        for pos, name in enumerate(seq):
            occ = seen.get(name, 0)
            seen[name] = occ + 1
            out[(name, occ)] = pos
        return out

    def simcore_taps(self) -> list[tuple[str, tuple[str, ...]]]:
        """(name, dims) of every tap simcore should pass, in computation order."""
        return [(s.name, s.dims) for s in self.specs.values() if s.dims is not None]

    def _check(self) -> None:
        for seq in self.setup_sequences.values():
            for name in seq:
                if name not in self.specs:
                    raise ValueError(f"catalogue: setup sequence names unknown tap {name!r}")
        for d in self.defects:
            for name in d.taps:
                if name not in self.specs:
                    raise ValueError(f"catalogue: defect {d.id} names unknown tap {name!r}")
        for name, row in (self.raw.get("tolerance_classes") or {}).items():
            if name not in TOL_CLASSES or not all(isinstance(row.get(k), float) for k in ("float64", "float32")):
                raise ValueError(f"catalogue: tolerance class {name!r} needs float64 and float32 tolerances")
        for printed, name in self.renames.items():
            if name not in self.specs or printed in self.specs:
                raise ValueError(f"catalogue: rename {printed!r} -> {name!r} must map a new name to a tap")


def _make_spec(raw: Mapping[str, Any], order: int) -> TapSpec:
    kind = raw.get("kind", "float")
    family = raw["family"]
    level = raw["level"]
    if kind not in KINDS or family not in FAMILIES or level not in LEVEL_DIMS or raw["tol"] not in TOL_CLASSES:
        raise ValueError(f"catalogue: bad kind/family/level/tol in {raw.get('name')!r}")
    keys = raw.get("keys")
    if isinstance(keys, list):
        keys = tuple(keys)
    elif isinstance(keys, dict):
        keys = {b: tuple(v) for b, v in keys.items()}
    dims = raw.get("dims")
    if dims is not None:
        dims = tuple(dims)
        allowed = LEVEL_DIMS[level]
        if any(d not in allowed for d in dims) or list(dims) != [d for d in LOOP_DIMS if d in dims]:
            raise ValueError(f"catalogue: dims {dims} of {raw['name']!r} do not fit level {level!r}")
    return TapSpec(
        name=raw["name"], family=family, c_name=raw.get("c_name", raw["name"]), unit=str(raw["unit"]),
        ncomp=int(raw.get("ncomp", 1)), kind=kind, level=level, group=str(raw["group"]), tol=raw["tol"],
        order=order, dims=dims, keys=keys, derive=raw.get("derive"), same_as=raw.get("same_as"),
        aliases=tuple(raw.get("aliases", ())), related=tuple(raw.get("related", ())),
        position=bool(raw.get("position", False)), shape=raw.get("shape"), note=raw.get("note", ""),
    )


def _make_defect(raw: Mapping[str, Any]) -> KnownDefect:
    return KnownDefect(
        id=raw["id"], kind=raw["kind"], explanation=raw["explanation"], taps=tuple(raw.get("taps", ())),
        side=raw.get("side"), branch=raw.get("branch"), occurrence=raw.get("occurrence"),
        components=tuple(raw.get("components", ())), factor=float(raw.get("factor", 1.0)),
        source=dict(raw.get("source", {})), text=raw.get("text", ""),
    )


@functools.lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The catalogue, loaded once from catalogue.yaml."""
    with open(CATALOGUE_PATH, encoding="utf-8") as fh:
        return Catalogue(yaml.safe_load(fh))
