"""Callbacks: objects that act at points of ``fit`` (and ``evaluate``, ``predict``).

The fit loop calls the hooks of one ``CallbackList``, which calls them on every
callback in order. ``History`` records the epochs (``fit`` returns it) and
``ProgbarLogger`` shows progress; the others stop training early, change the
learning rate, or write logs.

Examples:
    >>> from nnlib import callbacks
    >>> stop = callbacks.EarlyStopping(monitor="val_loss", patience=3)
    >>> cbs = callbacks.CallbackList([stop], add_history=True, epochs=10)
    >>> [type(cb).__name__ for cb in cbs]
    ['EarlyStopping', 'History']
"""

from .backup_and_restore import BackupAndRestore
from .callback import Callback
from .callback_list import CallbackList
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .history import History
from .lambda_callback import LambdaCallback
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .model_checkpoint import ModelCheckpoint
from .progbar import Progbar, ProgbarLogger
from .terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "Progbar",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
