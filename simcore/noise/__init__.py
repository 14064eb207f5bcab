"""The C's random-number generators (ran1, gaussdev, poidev, mosaic and misset draws) and the Poisson
noise pass, bit for bit. May import ``simcore.cfmt``, ``simcore.errors`` and numpy only.
"""
