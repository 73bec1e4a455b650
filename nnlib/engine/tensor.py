"""Tensor: an immutable numpy array with an identity that a tape can follow.

Operators (``+``, ``@``, indexing, comparisons) are attached by ``nnlib.ops`` when
the package is imported, so this module stays below the ops layer.
"""

import itertools
import numbers

import numpy as np

# A unique, increasing id per tensor: tapes key gradients by it (Python's id()
# can be reused once an object dies), and it orders variables by creation.
# Checks run before a tensor becomes a Python number or bool: a tracer
# (``nnlib.function``) adds one that refuses its traced values, whose Python
# value would be frozen into the graph.
SCALAR_CHECKS = []

_next_id = itertools.count(1).__next__  # 0 stays free: tapes test ids for truth
_new = object.__new__

FLOAT32 = np.dtype(np.float32)
_PY_SCALARS = (bool, int, float, complex)


def to_array(value, dtype=None):
    """Converts ``value`` to a numpy array following nnlib's dtype rules.

    Python floats and lists of floats become float32, Python ints int64, numpy
    arrays keep their dtype; ``dtype`` overrides all of that.

    Args:
        value: A Tensor, numpy array, Python number or nested list.
        dtype: Optional dtype to cast to.

    Returns:
        A numpy array (or numpy scalar for 0-d tensor values).

    Raises:
        TypeError: If the value is not numeric (strings, objects, ragged lists).

    Examples:
        >>> to_array([1., 2.]).dtype
        dtype('float32')
    """
    if isinstance(value, Tensor):
        array = value._value
    elif isinstance(value, (np.ndarray, np.generic)):
        array = value
    else:
        try:
            array = np.asarray(value)
        except ValueError as err:
            raise TypeError(
                f"expected a numeric array, got a ragged sequence: {err}"
            ) from None
        if dtype is None and array.dtype == np.float64 and not _has_float64(value):
            array = array.astype(np.float32)
        elif dtype is None and array.dtype == np.complex128:
            array = array.astype(np.complex64)
    if array.dtype.kind not in "biufc":
        raise TypeError(
            f"expected a numeric array, got {array.dtype.str[1:]} ({array.dtype})"
        )
    if dtype is not None and array.dtype != np.dtype(dtype):
        array = np.asarray(array, dtype=dtype)
    return array


# nnlib's own array-likes defined above this module (``IndexedSlices``, which
# adds itself): like numpy arrays, they keep their dtype when converted.
ARRAY_LIKES = set()


def _has_float64(value):
    """True when a nested list carries explicit numpy float64 values (or is an
    nnlib array-like of float64)."""
    if isinstance(value, (list, tuple)):
        return any(_has_float64(v) for v in value)
    if type(value) in ARRAY_LIKES:
        return value.dtype == np.float64
    return isinstance(value, (np.ndarray, np.float64)) and value.dtype == np.float64


# Empty until a mask is first attached to a tensor in this process: layers skip
# looking for masks (a cost on every layer call) while no mask exists.
MASKS_IN_USE = []


