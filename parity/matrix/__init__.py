"""The case matrix (``tests/parity_cases.yaml``), the threshold registry and its lint, golden judging,
the demo, the trace sweep and the benchmark. May import images, ports, quirks, evidence and
tracekit.
"""
