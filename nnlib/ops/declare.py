"""One way to declare an op: its forward on arrays, its gradient rule, its outputs.

An ``Op`` is the single description every part of nnlib reads:

* an eager call runs ``forward`` on the operands' arrays, wraps the results in
  Tensors and, while a tape records, records the op with a backward function
  built from ``rule``;
* the registry's finite-difference test calls the op's public function on its
  ``samples``;
* an observer of the record (a tracer building a graph) receives the ``Op``, its
  attributes and its hidden outputs with each record, and can run ``forward``
  again on new arrays: ``forward`` is a pure function of its array inputs and
  attributes (random ops draw from ``nnlib.random`` when run, so a replay draws
  afresh);
* ``infer`` gives output shapes and dtypes without data.

Inputs are positional (Tensors, arrays or numbers); attributes are keywords
(Python values: axes, flags, shapes). Anything the gradient needs from the
forward computation (a mask, the positions of maxima) is a *hidden output*:
``forward`` returns it after the visible outputs, the rule reads it from
``g.outputs``, and a tracer sees it as an output of the op, so nothing the
gradient reads is frozen at trace time.

Broadcasting is undone once, here: an op declared with ``broadcasts=True`` has
its rule's gradients summed back to each operand's shape and cast to its dtype.
"""

import numpy as np

from ..engine.tape import ACTIVE, needs_gradient, record
from ..engine.tensor import Tensor, wrap

__all__ = ["Grad", "Op", "Spec", "declare"]


class Spec:
    """The shape and dtype of a value, without its data (what ``infer`` returns).

    Args:
        shape: A tuple of ints.
        dtype: A numpy dtype or its name.

    Examples:
        >>> Spec((2, 3), "float32")
        Spec(shape=(2, 3), dtype=float32)
    """

    __slots__ = ("dtype", "shape")

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    @classmethod
    def of(cls, value):
        """The spec of a Tensor, array or number.

        Examples:
            >>> Spec.of(np.zeros((2,), np.int64))
            Spec(shape=(2,), dtype=int64)
        """
        if isinstance(value, Tensor):
            value = value._value
        value = np.asarray(value)
        return cls(value.shape, value.dtype)

    def __eq__(self, other):
        return (
            isinstance(other, Spec)
            and self.shape == other.shape
            and self.dtype == other.dtype
        )

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"Spec(shape={self.shape}, dtype={self.dtype})"


class Grad:
    """What a gradient rule receives: the upstream gradient and the op's values.

    In the first-order fast path every value is a numpy array; when an outer
    tape records the backward pass (higher-order gradients) every value is a
    Tensor, and the rule's operations are recorded. Rules written with
    operators and ``nnlib.ops.poly`` work both ways.

    Attributes:
        dy: The gradient of the (first) output; a list, one per visible output,
            for an op with several visible outputs.
        inputs: The op's inputs (None for those the op does not save).
        outputs: The visible outputs, then the hidden ones (None where not saved).
        attrs: The op's attributes, a dict.
        needs: One bool per input: whether any tape wants its gradient (always
            True unless the op is declared with ``prunes=True``).

    Examples:
        >>> g = Grad(np.ones(2), (np.zeros(2),), (np.ones(2),), {}, (True,))
        >>> g.dy * g.outputs[0]
        array([1., 1.])
    """

    __slots__ = ("attrs", "dy", "inputs", "needs", "outputs")

    def __init__(self, dy, inputs, outputs, attrs, needs):
        self.dy = dy
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
        self.needs = needs


_ALL = None  # ``needs`` when nothing is pruned: every input may need a gradient


