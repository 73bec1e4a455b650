"""Embedding: a trainable lookup table from integer ids to vectors (Keras's layer)."""

from .. import initializers, regularizers
from .._args import boolean
from ..ops import arithmetic
from ..ops.embedding import embedding_lookup
from .base import Layer
from .core import positive_int

__all__ = ["Embedding"]

# Keras's short names for its default random initializers.
_KERAS_ALIASES = {}  # "uniform" and "normal" are nnlib.initializers names now


def _initializer(identifier):
    if isinstance(identifier, str):
        identifier = _KERAS_ALIASES.get(identifier, identifier)
    return initializers.get(identifier)


class Embedding(Layer):
    """Turns integer ids into dense vectors: row ``i`` of ``embeddings`` for id ``i``.

    Inputs are integer ids of any shape, every id in ``[0, input_dim)``; the
    output has shape ``ids.shape + (output_dim,)`` and the layer's dtype. Ids are
    never cast (a float id is an error, not silently truncated). The gradient of
    ``embeddings`` is an ``IndexedSlices`` (the rows the ids read; repeated ids
    add up), which optimizers apply to those rows, as in TensorFlow.

    With ``mask_zero=True``, id 0 is reserved for padding: ``compute_mask(ids)``
    gives ``ids != 0`` for the layers downstream, so the vocabulary proper is
    ``1 .. input_dim - 1`` and ``input_dim`` should be the vocabulary size + 1.

    Args:
        input_dim: The vocabulary size (the largest id + 1).
        output_dim: The size of each vector.
        embeddings_initializer: Default ``"uniform"``: uniform in
            ``[-0.05, 0.05)``, as Keras.
        embeddings_regularizer: Optional regularizer.
        mask_zero: Whether id 0 is padding, masked out by ``compute_mask``.
        input_length: Optional fixed length of the last input axis (Keras 2's
            argument), checked on every call.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: If ``input_dim``, ``output_dim`` or ``input_length`` is not a
            positive integer (at construction), or the inputs' last axis is not
            ``input_length`` (at the call, naming the layer).
        TypeError: At the call, for ids that are not integers.
        IndexError: At the call, for a negative id or one ``>= input_dim`` (the
            id, the vocabulary size and the layer are named).

    Examples:
        >>> emb = nnlib.layers.Embedding(10, 3, mask_zero=True, name="emb_doc")
        >>> ids = np.array([[4, 2, 0]])
        >>> emb(ids).shape
        (1, 3, 3)
        >>> emb.compute_mask(ids).numpy()
        array([[ True,  True, False]])
        >>> [v.name for v in emb.variables]
        ['emb_doc/embeddings']
    """

    # Ids stay integers: the base class would cast them to the layer's float dtype.
    _autocast = False

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        mask_zero=False,
        input_length=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.input_dim = positive_int(input_dim, "input_dim", "Embedding")
        self.output_dim = positive_int(output_dim, "output_dim", "Embedding")
        self.embeddings_initializer = _initializer(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = boolean(mask_zero, "mask_zero", "Embedding")
        self.input_length = None
        if input_length is not None:
            self.input_length = positive_int(input_length, "input_length", "Embedding")

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            "embeddings",
            (self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
        )

    def call(self, inputs):
        if self.input_length is not None and (
            inputs.ndim == 0 or inputs.shape[-1] != self.input_length
        ):
            raise ValueError(
                f"layer '{self.name}' expected ids with last dimension "
                f"input_length={self.input_length}, got shape {inputs.shape}"
            )
        try:
            return embedding_lookup(self.embeddings, inputs)
        except (TypeError, IndexError) as err:
            raise type(err)(f"layer '{self.name}': {err}") from None

    def compute_mask(self, inputs, mask=None):
        """The padding mask ``inputs != 0`` (a bool Tensor), or None without
        ``mask_zero``.

        Args:
            inputs: The ids given to the layer.
            mask: The incoming mask (ignored: an embedding starts a mask).
        """
        if not self.mask_zero:
            return None
        return arithmetic.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        """``input_shape + (output_dim,)``: one vector per id.

        Examples:
            >>> nnlib.layers.Embedding(10, 3).compute_output_shape((None, 7))
            (None, 7, 3)
        """
        input_shape = tuple(input_shape)
        if self.input_length is not None and (
            not input_shape or input_shape[-1] not in (None, self.input_length)
        ):
            raise ValueError(
                f"layer '{self.name}' expected ids with last dimension "
                f"input_length={self.input_length}, got shape {input_shape}"
            )
        return input_shape + (self.output_dim,)

    def _compute_output_dtype(self, input_dtypes):
        return self.dtype  # vectors of the layer's dtype, whatever the ids' type

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(
                self.embeddings_initializer
            ),
            "embeddings_regularizer": regularizers.serialize(
                self.embeddings_regularizer
            ),
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        }
