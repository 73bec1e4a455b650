"""What an optimizer step does to its gradients before the update: checks, clipping.

``Optimizer`` validates its clipping arguments with ``clip_arg``; each step checks
the ``(gradient, variable)`` pairs with ``checked_pairs`` (before any variable
changes) and then applies ``clipped``. Gradients are numpy arrays, or
``SparseGradient``s for ``IndexedSlices`` (see ``_sparse.py``).
"""

import math

import numpy as np

from .._warn import warn
from ..engine import IndexedSlices, Tensor, Variable
from ..engine.tensor import to_array
from ._arrays import check_number, check_variable, clipped_to, l2_norm
from ._sparse import checked_sparse, map_values, values_of


def clip_arg(owner, name, value):
    """A clipping argument (``clipnorm`` and the like): None, or a number > 0.

    Raises:
        TypeError: If ``value`` is not a real number.
        ValueError: If it is not finite and > 0 (naming ``owner``).
    """
    if value is None:
        return None
    value = check_number(owner, name, value)
    if value <= 0:
        raise ValueError(f"{owner}: {name} must be > 0, got {value}")
    return value


def checked_pairs(owner, grads_and_vars):
    """The gradients (as arrays) and their variables, None gradients left out.

    Everything is checked before any variable changes. Call it straight from the
    public method: its warning points two frames up, at that method's caller.

    Raises:
        TypeError: For an item that is not a pair (a lone Variable, say), a pair
            in the wrong order, or a variable that is not one.
        ValueError: For a variable given twice, a gradient of the wrong shape, or
            no gradient at all.
    """
    if isinstance(grads_and_vars, (Tensor, np.ndarray)):
        raise TypeError(
            f"{owner}.apply_gradients expects a list of (gradient, variable) "
            f"pairs, got {_described(grads_and_vars)}; pass "
            "zip(gradients, variables)"
        )
    grads, variables, skipped, seen = [], [], [], set()
    for pair in grads_and_vars:
        try:
            if isinstance(pair, (Tensor, np.ndarray)):  # unpacks, but is no pair
                raise TypeError
            grad, var = pair
        except (TypeError, ValueError):
            raise TypeError(
                f"{owner}.apply_gradients expects (gradient, variable) pairs, got "
                f"{_described(pair)}; pass [(gradient, variable), ...], such as "
                "zip(gradients, variables)"
            ) from None
        if isinstance(grad, Variable) and not isinstance(var, Variable):
            raise TypeError(
                f"{owner}.apply_gradients got the pair ({_described(grad, True)}, "
                f"{type(var).__name__}): put the gradient first, "
                "(gradient, variable)"
            )
        check_variable(owner, var)
        if var._id in seen:
            raise ValueError(
                f"{owner}.apply_gradients: variable '{var.name}' appears "
                "twice; sum its gradients first"
            )
        seen.add(var._id)
        if grad is None:
            skipped.append(var.name)
            continue
        grads.append(checked_gradient(owner, grad, var))
        variables.append(var)
    if not variables:
        names = ", ".join(repr(n) for n in skipped) or "none given"
        raise ValueError(
            f"{owner}.apply_gradients: no gradient for any variable "
            f"(variables: {names}); does the loss depend on them?"
        )
    if skipped:
        warn(
            f"{owner}: no gradient for variables {skipped}; they are not "
            "updated (does the loss depend on them?)",
            UserWarning,
        )
    return grads, variables


def _described(value, short=False):
    """``value`` for an error message: a Variable by name, anything else by type."""
    if isinstance(value, Variable):
        return f"Variable '{value.name}'" if short else f"a Variable ('{value.name}')"
    if isinstance(value, (Tensor, np.ndarray)):
        return f"a {type(value).__name__} of shape {tuple(value.shape)}"
    return f"{value!r} ({type(value).__name__})"


def check_minimize_loss(owner, loss, tape):
    """Raises TypeError unless ``loss`` suits ``minimize``: a callable, or a
    Tensor together with the ``tape`` it was computed under."""
    if tape is not None:
        if not isinstance(loss, Tensor):
            raise TypeError(
                f"{owner}.minimize: with tape=, loss must be the Tensor computed "
                f"under the tape; got {_described(loss)}"
            )
        return
    if isinstance(loss, Tensor):
        raise TypeError(
            f"{owner}.minimize: loss is a Tensor: pass the GradientTape it was "
            "computed under as tape=, or a function computing it: "
            "minimize(lambda: loss_fn(...))"
        )
    if not callable(loss):
        raise TypeError(
            f"{owner}.minimize: loss must be a callable of no arguments returning "
            "the loss, or a Tensor computed under a GradientTape passed as tape=; "
            f"got {_described(loss)}"
        )


def checked_gradient(owner, grad, var):
    """``grad`` as an array of ``var``'s dtype (an ``IndexedSlices`` as a
    ``SparseGradient``), or ValueError if the shapes differ."""
    if type(grad) is IndexedSlices:
        return checked_sparse(owner, grad, var)
    array = grad._value if isinstance(grad, Tensor) else to_array(grad)
    array = np.asarray(array)
    if array.shape != var._value.shape:
        raise ValueError(
            f"{owner}.apply_gradients: gradient for variable '{var.name}' "
            f"has shape {array.shape}, but the variable has shape "
            f"{var._value.shape}"
        )
    if array.dtype != var._value.dtype:
        array = array.astype(var._value.dtype)
    return array


def clipped(grads, clipvalue, clipnorm, global_clipnorm):
    """``grads`` clipped by value, then by norm (each, or all together).

    A sparse gradient's rows are already summed per row, so its values and its
    norm are those of the dense gradient: both forms clip alike.
    """
    if clipvalue is not None:
        grads = [
            map_values(lambda a: np.clip(a, -clipvalue, clipvalue), g) for g in grads
        ]
    if clipnorm is not None:
        grads = [
            map_values(lambda a: clipped_to(a, l2_norm(a), clipnorm), g) for g in grads
        ]
    elif global_clipnorm is not None:
        norm = math.sqrt(sum(l2_norm(values_of(g)) ** 2 for g in grads))
        grads = [
            map_values(lambda a: clipped_to(a, norm, global_clipnorm), g) for g in grads
        ]
    return grads


def check_global_step(owner, step):
    """Raises unless ``step`` is a scalar integer Variable (a global step)."""
    if not (
        isinstance(step, Variable) and step.shape == () and step.dtype.kind in "iu"
    ):
        got = (
            f"a {step.dtype} Variable of shape {step.shape}"
            if isinstance(step, Variable)
            else repr(step)
        )
        raise TypeError(
            f"{owner}.apply_gradients: global_step must be a scalar integer "
            f"Variable (nnlib.train.get_or_create_global_step()), got {got}"
        )
