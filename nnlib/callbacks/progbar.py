"""The progress bar (``Progbar``) and the callback that drives it in ``fit``.

On a terminal the bar is redrawn in place with a carriage return. Anywhere else
(a log file, a pipe, CI output) a carriage return would leave garbage, so the
bar writes whole lines only: the final line of each epoch, and during a long
epoch at most one line per ``Progbar.non_tty_interval`` seconds (10 by
default), each at a new tenth of the epoch, so at most 9 extra lines an epoch.
"""

import math
import sys
import time

import numpy as np

from .callback import Callback, to_python

__all__ = ["Progbar", "ProgbarLogger"]

# Looked up at each call, so that tests can replace the clock.
_clock = time.monotonic


def _is_terminal(stream):
    """Whether ``stream`` redraws on a carriage return: a TTY, or Jupyter's stream."""
    isatty = getattr(stream, "isatty", None)
    try:
        if isatty is not None and isatty():
            return True
    except (ValueError, OSError):  # a closed or detached stream
        return False
    return type(stream).__module__.startswith("ipykernel")


def _format_duration(seconds):
    seconds = int(seconds)
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    if hours:
        return f"{hours}:{minutes:02d}:{seconds % 60:02d}"
    if minutes:
        return f"{minutes}:{seconds % 60:02d}"
    return f"{seconds}s"


def _format_per_unit(seconds, unit_name):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def _format_value(value):
    if isinstance(value, str):
        return value
    value = float(np.mean(value))
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


