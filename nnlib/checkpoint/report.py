"""RestoreReport: what a load matched, and every way the file and model differ."""

import numpy as np

from .errors import CheckpointMismatchError

__all__ = ["RestoreReport", "castable"]


class RestoreReport:
    """The outcome of matching a checkpoint's arrays with a model's variables.

    Names are relative to the model (``"dense/kernel"``). Printing the report
    (``str(report)``) gives a table of every difference.

    Attributes:
        path: The checkpoint file.
        target: What was loaded into (a model's name), for messages.
        matched: Names whose values were (or will be) assigned.
        missing: Names of model variables the file has no value for.
        unexpected: Names in the file that no variable of the model has.
        shape_mismatched: ``(name, saved shape, model shape)`` triples.
        dtype_changed: ``(name, saved dtype, model dtype)``; values of the same
            kind (float to float) are cast, others count as mismatches.
        skipped: Names passed over because of their shape (``skip_mismatch``).
        deferred: Names kept for variables not created yet: each is assigned
            the moment its variable is created.

    Examples:
        >>> from nnlib.checkpoint import RestoreReport
        >>> report = RestoreReport(path="w.h5", target="mnist")
        >>> report.add_shape_mismatch("dense/kernel", (4, 3), (5, 3))
        >>> report.add_unexpected("dense_9/bias", (3,), "float32")
        >>> print(report)  # doctest: +NORMALIZE_WHITESPACE
        checkpoint 'w.h5' into 'mnist': 0 matched, 0 missing, 1 unexpected, 1 shape mismatch
          problem     variable      saved         model
          ----------  ------------  ------------  ------
          shape       dense/kernel  (4, 3)        (5, 3)
          unexpected  dense_9/bias  (3,) float32  -
        >>> report.mismatched
        True
    """

    def __init__(self, path=None, target=None):
        self.path = path
        self.target = target
        self.matched = []
        self.missing = []
        self.unexpected = []
        self.shape_mismatched = []
        self.dtype_changed = []
        self.skipped = []
        self.deferred = []
        self._saved = {}  # name -> "shape dtype" text of the file's array
        self._model = {}  # name -> "shape dtype" text of the model's variable

    # -- filling (the loaders call these) ---------------------------------------

    def add_missing(self, name, shape=None, dtype=None, what=None):
        """Records a model variable (or, described by ``what``, another object)
        the file has no value for."""
        self.missing.append(name)
        self._model[name] = what or _describe(shape, dtype)

    def add_unexpected(self, name, shape, dtype):
        """Records a saved array no model variable takes."""
        self.unexpected.append(name)
        self._saved[name] = _describe(shape, dtype)

    def add_shape_mismatch(self, name, saved_shape, model_shape):
        """Records a saved array whose shape differs from its variable's."""
        self.shape_mismatched.append((name, tuple(saved_shape), tuple(model_shape)))

    def add_dtype_change(self, name, saved_dtype, model_dtype):
        """Records a dtype difference (a cast when of the same kind)."""
        self.dtype_changed.append((name, np.dtype(saved_dtype), np.dtype(model_dtype)))

    def add_deferred(self, name, shape, dtype):
        """Records a value kept until its variable is created."""
        self.deferred.append(name)
        self._saved[name] = _describe(shape, dtype)

    # -- reading ----------------------------------------------------------------

    @property
    def incompatible_dtypes(self):
        """The ``dtype_changed`` entries that cannot be cast safely: float to
        int, and integers or booleans to float (never weights, but a damaged
        or mislabelled tensor)."""
        return [
            entry for entry in self.dtype_changed if not castable(entry[1], entry[2])
        ]

    def problems(self, strict=True):
        """The number of differences that block a load.

        Args:
            strict: Count missing and unexpected names too (shape mismatches
                that were not skipped, and unsafe dtype changes, always count).
        """
        count = len(self.shape_mismatched) - len(self.skipped)
        count += len(self.incompatible_dtypes)
        if strict:
            count += len(self.missing) + len(self.unexpected)
        return count

    @property
    def mismatched(self):
        """True when anything is missing, unexpected or of the wrong shape/dtype."""
        return self.problems(strict=True) > 0

    def raise_if_mismatched(self, strict=True, fix=None):
        """Raises ``CheckpointMismatchError`` carrying this report, if mismatched.

        Args:
            strict: As for ``problems``: False lets missing and unexpected names
                pass.
            fix: The advice ending the message (default: ``load_weights``'s
                options).

        Raises:
            CheckpointMismatchError: With the whole table in its message.
        """
        if self.problems(strict) == 0:
            return
        if fix is None:
            fix = (
                "nothing was changed; pass strict=False to load what fits (the "
                "report lists the rest)"
            )
            if len(self.shape_mismatched) > len(self.skipped):
                fix += ", skip_mismatch=True to pass over shape mismatches"
        raise CheckpointMismatchError(
            f"cannot load {self}\n{fix}", report=self, path=self.path
        )

    def summary(self):
        """The one-line headline of the table."""
        where = f"checkpoint '{self.path}'" if self.path else "checkpoint"
        if self.target:
            where += f" into '{self.target}'"
        parts = [
            f"{len(self.matched)} matched",
            f"{len(self.missing)} missing",
            f"{len(self.unexpected)} unexpected",
            _plural(len(self.shape_mismatched), "shape mismatch", "shape mismatches"),
        ]
        if self.dtype_changed:
            parts.append(
                _plural(len(self.dtype_changed), "dtype change", "dtype changes")
            )
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.deferred:
            parts.append(f"{len(self.deferred)} deferred")
        return f"{where}: {', '.join(parts)}"

    def rows(self):
        """The table's rows: ``(problem, variable, saved, model)`` strings."""
        skipped = set(self.skipped)
        rows = [
            ("shape (skipped)" if n in skipped else "shape", n, str(s), str(m))
            for n, s, m in self.shape_mismatched
        ]
        bad = {e[0] for e in self.incompatible_dtypes}
        rows += [
            ("dtype" if n in bad else "dtype (cast)", n, s.name, m.name)
            for n, s, m in self.dtype_changed
        ]
        rows += [("missing", n, "-", self._model.get(n, "?")) for n in self.missing]
        rows += [
            ("unexpected", n, self._saved.get(n, "?"), "-") for n in self.unexpected
        ]
        rows += [
            ("deferred", n, self._saved.get(n, "?"), "not created yet")
            for n in self.deferred
        ]
        return rows

    def __str__(self):
        rows = self.rows()
        if not rows:
            return self.summary()
        header = ("problem", "variable", "saved", "model")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
        lines = [header, tuple("-" * w for w in widths), *rows]
        table = "\n".join(
            "  " + "  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
            for line in lines
        )
        return f"{self.summary()}\n{table}"

    def __repr__(self):
        return f"<RestoreReport {self.summary()}>"


def castable(saved, model):
    """Whether a saved array of dtype ``saved`` may load into a ``model`` variable.

    Casts within a kind (float64 to float32) are allowed; integers or
    booleans into a float variable are not: their values are not weights.

    Examples:
        >>> from nnlib.checkpoint.report import castable
        >>> castable(np.float64, np.float32), castable(np.int32, np.float32)
        (True, False)
    """
    saved, model = np.dtype(saved), np.dtype(model)
    if saved.kind in "biu" and model.kind in "fc":
        return False
    return bool(np.can_cast(saved, model, "same_kind"))


def _describe(shape, dtype):
    return f"{tuple(shape)} {np.dtype(dtype).name}"


def _plural(n, one, many):
    return f"{n} {one if n == 1 else many}"
