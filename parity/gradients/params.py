"""The differentiable parameters a gradient check knows: which C flag (and which of its values)
each one is, its unit, simcore's name for it, and a default finite-difference step.

Names are in the flag's own unit (``distance_mm`` is ``-distance`` in mm), so a gradient is
∂image/∂(the number you type). Arguments are edited the way the C reads them:

* the flag's value is replaced in place when the flag is present (the C parses flags in order and
  some set the pivot as a side effect: ``-distance``/``-Xbeam``/``-Ybeam`` → BEAM, ``-twotheta`` →
  SAMPLE, so moving a flag could change the model);
* an absent flag is inserted at the *front* with its effective value (what the run used anyway), so
  any later pivot-setting flag still wins;
* auto-selected discrete settings are pinned (``-oversample K``), so a step cannot flip them.

``-N``/``-Na``/``-Nb``/``-Nc`` are integers in the C (``atoi``): it has no image at non-integer N,
so no finite-difference reference exists there (see :data:`INTEGER_NOTE`).
"""
from __future__ import annotations

from dataclasses import dataclass

from parity.errors import ParityUsageError

__all__ = ["ParamSpec", "PARAMS", "INTEGER_NOTE", "param_spec", "expand_names", "flag_values", "with_value",
           "pinned_args", "format_value"]

INTEGER_NOTE = ("the C reads -N/-Na/-Nb/-Nc with atoi: it has no image at non-integer N, so no finite "
                "difference of the C exists; with a C, its integer difference (I(N+1) - I(N-1))/2 must "
                "correlate with the candidate's dI/dN")


@dataclass(frozen=True)
class ParamSpec:
    name: str                    # gradcheck name, CLI unit in the suffix
    flag: str                    # the C flag
    n_values: int                # how many numbers the flag takes
    index: int                   # which of them this parameter is
    simcore: tuple[str, ...]     # simcore.simulate params names this value feeds (several: tied, e.g. -N)
    component: int | None        # index into a vector simcore param (misset_deg), else None
    step: float                  # default finite-difference step (flag unit), see fd.py
    integer: bool = False        # the C truncates the value (atoi)
    exact_flag: bool = False     # the C matches the flag with strcmp (else strstr, substring)

    @property
    def unit(self) -> str:
        return self.name.rsplit("_", 1)[-1] if "_" in self.name else "1"


def _p(name, flag, simcore, step, *, n=1, index=0, component=None, integer=False, exact=False):
    return ParamSpec(name, flag, n, index, tuple(simcore), component, step, integer, exact)


# Default steps: about the Richardson (4-point) step that balances truncation (∝ h⁴ f⁽⁵⁾) and float32
# rounding (∝ ε·|f|/h) on the golden 256² cases at004_mosflm/xds and at007 (what `--step auto` chose
# there); auto re-balances from these per case.
PARAMS: dict[str, ParamSpec] = {p.name: p for p in [
    _p("distance_mm", "-distance", ["distance_mm"], 0.02),
    _p("Xbeam_mm", "-Xbeam", ["Xbeam_mm"], 3e-3),
    _p("Ybeam_mm", "-Ybeam", ["Ybeam_mm"], 3e-3),
    _p("misset_x_deg", "-misset", ["misset_deg"], 8e-3, n=3, index=0, component=0),
    _p("misset_y_deg", "-misset", ["misset_deg"], 8e-3, n=3, index=1, component=1),
    _p("misset_z_deg", "-misset", ["misset_deg"], 8e-3, n=3, index=2, component=2),
    _p("cell_a_A", "-cell", ["cell_a_A"], 3e-2, n=6, index=0),
    _p("cell_b_A", "-cell", ["cell_b_A"], 3e-2, n=6, index=1),
    _p("cell_c_A", "-cell", ["cell_c_A"], 3e-2, n=6, index=2),
    _p("cell_alpha_deg", "-cell", ["cell_alpha_deg"], 1e-2, n=6, index=3),
    _p("cell_beta_deg", "-cell", ["cell_beta_deg"], 1e-2, n=6, index=4),
    _p("cell_gamma_deg", "-cell", ["cell_gamma_deg"], 1e-2, n=6, index=5),
    _p("lambda_A", "-lambda", ["lambda_A"], 1e-4),
    _p("N", "-N", ["Na", "Nb", "Nc"], 1e-3, integer=True, exact=True),
    _p("Na", "-Na", ["Na"], 1e-3, integer=True),
    _p("Nb", "-Nb", ["Nb"], 1e-3, integer=True),
    _p("Nc", "-Nc", ["Nc"], 1e-3, integer=True),
    _p("detector_rotx_deg", "-detector_rotx", ["detector_rotx_deg"], 1e-2),
    _p("detector_roty_deg", "-detector_roty", ["detector_roty_deg"], 1e-2),
    _p("detector_rotz_deg", "-detector_rotz", ["detector_rotz_deg"], 1e-2),
    _p("twotheta_deg", "-twotheta", ["twotheta_deg"], 1e-2),
]}

