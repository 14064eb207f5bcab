"""Triage and shrink: the debugging loop chained (``pwb triage``: compare two ports on one argument
list, classify the difference image, trace chosen pixels on both sides, diff, aggregate, tell the
story in one bundle) and a failing argument list reduced to the flags that matter (``pwb shrink``:
delta debugging over flag groups, cached and budgeted, on injectable parallel workers). The top
wing of parity: it may import ``parity.compare``, ``parity.images``, ``parity.ports``,
``parity.evidence``, ``parity.matrix`` (the case file), ``parity.thresholds`` and ``tracekit`` (the
trace diff only through :mod:`parity.triage.tracediff`); nothing in parity imports it, and it never
imports ``simcore`` (flag arity comes from :mod:`parity.ports.flagspec`).
"""
