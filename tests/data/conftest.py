"""Every data test checks that it left no thread running (prefetch, parallel map)."""

import threading

import pytest


@pytest.fixture(autouse=True)
def _no_leaked_threads():
    before = threading.active_count()
    yield
    assert threading.active_count() == before, [t.name for t in threading.enumerate()]
