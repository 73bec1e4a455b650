"""Every differentiable operation, grouped by kind, each declared once.

Importing this package binds Tensor's operators (see ``operators.py``). The
registry (``registry.REGISTRY``) lists every op with the samples its gradient is
checked on.
"""

from . import (
    activations,
    arithmetic,
    clipping,
    convolution,
    creation,
    cross_entropy,
    einstein,
    embedding,
    extrema,
    indexing,
    joining,
    linalg,
    math,
    nd_indexing,
    nn,
    normalization,
    operators,
    pooling,
    recurrent,
    recurrent_gru,
    reduction,
    sampling,
    scan,
    shape,
    sorting,
)
from ._budget import get_conv_memory_budget, set_conv_memory_budget
from .activations import *
from .arithmetic import *
from .clipping import *
from .convolution import *
from .creation import *
from .cross_entropy import *
from .einstein import *
from .embedding import *
from .extrema import *
from .indexing import *
from .joining import *
from .linalg import *
from .math import *
from .nd_indexing import *
from .nn import *
from .normalization import *
from .pooling import *
from .recurrent import *
from .recurrent_gru import *
from .reduction import *
from .sampling import *
from .scan import *
from .shape import *
from .sorting import *

operators.install()

__all__ = [
    *activations.__all__,
    *arithmetic.__all__,
    *clipping.__all__,
    *convolution.__all__,
    *creation.__all__,
    *cross_entropy.__all__,
    *einstein.__all__,
    *embedding.__all__,
    *extrema.__all__,
    *indexing.__all__,
    *joining.__all__,
    *linalg.__all__,
    *math.__all__,
    *nd_indexing.__all__,
    *nn.__all__,
    *normalization.__all__,
    *pooling.__all__,
    *recurrent.__all__,
    *recurrent_gru.__all__,
    *reduction.__all__,
    *sampling.__all__,
    *scan.__all__,
    *shape.__all__,
    *sorting.__all__,
]
