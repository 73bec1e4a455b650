"""Optimizers as configs, and under ``pickle`` and ``copy.deepcopy`` with their slots."""

import weakref

from ..engine.tensor import _next_id
from . import _hyperparameters as _hyper
from . import schedules as _schedules

__all__ = ["Serialization"]


class Serialization:
    """The configuration and copying part of ``Optimizer`` (not used alone).

    ``Optimizer`` keeps its slots in ``_slots`` (variable id -> slot variables)
    and each slot's variable, weakly, in ``_slot_owners``.

    Examples:
        >>> import copy
        >>> from nnlib import optimizers
        >>> w = nnlib.Variable([1.0, 2.0], name="copies_example")
        >>> opt = optimizers.Adam(0.1)
        >>> _ = opt.apply_gradients([(np.array([1.0, 1.0]), w)])
        >>> opt2, w2 = copy.deepcopy((opt, w))
        >>> opt2.get_slot(w2, "m").numpy()
        array([0.1, 0.1], dtype=float32)
    """

    def __getstate__(self):
        """The optimizer for ``pickle`` and ``copy.deepcopy``, as Keras allows.

        Slots are keyed by their variable's id; a copy gives its variables new
        ids, so the slots travel with the variables themselves (copied along
        when the optimizer is copied with its model) and are keyed by the
        copies' ids on restore. Slots of variables that no longer exist are
        kept (checkpoints list them) under ids no variable has.
        """
        state = dict(self.__dict__)
        owners = state.pop("_slot_owners")
        pairs = [(owners.get(key), slots) for key, slots in self._slots.items()]
        live = sorted((v for v, _ in pairs if v is not None), key=lambda v: v._id)
        state["_slots"] = pairs
        state["_scratch_buffers"] = {}  # scratch space: made again when needed
        # The variables first, in creation order: restored in that order, their
        # new ids keep it (Layer.variables sorts by id).
        return {"_slot_variables": live, **state}

    def __setstate__(self, state):
        state = dict(state)
        state.pop("_slot_variables", None)
        pairs = state.pop("_slots")
        self.__dict__.update(state)
        self.__dict__["_slots"] = slots_by_id = {}
        self.__dict__["_slot_owners"] = owners = weakref.WeakValueDictionary()
        for var, slots in pairs:
            key = _next_id() if var is None else var._id
            slots_by_id[key] = slots
            if var is not None:
                owners[key] = var

    def get_config(self):
        """The constructor arguments as a dict (a schedule as its serialization).

        A learning rate that is a plain function (not a ``LearningRateSchedule``)
        is kept as the function itself, so the dict is then not JSON-friendly.
        A hyperparameter held in a Variable appears as its current value.

        Examples:
            >>> from nnlib import optimizers
            >>> optimizers.Adam(0.01).get_config()["learning_rate"]
            0.01
        """
        rate = self._learning_rate
        if isinstance(rate, _schedules.LearningRateSchedule):
            rate = _schedules.serialize(rate)
        elif _hyper.is_variable(rate):
            rate = float(rate.numpy())
        config = {
            "name": self.name,
            "learning_rate": rate,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        }
        config.update({key: self._config_value(key) for key in self._config_keys})
        return config

    @classmethod
    def from_config(cls, config):
        """Builds an optimizer from ``get_config()``'s dict.

        Examples:
            >>> from nnlib import optimizers
            >>> opt = optimizers.Adam.from_config(optimizers.Adam(0.01).get_config())
            >>> opt.learning_rate
            0.01
        """
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        args = ", ".join(
            f"{k}={v!r}"
            for k, v in self.get_config().items()
            if v is not None and k != "name"
        )
        return f"{type(self).__name__}({args})"
