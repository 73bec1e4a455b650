"""Tensor: construction, dtype rules, properties, conversions, operators, indexing."""

import operator

import numpy as np
import pytest

import nnlib


def _grad(f, x):
    """d sum(f(x)) / dx for a constant ``x``, through a tape."""
    x = nnlib.constant(x)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)


# --- construction and dtypes ----------------------------------------------------------


@pytest.mark.parametrize("value", [1.5, [1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]], [1, 2.5]])
def test_python_floats_and_nested_float_lists_become_float32(value):
    assert nnlib.constant(value).dtype == np.float32
    assert nnlib.convert_to_tensor(value).dtype == np.float32


def test_python_ints_become_int64_and_bools_bool():
    assert nnlib.constant([1, 2]).dtype == np.int64
    assert nnlib.constant(True).dtype == np.bool_


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.uint8])
def test_numpy_arrays_keep_their_dtype(dtype):
    array = np.arange(3).astype(dtype)
    assert nnlib.constant(array).dtype == dtype
    assert nnlib.convert_to_tensor(array).dtype == dtype


def test_numpy_float64_scalars_keep_float64():
    assert nnlib.constant(np.float64(1.0)).dtype == np.float64


@pytest.mark.parametrize("dtype", ["float64", np.float16, "int32"])
def test_dtype_argument_overrides_the_default(dtype):
    t = nnlib.constant([1.0, 2.0], dtype=dtype)
    assert t.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(t.numpy(), [1, 2])


def test_convert_to_tensor_returns_a_tensor_unchanged():
    t = nnlib.constant([1.0, 2.0])
    assert nnlib.convert_to_tensor(t) is t
    assert nnlib.convert_to_tensor(t, dtype="float32") is t


def test_convert_to_tensor_refuses_to_cast_a_tensor_silently():
    with pytest.raises(TypeError, match="cast"):
        nnlib.convert_to_tensor(nnlib.constant([1.0]), dtype="float64")


@pytest.mark.parametrize(
    "value", ["abc", ["a", "b"], [[1.0, 2.0], [3.0]], None, object()]
)
def test_strings_ragged_lists_and_objects_raise_type_error(value):
    with pytest.raises(TypeError):
        nnlib.constant(value)
    with pytest.raises(TypeError):
        nnlib.convert_to_tensor(value)


# --- properties and conversions -------------------------------------------------------


def test_shape_dtype_ndim_size():
    t = nnlib.constant(np.zeros((2, 3, 4), np.float32))
    assert (t.shape, t.dtype, t.ndim, t.size) == ((2, 3, 4), np.float32, 3, 24)
    s = nnlib.constant(5.0)
    assert (s.shape, s.ndim, s.size) == ((), 0, 1)


def test_numpy_and_array_protocol_give_the_values():
    values = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    t = nnlib.constant(values)
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(t.numpy(), values)
    np.testing.assert_array_equal(np.asarray(t), values)
    assert np.asarray(t).dtype == np.float32
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_repr_shows_values_shape_and_dtype():
    text = repr(nnlib.constant([[1.5, 2.0], [3.0, 4.0]]))
    assert "1.5" in text and "4." in text
    assert "shape=(2, 2)" in text
    assert "float32" in text
    assert "dtype=float64" in str(nnlib.constant([7.25], dtype="float64"))


def test_len_is_the_first_axis():
    assert len(nnlib.constant(np.zeros((3, 2)))) == 3
    with pytest.raises(TypeError, match="0-d"):
        len(nnlib.constant(1.0))


def test_iteration_walks_the_first_axis():
    t = nnlib.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    rows = list(t)
    assert len(rows) == 3
    assert all(isinstance(r, nnlib.Tensor) and r.shape == (2,) for r in rows)
    np.testing.assert_array_equal(rows[2].numpy(), [5.0, 6.0])
    with pytest.raises(TypeError):
        iter(nnlib.constant(1.0))


