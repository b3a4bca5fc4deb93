"""The app's words: the one label table (:mod:`edwc_data.labels`) in the session's language."""

from __future__ import annotations

from edwc_data.labels import DEFAULT_LANG, LANGUAGES, label_table
from edwc_data.labels import t as label_text

__all__ = ["DEFAULT_LANG", "LABELS", "LANGUAGES", "current_lang", "t"]

#: Label key → {"en": text, "zh": text}: the one label table (data/labels.yaml).
LABELS = label_table()


def current_lang() -> str:
    """The session's language, or English outside a Streamlit session."""
    try:
        import streamlit as st

        lang = st.session_state.get("lang", DEFAULT_LANG)
    except Exception:  # no session (benchmarks, plain scripts): English  # noqa: BLE001
        return DEFAULT_LANG
    return lang if lang in LANGUAGES else DEFAULT_LANG


def t(key: str, lang: str | None = None, **fields) -> str:
    """The text of a label key in a language (the session's by default), fields filled in.

    Raises
    ------
    KeyError
        For an unknown key (a typo in a page shows up in the tests, not as a blank label).
    """
    return label_text(key, lang or current_lang(), **fields)
