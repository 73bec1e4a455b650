"""Shared fixtures: doctests see ``nnlib`` and ``np``; every test starts seeded."""

import gc
import sys

import numpy as np
import pytest

import nnlib


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["nnlib"] = nnlib
    doctest_namespace["np"] = np


@pytest.fixture(autouse=True)
def _seeded():
    nnlib.random.set_seed(0)
    yield


_modules_frozen = [0]


@pytest.fixture(autouse=True)
def _frozen_imports():
    """Freezes modules' objects for the garbage collector once they are imported.

    torch alone brings about 200,000 objects, imported by the tests that use it;
    unfrozen, every later gc.collect() (tests that check names are released call
    it) and every automatic full collection walks them all: 0.1 s each.
    """
    if len(sys.modules) != _modules_frozen[0]:
        gc.collect()
        gc.freeze()
        _modules_frozen[0] = len(sys.modules)
