"""Bad arguments of the losses: a typed error naming the argument.

One row per bad input: (id, call, exception type, message regex). The classic
is ``from_logits="False"``: a non-empty string is truthy, so the loss used to
read probabilities as logits without a word.
"""

import pytest

from nnlib import losses

BOOL = r"from_logits must be True or False, got 'False' \(str\)"
Y, P = [0, 1], [[0.9, 0.1], [0.2, 0.8]]

BAD_ARGUMENTS = [
    (
        "SparseCategoricalCrossentropy.from_logits",
        lambda: losses.SparseCategoricalCrossentropy(from_logits="False"),
        TypeError,
        "SparseCategoricalCrossentropy: " + BOOL,
    ),
    (
        "CategoricalCrossentropy.from_logits",
        lambda: losses.CategoricalCrossentropy(from_logits="False"),
        TypeError,
        "CategoricalCrossentropy: " + BOOL,
    ),
    (
        "BinaryCrossentropy.from_logits",
        lambda: losses.BinaryCrossentropy(from_logits="False"),
        TypeError,
        "BinaryCrossentropy: " + BOOL,
    ),
    (
        "BinaryCrossentropy.from_logits=0",
        lambda: losses.BinaryCrossentropy(from_logits=0),
        TypeError,
        r"BinaryCrossentropy: from_logits must be True or False, got 0 \(int\)",
    ),
    (
        "sparse_categorical_crossentropy(from_logits=)",
        lambda: losses.sparse_categorical_crossentropy(Y, P, from_logits="False"),
        TypeError,
        "sparse_categorical_crossentropy: " + BOOL,
    ),
    (
        "categorical_crossentropy(from_logits=)",
        lambda: losses.categorical_crossentropy(
            [[1.0, 0.0], [0.0, 1.0]], P, from_logits="False"
        ),
        TypeError,
        "categorical_crossentropy: " + BOOL,
    ),
    (
        "binary_crossentropy(from_logits=)",
        lambda: losses.binary_crossentropy([1.0, 0.0], [0.9, 0.2], from_logits="False"),
        TypeError,
        "binary_crossentropy: " + BOOL,
    ),
    (
        "deserialize(from_logits='False')",
        lambda: losses.deserialize(
            {
                "class_name": "BinaryCrossentropy",
                "config": {"from_logits": "False"},
            }
        ),
        TypeError,
        "BinaryCrossentropy: " + BOOL,
    ),
]


@pytest.mark.parametrize(
    "call, error, match",
    [pytest.param(*row[1:], id=row[0]) for row in BAD_ARGUMENTS],
)
def test_bad_argument_raises_naming_it(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_numpy_booleans_work_as_booleans():
    import numpy as np

    loss = losses.BinaryCrossentropy(from_logits=np.bool_(True))
    assert loss.get_config()["from_logits"] is True
