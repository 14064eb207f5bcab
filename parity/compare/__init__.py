"""nb-compare: plan the run, run both ports, judge the images with the registry, write the outdir
contract and the summary, and optionally a bundle. May import images, ports, quirks, evidence and
``parity.errors``; exit codes live in ``exits.py`` with the contract.
"""
