"""Variable: a mutable, named tensor that tapes watch automatically when read."""

import numpy as np

from .._args import boolean
from . import effects as _effects
from .tensor import Tensor, _next_id, to_array, wrap

# Called as hook(variable) at the end of every Variable's creation: how
# nnlib.checkpoint.restore_variables_on_create gives a new variable its saved
# value. Empty, and so free, outside such a block.
_creation_hooks = []


class Variable(Tensor):
    """A named tensor whose value changes in place: the parameters of a model.

    A Variable is used in ops like any tensor. A ``GradientTape`` watches a
    trainable variable the moment an op reads it, which is how
    ``implicit_gradients`` finds every variable a function used. ``assign``,
    ``assign_add`` and ``assign_sub`` give the variable a new value and are not
    recorded by a tape; tensors computed from the old value keep it. The shape
    and dtype are fixed at creation.

    Gradient rules read a variable when the backward pass runs, so assign it
    after ``tape.gradient``, not between the forward pass and it (optimizers do).

    Args:
        initial_value: A number, list, numpy array, Tensor, or a callable returning
            one.
        name: The variable's name (``get_variable`` gives scoped, unique names).
        trainable: Whether tapes watch it when read and optimizers update it.
        dtype: Optional dtype; by default nnlib's conversion rules (float32 for
            Python floats).

    Examples:
        >>> v = nnlib.Variable([1., 2.], name="v")
        >>> v.assign_add([0.5, 0.5]).numpy()
        array([1.5, 2.5], dtype=float32)
        >>> v.name
        'v'
    """

    __slots__ = ("_name", "_trainable")

    def __init__(self, initial_value, name=None, trainable=True, dtype=None):
        if callable(initial_value):
            initial_value = initial_value()
        # Own an ndarray (never a numpy scalar) that no caller can write into.
        self._value = np.array(to_array(initial_value, dtype), copy=True)
        self._id = _next_id()
        self._name = "Variable" if name is None else str(name)
        self._trainable = boolean(trainable, "trainable", f"Variable '{self._name}'")
        if _creation_hooks:
            for hook in tuple(_creation_hooks):
                hook(self)

    @property
    def name(self):
        """The variable's full name, such as ``"encoder/w"``."""
        return self._name

    @property
    def trainable(self):
        """Whether tapes watch this variable and optimizers update it."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = boolean(value, "trainable", f"Variable '{self._name}'")

    def numpy(self):
        """Returns the current value as a numpy array.

        Later assignments do not change the returned array: they replace the
        variable's array rather than write into it. Do not write into it either.

        Examples:
            >>> nnlib.Variable(2.0).numpy()
            array(2., dtype=float32)
        """
        return self._value

    def read_value(self):
        """Returns the current value as a Tensor, recorded as a read of the variable.

        The Tensor keeps this value when the variable is assigned later (a
        snapshot, as in TensorFlow). Tapes see the read: gradients reach the
        variable through it, and ``implicit_gradients`` lists the variable.

        Examples:
            >>> v = nnlib.Variable([1., 2.], name="read_example")
            >>> old = v.read_value()
            >>> _ = v.assign([3., 4.])
            >>> old
            nnlib.Tensor([1. 2.], shape=(2,), dtype=float32)
            >>> nnlib.implicit_gradients(lambda: nnlib.reduce_sum(v.read_value()))()
            [(nnlib.Tensor([1. 1.], shape=(2,), dtype=float32), <nnlib.Variable 'read_example' ...>)]
        """
        from .tape import ACTIVE, ALIAS, record  # the tape module imports this one

        y = wrap(self._value)
        if ACTIVE:
            record("read_value", (self,), y, _identity, raw=True, node=ALIAS)
        return y

    def value(self):
        """Returns the current value as a Tensor: ``read_value()`` (TensorFlow's
        other name for it in eager mode; it is recorded as a read too).

        Examples:
            >>> nnlib.Variable(2.0).value()
            nnlib.Tensor(2., shape=(), dtype=float32)
        """
        return self.read_value()

    def _checked(self, value, what):
        array = to_array(value)
        if array.shape != self._value.shape:
            try:
                array = (
                    np.broadcast_to(array, self._value.shape)
                    if array.ndim == 0
                    else None
                )
            except ValueError:
                array = None
            if array is None:
                raise ValueError(
                    f"{what}: variable '{self._name}' has shape {self._value.shape}, "
                    f"got a value of shape {np.shape(value)}; a variable's shape is "
                    "fixed when it is created"
                )
        return array

    def assign(self, value):
        """Sets the value (cast to the variable's dtype) and returns self.

        Args:
            value: A value of the variable's shape (or a scalar, broadcast).

        Returns:
            This variable.

        Raises:
            ValueError: If the shape differs from the variable's.

        Examples:
            >>> nnlib.Variable([1., 2.]).assign([3., 4.]).numpy()
            array([3., 4.], dtype=float32)
        """
        if _effects.WATCHERS:  # a tracer redoes the write at each replay
            with _effects.effect("assign", self.assign, (value,)):
                return self._write(value)
        return self._write(value)

    def _write(self, value):
        # A new array rather than a write into the old one: tensors that are
        # views of the old value (reshape, slices, stop_gradient) keep it.
        self._value = np.array(self._checked(value, "assign"), dtype=self._value.dtype)
        return self

    def assign_add(self, delta):
        """Adds ``delta`` to the value and returns self.

        Examples:
            >>> nnlib.Variable(1.0).assign_add(2.0).numpy()
            array(3., dtype=float32)
        """
        if _effects.WATCHERS:
            with _effects.effect("assign_add", self.assign_add, (delta,)):
                return self._write(self._value + self._checked(delta, "assign_add"))
        value = self._value + self._checked(delta, "assign_add")
        self._value = np.asarray(value, dtype=self._value.dtype)
        return self

    def assign_sub(self, delta):
        """Subtracts ``delta`` from the value and returns self.

        Examples:
            >>> nnlib.Variable(1.0).assign_sub(2.0).numpy()
            array(-1., dtype=float32)
        """
        if _effects.WATCHERS:
            with _effects.effect("assign_sub", self.assign_sub, (delta,)):
                return self._write(self._value - self._checked(delta, "assign_sub"))
        value = self._value - self._checked(delta, "assign_sub")
        self._value = np.asarray(value, dtype=self._value.dtype)
        return self

    def __repr__(self):
        body = np.array2string(self._value, precision=4, separator=" ")
        return (
            f"<nnlib.Variable '{self._name}' shape={self.shape} "
            f"dtype={self.dtype.name}, numpy={body}>"
        )

    __str__ = __repr__


def _identity(dy):
    return (dy,)
