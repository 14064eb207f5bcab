"""Evidence: bundles (atomic, never overwritten), provenance, the fix-plan ledger and its rendering,
phased plans and the report index. The lowest wing of parity: it imports only ``parity.errors`` and
the standard library plus numpy/yaml.
"""
