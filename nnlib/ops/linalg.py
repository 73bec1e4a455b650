"""Linear algebra: matrix products, tensor contractions and norms (einsum: einsum.py)."""

import numpy as np

from ..engine.tape import needs_gradient
from . import math as _math
from . import poly as _poly
from ._axes import kept_shape
from ._dispatch import ACTIVE, Tensor, as_tensor, record, wrap
from .declare import Grad, declare, fit_gradient
from .reduction import normalize_axes, reduce_max, reduce_sum
from .registry import Sample, register
from .shape import cast, reshape

__all__ = ["matmul", "norm", "tensordot"]


def _t(v, flag):
    if not flag:
        return v
    return v.T if v.ndim == 2 else np.swapaxes(v, -1, -2)


def _matmul_forward(a, b, transpose_a=False, transpose_b=False):
    if transpose_a or transpose_b:
        a, b = _t(a, transpose_a), _t(b, transpose_b)
    # np.dot skips matmul's gufunc machinery: cheaper on small matrices.
    return np.dot(a, b) if a.ndim == 2 and b.ndim == 2 else a @ b


MATMUL = declare("matmul", _matmul_forward, broadcasts=True, prunes=True, fresh=True)


@MATMUL.gradient
def _(g):
    a, b = g.inputs
    attrs = g.attrs
    dy = g.dy
    transpose_a = attrs.get("transpose_a", False)
    transpose_b = attrs.get("transpose_b", False)
    da = db = None
    if g.needs is None or g.needs[0]:
        if transpose_a:
            da = _poly.matmul(b, dy, transpose_a=transpose_b, transpose_b=True)
        else:
            da = _poly.matmul(dy, b, transpose_b=not transpose_b)
    if g.needs is None or g.needs[1]:
        if transpose_b:
            db = _poly.matmul(dy, a, transpose_a=True, transpose_b=transpose_a)
        else:
            db = _poly.matmul(a, dy, transpose_a=not transpose_a)
    return da, db


@register(
    Sample(shapes=[(3, 4), (4, 2)]),
    Sample(shapes=[(2, 3, 4), (4, 5)]),
    Sample(shapes=[(2, 1, 3, 4), (3, 4, 2)]),
    Sample(shapes=[(4, 3), (2, 4)], kwargs={"transpose_a": True, "transpose_b": True}),
    Sample(shapes=[(4,), (4, 3)]),
    second_order=True,
)
def matmul(a, b, transpose_a=False, transpose_b=False):
    """Matrix product ``a @ b``, batched over leading axes with broadcasting.

    Args:
        a: A tensor of rank >= 1 (a vector is treated as one row).
        b: A tensor of rank >= 1 (a vector is treated as one column).
        transpose_a: Use the transpose of ``a``'s last two axes.
        transpose_b: Use the transpose of ``b``'s last two axes.

    Returns:
        A Tensor of shape ``batch + (rows of a, columns of b)``.

    Raises:
        ValueError: If the inner dimensions differ or batch shapes do not broadcast.

    Examples:
        >>> a = nnlib.constant([[1., 2.], [3., 4.]])
        >>> nnlib.matmul(a, a)
        nnlib.Tensor([[ 7. 10.]
                      [15. 22.]], shape=(2, 2), dtype=float32)
    """
    if not isinstance(a, Tensor):
        a = as_tensor(a)
    if not isinstance(b, Tensor):
        b = as_tensor(b)
    av, bv = a._value, b._value
    if av.ndim < 2 or bv.ndim < 2:
        if av.ndim == 0 or bv.ndim == 0:
            raise ValueError(
                f"matmul: operands must have rank >= 1, got shapes "
                f"{a.shape} and {b.shape}"
            )
        return _vector_matmul(a, b, transpose_a, transpose_b)
    try:
        if transpose_a or transpose_b or av.ndim != 2 or bv.ndim != 2:
            return MATMUL(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
        return _plain_matmul(a, b, av, bv)
    except ValueError:
        raise ValueError(
            f"matmul: cannot multiply shapes {a.shape}{'^T' if transpose_a else ''} "
            f"and {b.shape}{'^T' if transpose_b else ''}: inner dimensions or batch "
            "shapes do not match"
        ) from None


def _plain_matmul(a, b, av, bv):
    """MATMUL's call for two matrices without transposes, specialized (the
    most frequent matmul): the record is the Op's, node included, and the
    gradient is its rule."""
    y = wrap(np.dot(av, bv))
    if ACTIVE:
        needs = (needs_gradient(a), needs_gradient(b))
        a_spec, b_spec = (av.shape, av.dtype), (bv.shape, bv.dtype)

        def backward(dy):
            if isinstance(dy, Tensor):
                da, db = MATMUL.rule(Grad(dy, (a, b), (None,), {}, needs))
            else:
                da, db = MATMUL.rule(Grad(dy, (av, bv), (None,), {}, needs))
            return fit_gradient(da, a_spec), fit_gradient(db, b_spec)

        record("matmul", (a, b), y, backward, raw=True, node=(MATMUL, {}, ()))
    return y


def _vector_matmul(a, b, transpose_a, transpose_b):
    """numpy's vector rules, by reshaping to matrices (so the gradient comes free)."""
    a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
    b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
    y = matmul(
        a2,
        b2,
        transpose_a=transpose_a and a.ndim > 1,
        transpose_b=transpose_b and b.ndim > 1,
    )
    shape = y.shape
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return reshape(y, shape)


def _contraction_axes(a, b, axes):
    """``tensordot``'s ``axes`` as two equal-length lists of non-negative axes."""
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot: axes={axes} is out of range for shapes "
                f"{a.shape} and {b.shape}"
            )
        return list(range(a.ndim - axes, a.ndim)), list(range(axes))
    try:
        a_axes, b_axes = axes
    except (TypeError, ValueError):
        raise ValueError(
            f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}"
        ) from None
    pairs = []
    for t, ax in ((a, a_axes), (b, b_axes)):
        ax = [ax] if isinstance(ax, (int, np.integer)) else list(ax)
        if any(not -t.ndim <= i < t.ndim for i in ax) or len(
            {i % t.ndim for i in ax}
        ) < len(ax):
            raise ValueError(
                f"tensordot: axes {ax} are out of range or repeated for a "
                f"tensor of shape {t.shape}"
            )
        pairs.append([int(i) % t.ndim for i in ax])
    a_axes, b_axes = pairs
    if len(a_axes) != len(b_axes) or any(
        a.shape[i] != b.shape[j] for i, j in zip(a_axes, b_axes)
    ):
        raise ValueError(
            f"tensordot: cannot contract axes {a_axes} of shape {a.shape} "
            f"with axes {b_axes} of shape {b.shape}"
        )
    return a_axes, b_axes


