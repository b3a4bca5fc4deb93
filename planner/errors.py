"""Input errors the user can fix: one line naming where, what and the fix, and the same type in every process.

:class:`ScenarioError` is the base of every input error of the planner (a scenario file, a ``--set``
option, a study file, a run directory read back). It is message-first and keeps its attributes
through pickling, so a worker process that raises one and the caller that catches it see the same
type with the same ``source`` and ``field``, whatever executor carried it (a local pool or Dask).
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """Bad input: one line ``<source>: <field> | <message>``.

    Parameters
    ----------
    message : str
        What is wrong, with the offending value, then how to fix it.
    source : str
        File (or ``--set``, or an option) the problem came from.
    field : str
        Dotted path of the offending field ('' when the whole file is at fault).

    Attributes
    ----------
    message, source, field : str
        As given; ``str(error)`` is the whole line.
    """

    def __init__(self, message: str, *, source: str = "", field: str = ""):
        self.message, self.source, self.field = str(message), str(source), str(field)
        where = f"{self.source}: {self.field}" if self.field else self.source
        super().__init__(f"{where} | {self.message}" if where else self.message)

    def __reduce__(self):
        # Keyword-only attributes survive pickling (process pools, Dask) only when rebuilt here.
        return _rebuild, (type(self), self.message, self.source, self.field)

    def relocated(self, source: str | None = None, field: str | None = None) -> ScenarioError:
        """The same error (same type and message) blamed on another source or field."""
        return type(self)(
            self.message,
            source=self.source if source is None else source,
            field=self.field if field is None else field,
        )


def _rebuild(cls, message: str, source: str, field: str) -> ScenarioError:
    return cls(message, source=source, field=field)


class PlanTooLarge(ScenarioError):
    """The scenario's LP would need more memory than the budget allows (see :mod:`planner.sizing`)."""
