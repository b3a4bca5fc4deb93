"""Scenario page: pick a shipped scenario or upload one, edit the assumptions, download the YAML."""

from __future__ import annotations

import hashlib
import json

import streamlit as st

from planner.scenario import MAX_FILE_BYTES, shipped_scenarios
from ui import edits
from ui import state as ui_state
from ui.i18n import t
from ui.views.common import current_scenario_or_error, lang, page_intro, scenario_label

#: Prefix of the keys of the assumption widgets: ``edit.<form id>.<field>``.
EDIT_PREFIX = "edit."
#: Session key of the form's generation, raised whenever the base scenario or the edits are replaced.
GENERATION_KEY = "edit_generation"


def form_id() -> str:
    """Identity of the assumptions form: its generation and a digest of the scenario it shows.

    Widgets with a key keep their identity, and in the browser the value the user last gave them,
    whatever default they are drawn with. Keys that change with the scenario shown (a new base,
    edits applied here or on another page) make every widget a new one that starts from the
    scenario's values, so an untouched form never turns stale values into edits.
    """
    base: ui_state.BaseScenario = st.session_state["base"]
    shown = json.dumps([base.kind, base.source, base.document, sorted(st.session_state["overrides"].items())],
                       sort_keys=True, default=str)
    digest = hashlib.sha256(shown.encode()).hexdigest()[:12]
    return f"{st.session_state.setdefault(GENERATION_KEY, 0)}-{digest}"


def edit_key(name: str, identity: str | None = None) -> str:
    """Key of an assumption widget of the form ``identity`` (default: the current form)."""
    return f"{EDIT_PREFIX}{identity or form_id()}.{name}"


def _reset_edit_widgets() -> None:
    st.session_state[GENERATION_KEY] = st.session_state.get(GENERATION_KEY, 0) + 1
    for key in [k for k in st.session_state if str(k).startswith(EDIT_PREFIX)]:
        del st.session_state[key]


def _on_pick_shipped() -> None:
    name = st.session_state["pick_shipped"]
    ui_state.set_base(ui_state.shipped_base(name))
    _reset_edit_widgets()
    st.session_state["source_message"] = ("success", t("loaded_shipped", name=name))


def _on_upload() -> None:
    upload = st.session_state.get("upload_file")
    if upload is None:
        return
    _take_upload(upload.name, upload.getvalue())


def _on_paste() -> None:
    _take_upload("pasted.yaml", st.session_state.get("paste_text", "").encode("utf-8"))


def _take_upload(filename: str, data: bytes) -> None:
    error = ui_state.load_upload(filename, data)
    if error is None:
        _reset_edit_widgets()
        st.session_state["source_message"] = ("success", t("loaded_upload", name=filename))
    else:
        st.session_state["source_message"] = ("error", error)


def _on_reset_edits() -> None:
    st.session_state["overrides"] = {}
    _reset_edit_widgets()
    st.session_state["edit_message"] = ("success", t("edits_reset"))


def _source_section() -> None:
    base: ui_state.BaseScenario = st.session_state["base"]
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(t("start_shipped"))
        names = shipped_scenarios()
        index = names.index(base.name) if base.kind == "shipped" and base.name in names else None
        st.selectbox(t("shipped_label"), names, index=index, key="pick_shipped",
                     on_change=_on_pick_shipped, placeholder=t("shipped_placeholder"),
                     help=t("shipped_help"))
    with right:
        st.subheader(t("start_upload"))
        st.file_uploader(t("upload_label", mb=MAX_FILE_BYTES / 1e6), type=["yaml", "yml"],
                         key="upload_file", on_change=_on_upload, help=t("upload_help"))
        with st.expander(t("paste_label")):
            st.text_area(t("paste_area"), key="paste_text", height=160,
                         placeholder="carbon:\n  price_cny_per_tco2: 200\n")
            st.button(t("paste_button"), on_click=_on_paste, key="paste_load")
    message = st.session_state.pop("source_message", None)
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])


def _scenario_card() -> None:
    base: ui_state.BaseScenario = st.session_state["base"]
    overrides = st.session_state["overrides"]
    scenario = current_scenario_or_error()
    with st.container(border=True):
        st.markdown(f"### {scenario_label(base, overrides)}")
        source = t("source_shipped") if base.kind == "shipped" else t("source_upload")
        st.caption(f"{source}: `{base.source}`")
        if scenario is not None and scenario.description:
            # Plain text: Markdown images or links in a shared file must not make the browser fetch anything.
            st.text(scenario.description)
        if overrides:
            st.markdown(f"**{t('your_edits')}**")
            st.code("\n".join(f"--set {a}" for a in ui_state.override_list(overrides)),
                    language="bash")
            st.button(t("reset_edits"), on_click=_on_reset_edits, key="reset_edits")
        else:
            st.caption(t("no_edits"))


