"""What became of a solve: the one status vocabulary, and the exceptions that carry a status.

Every path that solves an LP (a cold plan, a warm re-solve, a day's dispatch, a diagnosis) reports
one of :class:`PlanStatus`; so do study rows, UI outcomes and run metadata. The exceptions are
message-first and keep their attributes through pickling, so a worker process raises and its caller
catches the same type, whatever executor carried it.
"""

from __future__ import annotations

from enum import StrEnum


class PlanStatus(StrEnum):
    """Outcome of solving (or trying to solve) one plan."""

    #: HiGHS proved an optimum and the plan passed every check (residuals, objective, duality).
    OPTIMAL = "optimal"
    #: No plan satisfies every constraint.
    INFEASIBLE = "infeasible"
    #: The cost can fall without bound (a modelling error).
    UNBOUNDED = "unbounded"
    #: The solver stopped at its time limit before proving an optimum.
    TIME_LIMIT = "time_limit"
    #: The solver claimed an optimum that failed the planner's own checks.
    RESIDUAL = "residual"
    #: The LP holds NaN or infinite numbers (an input was missing or not finite).
    BAD_MODEL = "bad_model"
    #: Any other solver outcome without a proven optimum (iteration limit, numerical trouble, ...).
    NOT_SOLVED = "not_solved"
    #: The modelling layer handed the solver something other than the planner's LP.
    INTERNAL = "internal"
    #: The scenario (or a study's variant of it) failed validation: nothing was solved.
    BAD_INPUT = "bad_input"
    #: Something else failed (recorded in studies, which go on).
    ERROR = "error"

    @property
    def solved(self) -> bool:
        """True only for a verified optimum."""
        return self is PlanStatus.OPTIMAL


class PlanNotSolved(RuntimeError):
    """The solver did not return a proven, verified optimum.

    Parameters
    ----------
    message : str
        One line saying what happened (and, for infeasibility, which constraint fails where).
    status : PlanStatus
    diagnosis : object, optional
        Structured explanation where one is available (a list of
        :class:`optimizer.diagnose.Conflict` for an infeasible plan).
    """

    def __init__(self, message: str, *, status: PlanStatus | str = PlanStatus.NOT_SOLVED, diagnosis=None,
                 key: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.status = PlanStatus(status)
        self.diagnosis = diagnosis
        self.key, self.fields = key, dict(fields or {})

    def text(self, lang: str = "en") -> str:
        """The line in ``lang`` ('en' or 'zh'), from the label key when there is one."""
        from edwc_data.labels import message_text

        return message_text(self.key, self.fields, str(self), lang)

    def __reduce__(self):
        # Keyword-only attributes survive pickling (process pools, Dask) only when rebuilt here.
        return _rebuild, (type(self), str(self), self.status, self.diagnosis, self.key, self.fields)


class PlanInfeasible(PlanNotSolved):
    """No plan satisfies every constraint."""

    def __init__(self, message: str, *, status: PlanStatus | str = PlanStatus.INFEASIBLE, diagnosis=None,
                 key: str | None = None, fields: dict | None = None):
        super().__init__(message, status=status, diagnosis=diagnosis, key=key, fields=fields)


def _rebuild(cls, message, status, diagnosis, key=None, fields=None):
    return cls(message, status=status, diagnosis=diagnosis, key=key, fields=fields)
