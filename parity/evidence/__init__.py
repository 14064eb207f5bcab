"""Evidence: bundles (atomic, never overwritten), provenance, the fix-plan ledger and its rendering,
phased plans and the report index. The lowest wing of parity: imports only ``parity.errors``, the
standard library, numpy and yaml.
"""
