"""The numpydoc examples of the image-parity modules run as doctests (they are part of the docs)."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["parity.images.roi", "parity.images.io", "parity.images.metrics", "parity.images.peaks", "parity.images.match",
           "parity.images.peak_table", "parity.images.plateau", "parity.images.pick",
           "parity.images.shells", "parity.images.formats"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, extraglobs={"np": __import__("numpy")})
    assert result.attempted > 0 and result.failed == 0
