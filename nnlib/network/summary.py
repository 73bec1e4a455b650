"""The table ``Network.summary()`` prints."""

__all__ = ["summary_table"]


def _shape_text(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return str((None,) + tuple(shape[1:])) if shape else "()"


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
    """
    rows = [("Layer (type)", "Output Shape", "Param #", "Trainable")]
    for layer in network.layers:
        variables = layer.variables
        rows.append(
            (
                f"{layer.name} ({type(layer).__name__})",
                _shape_text(layer._nnlib.output_shape),
                str(sum(v.size for v in variables)),
                str(sum(v.size for v in variables if v.trainable)),
            )
        )
    widths = [max(len(r[i]) for r in rows) + 3 for i in range(4)]
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
