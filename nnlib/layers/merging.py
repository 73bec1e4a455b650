"""Merging layers (Keras's): combine a list of tensors into one.

``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum`` and ``Minimum``
combine their inputs elementwise (numpy's broadcasting); ``Concatenate``
joins them along an axis. They are how branches of a functional model meet,
and none has variables.
"""

import functools

import numpy as np

from ..engine.tensor import Tensor
from ..ops import arithmetic, joining
from ._symbolic import broadcast_shapes
from .base import Layer

__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
]


class _Merge(Layer):
    """Combines a list of at least two tensors elementwise with ``_combine``."""

    _cast_integers = True  # int64 data into a float model gives float outputs
    supports_masking = True
    _count = None  # an exact number of inputs, where the merge needs one

    def _shapes(self, input_shape):
        shapes = input_shape if isinstance(input_shape, (list, tuple)) else None
        if shapes is None or not all(isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(
                f"layer '{self.name}' ({type(self).__name__}) expects a list of "
                f"tensors, got inputs of shape {input_shape}"
            )
        wanted = self._count or 2
        if len(shapes) < wanted or (self._count and len(shapes) != self._count):
            many = f"exactly {self._count}" if self._count else "at least 2"
            raise ValueError(
                f"layer '{self.name}' ({type(self).__name__}) expects {many} "
                f"inputs, got {len(shapes)}: shapes {[tuple(s) for s in shapes]}"
            )
        return [tuple(s) for s in shapes]

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        """The inputs' shapes broadcast together.

        Raises:
            ValueError: For fewer than two inputs or shapes that do not
                broadcast, naming the layer and the shapes.
        """
        return broadcast_shapes(self._shapes(input_shape), f"layer '{self.name}'")

    def call(self, inputs):
        return self._combine(list(inputs))

    def compute_mask(self, inputs, mask=None):
        """The positions every masked input keeps (masks of a list of inputs)."""
        if not isinstance(mask, (list, tuple)):
            return mask
        masks = [_array(m) for m in mask if m is not None]
        return functools.reduce(np.logical_and, masks) if masks else None


def _array(mask):
    return np.asarray(mask._value if isinstance(mask, Tensor) else mask, bool)


class Add(_Merge):
    """The elementwise sum of the inputs.

    Examples:
        >>> a, b = nnlib.Input(shape=(3,)), nnlib.Input(shape=(3,))
        >>> nnlib.layers.Add()([a, b]).shape
        (None, 3)
        >>> nnlib.layers.Add()([np.ones((1, 2)), np.ones((1, 2))]).numpy()
        array([[2., 2.]], dtype=float32)
    """

    def _combine(self, inputs):
        return functools.reduce(arithmetic.add, inputs)


class Subtract(_Merge):
    """The first input minus the second (exactly two inputs).

    Examples:
        >>> nnlib.layers.Subtract()([np.ones((1, 2)), np.ones((1, 2))]).numpy()
        array([[0., 0.]], dtype=float32)
    """

    _count = 2

    def _combine(self, inputs):
        return arithmetic.subtract(inputs[0], inputs[1])


class Multiply(_Merge):
    """The elementwise product of the inputs.

    Examples:
        >>> nnlib.layers.Multiply()([np.full((1, 2), 3.0), np.full((1, 2), 2.0)]).numpy()
        array([[6., 6.]], dtype=float32)
    """

    def _combine(self, inputs):
        return functools.reduce(arithmetic.multiply, inputs)


class Average(_Merge):
    """The elementwise mean of the inputs.

    Examples:
        >>> nnlib.layers.Average()([np.zeros((1, 2)), np.full((1, 2), 4.0)]).numpy()
        array([[2., 2.]], dtype=float32)
    """

    def _combine(self, inputs):
        return functools.reduce(arithmetic.add, inputs) * (1.0 / len(inputs))


class Maximum(_Merge):
    """The elementwise maximum of the inputs.

    Examples:
        >>> nnlib.layers.Maximum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).numpy()
        array([[3., 5.]], dtype=float32)
    """

    def _combine(self, inputs):
        return functools.reduce(arithmetic.maximum, inputs)


class Minimum(_Merge):
    """The elementwise minimum of the inputs.

    Examples:
        >>> nnlib.layers.Minimum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).numpy()
        array([[1., 2.]], dtype=float32)
    """

    def _combine(self, inputs):
        return functools.reduce(arithmetic.minimum, inputs)


class Concatenate(_Merge):
    """Joins the inputs along ``axis``; their other sizes must agree.

    Args:
        axis: The axis to join along (default the last).
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Raises:
        ValueError: For fewer than two inputs, different ranks, or sizes off
            the axis that differ (naming the layer and the shapes).

    Examples:
        >>> a, b = nnlib.Input(shape=(3,)), nnlib.Input(shape=(5,))
        >>> nnlib.layers.Concatenate()([a, b]).shape
        (None, 8)
        >>> nnlib.layers.Concatenate(axis=0)([np.ones((1, 2)), np.zeros((1, 2))]).numpy()
        array([[1., 1.],
               [0., 0.]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        """The inputs' shape, with the sizes along ``axis`` added up."""
        shapes = self._shapes(input_shape)
        rank = len(shapes[0])
        if not -rank <= self.axis < rank or any(len(s) != rank for s in shapes):
            raise ValueError(
                f"layer '{self.name}' (Concatenate, axis={self.axis}) expects "
                f"inputs of one rank that has that axis, got shapes {shapes}"
            )
        axis = self.axis % rank
        result = []
        for i in range(rank):
            sizes = [s[i] for s in shapes]
            if i == axis:
                result.append(None if None in sizes else sum(sizes))
                continue
            known = {d for d in sizes if d is not None}
            if len(known) > 1:
                raise ValueError(
                    f"layer '{self.name}' (Concatenate, axis={self.axis}) needs "
                    f"equal sizes off the axis, got shapes {shapes}"
                )
            result.append(known.pop() if known else None)
        return tuple(result)

    def _combine(self, inputs):
        return joining.concat(inputs, axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        """Joining features (the last axis) keeps the positions every masked
        input keeps; joining along another axis joins the masks (an input
        without one counts everywhere)."""
        if not isinstance(mask, (list, tuple)) or all(m is None for m in mask):
            return None if isinstance(mask, (list, tuple)) else mask
        rank = inputs[0].ndim
        if self.axis % rank == rank - 1:
            return super().compute_mask(inputs, mask)
        masks = [
            np.ones(x.shape[:-1], bool) if m is None else _array(m)
            for m, x in zip(mask, inputs)
        ]
        return np.concatenate(masks, axis=self.axis % rank)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
