"""What fit/evaluate/predict compute, checked against numpy by hand.

Every expected value here is computed in float64 numpy from the data and the
weights (never by calling the code under test): the SGD step a loss gives, the
weighted losses and metrics, the moving statistics of BatchNormalization, the
rows and batches each step sees.
"""

import itertools
import warnings

import numpy as np
import pytest

import nnlib
from nnlib.layers import BatchNormalization, Dense, Dropout

RTOL, ATOL = 1e-5, 1e-6


# -- helpers -------------------------------------------------------------------


class _Recorder(nnlib.layers.Layer):
    """The identity; records column 0 of each batch it sees while training."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=None):
        if training:
            self.seen.append(np.asarray(inputs.numpy())[:, 0].astype(int).tolist())
        return inputs


def _flat(lists):
    return list(itertools.chain.from_iterable(lists))


def _linear(kernel, bias, optimizer, metrics=None, **dense_kwargs):
    """A built ``Dense`` model with the given weights, compiled with MSE."""
    kernel = np.asarray(kernel, np.float32)
    model = nnlib.Sequential([Dense(kernel.shape[1], **dense_kwargs)])
    model(np.zeros((1, kernel.shape[0]), np.float32))
    model.set_weights([kernel, np.asarray(bias, np.float32)])
    model.compile(optimizer=optimizer, loss="mse", metrics=metrics)
    return model


def _mse_residual(x, y, kernel, bias):
    return np.asarray(x, np.float64) @ kernel + bias - np.asarray(y, np.float64)


def _mse_loss(x, y, kernel, bias, w=None):
    """Keras's MSE: mean over features, weighted, summed / number of samples."""
    per_sample = (_mse_residual(x, y, kernel, bias) ** 2).mean(-1)
    w = np.ones(len(x)) if w is None else np.asarray(w, np.float64)
    return (w * per_sample).sum() / len(x)


def _mse_sgd_step(x, y, kernel, bias, lr, w=None, l2=0.0):
    """New (kernel, bias) after one SGD step on weighted MSE (+ l2 * sum(K**2))."""
    x = np.asarray(x, np.float64)
    kernel, bias = np.asarray(kernel, np.float64), np.asarray(bias, np.float64)
    n, units = len(x), kernel.shape[1]
    w = np.ones(n) if w is None else np.asarray(w, np.float64)
    dpred = 2 * w[:, None] * _mse_residual(x, y, kernel, bias) / (n * units)
    grad_kernel = x.T @ dpred + 2 * l2 * kernel
    return kernel - lr * grad_kernel, bias - lr * dpred.sum(0)


def _weighted_mae(x, y, kernel, bias, w=None):
    per_sample = np.abs(_mse_residual(x, y, kernel, bias)).mean(-1)
    w = np.ones(len(x)) if w is None else np.asarray(w, np.float64)
    return (w * per_sample).sum() / w.sum()


