"""3-vector helpers mirroring nanoBragg.c (rotate, rotate_axis, unitize, cross, dot).

Setup-time quantities are float64 torch tensors of shape (3,) (lab frame of the C program), so
gradients flow from user parameters into the geometry. Operation order follows the C so float64
results agree to the last bits.
"""
from __future__ import annotations

import torch

F64 = torch.float64


def t64(value) -> torch.Tensor:
    """A float64 CPU tensor (keeps the autograd graph if ``value`` already is a tensor)."""
    if isinstance(value, torch.Tensor):
        return value.to(F64)
    return torch.tensor(value, dtype=F64)


def val(x) -> float:
    """A Python float of a number or (possibly grad-carrying) tensor, for branching only."""
    return float(x.detach()) if isinstance(x, torch.Tensor) else float(x)


def _skip(angle) -> bool:
    """The C skips a rotation step whose angle == 0; keep it when a gradient is wanted."""
    if isinstance(angle, torch.Tensor):
        return (not angle.requires_grad) and val(angle) == 0.0
    return angle == 0.0


def rotate_xyz(v: torch.Tensor, rx, ry, rz) -> torch.Tensor:
    """C ``rotate``: about x, then y, then z (right-handed); a zero angle is skipped."""
    x, y, z = v[0], v[1], v[2]
    if not _skip(rx):
        c, s = torch.cos(t64(rx)), torch.sin(t64(rx))
        x, y, z = x, y * c + z * (-s), y * s + z * c
    if not _skip(ry):
        c, s = torch.cos(t64(ry)), torch.sin(t64(ry))
        x, y, z = x * c + y * 0.0 + z * s, y, x * (-s) + y * 0.0 + z * c
    if not _skip(rz):
        c, s = torch.cos(t64(rz)), torch.sin(t64(rz))
        x, y, z = x * c + y * (-s), x * s + y * c, z
    return torch.stack([t64(x), t64(y), t64(z)])


def rotation_matrix_xyz(rx, ry, rz) -> torch.Tensor:
    """The matrix R = Rz·Ry·Rx that ``rotate_xyz`` applies (for traces and docs)."""
    eye = torch.eye(3, dtype=F64)
    return torch.stack([rotate_xyz(eye[:, k], rx, ry, rz) for k in range(3)], dim=1)


def rotate_axis(v: torch.Tensor, axis: torch.Tensor, phi) -> torch.Tensor:
    """C ``rotate_axis``: Rodrigues rotation of v about the unit vector ``axis`` by ``phi``."""
    phi = t64(phi)
    sinphi, cosphi = torch.sin(phi), torch.cos(phi)
    dot = (axis[0] * v[0] + axis[1] * v[1] + axis[2] * v[2]) * (1.0 - cosphi)
    x = axis[0] * dot + v[0] * cosphi + (-axis[2] * v[1] + axis[1] * v[2]) * sinphi
    y = axis[1] * dot + v[1] * cosphi + (+axis[2] * v[0] - axis[0] * v[2]) * sinphi
    z = axis[2] * dot + v[2] * cosphi + (-axis[1] * v[0] + axis[0] * v[1]) * sinphi
    return torch.stack([x, y, z])


def magnitude(v: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])


def unitize(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(unit vector, magnitude); a zero vector stays zero, as in the C."""
    mag = magnitude(v)
    if val(mag) == 0.0:
        return torch.zeros(3, dtype=F64), mag
    return torch.stack([v[0] / mag, v[1] / mag, v[2] / mag]), mag


def cross(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.stack([x[1] * y[2] - x[2] * y[1],
                        x[2] * y[0] - x[0] * y[2],
                        x[0] * y[1] - x[1] * y[0]])


def dot(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x[0] * y[0] + x[1] * y[1] + x[2] * y[2]


def scale(v: torch.Tensor, factor) -> torch.Tensor:
    return torch.stack([factor * v[0], factor * v[1], factor * v[2]])


def rescale(v: torch.Tensor, new_magnitude) -> torch.Tensor:
    """C ``vector_rescale``: set the magnitude (a zero vector counts as magnitude 1)."""
    old = magnitude(v)
    if val(old) <= 0.0:
        old = torch.ones((), dtype=F64)
    return torch.stack([new_magnitude / old * v[0], new_magnitude / old * v[1], new_magnitude / old * v[2]])


def vec(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)
