"""Optimizers applying IndexedSlices: sparse where the math allows, equal to dense.

Every optimizer is checked against the same steps fed as dense gradients: the
ones whose sparse update is exact (or that densify) must agree to float
tolerance; the lazy ones (Momentum, ``Adam(lazy=True)``) must behave as if each
row were its own variable, updated only at the steps that touch it.
"""

import tracemalloc

import numpy as np
import pytest

import nnlib
from nnlib import optimizers

SHAPE = (8, 3)

EQUAL_TO_DENSE = {
    "GradientDescent": lambda **kw: optimizers.GradientDescent(0.1, **kw),
    "Adam": lambda **kw: optimizers.Adam(0.1, **kw),
    "AMSGrad": lambda **kw: optimizers.Adam(0.1, amsgrad=True, **kw),
    "AdamW": lambda **kw: optimizers.AdamW(0.1, weight_decay=0.1, **kw),
    "Adamax": lambda **kw: optimizers.Adamax(0.1, **kw),
    "Nadam": lambda **kw: optimizers.Nadam(0.1, **kw),
    "RMSProp": lambda **kw: optimizers.RMSProp(0.1, **kw),
    "RMSPropCentered": lambda **kw: optimizers.RMSProp(
        0.1, momentum=0.5, centered=True, **kw
    ),
    "Adagrad": lambda **kw: optimizers.Adagrad(0.1, **kw),
    "Adadelta": lambda **kw: optimizers.Adadelta(1.0, **kw),
    "Lion": lambda **kw: optimizers.Lion(0.1, **kw),
}
LAZY = {
    "Momentum": lambda **kw: optimizers.Momentum(0.1, **kw),
    "Nesterov": lambda **kw: optimizers.Momentum(0.1, nesterov=True, **kw),
    "LazyAdam": lambda **kw: optimizers.Adam(0.1, lazy=True, **kw),
    "LazyAMSGrad": lambda **kw: optimizers.Adam(0.1, amsgrad=True, lazy=True, **kw),
    "LazyAdamW": lambda **kw: optimizers.AdamW(0.1, weight_decay=0.1, lazy=True, **kw),
}
equal_to_dense = pytest.mark.parametrize(
    "make", EQUAL_TO_DENSE.values(), ids=list(EQUAL_TO_DENSE)
)
lazy = pytest.mark.parametrize("make", LAZY.values(), ids=list(LAZY))

# Rows touched at each step, duplicates included; VARYING leaves different rows
# untouched at different steps (what tells lazy updates from dense ones).
VARYING = [[1, 5, 1], [2, 5], [7, 1, 1, 0], [5], [3, 3, 3, 2]]
FIXED = [[1, 5, 1], [5, 1], [1, 1, 5], [5, 5, 1], [1, 5]]


def _table(dtype=np.float32):
    return np.random.default_rng(0).standard_normal(SHAPE).astype(dtype)


def _slices(step, rows, dtype=np.float32):
    rng = np.random.default_rng(100 + step)
    values = (rng.standard_normal((len(rows), SHAPE[1])) * 2).astype(dtype)
    return nnlib.IndexedSlices(values, np.array(rows), SHAPE)


def _run(opt, schedule, dense, dtype=np.float32):
    var = nnlib.Variable(_table(dtype), name="emb")
    history = []
    for step, rows in enumerate(schedule):
        grad = _slices(step, rows, dtype)
        opt.apply_gradients([(np.asarray(grad) if dense else grad, var)])
        history.append(var.numpy().copy())
    slots = {name: opt.get_slot(var, name).numpy() for name in opt.get_slot_names()}
    return history, slots


@equal_to_dense
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_equals_dense(make, dtype):
    sparse, sparse_slots = _run(make(), VARYING, dense=False, dtype=dtype)
    dense, dense_slots = _run(make(), VARYING, dense=True, dtype=dtype)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for step, (s, d) in enumerate(zip(sparse, dense)):
        np.testing.assert_allclose(s, d, rtol=rtol, atol=rtol, err_msg=f"step {step}")
    for name in sparse_slots:
        np.testing.assert_allclose(
            sparse_slots[name], dense_slots[name], rtol=rtol, atol=rtol, err_msg=name
        )


@lazy
def test_lazy_equals_dense_when_the_same_rows_are_touched(make):
    if "weight_decay" in make().get_config():
        pytest.skip("dense AdamW decays untouched rows too (see the row-wise test)")
    sparse, _ = _run(make(), FIXED, dense=False)
    dense, _ = _run(make(), FIXED, dense=True)
    for s, d in zip(sparse, dense):
        np.testing.assert_allclose(s, d, rtol=1e-5, atol=1e-6)