def _permuted(x, order):
    """Transposes ``x``, whose axes are the source axes ``order``, to source order."""
    perm = tuple(int(i) for i in np.argsort(order))
    return x if perm == tuple(range(len(perm))) else _poly.transpose(x, perm)


TENSORDOT = declare("tensordot", np.tensordot, prunes=True)


@TENSORDOT.gradient
def _(g):
    (a, b), dy = g.inputs, g.dy
    a_axes, b_axes = g.attrs["axes"]
    a_free = [i for i in range(a.ndim) if i not in a_axes]
    b_free = [i for i in range(b.ndim) if i not in b_axes]
    da = db = None
    if g.needs is None or g.needs[0]:  # axes: a's free ones, then b's contracted
        dy_b = list(range(len(a_free), len(a_free) + len(b_free)))
        da = _permuted(
            _poly.tensordot(dy, b, (dy_b, b_free)),
            a_free + [a_axes[b_axes.index(j)] for j in sorted(b_axes)],
        )
        da = da if da.dtype == a.dtype else _poly.cast(da, a.dtype)
    if g.needs is None or g.needs[1]:
        dy_a = list(range(len(a_free)))
        db = _permuted(
            _poly.tensordot(a, dy, (a_free, dy_a)),
            [b_axes[a_axes.index(i)] for i in sorted(a_axes)] + b_free,
        )
        db = db if db.dtype == b.dtype else _poly.cast(db, b.dtype)
    return da, db


@register(
    Sample(shapes=[(3, 4), (4, 5)], kwargs={"axes": 1}),
    Sample(shapes=[(2, 3, 4), (4, 3, 2)], kwargs={"axes": ([1, 2], [1, 0])}),
    Sample(shapes=[(3,), (2, 2)], kwargs={"axes": 0}),
    second_order=True,
)
def tensordot(a, b, axes):
    """Sums the products of ``a`` and ``b`` over the paired ``axes``.

    Args:
        a: A tensor.
        b: A tensor.
        axes: An int ``n`` (the last ``n`` axes of ``a`` with the first ``n`` of
            ``b``) or a pair of lists ``([a axes], [b axes])`` contracted in pairs.

    Returns:
        A Tensor with ``a``'s free axes, then ``b``'s free axes.

    Raises:
        ValueError: If the axes are out of range, repeated, unequal in number, or
            pair axes of different lengths.

    Examples:
        >>> a = nnlib.constant(np.arange(6.).reshape(2, 3))
        >>> nnlib.tensordot(a, a, axes=([0], [0])).shape
        (3, 3)
        >>> nnlib.tensordot([1., 2.], [3., 4.], axes=1)
        nnlib.Tensor(11., shape=(), dtype=float32)
    """
    a, b = as_tensor(a), as_tensor(b)
    a_axes, b_axes = _contraction_axes(a, b, axes)
    return TENSORDOT(a, b, axes=(tuple(a_axes), tuple(b_axes)))


