"""``tf.nn``'s names, for code ported from TensorFlow: ``nnlib.nn.relu``, ...

Each name is the nnlib op itself (``nnlib.nn.relu is nnlib.relu``), not a copy,
so its documentation is the op's. The convolutions and pools are the exception:
TensorFlow passes their strides and window sizes per input axis
(``[1, 2, 2, 1]``), padding as ``"SAME"``/``"VALID"`` and layouts as
``"NHWC"``/``"NCHW"``, so ``nnlib.nn.conv2d`` and the others (``_tf_forms.py``)
translate those forms and call ``nnlib.conv2d``; nnlib's own forms work there
too. Ops that TensorFlow keeps at the top level (``tf.gather_nd``,
``tf.one_hot``) are at nnlib's top level.

Examples:
    >>> nnlib.nn.relu is nnlib.relu
    True
    >>> nnlib.nn.softmax([1., 1.])
    nnlib.Tensor([0.5 0.5], shape=(2,), dtype=float32)
    >>> x = nnlib.ones((1, 4, 4, 3))
    >>> nnlib.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME").shape
    (1, 2, 2, 3)
"""

from ..ops import (
    batch_normalization,
    bias_add,
    dropout,
    elu,
    embedding_lookup,
    fused_batch_norm,
    gelu,
    l2_loss,
    leaky_relu,
    log_softmax,
    moments,
    relu,
    relu6,
    selu,
    sigmoid,
    sigmoid_cross_entropy_with_logits,
    silu,
    softmax,
    softmax_cross_entropy_with_logits,
    softplus,
    softsign,
    sparse_softmax_cross_entropy_with_logits,
    swish,
    tanh,
    top_k,
)
from ._tf_forms import (
    avg_pool,
    conv1d,
    conv2d,
    conv2d_transpose,
    depthwise_conv2d,
    max_pool,
)

# TensorFlow's other spellings of the same functions. The cross-entropy's labels
# get a gradient, as with TensorFlow's _v2 (TF 1's original stopped it there;
# with constant labels the two agree).
softmax_cross_entropy_with_logits_v2 = softmax_cross_entropy_with_logits
max_pool1d = max_pool2d = max_pool
avg_pool1d = avg_pool2d = avg_pool

__all__ = [
    "avg_pool",
    "avg_pool1d",
    "avg_pool2d",
    "batch_normalization",
    "bias_add",
    "conv1d",
    "conv2d",
    "conv2d_transpose",
    "depthwise_conv2d",
    "dropout",
    "elu",
    "embedding_lookup",
    "fused_batch_norm",
    "gelu",
    "l2_loss",
    "leaky_relu",
    "log_softmax",
    "max_pool",
    "max_pool1d",
    "max_pool2d",
    "moments",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "sigmoid_cross_entropy_with_logits",
    "silu",
    "softmax",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "softplus",
    "softsign",
    "sparse_softmax_cross_entropy_with_logits",
    "swish",
    "tanh",
    "top_k",
]
