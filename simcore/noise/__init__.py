"""The C's random-number generators (ran1, gaussdev, poidev, mosaic and misset draws) and the Poisson
noise pass, bit for bit. ``rng`` is the scalar reference; ``kernel`` the same loop in numba, loaded by
``native`` (an ahead-of-time build in the user cache, else the JIT); ``poisson`` the noise image.
May import ``simcore.cfmt``, ``simcore.errors``, numpy and (``kernel`` only, lazily) numba.
"""
