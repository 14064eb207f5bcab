"""Known divergences: the registry of the C's quirks (``known_divergences.yaml``) and the triggers that
decide whether an argument list touches one. May import ``parity.evidence`` (provenance) and
``parity.errors``.
"""
