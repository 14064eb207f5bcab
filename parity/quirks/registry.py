"""Known-divergence registry (``known_divergences.yaml``) and the classifier that applies it to an argv.

A run touched by a known C quirk is labelled, never passed silently. A known divergence is a
statement about the C; what it means for a run depends on the port (``classify(..., port=KIND)``):

=========== ==================================================================================
simcore     ``"matches C via KD-… (emulated)"`` when its emulation switch is on,
            ``"differs by design: KD-…"`` when it is off (or the quirk is a C trace-print defect,
            which simcore does not reproduce)
command     any other port: ``"the C does KD-… here: check that your port reproduces it"``
            (we cannot know whether it does; nothing says "matches" unless measured)
c           the C itself: ``"the C does KD-… here"``
all         ``"avoided: KD-… (…)"`` when the workbench sidesteps it for every port (a clean
            working directory per run)
=========== ==================================================================================

The YAML holds the data (scope, effect, C reference, switch, status); each entry names a
*trigger*, a predicate in this module that reads a nanoBragg argument list with the C program's
own matching rules (``strstr`` substring flags, last one wins, values only if present) and says
whether the quirk applies, whether that is certain from the arguments alone, and why.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import functools
import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

import yaml

from parity.evidence.errors import EvidenceUsageError, RegistryError

REGISTRY_PATH = Path(__file__).with_name("known_divergences.yaml")
KINDS = ("physics", "parse", "environment", "trace")


@dataclasses.dataclass(frozen=True)
class KnownDivergence:
    id: str
    title: str
    kind: str
    flags: tuple[str, ...]
    taps: tuple[str, ...]
    cases: tuple[str, ...]
    expected_effect: str
    c_ref: dict
    switch: str | None
    switch_default: bool | None
    mitigation: str | None
    status: str
    trigger: str


@dataclasses.dataclass(frozen=True)
class KDMatch:
    """One known divergence that applies to a run, with the verdict to print beside its result."""

    kd: KnownDivergence
    certain: bool       # False: the arguments allow it, the run's data decide (e.g. an out-of-range pixel)
    reason: str
    emulated: bool | None
    verdict: str

    @property
    def id(self) -> str:
        return self.kd.id


from parity.quirks.triggers import _TRIGGERS, _CArgv, auto_oversample, effective_pivot  # noqa: E402,F401


def _entry(raw: dict, where: str) -> KnownDivergence:
    try:
        scope = raw.get("scope") or {}
        switch = raw.get("switch")
        kd = KnownDivergence(
            id=str(raw["id"]), title=str(raw["title"]), kind=str(raw["kind"]),
            flags=tuple(scope.get("flags") or ()), taps=tuple(scope.get("taps") or ()),
            cases=tuple(scope.get("cases") or ()), expected_effect=str(raw["expected_effect"]),
            c_ref=dict(raw["c_ref"]), switch=switch["name"] if switch else None,
            switch_default=bool(switch["default"]) if switch else None, mitigation=raw.get("mitigation"),
            status=str(raw["status"]), trigger=str(raw["trigger"]))
    except (KeyError, TypeError) as exc:
        raise RegistryError(f"{where}: missing or malformed field {exc}") from None
    if kd.kind not in KINDS:
        raise RegistryError(f"{where} ({kd.id}): kind {kd.kind!r} not in {KINDS}")
    if kd.trigger not in _TRIGGERS:
        raise RegistryError(f"{where} ({kd.id}): unknown trigger {kd.trigger!r}")
    return kd


def load_registry(path: str | os.PathLike | None = None) -> tuple[KnownDivergence, ...]:
    """The registry (default: the YAML beside this module), validated; RegistryError (exit 5) if malformed."""
    if path is None:
        return _default_registry()
    return _load(Path(path))


@functools.lru_cache(maxsize=1)
def _default_registry() -> tuple[KnownDivergence, ...]:
    return _load(REGISTRY_PATH)


def _load(path: Path) -> tuple[KnownDivergence, ...]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"{path.name}: unreadable: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, list):
        raise RegistryError(f"{path.name}: expected a list of entries")
    kds = tuple(_entry(e, f"{path.name} entry {n}") for n, e in enumerate(raw, start=1))
    ids = [kd.id for kd in kds]
    if len(set(ids)) != len(ids):
        raise RegistryError(f"{path.name}: duplicate ids")
    return kds


def emulation_defaults(registry: Sequence[KnownDivergence] | None = None) -> dict[str, bool]:
    """``{switch name: default}`` for every emulation switch in the registry."""
    return {kd.switch: kd.switch_default for kd in (registry or load_registry()) if kd.switch}


def parse_emulate_c(values: Iterable[str], registry: Sequence[KnownDivergence] | None = None) -> dict[str, bool]:
    """``["phi_carryover=off", …]`` (the ``-emulate_c`` flag) → ``{"phi_carryover": False}``; exit 2 on bad input."""
    known = emulation_defaults(registry)
    out = {}
    for value in values:
        name, _, state = str(value).partition("=")
        if name not in known:
            raise EvidenceUsageError(f"-emulate_c: unknown switch {name!r} (known: {', '.join(sorted(known))})")
        if state.lower() not in ("on", "off"):
            raise EvidenceUsageError(f"-emulate_c {value!r}: expected {name}=on or {name}=off")
        out[name] = state.lower() == "on"
    return out


PORT_KINDS = ("simcore", "command", "c")


def _verdict(kd: KnownDivergence, port: str, on: bool | None) -> str:
    if kd.mitigation and not kd.switch:
        return f"avoided: {kd.id} ({kd.mitigation})"
    if port == "c":
        return f"the C does {kd.id} here"
    if port == "command":
        return f"the C does {kd.id} here: check that your port reproduces it"
    return f"matches C via {kd.id} (emulated)" if on else f"differs by design: {kd.id}"


def emulation_from_args(args: Sequence[str], registry: Sequence[KnownDivergence] | None = None) -> dict[str, bool]:
    """simcore's ``-emulate_c NAME=on|off`` flags in a nanoBragg argument list (exit 2 when malformed)."""
    tokens = [str(a) for a in args]
    return parse_emulate_c([tokens[i + 1] for i, t in enumerate(tokens[:-1]) if t == "-emulate_c"], registry)


