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
from tracekit.catalogue import Catalogue, KnownDefect, TapSpec, catalogue
from tracekit.config import parse_any_config, parse_config, read_config
from tracekit.consistency import Closure, Consistency, check_closure, check_consistency
from tracekit.dialect import Dialect, load_dialect
from tracekit.hints import Hint
from tracekit.config_diff import ConfigDiff, config_diff, config_diff_files
from tracekit.diverge import TapComparison, TraceDiff, diff_files, diff_traces
from tracekit.emit import emit_lines, emit_records
from tracekit.errors import TraceParseError, TracekitError, TraceUsageError
from tracekit.jsonl import jsonl_lines, write_jsonl
from tracekit.atomic import write_lines
from tracekit.parse import TraceStream
from tracekit.records import LOOP_DIMS, LoopIndex, TapValue, TraceRecord
from tracekit.replay import taps_from_trace
from tracekit.tolerance import Rule, RuleSet, default_rules, load_rules
from tracekit.trace import ParsedTrace, read_trace

__all__ = [
    "Catalogue", "Closure", "ConfigDiff", "Consistency", "Dialect", "Hint", "check_closure", "check_consistency",
    "load_dialect", "parse_any_config", "KnownDefect", "LOOP_DIMS", "LoopIndex", "ParsedTrace", "Rule", "RuleSet",
    "TapComparison", "TapSpec", "TapValue", "TraceDiff", "TraceParseError", "TraceRecord", "TraceStream",
    "TraceUsageError", "TracekitError", "catalogue", "config_diff", "config_diff_files", "default_rules",
    "diff_files", "diff_traces", "emit_lines", "emit_records", "jsonl_lines", "load_rules", "parse_config",
    "read_config", "read_trace", "taps_from_trace", "write_jsonl", "write_lines",
]
