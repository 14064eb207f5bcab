"""Everything the pixel kernel needs, on the compute device and dtype, built once per run."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from simcore.kernel.structure import FTable


@dataclass
class EngineInputs:
    dtype: torch.dtype
    device: torch.device
    # detector (lab frame; vectors as (3,) tensors)
    pix0: torch.Tensor
    fdet: torch.Tensor
    sdet: torch.Tensor
    odet: torch.Tensor
    beam: torch.Tensor
    pixel_m: float
    anchor_f: tuple                 # (integer B, 0.5 − φ): float32 sub-pixel offsets, geometry.beam_anchor
    anchor_s: tuple
    anchor: torch.Tensor            # (3,) where the beam meets the detector plane (or the foot point)
    anchor_par: torch.Tensor        # anchor·b
    anchor_perp: torch.Tensor | None  # (3,) anchor − (anchor·b)b; None when negligible
    oversample: int
    thicksteps: int
    thickstep_m: float
    thick_m: float
    mu_m_inv: float
    close_distance_m: torch.Tensor
    distance_m: torch.Tensor
    curved: bool
    point_pixel: bool
    # sources
    incident: torch.Tensor          # (NS, 3) = −source direction
    incident_minus_beam: torch.Tensor  # (NS, 3) i − b, computed in float64 then cast
    lambda_m: torch.Tensor          # (NS,)
    # polarization
    kahn: float | torch.Tensor
    polar_vector: torch.Tensor
    nopolar: bool
    # crystal
    rot_steady: torch.Tensor        # (NP, NM, 3, 3): [phi, mosaic, a/b/c, xyz] in m
    rot_first: torch.Tensor
    rot_differs: bool
    abc_steady: list                # abc_components(rot_steady): 3×3 tensors (1,1,1,1,NP,NM,1)
    abc_first: list
    a_star: torch.Tensor            # static reciprocal vectors (Å⁻¹)
    b_star: torch.Tensor
    c_star: torch.Tensor
    Na: float | torch.Tensor
    Nb: float | torch.Tensor
    Nc: float | torch.Tensor
    shape: str
    fudge: float
    ftable: FTable
    interpolate: bool
    # physics switches and scaling
    dmin_m: float
    water_m: float
    I_bg: float
    r_e_sqr_fluence: float
    steps: int
    os_thick: bool
    os_polar: bool
    os_omega: bool
    compile: bool = False           # opt-in torch.compile of the common inner sum (simcore/kernel/compiled.py)
    hi: "EngineInputs | None" = None  # float32 runs that need float64 h (precision.py): the float64 twin
    fused: str = "off"              # the fused float32 inner sum: on | auto | off (simcore/kernel/fused.py)
    fused_chunks: bool = False      # the run's chunks go through the fused pixel kernel (render.py sizes them)
    rendered_estimate: int = 0      # pixels the run renders (ROI area): fused.py's "auto" weighs the work
    r_e_sqr: float = 7.94079248018965e-30
    fluence: float = 0.0

    @property
    def loop_sizes(self) -> tuple:
        """(layers, sub_s, sub_f, sources, phi steps, mosaic domains)."""
        np_, nm = self.rot_steady.shape[0], self.rot_steady.shape[1]
        os_ = self.oversample
        return (self.thicksteps, os_, os_, self.incident.shape[0], np_, nm)

    @property
    def inner_count(self) -> int:
        out = 1
        for n in self.loop_sizes:
            out *= n
        return out
