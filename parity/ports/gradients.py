"""Gradient ports: how a candidate gives ∂image/∂parameter, and simcore's in-process autograd.

Two kinds, one narrow interface (``port.gradient(args, request, base_dir=, shape=)`` → float64
array (slow, fast), ∂(float image)/∂(flag value in its CLI unit)):

* :class:`SimcoreGradientPort`: simcore in-process, reverse-mode autograd. A scalar parameter θ
  feeds every pixel, so the whole Jacobian column J = ∂I/∂θ comes from two backward passes
  (the double-backward trick): g(u) = ∂(u·I)/∂θ is linear in u, and ∂g/∂u = J.
* :class:`CommandGradientPort`: any port run as a command that declares the gradient interface
  ``CMD ARGS -grad_param NAME -gradfile FILE``: it writes the gradient image as raw float32 in the
  ``-floatfile`` layout (slow-major), per unit of the flag's own value (mm, deg, Å; NAME from
  ``pwb gradcheck --param``). It runs in a fresh directory like every other port.

The only simcore calls of the gradient tools live here (layout rule: parity imports simcore only in
``parity/ports``). :func:`simcore_image` and :func:`simcore_config` serve the finite-difference
self-consistency reference; :func:`simcore_render` hands the refinement demo a graph-carrying image.
"""
from __future__ import annotations

import os
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from parity.errors import ParityInputError, ParityUsageError
from parity.ports.argfiles import file_flag_kind

__all__ = ["GradRequest", "GradientPortError", "SimcoreGradientPort", "CommandGradientPort", "resolve_gradient_port",
           "simcore_config", "simcore_image", "simcore_render", "strip_outputs"]


class GradientPortError(ParityInputError):
    """The candidate could not produce a gradient (its autograd raised, its command failed or wrote
    no usable -gradfile). A gradient check records it as a failed parameter and goes on."""


@dataclass(frozen=True)
class GradRequest:
    """One parameter to differentiate: the gradcheck name (command ports), simcore's names for it
    (several when tied, e.g. -N → Na, Nb, Nc), the component of a vector parameter (misset) with the
    vector's values, and the value itself (CLI unit)."""

    param: str
    simcore_names: tuple[str, ...]
    value: float
    component: int | None = None
    vector: tuple[float, ...] = ()


def strip_outputs(args: Sequence[str]) -> list[str]:
    """``args`` without output-file flags (``-floatfile``, ``-intfile``…): in-process runs read the
    case folder but must write nothing there."""
    out, skip = [], False
    for token in args:
        if skip:
            skip = False
            continue
        if file_flag_kind(token) in ("float", "output"):
            skip = True
            continue
        out.append(token)
    return out


def _torch():
    import torch

    return torch


def _params(request: GradRequest, t):
    torch = _torch()
    if request.component is None:
        return {name: t for name in request.simcore_names}
    parts = [t if k == request.component else torch.tensor(float(v), dtype=torch.float64)
             for k, v in enumerate(request.vector)]
    vec = torch.stack(parts)
    return {name: vec for name in request.simcore_names}


def simcore_render(args: Sequence[str], *, params: dict | None = None, dtype: str = "float64",
                   cwd: str | os.PathLike | None = None, device: str | None = None):
    """simcore's compute-dtype image (a torch tensor that keeps the autograd graph of ``params``)."""
    import simcore

    result = simcore.simulate(strip_outputs(args), dtype=dtype, device=device, params=params,
                              cwd=None if cwd is None else str(cwd))
    return result.image_compute


def simcore_image(args: Sequence[str], *, request: GradRequest | None = None, value: float | None = None,
                  dtype: str = "float64", cwd: str | os.PathLike | None = None) -> np.ndarray:
    """simcore's image (compute dtype, as float64 numpy), optionally with ``request``'s parameter at ``value``."""
    torch = _torch()
    params = None
    if request is not None:
        params = _params(request, torch.tensor(float(request.value if value is None else value), dtype=torch.float64))
    with torch.no_grad():
        img = simcore_render(args, params=params, dtype=dtype, cwd=cwd)
    return img.detach().to(torch.float64).cpu().numpy()


def simcore_config(args: Sequence[str], *, cwd: str | os.PathLike | None = None) -> dict:
    """simcore's effective configuration for ``args`` (set-up only, no pixels rendered)."""
    from simcore.argv.parse import parse_argv
    from simcore.setup.report import effective_config
    from simcore.setup.sequence import build_setup

    where = None if cwd is None else str(cwd)
    return effective_config(build_setup(parse_argv(strip_outputs(args), cwd=where), cwd=where))


