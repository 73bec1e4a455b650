"""Max pooling forward + backward: this checkout against another, and PyTorch.

What is measured, in milliseconds per call (float32, one thread by default, the
minimum over ``--repeat`` repeats taken in turns): ``MaxPooling2D(2)`` on a
watched tensor inside a ``GradientTape`` and the gradient with respect to the
input for a fixed random upstream gradient, as ``layers.py`` times it, on

* (64, 26, 26, 32): the LeNet CNN's first pooling, ``layers.py``'s case;
* (64, 11, 11, 64): its second (the windows leave the last row and column out);

each channels last (``nnlib``) and channels first on contiguous NCHW copies
(``nnlib CF``), and the inference pass alone (nothing recording, ``infer``).
With ``--tree PATH`` the same for the nnlib of another checkout (a ``git
worktree`` of an older commit, loaded beside this one), in the same turns:
before and after a change in one run, with its results checked to be
bitwise equal to this checkout's. With PyTorch installed, ``nn.MaxPool2d(2)``
on a ``channels_last`` tensor (its faster layout here) gives the yardstick.

``--cpu-time`` times with this process's CPU time instead of the wall clock:
steadier where other processes share the machine. The script always exits 0.

Run, from the repository root::

    python3 benchmarks/pooling.py                         # about 20 s
    git worktree add /tmp/before <commit>                 # then, before/after:
    python3 benchmarks/pooling.py --tree /tmp/before --cpu-time
"""

import sys
import time

from _harness import (
    import_libraries,
    import_tree,
    measure_ms,
    parse_timing_args,
    set_threads,
)
from _report import (
    finish,
    fmt_ratio,
    print_header,
    ratio,
    timing_environment,
)

SHAPES = ((64, 26, 26, 32), (64, 11, 11, 64))
LAYOUTS = (("nnlib", "channels_last"), ("nnlib CF", "channels_first"))


def _options(parser):
    parser.add_argument(
        "--tree",
        metavar="PATH",
        help="also time the nnlib of the checkout at PATH, in the same turns",
    )


def nnlib_steps(np, nnlib, x, dy, prefix=""):
    """``{column: step}`` for both layouts, and ``{column: (y, dx)}`` (NHWC)."""
    steps, results = {}, {}
    for name, data_format in LAYOUTS:
        layer = nnlib.layers.MaxPooling2D(2, data_format=data_format)
        if data_format == "channels_first":
            xs, dys = (np.ascontiguousarray(a.transpose(0, 3, 1, 2)) for a in (x, dy))
        else:
            xs, dys = x, dy
        xt, dyt = nnlib.constant(xs), nnlib.constant(dys)

        def step(layer=layer, xt=xt, dyt=dyt):
            with nnlib.GradientTape() as tape:
                tape.watch(xt)
                y = layer(xt)
            return y, tape.gradient(y, xt, output_gradients=dyt)

        y, dx = (t.numpy() for t in step())
        if data_format == "channels_first":
            y, dx = y.transpose(0, 2, 3, 1), dx.transpose(0, 2, 3, 1)
        results[prefix + name] = (y, dx)
        steps[prefix + name] = step
        steps[prefix + name + " infer"] = lambda layer=layer, xt=xt: layer(xt)
    return steps, results


def torch_step(torch, x, dy):
    """``nn.MaxPool2d(2)`` forward + backward on ``channels_last`` tensors."""
    module = torch.nn.MaxPool2d(2)

    def tensor(a, grad=False):
        t = torch.from_numpy(a).permute(0, 3, 1, 2)
        return t.clone(memory_format=torch.channels_last).requires_grad_(grad)

    xt, dyt = tensor(x, True), tensor(dy)

    def step():
        y = module(xt)
        y.backward(dyt)
        xt.grad = None

    return step


def run_shape(libs, tree, shape, args):
    """Times one input shape; returns ``{column: ms}`` and the agreement."""
    np, nnlib, torch = libs
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    n, h, w, c = shape
    dy = rng.standard_normal((n, h // 2, w // 2, c), dtype=np.float32)
    steps, results = nnlib_steps(np, nnlib, x, dy)
    if tree is not None:
        more, tree_results = nnlib_steps(np, tree, x, dy, "tree ")
        steps.update(more)
        results.update(tree_results)
    if torch is not None:
        steps["torch CL"] = torch_step(torch, x, dy)
    same = {
        name: all(
            np.array_equal(a, b) and np.array_equal(np.signbit(a), np.signbit(b))
            for a, b in zip(results[name], results["tree " + name])
        )
        for name, _ in LAYOUTS
        if tree is not None
    }
    return measure_ms(steps, args, {}), same


def print_shape(shape, ms, same):
    """One table per shape: times, then the ratios that the issue's targets use."""
    print(f"\nMaxPooling2D(2) on {'x'.join(map(str, shape))} (NHWC shape)")
    for name, value in ms.items():
        print(f"  {name:<22}{value:9.3f} ms")
    pairs = [("nnlib CF", "nnlib", "channels first/last")]
    pairs.append(("nnlib", "torch CL", "nnlib/torch CL"))
    if same:
        pairs += [("tree nnlib CF", "tree nnlib", "tree: channels first/last")]
        pairs += [("tree nnlib", "torch CL", "tree nnlib/torch CL")]
        pairs += [("nnlib", "tree nnlib", "nnlib/tree")]
        pairs += [("nnlib CF", "tree nnlib CF", "nnlib CF/tree")]
    for a, b, label in pairs:
        print(f"  {label:<26}{fmt_ratio(ratio(ms.get(a), ms.get(b))):>9}")
    for name, equal in same.items():
        print(f"  {name}: results bitwise equal to the tree's: {equal}")


def main(argv=None):
    """Runs the benchmark; always returns 0."""
    args = parse_timing_args(
        __doc__, argv, quick=(5, 0.02), full=(20, 0.05), more_options=_options
    )
    set_threads(args.threads)
    start = time.perf_counter()
    libs = import_libraries(args.threads)
    np, _, torch = libs
    tree = None if args.tree is None else import_tree(args.tree)
    env = timing_environment(
        np,
        torch,
        args,
        tree=args.tree,
    )
    print_header(
        "nnlib max pooling: forward + backward, milliseconds per call, float32, CPU",
        env,
        f"min of {args.repeat} repeats of ~{args.min_time:g} s each, in turns",
    )
    if tree is not None:
        print(f"tree: {args.tree}")
    figures = {}
    for shape in SHAPES:
        ms, same = run_shape(libs, tree, shape, args)
        print_shape(shape, ms, same)
        figures["x".join(map(str, shape))] = {"ms": ms, "bitwise_equal": same}
    finish(start, args.json, {"environment": env, "unit": "ms", "shapes": figures})
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
