"""Refinement demo: recover perturbed detector distance, beam centre and misset angles from a
"measured" image (the C's, or simcore's when no C is available) by gradient descent on simcore.

The model is simcore float64 with the refined values passed as ``params`` tensors (autograd
through the whole image); the loss is the mean squared difference of log(1 + I/s), s = 1 % of
the measured maximum (the log keeps weak spots in play next to bright ones). The optimiser is
torch's L-BFGS with a strong-Wolfe line search on *scaled* variables z = (p − p_start)/scale, one
scale per parameter (about a tenth of the spot width in that parameter), so one step size suits
all. Since simcore float64 reproduces the C's image, the minimum is at the C's true values and the
tolerances below are far above what the fit reaches.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parity.errors import ParityUsageError

__all__ = ["DemoSetup", "RefineResult", "demo_setup", "refine", "render_refine_png", "SIZES"]

# name: (scale for the optimiser, convergence tolerance) in the parameter's unit
REFINED = {
    "distance_mm": (0.1, 0.02),
    "Xbeam_mm": (0.01, 2e-3),
    "Ybeam_mm": (0.01, 2e-3),
    "misset_x_deg": (0.02, 5e-3),
    "misset_y_deg": (0.02, 5e-3),
    "misset_z_deg": (0.02, 5e-3),
}
SIZES = {"small": 64, "big": 192}


@dataclass(frozen=True)
class DemoSetup:
    base_args: tuple[str, ...]      # geometry without the refined flags
    truth: dict                     # refined name -> true value
    start: dict                     # refined name -> perturbed starting value

    def args(self, values: dict) -> list[str]:
        v = {**self.truth, **values}
        return [*self.base_args, "-distance", repr(v["distance_mm"]), "-Xbeam", repr(v["Xbeam_mm"]),
                "-Ybeam", repr(v["Ybeam_mm"]), "-misset", repr(v["misset_x_deg"]), repr(v["misset_y_deg"]),
                repr(v["misset_z_deg"])]


def demo_setup(size: str = "small") -> DemoSetup:
    """A MOSFLM cubic-cell geometry, ``size`` "small" (64², for tests) or "big" (192², the committed
    evidence), 2× oversampling."""
    if size not in SIZES:
        raise ParityUsageError(f"--size {size}: use one of {', '.join(SIZES)}")
    n = SIZES[size]
    half_mm = n * 0.1 / 2
    base = ("-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-lambda", "1.0", "-N", "3",
            "-detpixels", str(n), "-pixel", "0.1", "-oversample", "2", "-mosflm")
    truth = {"distance_mm": 80.0, "Xbeam_mm": half_mm, "Ybeam_mm": half_mm,
             "misset_x_deg": 2.0, "misset_y_deg": 3.0, "misset_z_deg": 1.0}
    k = 1.0 if size == "small" else 3.0   # the big demo starts 3x further away (30-80x the tolerances)
    start = {"distance_mm": 80.0 + 0.5 * k, "Xbeam_mm": half_mm + 0.04 * k, "Ybeam_mm": half_mm - 0.03 * k,
             "misset_x_deg": 2.0 + 0.15 * k, "misset_y_deg": 3.0 - 0.1 * k, "misset_z_deg": 1.0 + 0.1 * k}
    return DemoSetup(base_args=base, truth=truth, start=start)


@dataclass
class RefineResult:
    names: list[str]
    truth: dict
    start: dict
    final: dict
    history: list[dict] = field(default_factory=list)    # {eval, loss, values}
    tolerance: dict = field(default_factory=dict)
    measured_by: str = "simcore"

    @property
    def errors(self) -> dict:
        return {k: self.final[k] - self.truth[k] for k in self.names}

    @property
    def converged(self) -> bool:
        return all(abs(self.errors[k]) <= self.tolerance[k] for k in self.names)

    def to_dict(self) -> dict:
        return {"names": self.names, "truth": self.truth, "start": self.start, "final": self.final,
                "errors": self.errors, "tolerance": self.tolerance, "converged": self.converged,
                "measured_by": self.measured_by, "evaluations": len(self.history),
                "loss_start": self.history[0]["loss"] if self.history else None,
                "loss_final": self.history[-1]["loss"] if self.history else None, "history": self.history}


def _model(setup: DemoSetup, values: dict):
    """simcore's float64 image with the refined values as params (tensors keep the graph)."""
    import torch

    from parity.ports.gradients import simcore_render

    misset = torch.stack([values["misset_x_deg"], values["misset_y_deg"], values["misset_z_deg"]])
    const = {k: float(v.detach()) for k, v in values.items()}
    params = {"distance_mm": values["distance_mm"], "Xbeam_mm": values["Xbeam_mm"],
              "Ybeam_mm": values["Ybeam_mm"], "misset_deg": misset}
    return simcore_render(setup.args(const), params=params, dtype="float64")