def _norm_forward(x, axis, keepdims=False):
    return np.sqrt(np.add.reduce(x * x, axis=axis, keepdims=keepdims))


# The euclidean norm, fused: the 1 and inf norms are compositions.
NORM = declare("norm", _norm_forward)


@NORM.gradient
def _(g):
    (x,), (y,) = g.inputs, g.outputs
    kept = kept_shape(x.shape, g.attrs["axis"])
    # x / ||x|| is 0/0 at the origin; the gradient there is defined as 0.
    yk = _poly.reshape(y, kept)
    return (_poly.reshape(g.dy, kept) * x / _poly.where(yk == 0.0, 1.0, yk),)


_ORDS = ("euclidean", "fro", 1, 2, np.inf)


@register(
    Sample(shapes=[(3, 4)]),
    Sample(shapes=[(2, 3, 4)], kwargs={"axis": -1, "keepdims": True}),
    Sample(shapes=[(3, 4)], kwargs={"ord": 1, "axis": 0}, avoid=(0.0,)),
    Sample(shapes=[(3, 4)], kwargs={"ord": np.inf, "axis": 1}, avoid=(0.0,)),
    Sample(shapes=[(2, 3, 4)], kwargs={"ord": "fro", "axis": (0, 2)}),
    Sample(shapes=[(3, 4)], kwargs={"ord": 1, "axis": (0, 1)}, avoid=(0.0,)),
    Sample(shapes=[(3, 4)], kwargs={"ord": np.inf, "axis": (-2, -1)}, avoid=(0.0,)),
    second_order=True,
)
def norm(x, ord="euclidean", axis=None, keepdims=False):
    """The vector or matrix norm of ``x``.

    With ``axis`` None, ``x`` is one vector of all its elements; an int (or a
    1-tuple) takes vector norms along that axis; a pair of axes takes matrix norms.
    Vector ords: ``"euclidean"`` (= 2), 1 and ``np.inf``. Matrix ords:
    ``"fro"`` (= ``"euclidean"``), 1 (largest column sum of absolute values) and
    ``np.inf`` (largest row sum). The spectral norm (``ord=2`` on a matrix) is not
    supported. The gradient of the euclidean norm at 0 is defined as 0 (not NaN);
    that of ``|x|`` at 0 is 0.

    Args:
        x: A tensor.
        ord: The order of the norm (see above).
        axis: None, an int, or a tuple of one or two ints.
        keepdims: Keep reduced axes with length 1.

    Returns:
        A floating-point Tensor.

    Raises:
        ValueError: If ``ord`` or ``axis`` is not supported or out of range.

    Examples:
        >>> nnlib.norm([3., 4.])
        nnlib.Tensor(5., shape=(), dtype=float32)
        >>> nnlib.norm([[1., -2.], [3., 4.]], ord=1, axis=(0, 1))
        nnlib.Tensor(6., shape=(), dtype=float32)
    """
    x = as_tensor(x)
    pair = isinstance(axis, (tuple, list)) and len(axis) == 2
    if ord not in _ORDS or (ord == "fro" and axis is not None and not pair):
        raise ValueError(
            f"norm: unsupported ord {ord!r} for axis {axis!r}; use one of "
            "'euclidean', 1, 2, np.inf for vectors, 'fro', 1, np.inf for "
            "matrices"
        )
    if isinstance(axis, (tuple, list)) and len(axis) not in (1, 2):
        raise ValueError(f"norm: axis must be None, an int or a pair, got {axis!r}")
    axes = normalize_axes(axis, x.ndim, "norm")
    if x.dtype.kind not in "fc":
        x = cast(x, np.float64)  # as np.linalg.norm does
    if ord in ("euclidean", "fro") or (ord == 2 and not pair):
        return NORM(x, axis=axes, keepdims=keepdims)
    # |x| has the subgradient sign(0) = 0 at zero, as TensorFlow's abs has.
    if not pair:
        return (reduce_sum if ord == 1 else reduce_max)(_math.abs(x), axes, keepdims)
    if ord == 2:
        raise ValueError(
            "norm: the spectral matrix norm (ord=2 with two axes) is not supported"
        )
    # ord=1 sums down the rows axis then takes the largest column; inf the reverse.
    first, second = axes if axes[0] == axis[0] % x.ndim else axes[::-1]
    summed = reduce_sum(_math.abs(x), first if ord == 1 else second, keepdims=True)
    return reduce_max(summed, axes, keepdims)
