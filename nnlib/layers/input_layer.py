"""``Input`` and ``InputLayer``: where a functional model's data comes in."""

import numbers

import numpy as np

from ._symbolic import Node
from .base import Layer
from .keras_tensor import KerasTensor

__all__ = ["Input", "InputLayer"]


def _batch_shape(shape, batch_size, batch_shape):
    if batch_shape is not None:
        if shape is not None:
            raise ValueError("Input: pass shape= or batch_shape=, not both")
        batch_shape = tuple(batch_shape)
        if not batch_shape:
            raise ValueError("Input: batch_shape must have a batch axis, got ()")
        shape, batch_size = batch_shape[1:], batch_shape[0]
    if shape is None:
        raise ValueError(
            "Input needs the shape of one example, without the batch axis: "
            "nnlib.Input(shape=(784,)) (None for sizes known only later)"
        )
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    sizes = (batch_size, *tuple(shape))
    for d in sizes:
        if d is not None and (
            isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0
        ):
            raise ValueError(
                f"Input: sizes must be non-negative integers or None, got shape "
                f"{tuple(shape)} with batch size {batch_size}"
            )
    return tuple(None if d is None else int(d) for d in sizes)


class InputLayer(Layer):
    """The layer behind ``nnlib.Input``: it makes the model's input KerasTensor.

    It has no variables and computes nothing (the model feeds its data in
    its place); it appears in ``model.layers`` and in summaries, as in Keras.

    Args:
        shape: The shape of one example (no batch axis); None for sizes known
            only when the model is called.
        batch_size: A fixed batch size, or None.
        dtype: The dtype of the data: ``"float32"`` by default; integers for
            ids (``"int64"``) are fine here.
        name: The layer's name (and the input's, for dict inputs).
        batch_shape: The shape with the batch axis, instead of ``shape``.
        **kwargs: Keras's ``sparse``/``ragged`` (False only),
            ``batch_input_shape`` and ``input_shape`` (Keras 2's names), as
            older configs write them.

    Raises:
        ValueError: For a missing or invalid shape, or a sparse/ragged input.
        TypeError: For a dtype that is not numeric.

    Examples:
        >>> layer = nnlib.layers.InputLayer(shape=(3,), name="input_layer_doc")
        >>> layer.output
        <KerasTensor shape=(None, 3), dtype=float32, name=input_layer_doc>
        >>> layer.get_config()
        {'name': 'input_layer_doc', 'batch_shape': (None, 3), 'dtype': 'float32'}
    """

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        name=None,
        batch_shape=None,
        **kwargs,
    ):
        for flag in ("sparse", "ragged"):
            if kwargs.pop(flag, None):
                raise ValueError(f"InputLayer: nnlib has no {flag} inputs")
        batch_shape = kwargs.pop("batch_input_shape", batch_shape)
        shape = kwargs.pop("input_shape", shape)
        kwargs.pop("trainable", None)  # an input has nothing to train
        if kwargs:
            raise TypeError(f"InputLayer got unexpected arguments {sorted(kwargs)}")
        super().__init__(name=name)
        data_type = np.dtype(dtype or "float32")
        if data_type.kind not in "biuf":
            raise TypeError(f"InputLayer: dtype {dtype!r} is not a numeric dtype")
        self.batch_shape = _batch_shape(shape, batch_size, batch_shape)
        self.input_dtype = data_type
        node = Node(self, (), {})
        node.outputs = KerasTensor(self.batch_shape, data_type, name=name, node=node)
        self._node = node

    @property
    def output(self):
        """The KerasTensor this layer makes (what ``nnlib.Input`` returns)."""
        return self._node.outputs

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        """The input's shape."""
        return tuple(input_shape)

    def get_config(self):
        return {
            "name": self.name,
            "batch_shape": self.batch_shape,
            "dtype": self.input_dtype.name,
        }


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):
    """A symbolic input of a functional model: a ``KerasTensor``.

    Call layers on it to build the model's graph, then ``nnlib.Model(inputs,
    outputs)``. Also the first element of a ``Sequential`` (it gives the
    input shape, as in Keras 3).

    Args:
        shape: The shape of one example, without the batch axis (``(784,)``,
            ``(None, 16)`` for sequences of any length).
        batch_size: A fixed batch size, or None (any).
        dtype: ``"float32"`` by default; ``"int64"`` for ids.
        name: A name, unique in the model (the key of dict inputs).
        batch_shape: The shape with the batch axis, instead of ``shape``.

    Returns:
        A ``KerasTensor`` of shape ``(batch_size,) + shape``.

    Raises:
        ValueError: Without a shape, or for invalid sizes.

    Examples:
        >>> x = nnlib.Input(shape=(28, 28), name="pixels")
        >>> x.shape, x.dtype
        ((None, 28, 28), dtype('float32'))
        >>> nnlib.Input(shape=(None,), dtype="int64").shape
        (None, None)
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        name=name,
        batch_shape=batch_shape,
    )
    return layer.output
