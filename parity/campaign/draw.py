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
Should Hypothesis stop short of ``n`` examples, further rounds with seeds derived from ``S`` fill up.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from parity.campaign.spec import CaseSpec

__all__ = ["draw_cases", "draw_in_process", "case_id"]

_ROUNDS = 20


def case_id(seed: int, index: int) -> str:
    return f"s{seed}-{index:04d}"


def draw_in_process(n: int, seed: int, *, max_work: int, max_side: int = 128) -> list[CaseSpec]:
    """``n`` cases drawn here (deterministic for one set of loaded modules; see the module docstring)."""
    from hypothesis import HealthCheck, Phase, given, settings, strategies as st
    from hypothesis import seed as hypothesis_seed

    from parity.campaign.strategy import nanobragg_case

    drawn: list[CaseSpec] = []
    strategy = nanobragg_case(max_work=max_work, max_side=max_side)
    for round_ in range(_ROUNDS):
        missing = n - len(drawn)
        if missing <= 0:
            break

        @hypothesis_seed(seed if round_ == 0 else seed * 1000003 + round_)
        @settings(database=None, max_examples=missing, phases=[Phase.generate], deadline=None, derandomize=False,
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(st.data())
        def collect(data):
            drawn.append(data.draw(strategy))

        collect()
    return [CaseSpec.from_dict({**c.to_dict(), "case_id": case_id(seed, i)}) for i, c in enumerate(drawn[:n])]


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
