"""Every differentiable operation, grouped by kind, each declared once.

Importing this package binds Tensor's operators (see ``operators.py``).
"""

from . import operators as _operators
from .arithmetic import *  # noqa: F401,F403
from .arithmetic import __all__ as _arithmetic_all
from .indexing import *  # noqa: F401,F403
from .indexing import __all__ as _indexing_all
from .linalg import *  # noqa: F401,F403
from .linalg import __all__ as _linalg_all
from .math import *  # noqa: F401,F403
from .math import __all__ as _math_all
from .reduction import *  # noqa: F401,F403
from .reduction import __all__ as _reduction_all
from .registry import REGISTRY, Sample, register
from .shape import *  # noqa: F401,F403
from .shape import __all__ as _shape_all

_operators.install()

__all__ = sorted(set(
    _arithmetic_all + _indexing_all + _linalg_all + _math_all + _reduction_all + _shape_all
))
