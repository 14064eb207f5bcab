"""Trace dialects: how another port spells its trace, as data (a small YAML file).

A dialect tells the parser which line prefixes carry the port's taps, what the port calls the
catalogue's taps, which values it prints in other units, which of its names to skip, and (for
``pwb config-diff``) how its configuration printout reads::

    name: torchport
    prefixes: [TRACE_TORCH]          # line prefixes that carry this port's taps
    aliases:                         # port name -> catalogue name
      omega_pixel_sr: omega_pixel
      F_cell_interpolated: F_cell
    scale:                           # catalogue value = port value * factor (port or catalogue name)
      pixel_pos_meters: 0.001
    ignore: [spindle_magnitude, "oversample_*"]   # fnmatch patterns on the port's names
    dtype: float32                   # optional: what the port computes in (note, description: free text)
    config:                          # optional: regex -> key (with a unit scale), see tracekit.config_words
      '^Det dist = (N) mm': {key: distance_m, scale: 1.0e-3}

Unreadable YAML is exit 5 (TraceParseError); a readable file with a bad field is exit 2
(TraceUsageError), the message naming the field.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


from tracekit.catalogue import Catalogue, catalogue
from tracekit.errors import TraceParseError, TraceUsageError
from tracekit.inputs import read_input_yaml

_FIELDS = {"name", "prefixes", "aliases", "scale", "ignore", "dtype", "config", "note", "description"}
_PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Dialect:
    """One port's trace dialect (see module docstring). The default, `Dialect()`, is the C's."""

    name: str = "catalogue"
    prefixes: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    scale: Mapping[str, float] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    dtype: str | None = None
    config: tuple[Mapping[str, Any], ...] = ()
    source: str = ""

    def ignores(self, *names: str) -> bool:
        """True when any of `names` (printed or canonical) matches an ignore pattern."""
        return any(fnmatch.fnmatchcase(n, pat) for pat in self.ignore for n in names if n)

    def alias_of(self, printed: str) -> str | None:
        return self.aliases.get(printed)

    def factor(self, printed: str, canonical: str) -> float:
        """catalogue value = printed value * factor (1.0 unless `scale` names the tap)."""
        if printed in self.scale:
            return self.scale[printed]
        return self.scale.get(canonical, 1.0)


def load_dialect(path: str | Path, *, cat: Catalogue | None = None) -> Dialect:
    """Read and validate a dialect YAML file (see module docstring)."""
    path = Path(path)
    data = read_input_yaml(path)      # a FIFO, folder or device is refused; bad YAML is exit 5
    return dialect_from_dict(data, origin=str(path), cat=cat)


def dialect_from_dict(data: Any, *, origin: str = "<dialect>", cat: Catalogue | None = None) -> Dialect:
    """Validate a parsed dialect mapping; TraceUsageError names the bad field."""
    cat = cat or catalogue()
    if not isinstance(data, dict):
        raise TraceUsageError(f"{origin}: a dialect must be a mapping (name, prefixes, aliases, scale, ignore)")
    unknown = set(data) - _FIELDS
    if unknown:
        raise TraceUsageError(f"{origin}: unknown dialect field(s) {sorted(unknown)}; allowed {sorted(_FIELDS)}")
    prefixes = _str_list(data.get("prefixes", []), "prefixes", origin)
    for p in prefixes:
        if not _PREFIX_RE.match(p):
            raise TraceUsageError(f"{origin}: prefix {p!r} must be letters, digits and _ (no colon)")
    aliases = _mapping(data.get("aliases", {}), "aliases", origin)
    for port_name, cat_name in aliases.items():
        if not isinstance(cat_name, str) or cat.get(cat_name) is None:
            raise TraceUsageError(f"{origin}: aliases: {port_name!r} -> {cat_name!r} is not a catalogue tap")
    scale: dict[str, float] = {}
    for name, factor in _mapping(data.get("scale", {}), "scale", origin).items():
        try:
            scale[str(name)] = float(factor)
        except (TypeError, ValueError):
            raise TraceUsageError(f"{origin}: scale: {name!r} needs a number, got {factor!r}") from None
        if not scale[str(name)] or scale[str(name)] != scale[str(name)]:
            raise TraceUsageError(f"{origin}: scale: {name!r} must be a non-zero number")
    dtype = data.get("dtype")
    if dtype is not None and dtype not in DTYPES:
        raise TraceUsageError(f"{origin}: dtype must be one of {DTYPES}, got {dtype!r}")
    config = data.get("config") or {}
    if isinstance(config, dict):
        config = [dict(v, re=k) if isinstance(v, dict) else {"re": k, "key": v} for k, v in config.items()]
    if not isinstance(config, list) or not all(isinstance(c, dict) for c in config):
        raise TraceUsageError(f"{origin}: config must map regex -> key (or {{key, scale}}), or be a list of rules")
    from tracekit.config_words import compile_rules   # late: config_words validates the rules

    compile_rules(config, origin)
    return Dialect(name=str(data.get("name") or Path(origin).stem), prefixes=tuple(prefixes),
                   aliases={str(k): v for k, v in aliases.items()}, scale=scale,
                   ignore=tuple(_str_list(data.get("ignore", []), "ignore", origin)), dtype=dtype,
                   config=tuple(config), source=origin)


def _str_list(value: Any, name: str, origin: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise TraceUsageError(f"{origin}: {name} must be a list of names")
    return value


def _mapping(value: Any, name: str, origin: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TraceUsageError(f"{origin}: {name} must be a mapping")
    return value
