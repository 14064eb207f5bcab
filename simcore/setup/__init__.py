"""The C's set-up sequence, one module per physical thing (beam, crystal, detector, goniometer), the
sampling auto-selection, the conventions, and the C's stdout block for the result. Turns CArgs into
a float64 Setup; may import argv, io, noise and the top-level helpers (vec, taps, cfmt, errors);
never kernel.
"""