def test_iteration_is_differentiable():
    grad = _grad(lambda x: list(x)[1] * 5.0, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(grad.numpy(), [[0.0, 0.0], [5.0, 5.0]])


@pytest.mark.parametrize("value", [2.5, [2.5], [[2.5]]])
def test_one_element_tensors_convert_to_python_scalars(value):
    t = nnlib.constant(value)
    assert float(t) == 2.5
    assert int(t) == 2
    assert bool(t) is True
    assert bool(nnlib.constant([0.0])) is False


def test_converting_a_many_element_tensor_to_a_scalar_raises_clearly():
    t = nnlib.constant([1.0, 2.0])
    with pytest.raises(TypeError, match=r"one-element.*\(2,\)"):
        float(t)
    with pytest.raises(TypeError, match="one-element"):
        int(t)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    with pytest.raises(ValueError, match="ambiguous"):
        if t > 0.0:
            pass


def test_tensors_hash_by_identity():
    a, b = nnlib.constant([1.0]), nnlib.constant([1.0])
    assert len({a, b}) == 2
    assert {a: 1}[a] == 1


# --- operators ------------------------------------------------------------------------

_BINARY = [
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.floordiv,
    operator.mod,
    operator.pow,
]


@pytest.mark.parametrize("op", _BINARY, ids=lambda f: f.__name__)
def test_binary_operators_match_numpy_in_both_orders(op):
    a = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.25]], np.float32)
    b = np.array([2.0, 0.75, 1.5], np.float32)  # broadcasts against a
    if op is operator.pow:
        a = np.abs(a)
    expected = op(a, b)
    for result in (
        op(nnlib.constant(a), nnlib.constant(b)),  # tensor op tensor
        op(nnlib.constant(a), b),  # tensor op ndarray
        op(a, nnlib.constant(b)),
    ):  # ndarray op tensor
        assert isinstance(result, nnlib.Tensor)
        assert result.dtype == np.float32
        np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)


