"""Graph mode: ``nnlib.function`` traces eager code once and replays it fast.

See ``docs/graph.md``. The layers: ``tracer`` (a trace is an eager run,
observed), ``graph`` (its steps), ``codegen`` (the steps as compiled Python),
``function`` (the cache of traces per signature).
"""

from ..data.spec import TensorSpec
from .control_flow import cond, while_loop
from .function import (
    ConcreteFunction,
    Function,
    TracingError,
    function,
    run_functions_eagerly,
)

defun = function  # tfe's name

__all__ = [
    "ConcreteFunction",
    "Function",
    "TensorSpec",
    "TracingError",
    "cond",
    "defun",
    "function",
    "run_functions_eagerly",
    "while_loop",
]
