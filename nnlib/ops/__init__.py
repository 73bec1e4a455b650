"""Every differentiable operation, grouped by kind, each declared once.

Importing this package binds Tensor's operators (see ``operators.py``).
"""

from . import operators as _operators
from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations_all
from .arithmetic import *  # noqa: F401,F403
from .arithmetic import __all__ as _arithmetic_all
from .creation import *  # noqa: F401,F403
from .creation import __all__ as _creation_all
from .indexing import *  # noqa: F401,F403
from .indexing import __all__ as _indexing_all
from .linalg import *  # noqa: F401,F403
from .linalg import __all__ as _linalg_all
from .math import *  # noqa: F401,F403
from .math import __all__ as _math_all
from .nn import *  # noqa: F401,F403
from .nn import __all__ as _nn_all
from .reduction import *  # noqa: F401,F403
from .reduction import __all__ as _reduction_all
from .shape import *  # noqa: F401,F403
from .shape import __all__ as _shape_all
from .registry import REGISTRY, Sample, register

_operators.install()

__all__ = sorted(set(
    _activations_all + _arithmetic_all + _creation_all + _indexing_all + _linalg_all
    + _math_all + _nn_all + _reduction_all + _shape_all
))