def _assert_weights(model, kernel, bias):
    got_kernel, got_bias = model.get_weights()
    np.testing.assert_allclose(got_kernel, kernel, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(got_bias, bias, rtol=RTOL, atol=ATOL)


def _data(n=4, features=2, outputs=1, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = rng.normal(size=(n, outputs)).astype(np.float32)
    return x, y


K0 = np.array([[0.5], [-0.25]], np.float32)
B0 = np.array([0.1], np.float32)


def _ids_model(lr=0.0):
    """A recorder in front of a Dense: x's column 0 is the sample's id."""
    recorder = _Recorder()
    model = nnlib.Sequential([recorder, Dense(1)])
    model.compile(optimizer=nnlib.optimizers.GradientDescent(lr), loss="mse")
    return model, recorder


def _ids(n):
    return np.arange(n, dtype=np.float32)[:, None], np.zeros((n, 1), np.float32)


def _per_epoch(recorder, fit):
    """Calls ``fit(callbacks)`` and returns the batches recorded in each epoch."""
    epochs = []

    def end(epoch, logs):
        epochs.append(list(recorder.seen))
        recorder.seen.clear()

    fit([nnlib.callbacks.LambdaCallback(on_epoch_end=end)])
    return epochs


# -- training mode in fit, inference mode in evaluate/predict -------------------


def test_batch_norm_trains_with_batch_statistics_and_evaluates_with_moving_ones():
    """fit moves the moving statistics and normalizes with the batch's; evaluate
    and predict use (and keep) the moving ones."""
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, (8, 2)).astype(np.float32)
    y = rng.normal(size=(8, 2)).astype(np.float32)
    bn = BatchNormalization(momentum=0.5, epsilon=1e-3)
    model = nnlib.Sequential([bn])
    model.compile(optimizer=nnlib.optimizers.GradientDescent(0.1), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)

    xd = x.astype(np.float64)
    mean, var = xd.mean(0), xd.var(0)  # the biased batch variance
    xhat = (xd - mean) / np.sqrt(var + 1e-3)
    assert history.history["loss"][0] == pytest.approx(((xhat - y) ** 2).mean(), 1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * mean, rtol=RTOL)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.5 + 0.5 * var, rtol=RTOL)
    dout = 2 * (xhat - y) / x.size
    np.testing.assert_allclose(
        bn.gamma.numpy(), 1 - 0.1 * (dout * xhat).sum(0), rtol=RTOL
    )
    np.testing.assert_allclose(bn.beta.numpy(), -0.1 * dout.sum(0), atol=ATOL)

    moving = [bn.moving_mean.numpy(), bn.moving_variance.numpy()]
    gamma, beta = bn.gamma.numpy(), bn.beta.numpy()
    inference = gamma * (xd - moving[0]) / np.sqrt(moving[1] + 1e-3) + beta
    assert model.evaluate(x, y, batch_size=3, verbose=0) == pytest.approx(
        ((inference - y) ** 2).mean(), 1e-5
    )
    np.testing.assert_allclose(model.predict(x, batch_size=3), inference, rtol=RTOL)
    assert model.test_on_batch(x, y) == pytest.approx(((inference - y) ** 2).mean())
    for variable, before in zip((bn.moving_mean, bn.moving_variance), moving):
        np.testing.assert_array_equal(variable.numpy(), before)


def test_dropout_is_active_in_fit_only():
    """Dropout(0.5) on ones makes 0 or 2, so the MSE to 1 is exactly 1 in training
    and exactly 0 without dropout."""
    model = nnlib.Sequential(
        [Dropout(0.5), Dense(1, use_bias=False, kernel_initializer="ones")]
    )
    model.compile(optimizer=nnlib.optimizers.GradientDescent(0.0), loss="mse")
    x, y = np.ones((6, 1), np.float32), np.ones((6, 1), np.float32)
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert history.history["loss"] == [1.0, 1.0]
    assert model.train_on_batch(x, y) == 1.0
    assert model.evaluate(x, y, batch_size=4, verbose=0) == 0.0
    assert model.test_on_batch(x, y) == 0.0
    np.testing.assert_array_equal(model.predict(x, batch_size=4), np.ones((6, 1)))
    np.testing.assert_array_equal(model.predict_on_batch(x), np.ones((6, 1)))


def test_validation_during_fit_runs_in_inference_mode():
    model = nnlib.Sequential(
        [Dropout(0.5), Dense(1, use_bias=False, kernel_initializer="ones")]
    )
    model.compile(optimizer=nnlib.optimizers.GradientDescent(0.0), loss="mse")
    x, y = np.ones((6, 1), np.float32), np.ones((6, 1), np.float32)
    history = model.fit(x, y, epochs=2, validation_data=(x, y), verbose=0)
    assert history.history["loss"] == [1.0, 1.0]
    assert history.history["val_loss"] == [0.0, 0.0]


# -- shuffling -------------------------------------------------------------------


def _orders(seed, shuffle=True, epochs=3):
    nnlib.random.set_seed(seed)
    model, recorder = _ids_model()
    x, y = _ids(8)
    per_epoch = _per_epoch(
        recorder,
        lambda cbs: model.fit(
            x, y, batch_size=3, epochs=epochs, shuffle=shuffle, verbose=0, callbacks=cbs
        ),
    )
    return per_epoch


