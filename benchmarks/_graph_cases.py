"""The models ``graph.py`` traces, each with its eager step and reference columns.

Not a benchmark: a part of ``graph.py``, whose docstring says what each column
measures. A case's nnlib step is one Python function, run eagerly for the
``eager`` column and through ``nnlib.function`` for the ``traced`` one, on its own
model and optimizer built from the same initial weights. numpy, nnlib and torch
come in as arguments, so that importing this module imports none of them.
"""

import _layers_lenet as lenet
import _mlp_models as mlp
from _ops_cases import chain_candidates

STEPS = 3  # the steps compared for the agreement (the first one is the trace)


class Case:
    """One model to trace.

    Attributes:
        name: The model's short name (in the targets and the JSON).
        title: What the model's table says it times.
        make: A function of no arguments returning ``(step, variables)``: a fresh
            model (and optimizer) from the case's initial weights, its training
            step as Python (``step(*batch)`` returns the loss, or the loss and
            the gradients) and the variables the step updates.
        batches: ``STEPS`` argument tuples; the first is the one timed.
        others: ``{column: function of no arguments, or Candidate}``: the
            reference columns (hand-written numpy, torch), on the first batch.
        speed: ``((column, limit), ...)``: the targets on traced / column.
        unit: ``"us"`` or ``"ms"``, what the table prints.
        memory: Whether the peak memory is measured.
    """

    def __init__(self, name, title, make, batches, others, speed, unit="ms"):
        self.name = name
        self.title = title
        self.make = make
        self.batches = batches
        self.others = others
        self.speed = speed
        self.unit = unit
        self.memory = unit == "ms"  # the training steps, not the small chain


def chain_case(libs, args):
    """``reduce_sum(tanh(x @ W + b))`` and its gradients, x 32x64, W 64x64, b 64.

    The numpy and torch columns are ``ops_overhead.py``'s (``chain_candidates``),
    on the same arrays: both draw them from ``default_rng(1)`` in this order.
    """
    np, nnlib, _ = libs
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 64), dtype=np.float32)
    w = (rng.standard_normal((64, 64), dtype=np.float32) / 8).astype(np.float32)
    b = rng.standard_normal(64, dtype=np.float32)
    more = [rng.standard_normal((32, 64), dtype=np.float32) for _ in range(STEPS - 1)]

    def make():
        wv, bv = nnlib.Variable(w, name="W"), nnlib.Variable(b, name="b")

        def step(x):
            with nnlib.GradientTape() as tape:
                loss = nnlib.reduce_sum(nnlib.tanh(x @ wv + bv))
            return loss, tape.gradient(loss, [wv, bv])

        return step, [wv, bv]

    others = chain_candidates(libs, args)
    del others["nnlib"]  # implicit_value_and_gradients: the eager column's twin
    return Case(
        "chain",
        "reduce_sum(tanh(x @ W + b)) forward + backward, x 32x64, W 64x64, b 64",
        make,
        [(a,) for a in [x, *more]],
        others,
        speed=(("torch", 0.5), ("numpy", 2.0)),
        unit="us",
    )


def mlp_case(libs, rng):
    """The 784-512-512-10 MLP's training step: momentum SGD, batch 128."""
    np, nnlib, torch = libs
    weights = mlp.nnlib_model(nnlib).get_weights()
    batches = [
        (
            rng.uniform(0, 1, (mlp.BATCH, mlp.SIZES[0])).astype(np.float32),
            rng.integers(0, mlp.SIZES[-1], mlp.BATCH),
        )
        for _ in range(STEPS)
    ]

    def make():
        model = mlp.nnlib_model(nnlib, weights)
        optimizer, loss_fn = mlp.momentum(nnlib), mlp.crossentropy(nnlib)

        def step(x, y):
            with nnlib.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        return step, model.trainable_variables

    others = {"numpy": _bound(mlp.NumpyMLP(np, weights).step, batches[0])}
    if torch is not None:
        others["torch"] = _bound(mlp.TorchMLP(torch, weights).step, batches[0])
    return Case(
        "MLP",
        "MLP 784-512-512-10 training step, batch 128, momentum SGD",
        make,
        batches,
        others,
        speed=(("numpy", 1.0),),
    )


def lenet_cases(libs, rng):
    """The LeNet-style CNN's SGD step, batch 64, once per layout.

    The torch column is in the same layout: a ``channels_last`` tensor and model
    for the channels-last case, contiguous NCHW for the channels-first one.
    """
    np, nnlib, torch = libs
    start = [w.copy() for w in lenet.lenet_nnlib(nnlib).get_weights()]
    data = [
        (
            rng.uniform(0, 1, (lenet.BATCH, 28, 28, 1)).astype(np.float32),
            rng.integers(0, 10, lenet.BATCH),
        )
        for _ in range(STEPS)
    ]
    cases = []
    for data_format, torch_format in (
        ("channels_last", "channels_last"),
        ("channels_first", "contiguous_format"),
    ):
        first = data_format == "channels_first"
        weights = lenet.channels_first_weights(start) if first else start
        batches = [
            (np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if first else x, y)
            for x, y in data
        ]
        column = f"torch {'NCHW' if first else 'channels_last'}"
        others = {}
        if torch is not None:
            others[column] = _torch_step(torch, start, data[0], torch_format)
        cases.append(
            Case(
                f"LeNet {data_format}",
                f"LeNet {data_format} training step, batch 64, SGD",
                _lenet_maker(nnlib, data_format, weights),
                batches,
                others,
                speed=((column, 1.0),),
            )
        )
    return cases


def _torch_step(torch, weights, batch, memory_format):
    """Torch eager's LeNet SGD step on ``batch`` (NHWC images), in that format."""
    fmt = getattr(torch, memory_format)
    model = lenet.lenet_torch(torch, weights, fmt)
    x = torch.from_numpy(batch[0]).permute(0, 3, 1, 2).clone(memory_format=fmt)
    optimizer = torch.optim.SGD(model.parameters(), lr=lenet.LEARNING_RATE)
    return lenet._torch_train_step(
        torch, model, x, torch.from_numpy(batch[1]), optimizer
    )


def _lenet_maker(nnlib, data_format, weights):
    def make():
        model = lenet.lenet_nnlib(nnlib, data_format)
        model.set_weights(weights)
        optimizer = nnlib.optimizers.GradientDescent(lenet.LEARNING_RATE)

        def step(x, y):
            with nnlib.GradientTape() as tape:
                logits = model(x, training=True)
                loss = nnlib.reduce_mean(
                    nnlib.sparse_softmax_cross_entropy_with_logits(y, logits)
                )
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        return step, model.trainable_variables

    return make


def _bound(step, batch):
    return lambda: step(*batch)