class Progbar:
    """A Keras-style progress bar for a loop of ``target`` steps.

    Verbose 1 shows, redrawn in place on a terminal::

        12/100 [==>...........................] - ETA: 3s - loss: 0.4321
        100/100 [==============================] - 2s 20ms/step - loss: 0.4102

    Verbose 2 writes only the final line, ``100/100 - 2s - 20ms/step - loss:
    0.4102``; verbose 0 writes nothing. Output that is not a terminal never
    receives a carriage return (see the module docstring for which lines it
    gets). With ``target=None`` the count and elapsed time are shown, no bar.

    Values are averaged over steps (weighted by the steps each update covers),
    except those named in ``stateful_metrics``, shown as last given.

    Args:
        target: Total number of steps, or ``None`` if unknown.
        width: Width of the bar in characters.
        verbose: 0 (silent), 1 (bar) or 2 (final line only).
        interval: Minimum seconds between two redraws on a terminal.
        stateful_metrics: Names of values to show as given, not averaged.
        unit_name: Name of a step in the time per step (``"step"``, ``"sample"``).
        file: Stream to write to; ``None`` means ``sys.stdout`` at construction.

    Attributes:
        non_tty_interval: Minimum seconds between two intermediate lines on an
            output that is not a terminal (class attribute, 10.0).

    Examples:
        >>> import io
        >>> from nnlib import callbacks
        >>> out = io.StringIO()
        >>> bar = callbacks.Progbar(4, width=8, file=out)
        >>> for step in range(4):
        ...     bar.add(1, [("loss", 1.0 - 0.1 * step)])
        >>> print(out.getvalue().strip())
        4/4 [========] - 0s ...s/step - loss: 0.8500
    """

    non_tty_interval = 10.0

    def __init__(
        self,
        target,
        width=30,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        unit_name="step",
        file=None,
    ):
        if verbose not in (0, 1, 2):
            raise ValueError(f"Progbar: verbose must be 0, 1 or 2, got {verbose!r}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self.file = file
        self._stream = sys.stdout if file is None else file
        self._dynamic = _is_terminal(self._stream)
        self._values = {}  # name -> [weighted sum, weight]
        self._order = []
        self._seen = 0
        self._start = _clock()
        self._after_first_step = None
        self._last_draw = -math.inf
        self._last_line = self._start
        self._tenths = 0
        self._prev_width = 0

    def update(self, current, values=None, finalize=None):
        """Sets the progress to ``current`` steps and redraws if it is time.

        Args:
            current: Number of steps done so far.
            values: ``(name, value)`` pairs (or a dict) for the last step(s).
            finalize: Whether this is the last update; by default, whether
                ``current >= target``.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._accumulate(current, values)
        now = _clock()
        per_unit = self._time_per_unit(current, now)
        if self.verbose == 1:
            self._show(current, now, per_unit, finalize)
        elif self.verbose == 2 and finalize:
            self._write(self._summary_line(current, now, per_unit) + "\n")

    def add(self, n, values=None):
        """Advances the progress by ``n`` steps; see ``update``."""
        self.update(self._seen + n, values)

    def _accumulate(self, current, values):
        if isinstance(values, dict):
            values = values.items()
        weight = max(current - self._seen, 1)
        for name, value in values or ():
            if name not in self._values:
                self._order.append(name)
            value = to_python(value)
            if not isinstance(value, (float, str)):
                # Arrays (per-class metrics) average elementwise; a value that
                # is not numeric is shown as text rather than stopping training.
                try:
                    value = np.asarray(value, dtype=np.float64)
                except (TypeError, ValueError):
                    value = str(value)
            if name in self.stateful_metrics or isinstance(value, str):
                self._values[name] = [value, 1]
            elif name in self._values:
                self._values[name][0] += value * weight
                self._values[name][1] += weight
            else:
                self._values[name] = [value * weight, weight]
        self._seen = current

    def _time_per_unit(self, current, now):
        # The first step (compilation, warm-up) is not representative: leave it
        # out once later steps exist.
        if not current:
            return 0.0
        if self._after_first_step is not None and current > 1:
            return (now - self._after_first_step) / (current - 1)
        if current == 1:
            self._after_first_step = now
        return (now - self._start) / current

    def _show(self, current, now, per_unit, finalize):
        line = self._bar_line(current, now, per_unit, finalize)
        if self._dynamic:
            if not finalize and now - self._last_draw < self.interval:
                return
            padding = " " * max(self._prev_width - len(line), 0)
            self._write("\r" + line + padding + ("\n" if finalize else ""))
            self._prev_width = len(line)
            self._last_draw = now
        elif finalize or self._due_for_line(current, now):
            self._write(line + "\n")
            self._last_line = now

    def _due_for_line(self, current, now):
        if now - self._last_line < self.non_tty_interval:
            return False
        if not self.target:
            return True
        tenths = int(10 * current / self.target)
        if tenths <= self._tenths:
            return False
        self._tenths = tenths
        return True

    def _bar_line(self, current, now, per_unit, finalize):
        if self.target:
            digits = len(str(self.target))
            filled = int(self.width * min(current / self.target, 1.0))
            bar = "=" * max(filled - 1, 0)
            if filled:
                bar += ">" if current < self.target else "="
            line = f"{current:{digits}d}/{self.target} [{bar:.<{self.width}}]"
        else:
            line = f"{current:7d}/Unknown"
        if self.target and not finalize:
            eta = per_unit * max(self.target - current, 0)
            line += f" - ETA: {_format_duration(eta)}"
        else:
            elapsed = now - self._start
            line += f" - {elapsed:.0f}s {_format_per_unit(per_unit, self.unit_name)}"
        return line + self._metrics_text()

    def _summary_line(self, current, now, per_unit):
        count = f"{current}/{self.target}" if self.target else f"{current}"
        elapsed = now - self._start
        per = _format_per_unit(per_unit, self.unit_name)
        return f"{count} - {elapsed:.0f}s - {per}" + self._metrics_text()

    def _metrics_text(self):
        parts = []
        for name in self._order:
            total, weight = self._values[name]
            value = total if isinstance(total, str) else total / weight
            parts.append(f" - {name}: {_format_value(value)}")
        return "".join(parts)

    def _write(self, text):
        self._stream.write(text)
        flush = getattr(self._stream, "flush", None)
        if flush is not None:
            flush()


def _verbosity(verbose):
    return 1 if verbose == "auto" else int(verbose)


class ProgbarLogger(Callback):
    """Prints ``Epoch 3/10`` and a progress bar for each epoch of ``fit``.

    The steps come from ``params["steps"]``; when that is ``None`` the first
    epoch shows a count and later epochs use the count the first one reached.
    The logs of ``on_train_batch_end`` are the running averages the fit loop
    computes, shown as given; at the end of an epoch its logs, ``val_``
    metrics included, are shown. Validation inside ``fit`` draws no bar of its
    own; ``evaluate`` and ``predict`` do.

    Args:
        verbose: 0 (silent), 1 (bar per epoch) or 2 (one line per epoch);
            ``params["verbose"]``, when given, replaces it (as in Keras).
        file: Stream to write to; ``None`` means ``sys.stdout``.

    Examples:
        >>> import io
        >>> from nnlib import callbacks
        >>> out = io.StringIO()
        >>> logger = callbacks.ProgbarLogger(verbose=2, file=out)
        >>> logger.set_params({"epochs": 2, "steps": 5, "verbose": 2})
        >>> logger.on_train_begin()
        >>> for epoch in range(2):
        ...     logger.on_epoch_begin(epoch)
        ...     for batch in range(5):
        ...         logger.on_train_batch_end(batch, {"loss": 0.5})
        ...     logger.on_epoch_end(epoch, {"loss": 0.5, "val_loss": 0.6})
        >>> print(out.getvalue().strip())
        Epoch 1/2
        5/5 - 0s - ...s/step - loss: 0.5000 - val_loss: 0.6000
        Epoch 2/2
        5/5 - 0s - ...s/step - loss: 0.5000 - val_loss: 0.6000
    """

    def __init__(self, verbose=1, file=None):
        super().__init__()
        self.verbose = _verbosity(verbose)
        self.file = file
        self.epochs = None
        self.target = None
        self.progbar = None
        self.seen = 0
        self._in_fit = False

    def set_params(self, params):
        """Takes ``epochs``, ``steps`` and (if not ``None``) ``verbose``."""
        super().set_params(params)
        if self.params.get("verbose") is not None:
            self.verbose = _verbosity(self.params["verbose"])
        self.epochs = self.params.get("epochs")
        self.target = self.params.get("steps")

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._start_bar()
        if self.verbose:
            total = f"/{self.epochs}" if self.epochs else ""
            self.progbar._write(f"Epoch {epoch + 1}{total}\n")

    def on_train_batch_end(self, batch, logs=None):
        self._update_bar(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish_bar(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._start_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._update_bar(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish_bar(logs)

    def on_predict_begin(self, logs=None):
        self._start_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._update_bar(batch, None)  # the logs hold outputs, not metrics

    def on_predict_end(self, logs=None):
        self._finish_bar(None)

    def _start_bar(self):
        self.seen = 0
        self.progbar = None
        if self.verbose:
            self.progbar = Progbar(self.target, verbose=self.verbose, file=self.file)

    def _update_bar(self, batch, logs):
        self.seen = batch + 1
        if self.verbose == 1 and self.progbar is not None:
            self._show(self.seen, logs, finalize=False)

    def _finish_bar(self, logs):
        if self.progbar is None:
            return
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.seen
        self._show(self.progbar.target, logs, finalize=True)

    def _show(self, current, logs, finalize):
        logs = logs or {}
        # The fit loop passes running averages: averaging again would be wrong.
        self.progbar.stateful_metrics.update(logs)
        self.progbar.update(current, list(logs.items()), finalize=finalize)
