"""compute_output_shape of every built-in layer agrees with the real output.

Each case is called on data; its ``compute_output_shape`` must give the
output's shape for the data's shape, and for the same shape with the batch
(and, where given, other sizes) unknown it must give None exactly there.
"""

import inspect

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.engine import nest
from nnlib.layers._symbolic import is_shape
from nnlib.variable_scope import scope_in_use

_RNG = np.random.default_rng(0)


def _x(*shape):
    return _RNG.normal(size=shape).astype(np.float32)


# name -> (make the layer, the inputs, axes of the input that may be unknown)
CASES = {
    "Dense": (lambda: layers.Dense(3), _x(2, 5, 4), (0, 1)),
    "Activation": (lambda: layers.Activation("relu"), _x(2, 3), (0,)),
    "Dropout": (lambda: layers.Dropout(0.5), _x(2, 3), (0,)),
    "Flatten": (lambda: layers.Flatten(), _x(2, 3, 4), (0,)),
    "Reshape": (lambda: layers.Reshape((-1, 2)), _x(2, 6), (0,)),
    "Permute": (lambda: layers.Permute((2, 1)), _x(2, 3, 4), (0, 1)),
    "Lambda": (lambda: layers.Lambda(lambda t: t[:, :2] * 2), _x(2, 5), (0,)),
    "Conv1D": (lambda: layers.Conv1D(2, 3, strides=2), _x(2, 9, 3), (0, 1)),
    "Conv2D": (
        lambda: layers.Conv2D(2, 3, padding="same", strides=2),
        _x(2, 7, 6, 3),
        (0, 1, 2),
    ),
    "Conv2DTranspose": (
        lambda: layers.Conv2DTranspose(2, 3, strides=2),
        _x(1, 3, 4, 2),
        (0, 1),
    ),
    "DepthwiseConv2D": (
        lambda: layers.DepthwiseConv2D(
            2, depth_multiplier=2, data_format="channels_first"
        ),
        _x(1, 2, 5, 5),
        (0, 2, 3),
    ),
    "MaxPooling1D": (
        lambda: layers.MaxPooling1D(2, padding="same"),
        _x(2, 7, 2),
        (0, 1),
    ),
    "MaxPooling2D": (lambda: layers.MaxPooling2D(3, strides=2), _x(2, 8, 7, 2), (0, 1)),
    "AveragePooling1D": (lambda: layers.AveragePooling1D(3), _x(2, 7, 2), (0, 1)),
    "AveragePooling2D": (lambda: layers.AveragePooling2D(), _x(2, 4, 5, 2), (0,)),
    "GlobalAveragePooling1D": (
        lambda: layers.GlobalAveragePooling1D(),
        _x(2, 5, 3),
        (0, 1),
    ),
    "GlobalAveragePooling2D": (
        lambda: layers.GlobalAveragePooling2D(keepdims=True),
        _x(2, 3, 3, 2),
        (0, 1),
    ),
    "GlobalMaxPooling1D": (lambda: layers.GlobalMaxPooling1D(), _x(2, 5, 3), (0,)),
    "GlobalMaxPooling2D": (
        lambda: layers.GlobalMaxPooling2D(data_format="channels_first"),
        _x(2, 3, 3, 2),
        (0, 2),
    ),
    "BatchNormalization": (lambda: layers.BatchNormalization(), _x(6, 3), (0,)),
    "LayerNormalization": (lambda: layers.LayerNormalization(), _x(2, 5), (0,)),
    "Embedding": (lambda: layers.Embedding(5, 3), _RNG.integers(0, 5, (2, 4)), (0, 1)),
    "Masking": (lambda: layers.Masking(), _x(2, 4, 3), (0, 1)),
    "SimpleRNN": (
        lambda: layers.SimpleRNN(3, return_sequences=True),
        _x(2, 4, 3),
        (0, 1),
    ),
    "LSTM": (lambda: layers.LSTM(3, return_state=True), _x(2, 3, 2), (0, 1)),
    "GRU": (lambda: layers.GRU(3), _x(2, 3, 2), (0, 1)),
    "Bidirectional": (
        lambda: layers.Bidirectional(layers.LSTM(2, return_sequences=True)),
        _x(2, 3, 4),
        (0, 1),
    ),
    "RNN": (
        lambda: layers.RNN(
            [layers.LSTMCell(3), layers.GRUCell(2)],
            return_sequences=True,
            return_state=True,
            time_major=True,
        ),
        _x(4, 2, 3),
        (0, 1),
    ),
    # A cell's inputs: (one step, its states).
    "SimpleRNNCell": (lambda: layers.SimpleRNNCell(3), (_x(2, 4), _x(2, 3)), (0,)),
    "LSTMCell": (lambda: layers.LSTMCell(3), (_x(2, 4), [_x(2, 3), _x(2, 3)]), (0,)),
    "GRUCell": (lambda: layers.GRUCell(3), (_x(2, 4), [_x(2, 3)]), (0,)),
    "StackedRNNCells": (
        lambda: layers.StackedRNNCells([layers.LSTMCell(3), layers.GRUCell(2)]),
        (_x(2, 4), [[_x(2, 3), _x(2, 3)], [_x(2, 2)]]),
        (0,),
    ),
    "MultiHeadAttention": (
        lambda: layers.MultiHeadAttention(2, key_dim=3, output_shape=5),
        [_x(2, 4, 6), _x(2, 3, 6)],
        (0, 1),
    ),
    "InputLayer": (lambda: layers.InputLayer(shape=(3,)), _x(2, 3), (0,)),
    "Add": (lambda: layers.Add(), [_x(2, 3), _x(2, 1)], (0,)),
    "Subtract": (lambda: layers.Subtract(), [_x(2, 3), _x(2, 3)], (0,)),
    "Multiply": (lambda: layers.Multiply(), [_x(2, 1, 3), _x(4, 3), _x(2, 4, 3)], (0,)),
    "Average": (lambda: layers.Average(), [_x(2, 3), _x(2, 3)], (0,)),
    "Maximum": (lambda: layers.Maximum(), [_x(2, 3), _x(2, 3)], (0,)),
    "Minimum": (lambda: layers.Minimum(), [_x(2, 3), _x(2, 3)], (0,)),
    "Concatenate": (lambda: layers.Concatenate(axis=1), [_x(2, 3), _x(2, 5)], (0,)),
}
# Their shapes come from running them (user functions, the base class).
TRACED = {"Lambda", "Layer"}


