"""``Bidirectional``: a recurrent layer read forwards and a copy read backwards."""

from ..ops import joining
from . import _context, _registry, _symbolic
from .base import Layer

__all__ = ["Bidirectional"]


_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, merging both.

    Both directions are rebuilt from ``layer.get_config()`` (fresh variables):
    ``forward_<name>`` as configured and ``backward_<name>`` with
    ``go_backwards`` flipped, so their variables are
    ``<bidirectional>/forward_lstm/kernel`` and so on, as in Keras. With
    ``return_sequences`` the backward outputs are reversed back in time before
    merging, so step ``t`` of both halves describes input step ``t``.

    A mask reaches both directions (the backward layer reads it reversed, with
    the inputs); as in Keras, with ``return_sequences`` both layers output
    zeros at masked steps (``zero_output_for_mask`` is forced on), and the
    merged sequence carries the input mask. A ``time_major`` layer reads and
    returns (time, batch, ...) sequences, and so does the wrapper.

    Args:
        layer: A ``SimpleRNN``, ``LSTM``, ``GRU`` or ``RNN`` (or any layer
            with the same ``go_backwards``/``return_sequences``/
            ``return_state`` config).
        merge_mode: ``"concat"`` (last axis), ``"sum"``, ``"mul"``, ``"ave"``,
            or None for the list ``[forward, backward]``.
        backward_layer: Optional layer for the backward direction; it must read
            in the other direction and return sequences and states alike.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Call arguments:
        inputs: (batch, time, features), or (time, batch, features) for a
            ``time_major`` layer.
        initial_state: Optional list: the forward layer's states, then the
            backward layer's.
        mask: Optional (batch, time) booleans, false at padded steps (by
            default the mask the inputs carry).

    Returns:
        The merged output; with ``return_state`` followed by the forward
        layer's final states, then the backward layer's.

    Raises:
        TypeError: If ``layer`` or ``backward_layer`` is not a recurrent layer.
        ValueError: For an unknown ``merge_mode`` or a mismatched
            ``backward_layer``.

    Examples:
        >>> lstm = nnlib.layers.LSTM(3, return_sequences=True, name="encoder_doc")
        >>> bi = nnlib.layers.Bidirectional(lstm, name="bi_doc")
        >>> bi(np.ones((2, 5, 4), np.float32)).shape
        (2, 5, 6)
        >>> [v.name for v in bi.variables][::3]
        ['bi_doc/forward_encoder_doc/kernel', 'bi_doc/backward_encoder_doc/kernel']
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        # The wrapped layer's own name (given, or its class's), read before
        # anything names it from a process-wide counter: a model rebuilt from
        # its config then names its directions (and variables) alike.
        label = _symbolic.label(layer) if isinstance(layer, Layer) else None
        _check_recurrent(layer, "layer")
        if backward_layer is not None:
            _check_recurrent(backward_layer, "backward_layer")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Bidirectional: merge_mode must be one of {_MERGE_MODES}, "
                f"got {merge_mode!r}"
            )
        kwargs.setdefault("dtype", layer.dtype)
        super().__init__(**kwargs)
        config = {**layer.get_config(), "name": label}
        name = label.removeprefix("forward_")
        self._layer_spec = {**_registry.class_spec(type(layer)), "config": config}
        self._backward_spec = None
        self.merge_mode = merge_mode
        self.forward_layer = type(layer).from_config(
            {**config, "name": "forward_" + name}
        )
        if backward_layer is None:
            backward_layer = type(layer).from_config(
                {
                    **config,
                    "name": "backward_" + name,
                    "go_backwards": not config["go_backwards"],
                }
            )
        else:
            self._backward_spec = {
                **_registry.class_spec(type(backward_layer)),
                "config": backward_layer.get_config(),
            }
            _check_backward_layer(config, self._backward_spec["config"])
        self.backward_layer = backward_layer
        self.return_sequences = config["return_sequences"]
        self.return_state = config["return_state"]
        self.time_major = bool(config.get("time_major", False))
        # Keras: masked steps of a returned sequence are zeros in both halves.
        for direction in (self.forward_layer, self.backward_layer):
            if getattr(direction, "zero_output_for_mask", None) is not None:
                direction.zero_output_for_mask = self.return_sequences

    def call(self, inputs, initial_state=None, mask=None):
        forward_state = backward_state = None
        if initial_state is not None:
            initial_state = list(initial_state)
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        masks = [
            {"mask": mask} if _context.accepts_mask(layer) else {}
            for layer in (self.forward_layer, self.backward_layer)
        ]
        y = self.forward_layer(inputs, initial_state=forward_state, **masks[0])
        y_rev = self.backward_layer(inputs, initial_state=backward_state, **masks[1])
        states = []
        if self.return_state:
            states = y[1:] + y_rev[1:]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[::-1] if self.time_major else y_rev[:, ::-1]
        output = _merge(self.merge_mode, y, y_rev)
        if not self.return_state:
            return output
        return (output if self.merge_mode is None else [output]) + states

    def compute_mask(self, inputs, mask=None):
        """The input mask for a merged sequence (one per half with
        ``merge_mode=None``); None for last outputs and for the states."""
        output_mask = mask if self.return_sequences else None
        masks = [output_mask] * (2 if self.merge_mode is None else 1)
        if self.return_state:
            states = sum(
                _state_count(layer)
                for layer in (self.forward_layer, self.backward_layer)
            )
            return masks + [None] * states
        return masks if self.merge_mode is None else output_mask

    def compute_output_shape(self, input_shape, initial_state_shape=None):
        """The merged output's shape (both directions' shapes for
        ``merge_mode=None``), then with ``return_state`` the states' shapes.

        Examples:
            >>> bi = nnlib.layers.Bidirectional(nnlib.layers.GRU(3))
            >>> bi.compute_output_shape((None, 5, 4))
            (None, 6)
        """
        shapes = []
        for layer in (self.forward_layer, self.backward_layer):
            shape = layer.compute_output_shape(input_shape)
            shapes.append(list(shape) if self.return_state else [shape])
        (y, *states), (y_rev, *states_rev) = shapes
        if self.merge_mode == "concat":
            last = None if None in (y[-1], y_rev[-1]) else y[-1] + y_rev[-1]
            output = tuple(y[:-1]) + (last,)
        elif self.merge_mode is None:
            output = [tuple(y), tuple(y_rev)]
        else:
            output = tuple(y)
        if not self.return_state:
            return output
        merged = output if self.merge_mode is None else [output]
        return merged + [tuple(s) for s in states + states_rev]

    def get_config(self):
        return {
            **super().get_config(),
            "layer": self._layer_spec,
            "merge_mode": self.merge_mode,
            "backward_layer": self._backward_spec,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        specs = {}
        for key in ("layer", "backward_layer"):
            spec = config.pop(key)
            if spec is not None:
                layer_cls = _registry.resolve(spec)
                specs[key] = layer_cls.from_config(dict(spec["config"]))
        return cls(specs["layer"], backward_layer=specs.get("backward_layer"), **config)


_RECURRENT_KEYS = ("go_backwards", "return_sequences", "return_state")


def _check_recurrent(layer, what):
    """Raises TypeError unless ``layer`` is a recurrent layer Bidirectional can copy."""
    if not isinstance(layer, Layer):
        raise TypeError(
            f"Bidirectional: {what} must be a Layer, a recurrent one (SimpleRNN, "
            f"LSTM, GRU, RNN), got {type(layer).__name__}"
        )
    config = layer.get_config()
    if not all(key in config for key in _RECURRENT_KEYS):
        raise TypeError(
            f"Bidirectional: {what} must be a recurrent layer (SimpleRNN, LSTM, GRU, "
            "RNN, or a layer whose config has go_backwards, return_sequences and "
            f"return_state), got {type(layer).__name__}"
        )


def _check_backward_layer(forward, backward):
    for key in ("return_sequences", "return_state"):
        if forward[key] != backward[key]:
            raise ValueError(
                f"Bidirectional: backward_layer must have the forward layer's "
                f"{key}={forward[key]}, got {backward[key]}"
            )
    if forward["go_backwards"] == backward["go_backwards"]:
        raise ValueError(
            "Bidirectional: backward_layer must have go_backwards="
            f"{not forward['go_backwards']} (the other direction), got "
            f"{backward['go_backwards']}"
        )


def _state_count(layer):
    """How many states the layer returns after its output (a stack: one
    entry per cell)."""
    names = getattr(layer, "state_names", None)
    if names is not None:
        return len(names)
    size = getattr(layer, "state_size", 1)
    return len(size) if isinstance(size, (list, tuple)) else 1


def _merge(mode, y, y_rev):
    if mode == "concat":
        return joining.concat([y, y_rev], axis=-1)
    if mode == "sum":
        return y + y_rev
    if mode == "mul":
        return y * y_rev
    if mode == "ave":
        return (y + y_rev) * 0.5
    return [y, y_rev]