def classify(args: Sequence[str], *, emulation: dict[str, bool] | None = None,
             registry: Sequence[KnownDivergence] | None = None, port: str = "simcore") -> list[KDMatch]:
    """Which known divergences apply to the nanoBragg argument list ``args`` and with which verdict.

    ``emulation`` maps switch names to on/off (missing names take the registry default); an
    unknown name raises EvidenceUsageError (exit 2). ``port`` is the kind of port the verdict is
    about (``PORT_KINDS``; the module table). ``emulated`` is None for a port other than simcore.
    Returns matches in registry order.
    """
    if port not in PORT_KINDS:
        raise EvidenceUsageError(f"port kind {port!r} not in {PORT_KINDS}")
    kds = registry or load_registry()
    emulation = dict(emulation or {})
    unknown = set(emulation) - set(emulation_defaults(kds))
    if unknown:
        raise EvidenceUsageError(f"unknown emulation switch(es): {', '.join(sorted(unknown))}")
    argv = _CArgv(args)
    matches = []
    for kd in kds:
        hit = _TRIGGERS[kd.trigger](argv)
        if hit is None:
            continue
        certain, reason = hit
        on = bool(emulation.get(kd.switch, kd.switch_default)) if kd.switch and port == "simcore" else None
        matches.append(KDMatch(kd=kd, certain=certain, reason=reason, emulated=on, verdict=_verdict(kd, port, on)))
    return matches


def kds_for_tap(tap: str, registry: Sequence[KnownDivergence] | None = None) -> list[KnownDivergence]:
    """Known divergences whose scope names this trace tap (glob patterns)."""
    return [kd for kd in (registry or load_registry()) if any(fnmatch.fnmatchcase(tap, p) for p in kd.taps)]


def kds_for_case(case_id: str, registry: Sequence[KnownDivergence] | None = None) -> list[KnownDivergence]:
    """Known divergences whose scope lists this case id (glob patterns)."""
    return [kd for kd in (registry or load_registry()) if any(fnmatch.fnmatchcase(case_id, p) for p in kd.cases)]
