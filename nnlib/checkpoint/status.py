"""RestoreStatus: what ``Checkpoint.restore`` did, with TensorFlow's assertions."""

import contextlib
import warnings

from .report import RestoreReport

__all__ = ["RestoreStatus"]


class RestoreStatus:
    """Returned by ``Checkpoint.restore``: the report plus checks on it.

    Values for objects not built yet are restored later, as each variable is
    created; ``pending`` lists those still waiting. Saved values that match
    nothing are reported (with a warning when the status is dropped, unless
    ``expect_partial()`` was called).

    Attributes:
        report: The ``RestoreReport`` (names are checkpoint keys such as
            ``"model/dense/kernel"`` or ``"optimizer/slots/m/model/dense/kernel"``).
        path: The file restored (None for ``restore(None)``, whose status
            says that nothing was restored, and whose assertions raise).

    Examples:
        >>> import os, tempfile
        >>> step = nnlib.Variable(np.int64(3), name="step")
        >>> ckpt = nnlib.Checkpoint(step=step)
        >>> path = ckpt.save(os.path.join(tempfile.mkdtemp(), "ckpt"))
        >>> _ = step.assign(0)
        >>> status = ckpt.restore(path)
        >>> status.assert_consumed() is status, int(step)
        (True, 3)
    """

    def __init__(self, report=None, pending=None):
        self.report = report if report is not None else RestoreReport()
        self.path = self.report.path
        self._pending = pending if pending is not None else set()
        self._expect_partial = False
        self._nothing = False

    @classmethod
    def nothing(cls):
        """The status of ``restore(None)``: nothing was restored.

        Printing it says so, and its assertions raise (a resume that found no
        checkpoint must not pass for one that restored everything).

        Examples:
            >>> status = nnlib.Checkpoint().restore(None)
            >>> print(status)
            nothing was restored: restore(None) (no checkpoint to resume from)
            >>> status.assert_consumed()
            Traceback (most recent call last):
            ...
            AssertionError: nothing was restored: restore(None) (no checkpoint to resume from)
        """
        status = cls()
        status._nothing = True
        return status

    @property
    def pending(self):
        """Checkpoint keys whose variables have not been created yet."""
        return sorted(self._pending)

    def assert_consumed(self):
        """Asserts that the file and the objects matched completely.

        Every saved value was used (none unexpected, none still pending) and
        every variable of the objects got a value.

        Returns:
            This status.

        Raises:
            AssertionError: Listing what is unmatched.
        """
        self._raise_if_nothing()
        problems = self._existing_problems()
        if self.report.unexpected:
            problems.append(
                f"saved values matching no object: {self.report.unexpected}"
            )
        if self._pending:
            problems.append(
                f"values waiting for variables not created yet: {self.pending} "
                "(call the model once to build it)"
            )
        self._raise(problems)
        return self

    def assert_existing_objects_matched(self):
        """Asserts that every variable existing now received a saved value.

        Weaker than ``assert_consumed``: unused saved values (an optimizer
        checkpoint restored into a model alone) and pending ones are allowed.

        Returns:
            This status.

        Raises:
            AssertionError: Listing the variables without a value.
        """
        self._raise_if_nothing()
        self._raise(self._existing_problems())
        return self

    def expect_partial(self):
        """Silences the warning about saved values that matched nothing.

        Returns:
            This status.
        """
        self._expect_partial = True
        return self

    def _raise_if_nothing(self):
        if self._nothing:
            raise AssertionError(str(self))

    def _existing_problems(self):
        problems = []
        if self.report.missing:
            problems.append(
                f"objects' values not in the checkpoint: {self.report.missing}"
            )
        return problems

    def _raise(self, problems):
        if problems:
            raise AssertionError(
                f"checkpoint '{self.path}' did not match: " + "; ".join(problems)
            )

    def __del__(self):
        # Never raise from a finalizer (at interpreter exit, modules may be gone).
        with contextlib.suppress(Exception):
            if self.report.unexpected and not self._expect_partial:
                warnings.warn(
                    f"checkpoint '{self.path}': {len(self.report.unexpected)} saved "
                    f"values matched no object ({self.report.unexpected[:5]}...); "
                    "call expect_partial() on the restore status to silence this",
                    UserWarning,
                    stacklevel=2,
                )

    def __str__(self):
        if self._nothing:
            return "nothing was restored: restore(None) (no checkpoint to resume from)"
        return self.report.summary()

    def __repr__(self):
        return f"<RestoreStatus {self}>"
