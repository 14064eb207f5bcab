"""The C's set-up sequence, one module per physical thing (beam, crystal, detector, goniometer) and the
conventions, turning CArgs into a float64 Setup. May import argv, io, noise.rng and the top-level
helpers; never kernel.
"""
