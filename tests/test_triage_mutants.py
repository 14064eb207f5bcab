"""``pwb triage`` and the shrinker on mutant ports (tests/mutants/: simcore with one injected defect,
printing a foreign trace dialect), with simcore as the reference (CI has no C; simcore is the C's
image on these cases). Triage runs the mutant as its own command; the shrinker runs both sides in
this process (its comparison is injectable), so many comparisons stay cheap. With NB_C_BIN and
NB_C_TRACE_BIN the table driver runs two mutants against the live C as well."""
from __future__ import annotations

import itertools
import json
import os
import shlex
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import triage as triage_cli
from conftest import sub_app

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.mutants import triage_table  # noqa: E402

MUTANTS = triage_table.load_mutants(triage_table.HERE)


@pytest.mark.parametrize("name", ["image_transposed", "fluence_beamsize_mm"])
def test_triage_names_the_mutants_class(tmp_path, name):
    exp = MUTANTS[name]
    out = tmp_path / "t.json"
    cand = shlex.join([sys.executable, str(triage_table.HERE / "port.py"), name])
    result = CliRunner().invoke(sub_app(triage_cli.register), [
        "triage", "--ref", "simcore", "--cand-cmd", cand, "--cand-dialect", str(triage_table.HERE / "dialect.yaml"),
        "--pixels", "1", "--workspace", str(tmp_path), "--json", str(out), "--", *exp["args"]])
    assert result.exit_code == 1, result.output
    d = json.loads(out.read_text())
    assert triage_table.class_ok(exp, d["cause"]), d["cause"]
    assert d["cause"]["defect_class"] == exp["class"]
    assert d["ports"]["cand"]["label"] == f"port.py {name}"


class InProcess:
    """``compare(args)``: simcore and mutant ``name`` in this process, judged by the registry gates."""

    def __init__(self, name: str, root: Path):
        self.name, self.root = name, root
        self.counter = itertools.count()
        self.lock = threading.Lock()

    def _image(self, fn, args, folder: Path):
        folder.mkdir()
        try:
            rc, _ = fn([*args, "-floatfile", "out.bin", "-nonoise", "-nopgm"], folder)
        except SystemExit as exc:
            rc = exc.code
        out = folder / "out.bin"
        return np.fromfile(out, "<f4") if rc == 0 and out.is_file() else None

    def __call__(self, args):
        from parity.compare.gates import evaluate_gates
        from parity.images.io import shape_from_nanobragg_args
        from parity.images.metrics import compare_images
        from parity.thresholds import class_thresholds
        from parity.triage.pair import Outcome
        from tests.mutants.port import run_port, run_simcore

        with self.lock:       # simcore's patched functions are process-wide: one run at a time
            k = next(self.counter)
            ref = self._image(lambda a, c: run_simcore(a, cwd=c), args, self.root / f"{k}-ref")
            if ref is None:
                return Outcome(tuple(args), "ref_error")
            cand = self._image(lambda a, c: run_port(self.name, a, cwd=c), args, self.root / f"{k}-cand")
        if cand is None:
            return Outcome(tuple(args), "cand_error")
        th = class_thresholds("GOLDEN-IMAGE")
        shape = shape_from_nanobragg_args(list(args))
        m = compare_images(ref.reshape(shape), cand.reshape(shape), rel_floor_fraction=th.rel_floor,
                           argmax_rel_tol=th.argmax_tie_rel)
        failed = tuple(g.name for g in evaluate_gates(m, th) if not g.passed)
        return Outcome(tuple(args), "fail" if failed else "pass", failed)


@pytest.mark.parametrize("name, sentence", [
    ("pivot_flag_wins", "only with -twotheta"),
    ("fluence_beamsize_mm", "only with -flux 1e20"),
])
def test_shrink_keeps_the_trigger_and_drops_unrelated_flags(tmp_path, name, sentence):
    from parity.triage.shrink import shrink

    exp = MUTANTS[name]
    r = shrink(exp["args"], InProcess(name, tmp_path), budget=60, workers=2)
    assert r.reproduced and not r.budget_exhausted
    kept = [t for t in r.minimal_args if t.startswith("-")]
    assert any(t in kept for t in exp["trigger_flags"])
    for unrelated in ("-lambda", "-N", "-pixel"):
        assert unrelated in exp["args"] and unrelated not in kept
    assert sentence in r.sentence
    assert len(r.minimal_args) < len(exp["args"])


@pytest.mark.needs_c
@pytest.mark.skipif(not (os.environ.get("NB_C_BIN") and os.environ.get("NB_C_TRACE_BIN")),
                    reason="needs NB_C_BIN and NB_C_TRACE_BIN (the live C and its instrumented build)")
def test_table_against_the_live_c(tmp_path):
    table = triage_table.build_table(["pivot_flag_wins", "no_polarization"], ref={
        "c_bin": os.environ["NB_C_BIN"], "c_trace_bin": os.environ["NB_C_TRACE_BIN"]}, workspace=tmp_path,
        pixels=2, budget=30)
    assert table["summary"]["done"], triage_table.render(table)
