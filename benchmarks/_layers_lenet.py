"""The LeNet-style CNN of ``layers.py`` and its training step, in every column.

Not a benchmark: a part of ``layers.py`` (and of ``_layers_cnn.py``, which runs
the same network's forward pass on the 10,000 MNIST test images). numpy, nnlib
and torch come in as arguments, so that importing this module imports none of
them.
"""

from _harness import agree, peak_bytes
from _layers_reference import lenet_numpy

LEARNING_RATE = 0.01
BATCH = 64


def lenet_nnlib(nnlib, data_format="channels_last"):
    """The LeNet-style CNN (examples/mnist_cnn.py's, less its dropout) as an nnlib
    ``Sequential``; its input is (28, 28, 1), or (1, 28, 28) channels first."""
    layers = nnlib.layers
    first = data_format == "channels_first"
    shape = (1, 28, 28) if first else (28, 28, 1)
    return nnlib.Sequential(
        [
            layers.Conv2D(
                32, 3, activation="relu", input_shape=shape, data_format=data_format
            ),
            layers.MaxPooling2D(2, data_format=data_format),
            layers.Conv2D(64, 3, activation="relu", data_format=data_format),
            layers.MaxPooling2D(2, data_format=data_format),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(10),
        ]
    )


def chw_rows(w3):
    """Dense1's kernel with its rows in (C, H, W) order, as a channels-first
    Flatten (and torch) gives them, from Keras' (H, W, C) order."""
    return w3.reshape(5, 5, 64, -1).transpose(2, 0, 1, 3).reshape(1600, -1)


def hwc_rows(w3):
    """The inverse of ``chw_rows``."""
    return w3.reshape(64, 5, 5, -1).transpose(1, 2, 0, 3).reshape(1600, -1)


def channels_first_weights(params):
    """The CL model's weights (Keras layouts) for the channels-first model."""
    return [chw_rows(p) if i == 4 else p for i, p in enumerate(params)]


def lenet_torch(torch, params, memory_format):
    """The LeNet-style CNN in torch, with ``params`` (Keras layouts) as weights."""
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1600, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    # Keras flattens (H, W, C), torch (C, H, W): permute dense1's rows to match.
    values = (
        w1.transpose(3, 2, 0, 1),
        b1,
        w2.transpose(3, 2, 0, 1),
        b2,
        chw_rows(w3).T,
        b3,
        w4.T,
        b4,
    )
    with torch.no_grad():
        for p, v in zip(model.parameters(), values, strict=True):
            p.copy_(torch.from_numpy(v.copy()))
    return model.to(memory_format=memory_format)


def torch_grads_as_keras(grads):
    """Torch LeNet gradients in Keras layouts (the inverse of ``lenet_torch``)."""
    g1, gb1, g2, gb2, g3, gb3, g4, gb4 = (g.numpy() for g in grads)
    return [
        g1.transpose(2, 3, 1, 0),
        gb1,
        g2.transpose(2, 3, 1, 0),
        gb2,
        hwc_rows(g3.T),
        gb3,
        g4.T,
        gb4,
    ]


def _nnlib_train_step(nnlib, model, x, labels):
    """One nnlib SGD step; returns the loss and the gradients (before the update)."""
    xt, lt = nnlib.constant(x), nnlib.constant(labels)
    value_and_grads = nnlib.implicit_value_and_gradients(
        lambda: nnlib.reduce_mean(
            nnlib.sparse_softmax_cross_entropy_with_logits(lt, model(xt))
        )
    )

    def step():
        loss, grads_and_vars = value_and_grads()
        for g, v in grads_and_vars:
            v.assign_sub(LEARNING_RATE * g)
        return loss, [g.numpy() for g, _ in grads_and_vars]

    return step


def lenet_case(libs, ref, rng):
    """The training steps (nnlib in both layouts), their agreement with numpy,
    and the peak memory of numpy's and nnlib's."""
    np, nnlib, torch = libs
    x = rng.uniform(0, 1, (BATCH, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, 10, BATCH)
    model = lenet_nnlib(nnlib)
    start = [v.numpy().copy() for v in model.trainable_variables]
    model_cf = lenet_nnlib(nnlib, "channels_first")
    model_cf.set_weights(channels_first_weights(start))
    x_cf = np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    params = [p.copy() for p in start]
    steps = {
        "numpy": lambda: lenet_numpy(np, ref, params, x, labels, LEARNING_RATE),
        "nnlib": _nnlib_train_step(nnlib, model, x, labels),
        "nnlib CF": _nnlib_train_step(nnlib, model_cf, x_cf, labels),
    }
    loss, grads = steps["numpy"]()
    expected = [loss, *grads]
    errors = {}
    for name in ("nnlib", "nnlib CF"):
        loss, grads = steps[name]()
        if name == "nnlib CF":
            grads[4] = hwc_rows(grads[4])
        errors[name] = agree(np, [loss.numpy(), *grads], expected)
    if torch is not None:
        tlabels = torch.from_numpy(labels)
        for name, fmt in (
            ("torch NCHW", torch.contiguous_format),
            ("torch CL", torch.channels_last),
        ):
            tmodel = lenet_torch(torch, start, fmt)
            tx = torch.from_numpy(x).permute(0, 3, 1, 2).clone(memory_format=fmt)
            optimizer = torch.optim.SGD(tmodel.parameters(), lr=LEARNING_RATE)
            steps[name] = step = _torch_train_step(
                torch, tmodel, tx, tlabels, optimizer
            )
            loss, grads = step(keep_grads=True)
            got = [loss.detach().numpy(), *torch_grads_as_keras(grads)]
            errors[name] = agree(np, got, expected)
    memory = {name: peak_bytes(steps[name]) for name in ("numpy", "nnlib")}
    return steps, errors, memory


def _torch_train_step(torch, model, x, labels, optimizer):
    """One torch SGD step; ``step(keep_grads=True)`` also returns the gradients."""

    def step(keep_grads=False):
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        grads = [p.grad.clone() for p in model.parameters()] if keep_grads else None
        optimizer.step()
        optimizer.zero_grad()
        return loss, grads

    return step
