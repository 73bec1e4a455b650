"""Boolean flags of the pipeline refuse strings: ``drop_remainder="False"`` is truthy."""

import numpy as np
import pytest

from nnlib.data import Dataset


def _ds():
    return Dataset.from_tensor_slices(np.arange(5))


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: _ds().batch(2, drop_remainder="False"), "drop_remainder"),
        (lambda: _ds().padded_batch(2, drop_remainder="no"), "drop_remainder"),
        (
            lambda: _ds().shuffle(5, reshuffle_each_iteration="no"),
            "reshuffle_each_iteration",
        ),
    ],
    ids=["batch", "padded_batch", "shuffle"],
)
def test_a_string_flag_is_refused_naming_it(build, argument):
    with pytest.raises(TypeError, match=rf"{argument} must be True or False, got '"):
        build()


def test_numpy_booleans_still_work():
    batches = list(_ds().batch(2, drop_remainder=np.bool_(True)))
    assert [len(b) for b in batches] == [2, 2]
