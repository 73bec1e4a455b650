"""tfe's names that ported code calls: nnlib.nn, nnlib.train, Variable.read_value,
Network.get_layer, name=""."""

import numpy as np
import pytest

import nnlib
from nnlib import layers

# -- nnlib.nn ---------------------------------------------------------------------

_ALIASES = [
    "batch_normalization",
    "bias_add",
    "dropout",
    "elu",
    "embedding_lookup",
    "fused_batch_norm",
    "gelu",
    "l2_loss",
    "leaky_relu",
    "log_softmax",
    "moments",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "sigmoid_cross_entropy_with_logits",
    "silu",
    "softmax",
    "softmax_cross_entropy_with_logits",
    "softplus",
    "softsign",
    "sparse_softmax_cross_entropy_with_logits",
    "swish",
    "tanh",
    "top_k",
]


@pytest.mark.parametrize("name", _ALIASES)
def test_nn_names_are_the_ops_themselves(name):
    assert getattr(nnlib.nn, name) is getattr(nnlib, name)
    assert name in nnlib.nn.__all__


def test_nn_other_spellings_are_the_same_functions():
    nn = nnlib.nn
    assert (
        nn.softmax_cross_entropy_with_logits_v2
        is nnlib.softmax_cross_entropy_with_logits
    )
    assert nn.max_pool2d is nn.max_pool1d is nn.max_pool
    assert nn.avg_pool2d is nn.avg_pool1d is nn.avg_pool
    assert nnlib.ops.nn is not nnlib.nn  # the op module is not shadowed
    assert set(nn.__all__) <= set(dir(nn))