def _form(scenario) -> None:
    language = lang()
    identity = form_id()
    values = edits.assumption_values(scenario)
    clusters = edits.cluster_ids()
    cluster_table = edits.cluster_frame(values, language)
    names = dict(zip(cluster_table.index, cluster_table["cluster"], strict=True))
    with st.form("assumptions", border=True):
        st.subheader(t("assumptions"))
        tab_carbon, tab_work, tab_sites, tab_policy = st.tabs(
            [t("tab_carbon_demand"), t("tab_workloads"), t("tab_clusters"), t("tab_policy")])
        with tab_carbon:
            c1, c2, c3 = st.columns(3)
            price = c1.number_input(
                t("carbon_price"), min_value=0.0, max_value=100_000.0, step=10.0,
                value=float(values["carbon.price_cny_per_tco2"]), key=edit_key("carbon_price", identity),
                help=t("carbon_price_help"))
            cap = values["carbon.cap_tco2"]
            cap_mt = c2.number_input(
                t("carbon_cap"), min_value=0.0, max_value=10_000.0, step=5.0,
                value=None if cap is None else cap / 1e6, key=edit_key("carbon_cap", identity),
                placeholder=t("no_cap"), help=t("carbon_cap_help"))
            accounting = c1.selectbox(
                t("carbon_accounting"), ["location", "market", "marginal"],
                index=["location", "market", "marginal"].index(values["carbon.accounting"]),
                # The language is bound now: the option texts must not follow a later rerun's.
                format_func=lambda a: t(f"accounting_{a}", language), key=edit_key("accounting", identity),
                help=t("carbon_accounting_help"))
            scale_pct = c3.number_input(
                t("demand_level"), min_value=1.0, max_value=1000.0, step=5.0,
                value=100.0 * values["demand.scale"], key=edit_key("demand_scale", identity),
                help=t("demand_level_help"))
            end_year = st.number_input(
                t("end_year"), min_value=scenario.year, max_value=2100, step=1,
                value=values["horizon.end_year"], key=edit_key("end_year", identity),
                placeholder=t("single_year", year=scenario.year), help=t("end_year_help"))
        with tab_work:
            st.caption(t("workloads_caption"))
            work = st.data_editor(
                edits.workload_frame(values, language), key=edit_key("workloads", identity),
                hide_index=True, disabled=["workload"], width="stretch",
                column_config={
                    "workload": st.column_config.TextColumn(t("col_workload")),
                    "latency_max_ms": st.column_config.NumberColumn(
                        t("col_latency_limit"), min_value=0.01, max_value=1000.0, format="%.1f",
                        help=t("col_latency_limit_help")),
                    "growth_pct": st.column_config.NumberColumn(
                        t("col_growth"), min_value=-50.0, max_value=200.0, format="%.1f %%",
                        help=t("col_growth_help")),
                })
        with tab_sites:
            enabled = st.multiselect(
                t("clusters_enabled"), clusters,
                default=[c for c in clusters if values[f"sites.{c}.enabled"]],
                format_func=lambda c: names[c], key=edit_key("enabled", identity),
                help=t("clusters_enabled_help"))
            st.caption(t("clusters_caption"))
            table = st.data_editor(
                cluster_table.drop(columns=["enabled"]), key=edit_key("clusters", identity),
                hide_index=True, disabled=["cluster", "hub_class"], width="stretch",
                column_config={
                    "cluster": st.column_config.TextColumn(t("col_cluster")),
                    "hub_class": st.column_config.TextColumn(t("col_hub_class")),
                    "pue": st.column_config.NumberColumn(
                        "PUE", min_value=1.0, max_value=3.0, step=0.01, format="%.2f",
                        help=t("col_pue_help")),
                    "price_cny_per_mwh": st.column_config.NumberColumn(
                        t("col_price"), min_value=1.0, max_value=10_000.0, format="%.0f"),
                    "green_available_mw": st.column_config.NumberColumn(
                        t("col_green_mw"), min_value=0.0, max_value=1e6, format="%.0f",
                        help=t("col_green_mw_help")),
                    "green_premium_cny_per_mwh": st.column_config.NumberColumn(
                        t("col_green_premium"), min_value=0.0, max_value=10_000.0, format="%.0f"),
                })
        with tab_policy:
            p1, p2, p3 = st.columns(3)
            hub_min_pct = _share_input(p1, "hub_share_min", values["policy.hub_new_share_min"],
                                       edit_key("hub_min", identity))
            hub_green_pct = _share_input(p2, "hub_green_share_min", values["policy.hub_new_green_share_min"],
                                         edit_key("hub_green", identity))
            occupancy_pct = _share_input(p3, "hub_occupancy_min", values["policy.hub_occupancy_min"],
                                         edit_key("hub_occupancy", identity))
            q1, q2 = st.columns(2)
            green_pct = _share_input(q1, "green_share_min", values["policy.green_share_min"],
                                     edit_key("green_min", identity))
            pue_cap = q2.number_input(
                t("pue_cap_national"), min_value=1.0, max_value=3.0, step=0.01, format="%.2f",
                value=values["policy.pue_cap_national"], key=edit_key("pue_cap", identity), placeholder=t("no_rule"),
                help=t("pue_cap_national_help"))
        submitted = st.form_submit_button(t("apply"), type="primary")
    if not submitted:
        return
    new_values = {
        "carbon.price_cny_per_tco2": float(price),
        "carbon.cap_tco2": None if cap_mt is None else float(cap_mt) * 1e6,
        "demand.scale": float(scale_pct) / 100.0,
        "horizon.end_year": None if end_year is None else int(end_year),
        "carbon.accounting": accounting,
        "policy.hub_new_share_min": _share(hub_min_pct),
        "policy.hub_new_green_share_min": _share(hub_green_pct),
        "policy.hub_occupancy_min": _share(occupancy_pct),
        "policy.green_share_min": _share(green_pct),
        "policy.pue_cap_national": None if pue_cap is None else float(pue_cap),
        **edits.values_from_workload_frame(work),
        **edits.values_from_cluster_frame(table.assign(enabled=table.index.isin(enabled))),
    }
    submit_values(new_values)
    st.rerun()


