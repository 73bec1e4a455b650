"""LambdaCallback: functions as hooks."""

import pytest

from nnlib import callbacks


def test_given_functions_run_with_the_hook_arguments():
    calls = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin", logs)),
        on_train_end=lambda logs: calls.append(("train_end", logs)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs)),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch)),
    )
    cbs = callbacks.CallbackList([cb])
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    cbs.on_train_batch_begin(0)
    cbs.on_train_batch_end(0, {"loss": 1.0})
    cbs.on_epoch_end(0, {"loss": 1.0})
    cbs.on_train_end({"loss": 1.0})
    assert calls == [
        ("train_begin", {}),
        ("epoch_begin", 0),
        ("batch_begin", 0),
        ("batch_end", 0),
        ("epoch_end", 0, {"loss": 1.0}),
        ("train_end", {"loss": 1.0}),
    ]


def test_other_hooks_by_name():
    calls = []
    cb = callbacks.LambdaCallback(
        on_test_end=lambda logs: calls.append(("test_end", logs)),
        on_predict_batch_end=lambda batch, logs: calls.append(("predict", batch)),
    )
    cb.on_test_end({"loss": 2.0})
    cb.on_predict_batch_end(5)
    cb.on_epoch_end(0, {"loss": 2.0})  # not given: does nothing
    assert calls == [("test_end", {"loss": 2.0}), ("predict", 5)]


def test_hook_may_change_the_logs():
    cb = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: logs.update(x=1))
    logs = {}
    cb.on_epoch_end(0, logs)
    assert logs == {"x": 1}


def test_unknown_hook_name_is_an_error():
    with pytest.raises(TypeError, match="unknown hook.*on_epoch_finish"):
        callbacks.LambdaCallback(on_epoch_finish=print)


def test_non_callable_is_an_error():
    with pytest.raises(TypeError, match="on_epoch_end must be callable"):
        callbacks.LambdaCallback(on_epoch_end=3)


def test_instances_do_not_share_hooks():
    a = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: logs.update(a=1))
    b = callbacks.LambdaCallback()
    logs = {}
    b.on_epoch_end(0, logs)
    assert logs == {} and a is not b
