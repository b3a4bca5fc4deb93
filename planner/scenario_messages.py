"""How a scenario that breaks the schema reads: one line naming the field, what is wrong and the fix."""

from __future__ import annotations

import re

from edwc_data.labels import t
from pydantic import ValidationError

from planner.errors import ScenarioError
from planner.safe_yaml import shown_key, shown_value, yaml_1_1_reading

#: Labels pydantic puts into an error's location for union members and dict keys; they are
#: not part of the field path the user wrote.
_SCHEMA_LABEL = re.compile(
    r"^(\[key\]|float|int|str|bool|none|(constrained|function|literal|nullable|json|lax|is|tagged|"
    r"union|chain|default|list|dict|model|typed)[\w-]*(\[.*\])?)$"
)

_RANGE_ERRORS = ("greater_than", "less_than", "too_short", "too_long", "string_too", "finite_number",
                 "multiple_of")


def _error_field(loc: tuple, keep_last: bool = False) -> str:
    # Union members' labels sit inside the path too (futures: list or sample): the user wrote none of them.
    parts = [loc[0], *(part for part in loc[1:-1] if not (isinstance(part, str) and _SCHEMA_LABEL.match(part)))]
    parts = parts + list(loc[-1:]) if len(loc) > 1 else parts
    while not keep_last and len(parts) > 1 and isinstance(parts[-1], str) and _SCHEMA_LABEL.match(parts[-1]):
        parts.pop()
    return ".".join(shown_key(part) for part in parts)


#: Schema checks whose message has a label in both languages: pydantic's error type -> (label key,
#: the ``ctx`` entry that holds the limit or the choices).
_VALUE_LABELS = {
    "greater_than_equal": ("error_value_ge", "ge"),
    "greater_than": ("error_value_gt", "gt"),
    "less_than_equal": ("error_value_le", "le"),
    "less_than": ("error_value_lt", "lt"),
    "literal_error": ("error_value_choice", "expected"),
    "float_parsing": ("error_value_number", None),
    "float_type": ("error_value_number", None),
    "int_parsing": ("error_value_integer", None),
    "int_type": ("error_value_integer", None),
    "bool_parsing": ("error_value_bool", None),
    "bool_type": ("error_value_bool", None),
}


def _value_label(kind: str, ctx: dict, got: str, message: str) -> tuple[str | None, dict | None]:
    """(label key, fields) of a value's schema message, or (None, None) where no label matches it.

    The label's English text must be the message word for word: a message pydantic words
    otherwise (another version, another check) keeps its English line and no key.
    """
    if kind not in _VALUE_LABELS:
        return None, None
    key, entry = _VALUE_LABELS[kind]
    limit = ctx.get(entry, "") if entry else ""
    # pydantic shows a whole float limit as an integer (0.0 as 0): try both.
    shown = [str(limit)] + ([str(int(limit))] if isinstance(limit, float) and limit.is_integer() else [])
    for text in shown:
        fields = {"got": got, "limit": text}
        try:
            if t(key, "en", **fields) == message:
                return key, fields
        except (KeyError, ValueError, IndexError):
            break
    return None, None


def format_validation_error(source: str, error: ValidationError) -> ScenarioError:
    errors = error.errors()
    first = errors[0]
    kind = first["type"]
    field = _error_field(first["loc"], keep_last=kind in ("extra_forbidden", "missing"))
    got = first.get("input")
    key, label_fields = None, None
    if kind == "extra_forbidden":
        key = "error_unknown_key"
        message = t(key, "en")  # the English line is the label's: one text, in labels.yaml
    elif kind == "missing":
        key = "error_missing_field"
        message = t(key, "en")
    else:
        if kind.startswith(_RANGE_ERRORS):
            fix = "Give a value within the documented range."
        elif kind == "literal_error":
            fix = "Use one of the values listed."
        elif kind == "invalid_key" or "[key]" in first["loc"]:
            fix = "Write the key as text (quote it)."
        elif kind == "value_error":
            fix = "Correct the value."
        elif kind == "bool_number":
            fix = "Give a number (true/false and yes/no are not numbers)."
        else:
            fix = "Give a value of the type docs/scenario.md documents for it."
        text = " ".join(first["msg"].split()).rstrip(".").removeprefix("Value error, ")
        message = f"{text}, got {shown_value(got)}. {fix}"
        key, label_fields = _value_label(kind, first.get("ctx") or {}, shown_value(got), message)
        reading = yaml_1_1_reading(got) if kind.endswith(("_parsing", "_type", "literal_error")) else None
        if reading:
            message, key = f"{reading}.", None
    # A union field reports once per member: count the fields at fault, not the reports.
    fields = {_error_field(e["loc"]) for e in errors} - {_error_field(first["loc"])}
    extra = len(fields)
    if extra:
        message += f" ({extra} more problem{'s' if extra > 1 else ''} after this one.)"
        key = None  # the count is not in the label: keep the English line whole
    return ScenarioError(message, source=source, field=field, key=key, fields=label_fields)
