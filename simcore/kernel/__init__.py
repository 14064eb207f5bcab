"""The pixel kernel: engine inputs and build, geometry, terms, lattice factors, structure factors, the
optional compiled inner sum and the chunked render. Carries the named taps. May import setup, argv
and the top-level helpers.
"""
