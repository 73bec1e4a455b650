"""The optimizer base class: validation, clipping, slots and the step counter.

The checks of the gradients and their clipping are functions of ``_gradients.py``.

An algorithm subclasses ``Optimizer`` and supplies only three things: the names
of its slots (``_slot_names``), the per-step scalars it needs
(``_coefficients``, computed once per step, not once per variable) and the
update of one variable (``_update``). Everything else lives here.

Updates run on numpy arrays, not recorded ops: this is the hot path of
training. A variable's array is written in place when nothing else can see it
(``writable``), otherwise replaced, which keeps ``Variable.assign``'s promise
that tensors and ``numpy()`` results read earlier keep their value.
"""

import math
import weakref

import numpy as np

from ..engine import Tensor, Variable, implicit_value_and_gradients
from ..engine import effects as _effects
from . import _hyperparameters as _hyper
from ._arrays import check_number, check_variable
from ._gradients import (
    check_global_step,
    check_minimize_loss,
    checked_pairs,
    clip_arg,
    clipped,
)
from ._hyperparameters import Hyperparameters
from ._serialization import Serialization
from ._sparse import SparseUpdates, flat_gradients

__all__ = ["Optimizer"]


class Optimizer(Hyperparameters, Serialization, SparseUpdates):
    """Base class of the optimizers: applies ``(gradient, variable)`` pairs.

    The base class validates the pairs (before any variable changes), skips
    None gradients, clips, creates slot variables the first time it sees a
    variable, and counts steps in ``iterations``. Subclasses implement only
    their slots and their update.

    Slots are non-trainable variables named ``"<variable>/<optimizer>/<slot>"``
    (``"mnist/dense/kernel/Adam/m"``), created lazily: an optimizer accepts any
    new variable at any step and gives it fresh slots (call ``build`` to create
    them up front, before restoring a checkpoint). ``variables()`` lists
    ``iterations`` and every slot, for checkpoints.

    Hyperparameters given as a scalar float ``Variable`` (the learning rate,
    and the per-step ones of the subclasses: ``momentum``, ``beta_1``, ...) are
    read at every step, as in TF 1.x: assign the Variable to anneal them.
    Assigning ``opt.learning_rate = 0.01`` (or ``opt.momentum``) then writes into
    that Variable, which is what ``ReduceLROnPlateau`` and
    ``LearningRateScheduler`` do; ``get_config`` records its current value.

    Args:
        learning_rate: A float >= 0, a scalar float ``Variable`` (read at every
            step), or a schedule: a callable taking the step (the number of
            updates applied so far) and returning the rate, such as an
            ``optimizers.schedules.LearningRateSchedule``.
        name: The optimizer's name, used in slot names (default: class name).
        clipnorm: If set, each gradient is rescaled to at most this L2 norm.
        clipvalue: If set, each gradient is clipped to ``[-clipvalue, clipvalue]``
            (before any norm clipping).
        global_clipnorm: If set, all gradients are rescaled together so their
            joint L2 norm is at most this (as ``tf.clip_by_global_norm``).

    Raises:
        ValueError: For a negative or non-finite learning rate or clip value,
            or both ``clipnorm`` and ``global_clipnorm``.
        TypeError: For a learning rate that is not a number, a float Variable
            or a callable.

    Examples:
        >>> from nnlib import optimizers
        >>> class SignDescent(optimizers.Optimizer):
        ...     def _update(self, var, grad, slots, lr):
        ...         var.assign(var.numpy() - lr * np.sign(grad))
        >>> w = nnlib.Variable([1., -1.], name="w")
        >>> _ = SignDescent(0.5).apply_gradients([(np.array([3., -2.]), w)])
        >>> w.numpy()
        array([ 0.5, -0.5], dtype=float32)
    """

    _slot_names = ()  # the names of the slots every variable gets
    _config_keys = ()  # constructor arguments beyond the base class's

    def __init__(
        self,
        learning_rate,
        name=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
    ):
        owner = type(self).__name__
        self._owner = owner
        self._hyper_variables = {}  # name -> (Variable, bounds): read every step
        self.learning_rate = learning_rate
        self.name = owner if name is None else str(name)
        self.clipnorm = clip_arg(owner, "clipnorm", clipnorm)
        self.clipvalue = clip_arg(owner, "clipvalue", clipvalue)
        self.global_clipnorm = clip_arg(owner, "global_clipnorm", global_clipnorm)
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(
                f"{owner}: set clipnorm (per gradient) or global_clipnorm (all "
                f"gradients together), not both; got {clipnorm} and {global_clipnorm}"
            )
        self._iterations = Variable(
            np.int64(0), name=f"{self.name}/iterations", trainable=False
        )
        self._slots = {}  # variable _id -> tuple of slot variables
        self._slot_owners = weakref.WeakValueDictionary()  # _id -> its variable
        self._slot_prefixes = set()
        self._scratch_buffers = {}

    # -- learning rate and step -------------------------------------------------

    @property
    def learning_rate(self):
        """The learning rate for the next step, a float (a schedule is evaluated).

        Assign a float or a schedule to change it between steps.

        Examples:
            >>> from nnlib import optimizers
            >>> opt = optimizers.GradientDescent(0.1)
            >>> opt.learning_rate = 0.01
            >>> opt.learning_rate
            0.01
        """
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        if _hyper.is_variable(value):
            _hyper.check_scalar_variable(self._owner, "learning_rate", value)
            _hyper.read(self._owner, "learning_rate", value, {})
            self._learning_rate = value
            return
        if isinstance(value, (Tensor, np.ndarray)):
            value = float(np.asarray(value))
        if not callable(value):
            value = check_number(self._owner, "learning_rate", value)
            current = getattr(self, "_learning_rate", None)
            if _hyper.is_variable(current):  # annealing code assigns into it
                current.assign(value)
                return
        self._learning_rate = value

    def _current_learning_rate(self):
        rate = self._learning_rate
        if isinstance(rate, float):
            return rate
        if _hyper.is_variable(rate):
            return _hyper.read(self._owner, "learning_rate", rate, {})
        step = int(self._iterations._value)
        value = float(np.asarray(rate(step)))
        if not value >= 0 or not math.isfinite(value):
            raise ValueError(
                f"{self._owner}: the learning-rate schedule {rate!r} returned "
                f"{value} at step {step}; a learning rate must be finite and >= 0"
            )
        return value

    @property
    def iterations(self):
        """The number of steps applied: a non-trainable int64 ``Variable``."""
        return self._iterations

    # -- slots ------------------------------------------------------------------

    def build(self, var_list):
        """Creates the slots of every variable in ``var_list`` now.

        Slots are otherwise created at a variable's first update; build first
        when restoring a checkpoint into a fresh optimizer.

        Examples:
            >>> from nnlib import optimizers
            >>> opt = optimizers.Adam()
            >>> opt.build([nnlib.Variable([0., 0.], name="w")])
            >>> [v.name for v in opt.variables()]
            ['Adam/iterations', 'w/Adam/m', 'w/Adam/v']
        """
        for var in var_list:
            check_variable(self._owner, var)
            self._slots_of(var)

    def _slots_of(self, var):
        slots = self._slots.get(var._id)
        if slots is None:
            prefix, k = var.name, 0
            while prefix in self._slot_prefixes:  # two variables, one name
                k += 1
                prefix = f"{var.name}_{k}"
            self._slot_prefixes.add(prefix)
            slots = tuple(
                Variable(
                    self._slot_initial(slot, var),
                    name=f"{prefix}/{self.name}/{slot}",
                    trainable=False,
                )
                for slot in self._slot_names
            )
            self._slots[var._id] = slots
            self._slot_owners[var._id] = var  # for copies (see __getstate__)
        return slots

    def _slot_initial(self, slot, var):
        """The initial value of ``slot`` for ``var`` (zeros unless overridden)."""
        return np.zeros_like(var._value)

    def get_slot_names(self):
        """The names of the slots each variable gets, such as ``["m", "v"]``."""
        return list(self._slot_names)

    def get_slot(self, var, slot_name):
        """The slot variable ``slot_name`` of ``var``.

        Raises:
            KeyError: If ``var`` has no slots yet or ``slot_name`` is unknown.

        Examples:
            >>> from nnlib import optimizers
            >>> w = nnlib.Variable([1.], name="w")
            >>> opt = optimizers.Momentum(0.1)
            >>> _ = opt.apply_gradients([(np.array([1.]), w)])
            >>> opt.get_slot(w, "velocity").numpy()
            array([-0.1], dtype=float32)
        """
        if slot_name not in self._slot_names:
            raise KeyError(
                f"{self._owner} has no slot {slot_name!r}; its slots are "
                f"{list(self._slot_names)}"
            )
        if var._id not in self._slots:
            raise KeyError(
                f"{self._owner} has no slots for variable '{var.name}' yet: it is "
                "created at the variable's first update (or by build)"
            )
        return self._slots[var._id][self._slot_names.index(slot_name)]

    def variables(self):
        """``iterations`` followed by every slot variable, in creation order."""
        return [self._iterations] + [s for slots in self._slots.values() for s in slots]

    def _scratch(self, like, index=0):
        """A reusable array of ``like``'s shape and dtype with garbage contents."""
        key = (like.dtype, index)
        buffer = self._scratch_buffers.get(key)
        if buffer is None or buffer.size < like.size:
            buffer = self._scratch_buffers[key] = np.empty(like.size, like.dtype)
        return buffer[: like.size].reshape(like.shape)

    # -- applying gradients -----------------------------------------------------

    def apply_gradients(self, grads_and_vars, global_step=None):
        """Updates each variable from its gradient: one optimization step.

        Pairs with a None gradient are skipped (with a warning). Every pair is
        checked before any variable changes.

        Args:
            grads_and_vars: An iterable of ``(gradient, variable)`` pairs, as
                ``implicit_value_and_gradients`` returns; gradients are Tensors
                or numpy arrays of the variable's shape, or ``IndexedSlices``
                (applied to the rows they touch where the algorithm allows).
            global_step: Optional integer scalar Variable (TensorFlow 1's global
                step, ``nnlib.train.get_or_create_global_step()``), incremented
                by 1 after the update.

        Returns:
            ``iterations``, the step counter, after the step.

        Raises:
            TypeError: If a variable is not an ``nnlib.Variable`` or not floating,
                or ``global_step`` is not an integer scalar Variable.
            ValueError: If every gradient is None, a gradient's shape (or dense
                shape) differs from its variable's, an ``IndexedSlices`` index is
                out of range, or a variable appears twice.

        Examples:
            >>> from nnlib import optimizers
            >>> w = nnlib.Variable([1., 2.], name="w")
            >>> opt = optimizers.GradientDescent(0.5)
            >>> int(opt.apply_gradients([(np.array([1., -1.]), w)]))
            1
            >>> w.numpy()
            array([0.5, 2.5], dtype=float32)
        """
        if global_step is not None:
            check_global_step(self._owner, global_step)
        if not _effects.WATCHERS:
            grads, variables = checked_pairs(self._owner, grads_and_vars)
            return self._apply(grads, variables, global_step)
        # A tracer watches: it redoes the whole update at each replay, from the
        # gradients as given (the checked ones are arrays, fixed at trace time).
        grads_and_vars = list(grads_and_vars)
        grads, variables = checked_pairs(self._owner, grads_and_vars)
        given = {id(pair[1]): pair[0] for pair in grads_and_vars}
        flat, rebuild = flat_gradients([given[id(v)] for v in variables])

        def redo(*arrays):
            pairs = zip(rebuild(arrays), variables)
            return self.apply_gradients(pairs, global_step=global_step)

        with _effects.effect("apply_gradients", redo, flat):
            return self._apply(grads, variables, global_step)

    def _apply(self, grads, variables, global_step):
        lr = self._current_learning_rate()
        if self._hyper_variables:
            self._read_hyperparameters()
        grads = clipped(grads, self.clipvalue, self.clipnorm, self.global_clipnorm)
        step = int(self._iterations._value) + 1
        coefficients = self._coefficients(step, lr)
        for grad, var in zip(grads, variables):
            self._apply_update(var, grad, self._slots_of(var), coefficients)
        self._iterations._value = np.array(step, dtype=np.int64)
        if global_step is not None:
            global_step.assign_add(1)
        return self._iterations

    def _coefficients(self, step, lr):
        """Per-step scalars for ``_update`` (default: the learning rate)."""
        return lr

    def _update(self, var, grad, slots, coefficients):
        """Updates ``var`` in place from the numpy ``grad`` and its ``slots``."""
        raise NotImplementedError(f"{self._owner} must implement _update")

    def minimize(self, loss_fn, var_list=None, tape=None):
        """Computes the gradients of ``loss_fn()`` and applies them: one step.

        Args:
            loss_fn: A function of no arguments returning the loss Tensor; or,
                with ``tape``, the loss Tensor computed under that tape.
            var_list: Optional variables to update; by default every trainable
                variable ``loss_fn`` reads (with ``tape``, those it watched).
            tape: The ``GradientTape`` a Tensor ``loss_fn`` was computed under.

        Returns:
            The loss, computed before the step.

        Raises:
            TypeError: If ``loss_fn`` is neither a callable nor (with ``tape``)
                a Tensor.
            ValueError: If the loss depends on none of the variables.

        Examples:
            >>> from nnlib import optimizers
            >>> w = nnlib.Variable(3.0, name="w")
            >>> opt = optimizers.GradientDescent(0.25)
            >>> float(opt.minimize(lambda: w * w))
            9.0
            >>> float(w)
            1.5
        """
        check_minimize_loss(self._owner, loss_fn, tape)
        if tape is not None:
            variables = tape.watched_variables() if var_list is None else var_list
            variables = list(variables)
            grads = tape.gradient(loss_fn, variables)
            self.apply_gradients(zip(grads, variables))
            return loss_fn
        loss, grads_and_vars = implicit_value_and_gradients(loss_fn)()
        if var_list is not None:
            var_list = list(var_list)
            for var in var_list:
                check_variable(self._owner, var)
            grad_of = {var._id: grad for grad, var in grads_and_vars}
            grads_and_vars = [(grad_of.get(var._id), var) for var in var_list]
        self.apply_gradients(grads_and_vars)
        return loss
