"""Multi-head attention (Vaswani et al., 2017) with Keras's weights and call.

The projections keep Keras's ``EinsumDense`` layouts so weights can be exchanged
with Keras: ``query``, ``key`` and ``value`` kernels (features, num_heads,
key_dim or value_dim) with biases (num_heads, key_dim or value_dim), and the
``attention_output`` kernel (num_heads, value_dim, output features) with a bias
(output features,). Each projection is one 2-D matmul on reshaped operands,
cheaper than a general einsum.
"""

import math

import numpy as np

from .. import initializers, regularizers
from .._args import boolean
from ..engine.tensor import Tensor
from ..ops import arithmetic, linalg, nn, shape
from . import _masks, _symbolic
from .base import Layer
from .core import fraction, positive_int

__all__ = ["MultiHeadAttention"]

_MASK_ARGS = ("query_mask", "value_mask", "key_mask")

# Keras's stand-in for -inf on masked scores: exp() of it is 0, and a row with
# every position masked still gets a finite (uniform) softmax.
_MASKED = -1e9


class _Projection(Layer):
    """Contracts the last ``reduced`` axes of its input with a kernel of shape
    ``those axes + out_shape`` and adds a bias of ``out_shape`` (EinsumDense)."""

    _cast_integers = True  # int64 data into a float model gives float outputs
    supports_masking = True  # position by position

    def __init__(self, reduced, out_shape, use_bias, config, **kwargs):
        super().__init__(**kwargs)
        self.reduced, self.out_shape, self.use_bias = reduced, out_shape, use_bias
        self._config = config

    def build(self, input_shape):
        c = self._config
        self.kernel = self.add_weight(
            "kernel",
            tuple(input_shape[-self.reduced :]) + self.out_shape,
            initializer=c["kernel_initializer"],
            regularizer=c["kernel_regularizer"],
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias",
                self.out_shape,
                initializer=c["bias_initializer"],
                regularizer=c["bias_regularizer"],
            )

    def call(self, inputs):
        lead = inputs.shape[: -self.reduced]
        k = math.prod(inputs.shape[-self.reduced :])
        n = math.prod(self.out_shape)
        y = linalg.matmul(
            shape.reshape(inputs, (-1, k)), shape.reshape(self.kernel, (k, n))
        )
        if self.bias is not None:
            y = y + shape.reshape(self.bias, (n,))
        return shape.reshape(y, lead + self.out_shape)


