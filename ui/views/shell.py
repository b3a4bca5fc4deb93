"""The frame around every page: session state, the language switch, the sidebar and the navigation."""

from __future__ import annotations

import streamlit as st

from ui import state as ui_state
from ui.engine import get_engine
from ui.i18n import LANGUAGES, t
from ui.views import common, store

#: Page files (relative to ui/app.py), their title keys and icons, in menu order.
PAGES = (
    ("app_pages/scenario.py", "page_scenario", ":material/tune:"),
    ("app_pages/plan.py", "page_plan", ":material/map:"),
    ("app_pages/tradeoffs.py", "page_tradeoffs", ":material/show_chart:"),
    ("app_pages/compare.py", "page_compare", ":material/compare_arrows:"),
    ("app_pages/growth.py", "page_growth", ":material/trending_up:"),
    ("app_pages/export.py", "page_export", ":material/download:"),
)

_CSS = """
<style>
[data-testid="stMetricValue"] { font-size: 1.55rem; }
[data-testid="stMetricLabel"] p { font-weight: 600; }
[data-testid="stSidebarHeader"] { padding-bottom: 0; }
</style>
"""


def sidebar_header() -> None:
    """Title and language switch (before the page, whose labels follow the language)."""
    with st.sidebar:
        st.markdown(f"### {t('app_title')}")
        st.caption(t("app_tagline"))
        # One label in both languages: it stays findable whatever the current language, and a
        # fixed label keeps the widget's identity (and value) across the switch.
        st.radio("Language · 语言", list(LANGUAGES), format_func=LANGUAGES.get, key="lang",
                 horizontal=True)


def sidebar_status(box) -> None:
    """The session's scenario and runs (after the page, which may have added a run)."""
    with box:
        base = st.session_state["base"]
        overrides = st.session_state["overrides"]
        st.markdown(f"**{t('sidebar_scenario')}:** {common.scenario_label(base, overrides)}")
        st.caption(t("sidebar_runs", count=len(st.session_state["runs"])))
        current = ui_state.current_run()
        if current is not None:
            st.caption(t("sidebar_current", run=common.run_label(current)))


def run_app() -> None:
    """Set up the session, draw the frame and run the selected page."""
    ui_state.init_state()
    get_engine()  # starts the solver workers while the user reads the first page
    store.open_linked_run()  # ?run=<id>: a run of the store, also after a refresh
    st.markdown(_CSS, unsafe_allow_html=True)
    pages = [st.Page(path, title=t(title), icon=icon, default=index == 0)
             for index, (path, title, icon) in enumerate(PAGES)]
    nav = st.navigation(pages, position="sidebar")
    sidebar_header()
    status = st.sidebar.container()
    nav.run()
    sidebar_status(status)
