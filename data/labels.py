"""The one label table (``labels.yaml``): every text a user sees, in English and Chinese.

The app, the maps (static and HTML), the charts, the command line and the reports all take their
words from here, so a term reads the same everywhere and both languages stay complete.
"""

from __future__ import annotations

import functools
from pathlib import Path

#: Languages, by code.
LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT_LANG = "en"
#: Money is shown in bn CNY in English and in 亿元 (1e8 CNY) in Chinese. [CNY per shown unit]
MONEY_SCALE = {"en": 1e9, "zh": 1e8}


@functools.cache
def label_table() -> dict[str, dict[str, str]]:
    """Label key -> {"en": text, "zh": text}."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(Path(__file__).resolve().parent / "labels.yaml", encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader, our own file


def check_lang(lang: str) -> str:
    """``lang`` if it is a known language code; ValueError otherwise."""
    if lang not in LANGUAGES:
        msg = f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}"
        raise ValueError(msg)
    return lang


def t(key: str, lang: str = DEFAULT_LANG, **fields) -> str:
    """The text of a label key in a language, with its ``{name}`` fields filled in.

    Raises
    ------
    KeyError
        For an unknown key (a typo shows up in the tests, not as a blank label).
    """
    text = label_table()[key][check_lang(lang)]
    return text.format(**fields) if fields else text


def texts(prefix: str, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Every label whose key starts with ``<prefix>_``, by the rest of its key, in one language."""
    check_lang(lang)
    start = f"{prefix}_"
    return {key[len(start):]: entry[lang] for key, entry in label_table().items() if key.startswith(start)}


def message_text(key: str | None, fields: dict, english: str, lang: str) -> str:
    """An error's message in ``lang``: label ``key`` with ``fields``, or ``english`` without a key or in English.

    An unknown key or a field missing from the label gives the English text: a gap in the table
    must not hide the error itself.
    """
    if key is None or lang == "en":
        return english
    try:
        return t(key, lang, **fields)
    except (KeyError, ValueError, IndexError):
        return english
