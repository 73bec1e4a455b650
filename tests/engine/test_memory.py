"""Memory: nothing recorded without a tape, records freed by the backward pass,
and a training loop that does not grow."""

import gc
import weakref

import numpy as np

import nnlib
from nnlib.engine.tape import ACTIVE


def _live_tensors():
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, nnlib.Tensor))


def test_without_a_tape_nothing_is_recorded_or_kept_alive():
    assert ACTIVE == []
    x = nnlib.constant(np.ones((2, 3), np.float32))
    h = nnlib.tanh(x @ nnlib.constant(np.ones((3, 3), np.float32)))
    ref = weakref.ref(h)
    y = nnlib.reduce_sum(h * 2.0)
    del h
    assert ref() is None  # freed at once, by reference counting
    assert float(y) > 0


def test_a_tape_that_watches_nothing_keeps_nothing_alive():
    x = nnlib.constant([1.0, 2.0])
    with nnlib.GradientTape() as tape:
        h = nnlib.exp(x)
        ref = weakref.ref(h)
        y = h * 3.0
        del h
        assert ref() is None
    assert tape._entries == []
    assert float(nnlib.reduce_sum(y)) > 0


def test_a_non_persistent_tape_frees_its_records_after_gradient():
    x = nnlib.constant(np.ones((2, 3), np.float32))
    w = nnlib.Variable(np.full((3, 2), 0.1, np.float32), name="w")
    b = nnlib.Variable(np.zeros(2, np.float32), name="b")
    with nnlib.GradientTape() as tape:
        h = x @ w
        z = nnlib.tanh(h + b)
        refs = [weakref.ref(h), weakref.ref(z)]
        loss = nnlib.reduce_sum(z)
        del h, z
    assert refs[1]() is not None  # the tanh record keeps its output for the gradient
    assert len(tape._entries) > 0
    grads = tape.gradient(loss, [w, b])
    assert tape._entries == []
    assert all(r() is None for r in refs)
    assert grads[0].shape == (3, 2)


def _first_op_checking(ref, seen):
    @nnlib.custom_gradient
    def first(x):
        def grad(dy):
            seen.append(ref[0]() is None)
            return dy

        return x * 1.0, grad

    return first


def _gradient_seen_by_the_last_record(persistent):
    """Whether a later record's saved tensor was already freed when the first
    record's gradient ran."""
    seen, ref = [], [None]
    first = _first_op_checking(ref, seen)
    x = nnlib.constant([0.1, 0.2])
    with nnlib.GradientTape(persistent=persistent) as tape:
        tape.watch(x)
        t = nnlib.tanh(first(x))  # the tanh record saves t
        ref[0] = weakref.ref(t)
        loss = nnlib.reduce_sum(t)
        del t
    grad = tape.gradient(loss, x)
    np.testing.assert_allclose(grad.numpy(), 1 - np.tanh([0.1, 0.2]) ** 2, rtol=1e-6)
    return seen[0], ref, tape


def test_records_are_freed_while_the_backward_pass_consumes_them():
    freed, _, _ = _gradient_seen_by_the_last_record(persistent=False)
    assert freed


def test_a_persistent_tape_keeps_its_records_until_it_is_deleted():
    freed, ref, tape = _gradient_seen_by_the_last_record(persistent=True)
    assert not freed
    assert ref[0]() is not None
    del tape
    gc.collect()
    assert ref[0]() is None


def test_training_steps_do_not_accumulate_tensors():
    rng = np.random.default_rng(0)
    x = nnlib.constant(rng.standard_normal((8, 3)).astype(np.float32))
    w = nnlib.Variable(rng.standard_normal((3, 2)).astype(np.float32), name="w")
    b = nnlib.Variable(np.zeros(2, np.float32), name="b")
    step = nnlib.implicit_value_and_gradients(
        lambda: nnlib.reduce_sum(nnlib.tanh(x @ w + b))
    )
    losses, counts = [], {}
    for i in range(1, 201):
        loss, grads_and_vars = step()
        for grad, var in grads_and_vars:
            var.assign_sub(0.1 * grad)
        losses.append(float(loss))
        if i in (50, 200):
            counts[i] = _live_tensors()
    assert counts[200] <= counts[50]
    assert losses[-1] < losses[0]  # it did train
    assert ACTIVE == []


def test_training_with_an_explicit_tape_does_not_accumulate_tensors():
    x = nnlib.constant(np.linspace(-1, 1, 12).reshape(4, 3))
    w = nnlib.Variable(np.full((3, 1), 0.5), name="w")
    counts = {}
    for i in range(1, 201):
        with nnlib.GradientTape() as tape:
            loss = nnlib.reduce_sum(nnlib.square(nnlib.tanh(x @ w) - 0.5))
        w.assign_sub(0.05 * tape.gradient(loss, w))
        if i in (50, 200):
            counts[i] = _live_tensors()
    assert counts[200] <= counts[50]
