"""``compile(jit_compile=True)``: the built-in steps' tensor work, traced.

Each built-in step is split in two: its tensor work (forward, loss, gradients,
the optimizer's update), a method that ``nnlib.function`` can trace and replay,
and the rest (metrics, the loss tracker, logs), which keeps Python and numpy
state and so runs eagerly on the tensors the first part returns. Eager mode
calls the same method untraced, so both modes run the same code.

A trace replays the tensor work only: a ``float(tensor)`` in a layer raises
``TracingError`` at the first step, and a layer that computes on numpy values
of its tensors freezes them into the trace. That is why eager is the default.
"""

from .._args import boolean, one_of
from .._warn import warn
from ..engine import nest
from ..engine.tensor import Tensor
from ..graph import TracingError, function

__all__ = ["GraphMode", "StepFunctions", "masks_of", "with_masks"]

_SWITCH = "compile(jit_compile=True)"


def _checked(value, owner):
    """``jit_compile`` as a bool: Keras's ``"auto"`` means True (see compile).

    Examples:
        >>> from nnlib.training._traced import _checked
        >>> _checked("auto", "compile")
        True
        >>> _checked("xla", "compile")
        Traceback (most recent call last):
        ...
        ValueError: compile: jit_compile must be one of True, False, 'auto'; got 'xla'
    """
    return bool(one_of(value, "jit_compile", owner, (True, False, "auto")))


class StepFunctions:
    """A model's traced steps, one ``nnlib.function`` per step, made on first use.

    Copies (``copy.deepcopy``, ``pickle``) start empty: a trace captures the
    original's variables, and the copy traces its own on its first step.
    """

    def __init__(self):
        self._functions = {}

    def __reduce__(self):
        return StepFunctions, ()

    def __getitem__(self, kind):
        return self._functions[kind]

    def __contains__(self, kind):
        return kind in self._functions

    def get(self, model, kind):
        """The traced ``model._<kind>_tensors`` (``kind``: train, test, predict)."""
        traced = self._functions.get(kind)
        # copy.copy shares this holder: a trace of another model object is not ours.
        if traced is None or traced.python_function.__self__ is not model:
            method = getattr(model, f"_{kind}_tensors")
            traced = function(method, name=f"{model.name}_{kind}_step")
            self._functions[kind] = traced
        return _Explained(traced)


class _Explained:
    """Calls a traced step; a ``TracingError`` also says how to run eagerly."""

    __slots__ = ("traced",)

    def __init__(self, traced):
        self.traced = traced

    def __call__(self, *args):
        try:
            return self.traced(*args)
        except TracingError as error:
            raise TracingError(
                f"{error}. The model's step is traced because of {_SWITCH}: "
                "make that code traceable, or set model.run_eagerly = True (or "
                "compile with jit_compile=False) to run the step eagerly"
            ) from None


class GraphMode:
    """``Trainer``'s switches between eager and traced steps (Keras's names).

    ``run_eagerly`` wins over ``jit_compile``, as in Keras 3.
    """

    _run_eagerly = False
    _jit_compile = False
    _step_functions = None

    @staticmethod
    def _graph_mode(run_eagerly, jit_compile):
        """``compile``'s checked settings, as the attributes to set."""
        run_eagerly = boolean(run_eagerly, "run_eagerly", "compile")
        jit_compile = _checked(jit_compile, "compile")
        if run_eagerly and jit_compile:
            warn(
                "compile: run_eagerly=True runs the steps eagerly, so jit_compile "
                "is turned off (as Keras 3 does)"
            )
            jit_compile = False
        return {
            "_run_eagerly": run_eagerly,
            "_jit_compile": jit_compile,
            # Traces capture the loss and optimizer: a new compile traces anew.
            "_step_functions": StepFunctions(),
        }

    @property
    def run_eagerly(self):
        """True to run every step eagerly, whatever ``jit_compile`` says."""
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value):
        value = boolean(value, "run_eagerly", f"model '{self.name}'")
        object.__setattr__(self, "_run_eagerly", value)

    @property
    def jit_compile(self):
        """Whether the built-in steps run traced (unless ``run_eagerly``)."""
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value):
        value = _checked(value, f"model '{self.name}'")
        object.__setattr__(self, "_jit_compile", value)
        if self._step_functions is None:
            object.__setattr__(self, "_step_functions", StepFunctions())

    def _tensor_step(self, kind):
        """The tensor work of the built-in step ``kind`` (train, test,
        predict): ``_<kind>_tensors``, traced when ``jit_compile``.

        A model not built yet takes its first step eagerly: the train step's
        trace is keyed by the trainable variables, which building creates.
        """
        if self._run_eagerly or not self._jit_compile or not self.built:
            return getattr(self, f"_{kind}_tensors")
        return self._step_functions.get(self, kind)

    def _warn_custom_steps(self, *step_names):
        """Warns (once per class and step) that an overridden step runs eagerly."""
        if self._run_eagerly or not self._jit_compile:
            return
        for name in step_names:
            if not self._builtin_step(name):
                warn(
                    f"{type(self).__name__} overrides {name}: {_SWITCH} traces "
                    f"only the built-in {name}, so yours runs eagerly. To trace "
                    "yours, move its tensor work into a function wrapped with "
                    "nnlib.function and update the metrics outside it",
                    once=(type(self), name),
                )


def masks_of(y_pred):
    """The padding masks of the outputs (``_keras_mask``), None where none."""
    return [getattr(leaf, "_keras_mask", None) for leaf in nest.flatten(y_pred)]


def with_masks(y_pred, masks):
    """``y_pred`` with ``masks`` attached again (a replay returns bare arrays)."""
    for leaf, mask in zip(nest.flatten(y_pred), masks):
        if mask is not None and isinstance(leaf, Tensor) and leaf._keras_mask is None:
            leaf._keras_mask = mask
    return y_pred
