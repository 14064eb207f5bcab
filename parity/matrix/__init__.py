"""The case matrix, the threshold registry and its lint, golden judging, the demo, the trace sweep and
the benchmark. The top of parity: may import compare, images, ports, quirks, evidence and tracekit.
"""
