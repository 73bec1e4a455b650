"""``nnlib.function``: tracing, retracing, capture, side effects, errors."""

import tracemalloc
import warnings

import numpy as np
import pytest

import nnlib
from nnlib.graph import TracingError
from nnlib.ops.declare import declare

F32 = np.float32


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(F32)


def test_the_first_call_traces_and_later_calls_replay():
    calls = []

    @nnlib.function
    def f(x):
        calls.append(1)  # a Python side effect: at trace time only
        return nnlib.tanh(x) * 2.0 + x

    a, b = _x(3), _x(3, seed=1)
    np.testing.assert_allclose(f(a).numpy(), np.tanh(a) * 2 + a, rtol=1e-6)
    np.testing.assert_allclose(f(b).numpy(), np.tanh(b) * 2 + b, rtol=1e-6)
    assert calls == [1] and f.trace_count == 1


def test_a_new_shape_dtype_or_python_value_traces_again():
    @nnlib.function
    def f(x, scale, training=False):
        return x * scale if training else x

    f(_x(2), 2.0)
    f(_x(2, seed=1), 2.0)
    assert f.trace_count == 1
    f(_x(3), 2.0)
    f(_x(3).astype(np.float64), 2.0)
    f(_x(3), 3.0)
    out = f(_x(3), 3.0, training=True)
    assert f.trace_count == 5
    np.testing.assert_allclose(out.numpy(), _x(3) * 3.0, rtol=1e-6)


def test_many_retraces_warn_and_name_the_argument_that_changes():
    @nnlib.function
    def f(x, step):
        return x + 1.0

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(8):
            f(_x(2), step)
    messages = [str(w.message) for w in caught]
    assert any("traced 6 times" in m and "step" in m for m in messages), messages


def test_an_input_signature_checks_and_converts_arguments():
    @nnlib.function(input_signature=[nnlib.TensorSpec((None, 2), "float32")])
    def f(x):
        return x * 2.0

    out = f(np.ones((4, 2), np.float64))
    assert out.dtype == np.float32 and out.shape == (4, 2)
    with pytest.raises(ValueError, match=r"expected shape \(None, 2\), got \(4, 3\)"):
        f(np.ones((4, 3)))
    with pytest.raises(TypeError, match="input_signature of 1 arguments"):
        f(np.ones((4, 2)), np.ones(2))
    with pytest.raises(TypeError, match="must be an nnlib.TensorSpec"):
        nnlib.function(lambda x: x, input_signature=[(None, 2)])


def test_variables_are_captured_by_reference():
    w = nnlib.Variable([[1.0], [2.0]], name="captured_w")
    f = nnlib.function(lambda x: nnlib.matmul(x, w))
    x = np.ones((1, 2), F32)
    assert float(f(x)[0, 0]) == 3.0
    w.assign([[5.0], [5.0]])
    assert float(f(x)[0, 0]) == 10.0 and f.trace_count == 1


def test_assignments_inside_change_the_variable_at_every_call():
    v = nnlib.Variable(0.0, name="counter")

    @nnlib.function
    def bump(x):
        v.assign_add(x)
        return v * 1.0

    for _ in range(3):
        bump(np.float32(2.0))
    assert float(v) == 6.0 and bump.trace_count == 1
    assert "effect assign_add" in str(bump.get_concrete_function(np.float32(2.0)))