def _exported_layers():
    return {
        name
        for name, obj in vars(layers).items()
        if inspect.isclass(obj) and issubclass(obj, layers.Layer)
    }


def test_every_exported_layer_is_covered():
    assert _exported_layers() - set(CASES) - {"Layer"} == set()


def test_every_built_in_layer_computes_its_shape_without_running():
    base = layers.Layer.compute_output_shape
    for name in _exported_layers() - TRACED:
        assert getattr(layers, name).compute_output_shape is not base, name


def _several_arguments(layer):
    """Layers called with several arguments (cells: inputs and states)."""
    return isinstance(layer, layers.MultiHeadAttention) or hasattr(layer, "state_size")


def _call(layer, x):
    if _several_arguments(layer) and not isinstance(layer, layers.RNN):
        return layer(*x)
    return layer(x)


def _shape_of(x, unknown=()):
    return tuple(None if axis in unknown else d for axis, d in enumerate(np.shape(x)))


def _input_shapes(layer, x, unknown=()):
    if isinstance(x, (list, tuple)):
        return nest.pack_as(x, [_shape_of(item, unknown) for item in nest.flatten(x)])
    return _shape_of(x, unknown)


def _compute(layer, shapes):
    if _several_arguments(layer) and not isinstance(layer, layers.RNN):
        return layer.compute_output_shape(*shapes)
    return layer.compute_output_shape(shapes)


def _flat_shapes(out):
    return [tuple(np.shape(t)) for t in nest.flatten(out)]


def _flat_computed(computed):
    if is_shape(computed):
        return [tuple(computed)]
    return [shape for part in computed for shape in _flat_computed(part)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_compute_output_shape_matches_the_real_output(name):
    make, x, unknown = CASES[name]
    layer = make()
    real = _flat_shapes(_call(layer, x))
    assert _flat_computed(_compute(layer, _input_shapes(layer, x))) == real
    with_unknown = _flat_computed(_compute(make(), _input_shapes(layer, x, unknown)))
    assert len(with_unknown) == len(real)
    for computed, actual in zip(with_unknown, real):
        assert len(computed) == len(actual)
        # An unknown input size may leave an output size unknown, never wrong.
        assert all(c is None or c == a for c, a in zip(computed, actual)), name
        assert computed[0] is None  # the batch axis stays unknown


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_symbolic_call_gives_the_real_shape_and_dtype(name):
    make, x, unknown = CASES[name]
    if name == "InputLayer":
        return  # an InputLayer makes its KerasTensor; it is not called on one
    real = _call(make(), x)
    inputs = [
        nnlib.Input(batch_shape=_shape_of(item, unknown), dtype=np.asarray(item).dtype)
        for item in nest.flatten(x)
    ]
    layer = make()
    symbolic = _call(layer, nest.pack_as(x, inputs))
    assert not layer.built and layer.variables == []  # the model builds it
    flat_real, flat_symbolic = nest.flatten(real), nest.flatten(symbolic)
    for kt, tensor in zip(flat_symbolic, flat_real, strict=True):
        assert isinstance(kt, nnlib.KerasTensor)
        assert kt.dtype == tensor.dtype
        assert all(k is None or k == t for k, t in zip(kt.shape, tensor.shape))


def test_shape_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r"layer 'dense_err'.*\(None,\)"):
        layers.Dense(2, name="dense_err").compute_output_shape((None,))
    with pytest.raises(ValueError, match=r"conv_err.*rank 4.*\(None, 3\)"):
        layers.Conv2D(2, 3, name="conv_err").compute_output_shape((None, 3))
    with pytest.raises(ValueError, match=r"pool_err.*larger than the input"):
        layers.MaxPooling2D(3, name="pool_err").compute_output_shape((None, 2, 2, 1))
    with pytest.raises(ValueError, match=r"reshape_err.*\(None, 5\)"):
        layers.Reshape((2, 2), name="reshape_err").compute_output_shape((None, 5))
    with pytest.raises(ValueError, match=r"cat_err.*\[\(None, 3\), \(None, 2, 1\)\]"):
        layers.Concatenate(name="cat_err").compute_output_shape(
            [(None, 3), (None, 2, 1)]
        )


def test_the_default_runs_the_layer_and_keeps_no_variable():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", shape=(input_shape[-1],))

        def call(self, inputs):
            return nnlib.concat([inputs * self.w, inputs], axis=1)

    layer = Scale(name="scale_trace")
    assert layer.compute_output_shape((None, 3)) == (None, 6)
    assert layer.compute_output_shape((None, None)) == (None, None)
    assert not layer.built and layer.variables == []
    assert not scope_in_use("scale_trace")  # the trace's variable is gone
    layer(np.ones((2, 3), np.float32))  # builds for real afterwards
    assert [v.name for v in layer.variables] == ["scale_trace/w"]
