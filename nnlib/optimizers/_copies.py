"""Optimizers under ``pickle`` and ``copy.deepcopy``, with their slots."""

import weakref

from ..engine.tensor import _next_id

__all__ = ["Copies"]


class Copies:
    """The copying half of ``Optimizer`` (not used alone).

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
