"""The cases ``layers.py`` times: numpy, nnlib and torch steps for each layer.

Not a benchmark: a part of ``layers.py``, whose docstring says what each case
computes. Each ``*_case`` builds the layer's numpy, nnlib and torch steps from the
same weights and checks nnlib's and torch's results against numpy's; numpy,
nnlib and torch (or None) come in as arguments, so that importing this module
imports none of them.
"""

from _harness import agree

BATCH, LSTM_STEPS, LSTM_FEATURES, LSTM_UNITS = 64, 32, 64, 128


def nnlib_step(nnlib, layer, x, dy, **call_kwargs):
    """Forward + backward through an nnlib layer: ``(y, [dx, *dvariables])``."""
    sources = [x, *layer.trainable_variables]

    def step():
        with nnlib.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, **call_kwargs)
        return y, tape.gradient(y, sources, output_gradients=dy)

    return step


def torch_step(torch, module, x, dy):
    """Forward + backward through a torch module: ``(y, [dx, *dparameters])``."""
    params = list(module.parameters())

    def step():
        y = module(x)
        if isinstance(y, tuple):  # nn.LSTM: (output, (h, c))
            y = y[0]
        y.backward(dy)
        grads = [x.grad] + [p.grad for p in params]
        x.grad = None
        for p in params:
            p.grad = None
        return y, grads

    return step


def torch_layouts(torch, make_module, x_nhwc, dy_nhwc):
    """``{"torch NCHW": step, "torch CL": step}`` for a module on NHWC data."""
    steps = {}
    for name, fmt in (
        ("torch NCHW", torch.contiguous_format),
        ("torch CL", torch.channels_last),
    ):
        module = make_module().to(memory_format=fmt)

        def tensor(a, grad=False, fmt=fmt):
            t = torch.from_numpy(a).permute(0, 3, 1, 2).clone(memory_format=fmt)
            return t.requires_grad_(grad)

        steps[name] = torch_step(torch, module, tensor(x_nhwc, True), tensor(dy_nhwc))
    return steps


def nchw(a):
    """A torch NCHW tensor as a numpy NHWC array."""
    return a.permute(0, 2, 3, 1).detach().numpy()


def channels_first(libs, layer, x, dy, expected, **call_kwargs):
    """The nnlib step of a channels-first ``layer`` on NCHW copies of NHWC ``x``
    and ``dy`` (contiguous, as data from outside nnlib is), and its agreement
    with the (NHWC) reference results ``expected``: ``(step, error)``."""
    np, nnlib, _ = libs
    xt, dyt = (
        nnlib.constant(np.ascontiguousarray(a.transpose(0, 3, 1, 2))) for a in (x, dy)
    )
    step = nnlib_step(nnlib, layer, xt, dyt, **call_kwargs)
    y, (dx, *grads) = step()
    got = [np.moveaxis(t.numpy(), 1, -1) for t in (y, dx)] + [g.numpy() for g in grads]
    return step, agree(np, got, expected)


def start_case(libs, layer, x, dy, numpy_step, **call_kwargs):
    """The numpy and nnlib steps of a case, and nnlib's agreement with numpy.

    Args:
        libs: ``(numpy, nnlib, torch or None)``.
        layer: The nnlib layer, built.
        x: The input (numpy).
        dy: The upstream gradient (numpy).
        numpy_step: The reference: returns ``(y, (dx, *dvariables))``.
        **call_kwargs: For the layer's call (``training=True``).

    Returns:
        ``(steps, expected, errors)``: ``{"numpy": step, "nnlib": step}``, the
        reference's results as a list, ``{"nnlib": error}``.
    """
    np, nnlib, _ = libs
    xt, dyt = nnlib.constant(x), nnlib.constant(dy)
    steps = {
        "numpy": numpy_step,
        "nnlib": nnlib_step(nnlib, layer, xt, dyt, **call_kwargs),
    }
    y, grads = numpy_step()
    expected = [y, *grads]
    y, grads = steps["nnlib"]()
    errors = {"nnlib": agree(np, [t.numpy() for t in [y, *grads]], expected)}
    return steps, expected, errors


def conv_case(libs, ref, rng, shape, filters):
    """``Conv2D(filters, 3)`` on NHWC ``shape``: ``(steps, errors)``."""
    np, nnlib, torch = libs
    x = rng.standard_normal(shape, dtype=np.float32)
    layer = nnlib.layers.Conv2D(filters, 3)
    layer(x[:1])
    layer.bias.assign(rng.standard_normal(filters, dtype=np.float32) * 0.1)
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    y_shape = (shape[0], shape[1] - 2, shape[2] - 2, filters)
    dy = rng.standard_normal(y_shape, dtype=np.float32)

    def numpy_step():
        y, cols = ref.conv(x, w, b)
        return y, ref.conv_backward(dy, w, cols, x.shape)

    steps, expected, errors = start_case(libs, layer, x, dy, numpy_step)
    layer_cf = nnlib.layers.Conv2D(filters, 3, data_format="channels_first")
    layer_cf.build((None, shape[3], *shape[1:3]))
    layer_cf.set_weights([w, b])
    steps["nnlib CF"], errors["nnlib CF"] = channels_first(
        libs, layer_cf, x, dy, expected
    )
    if torch is not None:

        def make_module():
            module = torch.nn.Conv2d(shape[3], filters, 3)
            with torch.no_grad():
                module.weight.copy_(torch.from_numpy(w.transpose(3, 2, 0, 1)))
                module.bias.copy_(torch.from_numpy(b))
            return module

        for name, step in torch_layouts(torch, make_module, x, dy).items():
            steps[name] = step
            y, (gx, gw, gb) = step()
            got = [nchw(y), nchw(gx), gw.permute(2, 3, 1, 0).numpy(), gb.numpy()]
            errors[name] = agree(np, got, expected)
    return steps, errors


