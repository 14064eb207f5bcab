"""The in-process entry point: ``image, config = simcore.simulate(args)``."""
from __future__ import annotations

import contextlib

from simcore.argv.parse import CArgs, parse_argv
from simcore.errors import (SimcoreError, SimcoreInputError, SimcoreInternalError, SimcoreOutputError,
                            SimcoreResourceError, SimcoreUsageError)
from simcore.io.outputs import check_writable, requested_outputs, write_outputs
from simcore.kernel.render import SimResult, render
from simcore.setup.report import effective_config
from tracekit.atomic import OutputError


def simulate(args, *, dtype: str | None = None, device: str | None = None, params: dict | None = None,
             pixels: list | None = None, cwd: str | None = None, max_memory_gb: float | None = None,
             fused: str | None = None) -> SimResult:
    """Simulate like the C program for a nanoBragg argument list (or a parsed :class:`CArgs`).

    Returns a :class:`SimResult` (unpacks as ``image, config``): ``image`` is the float32
    (slow, fast) tensor the C would store, ``config`` the effective configuration. Only files the
    arguments name explicitly (``-floatfile``, ``-intfile``, ``-pgmfile``, ``-noisefile``) are
    written, relative to ``cwd``. ``params`` maps names like ``distance_mm`` or ``cell_a_A`` to
    tensors for gradients (see simcore.setup.sequence.PARAM_UNITS). ``fused``: the fused float32
    kernel, off (default) | on | auto (simcore/kernel/fused.py; a gradient run is always eager).
    """
    with typed_errors(args.argv if isinstance(args, CArgs) else [str(a) for a in args]):
        cargs = args if isinstance(args, CArgs) else parse_argv([str(a) for a in args], cwd=cwd)
        paths = requested_outputs(cargs, defaults=False)
        check_writable(paths, cwd)
        result = render(cargs, params=params, dtype=dtype, device=device, pixels=pixels, cwd=cwd,
                        max_memory_gb=max_memory_gb, outputs=bool(paths), fused=fused)
        result.config = effective_config(result.setup)
        if paths:
            result.output_lines = write_outputs(result, paths, cwd=cwd)
        return result


HUGE = 1e150           # a value this large squared (or over a small pixel) leaves float64


def _huge_flags(argv) -> list[str]:
    """The flags of ``argv`` followed by a finite number of magnitude >= HUGE (e.g. ``-Xbeam 1e308``)."""
    flags, current = [], None
    for tok in argv or ():
        try:
            value = float(tok)
        except ValueError:
            current = tok if tok.startswith("-") else current
            continue
        if current and abs(value) >= HUGE and current not in flags:
            flags.append(current)
    return flags


@contextlib.contextmanager
def typed_errors(argv=None):
    """Every failure leaves as a SimcoreError (its ``exit_code`` says what kind), never a traceback
    from deep inside: input files that cannot be opened are SimcoreInputError, running out of
    memory SimcoreResourceError, a float overflow caused by a huge value of ``argv`` (``-Xbeam 1e308``)
    SimcoreUsageError naming its flag, anything unforeseen SimcoreInternalError (a bug; the original
    exception is its ``__cause__``). Interrupts (KeyboardInterrupt) pass through."""
    try:
        yield
    except SimcoreError:
        raise
    except MemoryError as exc:
        raise SimcoreResourceError(f"out of memory ({exc or 'MemoryError'}); set a smaller -max_memory_gb "
                                   "or a smaller detector") from exc
    except BrokenPipeError:
        raise
    except OutputError as exc:
        raise SimcoreOutputError(str(exc)) from exc
    except OSError as exc:
        name = f": {exc.filename}" if exc.filename else ""
        raise SimcoreInputError(f"{exc.strerror or exc}{name}") from exc
    except Exception as exc:  # noqa: BLE001 - the typed exception carries the original as __cause__
        overflow = isinstance(exc, (OverflowError, ZeroDivisionError)) or (
            isinstance(exc, ValueError) and ("NaN" in str(exc) or "infinity" in str(exc)))
        if overflow and _huge_flags(argv):
            raise SimcoreUsageError(f"{', '.join(_huge_flags(argv))}: a value so large that the set-up overflows "
                                    f"floating point ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})") from exc
        if "out of memory" in str(exc).lower() or "can't allocate memory" in str(exc).lower():
            raise SimcoreResourceError(f"out of memory: {str(exc).splitlines()[0][:200]}") from exc
        raise SimcoreInternalError(f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
                                   " (a bug: please report it with the arguments)") from exc
