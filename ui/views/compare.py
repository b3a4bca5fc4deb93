"""Compare page: the run store's runs to open, and two runs of the session side by side with a difference map."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from ui import charts, jobs
from ui.engine import get_engine, wait_for
from ui.headline import comparison_table, cost_breakdown
from ui.i18n import t
from ui.views import common, store

if TYPE_CHECKING:
    from optimizer.results import Results


def difference_map(record_a, record_b, results_a: Results, results_b: Results, metric: str) -> None:
    """The difference map B − A, drawn in the pool and cached."""
    language = common.lang()
    engine = get_engine()
    key = ("difference", record_a.input_hash, record_b.input_hash, metric, language)
    png = engine.cached(key)
    if png is None:
        with st.spinner(t("drawing_map")):
            png = wait_for(engine.submit(
                key, jobs.difference_map_png, results_a, results_b, metric, language))
    st.image(png, width="stretch", alt=t("difference_alt"))


def render() -> None:
    """The Compare page."""
    common.page_intro("page_compare", "intro_compare")
    store.saved_runs_panel(expanded=len(common.solved_runs()) < 2)
    runs = common.solved_runs()
    if len(runs) < 2:
        st.info(t("compare_need_two", count=len(runs)))
        return
    language = common.lang()
    by_id = {r.run_id: r for r in runs}
    ids = list(by_id)
    left, right = st.columns(2)
    id_a = left.selectbox(t("run_a"), ids, index=1, format_func=lambda i: common.run_label(by_id[i]),
                          key="compare_a")
    id_b = right.selectbox(t("run_b"), ids, index=0, format_func=lambda i: common.run_label(by_id[i]),
                           key="compare_b")
    record_a, record_b = by_id[id_a], by_id[id_b]
    if id_a == id_b:
        st.warning(t("compare_same"))
    st.markdown(f"**B** {common.run_label(record_b)} — {t('compared_with')} **A** "
                f"{common.run_label(record_a)}")
    common.headline_metrics(record_b.summary, record_a.summary)
    results_a, results_b = common.results_of(record_a), common.results_of(record_b)
    map_column, side_column = st.columns([3, 2], gap="large")
    with map_column:
        st.subheader(t("difference_map"))
        metric = common.metric_picker("compare_metric")
        if results_a is not None and results_b is not None:
            difference_map(record_a, record_b, results_a, results_b, metric)
    with side_column:
        st.subheader(t("cost_breakdown"))
        parts = cost_breakdown({f"A #{record_a.run_id}": record_a.summary,
                                f"B #{record_b.run_id}": record_b.summary}, language)
        st.altair_chart(charts.cost_breakdown_chart(parts, language, legend_columns=2),
                        width="stretch")
    st.subheader(t("figures_side_by_side"))
    table = comparison_table(record_a.summary, record_b.summary, language)
    st.dataframe(table, hide_index=True, width="stretch", height=35 * (len(table) + 1) + 3)
