"""Embedding: lookups against numpy, gradients of repeated ids, the mask, errors."""

import numpy as np
import pytest

import nnlib
from nnlib.layers import Dense, Embedding, Flatten


def test_lookup_picks_rows_for_ids_of_any_shape_and_integer_dtype():
    emb = Embedding(7, 3)
    ids = np.array([[1, 6, 0], [6, 6, 2]])
    out = emb(ids)
    table = emb.embeddings.numpy()
    assert out.shape == (2, 3, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), table[ids])
    for dtype in (np.int32, np.uint8, np.int64):
        np.testing.assert_array_equal(emb(ids.astype(dtype)).numpy(), table[ids])
    np.testing.assert_array_equal(emb([3, 4]).numpy(), table[[3, 4]])
    np.testing.assert_array_equal(emb(np.array(5)).numpy(), table[5])
    np.testing.assert_array_equal(emb(nnlib.constant([[2]])).numpy(), table[[[2]]])


def test_float64_layer_gives_float64_vectors():
    emb = Embedding(4, 2, dtype="float64")
    assert emb(np.array([1, 2])).dtype == np.float64


def test_default_initializer_is_keras_uniform():
    emb = Embedding(500, 40)
    emb(np.array([0]))
    table = emb.embeddings.numpy()
    assert table.shape == (500, 40)
    assert table.min() >= -0.05 and table.max() < 0.05 and table.std() > 0.02
    assert emb.get_config()["embeddings_initializer"] == {
        "class_name": "RandomUniform",
        "config": {"minval": -0.05, "maxval": 0.05, "seed": None},
    }


def test_gradients_of_repeated_ids_add_up():
    rng = np.random.default_rng(0)
    emb = Embedding(5, 3, dtype="float64")
    ids = np.array([[0, 3, 3], [3, 1, 0]])
    w = rng.normal(size=(2, 3, 3))
    _, grads = nnlib.implicit_value_and_gradients(
        lambda: nnlib.reduce_sum(emb(ids) * w)
    )()
    [(grad, variable)] = grads
    assert variable is emb.embeddings
    expected = np.zeros((5, 3))
    np.add.at(expected, ids, w)
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-12)
    assert not expected[[2, 4]].any() and np.allclose(
        expected[3], w[0, 1] + w[0, 2] + w[1, 0]
    )


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    emb = Embedding(4, 2, dtype="float64")
    ids = np.array([2, 2, 0, 3, 2])
    dy = rng.normal(size=(5, 2))
    with nnlib.GradientTape() as tape:
        y = emb(ids)
    grad = tape.gradient(y, emb.embeddings, output_gradients=dy).numpy()
    base, eps = emb.embeddings.numpy().copy(), 1e-6
    numeric = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        sums = []
        for step in (eps, -eps):
            value = base.copy()
            value[index] += step
            emb.embeddings.assign(value)
            sums.append(float(np.sum(emb(ids).numpy() * dy)))
        numeric[index] = (sums[0] - sums[1]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)


def test_mask_zero_masks_padding_ids():
    ids = np.array([[5, 2, 0, 0], [1, 0, 3, 0]])
    emb = Embedding(6, 2, mask_zero=True)
    emb(ids)
    mask = emb.compute_mask(ids)
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask.numpy(), ids != 0)
    assert Embedding(6, 2).compute_mask(ids) is None


def test_bad_ids_raise_naming_the_layer_the_id_and_the_vocabulary():
    emb = Embedding(10, 2, name="emb_ids")
    with pytest.raises(TypeError, match=r"'emb_ids'.*ids must be integers.*float"):
        emb(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"'emb_ids'.*integers"):
        emb([[1.0]])
    with pytest.raises(TypeError, match=r"'emb_ids'.*integers"):
        emb(np.array([True]))
    with pytest.raises(IndexError, match=r"'emb_ids'.*id 10 .*vocabulary of size 10"):
        emb(np.array([[3, 10]]))
    with pytest.raises(IndexError, match=r"'emb_ids'.*id -1 .*vocabulary of size 10"):
        emb(np.array([-1, 2]))
    assert len(emb.variables) == 1  # the failed calls built once, then checked


def test_bad_hyperparameters_raise_at_construction():
    for args in ((0, 2), (3, -1), (2.5, 3)):
        with pytest.raises(ValueError, match=r"Embedding: (input|output)_dim must be"):
            Embedding(*args)
    with pytest.raises(ValueError, match="Embedding: input_length must be"):
        Embedding(3, 2, input_length=0)
    with pytest.raises(ValueError, match="unknown initializer"):
        Embedding(3, 2, embeddings_initializer="unifrom")


def test_input_length_is_checked():
    emb = Embedding(5, 2, input_length=3, name="emb_len")
    assert emb(np.zeros((2, 3), np.int64)).shape == (2, 3, 2)
    with pytest.raises(ValueError, match=r"'emb_len'.*input_length=3.*\(2, 4\)"):
        emb(np.zeros((2, 4), np.int64))


def test_config_round_trip_and_regularizer():
    emb = Embedding(
        8,
        3,
        embeddings_initializer="he_normal",
        embeddings_regularizer="l2",
        mask_zero=True,
        input_length=4,
        name="cfg_emb",
    )
    clone = Embedding.from_config(emb.get_config())
    assert clone.get_config() == {**emb.get_config(), "name": clone.name}
    assert (clone.input_dim, clone.output_dim, clone.mask_zero, clone.input_length) == (
        8,
        3,
        True,
        4,
    )
    clone(np.zeros((1, 4), np.int64))
    assert len(clone.losses) == 1


def test_embedding_in_a_sequential_model_trains():
    model = nnlib.Sequential([Embedding(6, 4), Flatten(), Dense(1)])
    ids = np.array([[1, 2, 3], [4, 5, 0]])
    model(ids)
    _, grads = nnlib.implicit_value_and_gradients(
        lambda: nnlib.reduce_sum(model(ids))
    )()
    assert [v.name.split("/")[-1] for _, v in grads] == ["embeddings", "kernel", "bias"]


def test_sequential_with_an_embedding_first_builds_from_input_shape():
    model = nnlib.Sequential([Embedding(6, 4, input_shape=(3,)), Flatten()])
    assert model.count_params() == 24