def _image(shape=(2, 5, 6, 3), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize(
    "tf_kwargs, nnlib_kwargs",
    [
        ({"strides": [1, 1, 1, 1], "padding": "VALID"}, {}),
        ({"strides": [1, 2, 2, 1], "padding": "SAME"}, {"strides": 2, "padding": "same"}),
        ({"strides": [1, 2, 1, 1], "padding": "SAME", "dilations": [1, 1, 2, 1]},
         {"strides": (2, 1), "padding": "same", "dilation": (1, 2)}),
        ({"strides": 1, "padding": [[0, 0], [1, 2], [0, 1], [0, 0]]},
         {"padding": ((1, 2), (0, 1))}),
    ],
)  # fmt: skip
def test_nn_conv2d_takes_tensorflow_forms(tf_kwargs, nnlib_kwargs):
    x, k = _image(), _image((3, 2, 3, 4), seed=1)
    want = nnlib.conv2d(x, k, **nnlib_kwargs).numpy()
    np.testing.assert_array_equal(nnlib.nn.conv2d(x, k, **tf_kwargs).numpy(), want)
    np.testing.assert_array_equal(
        nnlib.nn.conv2d(input=x, filter=k, use_cudnn_on_gpu=True, **tf_kwargs).numpy(),
        want,
    )


def test_nn_conv2d_channels_first_strides():
    x = _image((1, 3, 6, 6))
    k = _image((3, 3, 3, 2), seed=2)
    got = nnlib.nn.conv2d(x, k, [1, 1, 2, 2], "SAME", data_format="NCHW")
    want = nnlib.conv2d(x, k, 2, "same", data_format="channels_first")
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("op", ["max_pool", "avg_pool"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_nn_pools_take_ksize_and_strides_per_axis(op, padding):
    x = _image()
    got = getattr(nnlib.nn, op)(x, [1, 3, 2, 1], [1, 2, 2, 1], padding)
    want = getattr(nnlib, op)(x, (3, 2), (2, 2), padding.lower())
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    one_d = getattr(nnlib.nn, op)(value=x[:, 0], ksize=[1, 2, 1], strides=[1, 2, 1])
    assert one_d.shape == (2, 3, 3)


def test_nn_conv1d_depthwise_and_transpose_take_tensorflow_forms():
    x = _image((2, 7, 3))
    k = _image((3, 3, 4), seed=3)
    np.testing.assert_array_equal(
        nnlib.nn.conv1d(x, k, 2, "SAME").numpy(),
        nnlib.conv1d(x, k, 2, "same").numpy(),
    )
    img, dk = _image(), _image((2, 2, 3, 2), seed=4)
    np.testing.assert_array_equal(
        nnlib.nn.depthwise_conv2d(img, dk, [1, 1, 1, 1], "VALID", rate=[2, 2]).numpy(),
        nnlib.depthwise_conv2d(img, dk, dilation=2).numpy(),
    )
    y, tk = _image((1, 3, 3, 4)), _image((3, 3, 2, 4), seed=5)
    got = nnlib.nn.conv2d_transpose(y, tk, nnlib.constant([1, 6, 6, 2]), [1, 2, 2, 1])
    want = nnlib.conv2d_transpose(y, tk, (6, 6), 2, "same")
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x, k: nnlib.nn.conv2d(x, k, [2, 1, 1, 1], "SAME"),
         r"conv2d: strides \[2, 1, 1, 1\] must be 1 for the batch and channel"),
        (lambda x, k: nnlib.nn.conv2d(x, k, 1, [[1, 1], [0, 0], [0, 0], [0, 0]]),
         "conv2d: padding .* must be \\(0, 0\\) for the batch and channel"),
        (lambda x, k: nnlib.nn.conv2d(x, k, 1, "SAME", data_format="NWHC"),
         "conv2d: data_format must be 'NHWC' or 'NCHW'"),
        (lambda x, k: nnlib.nn.conv2d(x, k, [1, 1, 1], "SAME"),
         r"strides must be an int, 2 ints .* or 4 .*got \[1, 1, 1\]"),
        (lambda x, k: nnlib.nn.conv2d(x, None, 1, "SAME"), "missing the kernel"),
        (lambda x, k: nnlib.nn.max_pool(x[0, 0, 0], 2, 2, "SAME"),
         r"max_pool: input must have rank 3 .* got shape \(3,\)"),
    ],
)  # fmt: skip
def test_nn_tf_forms_errors_name_the_argument(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call(_image(), _image((3, 3, 3, 2)))


# -- Variable.read_value / value --------------------------------------------------


@pytest.mark.parametrize("method", ["read_value", "value"])
def test_read_value_is_a_snapshot_tensor(method):
    v = nnlib.Variable([1.0, 2.0], name="snap")
    t = getattr(v, method)()
    assert type(t) is nnlib.Tensor and t.numpy().tolist() == [1.0, 2.0]
    v.assign([5.0, 6.0])
    assert t.numpy().tolist() == [1.0, 2.0]
    assert getattr(v, method)().numpy().tolist() == [5.0, 6.0]


@pytest.mark.parametrize("method", ["read_value", "value"])
def test_read_value_is_recorded_as_a_read_of_the_variable(method):
    v = nnlib.Variable([1.0, 2.0], name="read")
    unused = nnlib.Variable(1.0, name="unused")
    grads = nnlib.implicit_gradients(
        lambda: nnlib.reduce_sum(getattr(v, method)() * [3.0, 4.0])
    )()
    assert [(g.numpy().tolist(), var) for g, var in grads] == [([3.0, 4.0], v)]
    assert all(var is not unused for _, var in grads)
    with nnlib.GradientTape() as tape:
        y = getattr(v, method)() ** 2
    assert tape.watched_variables() == [v]
    assert np.asarray(tape.gradient(y, v)).tolist() == [2.0, 4.0]


def test_read_value_survives_an_optimizer_step_in_place():
    v = nnlib.Variable([1.0, 2.0], name="inplace")
    snapshot = v.read_value()
    nnlib.optimizers.Adam(0.1).apply_gradients([(np.ones(2, np.float32), v)])
    assert snapshot.numpy().tolist() == [1.0, 2.0]
    assert v.numpy().tolist() != [1.0, 2.0]


# -- Network.get_layer ----------------------------------------------------------------


class _Two(nnlib.Network):
    def __init__(self):
        super().__init__(name="two")
        self.first = layers.Dense(2, name="first")
        self.second = layers.Dense(1)

    def call(self, x, training=False):
        return self.second(self.first(x))


def _models():
    sequential = nnlib.Sequential(
        [layers.Dense(2, name="first", input_shape=(3,)), layers.Dense(1)]
    )
    inputs = nnlib.Input(shape=(3,))
    functional = nnlib.Model(
        inputs, layers.Dense(1)(layers.Dense(2, name="first")(inputs))
    )
    return [_Two(), sequential, functional]


@pytest.mark.parametrize(
    "model", _models(), ids=["subclassed", "sequential", "functional"]
)
def test_get_layer_by_name_and_index_on_every_network(model):
    first = model.get_layer("first")
    assert first.name == "first"
    assert model.get_layer(index=-1) is model.layers[-1]
    assert model.get_layer(index=0) is model.layers[0]
    assert model.get_layer(None, len(model.layers) - 1) is model.layers[-1]


@pytest.mark.parametrize(
    "model", _models(), ids=["subclassed", "sequential", "functional"]
)
def test_get_layer_errors_as_keras(model):
    with pytest.raises(ValueError, match=r"No such layer: 'nope'.*\['"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="at index 9 but model '.*' only has"):
        model.get_layer(index=9)
    with pytest.raises(ValueError, match="Provide only a layer name or a layer index"):
        model.get_layer("first", 0)
    with pytest.raises(ValueError, match="Provide either a layer name or layer index"):
        model.get_layer()
    with pytest.raises(TypeError, match="index must be an int, got '0'"):
        model.get_layer(index="0")


# -- name="" ----------------------------------------------------------------------------


def test_an_empty_name_means_choose_one():
    dense = layers.Dense(2, name="")
    assert dense.name.startswith("dense")
    model = nnlib.Sequential([layers.Dense(1, input_shape=(2,))], name="")
    assert model.name.startswith("sequential")

    class Net(nnlib.Network):
        def __init__(self):
            super().__init__(name="")
            self.inner = layers.Dense(1, name="")

        def call(self, x, training=False):
            return self.inner(x)

    net = Net()
    net(np.ones((1, 2), np.float32))
    assert net.name.startswith("net")
    assert [v.name for v in net.variables] == [
        f"{net.name}/dense/kernel",
        f"{net.name}/dense/bias",
    ]
    with pytest.raises(ValueError, match="without '/'"):
        layers.Dense(2, name="a/b")


# -- nnlib.train: the global step -------------------------------------------------


@pytest.fixture
def fresh_session():
    nnlib.clear_session()
    yield
    nnlib.clear_session()


def test_get_or_create_global_step(fresh_session):
    assert nnlib.train.get_global_step() is None
    with nnlib.variable_scope("somewhere"):
        step = nnlib.train.get_or_create_global_step()
    assert step.name == "global_step" and step.dtype == np.int64
    assert step.shape == () and not step.trainable and int(step) == 0
    assert nnlib.train.get_or_create_global_step() is step
    assert nnlib.train.get_global_step() is step
    nnlib.clear_session()
    assert nnlib.train.get_global_step() is None


def test_apply_gradients_increments_the_global_step_after_the_update(fresh_session):
    step = nnlib.train.get_or_create_global_step()
    w = nnlib.Variable([1.0, 2.0], name="w")
    opt = nnlib.optimizers.GradientDescent(0.5)
    assert int(opt.apply_gradients([(np.ones(2), w)], global_step=step)) == 1
    assert int(step) == 1 and w.numpy().tolist() == [0.5, 1.5]
    opt.apply_gradients([(np.ones(2), w)])  # without global_step: unchanged
    assert int(step) == 1
    opt.apply_gradients([(np.ones(2), w)], step)
    assert int(step) == 2


def test_apply_gradients_checks_global_step_before_changing_anything(fresh_session):
    w = nnlib.Variable([1.0], name="w")
    opt = nnlib.optimizers.Adam()
    bad = [nnlib.Variable(0.0), nnlib.Variable(np.zeros(2, np.int64)), 3]
    for step in bad:
        with pytest.raises(TypeError, match="global_step must be a scalar integer"):
            opt.apply_gradients([(np.ones(1), w)], global_step=step)
    assert w.numpy().tolist() == [1.0] and int(opt.iterations) == 0


def test_a_checkpoint_carries_the_global_step(fresh_session, tmp_path):
    step = nnlib.train.get_or_create_global_step()
    model = nnlib.Sequential([layers.Dense(2, input_shape=(3,))])
    opt = nnlib.optimizers.Adam(0.1)
    for _ in range(3):
        opt.minimize(lambda: nnlib.reduce_sum(model(np.ones((1, 3)))))
        step.assign_add(1)
    ckpt = nnlib.train.Checkpoint(model=model, optimizer=opt, global_step=step)
    ckpt.save(tmp_path / "ckpt")
    nnlib.clear_session()
    step2 = nnlib.train.get_or_create_global_step()
    assert step2 is not step and int(step2) == 0
    model2 = nnlib.Sequential([layers.Dense(2, input_shape=(3,))])
    opt2 = nnlib.optimizers.Adam(0.1)
    restored = nnlib.Checkpoint(model=model2, optimizer=opt2, global_step=step2)
    restored.restore(nnlib.train.latest_checkpoint(tmp_path)).assert_consumed()
    assert int(step2) == 3 and step2.dtype == np.int64
    assert int(opt2.iterations) == 3


def test_train_namespace_holds_tf_train_names():
    assert nnlib.train.Checkpoint is nnlib.Checkpoint
    assert nnlib.train.CheckpointManager is nnlib.CheckpointManager
    assert nnlib.train.latest_checkpoint is nnlib.latest_checkpoint
    assert set(nnlib.train.__all__) <= set(dir(nnlib.train))
