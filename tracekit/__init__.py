"""tracekit: the pixel-trace protocol of the workbench (pure Python + numpy, no torch).

* `catalogue()` - every tap the C prints: unit, loop level, tolerance class, known C defects.
* `TapValue`, `emit_lines`, `jsonl_lines`, `write_jsonl`, `write_lines` - simcore's live taps
  out as a C-format trace (``TRACE_PY``), optionally with every loop index, or as JSONL.
* `read_trace`, `TraceStream` - streamed parsers for C, TRACE_PY and JSONL traces.
* `Dialect`, `load_dialect` - how another port spells its trace (prefixes, aliases, scales, ignore).
* `diff_traces`, `diff_files` -> `TraceDiff` - aligned comparison (headerless blocks included),
  coverage, first divergence, `Hint(cls, text, check)`.
* `check_consistency`, `check_closure` - is a trace the live computation (no reference needed).
* `parse_config`, `parse_any_config`, `config_diff` - configuration printouts (the C's, or a port's
  own words) and their diff.
"""

# Lazy exports (PEP 562): `import tracekit.atomic` (simcore's output writer) must not load the whole
# protocol (catalogue, parsers, numpy): ~0.3 s on a loaded machine. `from tracekit import X` still works.
from __future__ import annotations

import importlib
import sys
import types

_EXPORTS = {
    "Catalogue": "tracekit.catalogue",
    "KnownDefect": "tracekit.catalogue",
    "TapSpec": "tracekit.catalogue",
    "catalogue": "tracekit.catalogue",
    "parse_any_config": "tracekit.config",
    "parse_config": "tracekit.config",
    "read_config": "tracekit.config",
    "Closure": "tracekit.consistency",
    "Consistency": "tracekit.consistency",
    "check_closure": "tracekit.consistency",
    "check_consistency": "tracekit.consistency",
    "Dialect": "tracekit.dialect",
    "load_dialect": "tracekit.dialect",
    "Hint": "tracekit.hints",
    "ConfigDiff": "tracekit.config_diff",
    "config_diff": "tracekit.config_diff",
    "config_diff_files": "tracekit.config_diff",
    "TapComparison": "tracekit.diverge",
    "TraceDiff": "tracekit.diverge",
    "diff_files": "tracekit.diverge",
    "diff_traces": "tracekit.diverge",
    "emit_lines": "tracekit.emit",
    "emit_records": "tracekit.emit",
    "TraceParseError": "tracekit.errors",
    "TracekitError": "tracekit.errors",
    "TraceUsageError": "tracekit.errors",
    "jsonl_lines": "tracekit.jsonl",
    "write_jsonl": "tracekit.jsonl",
    "write_lines": "tracekit.atomic",
    "TraceStream": "tracekit.parse",
    "LOOP_DIMS": "tracekit.records",
    "LoopIndex": "tracekit.records",
    "TapValue": "tracekit.records",
    "TraceRecord": "tracekit.records",
    "taps_from_trace": "tracekit.replay",
    "Rule": "tracekit.tolerance",
    "RuleSet": "tracekit.tolerance",
    "default_rules": "tracekit.tolerance",
    "load_rules": "tracekit.tolerance",
    "ParsedTrace": "tracekit.trace",
    "read_trace": "tracekit.trace",
}

__all__ = [
    "Catalogue", "Closure", "ConfigDiff", "Consistency", "Dialect", "Hint", "check_closure", "check_consistency",
    "load_dialect", "parse_any_config", "KnownDefect", "LOOP_DIMS", "LoopIndex", "ParsedTrace", "Rule", "RuleSet",
    "TapComparison", "TapSpec", "TapValue", "TraceDiff", "TraceParseError", "TraceRecord", "TraceStream",
    "TraceUsageError", "TracekitError", "catalogue", "config_diff", "config_diff_files", "default_rules",
    "diff_files", "diff_traces", "emit_lines", "emit_records", "jsonl_lines", "load_rules", "parse_config",
    "read_config", "read_trace", "taps_from_trace", "write_jsonl", "write_lines",
]


class _LazyPackage(types.ModuleType):
    """Resolves the exports on first use. When a submodule of the same name as an export is imported
    (``tracekit.catalogue`` beside the function ``catalogue``), the export keeps its name, as with
    eager imports."""

    def __getattr__(self, name: str):
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'tracekit' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        super().__setattr__(name, value)
        return value

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(_EXPORTS))


sys.modules[__name__].__class__ = _LazyPackage
