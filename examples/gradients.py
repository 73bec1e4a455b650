"""Gradients in nnlib, step by step, each value checked against the exact answer.

The four gradient functions (gradients_function, value_and_gradients_function,
implicit_gradients, implicit_value_and_gradients), the GradientTape beneath them,
and higher-order derivatives. Every printed value is asserted equal to the one
worked out by hand, so the script fails loudly if one is ever wrong.

Run:
    python3 examples/gradients.py
"""

import argparse

import numpy as np

import nnlib


def show(label, got, expected):
    """Prints ``label = got`` and asserts it equals ``expected``."""
    if isinstance(got, (list, tuple)):
        values = np.array([np.asarray(g) for g in got])
    else:
        values = np.asarray(got)
    text = np.array2string(values, precision=6, floatmode="maxprec", separator=", ")
    print(f"  {label:<44} = {text}")
    # float32 arithmetic: equal to the exact value up to rounding.
    assert np.allclose(values, expected, rtol=1e-6), f"{label}: {text} != {expected}"


def functions_of_arguments():
    print("1. gradients_function: d/dx and d/dy of f(x, y) = x^2 y at (2, 3)")

    def f(x, y):
        return x**2 * y

    show(
        "gradients_function(f)(2, 3)   [2xy, x^2]",
        nnlib.gradients_function(f)(2.0, 3.0),
        [12.0, 4.0],
    )
    show(
        "... params=['y']              [x^2]",
        nnlib.gradients_function(f, params=["y"])(2.0, 3.0),
        [4.0],
    )
    value, grads = nnlib.value_and_gradients_function(f)(2.0, 3.0)
    show("value_and_gradients_function: value", value, 12.0)
    show("value_and_gradients_function: gradients", grads, [12.0, 4.0])

    # Arguments may be arrays: the gradient has the argument's shape.
    sum_of_squares = nnlib.gradients_function(lambda v: nnlib.reduce_sum(v * v))
    show(
        "d/dv sum(v^2) at v = [1, 2, 3]    [2v]",
        sum_of_squares(np.array([1.0, 2.0, 3.0]))[0],
        [2.0, 4.0, 6.0],
    )


def implicit_gradients():
    print("\n2. implicit gradients: every trainable variable the function read")
    w = nnlib.Variable([1.0, -2.0], name="w")
    b = nnlib.Variable(0.5, name="b")
    unused = nnlib.Variable(7.0, name="unused")

    def loss(x):
        # (w . x + b)^2; `unused` is never read, so it gets no gradient.
        return nnlib.square(nnlib.reduce_sum(w * x) + b)

    x = np.array([3.0, 1.0], np.float32)
    # w . x + b = 3 - 2 + 0.5 = 1.5; d/dw = 2 * 1.5 * x = [9, 3]; d/db = 3
    pairs = nnlib.implicit_gradients(loss)(x)
    print(f"  variables found: {[v.name for _, v in pairs]}  (not {unused.name!r})")
    assert [v.name for _, v in pairs] == ["w", "b"]
    show("implicit_gradients: d/dw  [2(w.x+b) x]", pairs[0][0], [9.0, 3.0])
    show("implicit_gradients: d/db  [2(w.x+b)]", pairs[1][0], 3.0)

    value, pairs = nnlib.implicit_value_and_gradients(loss)(x)
    show("implicit_value_and_gradients: value", value, 2.25)
    nnlib.optimizers.GradientDescent(learning_rate=0.1).apply_gradients(pairs)
    show("w after one step of 0.1 * gradient", w, [1.0 - 0.9, -2.0 - 0.3])
    show("b after one step of 0.1 * gradient", b, 0.5 - 0.3)


def tapes():
    print("\n3. GradientTape: what the functions above are built on")
    x = nnlib.constant(3.0)
    with nnlib.GradientTape(persistent=True) as tape:
        tape.watch(x)  # constants are not watched unless asked; variables are
        y = x * x
        z = y * y
    show("dz/dx  [4x^3]", tape.gradient(z, x), 108.0)
    show("dy/dx  [2x] (persistent: a second call)", tape.gradient(y, x), 6.0)

    v = nnlib.Variable([1.0, 2.0], name="v")
    with nnlib.GradientTape() as tape:
        out = nnlib.reduce_sum(nnlib.exp(v))
    print(f"  watched automatically: {[w.name for w in tape.watched_variables()]}")
    show("d/dv sum(exp(v))  [exp(v)]", tape.gradient(out, [v])[0], np.exp([1.0, 2.0]))

    # A non-scalar target with output_gradients: a vector-Jacobian product.
    u = nnlib.constant([1.0, 2.0])
    with nnlib.GradientTape() as tape:
        tape.watch(u)
        squares = u * u
    show(
        "vjp of u^2 with [10, 100]  [2u * w]",
        tape.gradient(squares, u, output_gradients=nnlib.constant([10.0, 100.0])),
        [20.0, 400.0],
    )


def higher_order():
    print("\n4. higher order: gradient rules are nnlib ops, so they differentiate too")
    d = nnlib.gradients_function

    def quartic(x):
        return x**4

    show("d/dx x^4 at 2      [4x^3]", d(quartic)(2.0)[0], 32.0)
    show("d2/dx2 x^4 at 2    [12x^2]", d(lambda x: d(quartic)(x)[0])(2.0)[0], 48.0)
    show("d3/dx3 x^4 at 2    [24x]", d(d(d(quartic)))(2.0)[0], 48.0)

    # tanh'' = -2 tanh (1 - tanh^2), by nested tapes.
    x = nnlib.constant(0.5)
    with nnlib.GradientTape() as outer:
        outer.watch(x)
        with nnlib.GradientTape() as inner:
            inner.watch(x)
            y = nnlib.tanh(x)
        dy = inner.gradient(y, x)
    t = np.tanh(0.5)
    show("tanh'(0.5)   [1 - tanh^2]", dy, 1 - t**2)
    show(
        "tanh''(0.5)  [-2 tanh (1 - tanh^2)]",
        outer.gradient(dy, x),
        -2 * t * (1 - t**2),
    )

    # A mixed second derivative of f(x, y) = x^2 y: d/dy (d/dx f) = 2x.
    df_dx = d(lambda x, y: x**2 * y, params=["x"])
    show(
        "d/dy (d/dx x^2 y) at (2, 3)  [2x]",
        d(lambda x, y: df_dx(x, y)[0], params=["y"])(2.0, 3.0),
        [4.0],
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.strip().splitlines()[0],
        epilog="\n".join(__doc__.strip().splitlines()[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.parse_args(argv)
    functions_of_arguments()
    implicit_gradients()
    tapes()
    higher_order()
    print("\nall gradients match their exact values")


if __name__ == "__main__":
    main()