class Tensor:
    """An immutable multi-dimensional array produced by nnlib operations.

    Tensors wrap a numpy array. Every nnlib op runs at once and returns a Tensor
    that can be printed, converted with ``.numpy()`` or ``np.asarray``, and fed
    back into ops; a ``GradientTape`` that watches the inputs records the op.

    Args:
        value: A numpy array, Python number or nested list.
        dtype: Optional numpy dtype; by default Python floats become float32.

    Examples:
        >>> t = nnlib.Tensor([[1., 2.], [3., 4.]])
        >>> t.shape, t.dtype
        ((2, 2), dtype('float32'))
        >>> (t * 2).numpy()
        array([[2., 4.],
               [6., 8.]], dtype=float32)
    """

    # _mask backs _keras_mask, the padding mask a layer attached (Keras 3's
    # attribute). Ops never set it, so it stays unset on every tensor no
    # masking layer produced.
    __slots__ = ("__weakref__", "_id", "_mask", "_value")
    __array_priority__ = 100.0

    @property
    def _keras_mask(self):
        # Keras 3's attribute: None, or the boolean (batch, time) mask.
        try:
            return self._mask
        except AttributeError:
            return None

    @_keras_mask.setter
    def _keras_mask(self, mask):
        if not MASKS_IN_USE:  # from now on, layers look for masks
            MASKS_IN_USE.append(True)
        self._mask = mask

    def __init__(self, value, dtype=None):
        self._value = to_array(value, dtype)
        self._id = _next_id()

    @property
    def shape(self):
        """The shape, a tuple of ints."""
        return self._value.shape

    @property
    def dtype(self):
        """The numpy dtype of the elements."""
        return self._value.dtype

    @property
    def ndim(self):
        """The number of dimensions."""
        return self._value.ndim

    @property
    def size(self):
        """The number of elements."""
        return self._value.size

    def numpy(self):
        """Returns the value as a numpy array.

        The array shares memory with the tensor; tensors are immutable, so do not
        write into it (copy it first).

        Examples:
            >>> nnlib.constant([1., 2.]).numpy()
            array([1., 2.], dtype=float32)
        """
        for check in SCALAR_CHECKS:  # a traced value is not known yet
            check(self, "numpy array")
        return np.asarray(self._value)

    def __getstate__(self):
        """What ``pickle`` and ``copy.deepcopy`` keep: every slot set but the id
        (a copy gets its own; see ``__setstate__``), in Python's slots form."""
        slots = {}
        for cls in type(self).__mro__:
            for name in cls.__dict__.get("__slots__", ()):
                if name not in ("__weakref__", "_id") and hasattr(self, name):
                    slots[name] = getattr(self, name)
        return None, slots

    def __setstate__(self, state):
        """Restores a pickled or ``copy.deepcopy``-ed tensor under a new id.

        Ids key gradients on tapes and order variables by creation, so two
        live tensors never share one: a copy gets the next id when restored
        (copies of a model's variables are restored in its creation order,
        see ``nnlib.layers._pickling``).

        Examples:
            >>> import copy
            >>> v = nnlib.Variable([1., 2.], name="copied_example")
            >>> w = copy.deepcopy(v)
            >>> w.name, w._id != v._id, w.numpy()
            ('copied_example', True, array([1., 2.], dtype=float32))
        """
        if isinstance(state, tuple):  # (None, {slot: value}): Python's form
            state = state[1] or {}
        for name, value in state.items():
            object.__setattr__(self, name, value)
        if "_mask" in state and not MASKS_IN_USE:
            MASKS_IN_USE.append(True)
        self._id = _next_id()

    def __array__(self, dtype=None, copy=None):
        array = np.asarray(self._value)
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __repr__(self):
        body = np.array2string(
            np.asarray(self._value), precision=4, separator=" ", prefix="nnlib.Tensor("
        )
        return f"nnlib.Tensor({body}, shape={self.shape}, dtype={self.dtype.name})"

    __str__ = __repr__

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("len() of a 0-d tensor (a scalar); it has no first axis")
        return self._value.shape[0]

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("iteration over a 0-d tensor (a scalar)")
        return (self[i] for i in range(self._value.shape[0]))

    def _scalar(self, kind):
        for check in SCALAR_CHECKS:  # a tracer refuses Python values of traced tensors
            check(self, kind)
        if self._value.size != 1:
            raise TypeError(
                f"only one-element tensors can be converted to Python {kind}; "
                f"this one has shape {self.shape}"
            )
        return (
            self._value.reshape(()).item() if self._value.ndim else self._value.item()
        )

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __bool__(self):
        if self._value.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.size} elements (shape "
                f"{self.shape}) is ambiguous; use nnlib.reduce_any or reduce_all"
            )
        return bool(self._scalar("bool"))

    def __index__(self):
        if self._value.dtype.kind not in "iub":
            raise TypeError(
                f"only integer tensors can be used as an index, got {self.dtype}"
            )
        return int(self._scalar("int"))

    def __setitem__(self, key, value):
        raise TypeError(
            "Tensors are immutable: use a Variable and its assign() for state, "
            "or build a new tensor with nnlib.where or nnlib.concat"
        )

    __hash__ = object.__hash__


def wrap(value):
    """Wraps a numpy result as a Tensor without copying or checking (ops' fast path)."""
    t = _new(Tensor)
    t._value = value
    t._id = _next_id()
    return t


def constant(value, dtype=None):
    """Creates a Tensor from a Python number, nested list, numpy array or Tensor.

    Python floats (and lists of them) become float32, Python ints int64, bools bool;
    numpy arrays keep their dtype unless ``dtype`` is given.

    Args:
        value: The value.
        dtype: Optional numpy dtype (or its name, such as ``"float64"``).

    Returns:
        A Tensor.

    Raises:
        TypeError: If ``value`` is not numeric.

    Examples:
        >>> nnlib.constant([[1., 2.], [3., 4.]])
        nnlib.Tensor([[1. 2.]
                      [3. 4.]], shape=(2, 2), dtype=float32)
        >>> nnlib.constant(3, dtype="float64").dtype
        dtype('float64')
    """
    return wrap(to_array(value, dtype))


def convert_to_tensor(value, dtype=None):
    """Returns ``value`` as a Tensor, without copying when it already is one.

    An ``IndexedSlices`` (a sparse gradient) becomes the dense Tensor it stands
    for, as in TensorFlow, with a warning beyond 100 million elements; like an
    array, it is cast to ``dtype`` when one is given.

    Args:
        value: A Tensor, Variable, ``IndexedSlices``, numpy array, Python number
            or nested list.
        dtype: Optional dtype; a Tensor of another dtype raises rather than casts
            silently (use ``nnlib.cast``).

    Returns:
        A Tensor (a Variable is returned as it is, so tapes still see it).

    Raises:
        TypeError: If ``value`` is not numeric or a Tensor has another dtype.

    Examples:
        >>> nnlib.convert_to_tensor(np.zeros(2)).dtype
        dtype('float64')
        >>> nnlib.convert_to_tensor(nnlib.IndexedSlices([[1., 2.]], [1], (2, 2)))
        nnlib.Tensor([[0. 0.]
                      [1. 2.]], shape=(2, 2), dtype=float32)
    """
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != np.dtype(dtype):
            raise TypeError(
                f"convert_to_tensor: tensor has dtype {value.dtype}, requested {np.dtype(dtype)}; "
                "use nnlib.cast to change it"
            )
        return value
    return wrap(to_array(value, dtype))


def is_scalar(x):
    """True for Python numbers, which numpy treats as weakly typed in mixed ops."""
    return isinstance(x, _PY_SCALARS) or (
        isinstance(x, numbers.Number) and not isinstance(x, np.generic)
    )
