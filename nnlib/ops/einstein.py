"""einsum: Einstein summation, with the gradient of each operand as another einsum."""

import string

import numpy as np

from . import poly as _poly
from ._dispatch import Tensor, as_tensor
from .declare import declare
from .registry import Sample, register

__all__ = ["einsum"]


def _parse_einsum(equation, shapes):
    """Returns ``(input subscripts, output subscripts, numpy's equation, optimize)``.

    ``...`` is spelled out as letters. Cached: parsing costs several times more
    than a small einsum.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(shapes):
        raise ValueError(
            f"einsum: equation {equation!r} has {len(subs)} operand "
            f"subscripts but {len(shapes)} operands were given"
        )
    # '...' becomes letters the equation does not use, right-aligned as in numpy.
    spare = [c for c in string.ascii_letters if c not in eq]
    ell = "".join(
        spare[
            : max(
                [len(shp) - len(s) + 3 for s, shp in zip(subs, shapes) if "..." in s]
                or [0]
            )
        ]
    )
    sizes, counts = {}, {}
    for i, (s, shp) in enumerate(zip(subs, shapes)):
        if "..." in s:
            k = len(shp) - len(s) + 3
            s = subs[i] = s.replace("...", ell[len(ell) - k :] if k > 0 else "", 1)
        if any(c not in string.ascii_letters for c in s) or len(s) != len(shp):
            raise ValueError(
                f"einsum: subscripts {s!r} do not fit operand {i} of "
                f"shape {shp} in {equation!r}"
            )
        if len(set(s)) != len(s):
            raise ValueError(
                f"einsum: repeated index in {s!r} (a trace or diagonal) "
                f"is not supported in {equation!r}"
            )
        for c, d in zip(s, shp):
            if sizes.get(c, 1) not in (1, d) and d != 1:
                raise ValueError(
                    f"einsum: index {c!r} has sizes {sizes[c]} and {d} in "
                    f"{equation!r} with shapes {list(shapes)}"
                )
            sizes[c] = max(sizes.get(c, 1), d) if d else 0
            counts[c] = counts.get(c, 0) + 1
    if not arrow:  # numpy's implicit form: broadcast axes, then single indices sorted
        once = sorted(c for c, n in counts.items() if n == 1 and c not in ell)
        out = ell + "".join(once)
    out = out.replace("...", ell)
    if any(c not in sizes for c in out) or len(set(out)) != len(out) or "->" in out:
        raise ValueError(
            f"einsum: output subscripts {out!r} must be distinct indices "
            f"of the inputs in {equation!r}"
        )
    # Without a path numpy runs one loop nest over every index, without BLAS;
    # planning one costs about 8 us and pays off only for big contractions.
    contracted = len(subs) > 2 or any(counts[c] > 1 and c not in out for c in counts)
    optimize = contracted and float(np.prod(list(sizes.values()), dtype=float)) > 2**15
    return tuple(subs), out, ",".join(subs) + "->" + out, optimize


def _einsum_forward(*operands, equation, optimize=False):
    return np.einsum(equation, *operands, optimize=optimize)


EINSUM = declare("einsum", _einsum_forward, prunes=True)


@EINSUM.gradient
def _(g):
    lhs, out = g.attrs["equation"].split("->")
    subs = lhs.split(",")
    return tuple(
        _einsum_gradient(i, subs, out, g.inputs, g.dy)
        if g.needs is None or g.needs[i]
        else None
        for i in range(len(subs))
    )


def _einsum_gradient(i, subs, out, operands, dy):
    """The gradient of operand ``i``: einsum of the other operands and ``dy``.

    Works on Tensors and on numpy arrays (see ``nnlib.ops.poly``).
    """
    others = [k for k in range(len(subs)) if k != i]
    available = set(out).union(*(subs[k] for k in others))
    target = "".join(c for c in subs[i] if c in available)
    spec = ",".join([subs[k] for k in others] + [out]) + "->" + target
    g = _any_einsum(spec, *[operands[k] for k in others], dy)
    shape = operands[i].shape
    # Indices summed in this operand alone get the gradient broadcast back.
    g = _poly.reshape(
        g, tuple(g.shape[target.index(c)] if c in available else 1 for c in subs[i])
    )
    if g.shape != shape:  # then undo numpy's broadcasting of length-1 axes
        kept = tuple(1 if s == 1 else d for s, d in zip(shape, g.shape))
        g = _poly.broadcast_to(_poly.sum_to_shape(g, kept), shape)
    dtype = operands[i].dtype
    return g if g.dtype == dtype else _poly.cast(g, dtype)


def _any_einsum(equation, *operands):
    """``einsum`` when an operand is a Tensor (recorded), numpy's otherwise."""
    if any(isinstance(v, Tensor) for v in operands):
        return einsum(equation, *operands)
    _, _, spec, optimize = _parse_einsum(equation, tuple(v.shape for v in operands))
    return np.einsum(spec, *operands, optimize=optimize)


def _einsum_sample(equation, *shapes):
    return Sample(
        make=lambda rng: ([equation] + [rng.uniform(-2, 2, s) for s in shapes], {})
    )


@register(
    _einsum_sample("ij,jk->ik", (2, 3), (3, 4)),
    _einsum_sample("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
    _einsum_sample("ij,j", (3, 4), (4,)),
    _einsum_sample("i,i->", (5,), (5,)),
    _einsum_sample("bi,bj->bij", (2, 3), (2, 4)),
    _einsum_sample("ij->", (3, 4)),
    _einsum_sample("...ij,jk,k->...i", (2, 2, 3), (3, 4), (4,)),
    _einsum_sample("ij,ij->i", (1, 3), (2, 3)),
    second_order=True,
)
def einsum(equation, *operands):
    """Einstein summation: products of ``operands`` summed over repeated indices.

    Supports explicit equations (``"ij,jk->ik"``), the implicit form
    (``"ij,jk"``: indices seen once, sorted, form the output), ``...`` for leading
    axes, and length-1 axes broadcasting. An index repeated within one operand
    (a trace or diagonal, ``"ii->i"``) is not supported.

    Args:
        equation: The subscripts, such as ``"bij,bjk->bik"``.
        *operands: Tensors, one per comma-separated subscript.

    Returns:
        A Tensor with the output subscripts' axes.

    Raises:
        ValueError: If the equation is malformed or does not fit the operands.

    Examples:
        >>> a = nnlib.constant([[1., 2.], [3., 4.]])
        >>> nnlib.einsum("ij,jk->ik", a, a)
        nnlib.Tensor([[ 7. 10.]
                      [15. 22.]], shape=(2, 2), dtype=float32)
        >>> nnlib.einsum("ij->j", a)
        nnlib.Tensor([4. 6.], shape=(2,), dtype=float32)
    """
    if not isinstance(equation, str):
        raise TypeError(
            f"einsum: the first argument must be the equation string, "
            f"got {type(equation).__name__}"
        )
    tensors = [as_tensor(t) for t in operands]
    shapes = tuple(t.shape for t in tensors)
    _, _, spec, optimize = _parse_einsum(equation, shapes)
    return EINSUM(*tensors, equation=spec, optimize=optimize)
