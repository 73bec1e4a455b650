"""compile / fit / evaluate / predict: the convenience loop over ``train_step``.

``train_step`` is exactly the hand-written loop (a tape, the compiled loss plus
the model's regularization losses, ``optimizer.apply_gradients``); ``fit`` only
schedules epochs, batches and callbacks around it. Subclasses override
``train_step``/``test_step`` for custom training (GANs, custom losses) and keep
fit's callbacks, metrics and progress display. With ``compile(jit_compile=True)``
the built-in steps' tensor work runs traced by ``nnlib.function`` (``_traced``).
"""

import numpy as np

from .. import callbacks as _callbacks
from .. import metrics as _metrics
from .. import optimizers as _optimizers
from .._args import boolean
from ..engine import nest
from . import _checks, _data_checks, _steps, _traced
from .compile_utils import CompiledLoss, CompiledMetrics
from .fit_loop import run_fit
from .steps import Steps

__all__ = ["Trainer"]


class Trainer(Steps, _traced.GraphMode):
    """The training half of ``Network``: compile, fit, evaluate and predict."""

    compiled_loss = None
    optimizer = None
    stop_training = False
    # Whether the model takes exactly one input array, whatever its input shape
    # says (Sequential): fit, evaluate and predict then unwrap [x], refuse a
    # dict or list of arrays, and read the input shape off the first layer.
    _takes_single_input = False

    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        loss_weights=None,
        run_eagerly=False,
        jit_compile=False,
    ):
        """Sets the optimizer, loss and metrics ``fit`` and ``evaluate`` use.

        Args:
            optimizer: An optimizer object or name (``"adam"``).
            loss: A loss name, function or object. For several outputs, a
                list (by position) or a dict by output name (outputs left out
                get no loss); a single loss applies to every output (Keras 3).
            metrics: Metric names or objects (``["accuracy"]``). For several
                outputs, a dict by output name or a list with one entry (a
                metric, a list of them, or None) per output; dict outputs log
                them as ``<output>_<metric>``.
            loss_weights: Weights of the losses of several outputs (the
                structure of ``loss``).
            run_eagerly: True runs every step eagerly, even with
                ``jit_compile`` (which it turns off, with a warning, as
                Keras 3 does). Also the attribute ``model.run_eagerly``.
            jit_compile: True (or Keras's ``"auto"``) runs the tensor work of
                the built-in ``train_step``, ``test_step`` and
                ``predict_step`` (forward, loss, gradients, the optimizer's
                update) through ``nnlib.function``: traced once per batch
                signature, then replayed. Metrics are still updated eagerly.
                Default False: eager, unlike Keras 3, whose default ``"auto"``
                compiles; a trace replays tensor work only (see
                ``docs/training.md``). Also the attribute
                ``model.jit_compile``.

        Raises:
            ValueError: For unknown names (with the closest valid one), or a
                ``jit_compile`` other than True, False or ``"auto"``.
                Everything is resolved before anything is set, so a failed
                ``compile`` leaves the previous settings in place.
            TypeError: For a ``run_eagerly`` that is not a bool.

        Examples:
            >>> model = nnlib.Sequential([nnlib.layers.Dense(1, input_shape=(2,))])
            >>> model.compile(optimizer="sgd", loss="mse")
            >>> model.compile(optimizer="adam", loss="mean_sqared_error")
            Traceback (most recent call last):
            ...
            ValueError: unknown loss 'mean_sqared_error'. Did you mean ...
            >>> type(model.optimizer).__name__      # the failed compile changed nothing
            'GradientDescent'

            Graph mode: the same steps, traced per batch shape and replayed.

            >>> model.compile(optimizer="sgd", loss="mse", jit_compile=True)
            >>> x, y = np.ones((8, 2), np.float32), np.zeros((8, 1), np.float32)
            >>> history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
            >>> model.jit_compile, model.run_eagerly
            (True, False)
        """
        resolved = {
            "optimizer": _optimizers.get(optimizer),
            "compiled_loss": CompiledLoss(loss, loss_weights),
            "compiled_metrics": CompiledMetrics(metrics, loss),
            "_loss_tracker": _metrics.Mean(name="loss"),
            # As given, for model.save to record (names and configs, not objects).
            "_compile_args": {
                "loss": loss,
                "metrics": metrics,
                "loss_weights": loss_weights,
                "run_eagerly": run_eagerly,
                "jit_compile": jit_compile,
            },
            **self._graph_mode(run_eagerly, jit_compile),
        }
        for name, value in resolved.items():
            object.__setattr__(self, name, value)

    def _builtin_step(self, step_name):
        """Whether the step ``step_name`` is nnlib's own (not overridden)."""
        return getattr(type(self), step_name) is getattr(Steps, step_name)

    def _step_needs_targets(self, step_name):
        """Whether ``train_step``/``test_step`` is the built-in one, whose
        compiled loss needs targets (a custom step may do without)."""
        return self._builtin_step(step_name)

    def _check_compiled(self):
        if self.compiled_loss is None:
            raise RuntimeError(
                f"model '{self.name}' is not compiled: call compile(optimizer=..., "
                "loss=...) before fit/evaluate/train_on_batch"
            )

    def fit(
        self,
        x=None,
        y=None,
        batch_size=32,
        epochs=1,
        verbose=1,
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        check_finite=False,
    ):
        """Trains for ``epochs`` epochs; returns a ``History``.

        Args:
            x: Arrays, tensors or nested lists of numbers (a list/dict of
                arrays for several inputs), or a ``Dataset`` yielding
                ``(x, y)`` or ``(x, y, sample_weight)``.
            y: The targets, like ``x`` (None when ``x`` is a ``Dataset``).
            batch_size: Samples per step (arrays only).
            epochs: Index of the last epoch (``epochs - initial_epoch`` are run),
                an int >= ``initial_epoch``.
            verbose: 0 silent, 1 (or ``"auto"``) a progress bar, 2 one line per
                epoch.
            callbacks: ``nnlib.callbacks`` objects.
            validation_split: Fraction of the arrays held out (the last ones).
            validation_data: ``(x, y)``, ``(x, y, sample_weight)`` or a Dataset.
            shuffle: Reshuffle the arrays every epoch (from ``nnlib.random``).
            class_weight: ``{class: weight}`` multiplying each sample's loss.
            sample_weight: Per-sample weights (arrays only).
            initial_epoch: Epoch to start at (to resume). A callback that
                restores an interrupted run (``BackupAndRestore``) may start
                later: ``fit`` starts at the largest of ``initial_epoch`` and
                the callbacks' ``resume_epoch`` (see ``Callback``).
            steps_per_epoch: Steps per epoch (needed for an infinite Dataset).
                As in Keras 3, epochs read one stream of batches, arrays and
                Datasets alike: an epoch goes on where the previous one
                stopped. When the data runs out first, the epoch ends early
                with a warning (how many steps ran, what to set), and the
                next epoch starts a new pass (arrays reshuffled with
                ``shuffle``, a Dataset iterated again); so does the epoch
                after one that took the last batch. A repeated Dataset never
                runs out.
            check_finite: Raise ``FloatingPointError`` if the inputs hold NaN or
                infinity, naming the row and column: arrays are scanned once
                before the first step, a Dataset batch by batch (off by default).

        Returns:
            A ``History``: ``history.history`` maps metric names (and ``val_`` names)
            to one value per epoch.

        Raises:
            RuntimeError: Before compile().
            TypeError: For an argument of the wrong type (``epochs=2.5``,
                ``shuffle="no"``, ``x=None``, a file name).
            ValueError: For bad values and data, before the first step and with
                the model unchanged: labels outside the model's classes, a
                rank-1 ``x``, ``validation_data`` that does not fit, ...
            FloatingPointError: With ``check_finite``, for NaN or infinity in x.
            CheckpointWriteError: For a ``ModelCheckpoint`` path that cannot be
                written, before the first step.
        """
        self._check_compiled()
        return run_fit(
            self,
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            class_weight=class_weight,
            sample_weight=sample_weight,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            check_finite=check_finite,
        )

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=32,
        verbose=1,
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
    ):
        """Loss and metrics over the data, in inference mode.

        Returns:
            The loss alone when no metric is compiled, else ``[loss, *metrics]``;
            a dict with ``return_dict=True``.

        Raises:
            TypeError, ValueError: For bad arguments or data, as ``fit``.
        """
        self._check_compiled()
        verbose = _checks.verbose(verbose, "evaluate")
        boolean(return_dict, "return_dict", "evaluate")
        batch_size = _checks.batch_size(batch_size, "evaluate")
        steps = _checks.steps(steps, "steps", "evaluate")
        if _checks.is_dataset(x):
            _checks.dataset_targets(self, x, "evaluate", "test_step")
        else:
            x = _checks.input_data(self, x, "evaluate")
            y = _checks.target_data(self, y, "evaluate", "test_step")
        batches = _steps.adapted(
            "evaluate: ", x, y, sample_weight, batch_size, steps=steps
        )
        if not _checks.is_dataset(x):
            _data_checks.check_labels(self, x, y, "evaluate")
        callback_list = _callbacks.CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=batches.steps,
        )
        self._warn_custom_steps("test_step")
        logs = self._evaluate_batches(batches, callback_list)
        _steps.warn_ran_out(batches, "evaluate")
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _evaluate_batches(self, batches, callback_list):
        self._reset_metrics()
        callback_list.on_test_begin()
        logs = {}
        for step, data in enumerate(batches):
            callback_list.on_test_batch_begin(step)
            logs = self.test_step(data)
            callback_list.on_test_batch_end(step, logs)
        if not logs:
            raise ValueError("evaluation got no batch: the data is empty")
        callback_list.on_test_end(logs)
        return logs

    def predict(self, x, batch_size=32, verbose=0, steps=None, callbacks=None):
        """The model's outputs for ``x``, batch by batch, as numpy arrays.

        The result has the structure of the model's output, as in Keras: one
        array for one output; for several, the same dict (in its key order),
        tuple or list, nested as the model returns them, each leaf the batches
        concatenated. An empty ``x`` gives empty arrays of the output shapes.

        Raises:
            TypeError: For ``x`` None, a file name, or a ragged or non-numeric list.
            ValueError: For a rank-1 ``x`` where the model needs a batch axis
                (the message says ``x[None]`` or ``x.reshape(-1, 1)``), or a bad
                ``batch_size``, ``verbose`` or ``steps``.

        Examples:
            >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
            >>> model.predict([[1.0, 2.0, 3.0]]).shape       # nested lists are arrays
            (1, 2)
            >>> model.predict(np.ones(3))
            Traceback (most recent call last):
            ...
            ValueError: predict: x has shape (3,), with no axis for the features: ...
        """
        batch_size = _checks.batch_size(batch_size, "predict")
        verbose = _checks.verbose(verbose, "predict")
        steps = _checks.steps(steps, "steps", "predict")
        if not _checks.is_dataset(x):
            x = _checks.input_data(self, x, "predict")
            if np.shape(nest.flatten(x)[0])[0] == 0:
                return _steps.as_arrays(self(x, training=False))
        batches = _steps.adapted("predict: ", x, None, None, batch_size, steps=steps)
        callback_list = _callbacks.CallbackList(callbacks, model=self, verbose=verbose)
        self._warn_custom_steps("predict_step")
        callback_list.on_predict_begin()
        outputs, structure = [], None
        for step, data in enumerate(batches):
            callback_list.on_predict_batch_begin(step)
            out = self.predict_step(data)
            structure = out if structure is None else structure
            outputs.append([np.asarray(o) for o in nest.flatten(out)])
            callback_list.on_predict_batch_end(step, {"outputs": out})
        callback_list.on_predict_end()
        _steps.warn_ran_out(batches, "predict")
        if not outputs:
            raise ValueError("predict got no batch: the data is empty")
        joined = [np.concatenate(parts) for parts in zip(*outputs)]
        return nest.pack_as(structure, joined)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None):
        """One training step on one batch; returns the loss (and metrics) as floats."""
        self._check_compiled()
        self._reset_metrics()
        sample_weight = _steps.class_weights(y, sample_weight, class_weight)
        self._warn_custom_steps("train_step")
        logs = self.train_step((x, y, sample_weight))
        return _steps.scalar_or_list(logs)

    def test_on_batch(self, x, y=None, sample_weight=None):
        """Loss (and metrics) of one batch in inference mode."""
        self._check_compiled()
        self._reset_metrics()
        self._warn_custom_steps("test_step")
        return _steps.scalar_or_list(self.test_step((x, y, sample_weight)))

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as numpy arrays (in their structure)."""
        self._warn_custom_steps("predict_step")
        return _steps.as_arrays(self.predict_step((x,)))
