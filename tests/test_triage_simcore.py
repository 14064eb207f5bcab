"""Triage and shrink on a real difference between two real ports: simcore with the C's phi = 0
carry-over emulated (the reference, as the C does it) and simcore with it switched off."""
from __future__ import annotations

import json
import shlex
import sys

import pytest
from typer.testing import CliRunner

from cli import triage as triage_cli
from conftest import sub_app

ARGS = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 1.0 -N 5 -detpixels 32 -pixel 0.1 -distance 100"
        " -oversample 1 -osc 1 -phisteps 2").split()
OFF = ["-emulate_c", "phi_carryover=off"]
ROTATION_TAPS = {"rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms", "rot_a", "rot_b", "rot_c"}


def test_triage_finds_the_rotation_taps(tmp_path):
    import tracekit

    app = sub_app(triage_cli.register)
    out = tmp_path / "t.json"
    cand = shlex.join([sys.executable, "-m", "simcore", *OFF])
    result = CliRunner().invoke(app, ["triage", "--ref", "simcore", "--cand-cmd", cand, "--pixels", "1",
                                      "--workspace", str(tmp_path), "--json", str(out), "--", *ARGS])
    assert result.exit_code == 1, result.output
    d = json.loads(out.read_text())
    assert not d["verdict"]["passed"] and "sum_ratio" in d["verdict"]["failed_gates"]
    assert d["ports"]["ref"]["name"] == "simcore" and d["ports"]["cand"]["trace"]
    (px,) = d["pixels"]
    assert px["status"] == "diverged" and px["first_divergence"]["tap"] in ROTATION_TAPS
    assert d["cause"]["source"] == "trace" and d["cause"]["tap"] in ROTATION_TAPS
    if hasattr(tracekit, "Hint"):          # tracekit with hint classes names the quirk itself
        assert d["cause"]["class"] == "phi0_carryover"


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


@pytest.mark.parametrize("extra", [[], OFF])
def test_compare_args_judges_as_nb_compare(tmp_path, extra):
    """The shrinker's lean comparison and nb-compare agree on the verdict and the failed gates."""
    from parity.compare.run import CompareOptions, execute_compare, plan_compare
    from parity.triage.pair import PairSpec, compare_args, resolve_pair

    cand = shlex.join([sys.executable, "-m", "simcore", *extra])
    spec = PairSpec(ref="simcore", cand_cmd=cand, workspace=str(tmp_path))
    args = ARGS[:-4] + ["-detpixels", "16", "-osc", "1", "-phisteps", "2"]
    outcome = compare_args(resolve_pair(spec, args), args, workdir=tmp_path / "lean")
    full = execute_compare(plan_compare(CompareOptions(args=tuple(args), ref="simcore", cand_cmd=cand,
                                                       outdir=tmp_path / "nb", workspace=str(tmp_path))))
    assert outcome.status == ("pass" if full.exit_code == 0 else "fail")
    assert list(outcome.failed_gates) == [g["name"] for g in full.summary["gates"] if not g["passed"]]
    assert not (tmp_path / "lean").exists()
    assert outcome.status == ("pass" if not extra else "fail")
