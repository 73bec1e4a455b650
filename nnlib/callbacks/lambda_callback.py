"""``LambdaCallback``: a callback made of plain functions."""

from .callback import Callback

__all__ = ["LambdaCallback"]

_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_batch_begin",
    "on_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class LambdaCallback(Callback):
    """A callback whose hooks are the functions given; the others do nothing.

    Each function takes the hook's arguments: ``(epoch, logs)`` for epoch hooks,
    ``(batch, logs)`` for batch hooks, ``(logs)`` for begin/end hooks.

    Args:
        on_epoch_begin: ``f(epoch, logs)``, or ``None``.
        on_epoch_end: ``f(epoch, logs)``, or ``None``.
        on_train_begin: ``f(logs)``, or ``None``.
        on_train_end: ``f(logs)``, or ``None``.
        on_train_batch_begin: ``f(batch, logs)``, or ``None``.
        on_train_batch_end: ``f(batch, logs)``, or ``None``.
        **hooks: Any other hook by name (``on_test_end=...``,
            ``on_predict_batch_end=...``, ``on_batch_end=...``).

    Raises:
        TypeError: A name that is not a hook, or a value that is not callable.

    Examples:
        >>> from nnlib import callbacks
        >>> losses = []
        >>> cb = callbacks.LambdaCallback(
        ...     on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]),
        ...     on_train_end=lambda logs: print("done"))
        >>> cb.on_epoch_end(0, {"loss": 0.5})
        >>> cb.on_train_end()
        done
        >>> losses
        [0.5]
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **hooks,
    ):
        super().__init__()
        unknown = sorted(set(hooks) - set(_HOOKS))
        if unknown:
            raise TypeError(
                f"LambdaCallback: unknown hook(s) {unknown}; hooks are {list(_HOOKS)}"
            )
        hooks.update(
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
        )
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {fn!r}")
            # An instance attribute shadows the no-op method of the class.
            setattr(self, name, _hook(fn, takes_index=_takes_index(name)))


def _takes_index(name):
    return "epoch" in name or "batch" in name


def _hook(fn, takes_index):
    """``fn`` with the hook's signature (``logs`` optional, ``{}`` when omitted)."""
    if takes_index:

        def hook(index, logs=None):
            fn(index, {} if logs is None else logs)

    else:

        def hook(logs=None):
            fn({} if logs is None else logs)

    return hook