def test_shuffle_draws_a_new_reproducible_order_every_epoch():
    orders = _orders(seed=7)
    assert [len(batches) for batches in orders] == [3, 3, 3]
    assert [[len(b) for b in batches] for batches in orders] == [[3, 3, 2]] * 3
    flat = [_flat(batches) for batches in orders]
    for order in flat:
        assert sorted(order) == list(range(8))
    assert flat[0] != flat[1] and flat[1] != flat[2]
    assert flat[0] != list(range(8))
    assert _orders(seed=7) == orders  # the same seed gives the same orders
    assert _orders(seed=8) != orders


def test_shuffle_false_keeps_the_order():
    orders = _orders(seed=7, shuffle=False, epochs=2)
    assert orders == [[[0, 1, 2], [3, 4, 5], [6, 7]]] * 2


# -- sample_weight and class_weight ---------------------------------------------


def test_sample_weight_weights_the_step_the_loss_and_the_metrics():
    x, y = _data(4)
    w = np.array([1.0, 0.0, 3.0, 0.5], np.float32)
    model = _linear(K0, B0, nnlib.optimizers.GradientDescent(0.1), metrics=["mae"])
    history = model.fit(
        x, y, sample_weight=w, batch_size=4, shuffle=False, epochs=1, verbose=0
    )
    kernel, bias = _mse_sgd_step(x, y, K0, B0, 0.1, w=w)
    _assert_weights(model, kernel, bias)
    assert history.history["loss"][0] == pytest.approx(_mse_loss(x, y, K0, B0, w))
    assert history.history["mae"][0] == pytest.approx(_weighted_mae(x, y, K0, B0, w))
    loss, mae = model.evaluate(x, y, sample_weight=w, batch_size=3, verbose=0)
    assert loss == pytest.approx(_mse_loss(x, y, kernel, bias, w))
    assert mae == pytest.approx(_weighted_mae(x, y, kernel, bias, w))


def test_validation_data_uses_its_sample_weights():
    x, y = _data(4)
    vx, vy = _data(5, seed=1)
    vw = np.array([2.0, 0.0, 1.0, 0.5, 4.0], np.float32)
    model = _linear(K0, B0, nnlib.optimizers.GradientDescent(0.1), metrics=["mae"])
    history = model.fit(
        x, y, batch_size=4, epochs=1, verbose=0, validation_data=(vx, vy, vw)
    )
    kernel, bias = _mse_sgd_step(x, y, K0, B0, 0.1)
    assert history.history["val_loss"][0] == pytest.approx(
        _mse_loss(vx, vy, kernel, bias, vw)
    )
    assert history.history["val_mae"][0] == pytest.approx(
        _weighted_mae(vx, vy, kernel, bias, vw)
    )


def _softmax_ce_step(x, labels, kernel, bias, lr, c):
    """SGD on sum(c * CE) / n for softmax cross-entropy of logits x @ K + b."""
    x = np.asarray(x, np.float64)
    z = x @ kernel + bias
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    n = len(x)
    ce = -np.log(p[np.arange(n), labels])
    dz = c[:, None] * (p - np.eye(kernel.shape[1])[labels]) / n
    return (kernel - lr * x.T @ dz, bias - lr * dz.sum(0)), (c * ce).sum() / n, p