class Op:
    """A declared op: call it with inputs (positional) and attributes (keywords).

    Use ``declare`` to make one and ``@op.gradient`` to give it its rule; the
    public function of the op validates its arguments and calls the ``Op``.

    Args:
        name: The op's name (in records, errors and graphs).
        forward: ``forward(*arrays, **attrs)``: the visible outputs (an array, or
            a tuple of ``outputs`` arrays), followed by ``hidden`` arrays the
            rule reads; numpy only, no Tensors.
        outputs: The number of visible outputs, or None for as many as
            ``forward`` returns (a tuple; ``split``, ``unstack``). The op then
            returns a tuple of Tensors.
        hidden: The number of hidden outputs after them.
        broadcasts: Whether the rule returns gradients of the broadcast shape,
            to be summed back to each operand's shape (and cast to its dtype).
        saves: Which values the rule reads, for the tape to keep alive:
            ``"x"`` (the inputs), ``"y"`` (the outputs), ``"xy"`` or ``""``.
            Hidden outputs are always kept.
        prunes: Whether the rule skips gradients nobody needs (``g.needs``):
            worth it where a gradient is expensive (matmul, convolution).
        infer: Optional ``infer(*specs, **attrs)``: the output ``Spec`` (or a
            tuple of them), visible outputs only; by default ``forward`` runs
            on zeros of the input specs.
        raw: Whether the rule also runs on numpy arrays (the first-order fast
            path; the default). False hands it Tensors always.
        random: Whether ``forward`` draws random numbers: a graph never folds
            or merges such an op, since each run must draw afresh.
        fresh: Whether ``forward`` always returns new arrays, never views of
            its inputs (a compiled graph may then reuse them in place).

    Examples:
        >>> double = Op("double", lambda x: x * 2)
        >>> @double.gradient
        ... def _(g):
        ...     return (g.dy * 2,)
        >>> x = nnlib.constant([1.0, 2.0])
        >>> with nnlib.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = double(x)
        >>> tape.gradient(y, x)
        nnlib.Tensor([2. 2.], shape=(2,), dtype=float32)
    """

    def __init__(
        self,
        name,
        forward,
        *,
        outputs=1,
        hidden=0,
        broadcasts=False,
        saves="xy",
        prunes=False,
        infer=None,
        raw=True,
        random=False,
        fresh=False,
    ):
        self.name = name
        self.forward = forward
        self.outputs = outputs
        self.hidden = hidden
        self.broadcasts = broadcasts
        self.saves = saves
        self.prunes = prunes
        self._infer = infer
        self.raw = raw
        self.random = random
        self.fresh = fresh
        self.rule = None
        self._keep_x = "x" in saves
        self._keep_y = "y" in saves
        self._single = outputs == 1 and not hidden

    def gradient(self, rule):
        """Sets the gradient rule ``rule(g: Grad) -> tuple of input gradients``.

        The tuple has one entry per input, None where there is no gradient.
        Returns ``rule``, so this works as a decorator.
        """
        self.rule = rule
        return rule

    @property
    def differentiable(self):
        """Whether the op has a gradient rule."""
        return self.rule is not None

    def infer(self, *specs, **attrs):
        """The visible outputs' ``Spec`` (a tuple unless ``outputs == 1``).

        Examples:
            >>> add = nnlib.ops.add.op
            >>> add.infer(Spec((2, 1), "float32"), Spec((3,), "float32"))
            Spec(shape=(2, 3), dtype=float32)
        """
        if self._infer is not None:
            return self._infer(*specs, **attrs)
        result = self.forward(*(np.zeros(s.shape, s.dtype) for s in specs), **attrs)
        results = result if isinstance(result, tuple) else (result,)
        specs = tuple(Spec.of(r) for r in results[: self.outputs])
        return specs if self.outputs != 1 else specs[0]

    def __call__(self, *inputs, **attrs):
        # The eager hot path: every op call runs this, so the common shapes (one
        # or two inputs, one output) avoid building lists and generators.
        n = len(inputs)
        if n == 1:
            x = inputs[0]
            values = (x._value if isinstance(x, Tensor) else x,)
        elif n == 2:
            x, z = inputs
            values = (
                x._value if isinstance(x, Tensor) else x,
                z._value if isinstance(z, Tensor) else z,
            )
        else:
            values = tuple([x._value if isinstance(x, Tensor) else x for x in inputs])
        result = self.forward(*values, **attrs) if attrs else self.forward(*values)
        if self._single:
            y = wrap(result)
            if ACTIVE:
                self._record(inputs, values, y, (y,), (), attrs)
            return y
        if self.outputs == 1:  # one output and hidden ones (a mask, saved values)
            y = wrap(result[0])
            visible, hidden = (y,), tuple(map(wrap, result[1:]))
        else:
            count = len(result) - self.hidden if self.outputs is None else self.outputs
            visible = tuple(map(wrap, result[:count]))
            hidden = tuple(map(wrap, result[count:]))
            y = visible
        if ACTIVE:
            self._record(inputs, values, y, visible, hidden, attrs)
        return y

    def _record(self, inputs, values, y, visible, hidden, attrs):
        node = (self, attrs, hidden)
        if self.rule is None:
            record(self.name, inputs, y, None, node=node)
            return
        rule = self.rule
        needs = tuple([needs_gradient(x) for x in inputs]) if self.prunes else _ALL
        if self._keep_x:
            ins, ins_raw = inputs, values
        else:
            ins = ins_raw = (None,) * len(inputs)
        outs = (visible if self._keep_y else (None,) * len(visible)) + hidden
        if len(outs) == 1:
            out = outs[0]

            def arrays():
                return (None if out is None else out._value,)

        else:

            def arrays():
                return tuple([None if t is None else t._value for t in outs])

        if self.broadcasts:
            # Shapes and dtypes of the operands, for summing gradients back:
            # read when the backward pass runs (from the saved operands, or
            # kept now when the operands are not saved).
            fixed = None if self._keep_x else _operand_specs(inputs)

            def backward(dy):
                if isinstance(dy, Tensor):
                    grads = rule(Grad(dy, ins, outs, attrs, needs))
                else:
                    grads = rule(Grad(dy, ins_raw, arrays(), attrs, needs))
                return _unbroadcast_all(grads, fixed or _operand_specs(inputs))

        else:

            def backward(dy):
                if isinstance(dy[0] if type(dy) is list else dy, Tensor):
                    return rule(Grad(dy, ins, outs, attrs, needs))
                # the first-order fast path: arrays throughout
                return rule(Grad(dy, ins_raw, arrays(), attrs, needs))

        record(self.name, inputs, y, backward, raw=self.raw, node=node)


