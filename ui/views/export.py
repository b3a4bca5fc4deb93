"""Export page: the run bundle, the map in every format, the tables as CSV and Excel, and the planning report."""

from __future__ import annotations

import functools

import streamlit as st

from geo.export import FORMATS
from planner import report
from ui import exports, jobs
from ui.engine import get_engine, wait_for
from ui.i18n import t
from ui.views import common

MIME = {
    "zip": "application/zip", "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf", "html": "text/html",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _prepared(key: tuple) -> bytes | dict | None:
    """A cached export job's result, or None until the user asks for it (the button below)."""
    return get_engine().cached(key)


def _run_job(key: tuple, fn, *args):
    engine = get_engine()
    with st.spinner(t("preparing")):
        return wait_for(engine.submit(key, fn, *args))


def render() -> None:
    """The Export page."""
    common.page_intro("page_export", "intro_export")
    runs = common.solved_runs()
    if not runs:
        st.info(t("export_need_run"))
        return
    language = common.lang()
    by_id = {r.run_id: r for r in runs}
    current = st.session_state.get("current_run")
    ids = list(by_id)
    run_id = st.selectbox(t("export_run"), ids, index=ids.index(current) if current in ids else 0,
                          format_func=lambda i: common.run_label(by_id[i]), key="export_run")
    record = by_id[run_id]
    results = common.results_of(record)
    if results is None:
        common.show_not_solved(record)
        return
    stem = exports.safe_stem(f"{record.scenario.get('name', 'plan')}-run{record.run_id}")

    bundle_col, map_col, table_col = st.columns(3, gap="large")
    with bundle_col, st.container(border=True):
        st.subheader(t("export_bundle"))
        st.caption(t("export_bundle_help"))
        key = ("bundle", record.input_hash, language)
        data = _prepared(key)
        if data is None and st.button(t("prepare"), key="prepare_bundle", icon=":material/folder_zip:"):
            data = _run_job(key, jobs.run_bundle_zip, results, stem, "west_share", language)
        if data is not None:
            st.download_button(t("download_bundle"), data, file_name=f"{stem}.zip",
                               mime=MIME["zip"], key="dl_bundle", type="primary",
                               icon=":material/download:")
    with map_col, st.container(border=True):
        st.subheader(t("export_maps"))
        metric = common.metric_picker("export_metric")
        formats = st.multiselect(t("export_formats"), list(FORMATS), default=list(FORMATS),
                                 key="export_formats")
        key = ("mapfiles", record.input_hash, metric, language, tuple(formats))
        files = _prepared(key)
        if formats and files is None and st.button(t("prepare"), key="prepare_maps",
                                                   icon=":material/map:"):
            files = _run_job(key, jobs.map_files, results, tuple(formats), metric, language)
        if files:
            st.download_button(t("download_maps_zip", count=len(files)),
                               exports.files_zip(files, f"{stem}-maps"),
                               file_name=f"{stem}-maps.zip", mime=MIME["zip"], key="dl_maps",
                               type="primary", icon=":material/download:")
            with st.expander(t("single_files")):
                for name, content in files.items():
                    st.download_button(name, content, file_name=name, key=f"dl_map_{name}",
                                       icon=":material/draft:")
    with table_col, st.container(border=True):
        st.subheader(t("export_tables"))
        st.caption(t("export_tables_help"))
        for name, frame in exports.result_tables(results).items():
            st.download_button(t("download_csv", table=t("table_" + name)),
                               functools.partial(exports.table_csv, frame), file_name=f"{stem}-{name}.csv",
                               mime=MIME["csv"], key=f"dl_csv_{name}", icon=":material/table:")
        st.download_button(t("download_excel"), functools.partial(exports.tables_excel, results, language),
                           file_name=f"{stem}.xlsx", mime=MIME["xlsx"], key="dl_xlsx",
                           type="primary", icon=":material/download:")
    with st.container(border=True):
        st.subheader(t("report_export"))
        st.caption(t("report_export_help"))
        key = ("report", record.input_hash, language)
        files = _prepared(key)
        if files is None and st.button(t("prepare"), key="prepare_report", icon=":material/description:"):
            files = _run_job(key, report.report_files, results, language, report.FORMATS, stem,
                             common.run_label(record))
        if files:
            for column, (name, content) in zip(st.columns(len(files)), files.items(), strict=True):
                fmt = name.rsplit(".", 1)[-1]
                column.download_button(t("report_download", format=fmt.upper()), content, file_name=name,
                                       mime=MIME[fmt], key=f"dl_report_{fmt}", type="primary",
                                       icon=":material/download:")
