"""Calling a layer on KerasTensors: the node it records, its outputs' shapes.

``Layer.__call__`` hands a call with KerasTensor inputs to ``call`` here.
Nothing is computed and nothing is built. The layer's
``compute_output_shape`` gives the outputs' shapes: every built-in layer has
one, cheap and exact, which keeps unknown sizes unknown and runs no code with
side effects. A layer without one (a user's layer, ``Lambda``, a subclassed
``Network``) is run on zeros instead, as Keras traces ``compute_output_spec``:
twice, with different sizes standing in for the unknown ones, so that the
output sizes that follow them come out unknown. The variables that run
creates are thrown away again.

A layer is built later, by the model that takes it, inside the model's
variable scope (``model/dense/kernel``), as a ``Network``'s layers are. A
model rebuilt from a config owns its layers before it calls them, so there
(``keeping_builds``) a run on zeros builds them for good and allocates
nothing twice, which keeps ``load_model``'s size checks exact.
"""

import contextlib
import contextvars
import functools
import inspect
import itertools

import numpy as np

from .. import naming
from ..engine import nest
from ..engine.tensor import Tensor
from . import _building, _context
from .keras_tensor import KerasTensor

__all__ = [
    "Node",
    "broadcast_shapes",
    "call",
    "concrete",
    "is_shape",
    "is_symbolic",
    "keeping_builds",
    "label",
    "output_dtypes",
    "shapes_of",
    "trace_shapes",
]

_NODE_IDS = itertools.count()
# Call arguments that never change the outputs' shapes.
_SHAPELESS = ("training", "mask")


class Node:
    """One call of a layer on symbolic inputs: ``layer(*args, **kwargs)``.

    Nodes are numbered as they are made; a node's inputs always exist before
    it, so that order is a topological order of any graph.
    """

    __slots__ = ("args", "id", "inputs", "kwargs", "layer", "outputs")

    def __init__(self, layer, args, kwargs):
        self.layer, self.args, self.kwargs = layer, tuple(args), dict(kwargs)
        self.inputs = _symbolic_leaves((self.args, self.kwargs))
        self.id = next(_NODE_IDS)
        self.outputs = None  # set by ``call`` once the KerasTensors exist

    @property
    def flat_outputs(self):
        return nest.flatten(self.outputs)


class _Spec:
    """An output's shape and dtype, before its KerasTensor exists."""

    __slots__ = ("dtype", "shape")

    def __init__(self, shape, dtype=None):
        self.shape, self.dtype = shape, dtype


def _symbolic_leaves(structure):
    return [leaf for leaf in nest.flatten(structure) if isinstance(leaf, KerasTensor)]


def label(layer):
    """The layer's name for a message, without naming it: a layer not owned
    yet gets its name from the model that takes it."""
    state = layer._nnlib
    return state.name or state.given_name or naming.to_snake_case(type(layer).__name__)


def is_symbolic(inputs, args, kwargs):
    """True when a call's arguments hold a KerasTensor (kept cheap: the first
    argument alone is looked at unless there are others)."""
    if isinstance(inputs, KerasTensor):
        return True
    if isinstance(inputs, (list, tuple, dict)) and _symbolic_leaves(inputs):
        return True
    return bool(args or kwargs) and bool(_symbolic_leaves((args, kwargs)))


def is_shape(value):
    """True for one shape (a tuple or list of ints and Nones), False for a
    structure of shapes.

    Examples:
        >>> from nnlib.layers._symbolic import is_shape
        >>> is_shape((None, 3)), is_shape([(None, 3), (None, 4)])
        (True, False)
    """
    return isinstance(value, (tuple, list)) and all(
        d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool))
        for d in value
    )


