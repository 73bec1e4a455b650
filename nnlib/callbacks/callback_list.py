"""``CallbackList``: the callbacks of one run, called as one.

The training loop calls hooks on one ``CallbackList``; the list calls the same
hook on every callback, in order, with the same ``logs`` dict, so a callback
that adds an entry (``ReduceLROnPlateau`` adds ``learning_rate``) is seen by
every callback after it.
"""

from .callback import Callback
from .history import History
from .progbar import ProgbarLogger

__all__ = ["CallbackList"]


def _flatten(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    flat = []
    for item in callbacks:
        if isinstance(item, (list, tuple)):
            flat.extend(_flatten(item))
        elif isinstance(item, Callback):
            flat.append(item)
        else:
            raise TypeError(
                f"CallbackList: expected Callback instances, got {item!r} of type "
                f"{type(item).__name__}; wrap a function in "
                "nnlib.callbacks.LambdaCallback"
            )
    return flat


def _dispatch(name, takes_index):
    """A CallbackList method that calls hook ``name`` on every callback, in order."""
    if takes_index:

        def hook(self, index, logs=None):
            logs = {} if logs is None else logs
            for callback in self.callbacks:
                getattr(callback, name)(index, logs)

    else:

        def hook(self, logs=None):
            logs = {} if logs is None else logs
            for callback in self.callbacks:
                getattr(callback, name)(logs)

    hook.__name__ = name
    hook.__doc__ = f"Calls ``{name}`` on every callback, in order."
    return hook


class CallbackList(Callback):
    """A sequence of callbacks called as one: each hook runs on each callback in order.

    Every callback receives the same ``logs`` dict object, so additions made by
    one callback are visible to the ones after it. ``History`` and
    ``ProgbarLogger``, when added here, go after the user's callbacks (as in
    Keras): the history then records, and the bar shows, what the user's
    callbacks added (such as ``learning_rate``). A ``History`` or
    ``ProgbarLogger`` given in ``callbacks`` keeps its place and no second one
    is added.

    Args:
        callbacks: A ``Callback``, a (nested) list of them, or ``None``.
        add_history: Whether to add a ``History`` if ``callbacks`` has none.
        add_progbar: Whether to add a ``ProgbarLogger(verbose)`` if
            ``callbacks`` has none.
        model: The model, passed to every callback's ``set_model``; also
            ``model.history`` is set to the ``History``, if there is one.
        verbose: 0 (silent), 1 (progress bar) or 2 (one line per epoch);
            ``"auto"`` means 1.
        epochs: The number of epochs, or ``None``.
        steps: Steps (batches) per epoch, or ``None`` when unknown.

    Raises:
        TypeError: An element of ``callbacks`` is not a ``Callback``.

    Examples:
        >>> from nnlib import callbacks
        >>> seen = []
        >>> log = callbacks.LambdaCallback(
        ...     on_epoch_end=lambda epoch, logs: seen.append(epoch))
        >>> cbs = callbacks.CallbackList([log], add_history=True, epochs=2)
        >>> [type(cb).__name__ for cb in cbs.callbacks]
        ['LambdaCallback', 'History']
        >>> cbs.on_train_begin()
        >>> for epoch in range(2):
        ...     cbs.on_epoch_begin(epoch)
        ...     cbs.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
        >>> cbs.on_train_end()
        >>> seen, cbs.history.history
        ([0, 1], {'loss': [1.0, 0.5]})
    """

    def __init__(
        self,
        callbacks=None,
        add_history=False,
        add_progbar=False,
        model=None,
        verbose=1,
        epochs=None,
        steps=None,
    ):
        super().__init__()
        self.callbacks = _flatten(callbacks)
        self.history = None
        self.progbar = None
        self._add_defaults(add_history, add_progbar, verbose)
        for callback in self.callbacks:
            self._introduce(callback)
        self.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})
        if model is not None:
            self.set_model(model)

    def _add_defaults(self, add_history, add_progbar, verbose):
        for callback in self.callbacks:
            if isinstance(callback, History) and self.history is None:
                self.history = callback
            elif isinstance(callback, ProgbarLogger) and self.progbar is None:
                self.progbar = callback
        if add_history and self.history is None:
            self.history = History()
            self.callbacks.append(self.history)
        if add_progbar and self.progbar is None:
            self.progbar = ProgbarLogger(verbose)
            self.callbacks.append(self.progbar)

    def append(self, callback):
        """Adds ``callback`` at the end, giving it the list's model and params.

        Args:
            callback: A ``Callback``.
        """
        (callback,) = _flatten([callback])
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)
        self.callbacks.append(callback)
        self._introduce(callback)

    def _introduce(self, callback):
        # A callback that saves the others' state (BackupAndRestore) sees them.
        if getattr(callback, "_restores_state", False):
            callback._peers = self.callbacks

    def _in_order(self, keepers_first):
        """The callbacks, with those that back up the others' state
        (``BackupAndRestore``) moved first or last."""
        keepers = [cb for cb in self.callbacks if getattr(cb, "_restores_state", False)]
        others = [cb for cb in self.callbacks if cb not in keepers]
        return keepers + others if keepers_first else others + keepers

    def on_train_begin(self, logs=None):
        """Calls ``on_train_begin`` of each callback, those restoring state first,
        so that each of the others starts from its restored state."""
        logs = {} if logs is None else logs
        for callback in self._in_order(keepers_first=True):
            callback.on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        """Calls ``on_epoch_end`` of each callback, those saving state last, so
        that the backup holds every state as the epoch ends."""
        logs = {} if logs is None else logs
        for callback in self._in_order(keepers_first=False):
            callback.on_epoch_end(epoch, logs)

    @property
    def resume_epoch(self):
        """The largest ``resume_epoch`` a callback set (in ``on_train_begin``),
        or ``None``: where ``fit`` goes on after an interrupted run."""
        epochs = [cb.resume_epoch for cb in self.callbacks]
        return max((e for e in epochs if e is not None), default=None)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def set_model(self, model):
        """Gives ``model`` to every callback and sets ``model.history``."""
        super().set_model(model)
        if self.history is not None and model is not None:
            model.history = self.history
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params):
        """Gives ``params`` (epochs, steps, verbose) to every callback."""
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params(self.params)

    on_train_end = _dispatch("on_train_end", False)
    on_epoch_begin = _dispatch("on_epoch_begin", True)
    on_train_batch_begin = _dispatch("on_train_batch_begin", True)
    on_train_batch_end = _dispatch("on_train_batch_end", True)
    on_batch_begin = _dispatch("on_batch_begin", True)
    on_batch_end = _dispatch("on_batch_end", True)
    on_test_begin = _dispatch("on_test_begin", False)
    on_test_end = _dispatch("on_test_end", False)
    on_test_batch_begin = _dispatch("on_test_batch_begin", True)
    on_test_batch_end = _dispatch("on_test_batch_end", True)
    on_predict_begin = _dispatch("on_predict_begin", False)
    on_predict_end = _dispatch("on_predict_end", False)
    on_predict_batch_begin = _dispatch("on_predict_batch_begin", True)
    on_predict_batch_end = _dispatch("on_predict_batch_end", True)
