"""embedding_lookup against numpy indexing, a scatter-add loop and torch."""

import numpy as np
import pytest

import nnlib
from nnlib.test_util import check_gradients


def _table(*shape, dtype=np.float32):
    return np.random.default_rng(0).uniform(-1, 1, shape).astype(dtype)


def _param_gradient(params, ids, dy, outer_tape=False):
    p = nnlib.constant(params)

    def run():
        with nnlib.GradientTape() as tape:
            tape.watch(p)
            y = nnlib.embedding_lookup(p, ids)
        return tape.gradient(y, p, output_gradients=dy)

    if outer_tape:  # the rule then runs on Tensors
        with nnlib.GradientTape():
            return run().numpy()
    return run().numpy()


@pytest.mark.parametrize(
    "params_shape, ids",
    [((5, 3), [4, 0, 4]), ((5, 3), [[1, 2], [2, 0]]), ((5,), [[3]]), ((4, 2, 3), 2)],
)
def test_lookup_matches_numpy_indexing(params_shape, ids):
    params = _table(*params_shape)
    y = nnlib.embedding_lookup(params, ids)
    expected = params[np.asarray(ids)]
    assert y.shape == np.shape(ids) + params_shape[1:] and y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), expected)


def test_ids_may_be_integer_tensors_of_any_integer_dtype():
    params = _table(6, 2)
    for ids in (nnlib.constant([5, 1]), np.array([5, 1], np.uint8), np.int32(5)):
        np.testing.assert_array_equal(
            nnlib.embedding_lookup(params, ids).numpy(), params[np.asarray(ids)]
        )


@pytest.mark.parametrize("outer_tape", [False, True])
def test_gradient_adds_the_rows_of_repeated_ids(outer_tape):
    params = _table(5, 3, dtype=np.float64)
    ids = np.array([[4, 0, 4], [4, 2, 0]])
    dy = np.random.default_rng(1).standard_normal((2, 3, 3))
    expected = np.zeros_like(params)
    for index in np.ndindex(ids.shape):
        expected[ids[index]] += dy[index]
    got = _param_gradient(params, ids, dy, outer_tape)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[1].tolist() == [0.0, 0.0, 0.0] and got[3].tolist() == [0.0] * 3


@pytest.mark.parametrize("flat_limit", [None, 0])
def test_gradient_of_small_integer_ids_and_of_the_row_wise_path(
    flat_limit, monkeypatch
):
    if flat_limit is not None:  # large gradients scatter whole rows instead
        monkeypatch.setattr(nnlib.engine.indexed_slices, "_FLAT_LIMIT", flat_limit)
    params = _table(300, 2, 2, dtype=np.float64)
    # With uint8 ids the flat index 255 * 4 + column would overflow.
    ids = np.array([255, 7, 255], np.uint8 if flat_limit is None else np.int64)
    dy = np.random.default_rng(3).standard_normal((3, 2, 2))
    got = _param_gradient(params, ids, dy)
    expected = np.zeros_like(params)
    expected[255], expected[7] = dy[0] + dy[2], dy[1]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_gradients_match_finite_differences_to_second_order():
    ids = np.array([[1, 3], [3, 3]])
    # order 1 runs the rule on arrays, order 2 on Tensors (scatter_add -> gather).
    check_gradients(lambda p: nnlib.embedding_lookup(p, ids), _table(4, 2), order=2)
    check_gradients(
        lambda p: nnlib.embedding_lookup(p, ids) ** 3, _table(4, 2), order=2
    )


def test_empty_ids_give_an_empty_result_and_a_zero_gradient():
    params = _table(3, 2)
    ids = np.zeros((0,), np.int64)
    assert nnlib.embedding_lookup(params, ids).shape == (0, 2)
    got = _param_gradient(params, ids, np.zeros((0, 2), np.float32))
    np.testing.assert_array_equal(got, np.zeros((3, 2)))


@pytest.mark.parametrize("bad", [10, 12, -1])
def test_out_of_range_ids_name_the_id_and_the_vocabulary_size(bad):
    with pytest.raises(IndexError, match=rf"id {bad} .*vocabulary of size 10"):
        nnlib.embedding_lookup(_table(10, 2), [[0, 9], [bad, 1]])


def test_non_integer_ids_and_scalar_params_are_rejected():
    with pytest.raises(TypeError, match="ids must be integers, got float32"):
        nnlib.embedding_lookup(_table(4, 2), nnlib.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="ids must be integers, got bool"):
        nnlib.embedding_lookup(_table(4, 2), [True, False])
    with pytest.raises(ValueError, match="rank >= 1"):
        nnlib.embedding_lookup(3.0, [0])


def test_matches_torch_embedding_and_its_gradient():
    torch = pytest.importorskip("torch")
    params = _table(7, 4, dtype=np.float64)
    ids = np.array([[6, 0, 6], [2, 6, 0]])
    dy = np.random.default_rng(2).standard_normal((2, 3, 4))
    weight = torch.tensor(params, requires_grad=True)
    y = torch.nn.functional.embedding(torch.tensor(ids), weight)
    (want,) = torch.autograd.grad(y, [weight], torch.tensor(dy))
    got_y = nnlib.embedding_lookup(params, ids).numpy()
    np.testing.assert_allclose(got_y, y.detach().numpy(), rtol=1e-12)
    got = _param_gradient(params, ids, dy)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-5)
