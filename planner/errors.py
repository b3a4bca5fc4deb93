"""Input errors the user can fix: one line naming where, what and the fix, and the same type in every process.

:class:`ScenarioError` is the base of every input error of the planner (a scenario file, a ``--set``
option, a study file, a run directory read back). It is message-first and keeps its attributes
through pickling, so a worker process that raises one and the caller that catches it see the same
type with the same ``source`` and ``field``, whatever executor carried it (a local pool or Dask).

An error may also carry a label key and its fields (``data/labels.yaml``): ``str(error)`` stays the
English line, and :meth:`ScenarioError.text` / :func:`error_text` give it in Chinese too.
"""

from __future__ import annotations

from edwc_data.labels import message_text


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
    key : str, optional
        Label key of the message in ``data/labels.yaml`` (its English text is ``message``).
    fields : dict, optional
        The label's ``{name}`` fields.

    Attributes
    ----------
    message, source, field : str
        As given; ``str(error)`` is the whole line, in English.
    key : str or None
    fields : dict
    """

    def __init__(self, message: str, *, source: str = "", field: str = "", key: str | None = None,
                 fields: dict | None = None):
        self.message, self.source, self.field = str(message), str(source), str(field)
        self.key, self.fields = key, dict(fields or {})
        super().__init__(self._line(self.message))

    def _line(self, message: str) -> str:
        where = f"{self.source}: {self.field}" if self.field else self.source
        return f"{where} | {message}" if where else message

    def text(self, lang: str = "en") -> str:
        """The whole line in ``lang`` ('en' or 'zh'): source and field as they are, the message translated."""
        return self._line(message_text(self.key, self.fields, self.message, lang))

    def __reduce__(self):
        # Keyword-only attributes survive pickling (process pools, Dask) only when rebuilt here.
        return _rebuild, (type(self), self.message, self.source, self.field, self.key, self.fields)

    def relocated(self, source: str | None = None, field: str | None = None) -> ScenarioError:
        """The same error (same type and message) blamed on another source or field."""
        return type(self)(
            self.message,
            source=self.source if source is None else source,
            field=self.field if field is None else field,
            key=self.key,
            fields=self.fields,
        )


def _rebuild(cls, message: str, source: str, field: str, key=None, fields=None) -> ScenarioError:
    return cls(message, source=source, field=field, key=key, fields=fields)


def error_text(exc: BaseException, lang: str = "en") -> str:
    """The one line of any exception in ``lang``: translated when it carries a label key, else ``str(exc)``."""
    text = getattr(exc, "text", None)
    return text(lang) if callable(text) else str(exc)


class PlanTooLarge(ScenarioError):
    """The scenario's LP would need more memory than the budget allows (see :mod:`planner.sizing`)."""