class MultiHeadAttention(Layer):
    """Scaled dot-product attention over ``num_heads`` learned projections.

    Each head projects the query to ``key_dim`` features (scaled by
    ``1 / sqrt(key_dim)``), the key to ``key_dim`` and the value to
    ``value_dim``; ``softmax(q k^T)`` over the keys weights the values; the heads'
    results are projected together to the output features.

    Args:
        num_heads: The number of heads.
        key_dim: The size of each head's query and key.
        value_dim: The size of each head's value; default ``key_dim``.
        dropout: Dropout rate on the attention probabilities (training only).
        use_bias: Whether the four projections add biases.
        output_shape: The output's last axis size (or a tuple of sizes); default
            the query's feature size.
        kernel_initializer: Default ``"glorot_uniform"``.
        bias_initializer: Default ``"zeros"``.
        kernel_regularizer: Optional regularizer of the four kernels.
        bias_regularizer: Optional regularizer of the four biases.
        seed: Optional seed for this layer's dropout masks.
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Call arguments:
        query: (batch, target length, query features).
        value: (batch, source length, value features).
        key: (batch, source length, key features); default ``value``.
        attention_mask: Optional boolean (batch, target, source) mask (or one
            that broadcasts to it): True where a query position may attend.
        return_attention_scores: Also return the attention probabilities,
            (batch, num_heads, target, source).
        training: Whether dropout is active.
        use_causal_mask: Let position ``i`` attend only to positions ``j <= i``
            (combined with ``attention_mask``).
        query_mask: Optional (batch, target) booleans, false at padded query
            positions; by default the mask ``query`` carries (from an
            ``Embedding(mask_zero=True)`` or ``Masking``).
        value_mask: Optional (batch, source) booleans, false at padded value
            positions (which no query attends to); by default ``value``'s mask.
        key_mask: Like ``value_mask``, for ``key`` (by default its mask, when
            ``key`` is given).

    The masks combine as in Keras 3: ``query_mask[:, :, None] &
    value_mask[:, None, :] & key_mask[:, None, :]``, with the causal mask and
    ``attention_mask``; the output carries the query's mask.

    Returns:
        The output (batch, target length, output features), and with
        ``return_attention_scores`` the tuple ``(output, scores)``.

    Raises:
        ValueError: For bad hyperparameters, or inputs and masks whose shapes
            do not fit, naming the layer.

    Examples:
        >>> mha = nnlib.layers.MultiHeadAttention(2, key_dim=4, name="mha_doc")
        >>> x = np.ones((3, 5, 8), np.float32)
        >>> out, scores = mha(x, x, return_attention_scores=True, use_causal_mask=True)
        >>> out.shape, scores.shape
        ((3, 5, 8), (3, 2, 5, 5))
        >>> [v.name for v in mha.variables][:2]
        ['mha_doc/query/kernel', 'mha_doc/query/bias']
    """

    _cast_integers = True  # int64 data into a float model gives float outputs
    supports_masking = True

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = positive_int(num_heads, "num_heads", "MultiHeadAttention")
        self.key_dim = positive_int(key_dim, "key_dim", "MultiHeadAttention")
        self.value_dim = (
            self.key_dim
            if value_dim is None
            else positive_int(value_dim, "value_dim", "MultiHeadAttention")
        )
        self.dropout = fraction(dropout, "dropout", "MultiHeadAttention")
        self.use_bias = boolean(use_bias, "use_bias", "MultiHeadAttention")
        if output_shape is not None:
            sizes = (
                output_shape
                if isinstance(output_shape, (tuple, list))
                else (output_shape,)
            )
            sizes = [
                positive_int(d, "output_shape", "MultiHeadAttention") for d in sizes
            ]
            output_shape = (
                tuple(sizes) if isinstance(output_shape, (tuple, list)) else sizes[0]
            )
        self.output_shape = output_shape
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def __call__(self, query, value, key=None, **kwargs):
        if not isinstance(query, Tensor) and _symbolic.is_symbolic(
            query, (value, key), kwargs
        ):
            args = (value,) if key is None else (value, key)
            return _symbolic.call(self, query, args, kwargs)
        # Build from all three shapes (the base class sees only the first input).
        given = (query, value, key)
        query, value = self._convert(query), self._convert(value)
        key = value if key is None else self._convert(key)
        # Each input's mask goes to its own argument (Keras's query_mask, ...).
        for name, original, tensor in zip(_MASK_ARGS, given, (query, value, key)):
            if original is None:
                continue
            if tensor is not original:
                _masks.carry(original, tensor)
            mask = _masks.of(tensor)
            if mask is not None and kwargs.get(name) is None:
                kwargs[name] = mask
        if not self.built:
            self._build_on((query.shape, value.shape, key.shape))
        return super().__call__(query, value, key, **kwargs)

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and isinstance(query_shape[0], (tuple, list)):
            query_shape, value_shape, key_shape = query_shape
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        for role, s in (
            ("query", query_shape),
            ("value", value_shape),
            ("key", key_shape),
        ):
            if len(s) != 3:
                raise ValueError(
                    f"layer '{self.name}' expected {role} of rank 3 (batch, length, "
                    f"features), got shape {tuple(s)}"
                )
        config = {
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "kernel_regularizer": self.kernel_regularizer,
            "bias_regularizer": self.bias_regularizer,
        }
        heads, bias = self.num_heads, self.use_bias
        out = self.output_shape if self.output_shape is not None else query_shape[-1]
        out = tuple(out) if isinstance(out, tuple) else (out,)
        projections = [
            ("query_dense", "query", query_shape, 1, (heads, self.key_dim)),
            ("key_dense", "key", key_shape, 1, (heads, self.key_dim)),
            ("value_dense", "value", value_shape, 1, (heads, self.value_dim)),
            ("output_dense", "attention_output", (heads, self.value_dim), 2, out),
        ]
        # Tracked (so named inside this layer) before they create variables.
        for attribute, name, in_shape, reduced, out_shape in projections:
            layer = _Projection(
                reduced, out_shape, bias, config, name=name, dtype=self.dtype
            )
            setattr(self, attribute, layer)
            layer._build_on(tuple(in_shape))
        self._dims = (query_shape[-1], value_shape[-1], key_shape[-1])

    def call(
        self,
        query,
        value,
        key=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
        query_mask=None,
        value_mask=None,
        key_mask=None,
    ):
        owner = f"MultiHeadAttention '{self.name}'"
        return_attention_scores = boolean(
            return_attention_scores, "return_attention_scores", owner
        )
        use_causal_mask = boolean(use_causal_mask, "use_causal_mask", owner)
        key = value if key is None else key
        self._check_inputs(query, value, key)
        mask = self._mask(query, value, attention_mask, use_causal_mask)
        mask = self._combine(mask, query, value, query_mask, value_mask, key_mask)
        q = self.query_dense(query) * (1.0 / math.sqrt(self.key_dim))
        k = self.key_dense(key)
        v = self.value_dense(value)
        # (batch, heads, target, key_dim) @ (batch, heads, key_dim, source)
        scores = linalg.matmul(
            shape.transpose(q, (0, 2, 1, 3)), shape.transpose(k, (0, 2, 3, 1))
        )
        if mask is not None:
            scores = arithmetic.where(mask, scores, _MASKED)
        probs = nn.softmax(scores, axis=-1)
        weights = probs
        if training and self.dropout > 0:
            seed = None if self._rng is None else int(self._rng.integers(2**31))
            weights = nn.dropout(probs, self.dropout, training=True, seed=seed)
        heads = linalg.matmul(weights, shape.transpose(v, (0, 2, 1, 3)))
        output = self.output_dense(shape.transpose(heads, (0, 2, 1, 3)))
        return (output, probs) if return_attention_scores else output

    def _check_inputs(self, query, value, key):
        shapes = (query.shape, value.shape, key.shape)
        fits = all(len(s) == 3 for s in shapes)
        fits = fits and tuple(s[-1] for s in shapes) == self._dims
        fits = fits and query.shape[0] == value.shape[0] == key.shape[0]
        fits = fits and value.shape[1] == key.shape[1]
        if not fits:
            q, v, k = self._dims
            raise ValueError(
                f"layer '{self.name}' expected query (batch, target, {q}), value "
                f"(batch, source, {v}) and key (batch, source, {k}), got shapes "
                f"{query.shape}, {value.shape} and {key.shape}"
            )

    def _mask(self, query, value, attention_mask, use_causal_mask):
        """The boolean (batch or 1, 1, target, source) mask, or None."""
        target, source = query.shape[1], value.shape[1]
        mask = None
        if attention_mask is not None:
            mask = np.asarray(attention_mask) != 0
            expected = (query.shape[0], target, source)
            try:
                np.broadcast_shapes(mask.shape, expected)
                ok = mask.ndim <= 3
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(
                    f"layer '{self.name}' expected attention_mask of shape "
                    f"{expected} (or broadcastable to it), got {mask.shape}"
                )
        if use_causal_mask:
            causal = np.tril(np.ones((target, source), bool))
            mask = causal if mask is None else mask & causal
        if mask is None:
            return None
        mask = mask.reshape((1,) * (3 - mask.ndim) + mask.shape)
        return mask[:, None]

    def _combine(self, mask, query, value, query_mask, value_mask, key_mask):
        """``mask`` (from ``_mask``) and the inputs' masks, Keras 3's way."""
        given = (
            (query_mask, query, (slice(None), None, slice(None), None)),
            (value_mask, value, (slice(None), None, None, slice(None))),
            (key_mask, value, (slice(None), None, None, slice(None))),
        )
        for m, tensor, where in given:
            if m is not None:
                m = _masks.step_mask(m, tensor, f"layer '{self.name}'")[where]
                mask = m if mask is None else mask & m
        return mask

    def compute_output_shape(
        self,
        query_shape,
        value_shape=None,
        key_shape=None,
        attention_mask_shape=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        """``(batch, target, output features)``; with ``return_attention_scores``
        also the scores' ``(batch, num_heads, target, source)``.

        Examples:
            >>> mha = nnlib.layers.MultiHeadAttention(2, key_dim=4)
            >>> mha.compute_output_shape((None, 5, 8), (None, 7, 6))
            (None, 5, 8)
        """
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        for role, s in (
            ("query", query_shape),
            ("value", value_shape),
            ("key", key_shape),
        ):
            if len(s) != 3:
                raise ValueError(
                    f"layer '{self.name}' expected {role} of rank 3 (batch, length, "
                    f"features), got shape {tuple(s)}"
                )
        out = self.output_shape if self.output_shape is not None else query_shape[-1]
        out = tuple(out) if isinstance(out, tuple) else (out,)
        output = (query_shape[0], query_shape[1], *out)
        if not return_attention_scores:
            return output
        scores = (query_shape[0], self.num_heads, query_shape[1], value_shape[1])
        return output, scores

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self.output_shape,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "seed": self.seed,
        }