@lazy
def test_lazy_updates_each_row_as_its_own_variable_at_the_steps_touching_it(make):
    """The documented difference from dense: untouched rows (weights and slots)
    keep their values; a touched row moves as a dense update of that row alone
    (the step count, for Adam's bias correction, is the optimizer's)."""
    sparse, slots = _run(make(), VARYING, dense=False)
    table = _table()
    rows = [nnlib.Variable(table[r], name=f"row{r}") for r in range(SHAPE[0])]
    per_row = [make() for _ in rows]
    for step, touched in enumerate(VARYING):
        dense = np.asarray(_slices(step, touched))
        for r in sorted(set(touched)):
            per_row[r].iterations.assign(step)
            per_row[r].apply_gradients([(dense[r], rows[r])])
        expected = np.stack([v.numpy() for v in rows])
        np.testing.assert_allclose(sparse[step], expected, rtol=1e-5, atol=1e-6)
        if step:
            untouched = sorted(set(range(SHAPE[0])) - set(touched))
            np.testing.assert_array_equal(
                sparse[step][untouched], sparse[step - 1][untouched]
            )
    assert not np.allclose(sparse[-1], _run(make(), VARYING, dense=True)[0][-1])
    for name, slot in slots.items():
        for r in sorted(set().union(*VARYING)):
            np.testing.assert_allclose(
                slot[r], per_row[r].get_slot(rows[r], name).numpy(), rtol=1e-5
            )


def test_adam_lazy_is_in_the_config_and_checked():
    opt = optimizers.Adam(0.01, lazy=True)
    assert opt.get_config()["lazy"] is True
    assert optimizers.Adam.from_config(opt.get_config()).lazy is True
    assert optimizers.Adam().lazy is False
    assert optimizers.AdamW(lazy=True).lazy is True
    with pytest.raises(TypeError, match="lazy"):
        optimizers.Adam(lazy="yes")


def test_adam_lazy_on_dense_gradients_is_adam():
    lazy_opt, plain = optimizers.Adam(0.1, lazy=True), optimizers.Adam(0.1)
    for s, d in zip(
        _run(lazy_opt, VARYING, dense=True)[0], _run(plain, VARYING, dense=True)[0]
    ):
        np.testing.assert_array_equal(s, d)


# -- clipping ----------------------------------------------------------------------


def _duplicated():
    """Two slices of one row whose sum differs from each one under clipping."""
    values = np.array([[0.4, -3.0, 1.0], [0.4, -3.0, 1.0], [2.0, 0.1, 0.0]])
    return nnlib.IndexedSlices(values.astype(np.float32), [2, 2, 6], SHAPE)


