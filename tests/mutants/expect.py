"""expected.yaml as objects, and the judgement of one mutant's results against it.

``judge(exp, nb_exit=..., divergence=...)`` says whether nb-compare caught the mutant (exit 3 for an
image defect, 0 otherwise) and whether trace-diff located it (first divergence at the expected tap,
hint of the expected class). ``summarize(rows)`` applies issue #11's "done when": every image defect
caught, and at least 90 % of all mutants located.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

EXPECTED_YAML = Path(__file__).with_name("expected.yaml")
NONE = "none"
LOCATED_MIN_FRACTION = 0.9
HINT_CLASSES = ("non_finite", "sign_flip", "swapped_components", "half_pixel", "unit_power_of_ten", "unit_factor",
                "constant_factor", "detector_pivot", "beam_center", "float32_precision", "phi0_carryover",
                "mosaic_rng", "sampling", "trace_inconsistent", "precision", "unknown")
_FLAG = re.compile(r"^-[A-Za-z_]")


@dataclass(frozen=True)
class Expectation:
    name: str
    klass: str
    image_defect: bool
    tap: str
    hint: str
    args: tuple
    pixel: tuple
    trigger_flags: tuple = ()
    also_ok: tuple = ()
    hint_also_ok: tuple = ()

    @property
    def taps_ok(self) -> tuple:
        return (self.tap, *self.also_ok)

    @property
    def hints_ok(self) -> tuple:
        return (self.hint, *self.hint_also_ok)


def load_expected(path: Path = EXPECTED_YAML) -> dict[str, Expectation]:
    """name → Expectation, in file order."""
    data = yaml.safe_load(Path(path).read_text())["mutants"]
    out = {}
    for name, e in data.items():
        out[name] = Expectation(
            name=name, klass=e["class"], image_defect=bool(e["image_defect"]), tap=str(e["tap"]),
            hint=str(e["hint"]), args=tuple(shlex.split(e["args"])), pixel=tuple(int(v) for v in e["pixel"]),
            trigger_flags=tuple(e.get("trigger_flags") or ()), also_ok=tuple(e.get("also_ok") or ()),
            hint_also_ok=tuple(e.get("hint_also_ok") or ()))
    return out


def without_flags(args, flags) -> list[str]:
    """``args`` with each flag in ``flags`` and the values after it (up to the next flag) removed."""
    out, skipping = [], False
    for tok in args:
        if _FLAG.match(tok):
            skipping = tok in flags
        if not skipping:
            out.append(tok)
    return out


@dataclass
class Divergence:
    """What trace-diff reported: tap ``none`` when it found no divergence, ``error`` when it failed."""

    tap: str
    hint: str                 # the hint class, ``none``, or ``?`` when the tool gives no class
    hint_text: str = ""
    live: bool | None = None
    exit_code: int | None = None
    compared: int | None = None
    note: str = ""


def divergence_from_json(data: dict, exit_code: int | None = None) -> Divergence:
    """Read trace-diff's JSON (INTERFACES.md keys; also the older form with a text hint)."""
    fd = data.get("first_divergence")
    compared = data.get("compared", data.get("n_compared"))
    live = data.get("live")
    if not fd:
        return Divergence(NONE, NONE, live=live, exit_code=exit_code, compared=compared)
    hint = fd.get("hint")
    if isinstance(hint, dict):
        klass, text = str(hint.get("class") or "?"), str(hint.get("text") or "")
    else:
        klass, text = "?", str(hint or "")
    return Divergence(str(fd.get("tap")), klass, text, live, exit_code, compared)


@dataclass
class Row:
    """One line of the table."""

    name: str
    klass: str
    image_defect: bool
    nb_exit: int | None
    nb_failed: list
    expected_tap: str
    tap: str
    expected_hint: str
    hint: str
    caught: bool
    tap_ok: bool
    hint_ok: bool
    hint_text: str = ""
    oracle_tap: str | None = None     # where oracle.py finds the first divergence (None: not run)
    oracle_ok: bool | None = None
    notes: list = field(default_factory=list)

    @property
    def located(self) -> bool:
        return self.tap_ok and self.hint_ok

    @property
    def ok(self) -> bool:
        return self.caught and self.located

    def to_dict(self) -> dict:
        return {**asdict(self), "located": self.located, "ok": self.ok}


def judge(exp: Expectation, *, nb_exit: int | None, nb_failed: list | None = None,
          divergence: Divergence, oracle_tap: str | None = None) -> Row:
    caught = nb_exit == (3 if exp.image_defect else 0)
    return Row(name=exp.name, klass=exp.klass, image_defect=exp.image_defect, nb_exit=nb_exit,
               nb_failed=list(nb_failed or []), expected_tap=exp.tap, tap=divergence.tap,
               expected_hint=exp.hint, hint=divergence.hint, caught=caught,
               tap_ok=divergence.tap in exp.taps_ok, hint_ok=divergence.hint in exp.hints_ok,
               hint_text=divergence.hint_text, oracle_tap=oracle_tap,
               oracle_ok=None if oracle_tap is None else oracle_tap in exp.taps_ok, notes=[divergence.note] if divergence.note else [])


def summarize(rows: list[Row]) -> dict:
    """The done-when numbers: image defects caught by nb-compare, mutants located by trace-diff."""
    image = [r for r in rows if r.image_defect]
    caught = sum(r.caught for r in image)
    located = sum(r.located for r in rows)
    frac = located / len(rows) if rows else 0.0
    return {"mutants": len(rows), "image_defects": len(image), "image_defects_caught": caught,
            "non_image_ok": sum(r.caught for r in rows if not r.image_defect),
            "located": located, "located_fraction": round(frac, 4),
            "located_min_fraction": LOCATED_MIN_FRACTION,
            "oracle_ok": sum(bool(r.oracle_ok) for r in rows),
            "done": bool(rows) and caught == len(image) and frac >= LOCATED_MIN_FRACTION}


def first_difference(ref: dict, cand: dict, *, rel: float = 1e-8) -> str:
    """First tap (in ``ref``'s order) present in both whose values differ by more than ``rel`` of
    the larger magnitude (by tap name only); ``none`` when they agree."""
    for name, r in ref.items():
        c = cand.get(name)
        if c is None:
            continue
        if len(r) != len(c):
            return name
        scale = max(sum(x * x for x in r), sum(x * x for x in c)) ** 0.5
        if any(abs(a - b) > rel * scale for a, b in zip(r, c)):
            return name
    return NONE
