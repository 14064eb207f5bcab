"""Random campaigns at scale: nanoBragg configurations drawn with Hypothesis strategies from the C's flag
vocabulary under a work bound, each run on the C and on a candidate port on a Dask cluster (or serially),
judged by the registry's gates, failures shrunk (``pwb shrink``'s engine) and saved as matrix cases, with
throughput recorded. The top of parity: may import triage (the shrinker, in ``shrinking`` only), matrix,
compare, images, quirks, ports, evidence, ``parity.thresholds`` and ``parity.errors``; nothing in parity
imports it (``parity.matrix.run`` takes its executor as an argument). Never simcore: the strategy's flag
list is checked against the C's flag table through :mod:`parity.ports.flagspec`. ``draw`` and ``strategy*`` import only Hypothesis and each
other, so a seed's cases depend on nothing else (see :mod:`parity.campaign.draw`).
"""
