"""Error metrics: mean squared and mean absolute error, computed in numpy."""

import numpy as np

from ..losses._inputs import same_shape
from .base import MeanMetricWrapper, values_of

__all__ = ["MeanAbsoluteError", "MeanSquaredError"]


def _errors(y_true, y_pred, owner):
    y_true, y_pred = same_shape(values_of(y_true), values_of(y_pred), owner)
    return y_pred - y_true


def mean_squared_error(y_true, y_pred):
    """``nnlib.losses.mean_squared_error`` in numpy: one value per sample.

    Examples:
        >>> from nnlib.metrics import regression
        >>> regression.mean_squared_error([[0., 2.]], [[1., 1.]])
        array([1.])
    """
    return np.mean(np.square(_errors(y_true, y_pred, "mean_squared_error")), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``nnlib.losses.mean_absolute_error`` in numpy: one value per sample.

    Examples:
        >>> from nnlib.metrics import regression
        >>> regression.mean_absolute_error([[0., 2.]], [[1., 1.]])
        array([1.])
    """
    return np.mean(np.abs(_errors(y_true, y_pred, "mean_absolute_error")), axis=-1)


class MeanSquaredError(MeanMetricWrapper):
    """The mean of ``square(y_true - y_pred)`` over every element seen.

    Args:
        name: The metric's name.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.MeanSquaredError()
        >>> m.update_state([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
        >>> m.result()
        0.5
    """

    def __init__(self, name="mean_squared_error"):
        super().__init__(mean_squared_error, name=name)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean of ``abs(y_true - y_pred)`` over every element seen.

    Args:
        name: The metric's name.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.MeanAbsoluteError()
        >>> m.update_state([1., 2.], [[1.5], [4.]])   # (2,) against (2, 1)
        >>> m.result()
        1.25
    """

    def __init__(self, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name=name)
