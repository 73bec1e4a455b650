"""Callback defaults and CallbackList: order, dispatch, defaults added, params."""

import pytest

from nnlib import callbacks

INDEX_HOOKS = [
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
]
PLAIN_HOOKS = [
    "on_train_begin",
    "on_train_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_begin",
    "on_predict_end",
]


class Recorder(callbacks.Callback):
    """Appends (name, hook, args) to a shared journal for every hook."""

    def __init__(self, name, journal):
        super().__init__()
        self.name = name
        self.journal = journal
        for hook in INDEX_HOOKS:
            setattr(self, hook, self._index_hook(hook))
        for hook in PLAIN_HOOKS:
            setattr(self, hook, self._plain_hook(hook))

    def _index_hook(self, hook):
        return lambda index, logs=None: self.journal.append(
            (self.name, hook, index, logs)
        )

    def _plain_hook(self, hook):
        return lambda logs=None: self.journal.append((self.name, hook, logs))


def test_callback_hooks_do_nothing_by_default(model):
    cb = callbacks.Callback()
    assert cb.model is None and cb.params == {}
    cb.set_model(model)
    cb.set_params({"epochs": 3, "steps": 10, "verbose": 1})
    assert cb.model is model and cb.params["epochs"] == 3
    for hook in INDEX_HOOKS:
        assert getattr(cb, hook)(0, {"loss": 1.0}) is None
        assert getattr(cb, hook)(0) is None
    for hook in PLAIN_HOOKS:
        assert getattr(cb, hook)({"loss": 1.0}) is None
        assert getattr(cb, hook)() is None
    assert cb.get_state() == {}
    cb.set_state({})


def test_older_batch_hooks_are_called_by_the_train_batch_hooks():
    calls = []

    class Old(callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch))

    cbs = callbacks.CallbackList([Old()])
    cbs.on_train_batch_begin(4)
    cbs.on_train_batch_end(4, {"loss": 1.0})
    assert calls == [("begin", 4), ("end", 4)]


def test_defaults_go_after_user_callbacks():
    user = [callbacks.Callback(), callbacks.TerminateOnNaN()]
    cbs = callbacks.CallbackList(user, add_history=True, add_progbar=True)
    kinds = [type(cb) for cb in cbs.callbacks]
    assert kinds == [
        callbacks.Callback,
        callbacks.TerminateOnNaN,
        callbacks.History,
        callbacks.ProgbarLogger,
    ]
    assert cbs.history is cbs.callbacks[2]
    assert cbs.progbar is cbs.callbacks[3]


def test_given_history_and_progbar_keep_their_place_and_are_not_doubled():
    history, bar = callbacks.History(), callbacks.ProgbarLogger()
    last = callbacks.Callback()
    cbs = callbacks.CallbackList(
        [bar, history, last], add_history=True, add_progbar=True
    )
    assert cbs.callbacks == [bar, history, last]
    assert cbs.history is history and cbs.progbar is bar


def test_no_defaults_unless_asked():
    cbs = callbacks.CallbackList()
    assert cbs.callbacks == [] and cbs.history is None and cbs.progbar is None
    assert len(cbs) == 0


def test_added_progbar_gets_the_verbosity():
    cbs = callbacks.CallbackList(add_progbar=True, verbose=2, epochs=3, steps=7)
    assert cbs.progbar.verbose == 2
    assert cbs.progbar.epochs == 3 and cbs.progbar.target == 7


def test_verbose_auto_means_one():
    cbs = callbacks.CallbackList(add_progbar=True, verbose="auto")
    assert cbs.progbar.verbose == 1


def test_every_hook_reaches_every_callback_in_order():
    journal = []
    cbs = callbacks.CallbackList([Recorder("a", journal), Recorder("b", journal)])
    for hook in INDEX_HOOKS:
        journal.clear()
        getattr(cbs, hook)(3, {"loss": 2.0})
        assert journal == [
            ("a", hook, 3, {"loss": 2.0}),
            ("b", hook, 3, {"loss": 2.0}),
        ]
    for hook in PLAIN_HOOKS:
        journal.clear()
        getattr(cbs, hook)({"loss": 2.0})
        assert journal == [("a", hook, {"loss": 2.0}), ("b", hook, {"loss": 2.0})]


def test_missing_logs_become_an_empty_dict():
    journal = []
    cbs = callbacks.CallbackList([Recorder("a", journal)])
    cbs.on_epoch_end(0)
    cbs.on_train_begin()
    assert journal == [("a", "on_epoch_end", 0, {}), ("a", "on_train_begin", {})]


def test_all_callbacks_share_one_logs_dict():
    seen = []
    first = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: logs.update(extra=1.0)
    )
    second = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(dict(logs))
    )
    logs = {"loss": 0.5}
    callbacks.CallbackList([first, second]).on_epoch_end(0, logs)
    assert seen == [{"loss": 0.5, "extra": 1.0}]
    assert logs == {"loss": 0.5, "extra": 1.0}


def test_history_records_what_user_callbacks_added(model):
    add = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: logs.update(lr=0.1))
    cbs = callbacks.CallbackList([add], add_history=True, model=model)
    cbs.on_train_begin()
    cbs.on_epoch_end(0, {"loss": 1.0})
    assert cbs.history.history == {"loss": [1.0], "lr": [0.1]}


def test_set_model_and_params_reach_every_callback(model):
    inner = [callbacks.Callback(), callbacks.History()]
    cbs = callbacks.CallbackList(inner, model=model, verbose=0, epochs=4, steps=9)
    expected = {"epochs": 4, "steps": 9, "verbose": 0}
    assert cbs.params == expected
    for cb in inner:
        assert cb.model is model and cb.params == expected
    assert model.history is inner[1]
    cbs.set_params({"epochs": 1, "steps": None, "verbose": 1})
    assert inner[0].params == {"epochs": 1, "steps": None, "verbose": 1}


def test_append_gives_model_and_params(model):
    cbs = callbacks.CallbackList(model=model, epochs=2)
    late = callbacks.Callback()
    cbs.append(late)
    assert list(cbs) == [late]
    assert late.model is model and late.params["epochs"] == 2


def test_nested_lists_are_flattened_and_single_callback_accepted():
    a, b, c = callbacks.Callback(), callbacks.Callback(), callbacks.Callback()
    assert callbacks.CallbackList([a, [b, (c,)]]).callbacks == [a, b, c]
    assert callbacks.CallbackList(a).callbacks == [a]


def test_non_callback_is_a_type_error_that_says_the_fix():
    with pytest.raises(TypeError, match="LambdaCallback"):
        callbacks.CallbackList([lambda logs: None])
    with pytest.raises(TypeError, match="got 3 of type int"):
        callbacks.CallbackList([3])
