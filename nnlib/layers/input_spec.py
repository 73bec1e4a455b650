"""InputSpec: what a built layer accepts, checked on every later call."""

from ..engine.tensor import Tensor

__all__ = ["InputSpec"]


class InputSpec:
    """The rank and fixed axis sizes a layer's input must have.

    Args:
        ndim: Exact rank, or None.
        min_ndim: Minimum rank, or None.
        axes: ``{axis: size}`` for axes whose size is fixed (``{-1: 784}``).

    Examples:
        >>> spec = nnlib.layers.InputSpec(min_ndim=2, axes={-1: 3})
        >>> spec.check("dense_example", nnlib.zeros((4, 5)))
        Traceback (most recent call last):
        ...
        ValueError: layer 'dense_example' expected inputs with last dimension 3, got shape (4, 5)
    """

    def __init__(self, ndim=None, min_ndim=None, axes=None):
        self.ndim = ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def check(self, layer_name, inputs):
        """Raises ``ValueError`` naming the layer when ``inputs`` do not fit."""
        if not isinstance(inputs, Tensor):
            return
        shape = inputs.shape
        if self.ndim is not None and len(shape) != self.ndim:
            hint = (
                " (did you forget the batch axis? try x[None])"
                if len(shape) == self.ndim - 1
                else ""
            )
            raise ValueError(
                f"layer '{layer_name}' expected inputs of rank {self.ndim} "
                f"(ndim={self.ndim}), got ndim={len(shape)}: shape {shape}{hint}"
            )
        if self.min_ndim is not None and len(shape) < self.min_ndim:
            hint = (
                " (did you forget the batch axis? try x[None])"
                if len(shape) == self.min_ndim - 1
                else ""
            )
            raise ValueError(
                f"layer '{layer_name}' expected inputs of rank at least "
                f"{self.min_ndim}, got shape {shape}{hint}"
            )
        for axis, size in self.axes.items():
            if -len(shape) <= axis < len(shape) and shape[axis] != size:
                where = "last dimension" if axis == -1 else f"dimension {axis}"
                raise ValueError(
                    f"layer '{layer_name}' expected inputs with {where} "
                    f"{size}, got shape {shape}"
                )

    def __repr__(self):
        return (
            f"InputSpec(ndim={self.ndim}, min_ndim={self.min_ndim}, axes={self.axes})"
        )