def test_floor_division_and_mod_follow_python_signs():
    a = nnlib.constant([7.0, -7.0, 7.0])
    np.testing.assert_array_equal((a // 2.0).numpy(), [3.0, -4.0, 3.0])
    np.testing.assert_array_equal((a % 3.0).numpy(), [1.0, 2.0, 1.0])
    np.testing.assert_array_equal((a % -3.0).numpy(), [-2.0, -1.0, -2.0])


def test_matmul_operator_in_both_orders():
    a = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    b = np.array([[0.0, 1.0], [5.0, -1.0]], np.float32)
    np.testing.assert_array_equal(
        (nnlib.constant(a) @ nnlib.constant(b)).numpy(), a @ b
    )
    np.testing.assert_array_equal((nnlib.constant(a) @ b).numpy(), a @ b)
    result = a @ nnlib.constant(b)
    assert isinstance(result, nnlib.Tensor)
    np.testing.assert_array_equal(result.numpy(), a @ b)


def test_reflected_scalar_operators():
    t = nnlib.constant([1.0, 2.0, 4.0])
    np.testing.assert_allclose((2.0 - t).numpy(), [1.0, 0.0, -2.0])
    np.testing.assert_allclose((2.0 / t).numpy(), [2.0, 1.0, 0.5])
    np.testing.assert_allclose((2.0**t).numpy(), [2.0, 4.0, 16.0])
    np.testing.assert_allclose((9.0 // t).numpy(), [9.0, 4.0, 2.0])
    np.testing.assert_allclose((9.0 % t).numpy(), [0.0, 1.0, 1.0])


def test_unary_minus():
    t = nnlib.constant([1.0, -2.0])
    np.testing.assert_array_equal((-t).numpy(), [-1.0, 2.0])
    np.testing.assert_array_equal(
        _grad(lambda x: -x, [1.0, -2.0]).numpy(), [-1.0, -1.0]
    )


@pytest.mark.skipif(
    not hasattr(nnlib, "abs"), reason="nnlib.abs is not implemented yet"
)
def test_abs_operator():
    t = nnlib.constant([-1.5, 2.0])
    np.testing.assert_array_equal(abs(t).numpy(), [1.5, 2.0])
    np.testing.assert_array_equal(_grad(abs, [-1.5, 2.0]).numpy(), [-1.0, 1.0])


@pytest.mark.parametrize(
    "op, expected",
    [
        (operator.lt, [True, False, False]),
        (operator.le, [True, True, False]),
        (operator.gt, [False, False, True]),
        (operator.ge, [False, True, True]),
        (operator.eq, [False, True, False]),
        (operator.ne, [True, False, True]),
    ],
)
def test_comparisons_give_boolean_tensors(op, expected):
    t = nnlib.constant([1.0, 2.0, 3.0])
    for result in (op(t, 2.0), op(t, nnlib.constant(2.0)), op(t, np.float32(2.0))):
        assert isinstance(result, nnlib.Tensor)
        assert result.dtype == np.bool_
        assert result.numpy().tolist() == expected


def test_comparisons_are_not_differentiable():
    x = nnlib.constant([1.0, 3.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.cast(x > 2.0, "float32") * 3.0
    with pytest.warns(UserWarning, match="non-differentiable op 'greater'"):
        assert tape.gradient(y, x) is None


# --- dtype promotion ------------------------------------------------------------------


def test_python_scalars_are_weakly_typed():
    t = nnlib.constant([1.0, 2.0])
    for result in (t * 2.5, 2.5 * t, t + 1, 1 - t, t / 3, t**2, 2**t):
        assert result.dtype == np.float32
    assert (nnlib.constant([1, 2]) * 2).dtype == np.int64
    assert (nnlib.constant([1.0], dtype="float64") * 2.5).dtype == np.float64


def test_float64_arrays_promote_float32_tensors_as_numpy_does():
    t = nnlib.constant([1.0, 2.0])
    a = np.array([0.5, 0.25])
    assert (t + a).dtype == np.float64
    assert (a + t).dtype == np.float64
    assert isinstance(a + t, nnlib.Tensor)
    assert (t + a.astype(np.float32)).dtype == np.float32


def test_gradient_through_an_ndarray_operand_on_the_left():
    grad = _grad(lambda x: np.array([2.0, 3.0], np.float32) * x, [1.0, 1.0])
    assert grad.dtype == np.float32
    np.testing.assert_array_equal(grad.numpy(), [2.0, 3.0])


def test_bad_shapes_name_the_op_and_both_shapes():
    a, b = nnlib.constant(np.ones((2, 3))), nnlib.constant(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4, 5\)"):
        a + b
    with pytest.raises(ValueError, match=r"multiply.*\(2, 3\).*\(4, 5\)"):
        a * b
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        a @ b


# --- indexing -------------------------------------------------------------------------

_M = np.arange(12, dtype=np.float32).reshape(3, 4)


@pytest.mark.parametrize(
    "key",
    [
        1,
        -1,
        slice(1, None),
        (slice(None), 2),
        (Ellipsis, None, 1),
        (slice(None, None, -1), slice(0, 4, 2)),
    ],
    ids=["int", "negative", "slice", "column", "ellipsis-newaxis", "steps"],
)
def test_basic_indexing_matches_numpy(key):
    np.testing.assert_array_equal(nnlib.constant(_M)[key].numpy(), _M[key])


def test_slice_gradient_places_the_upstream_gradient():
    x = nnlib.constant(_M)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x[1:, ::2]
    dy = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    grad = tape.gradient(y, x, output_gradients=dy)
    expected = np.zeros((3, 4), np.float32)
    expected[1:, ::2] = dy
    np.testing.assert_array_equal(grad.numpy(), expected)


def test_boolean_mask_indexing_and_its_gradient():
    x = nnlib.constant([1.0, 5.0, 2.0, 7.0])
    np.testing.assert_array_equal(x[x > 1.5].numpy(), [5.0, 2.0, 7.0])
    grad = _grad(
        lambda t: t[t > 1.5] * nnlib.constant([1.0, 2.0, 3.0]), [1.0, 5.0, 2.0, 7.0]
    )
    np.testing.assert_array_equal(grad.numpy(), [0.0, 1.0, 2.0, 3.0])


def test_integer_array_indexing_accumulates_repeated_indices():
    x = nnlib.constant([10.0, 20.0, 30.0])
    np.testing.assert_array_equal(x[[2, 0, 2]].numpy(), [30.0, 10.0, 30.0])
    np.testing.assert_array_equal(x[nnlib.constant([1, 1])].numpy(), [20.0, 20.0])
    grad = _grad(lambda t: t[[0, 0, 2, 0]], [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(grad.numpy(), [3.0, 0.0, 1.0])


def test_out_of_range_index_raises_index_error_naming_the_shape():
    with pytest.raises(IndexError, match=r"\(3, 4\)"):
        nnlib.constant(_M)[5]
