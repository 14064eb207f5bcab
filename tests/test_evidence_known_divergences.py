"""Known-divergence registry and classifier (parity/quirks/registry.py + .yaml)."""
from __future__ import annotations

import re

import pytest

from parity.quirks import registry as kdmod
from parity.evidence.errors import EvidenceUsageError, RegistryError
from parity.quirks.registry import classify, kds_for_case, kds_for_tap, load_registry

BASE = "-default_F 100 -cell 100 100 100 90 90 90 -lambda 1.0 -N 5 -distance 100 -pixel 0.1 -detpixels 256"


def _ids(args: str, **kw) -> set[str]:
    return {m.id for m in classify(args.split(), **kw)}


def _golden_args(golden_dir, case: str) -> list[str]:
    return (golden_dir / case / "args.txt").read_text().split()


# (KD id, argv that triggers it, argv that does not) — each quirk from the reference notes §4
CASES = [
    ("KD-PHI-CARRYOVER", "-phi 0 -osc 90 -phisteps 9", "-phi 10 -osc 20 -phistep 5"),
    ("KD-PHI-CARRYOVER", "-phi -10 -osc 20 -phisteps 2", "-phi 0 -osc 0"),
    ("KD-INTERP-SWITCHOFF", "-hkl P1.hkl -N 2", "-hkl P1.hkl -N 5"),
    ("KD-INTERP-SWITCHOFF", "-hkl P1.hkl -N 5 -interpolate", "-hkl P1.hkl -N 1 -nointerpolate"),
    ("KD-FIRST-VALUE-CACHE", "-oversample 2", "-oversample 2 -oversample_omega -oversample_polar"),
    ("KD-FIRST-VALUE-CACHE", "-oversample 1 -detector_thick 200 -detector_abs 300 -thicksteps 3", "-oversample 1"),
    ("KD-SOURCE-WEIGHTS", "-sourcefile sources.txt", "-divergence 0.1"),
    ("KD-SOURCE-COMMENTS", "-sourcefile sources.txt", ""),
    ("KD-MISSET-SEED-STRSTR", "-misset_seed 12345 -N 5 -seed 3", "-misset_seed 12345 -misset random"),
    ("KD-TWOTHETA-AXIS-STRSTR", "-twotheta 20 -twotheta_axis 0 0 -1", "-twotheta 20"),
    ("KD-CONVENTION-PIVOT", "-mosflm -twotheta 20 -pivot sample", "-mosflm -twotheta 20 -pivot beam"),
    ("KD-CONVENTION-PIVOT", "-xds -Xbeam 25.6", "-fdet_vector 0 0 1 -twotheta 20 -pivot sample"),
    ("KD-STALE-FDUMP", "-default_F 100", "-hkl P1.hkl"),
    ("KD-WATER-DOUBLE-SCALE", "-water 0.1", "-water 0"),
    ("KD-TRACE-BEAM-CENTER-M", "-trace_pixel 10 20", "-printout"),
    ("KD-TRACE-BEAM-CONVENTION", "-adxv -trace_pixel 10 20", "-mosflm -trace_pixel 10 20"),
    ("KD-TRACE-BEAM-CONVENTION", "-fdet_vector 0 0 1 -trace_pixel 1 2", "-xds -trace_pixel 10 20"),
]


@pytest.mark.parametrize("kd_id,hit,miss", CASES)
def test_each_quirk_triggers_and_does_not(kd_id, hit, miss):
    assert kd_id in _ids(f"{BASE} {hit}")
    assert kd_id not in _ids(f"{BASE} {miss}")


def test_registry_covers_every_trigger_and_is_well_formed():
    registry = load_registry()
    assert len({kd.id for kd in registry}) == len(registry) >= 12
    assert {kd.trigger for kd in registry} == set(kdmod._TRIGGERS)
    assert {kd_id for kd_id, _, _ in CASES} == {kd.id for kd in registry}
    for kd in registry:
        assert kd.c_ref["file"] in ("vanilla", "instr") and kd.c_ref["lines"] and kd.status in ("verified", "documented")
        assert kd.switch or kd.kind == "trace" or kd.mitigation, kd.id
    assert kdmod.emulation_defaults()["phi_carryover"] is True


def test_verdicts_follow_the_emulation_switch():
    args = f"{BASE} -phi 0 -osc 90 -phisteps 9".split()
    [on] = [m for m in classify(args) if m.id == "KD-PHI-CARRYOVER"]
    [off] = [m for m in classify(args, emulation={"phi_carryover": False}) if m.id == "KD-PHI-CARRYOVER"]
    assert on.emulated is True and on.verdict == "matches C via KD-PHI-CARRYOVER (emulated)" and on.certain
    assert off.emulated is False and off.verdict == "differs by design: KD-PHI-CARRYOVER"
    [fdump] = [m for m in classify(args) if m.id == "KD-STALE-FDUMP"]
    assert fdump.verdict.startswith("avoided: KD-STALE-FDUMP") and not fdump.certain
    [trace] = [m for m in classify(args + ["-trace_pixel", "1", "2"]) if m.id == "KD-TRACE-BEAM-CENTER-M"]
    assert trace.verdict == "differs by design: KD-TRACE-BEAM-CENTER-M" and trace.emulated is None
    with pytest.raises(EvidenceUsageError):
        classify(args, emulation={"phi_carry": True})


