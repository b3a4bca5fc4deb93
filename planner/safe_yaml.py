"""Reading scenario and study files: regular files only, size-capped, UTF-8, plain data with YAML 1.2 values.

A scenario file is shared between people, so what it may do is small. It must be a regular file
(a FIFO or a device is refused before it is opened for reading) of at most ``MAX_FILE_BYTES``,
UTF-8 text, one YAML document whose top level is a mapping. Anchors and aliases (which can expand
exponentially), tags that construct objects, duplicate keys, complex or merge keys and nesting
deeper than ``MAX_NESTING`` are refused before anything is built.

Scalars are read with the YAML 1.2 core schema, not PyYAML's YAML 1.1 one: only ``true`` and
``false`` are booleans (``yes``, ``no``, ``on``, ``off`` stay text), ``1:30`` is text rather than the
base-60 number 90, and ``010`` is ten rather than the octal eight. Text where the schema expects a
number is then refused with a message saying why (:func:`planner.scenario.resolve_scenario`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from edwc_data.files import FileRefused, read_regular_file

from planner.errors import ScenarioError

#: Largest scenario or study file accepted. [bytes]
MAX_FILE_BYTES = 1_000_000

#: Deepest nesting of mappings and lists accepted; scenario fields are at most 4 deep
#: (``latency.measured.0.site``). Deeper documents are refused before they are built, since
#: building them recurses.
MAX_NESTING = 32

#: The only YAML tags accepted: plain data. Anything else (``!!python/object``, ``!!binary``,
#: ``!!set``, local tags) would construct something a scenario does not hold.
_DATA_TAGS = frozenset(
    ["!"] + [f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "map", "seq")]
)

#: A YAML 1.1 base-60 number (``1:30`` = 90, ``1:30:00`` = 5400), which the 1.2 core schema reads as text.
SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
#: Words YAML 1.1 reads as booleans and the 1.2 core schema as text.
YES_NO_WORDS = frozenset({"yes", "no", "on", "off", "y", "n"})

# libyaml's parser when present: the safety scan of a large file then takes milliseconds.
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
#: Implicit resolvers kept from PyYAML's safe schema: null, timestamps, merge keys and the rest.
_KEPT_TAGS = ("null", "timestamp", "merge", "value", "yaml")


class _Yaml12Loader(_BASE_LOADER):
    """The safe loader with YAML 1.2 core-schema booleans, integers and floats."""

    yaml_implicit_resolvers: dict = {}


def _install_resolvers() -> None:
    # Fresh lists: PyYAML's own class keeps its resolvers in lists this must not share.
    resolvers: dict[str | None, list] = {}

    def add(tag: str, pattern: re.Pattern, first: str) -> None:
        for ch in first:
            resolvers.setdefault(ch, []).append((tag, pattern))

    add("tag:yaml.org,2002:bool", _BOOL, "tTfF")
    add("tag:yaml.org,2002:int", _INT, "-+0123456789")
    add("tag:yaml.org,2002:float", _FLOAT, "-+.0123456789")
    kept = {f"tag:yaml.org,2002:{kind}" for kind in _KEPT_TAGS}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        for tag, pattern in entries:
            if tag in kept:
                resolvers.setdefault(first, []).append((tag, pattern))
    _Yaml12Loader.yaml_implicit_resolvers = resolvers


def _construct_int(loader, node) -> int:
    text = loader.construct_scalar(node)
    if text[:2] in ("0o", "0x"):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)  # '010' is ten, as in YAML 1.2 (1.1 would read octal 8)


_install_resolvers()
_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def shown_key(key: Any, width: int = 60) -> str:
    """A key as it may appear in a one-line message: printable and at most ``width`` characters."""
    text = str(key)
    if text.isprintable() and len(text) <= width:
        return text
    return repr(text[:width])[1:-1] + ("..." if len(text) > width else "")


def shown_value(value: Any, width: int = 60) -> str:
    """A value as a message may quote it: its type for collections, else a short, escaped repr."""
    if isinstance(value, dict | list | tuple | set):
        return type(value).__name__
    text = repr(value)  # escapes control characters and terminal escape codes
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= width else text[: width - 3] + "..."


def read_yaml_file(path: Path | str, source: str | None = None) -> dict[str, Any]:
    """Read a scenario or study file safely.

    Only a regular file of at most ``MAX_FILE_BYTES`` is read (a FIFO, a device, a socket or a
    folder is refused before it is opened for reading, so nothing waits for a writer); then
    :func:`parse_yaml_bytes`. An empty file is an empty mapping.

    Raises
    ------
    ScenarioError
        One line naming the file; no part of the file's content is echoed beyond a short,
        escaped excerpt of an offending key or value.
    """
    path = Path(path)
    source = source or path.name
    try:
        raw = read_regular_file(path, MAX_FILE_BYTES, what=source)
    except FileRefused as exc:
        message = exc.message
        if "limit" in message:
            message += " Scenario files hold settings, not data."
        raise ScenarioError(message, source=source) from None
    return parse_yaml_bytes(raw, source)


def parse_yaml_bytes(raw: bytes, source: str) -> dict[str, Any]:
    """Check the size and encoding of a file's bytes (e.g. an upload), then parse them safely."""
    if len(raw) > MAX_FILE_BYTES:
        msg = (
            f"file is {len(raw):,} bytes, over the {MAX_FILE_BYTES:,}-byte limit. "
            "Scenario files hold settings, not data: shorten it."
        )
        raise ScenarioError(
            msg, source=source,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (bad byte at offset {exc.start}). Save the file as UTF-8."
        raise ScenarioError(
            msg, source=source
        ) from None
    return parse_yaml_text(text, source)


def _deepest_flow_nesting(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` outside quoted text and comments (a parser-independent count)."""
    depth = deepest = 0
    quote = None
    previous = "\n"
    i, size = 0, len(text)
    while i < size:
        ch = text[i]
        if quote == "'":
            if ch == "'":
                if text[i + 1 : i + 2] == "'":
                    i += 1
                else:
                    quote = None
        elif quote == '"':
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = None
        elif ch == "#" and previous in " \t\n":
            end = text.find("\n", i)
            i = size if end < 0 else end
            previous = "\n"
            continue
        elif ch in "'\"" and previous in " \t\n[{,:":
            quote = ch
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(depth - 1, 0)
        previous = ch
        i += 1
    return deepest


def _too_deep(line: int | None, source: str) -> ScenarioError:
    where = f" (line {line})" if line else ""
    return ScenarioError(
        f"nested more than {MAX_NESTING} levels deep{where}. Scenario settings are a few levels deep: "
        "flatten the document.", source=source,
    )


def _scan_yaml_events(text: str, source: str) -> None:
    # The event stream is read before anything is built, so an alias bomb or a 10,000-deep
    # document is refused after a few events rather than expanded or recursed into. A parser
    # may give up on deep flow nesting with its own message before it emits the events that
    # show it (libyaml scans a line ahead): then the nesting is counted here, on the text.
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Yaml12Loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                msg = "YAML anchors and aliases (&, *) are not accepted. Write values out."
                raise ScenarioError(msg,
                                    source=source)
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in _DATA_TAGS:
                msg = (
                    f"not valid YAML for a scenario: the tag {shown_key(tag)!r} would build an object, and "
                    "scenario files hold plain data. Remove the tag."
                )
                raise ScenarioError(
                    msg, source=source,
                )
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    raise _too_deep(event.start_mark.line + 1 if event.start_mark else None, source)
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
    except yaml.YAMLError:
        if _deepest_flow_nesting(text) > MAX_NESTING:
            raise _too_deep(None, source) from None
        raise


def _check_yaml_keys(root: yaml.Node, loader: yaml.SafeLoader, source: str) -> None:
    # PyYAML keeps the last of duplicate keys silently; a duplicated site or setting is a
    # mistake the user must see. Keys are compared as YAML reads them (1 and 01 are the same).
    pending = [(root, "")]
    while pending:
        node, path = pending.pop()
        if isinstance(node, yaml.SequenceNode):
            pending.extend((item, f"{path}.{i}" if path else str(i)) for i, item in enumerate(node.value))
        if not isinstance(node, yaml.MappingNode):
            continue
        seen: dict[Any, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            line = mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                msg = f"the key at line {line} is not a plain name. Write keys as plain names."
                raise ScenarioError(msg,
                                    source=source, field=path)
            key = loader.construct_object(key_node)
            child = f"{path}.{shown_key(key_node.value)}" if path else shown_key(key_node.value)
            if key in seen:
                first_line, first_column = seen[key]
                where = (f"line {line}, columns {first_column} and {mark.column + 1}" if first_line == line
                         else f"lines {first_line} and {line}")
                msg = f"duplicate key ({where}); YAML would silently keep only the last. Keep one of them."
                raise ScenarioError(
                    msg,
                    source=source, field=child,
                )
            seen[key] = (line, mark.column + 1)
            pending.append((value_node, child))


def load_yaml(text: str, source: str) -> Any:
    """Safely build the data in YAML ``text``; raises ScenarioError, or yaml.YAMLError on bad syntax."""
    _scan_yaml_events(text, source)
    loader = _Yaml12Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml_keys(node, loader, source)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _yaml_problem(exc: Exception) -> str:
    # PyYAML's problem text names the kind of error; its context may quote the file, so only the
    # problem (short, escaped) and the position are shown.
    if isinstance(exc, yaml.reader.ReaderError):
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        return f" at character {exc.position + 1}: the control character #x{code:04x} is not allowed in YAML text"
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"{where}: {shown_key(problem, 80).rstrip('.')}"


def parse_yaml_text(text: str, source: str) -> dict[str, Any]:
    """Parse YAML text into a mapping with the safe loader; see :func:`read_yaml_file`."""
    try:
        document = load_yaml(text, source)
    except ScenarioError:
        raise
    except yaml.YAMLError as exc:
        msg = f"not valid YAML{_yaml_problem(exc)}. Fix the syntax."
        raise ScenarioError(msg, source=source) from None
    except (ValueError, TypeError, OverflowError) as exc:
        # A value YAML recognises but cannot build, such as the date 2025-02-30, or text that
        # cannot be encoded (lone surrogates).
        msg = f"a value cannot be read ({shown_key(exc)}). Quote it or correct it."
        raise ScenarioError(msg,
                            source=source) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        msg = (
            f"top level must be a mapping of settings, got {type(document).__name__}. "
            "Start the file with keys such as 'carbon:'."
        )
        raise ScenarioError(
            msg, source=source,
        )
    return document


def yaml_1_1_reading(value: Any) -> str | None:
    """Why text that YAML 1.1 would have read as a number or a boolean is not one here, or None.

    ``'1:30'`` -> a sentence about base-60 numbers; ``'yes'`` -> one about yes/no words.
    """
    if not isinstance(value, str):
        return None
    if SEXAGESIMAL.match(value.strip()):
        return (f"{shown_value(value)} is not a number: YAML 1.1 reads it as a base-60 (sexagesimal) number. "
                "Write the number you mean (e.g. 90 or 1.5)")
    if value.strip().lower() in YES_NO_WORDS:
        return f"{shown_value(value)} is a yes/no word, not a number. Write a number (or true/false for a switch)"
    return None