def _share_input(column, label: str, value: float | None, key: str):
    """A percentage input that may be left empty (no rule)."""
    return column.number_input(
        t(label), min_value=0.0, max_value=100.0, step=5.0, value=None if value is None else 100.0 * value,
        key=key, placeholder=t("no_rule"), help=t(f"{label}_help"))


def _share(percent: float | None) -> float | None:
    return None if percent is None else float(percent) / 100.0


def submit_values(new_values: dict) -> str | None:
    """Turn form values into overrides against the base and apply them if they validate.

    Returns
    -------
    str or None
        The validation message when refused (the session's edits are unchanged).
    """
    base_values = edits.assumption_values(ui_state.resolve(st.session_state["base"], {}))
    changes = edits.changes_against(new_values, base_values)
    before = dict(st.session_state["overrides"])
    error = ui_state.apply_edits(changes)
    if error:
        st.session_state["edit_message"] = ("error", error)
    else:
        changed = len(set(before.items()) ^ set(st.session_state["overrides"].items()))
        message = t("edits_applied", count=len(st.session_state["overrides"])) if changed else t(
            "edits_unchanged")
        st.session_state["edit_message"] = ("success", message)
    return error


def _downloads(scenario) -> None:
    base: ui_state.BaseScenario = st.session_state["base"]
    overrides = st.session_state["overrides"]
    st.subheader(t("download_scenario"))
    own = ui_state.dump_yaml(ui_state.edited_document(base, overrides))
    stem = f"{base.name}{'-edited' if overrides else ''}"
    c1, c2 = st.columns(2)
    c1.download_button(t("download_own"), own, file_name=f"{stem}.yaml",
                       mime="application/x-yaml", icon=":material/download:", key="dl_own",
                       help=t("download_own_help"))
    if scenario is not None:
        full = ui_state.dump_yaml(scenario.to_dict())
        c2.download_button(t("download_full"), full, file_name=f"{stem}-resolved.yaml",
                           mime="application/x-yaml", icon=":material/download:", key="dl_full",
                           help=t("download_full_help"))
    with st.expander(t("show_yaml")):
        st.code(own, language="yaml")


def render() -> None:
    """The Scenario page."""
    page_intro("page_scenario", "intro_scenario")
    _source_section()
    _scenario_card()
    scenario = current_scenario_or_error()
    message = st.session_state.pop("edit_message", None)
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])
    if scenario is not None:
        _form(scenario)
    _downloads(scenario)
