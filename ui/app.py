"""EDWC Planner in the browser: ``edwc ui`` (or ``streamlit run ui/app.py``) starts this app."""

import sys
from pathlib import Path

# Solver workers start with "spawn", which re-imports the parent's __main__ module as
# __mp_main__; under Streamlit that is this script, and a worker must not run the app.
if __name__ != "__mp_main__":
    try:
        import ui  # noqa: F401
    except ImportError:  # a source tree that is not installed: make `ui` importable
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    import streamlit as st

    from ui.views.shell import run_app

    st.set_page_config(page_title="EDWC Planner · 东数西算", page_icon=":material/hub:",
                       layout="wide")
    run_app()
