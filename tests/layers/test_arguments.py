"""Bad constructor arguments of the layers: a typed error naming the argument.

One table, one row per bad input: (what is built, exception type, a regex the
message must match, naming the argument and what it expected). A string where a
boolean belongs is the classic: ``use_bias="no"`` is truthy and used to build a
bias. Add a row for every new argument check.
"""

import numpy as np
import pytest

import nnlib
from nnlib import layers

BOOL = r"must be True or False, got 'no' \(str\)"

# (id, constructor call, exception type, message regex)
BAD_ARGUMENTS = [
    ("Dense.use_bias", lambda: layers.Dense(3, use_bias="no"), TypeError, BOOL),
    (
        "Conv2D.use_bias",
        lambda: layers.Conv2D(2, 3, use_bias="no"),
        TypeError,
        "Conv2D: use_bias " + BOOL,
    ),
    (
        "Conv1D.use_bias",
        lambda: layers.Conv1D(2, 3, use_bias="no"),
        TypeError,
        "Conv1D: use_bias",
    ),
    (
        "Conv2DTranspose.use_bias",
        lambda: layers.Conv2DTranspose(2, 3, use_bias="no"),
        TypeError,
        "Conv2DTranspose: use_bias",
    ),
    (
        "DepthwiseConv2D.use_bias",
        lambda: layers.DepthwiseConv2D(3, use_bias="no"),
        TypeError,
        "DepthwiseConv2D: use_bias",
    ),
    (
        "MultiHeadAttention.use_bias",
        lambda: layers.MultiHeadAttention(2, 4, use_bias="no"),
        TypeError,
        "MultiHeadAttention: use_bias " + BOOL,
    ),
    (
        "BatchNormalization.center",
        lambda: layers.BatchNormalization(center="no"),
        TypeError,
        "BatchNormalization: center " + BOOL,
    ),
    (
        "BatchNormalization.scale",
        lambda: layers.BatchNormalization(scale="False"),
        TypeError,
        "BatchNormalization: scale must be True or False, got 'False'",
    ),
    (
        "LayerNormalization.center",
        lambda: layers.LayerNormalization(center="no"),
        TypeError,
        "LayerNormalization: center " + BOOL,
    ),
    (
        "LayerNormalization.scale",
        lambda: layers.LayerNormalization(scale=1),
        TypeError,
        r"LayerNormalization: scale must be True or False, got 1 \(int\)",
    ),
    (
        "Embedding.mask_zero",
        lambda: layers.Embedding(5, 2, mask_zero="yes"),
        TypeError,
        "Embedding: mask_zero must be True or False",
    ),
    (
        "GlobalAveragePooling2D.keepdims",
        lambda: layers.GlobalAveragePooling2D(keepdims="no"),
        TypeError,
        "GlobalAveragePooling2D: keepdims " + BOOL,
    ),
    (
        "GlobalMaxPooling1D.keepdims",
        lambda: layers.GlobalMaxPooling1D(keepdims="no"),
        TypeError,
        "GlobalMaxPooling1D: keepdims",
    ),
    ("SimpleRNN.use_bias", lambda: layers.SimpleRNN(3, use_bias="no"), TypeError, BOOL),
    (
        "LSTM.return_sequences",
        lambda: layers.LSTM(3, return_sequences="no"),
        TypeError,
        "LSTM: return_sequences " + BOOL,
    ),
    (
        "LSTM.return_state",
        lambda: layers.LSTM(3, return_state="no"),
        TypeError,
        "LSTM: return_state " + BOOL,
    ),
    (
        "GRU.go_backwards",
        lambda: layers.GRU(3, go_backwards="no"),
        TypeError,
        "GRU: go_backwards " + BOOL,
    ),
    (
        "LSTM.unit_forget_bias",
        lambda: layers.LSTM(3, unit_forget_bias="no"),
        TypeError,
        "LSTM: unit_forget_bias " + BOOL,
    ),
    (
        "GRU.reset_after",
        lambda: layers.GRU(3, reset_after="no"),
        TypeError,
        "GRU: reset_after " + BOOL,
    ),
    (
        "Bidirectional(Dense)",
        lambda: layers.Bidirectional(layers.Dense(3)),
        TypeError,
        r"Bidirectional: layer must be a recurrent layer.*got Dense",
    ),
    (
        "Bidirectional(backward_layer=Dense)",
        lambda: layers.Bidirectional(layers.LSTM(3), backward_layer=layers.Dense(3)),
        TypeError,
        r"Bidirectional: backward_layer must be a recurrent layer.*got Dense",
    ),
    (
        "Dropout('x')",
        lambda: layers.Dropout("x"),
        TypeError,
        r"Dropout: rate must be a number in \[0, 1\), got 'x' \(str\)",
    ),
    (
        "Dropout(None)",
        lambda: layers.Dropout(None),
        TypeError,
        r"Dropout: rate must be a number in \[0, 1\), got None",
    ),
    (
        "Dropout(True)",
        lambda: layers.Dropout(True),
        TypeError,
        r"Dropout: rate must be a number in \[0, 1\), got True \(bool\)",
    ),
    (
        "Dropout(1.5)",
        lambda: layers.Dropout(1.5),
        ValueError,
        r"Dropout: rate must be in \[0, 1\), got 1.5",
    ),
    (
        "Dropout(-0.1)",
        lambda: layers.Dropout(-0.1),
        ValueError,
        r"Dropout: rate must be in \[0, 1\), got -0.1",
    ),
    (
        "Dropout(nan)",
        lambda: layers.Dropout(float("nan")),
        ValueError,
        r"Dropout: rate must be in \[0, 1\), got nan",
    ),
    (
        "MultiHeadAttention.dropout",
        lambda: layers.MultiHeadAttention(2, 4, dropout="0.1"),
        TypeError,
        r"MultiHeadAttention: dropout must be a number in \[0, 1\), got '0.1'",
    ),
    (
        "LSTM.stateful",
        lambda: layers.LSTM(3, stateful="no"),
        TypeError,
        "LSTM: stateful " + BOOL,
    ),
    (
        "GRU.time_major",
        lambda: layers.GRU(3, time_major="no"),
        TypeError,
        "GRU: time_major " + BOOL,
    ),
    (
        "RNN.return_state",
        lambda: layers.RNN(layers.LSTMCell(3), return_state="no"),
        TypeError,
        "RNN: return_state " + BOOL,
    ),
    (
        "RNN(Dense)",
        lambda: layers.RNN(layers.Dense(3)),
        ValueError,
        r"RNN: a cell must have a state_size.*got <Dense",
    ),
    (
        "LSTMCell.use_bias",
        lambda: layers.LSTMCell(3, use_bias="no"),
        TypeError,
        "LSTMCell: use_bias " + BOOL,
    ),
    (
        "GRUCell.units",
        lambda: layers.GRUCell(0),
        ValueError,
        "GRUCell: units must be a positive integer, got 0",
    ),
    (
        "SimpleRNNCell.dropout('x')",
        lambda: layers.SimpleRNNCell(3, dropout="x"),
        TypeError,
        r"SimpleRNNCell: dropout must be a number in \[0, 1\), got 'x'",
    ),
    (
        "LSTM.dropout(0.5)",
        lambda: layers.LSTM(3, dropout=0.5),
        ValueError,
        r"LSTM: dropout=0.5 is not supported.*Dropout layer",
    ),
    (
        "StackedRNNCells([])",
        lambda: layers.StackedRNNCells([]),
        ValueError,
        "StackedRNNCells: cells must be a non-empty list",
    ),
]


