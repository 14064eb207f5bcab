"""Evidence: the workspace it belongs to (``<ws>/reports``, ``<ws>/plans``, ``<ws>/docs``), bundles
(atomic, never overwritten), provenance (the workspace's git state, the workbench's version, each
port's identity), the fix-plan ledger and its rendering, phased plans whose tasks cite the tests that
verify them, and the report index. The lowest wing of parity: imports only ``parity.errors``, the
standard library, numpy and yaml (pytest runs as a subprocess, never imported).
"""
