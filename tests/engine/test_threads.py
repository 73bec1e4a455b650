"""Tapes in several threads at once: each records its own thread's ops, exactly."""

import sys
import threading
import warnings

import numpy as np
import pytest

import nnlib
from nnlib.engine import tape as _tape

_THREADS = 8
_STEPS = 600


@pytest.fixture
def fast_switching():
    """Switches threads every microsecond, so tapes enter and leave mid-op."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _run_in_threads(step, steps):
    """Runs ``step(k, i)`` for ``i < steps`` in each of several threads started
    together; returns what went wrong, one line per failed step."""
    errors = []
    start = threading.Barrier(_THREADS)

    def run(k):
        start.wait()
        for i in range(steps):
            try:
                step(k, i)
            except Exception as err:  # noqa: BLE001 - the test reports them all
                errors.append(f"thread {k}, step {i}: {type(err).__name__}: {err}")

    threads = [threading.Thread(target=run, args=(k,)) for k in range(_THREADS)]
    # A None gradient warns, then fails float(); catch_warnings is process-wide,
    # so it is set once here rather than in each thread.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return errors


def test_tapes_in_concurrent_threads_record_every_op_of_their_own_thread(
    fast_switching,
):
    variables = [nnlib.Variable(float(k + 1), name=f"v{k}") for k in range(_THREADS)]

    def step(k, i):
        v, c = variables[k], float(i % 7 + 1)
        x = nnlib.constant(c)
        with nnlib.GradientTape() as tape:
            tape.watch(x)
            y = x * x * v + nnlib.tanh(x) * 0.0 + x  # dy/dx = 2xv + 1, dy/dv = x^2
        gx, gv = tape.gradient(y, [x, v])
        assert (float(gx), float(gv)) == (2 * c * (k + 1) + 1, c * c)
        (g,) = nnlib.gradients_function(lambda t: t * t * t)(c)
        assert float(g) == 3 * c * c
        grads = nnlib.implicit_gradients(lambda: v * v)()
        assert float(grads[0][0]) == 2.0 * (k + 1)

    errors = _run_in_threads(step, _STEPS)
    assert errors == [], f"{len(errors)} wrong steps, the first: {errors[0]}"
    assert _tape.ACTIVE == []


def test_nested_tapes_and_custom_gradients_in_concurrent_threads(fast_switching):
    @nnlib.custom_gradient
    def cube(x):
        return x * x * x, lambda dy: dy * 3.0 * x * x

    def step(k, i):
        c = float(k + i % 5 + 1)
        (g2,) = nnlib.gradients_function(nnlib.gradients_function(cube))(c)
        assert float(g2) == 6.0 * c
        x = nnlib.constant(np.full(3, c))
        with nnlib.GradientTape() as outer:
            outer.watch(x)
            with nnlib.GradientTape() as inner:
                inner.watch(x)
                y = nnlib.reduce_sum(x * x * x)
            dx = inner.gradient(y, x)
        np.testing.assert_array_equal(dx.numpy(), 3 * c * c)
        np.testing.assert_array_equal(outer.gradient(dx, x).numpy(), 6 * c)

    errors = _run_in_threads(step, _STEPS // 3)
    assert errors == [], f"{len(errors)} wrong steps, the first: {errors[0]}"
    assert _tape.ACTIVE == []


def test_a_thread_without_a_tape_records_nothing_while_others_record():
    seen = []
    ready, done = threading.Event(), threading.Event()

    def recorder():
        x = nnlib.constant(2.0)
        with nnlib.GradientTape() as tape:
            tape.watch(x)
            ready.set()
            done.wait(5)
            y = x * x
        seen.append((tape.recorded_ops(), float(tape.gradient(y, x))))

    worker = threading.Thread(target=recorder)
    worker.start()
    assert ready.wait(5)
    assert _tape.ACTIVE  # the other thread's tape is active ...
    assert not _tape.needs_gradient(nnlib.Variable(1.0))  # ... but not for this thread
    with nnlib.GradientTape() as mine:
        z = nnlib.constant(3.0)
        mine.watch(z)
        w = z * z
    done.set()
    worker.join()
    assert float(mine.gradient(w, z)) == 6.0
    assert seen == [(["multiply"], 4.0)]
    assert _tape.ACTIVE == []


def test_a_tape_entered_in_one_thread_can_leave_from_another():
    def steps():
        x = nnlib.constant(3.0)
        with nnlib.GradientTape() as tape:
            tape.watch(x)
            y = x * x
            yield
        yield tape.gradient(y, x)

    gen = steps()
    next(gen)  # the tape is entered here, in the main thread
    results = []
    worker = threading.Thread(target=lambda: results.append(next(gen)))
    worker.start()  # ... and leaves in the worker
    worker.join()
    assert float(results[0]) == 6.0
    assert _tape.ACTIVE == [] and _tape.observers() == ()


def test_the_numeric_checker_sees_every_threads_ops():
    errors = []

    def divide():
        try:
            with np.errstate(divide="ignore"):
                nnlib.log(nnlib.constant([0.0]))
        except FloatingPointError as err:
            errors.append(str(err))

    with nnlib.seterr(inf_or_nan="raise"):
        worker = threading.Thread(target=divide)
        worker.start()
        worker.join()
    assert errors and "op 'log'" in errors[0]
    assert _tape.ACTIVE == []