def test_class_weight_weights_the_step_and_the_metrics():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 2)).astype(np.float32)
    labels = np.array([0, 1, 1, 0, 1, 1])
    kernel0 = np.array([[0.3, -0.2], [0.1, 0.4]], np.float32)
    bias0 = np.array([0.05, -0.05], np.float32)
    model = nnlib.Sequential([Dense(2)])
    model(x[:1])
    model.set_weights([kernel0, bias0])
    model.compile(
        optimizer=nnlib.optimizers.GradientDescent(0.5),
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    class_weight = {0: 4.0, 1: 0.5}
    history = model.fit(
        x, labels, class_weight=class_weight, batch_size=6, shuffle=False, verbose=0
    )
    c = np.array([class_weight[k] for k in labels])
    (kernel, bias), loss, p = _softmax_ce_step(x, labels, kernel0, bias0, 0.5, c)
    _assert_weights(model, kernel, bias)
    assert history.history["loss"][0] == pytest.approx(loss)
    correct = (p.argmax(-1) == labels).astype(float)
    assert history.history["accuracy"][0] == pytest.approx(
        (c * correct).sum() / c.sum()
    )


def test_dataset_sample_weights_weight_each_step():
    x, y = _data(8)
    w = np.array([1.0, 2.0, 0.0, 0.5, 3.0, 1.0, 0.25, 2.0], np.float32)
    data = nnlib.data.Dataset.from_tensor_slices((x, y, w)).batch(4)
    model = _linear(K0, B0, nnlib.optimizers.GradientDescent(0.1))
    history = model.fit(data, epochs=1, verbose=0)
    first_loss = _mse_loss(x[:4], y[:4], K0, B0, w[:4])
    kernel, bias = _mse_sgd_step(x[:4], y[:4], K0, B0, 0.1, w=w[:4])
    second_loss = _mse_loss(x[4:], y[4:], kernel, bias, w[4:])
    kernel, bias = _mse_sgd_step(x[4:], y[4:], kernel, bias, 0.1, w=w[4:])
    _assert_weights(model, kernel, bias)
    assert history.history["loss"][0] == pytest.approx((first_loss + second_loss) / 2)


# -- validation_split ------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_validation_split_holds_out_the_last_rows(weighted):
    """10 rows, split 0.3: rows 0-6 train (one batch a epoch), rows 7-9 validate."""
    rng = np.random.default_rng(2)
    ids = np.arange(10, dtype=np.float32)
    x = np.stack([ids, rng.normal(size=10).astype(np.float32)], 1)
    y = rng.normal(size=(10, 1)).astype(np.float32)
    y[7:] = 100.0  # training on these rows would move the weights a lot
    w = rng.uniform(0.5, 2.0, 10).astype(np.float32) if weighted else None
    recorder = _Recorder()
    model = nnlib.Sequential([recorder, Dense(1)])
    model(x[:1])
    model.set_weights([np.array([[0.01], [0.5]], np.float32), B0])
    model.compile(optimizer=nnlib.optimizers.GradientDescent(0.01), loss="mse")
    weights = []
    history = model.fit(
        x,
        y,
        sample_weight=w,
        batch_size=7,
        epochs=2,
        verbose=0,
        validation_split=0.3,
        callbacks=[
            nnlib.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: weights.append(model.get_weights())
            )
        ],
    )
    assert [sorted(batch) for batch in recorder.seen] == [list(range(7))] * 2
    kernel, bias = np.array([[0.01], [0.5]]), B0.astype(np.float64)
    tw = None if w is None else w[:7]
    vw = None if w is None else w[7:]
    for epoch in range(2):
        loss = _mse_loss(x[:7], y[:7], kernel, bias, tw)
        kernel, bias = _mse_sgd_step(x[:7], y[:7], kernel, bias, 0.01, w=tw)
        np.testing.assert_allclose(weights[epoch][0], kernel, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(weights[epoch][1], bias, rtol=RTOL, atol=ATOL)
        assert history.history["loss"][epoch] == pytest.approx(loss, 1e-5)
        assert history.history["val_loss"][epoch] == pytest.approx(
            _mse_loss(x[7:], y[7:], kernel, bias, vw), 1e-5
        )


# -- means over samples when the last batch is short -----------------------------


def test_evaluate_averages_over_samples_not_batches():
    """10 samples in batches of 4: the loss and MAE are means over the 10."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(10, 2)).astype(np.float32)
    y = rng.normal(size=(10, 1)).astype(np.float32)
    y[8:] += 5.0  # the short last batch has a much larger loss
    model = _linear(K0, B0, nnlib.optimizers.GradientDescent(0.0), metrics=["mae"])
    loss, mae = model.evaluate(x, y, batch_size=4, verbose=0)
    assert loss == pytest.approx(_mse_loss(x, y, K0, B0), 1e-5)
    assert mae == pytest.approx(_weighted_mae(x, y, K0, B0), 1e-5)
    # fit reports the same means over the epoch's samples (lr 0: fixed weights)
    history = model.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(loss, 1e-5)
    assert history.history["mae"][0] == pytest.approx(mae, 1e-5)


def test_evaluate_accuracy_is_over_samples_not_batches():
    """Logits are x itself; correct = [1,1,1,1, 0,0,0,0, 1,1]: 0.6, not mean(1,0,1)."""
    x = np.tile(np.array([[1.0, 0.0]], np.float32), (10, 1))
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 0])
    model = nnlib.Sequential([Dense(2)])
    model(x[:1])
    model.set_weights([np.eye(2, dtype=np.float32), np.zeros(2, np.float32)])
    model.compile(
        optimizer="sgd",
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    loss, accuracy = model.evaluate(x, labels, batch_size=4, verbose=0)
    assert accuracy == pytest.approx(0.6)
    log_p = np.log(np.exp(1.0) / (np.exp(1.0) + 1.0))
    log_q = np.log(1.0 / (np.exp(1.0) + 1.0))
    assert loss == pytest.approx(-(6 * log_p + 4 * log_q) / 10, 1e-5)


# -- regularization losses -------------------------------------------------------


def test_fit_minimizes_and_reports_the_regularization_penalty():
    x, y = _data(4)
    model = _linear(
        K0,
        B0,
        nnlib.optimizers.GradientDescent(0.1),
        kernel_regularizer=nnlib.regularizers.L2(0.2),
    )
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    kernel, bias = _mse_sgd_step(x, y, K0, B0, 0.1, l2=0.2)
    _assert_weights(model, kernel, bias)
    penalty = 0.2 * (K0.astype(np.float64) ** 2).sum()
    assert history.history["loss"][0] == pytest.approx(
        _mse_loss(x, y, K0, B0) + penalty, 1e-5
    )
    assert model.evaluate(x, y, batch_size=3, verbose=0) == pytest.approx(
        _mse_loss(x, y, kernel, bias) + 0.2 * (kernel**2).sum(), 1e-5
    )


# -- steps_per_epoch -------------------------------------------------------------


def _fit_ids(n, epochs, **kwargs):
    model, recorder = _ids_model()
    x, y = _ids(n)
    return model, _per_epoch(
        recorder,
        lambda cbs: model.fit(x, y, epochs=epochs, verbose=0, callbacks=cbs, **kwargs),
    )


S0, S1, S2 = [0, 1, 2, 3], [4, 5, 6, 7], [8, 9]  # the batches of 10 ids by 4


def _ran_out(caught):
    return [str(w.message) for w in caught if "ran out of data" in str(w.message)]


def test_steps_per_epoch_continues_where_the_last_epoch_stopped_and_stops_at_the_end():
    """As Keras 3: 2 steps an epoch over 3 batches go b0 b1 | b2 (ran out) | b0 b1 | b2."""
    with pytest.warns(UserWarning, match="ran out of data") as caught:
        _, orders = _fit_ids(10, 4, batch_size=4, steps_per_epoch=2, shuffle=False)
    assert orders == [[S0, S1], [S2], [S0, S1], [S2]]
    messages = _ran_out(caught)
    assert len(messages) == 2
    assert "after 1 of 2 steps of epoch 2" in messages[0]
    assert "after 1 of 2 steps of epoch 4" in messages[1]
    assert "3 batches" in messages[0] and "steps_per_epoch" in messages[0]


def test_steps_per_epoch_beyond_the_data_ends_each_epoch_after_one_pass():
    with pytest.warns(UserWarning, match="ran out of data") as caught:
        _, orders = _fit_ids(10, 2, batch_size=4, steps_per_epoch=5, shuffle=False)
    assert orders == [[S0, S1, S2], [S0, S1, S2]]
    assert ["after 3 of 5 steps of epoch 1" in m for m in _ran_out(caught)] == [
        True,
        False,
    ]
    assert "after 3 of 5 steps of epoch 2" in _ran_out(caught)[1]


def test_steps_per_epoch_dividing_the_batches_never_runs_out(recwarn):
    _, orders = _fit_ids(8, 3, batch_size=2, steps_per_epoch=2, shuffle=False)
    assert orders == [[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[0, 1], [2, 3]]]
    assert _ran_out(recwarn) == []


def test_steps_per_epoch_with_shuffle_reshuffles_each_pass():
    nnlib.random.set_seed(11)
    with pytest.warns(UserWarning, match="ran out of data"):
        _, orders = _fit_ids(10, 4, batch_size=4, steps_per_epoch=2)
    assert [[len(b) for b in epoch] for epoch in orders] == [[4, 4], [2], [4, 4], [2]]
    first, second = _flat(_flat(orders[:2])), _flat(_flat(orders[2:]))
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != second


def test_steps_per_epoch_keeps_a_datasets_place_across_epochs():
    """A finite Dataset is read on from where the last epoch stopped, as arrays are."""
    x, y = _ids(10)
    data = nnlib.data.Dataset.from_tensor_slices((x, y)).batch(4)
    for steps, expected, warned in (
        (2, [[S0, S1], [S2], [S0, S1]], 1),
        (3, [[S0, S1, S2]] * 3, 0),
        (5, [[S0, S1, S2]] * 3, 3),
    ):
        model, recorder = _ids_model()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            orders = _per_epoch(
                recorder,
                lambda cbs, steps=steps, model=model: model.fit(
                    data, epochs=3, steps_per_epoch=steps, verbose=0, callbacks=cbs
                ),
            )
        assert orders == expected, steps
        assert len(_ran_out(caught)) == warned, steps


def test_steps_per_epoch_finds_the_end_of_a_dataset_of_unknown_size():
    """filter() hides the size: the end is found when the data runs out, and an
    epoch that starts exactly there starts a new pass instead of ending empty."""
    x, y = _ids(8)
    data = (
        nnlib.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True).batch(2)
    )
    assert data.cardinality() == nnlib.data.UNKNOWN
    model, recorder = _ids_model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        orders = _per_epoch(
            recorder,
            lambda cbs: model.fit(
                data, epochs=3, steps_per_epoch=2, verbose=0, callbacks=cbs
            ),
        )
    assert orders == [[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[0, 1], [2, 3]]]
    assert _ran_out(caught) == []
    model, recorder = _ids_model()
    with pytest.warns(UserWarning, match="after 1 of 3 steps of epoch 2"):
        orders = _per_epoch(
            recorder,
            lambda cbs: model.fit(
                data, epochs=2, steps_per_epoch=3, verbose=0, callbacks=cbs
            ),
        )
    assert orders == [[[0, 1], [2, 3], [4, 5]], [[6, 7]]]


def test_steps_per_epoch_on_a_repeated_dataset_reads_on_without_warning(recwarn):
    x, y = _ids(10)
    data = nnlib.data.Dataset.from_tensor_slices((x, y)).batch(4).repeat()
    model, recorder = _ids_model()
    orders = _per_epoch(
        recorder,
        lambda cbs: model.fit(
            data, epochs=2, steps_per_epoch=2, verbose=0, callbacks=cbs
        ),
    )
    assert orders == [[S0, S1], [S2, S0]]
    assert _ran_out(recwarn) == []


def test_evaluate_steps_beyond_the_data_stops_at_its_end():
    """evaluate(steps=) past the data reads it once (no batch counted twice)."""
    model = _linear(K0, B0, nnlib.optimizers.GradientDescent(0.1))
    x, y = _ids(10)
    x = np.repeat(x, 2, axis=1)
    with pytest.warns(UserWarning, match="evaluate: the input ran out of data"):
        loss = model.evaluate(x, y, batch_size=4, steps=5, verbose=0)
    assert loss == pytest.approx(_mse_loss(x, y, K0, B0), 1e-5)