def test_a_traced_training_step_matches_eager_steps():
    def make():
        nnlib.random.set_seed(0)
        model = nnlib.Sequential(
            [nnlib.layers.Dense(8, activation="tanh"), nnlib.layers.Dense(1)]
        )
        model(np.zeros((1, 3), F32))
        return model, nnlib.optimizers.Momentum(0.1, momentum=0.9)

    def step_fn(model, opt):
        def step(x, y):
            with nnlib.GradientTape() as tape:
                loss = nnlib.reduce_mean(nnlib.square(model(x) - y))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        return step

    eager_model, eager_opt = make()
    traced_model, traced_opt = make()
    eager_step = step_fn(eager_model, eager_opt)
    traced_step = nnlib.function(step_fn(traced_model, traced_opt))
    for i in range(5):
        x, y = _x(16, 3, seed=i), _x(16, 1, seed=100 + i)
        np.testing.assert_allclose(
            traced_step(x, y).numpy(), eager_step(x, y).numpy(), rtol=1e-6
        )
    assert traced_step.trace_count == 1
    graph = str(traced_step.get_concrete_function(x, y))  # replayed, not eager
    assert "effect apply_gradients" in graph
    for a, b in zip(traced_model.variables, eager_model.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    assert int(traced_opt.iterations) == 5


def test_random_ops_draw_afresh_at_each_call_and_follow_the_seed():
    f = nnlib.function(lambda x: x + nnlib.random_normal([4]))
    zeros = np.zeros(4, F32)
    nnlib.random.set_seed(1)
    first, second = f(zeros).numpy(), f(zeros).numpy()
    assert not np.array_equal(first, second)
    nnlib.random.set_seed(1)
    np.testing.assert_array_equal(f(zeros).numpy(), first)


def test_python_control_flow_on_a_traced_tensor_is_refused():
    @nnlib.function
    def f(x):
        if nnlib.reduce_sum(x) > 0:
            return x
        return -x

    with pytest.raises(TracingError, match="converted to a Python bool"):
        f(np.ones(3, F32))


def _fails_on_negatives(x):
    if (x < 0).any():
        raise ValueError("negative input")
    return x


FAILS_ON_NEGATIVES = declare("fails_on_negatives", _fails_on_negatives)


def test_an_error_in_a_replay_names_the_step_and_the_users_line():
    def user_function(x):
        return FAILS_ON_NEGATIVES(x) * 2.0

    f = nnlib.function(user_function)
    f(np.ones(2, F32))
    with pytest.raises(ValueError, match="negative input") as info:
        f(-np.ones(2, F32))
    note = " ".join(getattr(info.value, "__notes__", [])) + str(info.value.args)
    assert "fails_on_negatives" in note and "test_function.py" in note


def test_creating_variables_on_a_second_trace_is_an_error():
    made = []

    @nnlib.function
    def f(x):
        made.append(nnlib.Variable(np.zeros(x.shape, F32), name="late"))
        return x + made[-1]

    f(np.ones(2, F32))
    with pytest.raises(ValueError, match="created variables .* 'late'"):
        f(np.ones(3, F32))


def test_an_outer_tape_gets_eager_gradients_through_a_traced_function():
    w = nnlib.Variable([1.0, 2.0], name="outer_w")
    f = nnlib.function(lambda x: nnlib.reduce_sum(x * w * w))
    loss, grads = nnlib.implicit_value_and_gradients(lambda: f(np.ones(2, F32)))()
    assert float(loss) == 5.0
    np.testing.assert_allclose(grads[0][0].numpy(), [2.0, 4.0])


def test_nested_functions_are_inlined():
    inner = nnlib.function(lambda x: x * 3.0)
    outer = nnlib.function(lambda x: inner(x) + 1.0)
    assert float(outer(np.float32(2.0))) == 7.0
    assert float(outer(np.float32(1.0))) == 4.0
    assert inner.trace_count == 0 and outer.trace_count == 1


def test_run_functions_eagerly_skips_tracing():
    f = nnlib.function(lambda x: x + 1.0)
    previous = nnlib.run_functions_eagerly(True)
    try:
        assert float(f(np.float32(1.0))) == 2.0
        assert f.trace_count == 0
    finally:
        nnlib.run_functions_eagerly(previous)


def test_a_networks_call_can_be_replaced_by_a_traced_one():
    nnlib.random.set_seed(0)
    model = nnlib.Sequential([nnlib.layers.Dense(4), nnlib.layers.Dense(2)])
    x = _x(5, 3)
    expected = model(x).numpy()
    model.call = nnlib.function(model.call)
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6)
    assert model.call.trace_count == 1


def test_a_decorated_method_traces_per_instance():
    class Scaler:
        def __init__(self, k):
            self.k = k

        @nnlib.function
        def __call__(self, x):
            return x * self.k

    two, three = Scaler(2.0), Scaler(3.0)
    assert float(two(np.float32(1.0))) == 2.0
    assert float(three(np.float32(1.0))) == 3.0
    assert float(two(np.float32(4.0))) == 8.0


def test_the_concrete_function_lists_its_ops_with_shapes():
    f = nnlib.function(lambda x: nnlib.matmul(x, x) + 1.0, name="square_plus")
    text = str(f.get_concrete_function(np.ones((2, 2), F32)))
    assert text.splitlines()[0] == "graph square_plus(a0: float32[2, 2]):"
    assert "float32[2, 2] = matmul(a0, a0" in text
    assert "= add(" in text and text.splitlines()[-1].startswith("  return t")


def test_replays_do_not_grow_memory():
    w = nnlib.Variable(np.ones((64, 64), F32), name="memory_w")
    f = nnlib.function(lambda x: nnlib.tanh(nnlib.matmul(x, w)))
    x = np.ones((32, 64), F32)
    for _ in range(5):
        f(x)
    tracemalloc.start()
    try:
        f(x)
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(200):
            f(x)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - base < 64 * 1024


