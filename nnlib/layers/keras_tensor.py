"""KerasTensor: a symbolic tensor, what a functional model is built from.

``nnlib.Input(shape=(3,))`` returns one, and calling a layer on KerasTensors
returns new ones instead of computing anything: each records the layer call
that made it (its node), so ``nnlib.Model(inputs, outputs)`` can find the
graph between them. A KerasTensor has a shape (``None`` for sizes not known
yet, the batch axis first) and a dtype, but no value.

The Python operators (``+``, ``-``, ``*``, ``/``, ``//``, ``%``, ``**``,
``@``, unary ``-``, ``abs``, ``<``, ``<=``, ``>``, ``>=`` and indexing) work on
KerasTensors: each becomes a small layer of the graph. ``==`` and ``!=``
compare identities, so KerasTensors can be dict keys. nnlib functions and
numpy cannot compute with a value that does not exist yet: they raise a
``TypeError`` that says to use a layer (``nnlib.layers.Lambda`` or a built-in
one such as ``Concatenate``).
"""

import numpy as np

from .. import naming

__all__ = ["KerasTensor"]


def _advice(tensor, what):
    return (
        f"{tensor!r} is symbolic: it stands for the data a functional model will "
        f"be called on and has no value yet, so {what}. Compute with layers: "
        "nnlib.layers.Lambda(lambda t: ...)(x) wraps any function of tensors, "
        "nnlib.layers.Concatenate, Add, Multiply... merge several; the operators "
        "+ - * / // % ** @ < <= > >= and indexing x[...] work on KerasTensors "
        "directly"
    )


class KerasTensor:
    """A symbolic tensor: a shape and a dtype, and the layer call that made it.

    Made by ``nnlib.Input`` and by calling layers on KerasTensors, never with
    data. Named as Keras names it, so code and habits carry over.

    Attributes:
        shape: A tuple of ints, None where the size is not known (the batch
            axis, usually).
        dtype: The numpy dtype of the values it stands for.
        name: A unique name (the ``Input``'s name, or ``keras_tensor_<n>``).

    Examples:
        >>> x = nnlib.Input(shape=(3,), name="kt_doc")
        >>> x
        <KerasTensor shape=(None, 3), dtype=float32, name=kt_doc>
        >>> y = nnlib.layers.Dense(4)(x)
        >>> y.shape, y.dtype
        ((None, 4), dtype('float32'))
        >>> (y * 2 + 1)[:, :2].shape
        (None, 2)
        >>> nnlib.exp(y)
        Traceback (most recent call last):
        ...
        TypeError: <KerasTensor shape=(None, 4), ...> is symbolic: ...
    """

    __slots__ = ("__weakref__", "_index", "_name", "_node", "dtype", "shape")

    def __init__(self, shape, dtype="float32", name=None, node=None, index=0):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self._name = name
        self._node = node
        self._index = index

    @property
    def ndim(self):
        """The number of axes."""
        return len(self.shape)

    @property
    def name(self):
        """The tensor's name."""
        if self._name is None:
            self._name = naming.unique_name("keras_tensor")
        return self._name

    @property
    def node(self):
        """The layer call that made this tensor (None for a free-standing one)."""
        return self._node

    def __repr__(self):
        shape = str(self.shape) if len(self.shape) != 1 else f"({self.shape[0]},)"
        return f"<KerasTensor shape={shape}, dtype={self.dtype.name}, name={self.name}>"

    def numpy(self):
        raise TypeError(_advice(self, "it cannot be converted to numpy"))

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            _advice(self, "nnlib functions and numpy cannot compute with it")
        )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # array + x, np.add(array, x): the operators' layers; other ufuncs
        # (np.exp) cannot run on a value that does not exist yet.
        op = _UFUNCS.get(ufunc.__name__)
        if op is None or method != "__call__" or kwargs:
            raise TypeError(_advice(self, f"numpy's {ufunc.__name__} cannot run on it"))
        return _apply(op, inputs)

    def __bool__(self):
        raise TypeError(
            _advice(self, "it has no truth value (Python if/while cannot use it)")
        )

    def __iter__(self):
        raise TypeError(_advice(self, "it cannot be iterated over (index it instead)"))

    def __getitem__(self, key):
        return _apply("getitem", (self, key))

    def __neg__(self):
        return _apply("negative", (self,))

    def __abs__(self):
        return _apply("abs", (self,))

    def __pos__(self):
        return self

    __hash__ = object.__hash__


# Binary operators: dunder name -> the nnlib op it stands for.
_BINARY = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "divide",
    "floordiv": "floor_divide",
    "mod": "mod",
    "pow": "power",
    "matmul": "matmul",
}
_COMPARISONS = {
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
}


# numpy ufuncs by name -> the op their KerasTensor operator stands for.
_UFUNCS = {
    **{name: name for name in ("add", "subtract", "multiply", "matmul", "power")},
    **{name: name for name in ("floor_divide", "negative", "less", "less_equal")},
    **{name: name for name in ("greater", "greater_equal")},
    "true_divide": "divide",
    "divide": "divide",
    "remainder": "mod",
    "absolute": "abs",
}


def _operator(op, reflected=False):
    if reflected:
        return lambda self, other: _apply(op, (other, self))
    return lambda self, other: _apply(op, (self, other))


for _dunder, _op in _BINARY.items():
    setattr(KerasTensor, f"__{_dunder}__", _operator(_op))
    setattr(KerasTensor, f"__r{_dunder}__", _operator(_op, reflected=True))
for _dunder, _op in _COMPARISONS.items():
    setattr(KerasTensor, f"__{_dunder}__", _operator(_op))


def _apply(op, operands):
    from ._op_layer import apply  # it imports Layer, which imports this module

    return apply(op, operands)
