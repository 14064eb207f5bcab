"""The CUDA path: image, trace and gradients on -device cuda match the CPU. Skipped without a GPU."""
from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device (CI and CPU machines)")]

ARGS = ("-default_F 100 -cell 70 80 90 85 95 105 -lambda 1.2 -N 5 -distance 80 -detpixels 64 -pixel 0.2 "
        "-mosaic 0.3 -mosaic_dom 3 -phi 0 -osc 10 -phisteps 3 -oversample 2").split()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cuda_image_matches_cpu(dtype):
    import simcore

    cpu = simcore.simulate(ARGS, dtype=dtype).image.numpy()
    gpu = simcore.simulate(ARGS, dtype=dtype, device="cuda").image.cpu().numpy()
    big = cpu > 0.01 * cpu.max()
    assert np.max(np.abs(gpu - cpu)[big] / cpu[big]) < (1e-4 if dtype == "float32" else 1e-10)


def test_cuda_trace_closes_and_gradients_flow():
    import simcore
    from parity.ports.inprocess import trace_args

    run = trace_args(ARGS, (32, 30), dtype="float64", device="cuda", closure=True)
    assert run.closure["closed"]
    t = torch.tensor(80.0, dtype=torch.float64, requires_grad=True)
    img = simcore.simulate(ARGS, dtype="float64", device="cuda", params={"distance_mm": t}).image_compute
    img.sum().backward()
    assert t.grad is not None and torch.isfinite(t.grad)
