"""nnlib: a Keras-like neural-network library on numpy with an eager autograd engine.

Examples:
    >>> import nnlib
    >>> a = nnlib.constant([[1., 2.], [3., 4.]])
    >>> nnlib.matmul(a, a).numpy()
    array([[ 7., 10.],
           [15., 22.]], dtype=float32)
"""

from . import (
    activations,
    callbacks,
    checkpoint,
    data,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    naming,
    nn,
    optimizers,
    random,
    regularizers,
    test_util,
    train,
)
from ._version import __version__
from .checkpoint import (
    Checkpoint,
    CheckpointManager,
    latest_checkpoint,
    load_model,
    restore_variables_on_create,
)
from .engine import *
from .engine import __all__ as _engine_all
from .graph import TensorSpec, cond, defun, function, run_functions_eagerly, while_loop
from .layers import Input, KerasTensor
from .network import Model, Network, Sequential
from .ops import *
from .ops import __all__ as _ops_all
from .variable_scope import (
    AUTO_REUSE,
    VariableScope,
    clear_session,
    get_variable,
    get_variable_scope,
    name_scope,
    regularization_losses,
    variable_scope,
)

__all__ = [
    *_engine_all,
    *_ops_all,
    "AUTO_REUSE",
    "Checkpoint",
    "CheckpointManager",
    "Input",
    "KerasTensor",
    "Model",
    "Network",
    "Sequential",
    "TensorSpec",
    "VariableScope",
    "__version__",
    "clear_session",
    "cond",
    "activations",
    "callbacks",
    "checkpoint",
    "data",
    "datasets",
    "defun",
    "function",
    "graph",
    "get_variable",
    "get_variable_scope",
    "initializers",
    "latest_checkpoint",
    "load_model",
    "layers",
    "losses",
    "metrics",
    "name_scope",
    "naming",
    "nn",
    "optimizers",
    "random",
    "regularization_losses",
    "regularizers",
    "restore_variables_on_create",
    "run_functions_eagerly",
    "test_util",
    "train",
    "variable_scope",
    "while_loop",
]
