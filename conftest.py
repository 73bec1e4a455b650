"""Shared fixtures: doctests see ``nnlib`` and ``np``; every test starts seeded."""

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
