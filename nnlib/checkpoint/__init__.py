"""Checkpoints: HDF5 files of weights, whole models and training states.

``Layer.save_weights``/``load_weights`` store a model's variables by name
relative to the model; ``Checkpoint`` stores a model, an optimizer (slots and
step count), step counters, callback and random states together;
``CheckpointManager`` numbers them in a folder and keeps the newest few;
``save_model``/``load_model`` (``model.save``, ``nnlib.load_model``) add the
architecture and compile settings. ``load_weights`` also reads Keras weight
files (``keras_h5``); safetensors files and PyTorch ``state_dict`` layouts go
through ``safetensors_io`` and ``torch_mapping``. Writing is atomic (temporary
file, verified, renamed into place) and every failure is a typed
``CheckpointError`` naming the file and the cause.

Examples:
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
    >>> manager = nnlib.CheckpointManager(nnlib.Checkpoint(model=model), folder)
    >>> path = manager.save()
    >>> nnlib.latest_checkpoint(folder) == path
    True
"""

from .checkpoint import Checkpoint
from .errors import (
    CheckpointConfigError,
    CheckpointCorruptError,
    CheckpointError,
    CheckpointIsADirectoryError,
    CheckpointLockedError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CheckpointReadError,
    CheckpointUnsafeError,
    CheckpointVersionError,
    CheckpointWriteError,
)
from .manager import CheckpointManager, latest_checkpoint
from .model_io import load_model, save_model
from .on_create import restore_variables_on_create
from .report import RestoreReport
from .safetensors_io import (
    load_safetensors,
    load_safetensors_weights,
    save_safetensors,
)
from .status import RestoreStatus
from .torch_mapping import (
    from_torch_state_dict,
    load_torch_safetensors,
    nchw_to_nhwc_columns,
    to_torch_state_dict,
)
from .weights import assign_arrays, load_weights, named_variables, save_weights

__all__ = [
    "Checkpoint",
    "CheckpointConfigError",
    "CheckpointCorruptError",
    "CheckpointError",
    "CheckpointIsADirectoryError",
    "CheckpointLockedError",
    "CheckpointManager",
    "CheckpointMismatchError",
    "CheckpointNotFoundError",
    "CheckpointReadError",
    "CheckpointUnsafeError",
    "CheckpointVersionError",
    "CheckpointWriteError",
    "RestoreReport",
    "RestoreStatus",
    "assign_arrays",
    "from_torch_state_dict",
    "latest_checkpoint",
    "load_model",
    "load_safetensors",
    "load_safetensors_weights",
    "load_torch_safetensors",
    "load_weights",
    "named_variables",
    "nchw_to_nhwc_columns",
    "restore_variables_on_create",
    "save_model",
    "save_safetensors",
    "save_weights",
    "to_torch_state_dict",
]
