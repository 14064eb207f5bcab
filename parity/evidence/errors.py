"""Errors of the evidence layer (bundles, ledger, plans, known divergences).

Each class carries an integer ``exit_code`` that `cli/errors.py::guarded()` turns into a
one-line message. The numbers follow `cli/exit_codes.Exit` (parity does not import cli):
2 = usage (a refused argument: bad slug, unknown or ambiguous bundle id, `[D]` without evidence, a named
root that does not exist), 5 = unreadable / malformed input (a corrupt ledger line, a bad plan.yaml,
a clock that went backwards, pytest-json-report missing for `pwb plan verify`); a task whose tests
fail (1) or collect nothing (3) is refused `[D]` with that code.
"""
from __future__ import annotations

USAGE = 2
BAD_INPUT = 5


class EvidenceError(Exception):
    """Base class; never raised directly."""

    exit_code = BAD_INPUT


class EvidenceUsageError(EvidenceError, ValueError):
    """A refused argument (exit 2): bad slug/name, unknown id, missing evidence."""

    exit_code = USAGE


class UnknownBundleError(EvidenceUsageError):
    """A bundle id names no complete bundle under the reports root (exit 2)."""


class BundleError(EvidenceError):
    """A bundle could not be written or published (exit 5); its `.partial` sibling is left."""


class LedgerCorruptError(EvidenceError):
    """The ledger file breaks an invariant (duplicate #N, dates out of order, bad JSON) (exit 5)."""


class ClockError(EvidenceError):
    """The clock is earlier than the newest stored record, so a new date would lie (exit 5)."""


class PlanFileError(EvidenceError):
    """A plan.yaml is unreadable or malformed (exit 5)."""


class RegistryError(EvidenceError):
    """The known-divergence registry is malformed (exit 5)."""


class ProvenanceError(EvidenceError):
    """An input or binary named for provenance does not exist (exit 5)."""


class TaskNotVerifiedError(EvidenceError):
    """A task's cited tests do not show it done: one fails (exit 1) or collects nothing (exit 3)."""

    def __init__(self, message: str, *, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = int(exit_code)


class VerifyToolError(EvidenceError):
    """pytest or pytest-json-report is missing, so a plan's tests cannot be verified (exit 5)."""
