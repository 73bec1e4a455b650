"""Linear algebra: matmul, tensordot, einsum and norm against numpy, and gradients."""

import gc
import weakref

import numpy as np
import pytest

import nnlib
from nnlib.test_util import check_gradients


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, shape)


@pytest.mark.parametrize(
    "shapes, flags",
    [
        (((3, 4), (4, 2)), {}),
        (((4, 3), (2, 4)), {"transpose_a": True, "transpose_b": True}),
        (((2, 3, 4), (2, 5, 4)), {"transpose_b": True}),
        (((4,), (4, 3)), {}),
        (((2, 4), (4,)), {}),
    ],
)
def test_matmul_matches_numpy(shapes, flags):
    a, b = _rand(*shapes[0]), _rand(*shapes[1], seed=1)
    ta = np.swapaxes(a, -1, -2) if flags.get("transpose_a") else a
    tb = np.swapaxes(b, -1, -2) if flags.get("transpose_b") else b
    np.testing.assert_allclose(nnlib.matmul(a, b, **flags).numpy(), ta @ tb)
    check_gradients(lambda x, y: nnlib.matmul(x, y, **flags), a, b, order=2)


def test_matmul_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(2, 3\)"):
        nnlib.matmul(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="matmul: operands must have rank >= 1"):
        nnlib.matmul(2.0, np.ones((2, 3)))


_TENSORDOTS = [
    ((3, 4), (4, 5), 1),
    ((2, 3, 4), (3, 4, 5), 2),
    ((3,), (2, 2), 0),
    ((2, 3, 4), (4, 3, 2), ([1, 2], [1, 0])),
    ((2, 3, 4), (4, 2), ([-1, 0], [0, 1])),
    ((3, 4), (5, 3), (0, 1)),
]


@pytest.mark.parametrize("sa, sb, axes", _TENSORDOTS)
def test_tensordot_matches_numpy_and_differentiates(sa, sb, axes):
    a, b = _rand(*sa), _rand(*sb, seed=1)
    got = nnlib.tensordot(a, b, axes)
    np.testing.assert_allclose(got.numpy(), np.tensordot(a, b, axes), rtol=1e-12)
    check_gradients(lambda x, y: nnlib.tensordot(x, y, axes), a, b, order=2)


@pytest.mark.parametrize(
    "axes, message",
    [
        (3, "axes=3 is out of range"),
        (([0], [0]), "cannot contract"),
        (([0, 1], [0]), "cannot contract"),
        (([2], [0]), "out of range"),
        (([0, 0], [1, 1]), "repeated"),
        ("x", "axes must be an int or a pair"),
    ],
)
def test_tensordot_errors(axes, message):
    with pytest.raises(ValueError, match="tensordot: .*" + message):
        nnlib.tensordot(np.ones((2, 3)), np.ones((3, 4)), axes)


_EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("i,i->", [(5,), (5,)]),
    ("ij->ji", [(3, 4)]),
    ("bi,bj->bij", [(2, 3), (2, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit: output 'ik'
    ("ba", [(2, 3)]),  # implicit: a transpose
    ("ij->", [(3, 4)]),
    ("ij,jk->i", [(2, 3), (3, 4)]),  # k summed in one operand only
    ("i,j->", [(2,), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,jk", [(2, 1, 2, 3), (3, 2)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # length-1 axes broadcast
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),
    ("ij,jk->ik", [(40, 40), (40, 40)]),  # large enough for numpy's path optimizer
]


@pytest.mark.parametrize("equation, shapes", _EINSUMS)
def test_einsum_matches_numpy(equation, shapes):
    operands = [_rand(*s, seed=i) for i, s in enumerate(shapes)]
    got = nnlib.einsum(equation, *operands)
    want = np.einsum(equation, *operands)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("equation, shapes", _EINSUMS[:-1])
def test_einsum_gradients(equation, shapes):
    operands = [_rand(*s, seed=i) for i, s in enumerate(shapes)]
    check_gradients(lambda *ts: nnlib.einsum(equation, *ts), *operands, order=2)


def test_einsum_keeps_float32_and_casts_mixed_gradients():
    a = nnlib.constant(np.ones((2, 3), np.float32))
    b = nnlib.constant(np.ones((3,), np.float64))
    assert nnlib.einsum("ij,jk", a, a.T).dtype == np.float32
    with nnlib.GradientTape() as tape:
        tape.watch([a, b])
        y = nnlib.einsum("ij,j->i", a, b)
    da, db = tape.gradient(y, [a, b])
    assert (da.dtype, db.dtype) == (np.float32, np.float64)


@pytest.mark.parametrize(
    "equation, shapes, message",
    [
        ("ii->i", [(3, 3)], "repeated index"),
        ("ij,jk->ik", [(2, 3)], "2 operand subscripts but 1 operands"),
        ("ij,jk->ik", [(2, 3), (4, 5)], "index 'j' has sizes 3 and 4"),
        ("ijk", [(2, 3)], "do not fit operand 0"),
        ("ij->ik", [(2, 3)], "output subscripts 'ik'"),
        ("ij->ii", [(2, 3)], "output subscripts 'ii'"),
        ("i1->i", [(2, 3)], "do not fit"),
    ],
)
def test_einsum_errors(equation, shapes, message):
    with pytest.raises(ValueError, match="einsum: .*" + message):
        nnlib.einsum(equation, *[np.ones(s) for s in shapes])


def test_einsum_needs_an_equation_first():
    with pytest.raises(TypeError, match="einsum: the first argument"):
        nnlib.einsum(np.ones(3), np.ones(3))


_NORMS = [
    ("euclidean", None),
    (2, None),
    (1, None),
    (np.inf, None),
    ("fro", None),
    ("euclidean", 1),
    (1, -1),
    (np.inf, 0),
    (2, (2,)),
    ("fro", (0, 2)),
    ("euclidean", (1, 2)),
    (1, (1, 2)),
    (np.inf, (1, 2)),
    (1, (2, 0)),
    (np.inf, (-1, -2)),
]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ord, axis", _NORMS)
def test_norm_matches_numpy(ord, axis, keepdims):
    x = _rand(2, 3, 4)
    got = nnlib.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    np_ord = None if ord == "euclidean" else ord
    if axis is None:
        want = np.linalg.norm(x.ravel(), None if ord == "fro" else np_ord)
        want = np.reshape(want, (1, 1, 1)) if keepdims else want
    else:
        want = np.linalg.norm(x, np_ord, axis=axis, keepdims=keepdims)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    check_gradients(lambda t: nnlib.norm(t, ord, axis, keepdims), x, order=2)


def _norm_gradient(x, **kwargs):
    x = nnlib.constant(x)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.norm(x, **kwargs)
    return tape.gradient(y, x).numpy()


def test_euclidean_norm_gradient_at_zero_is_zero_not_nan():
    np.testing.assert_array_equal(_norm_gradient(np.zeros((2, 3))), 0.0)
    grad = _norm_gradient(np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 4.0]]), axis=1)
    np.testing.assert_allclose(grad, [[0.0, 0.0, 0.0], [0.6, 0.0, 0.8]])
    # the 1-norm's |x| has subgradient 0 at 0
    np.testing.assert_array_equal(_norm_gradient(np.array([0.0, -2.0]), ord=1), [0, -1])


@pytest.mark.parametrize(
    "ord, axis, message",
    [
        (2, (0, 1), "spectral"),
        ("fro", 1, "unsupported ord 'fro'"),
        (3, None, "unsupported ord 3"),
        ("euclidean", (0, 1, 2), "axis must be None, an int or a pair"),
        ("euclidean", 3, "norm: axis 3 is out of range"),
    ],
)
def test_norm_errors(ord, axis, message):
    with pytest.raises(ValueError, match=message):
        nnlib.norm(np.ones((2, 3, 4)), ord=ord, axis=axis)


@pytest.mark.parametrize("ord, axis", [(1, None), (np.inf, 0), (1, (0, 1))])
def test_norm_sees_a_variables_new_value_after_assign(ord, axis):
    v = nnlib.Variable([[1.0, -2.0], [3.0, 4.0]])
    before = nnlib.norm(v, ord=ord, axis=axis).numpy()
    v.assign(10.0 * v.numpy())
    after = nnlib.norm(v, ord=ord, axis=axis).numpy()
    np.testing.assert_allclose(after, 10.0 * before)
    flat = v.numpy().ravel() if axis is None else v.numpy()
    np.testing.assert_allclose(after, np.linalg.norm(flat, ord, axis))


def test_norm_gives_a_gradient_on_every_tape_not_only_the_first():
    v = nnlib.Variable([[1.0, -2.0], [3.0, 4.0]])
    nnlib.norm(v, ord=1)  # an untaped call first, as a metric or a log line makes
    for _ in range(2):
        with nnlib.GradientTape() as tape:
            y = nnlib.norm(v, ord=1, axis=(0, 1))  # max column sum: column 1
        np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [[0, -1], [0, 1]])


def test_norm_keeps_no_input_alive():
    x = nnlib.constant(np.ones((256, 256)))
    dead = weakref.ref(x)
    for ord, axis in [(1, None), (np.inf, 1), (1, (0, 1)), (np.inf, (0, 1))]:
        nnlib.norm(x, ord=ord, axis=axis)
    del x
    gc.collect()
    assert dead() is None
