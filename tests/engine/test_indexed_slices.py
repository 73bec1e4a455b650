"""IndexedSlices: sparse gradients of embedding_lookup and gather, as TensorFlow's."""

import warnings

import numpy as np
import pytest

import nnlib
from nnlib.engine import indexed_slices


def _table(rows=6, cols=3, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((rows, cols)).astype(dtype)


def _scatter(shape, ids, dy):
    """The dense gradient by a plain loop: repeated ids add their rows."""
    dense = np.zeros(shape, dy.dtype)
    ids = np.asarray(ids)
    rows = dy.reshape((ids.size,) + tuple(shape[1:]))
    for k, i in enumerate(ids.reshape(-1)):
        dense[i] += rows[k]
    return dense


# -- where IndexedSlices come from -------------------------------------------------


def test_the_gradient_of_an_embedding_lookup_is_indexed_slices():
    v = nnlib.Variable(_table(), name="emb")
    ids = np.array([[4, 0], [4, 2]])
    dy = np.random.default_rng(1).standard_normal((2, 2, 3)).astype(np.float32)
    with nnlib.GradientTape() as tape:
        y = nnlib.embedding_lookup(v, ids)
    grad = tape.gradient(y, v, output_gradients=dy)
    assert isinstance(grad, nnlib.IndexedSlices)
    assert grad.dense_shape == (6, 3) and grad.shape == (6, 3)
    assert grad.dtype == np.float32
    assert isinstance(grad.values, nnlib.Tensor)
    assert isinstance(grad.indices, nnlib.Tensor)
    np.testing.assert_array_equal(grad.indices.numpy(), [4, 0, 4, 2])
    np.testing.assert_array_equal(grad.values.numpy(), dy.reshape(4, 3))
    np.testing.assert_allclose(grad.numpy(), _scatter((6, 3), ids, dy))


def test_gather_along_axis_0_gives_indexed_slices_and_other_axes_dense():
    v = nnlib.Variable(_table(), name="g")
    with nnlib.GradientTape(persistent=True) as tape:
        rows = nnlib.gather(v, [5, 1, 5])
        cols = nnlib.gather(v, [2, 0], axis=1)
    grad = tape.gradient(rows, v)
    assert isinstance(grad, nnlib.IndexedSlices)
    np.testing.assert_array_equal(grad.indices.numpy(), [5, 1, 5])
    expected = np.zeros((6, 3), np.float32)
    expected[5], expected[1] = 2.0, 1.0
    np.testing.assert_array_equal(nnlib.convert_to_tensor(grad).numpy(), expected)
    dense = tape.gradient(cols, v)
    assert type(dense) is nnlib.Tensor


def test_gradient_functions_return_indexed_slices():
    v = nnlib.Variable(_table(), name="emb_fn")

    def loss(ids):
        return nnlib.reduce_sum(nnlib.embedding_lookup(v, ids))

    [(grad, var)] = nnlib.implicit_gradients(loss)(np.array([1, 3, 1]))
    assert var is v and isinstance(grad, nnlib.IndexedSlices)
    [grad] = nnlib.gradients_function(
        lambda p: nnlib.reduce_sum(nnlib.gather(p, [2, 2]))
    )(_table())
    assert isinstance(grad, nnlib.IndexedSlices)
    np.testing.assert_array_equal(np.asarray(grad)[2], [2.0, 2.0, 2.0])


def test_the_gradient_of_a_watched_tensor_is_sparse_too():
    p = nnlib.constant(_table())
    with nnlib.GradientTape() as tape:
        tape.watch(p)
        y = nnlib.embedding_lookup(p, [0, 5])
    assert isinstance(tape.gradient(y, p), nnlib.IndexedSlices)


# -- densifying --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_convert_to_tensor_and_asarray_densify_keeping_the_dtype(dtype):
    values = np.arange(6, dtype=dtype).reshape(3, 2)
    slices = nnlib.IndexedSlices(values, [2, 0, 2], (4, 2))
    expected = np.array([[2, 3], [0, 0], [4 + 0, 5 + 1], [0, 0]], dtype)
    dense = nnlib.convert_to_tensor(slices)
    assert type(dense) is nnlib.Tensor and dense.dtype == dtype
    np.testing.assert_array_equal(dense.numpy(), expected)
    np.testing.assert_array_equal(np.asarray(slices), expected)
    assert np.asarray(slices).dtype == dtype
    assert np.asarray(slices, np.float64).dtype == np.float64
    np.testing.assert_array_equal(slices.numpy(), expected)
    # nnlib ops take it as they take any array (densified).
    np.testing.assert_array_equal(nnlib.multiply(slices, 2.0).numpy(), 2 * expected)
    assert nnlib.multiply(slices, 2.0).dtype == dtype


def test_convert_to_tensor_with_a_dtype_casts_as_for_arrays():
    slices = nnlib.IndexedSlices(np.ones((1, 2), np.float32), [0], (3, 2))
    assert nnlib.convert_to_tensor(slices, np.float64).dtype == np.float64


def test_densifying_a_large_one_warns(monkeypatch):
    slices = nnlib.IndexedSlices(np.ones((1, 4), np.float32), [0], (50, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nnlib.convert_to_tensor(slices)  # 200 elements: silent
    monkeypatch.setattr(indexed_slices, "LARGE_DENSE_SIZE", 100)
    with pytest.warns(UserWarning, match=r"\(50, 4\).*200 elements"):
        nnlib.convert_to_tensor(slices)
    with pytest.warns(UserWarning, match="memory"):
        np.asarray(slices)


# -- accumulation ------------------------------------------------------------------


def test_two_lookups_of_one_variable_concatenate():
    v = nnlib.Variable(_table(), name="twice")
    with nnlib.GradientTape() as tape:
        a = nnlib.embedding_lookup(v, [1, 2])
        b = nnlib.gather(v, [[2], [5]])
        y = nnlib.reduce_sum(a * 2.0) + nnlib.reduce_sum(b * 3.0)
    grad = tape.gradient(y, v)
    assert isinstance(grad, nnlib.IndexedSlices)
    assert sorted(grad.indices.numpy().tolist()) == [1, 2, 2, 5]
    expected = np.zeros((6, 3), np.float32)
    expected[1], expected[2], expected[5] = 2.0, 5.0, 3.0
    np.testing.assert_array_equal(grad.numpy(), expected)


@pytest.mark.parametrize("dense_first", [True, False])
def test_sparse_plus_dense_gives_a_dense_gradient(dense_first):
    table = _table(dtype=np.float64)
    v = nnlib.Variable(table, name="mixed")
    with nnlib.GradientTape() as tape:
        if dense_first:
            y = nnlib.reduce_sum(v * v) + nnlib.reduce_sum(
                nnlib.embedding_lookup(v, [3, 3])
            )
        else:
            y = nnlib.reduce_sum(nnlib.embedding_lookup(v, [3, 3])) + nnlib.reduce_sum(
                v * v
            )
    grad = tape.gradient(y, v)
    assert type(grad) is nnlib.Tensor and grad.dtype == np.float64
    expected = 2 * table
    expected[3] += 2.0
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-15)


def test_a_gradient_that_flows_on_through_other_ops_is_densified():
    table = _table()
    v = nnlib.Variable(table, name="through")
    with nnlib.GradientTape() as tape:
        y = nnlib.reduce_sum(nnlib.embedding_lookup(nnlib.tanh(v), [0, 0, 4]))
    grad = tape.gradient(y, v)
    assert type(grad) is nnlib.Tensor
    expected = np.zeros_like(table)
    expected[0], expected[4] = 2.0, 1.0
    np.testing.assert_allclose(
        grad.numpy(), expected * (1 - np.tanh(table) ** 2), rtol=1e-6
    )


def test_rules_after_the_lookup_get_dense_gradients():
    seen = []

    @nnlib.custom_gradient
    def identity(x):
        def grad(dy):
            seen.append(type(dy._value))
            return dy

        return x * 1.0, grad

    v = nnlib.Variable(_table(), name="through_custom")
    with nnlib.GradientTape() as tape:
        y = nnlib.reduce_sum(nnlib.gather(identity(v), [5, 5]))
    grad = tape.gradient(y, v)
    assert seen == [np.ndarray] and type(grad) is nnlib.Tensor
    expected = np.zeros((6, 3), np.float32)
    expected[5] = 2.0
    np.testing.assert_array_equal(grad.numpy(), expected)


def test_a_source_that_is_also_an_intermediate_gets_both_gradients():
    table = _table()
    v = nnlib.Variable(table, name="inner_source")
    with nnlib.GradientTape() as tape:
        t = v * 2.0
        y = nnlib.reduce_sum(nnlib.gather(t, [1, 1, 0]))
    grad_t, grad_v = tape.gradient(y, [t, v])
    assert isinstance(grad_t, nnlib.IndexedSlices)
    expected = np.zeros_like(table)
    expected[1], expected[0] = 2.0, 1.0
    np.testing.assert_array_equal(grad_t.numpy(), expected)
    np.testing.assert_array_equal(np.asarray(grad_v), 2 * expected)


def test_unconnected_zero_and_jacobian_still_work():
    v = nnlib.Variable(_table(3, 2), name="jac")
    w = nnlib.Variable(_table(2, 2), name="unused")
    with nnlib.GradientTape(persistent=True) as tape:
        y = nnlib.embedding_lookup(v, [2, 0, 2])
    _, zeros = tape.gradient(y, [v, w], unconnected_gradients="zero")
    assert type(zeros) is nnlib.Tensor and not zeros.numpy().any()
    jac = tape.jacobian(y, v).numpy()
    assert jac.shape == (3, 2, 3, 2)
    assert jac[0, 1, 2, 1] == 1.0 and jac[2, 0, 2, 0] == 1.0 and jac.sum() == 6.0


# -- higher order ------------------------------------------------------------------


def test_second_order_through_a_lookup():
    ids = np.array([1, 3, 1])
    table = _table(5, 2, dtype=np.float64)

    def f(p):
        rows = nnlib.embedding_lookup(p, ids)
        return nnlib.reduce_sum(rows * rows * rows)

    [hess_diag_sum] = nnlib.gradients_function(
        lambda p: nnlib.reduce_sum(nnlib.gradients_function(f)(p)[0])
    )(table)
    counts = np.bincount(ids, minlength=5)[:, None]
    np.testing.assert_allclose(
        np.asarray(hess_diag_sum), 6 * counts * table, rtol=1e-12
    )


def test_an_outer_tape_gets_a_dense_recorded_gradient():
    v = nnlib.Variable(_table(4, 2, dtype=np.float64), name="outer")
    with nnlib.GradientTape() as outer:
        with nnlib.GradientTape() as inner:
            y = nnlib.reduce_sum(nnlib.embedding_lookup(v, [0, 2]) ** 2)
        grad = inner.gradient(y, v)
        assert type(grad) is nnlib.Tensor  # densified: the outer tape records it
        z = nnlib.reduce_sum(grad * grad)
    second = outer.gradient(z, v)
    expected = np.zeros((4, 2))
    expected[[0, 2]] = 8 * v.numpy()[[0, 2]]
    np.testing.assert_allclose(np.asarray(second), expected, rtol=1e-12)


def test_custom_gradient_may_return_indexed_slices():
    v = nnlib.Variable(_table(4, 2), name="custom")

    @nnlib.custom_gradient
    def first_row_sum(p):
        def grad(dy):  # float64 rows: the tape casts them to the source's dtype
            values = np.broadcast_to(np.asarray(dy, np.float64), (1, 2))
            return nnlib.IndexedSlices(values, [0], p.shape)

        return nnlib.reduce_sum(p[0]), grad

    with nnlib.GradientTape() as tape:
        y = first_row_sum(v)
    grad = tape.gradient(y, v)
    assert isinstance(grad, nnlib.IndexedSlices)
    assert grad.dtype == np.float32 and grad.values.dtype == np.float32
    np.testing.assert_array_equal(grad.numpy()[0], [1.0, 1.0])


# -- the class ---------------------------------------------------------------------


def test_the_constructor_checks_its_parts():
    with pytest.raises(TypeError, match="indices must be integers"):
        nnlib.IndexedSlices(np.ones((2, 3)), [0.0, 1.0], (4, 3))
    with pytest.raises(ValueError, match=r"indices must be 1-D.*\(1, 2\)"):
        nnlib.IndexedSlices(np.ones((2, 3)), [[0, 1]], (4, 3))
    with pytest.raises(ValueError, match=r"values of shape \(2, 3\).*3 indices"):
        nnlib.IndexedSlices(np.ones((2, 3)), [0, 1, 2], (4, 3))
    with pytest.raises(ValueError, match=r"\(2, 3\).*dense_shape \(4, 2\)"):
        nnlib.IndexedSlices(np.ones((2, 3)), [0, 1], (4, 2))
    with pytest.raises(ValueError, match="rank >= 1"):
        nnlib.IndexedSlices(np.ones(0), np.zeros(0, int), ())


def test_repr_names_the_parts():
    slices = nnlib.IndexedSlices(np.ones((2, 3), np.float32), [4, 0], (5, 3))
    text = repr(slices)
    assert text.startswith("nnlib.IndexedSlices(")
    assert "indices=[4 0]" in text and "dense_shape=(5, 3)" in text
    assert "float32" in text


def test_exported():
    assert nnlib.IndexedSlices is nnlib.engine.IndexedSlices
    assert "IndexedSlices" in nnlib.__all__
