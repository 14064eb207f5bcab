"""Image-level parity: reading image files, the ROI convention, metrics, peaks, matching, peak tables,
overlays, the plateau measure and the pixel picker. Pure numpy/scipy/matplotlib: imports only
``parity.errors`` (and, for writing, the lowest-layer atomic writer).
"""
