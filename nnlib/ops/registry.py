"""The op registry: every op declares its sample inputs here, next to its code.

``tests/ops/test_gradients.py`` walks ``REGISTRY`` and checks each differentiable
op's gradient (and second derivative where ``second_order``) against central
finite differences in float64, so an op cannot land untested.
"""

import dataclasses

import numpy as np

REGISTRY = {}


@dataclasses.dataclass(frozen=True)
class Sample:
    """Sample inputs for an op's gradient check.

    Args:
        shapes: One shape per array argument, in order; floats are drawn
            uniformly from ``[low, high]``.
        kwargs: Keyword arguments passed to the op.
        low, high: The input domain for the floating-point arguments.
        avoid: Points where the op is not differentiable (such as relu's 0);
            samples are kept at least ``0.05`` away from them.
        make: Optional ``make(rng) -> (args, kwargs)`` for inputs the shapes cannot
            describe (integer indices, masks, positive-definite matrices).
        wrt: Positions of the arguments to differentiate; default, every
            floating-point argument.
    """

    shapes: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)
    low: float = -2.0
    high: float = 2.0
    avoid: tuple = ()
    make: object = None
    wrt: tuple = None

    def build(self, rng):
        """Returns ``(args, kwargs)`` for one check, float arrays in float64."""
        if self.make is not None:
            return self.make(rng)
        args = [self._draw(rng, shape) for shape in self.shapes]
        return args, dict(self.kwargs)

    def _draw(self, rng, shape):
        x = rng.uniform(self.low, self.high, size=shape)
        for point in self.avoid:
            near = np.abs(x - point) < 0.05
            x = np.where(near, point + np.where(x >= point, 0.1, -0.1), x)
        return x


@dataclasses.dataclass(frozen=True)
class OpInfo:
    """What the registry knows of one op."""

    name: str
    fn: object
    samples: tuple
    differentiable: bool
    second_order: bool
    takes_list: bool = False

    def call(self, *args, **kwargs):
        """Calls the op on a sample's arguments (as one list when ``takes_list``)."""
        if self.takes_list:
            return self.fn(list(args), **kwargs)
        return self.fn(*args, **kwargs)


def register(
    *samples, differentiable=True, second_order=False, name=None, takes_list=False
):
    """Adds the decorated op to ``REGISTRY`` with its sample inputs.

    Args:
        *samples: ``Sample`` objects (at least one for a differentiable op).
        differentiable: False for ops with no gradient (argmax, comparisons).
        second_order: True when the op's gradient rule is itself differentiable
            and the generic test should check second derivatives.
        name: Registry name; defaults to the function's name.
        takes_list: True for ops whose first argument is a list of tensors
            (``concat``, ``stack``): a sample's arrays are passed as that list.

    Examples:
        >>> @register(Sample(shapes=[(2, 3)]), second_order=True)
        ... def my_double(x):
        ...     return x * 2
        >>> REGISTRY.pop("my_double").second_order
        True
    """

    def decorate(fn):
        key = name or fn.__name__
        if differentiable and not samples:
            raise ValueError(f"op '{key}' is differentiable but declares no samples")
        if key in REGISTRY:
            raise ValueError(f"op '{key}' is registered twice")
        REGISTRY[key] = OpInfo(
            key, fn, tuple(samples), differentiable, second_order, takes_list
        )
        return fn

    return decorate