@dataclass(frozen=True)
class SimcoreGradientPort:
    """simcore's autograd, in-process, in ``dtype`` (the compute dtype of the image)."""

    dtype: str = "float64"
    device: str | None = None
    name: str = "simcore"

    def describe(self) -> str:
        return f"simcore autograd (in-process, {self.dtype})"

    def gradient(self, args: Sequence[str], request: GradRequest, *, base_dir: str | os.PathLike,
                 shape: tuple[int, int]) -> np.ndarray:
        try:
            return self._jacobian(args, request, base_dir=base_dir, shape=shape)
        except RuntimeError as exc:     # an autograd failure inside simcore (in-place op, out=...)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise GradientPortError(f"simcore {self.dtype} autograd failed for {request.param}: "
                                    f"{first[:240]}") from None

    def _jacobian(self, args, request, *, base_dir, shape) -> np.ndarray:
        torch = _torch()
        t = torch.tensor(float(request.value), dtype=torch.float64, requires_grad=True)
        img = simcore_render(args, params=_params(request, t), dtype=self.dtype, cwd=base_dir, device=self.device)
        if tuple(img.shape) != tuple(shape):
            raise ParityInputError(f"simcore image is {tuple(img.shape)}, expected {tuple(shape)}")
        if not img.requires_grad:       # the parameter does not reach the image
            return np.zeros(shape)
        u = torch.zeros_like(img, requires_grad=True)
        (g,) = torch.autograd.grad((img * u).sum(), t, create_graph=True)
        if not g.requires_grad:         # ∂I/∂θ does not depend on u: identically zero
            return np.zeros(shape)
        (jac,) = torch.autograd.grad(g, u, allow_unused=True)
        return np.zeros(shape) if jac is None else jac.detach().to(torch.float64).cpu().numpy()


@dataclass(frozen=True)
class CommandGradientPort:
    """A port run as ``CMD ARGS -grad_param NAME -gradfile FILE`` (the declared gradient interface)."""

    cmd: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    name: str = "cmd"
    timeout_s: float | None = 600.0

    def describe(self) -> str:
        return " ".join(shlex.quote(c) for c in self.cmd)

    def gradient(self, args: Sequence[str], request: GradRequest, *, base_dir: str | os.PathLike,
                 shape: tuple[int, int]) -> np.ndarray:
        from parity.ports.process import run_isolated, runner_for
        from parity.ports.profile import Port

        runner = runner_for(Port(name=self.name, kind="command", cmd=tuple(self.cmd), env=dict(self.env),
                                 source="--cand-cmd"))
        with tempfile.TemporaryDirectory(prefix="pwb-grad-") as scratch:
            gradfile = Path(scratch) / "grad.bin"
            argv = [*args, "-grad_param", request.param, "-gradfile", str(gradfile)]
            env = {**os.environ, **dict(self.env)} if self.env else None
            run = run_isolated(runner, argv, base=base_dir, float_dest=Path(scratch) / "float.bin",
                               timeout_s=self.timeout_s, env=env)
            if not run.ok:
                tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or [""]
                raise GradientPortError(f"candidate {self.describe()} failed (exit {run.returncode}) for "
                                       f"-grad_param {request.param}: {tail[0][:200]}")
            if not gradfile.is_file():
                raise GradientPortError(f"candidate {self.describe()} wrote no -gradfile for {request.param} "
                                       "(does it declare the gradient interface?)")
            data = np.fromfile(gradfile, dtype="<f4")
        if data.size != shape[0] * shape[1]:
            raise GradientPortError(f"-gradfile for {request.param} holds {data.size} float32 values, "
                                   f"expected {shape[0]}x{shape[1]}")
        grad = data.reshape(shape).astype(np.float64)
        if not np.all(np.isfinite(grad)):
            raise GradientPortError(f"-gradfile for {request.param} holds NaN/Inf")
        return grad


def resolve_gradient_port(spec: str | None = "simcore", *, cmd: str | None = None, dtype: str = "float64",
                          env: Mapping[str, str] | None = None):
    """``--cand simcore`` (in-process autograd) or ``--cand-cmd "CMD ..."`` (the declared interface).

    After the ports merge this is where a ``Port`` (``resolve_port``) maps to a gradient port:
    kind "simcore" → SimcoreGradientPort, kind "command" → CommandGradientPort(port.cmd, port.env).
    """
    if cmd:
        try:
            parts = shlex.split(cmd)
        except ValueError as exc:       # an unbalanced quote
            raise ParityUsageError(f"--cand-cmd {cmd!r}: {exc}") from None
        if not parts:
            raise ParityUsageError("--cand-cmd is empty")
        # the command runs in a fresh directory: files it names relative to here become absolute
        parts = [str(Path(p).resolve()) if not os.path.isabs(p) and os.sep in p and Path(p).is_file() else p
                 for p in parts]
        return CommandGradientPort(cmd=tuple(parts), env=dict(env or {}))
    if spec in (None, "simcore"):
        if dtype not in ("float32", "float64"):
            raise ParityUsageError(f"--dtype {dtype}: use float32 or float64")
        return SimcoreGradientPort(dtype=dtype)
    raise ParityUsageError(f"--cand {spec}: only 'simcore' (in-process autograd) or --cand-cmd \"CMD ...\" "
                           "(a command with -grad_param NAME -gradfile FILE) can give gradients")
