"""The table ``Network.summary()`` prints."""

__all__ = ["summary_table"]


def _shape_text(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return str((None,) + tuple(shape[1:])) if shape else "()"


def _graph_shape_text(graph, layer):
    """The shapes of a layer's outputs in a functional graph (``multiple``
    for a shared layer whose calls give different shapes)."""
    texts = set()
    for node in graph.nodes_of(layer):
        shapes = [str(t.shape) for t in node.flat_outputs]
        texts.add(shapes[0] if len(shapes) == 1 else f"[{', '.join(shapes)}]")
    return texts.pop() if len(texts) == 1 else "multiple"


def _connections(graph, layer):
    """Keras's "Connected to": ``layer[node][tensor]`` of every input tensor
    of every call of ``layer`` in the graph (``-`` for an input layer)."""
    names = [
        f"{t.node.layer.name}[{graph.node_index[id(t.node)]}][{t._index}]"
        for node in graph.nodes_of(layer)
        if node.layer not in graph.input_layers
        for t in node.inputs
    ]
    return ", ".join(names) or "-"


def summary_table(network):
    """Returns the summary of ``network`` as text.

    Examples:
        >>> model = nnlib.Sequential([nnlib.layers.Dense(3, input_shape=(2,))],
        ...                          name="summary_example")
        >>> print(summary_table(model))  # doctest: +NORMALIZE_WHITESPACE
        Model: "summary_example"
        Layer (type)    Output Shape   Param #   Trainable
        ==================================================
        dense (Dense)   (None, 3)      9         9
        ==================================================
        Total params: 9
        Trainable params: 9
        Non-trainable params: 0

        A functional model's table says which tensors each layer was called
        on, ``layer[node index][tensor index]`` as in Keras:

        >>> a, b = nnlib.Input(shape=(2,), name="a"), nnlib.Input(shape=(3,), name="b")
        >>> joined = nnlib.layers.Concatenate()([a, b])
        >>> model = nnlib.Model([a, b], nnlib.layers.Dense(1)(joined), name="joined")
        >>> model.summary()  # doctest: +NORMALIZE_WHITESPACE
        Model: "joined"
        Layer (type)                Output Shape   Param #   Trainable   Connected to
        ==================================================================================
        a (InputLayer)              (None, 2)      0         0           -
        b (InputLayer)              (None, 3)      0         0           -
        concatenate (Concatenate)   (None, 5)      0         0           a[0][0], b[0][0]
        dense (Dense)               (None, 1)      6         6           concatenate[0][0]
        ==================================================================================
        Total params: 6
        Trainable params: 6
        Non-trainable params: 0
    """
    graph = getattr(network, "_nnlib_graph", None)
    rows = [("Layer (type)", "Output Shape", "Param #", "Trainable")]
    if graph is not None:
        rows[0] += ("Connected to",)
    for layer in network.layers:
        variables = layer.variables
        row = (
            f"{layer.name} ({type(layer).__name__})",
            _shape_text(layer._nnlib.output_shape)
            if graph is None
            else _graph_shape_text(graph, layer),
            str(sum(v.size for v in variables)),
            str(sum(v.size for v in variables if v.trainable)),
        )
        if graph is not None:
            row += (_connections(graph, layer),)
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) + 3 for i in range(len(rows[0]))]
    line = "=" * (sum(widths) - 3)

    def fmt(row):
        return "".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()

    total = sum(v.size for v in network.variables)
    trainable = sum(v.size for v in network.trainable_variables)
    lines = [f'Model: "{network.name}"', fmt(rows[0]), line]
    lines += [fmt(r) for r in rows[1:]]
    lines += [
        line,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    return "\n".join(lines)