def broadcast_shapes(shapes, owner):
    """numpy's broadcasting of ``shapes`` where sizes may be unknown (None).

    Raises:
        ValueError: Naming ``owner`` and the shapes, for sizes that differ.

    Examples:
        >>> from nnlib.layers._symbolic import broadcast_shapes
        >>> broadcast_shapes([(None, 1, 3), (4, 3)], "add")
        (None, 4, 3)
    """
    rank = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(rank):
        sizes = {s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0}
        known = {d for d in sizes if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(
                f"{owner}: shapes {', '.join(str(tuple(s)) for s in shapes)} do "
                f"not broadcast (sizes {sorted(known)} on one axis)"
            )
        if known:
            result.append(known.pop())
        elif None in sizes:
            result.append(None)
        else:
            result.append(1)
    return tuple(result)


def call(layer, inputs, args, kwargs):
    """Records ``layer(inputs, *args, **kwargs)`` on KerasTensors; returns the
    outputs, KerasTensors in the structure the real call returns."""
    args = (inputs, *args)
    if layer.built and layer.input_spec is not None:
        _check_spec(layer, inputs)
    specs = _output_specs(layer, args, kwargs)
    node = Node(layer, args, kwargs)
    flat = [
        KerasTensor(spec.shape, spec.dtype, node=node, index=i)
        for i, spec in enumerate(nest.flatten(specs))
    ]
    node.outputs = nest.pack_as(specs, flat)
    return node.outputs


def _output_specs(layer, args, kwargs):
    shapes = _method_shapes(layer, args, kwargs)
    if shapes is _TRACE:
        return _trace(layer, args, kwargs)
    specs = _to_specs(layer, shapes)
    flat = nest.flatten(specs)
    dtypes = output_dtypes(layer, [t.dtype for t in _symbolic_leaves(args)])
    if not isinstance(dtypes, (list, tuple)):
        dtypes = [dtypes] * len(flat)
    for spec, dtype in zip(flat, dtypes):
        spec.dtype = dtype
    return specs


_TRACE = object()


@functools.cache
def _signature(method):
    return inspect.signature(method)


def _method_shapes(layer, args, kwargs):
    """``compute_output_shape`` of the call's shapes, or ``_TRACE`` where the
    layer has none or it cannot take every argument (``foo=tensor`` goes to
    its ``foo_shape`` parameter, other keywords by their own name)."""
    method = type(layer).compute_output_shape
    if getattr(method, "_nnlib_traces", False):
        return _TRACE
    named = {}
    for key, value in kwargs.items():
        if key not in _SHAPELESS:
            symbolic = bool(_symbolic_leaves(value))
            named[f"{key}_shape" if symbolic else key] = shapes_of(value)
    try:
        bound = _signature(method).bind(layer, *map(shapes_of, args), **named)
    except TypeError:
        return _TRACE
    return method(*bound.args, **bound.kwargs)


def shapes_of(value):
    """``value`` with each KerasTensor replaced by its shape."""
    if isinstance(value, KerasTensor):
        return value.shape
    if isinstance(value, (list, tuple, dict)) and _symbolic_leaves(value):
        return nest.pack_as(value, [shapes_of(v) for v in nest.flatten(value)])
    return value


def _to_specs(layer, shapes):
    if is_shape(shapes):
        return _Spec(tuple(None if d is None else int(d) for d in shapes))
    if isinstance(shapes, dict):
        return {key: _to_specs(layer, value) for key, value in shapes.items()}
    if isinstance(shapes, (list, tuple)) and shapes:
        return type(shapes)(_to_specs(layer, s) for s in shapes)
    raise TypeError(
        f"{type(layer).__name__}.compute_output_shape of layer '{label(layer)}' "
        f"returned {shapes!r}; expected a shape (a tuple of ints and Nones) or a "
        "list, tuple or dict of shapes"
    )


def output_dtypes(layer, input_dtypes):
    """The dtype of a layer's outputs for inputs of ``input_dtypes``.

    A layer's ``_compute_output_dtype(input_dtypes)`` decides where it has
    one (``Embedding``: its float dtype for integer ids); otherwise the first
    input's dtype after the layer's own casting (floats, and integers for
    nnlib's float layers, become the layer's dtype).
    """
    method = getattr(layer, "_compute_output_dtype", None)
    if method is not None:
        return method(input_dtypes)
    if not input_dtypes:
        return layer.dtype
    first = np.dtype(input_dtypes[0])
    casts = first.kind == "f" or (layer._cast_integers and first.kind in "iu")
    return layer.dtype if layer._autocast and casts else first


def _check_spec(layer, tensor):
    """A built layer's ``input_spec`` against a KerasTensor (None fits any size)."""
    if not isinstance(tensor, KerasTensor):
        return
    spec, shape = layer.input_spec, tensor.shape
    problem = None
    if spec.ndim is not None and len(shape) != spec.ndim:
        problem = f"inputs of rank {spec.ndim}"
    elif spec.min_ndim is not None and len(shape) < spec.min_ndim:
        problem = f"inputs of rank at least {spec.min_ndim}"
    else:
        for axis, size in spec.axes.items():
            if -len(shape) <= axis < len(shape) and shape[axis] not in (None, size):
                where = "last dimension" if axis == -1 else f"dimension {axis}"
                problem = f"inputs with {where} {size}"
    if problem:
        raise ValueError(
            f"layer '{label(layer)}' expected {problem}, got shape {shape} "
            f"(KerasTensor '{tensor.name}')"
        )


# -- running a layer on zeros -------------------------------------------------------


def concrete(structure, size):
    """``structure`` with each KerasTensor replaced by zeros of its shape and
    dtype, ``size`` standing in for unknown sizes."""
    flat = nest.flatten(structure)
    if not any(isinstance(leaf, KerasTensor) for leaf in flat):
        return structure
    return nest.pack_as(
        structure,
        [
            Tensor(np.zeros([size if d is None else d for d in x.shape], x.dtype))
            if isinstance(x, KerasTensor)
            else x
            for x in flat
        ],
    )


_KEEP = contextvars.ContextVar("nnlib_keep_builds", default=False)


@contextlib.contextmanager
def keeping_builds(keep=True):
    """Inside, a layer run on zeros stays built (with ``keep``): a model
    rebuilt from a config owns its layers before calling them, so they are in
    their final scope."""
    token = _KEEP.set(bool(keep))
    try:
        yield
    finally:
        _KEEP.reset(token)


@contextlib.contextmanager
def _kept_or_undone(layer):
    """A build made inside is undone on the way out, unless builds are kept
    (``keeping_builds``); a built layer has nothing to undo."""
    if layer.built or _KEEP.get():
        yield
        return
    build = _building.begin(layer)
    try:
        yield
    finally:
        _building.fail(build)


def _trace(layer, args, kwargs):
    tensors = _symbolic_leaves((args, kwargs))
    unknown = any(d is None for t in tensors for d in t.shape)
    runs = []
    for size in (3, 4) if unknown else (3,):
        # Each run builds afresh (an unknown size may set a weight's shape).
        with (
            _kept_or_undone(layer),
            _context.training_scope(False),
            _building.stand_in(),
        ):
            try:
                runs.append(layer(*concrete(args, size), **concrete(kwargs, size)))
            except (TypeError, ValueError, IndexError) as error:
                shapes = ", ".join(str(t.shape) for t in tensors)
                error.add_note(
                    f"(while finding the output shape of layer '{label(layer)}' for "
                    f"inputs of shape {shapes}: a layer without compute_output_"
                    f"shape is run on zeros, here with {size} for unknown sizes)"
                )
                raise
    first, last = nest.flatten(runs[0]), nest.flatten(runs[-1])
    for value in first:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"layer '{label(layer)}' returned a {type(value).__name__}; a layer "
                "called on KerasTensors must return tensors (or lists/dicts of them)"
            )
    specs = [
        _Spec(
            tuple(d if d == e else None for d, e in zip(a.shape, b.shape)),
            a.dtype,
        )
        for a, b in zip(first, last)
    ]
    return nest.pack_as(runs[0], specs)


def trace_shapes(layer, input_shape):
    """The output shapes of ``layer`` on inputs of ``input_shape`` (a shape or
    a structure of shapes), found by running it on zeros of its dtype."""
    if is_shape(input_shape):
        inputs = KerasTensor(input_shape, layer.dtype)
    else:
        flat = [KerasTensor(s, layer.dtype) for s in _flat_shapes(input_shape)]
        inputs = _pack_shapes(input_shape, iter(flat))
    specs = _trace(layer, (inputs,), {})
    flat = [spec.shape for spec in nest.flatten(specs)]
    return flat[0] if isinstance(specs, _Spec) else nest.pack_as(specs, flat)


def _flat_shapes(structure):
    if is_shape(structure):
        return [structure]
    values = structure.values() if isinstance(structure, dict) else structure
    return [shape for value in values for shape in _flat_shapes(value)]


def _pack_shapes(structure, leaves):
    if is_shape(structure):
        return next(leaves)
    if isinstance(structure, dict):
        return {k: _pack_shapes(v, leaves) for k, v in structure.items()}
    return type(structure)(_pack_shapes(v, leaves) for v in structure)