def test_numpy_of_a_traced_tensor_is_refused():
    @nnlib.function
    def f(x):
        return nnlib.constant(x.numpy() * 2.0)  # would freeze x's first value

    with pytest.raises(TracingError, match="converted to a Python numpy array"):
        f(np.ones(2, F32))


def test_python_values_returned_beside_tensors_come_back_as_they_are():
    f = nnlib.function(lambda x: (x + 1.0, True, None, 3))
    f(np.ones(2, F32))
    y, flag, nothing, three = f(np.zeros(2, F32))
    np.testing.assert_array_equal(y.numpy(), [1.0, 1.0])
    assert flag is True and nothing is None and three == 3


def test_custom_gradients_and_stop_gradient_trace():
    @nnlib.custom_gradient
    def clip_gradient(x):
        return x * 1.0, lambda dy: nnlib.clip_by_value(dy, -1.0, 1.0)

    w = nnlib.Variable([1.0, 2.0], name="custom_w")

    def step(x):
        with nnlib.GradientTape() as tape:
            y = nnlib.reduce_sum(
                5.0 * clip_gradient(x * w) + nnlib.stop_gradient(w) * x
            )
        return y, tape.gradient(y, w)

    traced = nnlib.function(step)
    for seed in range(3):
        x = _x(2, seed=seed)
        got, expected = traced(x), step(x)
        np.testing.assert_allclose(got[0].numpy(), expected[0].numpy(), rtol=1e-6)
        np.testing.assert_allclose(got[1].numpy(), expected[1].numpy(), rtol=1e-6)
    traced.get_concrete_function(_x(2))  # traced, not run eagerly
    assert traced.trace_count == 1


def test_a_variables_read_value_is_read_when_the_graph_runs():
    v = nnlib.Variable(1.0, name="read_later")
    f = nnlib.function(lambda x: x * v.read_value())
    assert float(f(np.float32(2.0))) == 2.0
    v.assign(3.0)
    assert float(f(np.float32(2.0))) == 6.0


def test_under_a_tape_a_traced_call_is_one_op_whose_gradient_is_traced():
    nnlib.random.set_seed(0)
    model = nnlib.Sequential(
        [nnlib.layers.Dense(4, activation="tanh"), nnlib.layers.Dense(1)]
    )
    model(np.zeros((1, 3), F32))

    def loss_fn(x, y):
        return nnlib.reduce_mean(nnlib.square(model(x) - y))

    traced = nnlib.function(loss_fn)
    for seed in range(3):
        x, y = _x(5, 3, seed=seed), _x(5, 1, seed=10 + seed)
        with nnlib.GradientTape(persistent=True) as tape:
            xt = nnlib.constant(x)
            tape.watch(xt)
            loss = traced(xt, y)
        got = tape.gradient(loss, [xt, *model.trainable_variables])
        if seed > 0:  # the first call traces (eagerly, op by op)
            assert tape.recorded_ops() == ["function(loss_fn)"]
        with nnlib.GradientTape() as eager_tape:
            xe = nnlib.constant(x)
            eager_tape.watch(xe)
            expected_loss = loss_fn(xe, y)
        expected = eager_tape.gradient(expected_loss, [xe, *model.trainable_variables])
        np.testing.assert_allclose(loss.numpy(), expected_loss.numpy(), rtol=1e-6)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=1e-7)
    loss_and_grads = nnlib.implicit_value_and_gradients(lambda: traced(x, y))
    _, pairs = loss_and_grads()
    assert {v.name for _, v in pairs} == {v.name for v in model.trainable_variables}


def test_under_a_tape_a_traced_call_that_writes_or_draws_runs_eagerly():
    v = nnlib.Variable(1.0, name="written_under_tape")
    traced = nnlib.function(lambda x: (v.assign_add(1.0), x * v)[1])
    for _ in range(3):
        with nnlib.GradientTape() as tape:
            x = nnlib.constant(2.0)
            tape.watch(x)
            y = traced(x)
        assert float(tape.gradient(y, x)) == float(v)
    assert float(v) == 4.0


def test_buffers_are_reused_only_where_nothing_else_sees_them():
    def f(x):
        y = nnlib.tanh(x)
        view = nnlib.reshape(y, (-1,))  # a view of y: y must not be overwritten
        z = nnlib.exp(x)
        return view, y * 2.0, z * 3.0 + 1.0

    traced = nnlib.function(f)
    source = traced.get_concrete_function(np.ones((2, 2), F32)).source
    assert "out=t0_0" not in source  # tanh's buffer has a view
    assert "out=t2_0" in source  # exp's buffer is reused by the multiply
    x = _x(2, 2, seed=3)
    for got, want in zip(traced(x), f(nnlib.constant(x))):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
