"""Configuration printouts in other words (``Pivot: SAMPLE``, ``Beam center (mm): 25.6 25.6``):
a data-driven table of line patterns -> the C's configuration keys, in the C's units.

The built-in table is ``config_words.yaml`` next to this file; a dialect's ``config:`` section
puts its own rules in front. `read_words(text, rules)` returns the keys the rules found.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from tracekit.errors import TraceUsageError

WORDS_PATH = Path(__file__).with_name("config_words.yaml")
NUMBER = r"(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_KINDS = ("float", "int", "lower", "str")
_RULE_KEYS = {"re", "key", "keys", "scale", "kind", "map"}


@dataclass(frozen=True)
class WordRule:
    """One compiled pattern: groups -> keys (values scaled, converted, mapped)."""

    rx: re.Pattern
    keys: tuple[str, ...]
    scales: tuple[float, ...]
    kind: str
    mapping: Mapping[str, Any]
    origin: str

    def apply(self, line: str) -> dict[str, Any] | None:
        m = self.rx.match(line)
        if not m:
            return None
        out = {}
        for key, scale, text in zip(self.keys, self.scales, m.groups()):
            out[key] = self._value(text, scale)
        return out

    def _value(self, text: str, scale: float) -> Any:
        if self.kind == "int":
            value: Any = int(text)
        elif self.kind in ("lower", "str"):
            value = text.lower() if self.kind == "lower" else text
        else:
            value = float(text) * scale
        return self.mapping.get(value, value) if isinstance(value, str) else value


def compile_rules(items: Sequence[Mapping[str, Any]], origin: str) -> list[WordRule]:
    """Validate and compile rules (see config_words.yaml); TraceUsageError names the bad one."""
    out = []
    for n, item in enumerate(items, 1):
        where = f"{origin}: config rule #{n}"
        if not isinstance(item, Mapping) or "re" not in item:
            raise TraceUsageError(f"{where}: needs `re` and `key` (or `keys`)")
        unknown = set(item) - _RULE_KEYS
        if unknown:
            raise TraceUsageError(f"{where}: unknown field(s) {sorted(unknown)}")
        keys = item.get("keys") or ([item["key"]] if item.get("key") else [])
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise TraceUsageError(f"{where}: needs `key` or a list `keys`")
        kind = item.get("kind", "float")
        if kind not in _KINDS:
            raise TraceUsageError(f"{where}: kind must be one of {_KINDS}, got {kind!r}")
        scale = item.get("scale", 1.0)
        scales = list(scale) if isinstance(scale, (list, tuple)) else [scale] * len(keys)
        try:
            scales = [float(s) for s in scales]
        except (TypeError, ValueError):
            raise TraceUsageError(f"{where}: scale must be a number (or one per key)") from None
        pattern = str(item["re"]).replace("{N}", NUMBER)
        try:
            rx = re.compile(r"^\s*(?:" + pattern + r")", re.I)
        except re.error as exc:
            raise TraceUsageError(f"{where}: bad regex ({exc})") from None
        if rx.groups != len(keys) or len(scales) != len(keys):
            raise TraceUsageError(f"{where}: {rx.groups} group(s) for {len(keys)} key(s)")
        mapping = item.get("map") or {}
        if not isinstance(mapping, Mapping):
            raise TraceUsageError(f"{where}: map must be a mapping")
        out.append(WordRule(rx, tuple(keys), tuple(scales), kind, dict(mapping), where))
    return out


@functools.lru_cache(maxsize=1)
def builtin_rules() -> tuple[WordRule, ...]:
    with open(WORDS_PATH, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return tuple(compile_rules(data["rules"], WORDS_PATH.name))


def read_words(lines: Iterable[str], rules: Sequence[WordRule]) -> dict[str, Any]:
    """Keys found by `rules` in `lines` (first rule that matches a line wins; later lines win)."""
    out: dict[str, Any] = {}
    for line in lines:
        for rule in rules:
            found = rule.apply(line)
            if found is not None:
                out.update(found)
                break
    return out