@pytest.mark.parametrize(
    "build, error, match",
    [pytest.param(*row[1:], id=row[0]) for row in BAD_ARGUMENTS],
)
def test_bad_constructor_argument_raises_naming_it(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize(
    "build, attribute",
    [
        (lambda v: layers.Dense(2, use_bias=v), "use_bias"),
        (lambda v: layers.LSTM(2, return_sequences=v), "return_sequences"),
        (lambda v: layers.BatchNormalization(center=v), "center"),
    ],
)
def test_numpy_booleans_are_accepted(build, attribute):
    import numpy as np

    assert getattr(build(np.bool_(False)), attribute) is False
    assert getattr(build(True), attribute) is True


@pytest.mark.parametrize(
    "build",
    [
        lambda: layers.Dense(3, trainable="no"),
        lambda: nnlib.Variable(1.0, name="v", trainable="False"),
    ],
    ids=["Layer.trainable", "Variable.trainable"],
)
def test_trainable_must_be_a_boolean(build):
    with pytest.raises(TypeError, match=r"trainable must be True or False, got '"):
        build()


def test_setting_trainable_to_a_string_is_refused_and_changes_nothing():
    layer = layers.Dense(2)
    with pytest.raises(TypeError, match=r"layer 'dense\w*': trainable must be True"):
        layer.trainable = "no"
    assert layer.trainable is True


@pytest.mark.parametrize(
    "model",
    [
        lambda: layers.Dense(2),
        lambda: nnlib.Sequential([layers.Dense(2, input_shape=(3,))]),
    ],
    ids=["unbuilt layer", "built model"],
)
def test_calling_a_layer_with_none_names_the_layer_and_what_it_expects(model):
    with pytest.raises(TypeError, match=r"layer '\w+' was called with None; expected"):
        model()(None)


@pytest.mark.parametrize("flag", ["return_attention_scores", "use_causal_mask"])
def test_attention_call_flags_refuse_strings(flag):
    mha = layers.MultiHeadAttention(2, 4)
    x = np.ones((1, 3, 4), np.float32)
    with pytest.raises(TypeError, match=rf"{flag} must be True or False, got 'no'"):
        mha(x, x, **{flag: "no"})