def maxpool_case(libs, ref, rng):
    """``MaxPooling2D(2)`` on (64, 26, 26, 32): ``(steps, errors)``."""
    np, nnlib, torch = libs
    x = rng.standard_normal((BATCH, 26, 26, 32), dtype=np.float32)
    dy = rng.standard_normal((BATCH, 13, 13, 32), dtype=np.float32)
    layer = nnlib.layers.MaxPooling2D(2)

    def numpy_step():
        y, win = ref.maxpool(x)
        return y, (ref.maxpool_backward(dy, y, win, x.shape),)

    steps, expected, errors = start_case(libs, layer, x, dy, numpy_step)
    layer_cf = nnlib.layers.MaxPooling2D(2, data_format="channels_first")
    steps["nnlib CF"], errors["nnlib CF"] = channels_first(
        libs, layer_cf, x, dy, expected
    )
    if torch is not None:
        layouts = torch_layouts(torch, lambda: torch.nn.MaxPool2d(2), x, dy)
        for name, step in layouts.items():
            steps[name] = step
            y, (gx,) = step()
            errors[name] = agree(np, [nchw(y), nchw(gx)], expected)
    return steps, errors


def batchnorm_case(libs, ref, rng):
    """Training-mode ``BatchNormalization`` on (64, 13, 13, 32): ``(steps, errors)``."""
    np, nnlib, torch = libs
    shape = (BATCH, 13, 13, 32)
    x = rng.standard_normal(shape, dtype=np.float32) * 2 + 0.5
    dy = rng.standard_normal(shape, dtype=np.float32)
    layer = nnlib.layers.BatchNormalization()
    layer(x[:2])
    layer.gamma.assign(rng.uniform(0.5, 1.5, 32).astype(np.float32))
    layer.beta.assign(rng.standard_normal(32, dtype=np.float32))
    gamma, beta = layer.gamma.numpy(), layer.beta.numpy()
    eps, momentum = layer.epsilon, layer.momentum
    state = [np.zeros(32, np.float32), np.ones(32, np.float32)]

    def numpy_step():
        y, cache = ref.batchnorm(x, gamma, beta, eps, state, momentum)
        return y, ref.batchnorm_backward(dy, gamma, cache)

    # nnlib's variables in creation order, gamma then beta, as the reference's.
    steps, expected, errors = start_case(libs, layer, x, dy, numpy_step, training=True)
    layer_cf = nnlib.layers.BatchNormalization(axis=1)
    layer_cf.build((None, 32, 13, 13))
    layer_cf.gamma.assign(gamma)
    layer_cf.beta.assign(beta)
    steps["nnlib CF"], errors["nnlib CF"] = channels_first(
        libs, layer_cf, x, dy, expected, training=True
    )
    if torch is not None:

        def make_module():
            # torch's momentum weighs the new batch, Keras's the old average.
            module = torch.nn.BatchNorm2d(32, eps=eps, momentum=1 - momentum)
            with torch.no_grad():
                module.weight.copy_(torch.from_numpy(gamma))
                module.bias.copy_(torch.from_numpy(beta))
            return module.train()

        for name, step in torch_layouts(torch, make_module, x, dy).items():
            steps[name] = step
            y, (gx, gg, gb) = step()
            got = [nchw(y), nchw(gx), gg.numpy(), gb.numpy()]
            errors[name] = agree(np, got, expected)
    return steps, errors


def lstm_case(libs, ref, rng):
    """``LSTM(128, return_sequences=True)``: ``(steps, errors)``, or ``(None, {})``
    where nnlib has no ``LSTM``."""
    np, nnlib, torch = libs
    lstm_class = getattr(nnlib.layers, "LSTM", None)
    if lstm_class is None:
        return None, {}
    x = rng.standard_normal((BATCH, LSTM_STEPS, LSTM_FEATURES), dtype=np.float32)
    dy = rng.standard_normal((BATCH, LSTM_STEPS, LSTM_UNITS), dtype=np.float32)
    layer = lstm_class(LSTM_UNITS, return_sequences=True)
    layer(x[:1])
    layer.bias.assign(rng.standard_normal(4 * LSTM_UNITS, dtype=np.float32) * 0.1)
    kernel, recurrent = layer.kernel.numpy(), layer.recurrent_kernel.numpy()
    bias = layer.bias.numpy()

    def numpy_step():
        y, cache = ref.lstm(x, kernel, recurrent, bias)
        return y, ref.lstm_backward(dy, kernel, recurrent, cache)

    steps, expected, errors = start_case(libs, layer, x, dy, numpy_step)
    if torch is not None:
        module = torch.nn.LSTM(LSTM_FEATURES, LSTM_UNITS, batch_first=True)
        with torch.no_grad():  # the same gate order (i, f, g, o) as Keras
            module.weight_ih_l0.copy_(torch.from_numpy(kernel.T.copy()))
            module.weight_hh_l0.copy_(torch.from_numpy(recurrent.T.copy()))
            module.bias_ih_l0.copy_(torch.from_numpy(bias))
            module.bias_hh_l0.zero_()
        tx = torch.from_numpy(x).clone().requires_grad_()
        step = torch_step(torch, module, tx, torch.from_numpy(dy).clone())
        steps["torch NCHW"] = step  # the one torch column
        y, (gx, gw, gu, gb, _) = step()
        got = [y.detach().numpy(), gx.numpy(), gw.numpy().T, gu.numpy().T, gb.numpy()]
        errors["torch NCHW"] = agree(np, got, expected)
    return steps, errors
