"""Deterministic draws: the same seed gives the same cases.

The cases are drawn by one Hypothesis run of ``@given(st.data())`` under ``@seed(S)`` with
``settings(database=None, phases=[Phase.generate], deadline=None, derandomize=False)`` and every health
check suppressed: ``@seed`` fixes Hypothesis's random stream, no example database is read or written, no
explicit/replayed/shrunk examples are mixed in, and nothing depends on timing, so the generate phase
calls the body ``n`` times with the same choices each run (supported, public API only).

One thing would still leak in: Hypothesis mixes *constants harvested from the local modules loaded in
the process* into about 5 % of its draws (``HypothesisProvider._maybe_draw_constant`` over every
non-site-packages module in ``sys.modules``), so the same ``@seed`` in a pytest process and in the
``pwb`` process — different modules loaded — gives different cases. :func:`draw_cases` therefore draws in
a fresh interpreter (``python -m parity.campaign.draw``) that imports only this module and the strategy
modules (``spec``, ``vocabulary``, ``strategy*``), with ``PYTHONHASHSEED=0`` and Hypothesis's storage in
a temporary directory (nothing is written to the cwd). The cases of a seed then depend only on the
seed, the bounds, these modules and the Hypothesis version (both recorded in the campaign's JSON).

Independent cases: after each fresh example Hypothesis's generate phase runs up to five *mutations*
of it (one drawn span copied onto another of the same label), so five of six examples are near-copies
of the one before (measured: 82 % of consecutive cases shared over half their flag-value pairs, 106 of
500 argument lists were exact repeats). A campaign wants independent cases, so an example is kept
only when it shares less than half of its (flag, value) pairs with each of the eight examples drawn
just before it and repeats no kept argument list; Hypothesis is asked for eight times the missing
number of examples per round, and further rounds (seeds derived from ``S``) fill up. The filter is a
pure function of the example sequence, so it keeps the draw deterministic.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from parity.campaign.spec import CaseSpec

__all__ = ["draw_cases", "draw_in_process", "case_id", "independent", "shared"]

_ROUNDS = 20
_OVERDRAW = 8          # examples asked of Hypothesis per case still missing
_WINDOW = 8            # how many preceding examples a kept one must differ from
_MAX_SHARED = 0.5      # the largest share of (flag, value) pairs it may have in common with one of them


def case_id(seed: int, index: int) -> str:
    return f"s{seed}-{index:04d}"


def draw_in_process(n: int, seed: int, *, max_work: int, max_side: int = 128) -> list[CaseSpec]:
    """``n`` cases drawn here (deterministic for one set of loaded modules; see the module docstring)."""
    from hypothesis import HealthCheck, Phase, given, settings, strategies as st
    from hypothesis import seed as hypothesis_seed

    from parity.campaign.strategy import nanobragg_case

    kept: list[CaseSpec] = []
    strategy = nanobragg_case(max_work=max_work, max_side=max_side)
    for round_ in range(_ROUNDS):
        missing = n - len(kept)
        if missing <= 0:
            break
        examples: list[CaseSpec] = []

        @hypothesis_seed(seed if round_ == 0 else seed * 1000003 + round_)
        @settings(database=None, max_examples=_OVERDRAW * missing, phases=[Phase.generate], deadline=None,
                  derandomize=False, suppress_health_check=list(HealthCheck), print_blob=False)
        @given(st.data())
        def collect(data):
            examples.append(data.draw(strategy))

        collect()
        kept += independent(examples, taken={c.args for c in kept})
    return [CaseSpec.from_dict({**c.to_dict(), "case_id": case_id(seed, i)}) for i, c in enumerate(kept[:n])]


def _pairs(case: CaseSpec) -> set:
    return set(zip(case.args, case.args[1:] + ("",)))


def shared(a: CaseSpec, b: CaseSpec) -> float:
    """The share of (flag, value) pairs two cases have in common (Jaccard index)."""
    pa, pb = _pairs(a), _pairs(b)
    return len(pa & pb) / max(1, len(pa | pb))


def independent(examples: list[CaseSpec], *, taken: set) -> list[CaseSpec]:
    """The examples that are not near-copies of one of the ``_WINDOW`` before them (module docstring)."""
    out = []
    for i, case in enumerate(examples):
        recent = examples[max(0, i - _WINDOW):i]
        if case.args not in taken and all(shared(case, other) < _MAX_SHARED for other in recent):
            out.append(case)
            taken.add(case.args)
    return out


def draw_cases(n: int, seed: int, *, max_work: int, max_side: int = 128, timeout_s: float = 600) -> list[CaseSpec]:
    """``n`` cases for ``seed`` drawn in a fresh interpreter (the deterministic path; see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="pwb-draw-") as scratch:
        env = {**os.environ, "PYTHONHASHSEED": "0", "HYPOTHESIS_STORAGE_DIRECTORY": os.path.join(scratch, "hyp")}
        cmd = [sys.executable, "-m", "parity.campaign.draw", str(int(n)), str(int(seed)), str(int(max_work)),
               str(int(max_side))]
        proc = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True, text=True, timeout=timeout_s,
                              stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"drawing the cases failed ({tail})")
    return [CaseSpec.from_dict(d) for d in json.loads(proc.stdout)]


def hypothesis_version() -> str:
    import hypothesis

    return hypothesis.__version__


def _main(argv: list[str]) -> int:
    n, seed, max_work, max_side = (int(x) for x in argv)
    json.dump([c.to_dict() for c in draw_in_process(n, seed, max_work=max_work, max_side=max_side)], sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