# The set `--param all` checks (N once, not also Na/Nb/Nc).
ALL = [n for n in PARAMS if n not in ("Na", "Nb", "Nc")]


def param_spec(name: str) -> ParamSpec:
    try:
        return PARAMS[name]
    except KeyError:
        raise ParityUsageError(f"--param {name}: unknown parameter (known: {', '.join(PARAMS)}, all)") from None


def expand_names(names) -> list[str]:
    """``["all"]`` → every parameter of :data:`ALL`; otherwise the names checked, order kept."""
    out: list[str] = []
    for name in names:
        for n in (ALL if name == "all" else [name]):
            param_spec(n)
            if n not in out:
                out.append(n)
    if not out:
        raise ParityUsageError("give at least one --param NAME (or --param all)")
    return out


def _matches(token: str, spec: ParamSpec) -> bool:
    if not token.startswith("-"):
        return False
    return token == spec.flag if spec.exact_flag else spec.flag in token


def _flag_positions(args: list[str], spec: ParamSpec) -> list[int]:
    hits = [i for i, t in enumerate(args) if _matches(t, spec)]
    others = [args[i] for i in hits if args[i] != spec.flag]
    if others:
        raise ParityUsageError(f"ARGS: {others[0]} is also read by the C as {spec.flag} (substring match); "
                               f"remove it to check {spec.name}")
    return hits


def flag_values(args: list[str], spec: ParamSpec) -> list[str] | None:
    """The values the last ``spec.flag`` in ``args`` carries, or None when the flag is absent."""
    hits = _flag_positions(args, spec)
    if not hits:
        return None
    i = hits[-1]
    values = args[i + 1:i + 1 + spec.n_values]
    if len(values) < spec.n_values or (spec.flag == "-misset" and values and "rand" in values[0]):
        raise ParityUsageError(f"ARGS: {spec.flag} needs {spec.n_values} numbers to check {spec.name}")
    return values


def format_value(value: float, spec: ParamSpec) -> str:
    """The flag text for ``value``: ``repr`` (round-trips exactly through atof); integers as such."""
    if spec.integer:
        if value != int(value):
            raise ParityUsageError(f"{spec.name}: the C reads integers only ({value!r} given)")
        return str(int(value))
    return repr(float(value))


def with_value(args: list[str], spec: ParamSpec, value: float, *, defaults: list[float] | None = None) -> list[str]:
    """``args`` with this parameter set to ``value``: in place when the flag is present, else the
    flag inserted at the front with ``defaults`` (its effective values) for the other components."""
    args = list(args)
    hits = _flag_positions(args, spec)
    text = format_value(value, spec)
    if hits:
        for i in hits:   # every occurrence (the C keeps the last; keep them consistent)
            args[i + 1 + spec.index] = text
        return args
    if defaults is None or len(defaults) != spec.n_values:
        raise ParityUsageError(f"ARGS has no {spec.flag}: its effective value is needed to insert it")
    values = [format_value(v, spec) for v in defaults]
    values[spec.index] = text
    return [spec.flag, *values, *args]


def pinned_args(args: list[str], config: dict) -> list[str]:
    """Pin what the C auto-selects from continuous parameters (the oversample factor), so a
    finite-difference step cannot change it; ``config`` is simcore's effective configuration."""
    if "-oversample" in args:
        return list(args)
    return ["-oversample", str(int(config["oversample"])), *args]


def effective_defaults(spec: ParamSpec, config: dict, args: list[str]) -> list[float]:
    """The values the flag has in effect (used when inserting it)."""
    present = flag_values(args, spec)
    if present is not None:
        return [float(v) for v in present]
    if spec.flag == "-distance":
        return [config["distance_m"] * 1e3]
    if spec.flag == "-Xbeam":
        return [config["Xbeam_m"] * 1e3]
    if spec.flag == "-Ybeam":
        return [config["Ybeam_m"] * 1e3]
    if spec.flag == "-lambda":
        return [config["lambda0_m"] * 1e10]
    if spec.flag == "-misset":
        return [float(x) for x in config.get("misset_deg") or (0.0, 0.0, 0.0)]
    if spec.flag == "-cell":
        return [*config["cell_A"], *config["cell_deg"]]
    if spec.flag in ("-N", "-Na"):
        return [float(config["N"][0])]
    if spec.flag == "-Nb":
        return [float(config["N"][1])]
    if spec.flag == "-Nc":
        return [float(config["N"][2])]
    if spec.flag.startswith("-detector_rot"):
        return [config["detector_rot_deg"]["xyz".index(spec.flag[-1])]]
    if spec.flag == "-twotheta":
        return [config["twotheta_deg"]]
    raise ParityUsageError(f"no effective value known for {spec.flag}")
