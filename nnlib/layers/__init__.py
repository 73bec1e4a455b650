"""The standard layers, grouped by kind, and the ``Layer`` base class."""

from .attention import MultiHeadAttention
from .base import InputSpec, Layer, get_layer_class
from .batch_normalization import BatchNormalization
from .bidirectional import Bidirectional
from .convolutional import Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D
from .core import Activation, Dense, Dropout, Flatten, Lambda, Permute, Reshape
from .embedding import Embedding
from .gated_cells import GRUCell, LSTMCell
from .input_layer import Input, InputLayer
from .keras_tensor import KerasTensor
from .masking import Masking
from .merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)
from .normalization import LayerNormalization
from .pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from .recurrent import GRU, LSTM, SimpleRNN
from .recurrent_cells import SimpleRNNCell
from .rnn import RNN
from .stacked_cells import StackedRNNCells

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Activation",
    "Add",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "BatchNormalization",
    "Bidirectional",
    "Concatenate",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Dense",
    "DepthwiseConv2D",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "InputSpec",
    "KerasTensor",
    "LSTMCell",
    "Lambda",
    "Layer",
    "LayerNormalization",
    "Masking",
    "MaxPooling1D",
    "MaxPooling2D",
    "Maximum",
    "Minimum",
    "MultiHeadAttention",
    "Multiply",
    "Permute",
    "Reshape",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNNCells",
    "Subtract",
    "get_layer_class",
]
