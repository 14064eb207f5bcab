"""Gradient parity: the candidate port's ∂image/∂parameter against central finite differences of
the C program's images (the C has no gradients, but its images are the reference model), and a
refinement demo that recovers detector and crystal parameters from a C image by gradient descent
on simcore. Here live the parameter table (which C flag each parameter is), the finite-difference
machinery (stencils, step choice for float32 images, per-pixel noise), the gradient metrics and
their gates (registry class ``GRADIENT``), the gradient overlay, the check itself and the demo.
May import ``parity.ports`` (the C, simcore's autograd adapter ``parity.ports.gradients``, command
ports), ``parity.images``, ``parity.matrix.registry`` (thresholds) and ``parity.evidence``; never
``simcore`` directly (layout rule) and never ``parity.compare``.
"""