def test_verdicts_for_another_port_never_say_matches():
    """A known divergence is a statement about the C: for a port we did not write, it is a thing to check."""
    args = f"{BASE} -phi 0 -osc 90 -phisteps 9 -trace_pixel 1 2".split()
    theirs = {m.id: m for m in classify(args, port="command")}
    assert theirs["KD-PHI-CARRYOVER"].verdict == ("the C does KD-PHI-CARRYOVER here: check that your port"
                                                  " reproduces it")
    assert theirs["KD-PHI-CARRYOVER"].emulated is None and theirs["KD-PHI-CARRYOVER"].certain
    assert not any("matches" in m.verdict for m in theirs.values())
    assert theirs["KD-STALE-FDUMP"].verdict.startswith("avoided: KD-STALE-FDUMP")      # avoided for every port
    assert {m.id: m.verdict for m in classify(args, port="c")}["KD-PHI-CARRYOVER"] == "the C does KD-PHI-CARRYOVER here"
    with pytest.raises(EvidenceUsageError):
        classify(args, port="jax")


def test_emulation_switches_read_from_simcore_args():
    assert kdmod.emulation_from_args(["-N", "1", "-emulate_c", "phi_carryover=off"]) == {"phi_carryover": False}
    with pytest.raises(EvidenceUsageError):
        kdmod.emulation_from_args(["-emulate_c", "bogus=on"])


def test_parse_emulate_c_flag():
    assert kdmod.parse_emulate_c(["phi_carryover=off", "interp_switchoff=ON"]) == {
        "phi_carryover": False, "interp_switchoff": True}
    for bad in (["phi_carryover"], ["phi_carryover=maybe"], ["nope=on"]):
        with pytest.raises(EvidenceUsageError):
            kdmod.parse_emulate_c(bad)


def test_reasons_read_the_values_like_c():
    [m] = [m for m in classify(f"{BASE} -misset_seed 7 -N 5 -seed 3".split()) if m.id == "KD-MISSET-SEED-STRSTR"]
    assert "7 0 5 deg" in m.reason  # atof("-N") == 0, then 5
    [t] = [m for m in classify(f"{BASE} -twotheta 20 -twotheta_axis 0 0 -1".split()) if m.id == "KD-TWOTHETA-AXIS-STRSTR"]
    assert "2theta = 0 deg" in t.reason
    assert kdmod.effective_pivot("-mosflm -twotheta 20 -pivot sample".split()) == ("MOSFLM", "BEAM")
    assert kdmod.effective_pivot("-beam_vector 1 0 0 -twotheta 20".split()) == ("CUSTOM", "SAMPLE")


def test_scope_cases_trigger_on_the_golden_args(golden_dir):
    checked = 0
    case_ids = sorted(p.parent.name for p in golden_dir.glob("*/args.txt"))
    for kd in load_registry():
        for case in case_ids:
            if kd in kds_for_case(case):
                assert kd.id in {m.id for m in classify(_golden_args(golden_dir, case))}, (kd.id, case)
                checked += 1
    assert checked >= 10
    assert "KD-PHI-CARRYOVER" not in {m.id for m in classify(_golden_args(golden_dir, "at021_osc90_phisteps1"))}
    assert "KD-MISSET-SEED-STRSTR" not in {m.id for m in classify(_golden_args(golden_dir, "at024_random_misset_seed12345"))}


def test_auto_oversample_agrees_with_the_c_stdout(golden_dir):
    """Where the arguments fix it, our prediction equals the C's 'auto-selected N-fold oversampling' line."""
    decided = 0
    for args_file in sorted(golden_dir.glob("*/args.txt")):
        args = args_file.read_text().split()
        line = re.search(r"auto-selected (\d+)-fold", (args_file.parent / "stdout.txt").read_text(errors="replace"))
        if line is None or "-oversample" in args:
            continue
        predicted = kdmod.auto_oversample(args)
        if predicted is not None:
            assert predicted == int(line.group(1)), args_file.parent.name
            decided += 1
    assert decided >= 40


def test_taps_map_to_kds_and_bad_registry_is_exit_5(tmp_path):
    assert {kd.id for kd in kds_for_tap("beam_center_m")} == {"KD-TRACE-BEAM-CENTER-M"}
    assert "KD-PHI-CARRYOVER" in {kd.id for kd in kds_for_tap("F_latt_b")}
    bad = tmp_path / "kd.yaml"
    bad.write_text("- id: KD-X\n  title: t\n  kind: physics\n")
    with pytest.raises(RegistryError) as err:
        load_registry(bad)
    assert err.value.exit_code == 5
    bad.write_text("- {id: KD-X, title: t, kind: physics, expected_effect: e, c_ref: {file: vanilla, lines: [1]},"
                   " switch: null, status: documented, trigger: no_such_trigger}\n")
    with pytest.raises(RegistryError, match="unknown trigger"):
        load_registry(bad)