@pytest.mark.parametrize(
    "clip", [{"clipnorm": 1.0}, {"global_clipnorm": 1.0}, {"clipvalue": 0.5}]
)
@pytest.mark.parametrize("name", ["GradientDescent", "Adagrad", "Adam", "RMSProp"])
def test_clipping_sums_duplicates_first_as_the_dense_gradient_does(name, clip):
    make = EQUAL_TO_DENSE[name]
    grad = _duplicated()
    other = nnlib.Variable(np.ones(2, np.float32), name="other")
    results = []
    for g in (grad, np.asarray(grad)):
        var = nnlib.Variable(_table(), name="emb")
        other.assign(np.ones(2, np.float32))
        make(**clip).apply_gradients([(g, var), (np.array([0.5, 0.5]), other)])
        results.append((var.numpy(), other.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
    if name == "GradientDescent":  # clipping each slice before summing differs
        values = grad.values.numpy()
        if "clipvalue" in clip:
            naive = np.clip(values, -0.5, 0.5)
        else:  # the norm of the values as given, repeats not summed
            other_norm2 = 0.5 if "global_clipnorm" in clip else 0.0
            naive = values / max(1.0, np.sqrt(np.sum(values**2) + other_norm2))
        var = nnlib.Variable(_table(), name="emb")
        make().apply_gradients([(nnlib.IndexedSlices(naive, [2, 2, 6], SHAPE), var)])
        assert not np.allclose(var.numpy(), results[0][0])


# -- checks ------------------------------------------------------------------------


def test_a_dense_shape_that_differs_from_the_variable_raises_before_any_change():
    var = nnlib.Variable(_table(), name="vocab/emb")
    other = nnlib.Variable(np.ones(2, np.float32), name="other")
    bad = nnlib.IndexedSlices(np.ones((1, 3), np.float32), [0], (9, 3))
    with pytest.raises(ValueError, match=r"'vocab/emb'.*\(9, 3\).*\(8, 3\)"):
        optimizers.Adam(0.1).apply_gradients([(np.ones(2), other), (bad, var)])
    np.testing.assert_array_equal(other.numpy(), np.ones(2))
    np.testing.assert_array_equal(var.numpy(), _table())


@pytest.mark.parametrize("index", [8, -1])
def test_an_index_out_of_range_raises_naming_the_variable_and_shapes(index):
    var = nnlib.Variable(_table(), name="vocab/emb")
    bad = nnlib.IndexedSlices(np.ones((2, 3), np.float32), [0, index], SHAPE)
    with pytest.raises(ValueError, match=rf"'vocab/emb'.*index {index}.*\(8, 3\)"):
        optimizers.GradientDescent(0.1).apply_gradients([(bad, var)])
    np.testing.assert_array_equal(var.numpy(), _table())


def test_the_gradient_given_is_not_written_into():
    grad = _duplicated()
    values = grad.values.numpy().copy()
    for make in [*EQUAL_TO_DENSE.values(), *LAZY.values()]:
        var = nnlib.Variable(_table(), name="emb")
        make(clipnorm=0.5, clipvalue=0.3).apply_gradients([(grad, var)])
        np.testing.assert_array_equal(grad.values.numpy(), values)
        np.testing.assert_array_equal(grad.indices.numpy(), [2, 2, 6])


def test_an_empty_gradient_changes_nothing_for_sgd():
    var = nnlib.Variable(_table(), name="emb")
    empty = nnlib.IndexedSlices(np.zeros((0, 3), np.float32), np.zeros(0, int), SHAPE)
    optimizers.GradientDescent(0.1).apply_gradients([(empty, var)])
    np.testing.assert_array_equal(var.numpy(), _table())


def test_sparse_sgd_touches_only_the_rows_it_updates():
    vocabulary, width = 200_000, 8
    var = nnlib.Variable(np.zeros((vocabulary, width), np.float32), name="big")
    ids = np.random.default_rng(0).integers(0, vocabulary, 500)
    grad = nnlib.IndexedSlices(
        np.ones((ids.size, width), np.float32), ids, (vocabulary, width)
    )
    opt = optimizers.GradientDescent(0.1)
    opt.apply_gradients([(grad, var)])  # slots and scratch made
    tracemalloc.start()
    try:
        opt.apply_gradients([(grad, var)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < var.numpy().nbytes / 20  # 6.4 MB table: no dense copy
    counts = np.bincount(ids, minlength=vocabulary)
    np.testing.assert_allclose(var.numpy()[:, 0], -0.2 * counts, rtol=1e-6)


# -- end to end --------------------------------------------------------------------


def _model(vocabulary=50):
    nnlib.random.set_seed(3)
    return nnlib.Sequential(
        [
            nnlib.layers.Embedding(vocabulary, 4),
            nnlib.layers.GlobalAveragePooling1D(),
            nnlib.layers.Dense(2),
        ]
    )


@pytest.mark.parametrize("name", ["GradientDescent", "Adagrad", "Adam"])
def test_a_model_trained_with_sparse_gradients_matches_dense(name):
    ids = np.random.default_rng(0).integers(0, 50, (16, 5))
    labels = np.random.default_rng(1).integers(0, 2, 16)
    trained = []
    for densify in (False, True):
        model = _model()
        opt = EQUAL_TO_DENSE[name]()

        def loss_fn(model=model):
            logits = model(ids)
            return nnlib.losses.sparse_softmax_cross_entropy(labels, logits)

        step = nnlib.implicit_value_and_gradients(loss_fn)
        for _ in range(3):
            _, grads_and_vars = step()
            kinds = {type(g).__name__ for g, _ in grads_and_vars}
            assert kinds == {"IndexedSlices", "Tensor"}
            if densify:
                grads_and_vars = [
                    (nnlib.convert_to_tensor(g), v) for g, v in grads_and_vars
                ]
            opt.apply_gradients(grads_and_vars)
        trained.append([v.numpy() for v in model.variables])
    for s, d in zip(*trained):
        np.testing.assert_allclose(s, d, rtol=1e-5, atol=1e-7)


def test_fit_trains_an_embedding_model_with_sparse_gradients():
    ids = np.random.default_rng(0).integers(0, 50, (64, 5))
    labels = (ids[:, 0] % 2).astype(np.int64)
    model = _model()
    model.compile(
        optimizer=optimizers.Adam(0.05, lazy=True),
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(ids, labels, batch_size=16, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("passes", [16, 2])
def test_repeated_rows_sum_to_the_dense_gradient_exactly(passes, monkeypatch):
    """By rank (a pass per repeat) or, for a row repeated very often, by one
    scatter: either way the same numbers as the backward pass's dense sum."""
    monkeypatch.setattr(nnlib.optimizers._sparse, "_MAX_PASSES", passes)
    rng = np.random.default_rng(5)
    ids = np.concatenate([rng.integers(0, 50, 300), np.zeros(40, int)])
    rng.shuffle(ids)
    grad = nnlib.IndexedSlices(
        rng.standard_normal((ids.size, 4)).astype(np.float32), ids, (50, 4)
    )
    var = nnlib.Variable(np.zeros((50, 4), np.float32), name="emb")
    sparse = nnlib.optimizers._sparse.checked_sparse("SGD", grad, var)
    assert np.all(np.diff(sparse.rows) > 0)
    np.testing.assert_array_equal(sparse.dense((50, 4)), np.asarray(grad))