def refine(setup: DemoSetup, measured: np.ndarray, *, max_evals: int = 60, measured_by: str = "simcore",
           log=None) -> RefineResult:
    """L-BFGS on the scaled parameters from ``setup.start``; returns the history and final values."""
    import torch

    names = list(REFINED)
    scale = torch.tensor([REFINED[k][0] for k in names], dtype=torch.float64)
    p0 = torch.tensor([setup.start[k] for k in names], dtype=torch.float64)
    z = torch.zeros(len(names), dtype=torch.float64, requires_grad=True)
    meas = torch.as_tensor(np.asarray(measured, dtype=np.float64))
    s = 0.01 * float(meas.max()) or 1.0
    target = torch.log1p(meas / s)
    history: list[dict] = []

    def closure():
        opt.zero_grad()
        p = p0 + z * scale
        values = {k: p[i] for i, k in enumerate(names)}
        image = _model(setup, values)
        loss = torch.mean((torch.log1p(torch.clamp(image, min=0.0) / s) - target) ** 2)
        loss.backward()
        history.append({"eval": len(history), "loss": float(loss.detach()),
                        "values": {k: float(p[i].detach()) for i, k in enumerate(names)}})
        if log is not None:
            log(history[-1])
        return loss

    opt = torch.optim.LBFGS([z], lr=1.0, max_iter=max_evals, max_eval=max_evals, tolerance_grad=1e-12,
                            tolerance_change=1e-16, history_size=20, line_search_fn="strong_wolfe")
    opt.step(closure)
    best = min(history, key=lambda h: h["loss"])
    return RefineResult(names=names, truth=dict(setup.truth), start=dict(setup.start), final=dict(best["values"]),
                        history=history, tolerance={k: REFINED[k][1] for k in names}, measured_by=measured_by)


def render_refine_png(result: RefineResult, *, title: str = "", dpi: int = 100) -> bytes:
    """Loss per evaluation (log) and each parameter's error / tolerance per evaluation (symlog)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4.8), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_par = fig.subplots(1, 2)
    evals = [h["eval"] for h in result.history]
    ax_loss.semilogy(evals, [max(h["loss"], 1e-300) for h in result.history], "k.-")
    ax_loss.set_xlabel("loss evaluation")
    ax_loss.set_ylabel("mean (log(1+I/s) − log(1+I_meas/s))²")
    ax_loss.set_title("loss")
    for k in result.names:
        tol = result.tolerance[k]
        ax_par.plot(evals, [(h["values"][k] - result.truth[k]) / tol for h in result.history], ".-",
                    label=f"{k} (tol {tol:g})")
    ax_par.axhspan(-1, 1, color="0.85", zorder=0, label="within tolerance")
    ax_par.set_yscale("symlog", linthresh=1.0)
    ax_par.set_xlabel("loss evaluation")
    ax_par.set_ylabel("(value − true) / tolerance")
    ax_par.set_title("parameters")
    ax_par.legend(fontsize=8, loc="upper right")
    verdict = "converged" if result.converged else "NOT converged"
    fig.suptitle(title or f"refinement against a {result.measured_by} image: {verdict}", fontsize=11)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def measured_image(setup: DemoSetup, *, c_runner=None) -> tuple[np.ndarray, str]:
    """The "measured" image at the true values: the C's float image, else simcore's float64 one."""
    if c_runner is None:
        from parity.ports.gradients import simcore_image

        return simcore_image(setup.args({})), "simcore"
    import tempfile

    from parity.gradients.reference import c_image_at
    from parity.ports.gradients import simcore_config

    cfg = simcore_config(setup.args({}))
    fn = c_image_at(lambda _v: setup.args({}), runner=c_runner, base_dir=tempfile.gettempdir(),
                    shape=(int(cfg["spixels"]), int(cfg["fpixels"])))
    return fn(0.0).astype(np.float64), "C"
