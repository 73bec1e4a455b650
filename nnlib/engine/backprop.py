"""The gradient functions: derivatives of Python functions, explicit and implicit.

``gradients_function`` differentiates a function with respect to its arguments;
``implicit_gradients`` with respect to every trainable variable it read. Both are
thin layers over ``GradientTape`` and work as decorators.
"""

import functools
import inspect

from .gradient_tape import GradientTape
from .tape import ACTIVE, ALIAS, record
from .tensor import Tensor, to_array, wrap


def gradients_function(f, params=None):
    """Returns a function that computes the gradients of ``f`` w.r.t. its arguments.

    Args:
        f: A function returning a Tensor (non-scalar outputs are summed, or
            weighted by the ``dy=`` keyword of the returned function).
        params: Which arguments to differentiate: positions (ints) or parameter
            names (strs), not a mix. Default: every positional argument.

    Returns:
        A function taking ``f``'s arguments (plus an optional ``dy=``) and returning
        the list of gradients, one per differentiated argument. Python numbers
        passed in differentiated positions become float32 tensors.

    Raises:
        ValueError: If ``f`` returns None, or ``params`` mixes kinds or names an
            unknown parameter.

    Examples:
        >>> def f(x, y):
        ...     return x ** 2 + y ** 2
        >>> [float(g) for g in nnlib.gradients_function(f)(2., 3.)]
        [4.0, 6.0]
        >>> d2 = nnlib.gradients_function(nnlib.gradients_function(lambda x: x ** 3))
        >>> float(d2(2.)[0])
        12.0
    """
    value_and_grads = value_and_gradients_function(f, params)

    @functools.wraps(f)
    def grads_only(*args, **kwargs):
        return value_and_grads(*args, **kwargs)[1]

    return grads_only


def value_and_gradients_function(f, params=None):
    """Like ``gradients_function``, but the returned function gives ``(value, grads)``.

    Examples:
        >>> value, grads = nnlib.value_and_gradients_function(lambda x, y: x * y)(2., 5.)
        >>> float(value), [float(g) for g in grads]
        (10.0, [5.0, 2.0])
    """
    selector = _ParamSelector(f, params)

    @functools.wraps(f)
    def wrapper(*args, dy=None, **kwargs):
        args, kwargs, slots = selector.bind(args, kwargs)
        with GradientTape(watch_accessed_variables=False) as tape:
            watched = []
            for container, key in slots:
                fresh = _fresh_source(container[key])
                tape.watch(fresh)
                container[key] = fresh
                watched.append(fresh)
            value = f(*args, **kwargs)
        _check_value(f, value)
        return value, tape.gradient(value, watched, output_gradients=dy)

    return wrapper


def implicit_gradients(f):
    """Returns a function giving ``[(gradient, variable), ...]`` for ``f``.

    The list holds exactly the trainable variables read while ``f`` ran, in the
    order the variables were created, so it is the same on every call.

    Examples:
        >>> vx = nnlib.Variable(1.0, name="vx")
        >>> vy = nnlib.Variable(1.0, name="vy")
        >>> grads = nnlib.implicit_gradients(lambda x: 2 * vx * x)(2.)
        >>> [(float(g), v.name) for g, v in grads]
        [(4.0, 'vx')]
    """
    value_and_grads = implicit_value_and_gradients(f)

    @functools.wraps(f)
    def grads_only(*args, **kwargs):
        return value_and_grads(*args, **kwargs)[1]

    return grads_only


def implicit_value_and_gradients(f):
    """Returns a function giving ``(value, [(gradient, variable), ...])`` for ``f``.

    Args:
        f: A function that reads trainable variables and returns a Tensor.

    Returns:
        A function with ``f``'s arguments (plus an optional ``dy=``).

    Raises:
        ValueError: If ``f`` returns None or reads no trainable variable.

    Examples:
        >>> w = nnlib.Variable(3.0, name="w")
        >>> loss, grads_and_vars = nnlib.implicit_value_and_gradients(lambda: w * w)()
        >>> float(loss), float(grads_and_vars[0][0])
        (9.0, 6.0)
    """

    @functools.wraps(f)
    def wrapper(*args, dy=None, **kwargs):
        with GradientTape() as tape:
            value = f(*args, **kwargs)
        _check_value(f, value)
        variables = tape.watched_variables()
        if not variables:
            raise ValueError(
                f"{_name(f)} read no trainable variable, so it has no implicit "
                "gradients; use gradients_function to differentiate its arguments"
            )
        grads = tape.gradient(value, variables, output_gradients=dy)
        return value, list(zip(grads, variables))

    return wrapper


def _check_value(f, value):
    if value is None:
        raise ValueError(
            f"{_name(f)} returned None; the function to differentiate "
            "must return the Tensor to take the gradient of"
        )


def _name(f):
    return f"function '{getattr(f, '__name__', repr(f))}'"


def _fresh_source(value):
    """A new tensor for one argument position, linked to ``value`` for outer tapes.

    Each position gets its own identity, so an argument passed twice gets a
    gradient per position; an identity op keeps higher-order tapes connected.
    """
    if isinstance(value, Tensor):
        out = wrap(value._value)
        if ACTIVE:
            record("identity", (value,), out, lambda dy: (dy,), node=ALIAS)
        return out
    array = to_array(value)
    if isinstance(value, int) and not isinstance(value, bool):
        array = array.astype("float32")
    return wrap(array)


class _ParamSelector:
    """Maps ``params`` (positions or names) onto the arguments of one call."""

    def __init__(self, f, params):
        self._f = f
        self._params = None if params is None else list(params)
        if self._params is not None:
            kinds = {type(p) for p in self._params}
            if not kinds <= {int, str} or len(kinds) > 1:
                raise ValueError(
                    f"params must be all positions (int) or all names (str), "
                    f"got {self._params!r}"
                )

    def bind(self, args, kwargs):
        args, kwargs = list(args), dict(kwargs)
        if self._params is None:
            return args, kwargs, [(args, i) for i in range(len(args))]
        if isinstance(self._params[0], int):
            for p in self._params:
                if not -len(args) <= p < len(args):
                    raise ValueError(
                        f"params position {p} is out of range for "
                        f"{len(args)} positional arguments"
                    )
            return args, kwargs, [(args, p) for p in self._params]
        names = list(inspect.signature(self._f).parameters)
        slots = []
        for name in self._params:
            if name in kwargs:
                slots.append((kwargs, name))
            elif name in names and names.index(name) < len(args):
                slots.append((args, names.index(name)))
            else:
                raise ValueError(
                    f"params names '{name}', which is not an argument "
                    f"passed to {_name(self._f)} (parameters: {names})"
                )
        return args, kwargs, slots
