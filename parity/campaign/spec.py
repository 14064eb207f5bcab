"""One drawn case: its argument list, the small input files it names, and the loop counts it asks for.

Input files (``-hkl``, ``-mat``) are carried as text and written into the case's own temporary
directory on the worker that runs it (:func:`write_inputs`), so a worker needs nothing but the
workbench and the ports: the arguments name the files by bare name.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from parity.campaign.vocabulary import FLAGS, feature_of

__all__ = ["CaseSpec", "Builder", "fmt", "work_of"]

LOOPS = ("pixels", "sources", "mosaic_domains", "phisteps", "thicksteps", "oversample")


def fmt(value: float, decimals: int) -> str:
    """A number as the argument text: fixed decimals, no ``-0``."""
    text = f"{value:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


def work_of(loops: dict) -> int:
    """pixels × sources × mosaic domains × phi steps × thickness steps × oversample² (the work bound's measure)."""
    n = 1
    for key in LOOPS[:-1]:
        n *= int(loops.get(key, 1))
    return n * int(loops.get("oversample", 1)) ** 2


@dataclass(frozen=True)
class CaseSpec:
    """A drawn configuration, JSON-able (``to_dict``/``from_dict``) so it travels to workers and bundles."""

    case_id: str
    args: tuple[str, ...]
    files: dict = field(default_factory=dict)      # bare file name -> text
    loops: dict = field(default_factory=dict)      # LOOPS -> count (upper bounds by the C's rules)
    features: tuple[str, ...] = ()

    @property
    def work(self) -> int:
        return work_of(self.loops)

    def to_dict(self) -> dict:
        return {"case_id": self.case_id, "args": list(self.args), "files": dict(self.files),
                "loops": dict(self.loops), "work": self.work, "features": list(self.features)}

    @classmethod
    def from_dict(cls, d: dict) -> "CaseSpec":
        return cls(case_id=str(d["case_id"]), args=tuple(str(a) for a in d["args"]), files=dict(d.get("files") or {}),
                   loops={k: int(v) for k, v in (d.get("loops") or {}).items()},
                   features=tuple(d.get("features") or ()))

    def write_inputs(self, folder: str | Path) -> list[Path]:
        """Write the case's input files into ``folder`` (a fresh directory); their paths."""
        out = []
        for name, text in self.files.items():
            path = Path(folder) / name
            path.write_text(text)
            out.append(path)
        return out


class Builder:
    """Collects flags (vocabulary flags only, with the right number of values) and loop counts."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self.files: dict[str, str] = {}
        self.loops: dict[str, int] = {k: 1 for k in LOOPS}
        self.features: set[str] = set()

    def add(self, flag: str, *values: str) -> None:
        if FLAGS.get(flag) != len(values):
            raise ValueError(f"{flag}: {len(values)} values, the vocabulary says {FLAGS.get(flag)}")
        self.args += [flag, *values]
        self.features.add(feature_of(flag))

    def tag(self, name: str) -> None:
        self.features.add(name)

    def loop(self, key: str, count: int) -> None:
        self.loops[key] = max(1, int(self.loops[key] * count)) if key != "oversample" else int(count)

    def budget_left(self, max_work: int) -> int:
        """How many more times the current work may be multiplied."""
        return max(0, math.floor(max_work / work_of(self.loops)))

    def build(self, case_id: str) -> CaseSpec:
        return CaseSpec(case_id=case_id, args=tuple(self.args), files=dict(self.files), loops=dict(self.loops),
                        features=tuple(sorted(self.features)))
