"""Deferred restores: the most recent restore wins for every variable.

A parent network's file and a sub-network's file restored before the first
call, in either order; immediate and deferred restores mixed; Checkpoint
restores (with optimizer slots) mixed with weight loads.
"""

import numpy as np
import pytest

import nnlib
from nnlib import layers

X = np.ones((2, 3), np.float32)


class Encoder(nnlib.Network):
    def __init__(self):
        super().__init__(name="encoder")
        self.dense = layers.Dense(4)

    def call(self, x, training=False):
        return self.dense(x)


class Parent(nnlib.Network):
    def __init__(self):
        super().__init__(name="parent")
        self.encoder = Encoder()
        self.head = layers.Dense(2)

    def call(self, x, training=False):
        return self.head(self.encoder(x))


def _filled(value):
    """A built Parent whose every variable holds ``value``."""
    model = Parent()
    model(X)
    for v in model.variables:
        v.assign(np.full(v.shape, value, v.dtype))
    return model


def _files(tmp_path):
    """A parent file of 1s and an encoder file of 2s."""
    parent_file = _filled(1.0).save_weights(str(tmp_path / "parent.h5"))
    twos = _filled(2.0)  # kept alive: the encoder's names go through its parent
    encoder_file = twos.encoder.save_weights(str(tmp_path / "encoder.h5"))
    return parent_file, encoder_file


def _value(layer):
    found = {float(v.numpy().reshape(-1)[0]) for v in layer.variables}
    assert len(found) == 1, found
    return found.pop()


def test_encoder_file_after_parent_file_wins_before_the_first_call(tmp_path):
    parent_file, encoder_file = _files(tmp_path)
    model = Parent()
    model.load_weights(parent_file)
    model.encoder.load_weights(encoder_file)
    model(X)
    assert _value(model.encoder) == 2.0 and _value(model.head) == 1.0


def test_parent_file_after_encoder_file_wins_before_the_first_call(tmp_path):
    parent_file, encoder_file = _files(tmp_path)
    model = Parent()
    model.encoder.load_weights(encoder_file)
    model.load_weights(parent_file)
    model(X)
    assert _value(model.encoder) == 1.0 and _value(model.head) == 1.0


def test_no_value_stays_pending_for_a_superseded_restore(tmp_path):
    parent_file, encoder_file = _files(tmp_path)
    model = Parent()
    first = model.load_weights(parent_file)
    second = model.encoder.load_weights(encoder_file)
    model(X)
    assert first.deferred == [] and second.deferred == []


def test_a_later_load_of_fewer_names_keeps_the_earlier_values_of_the_rest(tmp_path):
    parent_file, _ = _files(tmp_path)
    kernel_only = str(tmp_path / "kernel.h5")
    nnlib.checkpoint.save_weights(
        kernel_only, {"dense/kernel": np.full((4, 2), 3.0, np.float32)}
    )
    model = Parent()
    model.load_weights(parent_file)
    model.load_weights(kernel_only, strict=False)
    model(X)
    assert float(model.head.kernel.numpy()[0, 0]) == 3.0
    assert float(model.head.bias.numpy()[0]) == 1.0  # only the first file had it
    assert _value(model.encoder) == 1.0


def test_immediate_restore_after_a_deferred_one(tmp_path):
    parent_file, encoder_file = _files(tmp_path)
    model = Parent()
    model.load_weights(parent_file)  # deferred: nothing is built
    model.encoder(X)  # the encoder is built: the parent file's values arrive
    assert _value(model.encoder) == 1.0
    model.encoder.load_weights(encoder_file)  # immediate: the newest
    model(X)  # the head is built now: the parent file's values
    assert _value(model.encoder) == 2.0 and _value(model.head) == 1.0


def test_deferred_restore_after_an_immediate_one_applies_when_created(tmp_path):
    parent_file, encoder_file = _files(tmp_path)
    model = Parent()
    model.encoder(X)
    model.encoder.load_weights(encoder_file)  # immediate
    model.load_weights(parent_file)  # encoder: immediate, head: deferred
    assert _value(model.encoder) == 1.0
    model(X)
    assert _value(model.head) == 1.0


@pytest.mark.parametrize("order", ["checkpoint first", "weights first"])
def test_checkpoint_restore_and_weights_load_in_either_order(tmp_path, order):
    trained = _filled(1.0)
    opt = nnlib.optimizers.Adam(0.1)
    opt.minimize(lambda: nnlib.reduce_sum(trained(X)))
    for v in trained.variables:
        v.assign(np.full(v.shape, 1.0, v.dtype))
    ckpt_file = nnlib.Checkpoint(model=trained, optimizer=opt).write(
        str(tmp_path / "ckpt.h5")
    )
    _, encoder_file = _files(tmp_path)
    model, fresh_opt = Parent(), nnlib.optimizers.Adam(0.1)
    ckpt = nnlib.Checkpoint(model=model, optimizer=fresh_opt)
    if order == "checkpoint first":
        ckpt.restore(ckpt_file)
        model.encoder.load_weights(encoder_file)
        expected = 2.0
    else:
        model.encoder.load_weights(encoder_file)
        status = ckpt.restore(ckpt_file)
        expected = 1.0
    model(X)
    assert _value(model.encoder) == expected and _value(model.head) == 1.0
    # The optimizer's slots come from the only restore that had them.
    kernel = model.encoder.dense.kernel
    saved_m = opt.get_slot(trained.encoder.dense.kernel, "m").numpy()
    np.testing.assert_array_equal(fresh_opt.get_slot(kernel, "m").numpy(), saved_m)
    if order == "weights first":
        assert status.pending == []
