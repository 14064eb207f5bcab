"""Mutant ports: simcore with one injected defect each, run as their own commands
(``python tests/mutants/port.py NAME ARGS...``) and printing a foreign trace dialect
(``dialect.yaml``). The test corpus that shows the workbench works on ports we did not write.

- ``defects.py``: the registry, name → inject function (+ docstring, defect class);
- ``dialect.py``: rewrites simcore's TRACE_PY output into the mutant dialect;
- ``port.py``: the command (and ``run_port`` for in-process use);
- ``expected.yaml``: per mutant the case, traced pixel and what the tools must say;
- ``table.py``: the harness (nb-compare + trace-diff against the live C, table + JSON).
"""
