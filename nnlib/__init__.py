"""nnlib: a Keras-like neural-network library on numpy with an eager autograd engine.

Example:
    >>> import nnlib
    >>> a = nnlib.constant([[1., 2.], [3., 4.]])
    >>> nnlib.matmul(a, a).numpy()
    array([[ 7., 10.],
           [15., 22.]], dtype=float32)
"""

from . import random, test_util
from ._version import __version__
from .engine import *
from .engine import __all__ as _engine_all
from .ops import *
from .ops import __all__ as _ops_all

__all__ = sorted(set(_engine_all + _ops_all + ["random", "test_util", "__version__"]))
