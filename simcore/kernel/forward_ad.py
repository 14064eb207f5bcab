"""Forward-mode AD (``torch.autograd.forward_ad`` dual tensors) for ``render``'s ``params``.

The engine decides per operation whether a graph is needed (``requires_grad``), runs without one
under ``inference_mode`` and takes shortcuts (numpy's IEEE sqrt, skipped zero terms, in-place fast
paths) that a dual tensor's tangent would not survive. So a dual parameter is not pushed through
the engine: its primal becomes a reverse-mode leaf, and the image's tangent J·v comes from two
backward passes (the double-backward trick: g(u) = Jᵀu is linear in u, and ∂(g(u)·v)/∂u = J·v).
The returned images are dual tensors at the caller's dual level, tangent J·v.
"""
from __future__ import annotations

import torch
import torch.autograd.forward_ad as fwAD

from simcore.errors import SimcoreUsageError


def dual_params(params: dict | None) -> dict:
    """{id(tensor): (primal, tangent)} for the dual tensors among ``params``' values."""
    out = {}
    for v in (params or {}).values():
        if isinstance(v, torch.Tensor) and id(v) not in out:
            primal, tangent = fwAD.unpack_dual(v)
            if tangent is not None:
                out[id(v)] = (primal, tangent)
    return out


def render_jvp(render, args, params: dict, duals: dict, **kwargs):
    """``render(args, params=params, **kwargs)`` with dual parameters: the SimResult's images are
    dual tensors whose tangent is the Jacobian-vector product of the parameters' tangents."""
    if any(isinstance(v, torch.Tensor) and v.requires_grad for v in params.values()):
        raise SimcoreUsageError("params: mixing forward-mode dual tensors with tensors that require grad is not "
                                "supported; use one mode per call")
    leaves = {key: primal.detach().clone().requires_grad_(True) for key, (primal, _t) in duals.items()}
    live = {name: leaves.get(id(v), v) for name, v in params.items()}
    with torch.enable_grad():
        result = render(args, params=live, **kwargs)
        img = result.image_compute
        keys = list(leaves)
        jv = None
        if img.requires_grad:
            u = torch.zeros_like(img, requires_grad=True)
            grads = torch.autograd.grad((img * u).sum(), [leaves[k] for k in keys], create_graph=True,
                                        allow_unused=True)
            terms = [(g * duals[k][1].to(g.dtype)).sum() for g, k in zip(grads, keys) if g is not None]
            total = sum(terms[1:], terms[0]) if terms else None
            if total is not None and total.requires_grad:
                jv = torch.autograd.grad(total, u, allow_unused=True)[0]
    primal = img.detach()
    if jv is None:
        jv = torch.zeros_like(primal)
    result.image_compute = fwAD.make_dual(primal, jv.detach())
    result.image = fwAD.make_dual(primal.to(torch.float32), jv.detach().to(torch.float32))
    return result
