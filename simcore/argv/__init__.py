"""The C command line: the flag table, one handler per flag (geometry flags apart), header ingestion
from ``-img``/``-mask``, and the parse into :class:`CArgs`, where every unit conversion happens
once. May import ``simcore.errors`` and the ``simcore.io`` readers.
"""
