"""GradientTape: record ops while active, then compute gradients from the record."""

import contextlib

import numpy as np

from .._warn import warn
from . import nest
from .backward import backward_pass
from .indexed_slices import IndexedSlices
from .tape import Recorder, global_observers, observers, pop, push
from .tensor import Tensor, to_array, wrap
from .variable import Variable

_UNCONNECTED = ("none", "zero")


class GradientTape(Recorder):
    """Records operations on watched tensors so their gradients can be computed.

    Inside ``with GradientTape() as tape:`` every op that reads a watched tensor is
    recorded; trainable variables are watched the moment an op reads them (unless
    ``watch_accessed_variables=False``), other tensors with ``tape.watch``.
    ``tape.gradient`` then walks the record backwards. A non-persistent tape frees
    each record as the backward pass consumes it and allows one ``gradient`` call.
    A tape records only the ops of the thread that entered it, so threads can
    each run their own tapes at once.

    Args:
        persistent: Allow several ``gradient``/``jacobian`` calls (the record is kept
            until the tape is deleted).
        watch_accessed_variables: Watch trainable variables automatically when read.

    Examples:
        >>> x = nnlib.constant(3.0)
        >>> with nnlib.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = x * x
        >>> tape.gradient(y, x)
        nnlib.Tensor(6., shape=(), dtype=float32)
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        super().__init__(watch_accessed_variables)
        self._persistent = persistent
        self._used = False
        self._entered = False
        self._stack = None  # the thread's observer stack, while recording

    def __enter__(self):
        if self._entered:
            raise RuntimeError(
                "this GradientTape is already recording; nest a new tape instead"
            )
        self._entered = True
        self._stack = push(self)
        return self

    def __exit__(self, *exc_info):
        self._entered = False
        pop(self._stack, self)
        self._stack = None
        return False

    def watch(self, tensor):
        """Watches a tensor (or a nested list/tuple/dict of them) on this tape.

        Args:
            tensor: A Tensor or Variable, or a structure of them.

        Raises:
            TypeError: If a leaf is not a Tensor (wrap numbers with
                ``nnlib.constant`` first: a number has no identity to follow).

        Examples:
            >>> x = nnlib.constant([1., 2.])
            >>> with nnlib.GradientTape() as tape:
            ...     tape.watch(x)
            ...     y = nnlib.reduce_sum(x * x)
            >>> tape.gradient(y, x).numpy()
            array([2., 4.], dtype=float32)
        """
        for leaf in nest.flatten(tensor):
            if not isinstance(leaf, Tensor):
                raise TypeError(
                    f"GradientTape.watch expects Tensors or Variables, got "
                    f"{type(leaf).__name__}; convert it with nnlib.constant first"
                )
            self._watch_tensor(leaf)

    def watched_variables(self):
        """Returns the variables this tape watched, in the order they were created.

        Examples:
            >>> v = nnlib.Variable(2.0)
            >>> with nnlib.GradientTape() as tape:
            ...     y = v * 3.0
            >>> tape.watched_variables() == [v]
            True
        """
        return [self._variables[i] for i in sorted(self._variables)]

    @contextlib.contextmanager
    def stop_recording(self):
        """Temporarily stops recording ops on this tape.

        Examples:
            >>> x = nnlib.constant(2.0)
            >>> with nnlib.GradientTape() as tape:
            ...     tape.watch(x)
            ...     with tape.stop_recording():
            ...         y = x * x
            >>> tape.gradient(y, x) is None
            True
        """
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def recorded_ops(self):
        """Returns the names of the ops recorded so far, in order (for debugging).

        Examples:
            >>> x = nnlib.constant(2.0)
            >>> with nnlib.GradientTape() as tape:
            ...     tape.watch(x)
            ...     y = nnlib.tanh(x * x)
            >>> tape.recorded_ops()
            ['multiply', 'tanh']
        """
        return [entry[-1] for entry in self._entries]

    def reset(self):
        """Forgets everything recorded so far (the tape stays active)."""
        self._watched.clear()
        self._leaves.clear()
        self._entries = []
        self._variables.clear()
        self._blocked.clear()
        self._read.clear()

    def gradient(
        self, target, sources, output_gradients=None, unconnected_gradients="none"
    ):
        """Computes the gradient of ``target`` with respect to ``sources``.

        Args:
            target: A Tensor, or a list/tuple/dict of Tensors (their gradients add
                up). A non-scalar target means the gradient of its sum, or of
                ``sum(output_gradients * target)`` when ``output_gradients`` is given.
            sources: A Tensor or Variable, or a list, tuple or dict of them.
            output_gradients: Upstream gradients, one per target, with its shape.
            unconnected_gradients: ``"none"`` (default) gives ``None`` for a source
                the target does not depend on; ``"zero"`` gives zeros.

        Returns:
            Gradients with the structure of ``sources``: Tensors, or
            ``IndexedSlices`` for a source read only by ``embedding_lookup``
            or ``gather`` along axis 0 (as in TensorFlow; dense when an outer
            tape records this computation, for higher-order gradients).

        Raises:
            RuntimeError: On a second call to a non-persistent tape.
            TypeError: If a source is an integer or boolean tensor.
            ValueError: If an output gradient's shape differs from its target's.

        Examples:
            >>> v = nnlib.Variable([1., 2.])
            >>> with nnlib.GradientTape() as tape:
            ...     y = v * v
            >>> tape.gradient(y, {"v": v})["v"].numpy()
            array([2., 4.], dtype=float32)
        """
        if unconnected_gradients not in _UNCONNECTED:
            raise ValueError(
                f"unconnected_gradients must be 'none' or 'zero', "
                f"got {unconnected_gradients!r}"
            )
        if self._used and not self._persistent:
            raise RuntimeError(
                "gradient() was already called on this non-persistent GradientTape, "
                "which frees its record as it goes; use GradientTape(persistent=True) "
                "to compute several gradients"
            )
        flat_sources = _checked_sources(sources)
        seeds = _seeds(target, output_gradients)
        self._used = True
        raw = not self._outer_tape_records()
        self._paused += 1  # ops of the backward pass belong to outer tapes only
        try:
            source_ids = [s._id for s in flat_sources]
            # When every watched leaf is a source, every entry leads to one.
            prune = not self._leaves.issubset(source_ids)
            grads = backward_pass(
                self._entries,
                seeds,
                source_ids,
                consume=not self._persistent,
                prune=prune,
                raw=raw,
            )
        finally:
            self._paused -= 1
        if not self._persistent:
            self._entries = []
        results = [_as_gradient(grads.get(s._id), s) for s in flat_sources]
        if unconnected_gradients == "zero":
            results = [
                wrap(np.zeros(s.shape, s.dtype)) if g is None else g
                for g, s in zip(results, flat_sources)
            ]
        elif results and all(g is None for g in results):
            warn(self._explain_none(seeds, flat_sources))
        return nest.pack_as(sources, results)

    def jacobian(self, target, source):
        """Returns d target / d source with shape ``target.shape + source.shape``.

        Needs a persistent tape when called more than once.

        Examples:
            >>> x = nnlib.constant([1., 2.])
            >>> with nnlib.GradientTape() as tape:
            ...     tape.watch(x)
            ...     y = x * x
            >>> tape.jacobian(y, x).numpy()
            array([[2., 0.],
                   [0., 4.]], dtype=float32)
        """
        if self._used and not self._persistent:
            raise RuntimeError("jacobian() needs a persistent tape after gradient()")
        _checked_sources(source)
        rows = []
        self._paused += 1
        try:
            for k in range(max(target.size, 1)):
                seed = np.zeros(target.size, target.dtype)
                seed[k] = 1
                seeds = [(target, wrap(seed.reshape(target.shape)))]
                grads = backward_pass(
                    self._entries, seeds, [source._id], consume=False, raw=True
                )
                g = grads.get(source._id)
                rows.append(
                    np.zeros(source.shape, source.dtype)
                    if g is None
                    else np.asarray(g, source.dtype)
                )
        finally:
            self._paused -= 1
        self._used = True
        return wrap(np.stack(rows).reshape(target.shape + source.shape))

    def _outer_tape_records(self):
        """True when another observer would record the ops of our backward pass."""
        if global_observers():
            return True  # the numeric checker wants to see every op
        for observer in observers():
            if observer is self:
                continue
            if not isinstance(observer, Recorder) or not observer._paused:
                return True  # a tape, or custom_gradient's variable collector
        return False

    def _explain_none(self, seeds, sources):
        target_ids = {t._id for t, _ in seeds}
        reasons = []
        for s in sources:
            label = (
                f"variable '{s.name}'"
                if isinstance(s, Variable)
                else f"tensor of shape {s.shape}"
            )
            if s._id in self._blocked and s._id not in self._read:
                why = f"was read only through the non-differentiable op '{self._blocked[s._id]}'"
            elif s._id not in self._watched:
                why = (
                    "was never read while the tape recorded"
                    if isinstance(s, Variable)
                    else "was not watched (call tape.watch on it, or use a trainable Variable)"
                )
            elif not any(t in self._watched for t in target_ids):
                why = "is watched, but the target was not computed from watched tensors"
            else:
                why = "is watched, but the target does not depend on it"
            reasons.append(f"  - {label} {why}")
        return "every gradient is None:\n" + "\n".join(reasons)


def _as_gradient(grad, source):
    """A gradient from the backward pass as a Tensor of the source's dtype, or
    an ``IndexedSlices`` whose values have it."""
    if grad is None or isinstance(grad, Tensor):
        return grad
    if type(grad) is IndexedSlices:
        values = grad.values._value
        if values.dtype == source.dtype:
            return grad
        return IndexedSlices._make(
            values.astype(source.dtype), grad.indices._value, grad.dense_shape
        )
    if type(grad) is np.ndarray and grad.dtype == source._value.dtype:
        return wrap(grad)
    grad = np.asarray(grad)
    return wrap(grad if grad.dtype == source.dtype else grad.astype(source.dtype))


_ONES = {}


def _ones(shape, dtype):
    """Ones for a seed; scalar ones are cached read-only (the usual loss seed)."""
    if shape:
        return np.ones(shape, dtype)
    ones = _ONES.get(dtype)
    if ones is None:
        ones = _ONES[dtype] = np.ones((), dtype)
        ones.flags.writeable = False
    return ones


def _checked_sources(sources):
    flat = nest.flatten(sources)
    for s in flat:
        if not isinstance(s, Tensor):
            raise TypeError(
                f"gradient sources must be Tensors or Variables, got {type(s).__name__}"
            )
        if s.dtype.kind not in "fc":
            raise TypeError(
                f"cannot take a gradient with respect to a {s.dtype} tensor of shape {s.shape}: "
                "only floating-point sources have gradients (cast it to float32 first)"
            )
    return flat


def _seeds(target, output_gradients):
    targets = nest.flatten(target)
    if output_gradients is None:
        upstream = [None] * len(targets)
    else:
        upstream = nest.flatten(output_gradients)
        if len(upstream) != len(targets):
            raise ValueError(
                f"got {len(upstream)} output_gradients for {len(targets)} targets"
            )
    seeds = []
    for t, dy in zip(targets, upstream):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradient target must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind not in "fc":
            raise TypeError(
                f"cannot differentiate a {t.dtype} target: it has no gradient"
            )
        if dy is None:
            dy = wrap(_ones(t.shape, t.dtype))
        else:
            # Gradients keep the target's dtype whatever the upstream dtype; a
            # Tensor of that dtype is kept, so outer tapes can differentiate
            # with respect to it (Hessian-vector products).
            if not (isinstance(dy, Tensor) and dy.dtype == t.dtype):
                dy = wrap(to_array(dy, t.dtype))
            if dy.shape != t.shape:
                raise ValueError(
                    f"output_gradients has shape {dy.shape}, "
                    f"but its target has shape {t.shape}"
                )
        seeds.append((t, dy))
    return seeds
