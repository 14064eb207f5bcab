"""The threshold registry (``parity/matrix/thresholds.yaml``): the one place parity thresholds live.

Each case id maps to a threshold class tied to a spec reference; a class holds the gates every
image judgement uses (``corr_min``, ``sum_ratio_tol``, ``rel_err_max`` above ``rel_floor`` x max,
``argmax_tie_rel``). This loader sits at parity's top level so that both ``parity.compare``
(nb-compare's gates) and ``parity.matrix`` (the golden matrix) read it without a wing circle
(matrix imports compare). The YAML stays beside the matrix, where its git history and the
only-tighten lint (:mod:`parity.matrix.registry`) have always looked for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from parity.errors import ParityInputError, ParityUsageError

__all__ = ["REGISTRY_PATH", "Thresholds", "load_registry_text", "load_registry", "thresholds_for", "class_thresholds"]

REGISTRY_PATH = Path(__file__).parent / "matrix" / "thresholds.yaml"


@dataclass(frozen=True)
class Thresholds:
    klass: str
    spec: str
    corr_min: float
    sum_ratio_tol: float
    rel_err_max: float
    rel_floor: float
    argmax_tie_rel: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def load_registry_text(text: str, *, source: str = "thresholds.yaml") -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParityInputError(f"{source}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or not {"classes", "cases", "directions"} <= set(data):
        raise ParityInputError(f"{source}: needs 'directions', 'classes' and 'cases'")
    for case, klass in data["cases"].items():
        if klass not in data["classes"]:
            raise ParityInputError(f"{source}: case {case} names unknown class {klass}")
    return data


@lru_cache(maxsize=1)
def load_registry(path: str | None = None) -> dict:
    p = Path(path) if path else REGISTRY_PATH
    return load_registry_text(p.read_text(), source=str(p))


def class_thresholds(klass: str, *, registry: dict | None = None) -> Thresholds:
    """The thresholds of class ``klass`` (ParityUsageError naming the known classes)."""
    reg = registry or load_registry()
    if klass not in reg["classes"]:
        raise ParityUsageError(f"threshold class {klass!r} is not in the registry"
                               f" (classes: {', '.join(sorted(reg['classes']))})")
    values = reg["classes"][klass]
    return Thresholds(klass=klass, spec=values["spec"], **{k: float(values[k]) for k in reg["directions"]})


def thresholds_for(case_id: str, *, registry: dict | None = None) -> Thresholds:
    reg = registry or load_registry()
    try:
        klass = reg["cases"][case_id]
    except KeyError:
        raise ParityUsageError(f"case {case_id} has no entry in the threshold registry") from None
    return class_thresholds(klass, registry=reg)
