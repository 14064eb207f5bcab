"""Image-level parity: reading image files (raw, npy, SMV), the ROI convention, metrics, peaks,
matching, peak tables, overlays, the plateau measure and the pixel picker. Pure
numpy/scipy/matplotlib; may import ``parity.errors`` and ``parity.evidence`` (atomic writes), never
ports, compare or matrix.
"""
