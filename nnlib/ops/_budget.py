"""The scratch-memory budget of convolutions, and the batch pieces that keep to it.

A convolution computed as one matrix product first copies its input's windows
into a matrix (im2col), ``KH * KW`` times the input's size: for the second layer
of the MNIST CNN on the 10,000 test images, 1.4 GB on top of the layer's input
and output. When that scratch would pass the budget, the convolution and its
gradients run over pieces of the batch, each piece's scratch within it. The
result is the same up to float rounding: each output element is computed by the
same products (only a kernel gradient is summed over pieces in another order).

The default, 64 MiB, comes from timing the MNIST CNN on 10,000 images at 4 to
512 MiB (``docs/benchmarks.md``): from about 16 MiB up each piece's matrix
product is long enough for BLAS to run at full speed, and above 32 MiB the
whole batch's time no longer changes; pieces of 64 MiB keep the scratch a small
fraction of a big batch's activations and far below the gigabytes a whole-batch
im2col takes, while a training batch (64 MNIST images: 5 MB) stays one piece.
"""

import operator

__all__ = ["get_conv_memory_budget", "set_conv_memory_budget"]

DEFAULT_BUDGET = 64 << 20

_budget = [DEFAULT_BUDGET]


def set_conv_memory_budget(nbytes):
    """Sets the most scratch memory a convolution may take at once.

    A convolution (``conv1d``, ``conv2d``, ``depthwise_conv2d``,
    ``conv2d_transpose``, the ``Conv`` layers) whose scratch arrays (the padded
    input and its im2col matrix, or their gradients' counterparts) would pass
    ``nbytes`` runs over pieces of its batch instead, forward and backward. The
    results equal the whole batch's up to float rounding. A single batch item
    is never split, so one item's scratch can pass a very small budget.

    Args:
        nbytes: A positive int (bytes), or None for the default (64 MiB).

    Returns:
        The previous budget, in bytes (so that it can be restored).

    Raises:
        ValueError: If ``nbytes`` is not a positive int or None.

    Examples:
        >>> previous = nnlib.ops.set_conv_memory_budget(16 << 20)
        >>> nnlib.ops.get_conv_memory_budget() // 2**20
        16
        >>> nnlib.ops.set_conv_memory_budget(previous) // 2**20
        16
    """
    if nbytes is None:
        nbytes = DEFAULT_BUDGET
    elif isinstance(nbytes, bool) or not _is_int(nbytes) or nbytes < 1:
        raise ValueError(
            f"set_conv_memory_budget: nbytes must be a positive int (bytes) or "
            f"None for the default, got {nbytes!r}"
        )
    previous, _budget[0] = _budget[0], int(nbytes)
    return previous


def get_conv_memory_budget():
    """The most scratch memory a convolution may take at once, in bytes.

    Returns:
        An int: the default (64 MiB = 67108864) unless ``set_conv_memory_budget``
        changed it.

    Examples:
        >>> nnlib.ops.get_conv_memory_budget()
        67108864
    """
    return _budget[0]


def _is_int(value):
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def batch_step(n, item_bytes):
    """How many of ``n`` batch items one piece takes when each needs ``item_bytes``
    of scratch: all of them when they fit the budget, and at least one."""
    if n * item_bytes <= _budget[0]:
        return max(n, 1)
    return max(1, _budget[0] // max(item_bytes, 1))


def pieces(n, step):
    """The ``slice`` of each piece of a batch of ``n`` in pieces of ``step``."""
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]
