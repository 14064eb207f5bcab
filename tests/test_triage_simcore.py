"""Shrink on a real difference between two real ports, in this process: simcore with the C's phi = 0
carry-over emulated (the reference, as the C does it) and simcore with it switched off. (Triage and
shrink through port commands: tests/test_triage_mutants.py and tests/test_triage_cli.py.)"""
from __future__ import annotations

ARGS = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 1.0 -N 5 -detpixels 32 -pixel 0.1 -distance 100"
        " -oversample 1 -osc 1 -phisteps 2").split()
OFF = ["-emulate_c", "phi_carryover=off"]


def _in_process_compare(args):
    """Both sides in this process (simcore.simulate), judged by the registry gates as nb-compare does."""
    import simcore
    from parity.compare.gates import evaluate_gates
    from parity.images.metrics import compare_images
    from parity.thresholds import class_thresholds
    from parity.triage.pair import Outcome
    from simcore.errors import SimcoreUsageError

    th = class_thresholds("GOLDEN-IMAGE")
    try:
        ref = simcore.simulate(list(args)).image.numpy()
    except SimcoreUsageError as exc:
        return Outcome(tuple(args), "ref_error", notes=[str(exc)])
    cand = simcore.simulate(list(args) + OFF).image.numpy()
    m = compare_images(ref, cand, rel_floor_fraction=th.rel_floor, argmax_rel_tol=th.argmax_tie_rel)
    failed = tuple(g.name for g in evaluate_gates(m, th) if not g.passed)
    return Outcome(tuple(args), "fail" if failed else "pass", failed)


def test_shrink_keeps_the_phi_steps_and_drops_unrelated_flags():
    from parity.triage.shrink import shrink

    args = ARGS + ["-mosaic", "0.2", "-mosaic_dom", "2", "-dispersion", "0"]
    r = shrink(args, _in_process_compare, budget=80, workers=2)
    assert r.reproduced and not r.budget_exhausted
    assert "-phisteps" in r.minimal_args                     # the trigger (no phi steps, no carry-over)
    for unrelated in ("-lambda", "-distance", "-pixel", "-mosaic", "-mosaic_dom", "-dispersion"):
        assert unrelated not in r.minimal_args
    units = {u["unit"]: u["without_it"] for u in r.units}
    assert units["-phisteps 2"] == "passes" and units["-cell 100 100 100 90 90 90"] == "breaks the reference run"
    assert "-phisteps 2" in r.sentence
    assert _in_process_compare(r.minimal_args).status == "fail"