def _operand_specs(inputs):
    """``(shape, dtype)`` per Tensor operand (None for the rest, which get no
    gradient): what summing a gradient back needs when the operands are not
    kept."""
    return [
        (x._value.shape, x._value.dtype) if isinstance(x, Tensor) else None
        for x in inputs
    ]


def fit_gradient(grad, spec):
    """``grad`` fitted to its operand's ``(shape, dtype)`` spec (see
    ``_unbroadcast``); None without a spec or for a non-float operand."""
    if grad is None or spec is None:
        return None
    shape, dtype = spec
    if grad.shape == shape and grad.dtype == dtype:
        return grad
    return _unbroadcast(grad, shape, dtype)


def _unbroadcast_all(grads, specs):
    """Each gradient fitted to its operand (``fit_gradient``)."""
    return [fit_gradient(d, spec) for d, spec in zip(grads, specs)]


def _unbroadcast(grad, shape, dtype):
    """``grad`` summed to ``shape`` and cast to ``dtype``; None for non-floats."""
    if grad is None or dtype is None or dtype.kind not in "fc":
        return None
    if isinstance(grad, Tensor):
        if grad.shape != shape:
            grad = _poly.sum_to_shape(grad, shape)
        return grad if grad.dtype == dtype else _poly.cast(grad, dtype)
    if grad.shape != shape:
        grad = _poly.sum_to_shape(grad, shape)
    return grad if grad.dtype == dtype else grad.astype(dtype)


def declare(name, forward, **options):
    """Declares an op: returns an ``Op`` (see its arguments).

    Args:
        name: The op's name.
        forward: Its forward computation on numpy arrays.
        **options: ``Op``'s keyword arguments.

    Returns:
        The ``Op``; give it a rule with ``@op.gradient``.

    Examples:
        >>> square = declare("square", np.square, saves="x")
        >>> @square.gradient
        ... def _(g):
        ...     return (2 * g.inputs[0] * g.dy,)
        >>> square(nnlib.constant(3.0))
        nnlib.Tensor(9., shape=(), dtype=float32)
    """
    return Op(name, forward, **options)


# Last: poly's ops are declared with this module (a cycle resolved at call time).
from . import poly as _poly
