"""KerasTensor, Input/InputLayer and the op layers operators make."""

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.layers._op_layer import OpLambda


def test_input_makes_a_keras_tensor_of_its_shape_and_dtype():
    x = nnlib.Input(shape=(None, 4), dtype="int32", name="ids_kt")
    assert isinstance(x, nnlib.KerasTensor) and x.ndim == 3
    assert (x.shape, x.dtype, x.name) == ((None, None, 4), np.dtype("int32"), "ids_kt")
    assert repr(x) == "<KerasTensor shape=(None, None, 4), dtype=int32, name=ids_kt>"
    layer = x.node.layer
    assert isinstance(layer, layers.InputLayer) and layer.output is x
    assert nnlib.Input(shape=3, batch_size=2).shape == (2, 3)


def test_input_layer_configs_round_trip_and_read_keras_2_names():
    layer = layers.InputLayer(batch_shape=(None, 5), dtype="int64", name="in_cfg")
    clone = layers.InputLayer.from_config(layer.get_config())
    assert (clone.batch_shape, clone.input_dtype) == ((None, 5), np.dtype("int64"))
    keras2 = {"batch_input_shape": [None, 7], "dtype": "float32", "sparse": False}
    assert layers.InputLayer.from_config(keras2).output.shape == (None, 7)
    with pytest.raises(ValueError, match="no sparse inputs"):
        layers.InputLayer(shape=(2,), sparse=True)


def test_keras_tensors_are_hashable_and_compare_by_identity():
    x, y = nnlib.Input(shape=(2,)), nnlib.Input(shape=(2,))
    assert {x: 1, y: 2}[x] == 1
    assert [y, x].index(x) == 1 and x != y


def test_operators_make_op_layers_that_keep_dtypes():
    x = nnlib.Input(shape=(3,))
    ids = nnlib.Input(shape=(3,), dtype="int64")
    assert (x + 1).dtype == np.float32  # a Python number stays weak
    assert (ids + 1).dtype == np.int64 and (ids / 2).dtype == np.float64
    assert (x < ids).dtype == np.bool_
    assert (np.ones(3, np.float32) - x).shape == (None, 3)  # numpy defers
    assert x[..., None, 1:].shape == (None, 1, 2)
    assert (x @ np.ones((3, 5))).shape == (None, 5)
    y = 2**x
    layer = y.node.layer
    assert isinstance(layer, OpLambda) and layer.op == "power"
    assert layer([np.array([[0.0, 1.0, 3.0]], np.float32)]).numpy().tolist() == [
        [1.0, 2.0, 8.0]
    ]


def test_op_layer_configs_keep_constants_and_refuse_other_ops():
    x = nnlib.Input(shape=(4, 4))
    y = x[:, ::2, ..., np.array([0, 3])]
    config = y.node.layer.get_config()
    clone = OpLambda.from_config(config)
    data = np.arange(32, dtype=np.float32).reshape(2, 4, 4)
    np.testing.assert_array_equal(clone([data]).numpy(), data[:, ::2, ..., [0, 3]])
    with pytest.raises(ValueError, match="unknown op 'system'"):
        OpLambda.from_config({**config, "op": "system"})


def test_shape_errors_of_operators_name_the_op():
    with pytest.raises(ValueError, match=r"\(add\).*\(None, 3\), \(None, 4\)"):
        _ = nnlib.Input(shape=(3,)) + nnlib.Input(shape=(4,))
    with pytest.raises(ValueError, match=r"matmul.*3 != 2"):
        _ = nnlib.Input(shape=(3,)) @ np.ones((2, 2))
