"""Writing a plan's map to files: PNG, SVG, PDF, GeoJSON and GeoPackage layers, interactive HTML."""

from __future__ import annotations

import base64
import functools
import html
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from edwc_data.files import write_atomic
from edwc_data.labels import LANGUAGES, texts
from matplotlib import colors as mcolors
from pyproj import Geod

from geo.boundaries import (
    BOUNDARY_SOURCE,
    join_provinces,
    load_provinces,
    load_south_china_sea_lines,
)
from geo.flows import GROUP_COLOURS, aggregate_flows, group_colour
from geo.map_style import METRICS, _colour_scale, metric_label
from geo.maps import NO_DATA_COLOUR, plot_plan_map

if TYPE_CHECKING:
    from optimizer.results import Results

#: Formats ``export_map`` writes.
FORMATS = ("png", "svg", "pdf", "geojson", "gpkg", "html")
_IMAGE_FORMATS = ("png", "svg", "pdf")
#: Layers of the vector exports.
LAYERS = ("provinces", "clusters", "flows")

_CRS = "EPSG:4326"
_WGS84 = Geod(ellps="WGS84")
_GREAT_CIRCLE_POINTS = 16  # intermediate points of each flow line


def build_map_layers(results: Results) -> dict[str, gpd.GeoDataFrame]:
    """The plan as three vector layers in EPSG:4326.

    Parameters
    ----------
    results : optimizer.results.Results

    Returns
    -------
    dict of geopandas.GeoDataFrame
        ``provinces``: one polygon per row of ``results.provinces``, with its columns.
        ``clusters``: one point per cluster site (``kind == "cluster"``), with the columns of
        ``results.sites``.
        ``flows``: one great-circle LineString per (province, site, workload), from the
        province's point to the site, with ``group``, ``energy_mwh`` [MWh/yr],
        ``mean_load_mw`` [MW], ``latency_ms``, ``distance_km``, ``site_kind`` and
        ``cross_province`` (see :func:`geo.maps.aggregate_flows`).
    """
    provinces = join_provinces(results.provinces, load_provinces(), where="results.provinces")
    sites = results.sites
    clusters = sites[sites["kind"] == "cluster"].reset_index(drop=True)
    clusters = gpd.GeoDataFrame(
        clusters, geometry=gpd.points_from_xy(clusters["lon"], clusters["lat"]), crs=_CRS
    )
    flows = aggregate_flows(results)
    origin = results.provinces.set_index("province")[["lon", "lat"]].astype(float)
    target = sites.set_index("site")[["lon", "lat"]].astype(float)
    missing = sorted(set(flows["province"]) - set(origin.index)) + sorted(
        set(flows["site"]) - set(target.index)
    )
    if missing:
        msg = (
            f"results.flows | refers to provinces or sites missing from the results tables: "
            f"{', '.join(missing[:5])}. Pass a complete Results."
        )
        raise ValueError(msg)
    lines = [
        _great_circle(*origin.loc[p], *target.loc[s])
        for p, s in zip(flows["province"], flows["site"], strict=True)
    ]
    flows = gpd.GeoDataFrame(flows, geometry=lines, crs=_CRS)
    return {"provinces": provinces, "clusters": clusters, "flows": flows}


def _great_circle(lon0: float, lat0: float, lon1: float, lat1: float) -> shapely.LineString:
    if (lon0, lat0) == (lon1, lat1):
        return shapely.LineString([(lon0, lat0), (lon1, lat1)])
    inner = _WGS84.npts(lon0, lat0, lon1, lat1, _GREAT_CIRCLE_POINTS)
    return shapely.LineString([(lon0, lat0), *inner, (lon1, lat1)])


def _check_formats(formats: Iterable[str]) -> list[str]:
    if isinstance(formats, str):
        formats = (formats,)
    wanted = [str(f).lower().lstrip(".") for f in formats]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        msg = (
            f"export_map | unknown format {', '.join(map(repr, unknown))}. "
            f"Choose from {', '.join(FORMATS)}."
        )
        raise ValueError(msg)
    return list(dict.fromkeys(wanted))


def export_map(
    results: Results,
    out_dir,
    formats=("png",),
    metric: str = "west_share",
    lang: str = "en",
    dpi: int = 200,
    size_in: tuple[float, float] = (12.0, 9.0),
    stem: str = "plan_map",
) -> list[Path]:
    """Write a plan's map in one or more formats.

    Parameters
    ----------
    results : optimizer.results.Results
        A solved plan.
    out_dir : str or pathlib.Path
        Folder to write into; created if missing.
    formats : sequence of str
        Any of ``FORMATS``: ``png``, ``svg``, ``pdf`` (the static map of
        :func:`geo.maps.plot_plan_map`); ``geojson`` (one file per layer,
        ``<stem>_provinces.geojson``, ``<stem>_clusters.geojson``, ``<stem>_flows.geojson``);
        ``gpkg`` (one ``<stem>.gpkg`` with the three layers); ``html`` (interactive folium map).
    metric : str
        Province metric of the map, one of ``geo.maps.METRICS``.
    lang : {"en", "zh"}
        Label language of the images and HTML.
    dpi : int
        Resolution of the PNG. [dots/in]
    size_in : tuple of float
        Width and height of the images. [in]
    stem : str
        File name stem.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``formats``. Each is written to a temporary file in
        ``out_dir`` first and moved into place, so a reader never sees a partial file.

    Raises
    ------
    ValueError
        For an unknown format or metric.
    """
    wanted = _check_formats(formats)
    if metric not in METRICS:
        msg = f"export_map | unknown metric {metric!r}. Choose one of {', '.join(METRICS)}."
        raise ValueError(msg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    if any(f in _IMAGE_FORMATS for f in wanted):
        fig = plot_plan_map(results, metric=metric, lang=lang, figsize=tuple(size_in))
        try:
            for fmt in (f for f in wanted if f in _IMAGE_FORMATS):
                path = out / f"{stem}.{fmt}"
                written.append(
                    write_atomic(path, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=dpi))
                )
        finally:
            plt.close(fig)

    layers = build_map_layers(results) if {"geojson", "gpkg"} & set(wanted) else None
    for fmt in wanted:
        if fmt == "geojson":
            for name in LAYERS:
                path = out / f"{stem}_{name}.geojson"
                written.append(
                    write_atomic(
                        path,
                        lambda tmp, n=name: _to_file(
                            layers[n],
                            tmp,
                            driver="GeoJSON",
                            layer_options={"COORDINATE_PRECISION": 6},
                        ),
                    )
                )
        elif fmt == "gpkg":
            path = out / f"{stem}.gpkg"
            written.append(write_atomic(path, lambda tmp: _write_gpkg(layers, tmp)))
        elif fmt == "html":
            text = build_html_map(results, metric=metric, lang=lang)
            written.append(
                write_atomic(
                    out / f"{stem}.html",
                    lambda tmp, text=text: tmp.write_text(text, encoding="utf-8"),
                )
            )
    order = {fmt: i for i, fmt in enumerate(wanted)}
    return sorted(written, key=lambda p: order[_format_of(p)])


def _format_of(path: Path) -> str:
    return path.suffix.lstrip(".")


def _vector_ready(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Plain column types every OGR driver accepts."""
    frame = frame.copy()
    for column in frame.columns:
        if column == frame.geometry.name:
            continue
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            frame[column] = series.astype(bool)
        elif not pd.api.types.is_numeric_dtype(series):
            frame[column] = series.astype(object).where(series.notna(), None).astype(object)
    return frame


def _to_file(frame: gpd.GeoDataFrame, path: Path, **kwargs) -> None:
    _vector_ready(frame).to_file(path, engine="pyogrio", **kwargs)


def _write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    for name in LAYERS:
        _to_file(layers[name], path, driver="GPKG", layer=name)


# ---------------------------------------------------------------------------------------------
# Interactive HTML
# ---------------------------------------------------------------------------------------------


def _text(value) -> str:
    """Text safe inside HTML and inside the JavaScript template literals folium emits."""
    escaped = html.escape(str(value), quote=True)
    return escaped.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _number(value: float, digits: int = 0) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:,.{digits}f}"


def _province_tooltip(row, t, lang) -> str:
    name = row["name_en"] if lang == "en" else row["name_zh"]
    if not row.get("in_plan", True) or pd.isna(row.get("demand_mw")):
        return f"<b>{_text(name)}</b><br>{_text(t['outside'])}"
    return (
        f"<b>{_text(name)}</b>"
        f"<br>{_text(t['demand'])}: {_number(row['demand_mw'])} MW"
        f"<br>{_text(t['west'])}: {_number(100 * row['west_share'], 1)} %"
        f"<br>{_text(t['hub'])}: {_number(100 * row['hub_share'], 1)} %"
        f"<br>{_text(t['latency'])}: {_number(row['load_weighted_latency_ms'], 1)} ms"
        f"<br>{_text(t['emissions'])}: {_number(row['emissions_tco2'])} tCO₂/yr"
    )


#: What the interactive map may load: nothing but its own inline scripts, styles and data: images.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
)


@functools.cache
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS, from the ``xstatic-leaflet`` package, for inlining into a page.

    The CSS's images (the layer control's icon, the default markers) become ``data:`` URIs, so the
    page needs no file beside it and no network.

    Returns
    -------
    (str, str)
        The minified script and the stylesheet.
    """
    from xstatic.pkg import leaflet

    folder = Path(leaflet.BASE_DIR)
    script = (folder / "leaflet.js").read_text(encoding="utf-8")
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        image = (folder / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(image).decode('ascii')})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)
    # A script holding "</script>" would end its element early; Leaflet's does not, and must not.
    if "</script" in script.lower():
        msg = "leaflet.js | holds '</script', cannot be inlined. Report this."
        raise RuntimeError(msg)
    return script, css


def _offline(fmap) -> None:
    """Make a folium map load nothing from the network: Leaflet inlined, folium's CDN links dropped.

    The plan's map needs only Leaflet (no markers, no Bootstrap, no jQuery); the page's content
    security policy then refuses any other request a browser might try.
    """
    import folium

    fmap.default_js, fmap.default_css = [], []
    script, css = leaflet_assets()
    header = fmap.get_root().header
    header.add_child(folium.Element(
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'), name="csp", index=0)
    header.add_child(folium.Element(f"<style>{css}</style>\n<script>{script}</script>"), name="leaflet_inline")


def _province_flows(flows: gpd.GeoDataFrame, results: Results, t: dict, lang: str) -> dict[str, str]:
    """Per province, the popup shown on a click: where its load is served, largest first. [MW]"""
    if not len(flows):
        return {}
    site_names = results.sites.set_index("site")["name_en" if lang == "en" else "name_zh"]
    served = flows.groupby(["province", "site"], as_index=False)["mean_load_mw"].sum()
    popups = {}
    for province, rows in served.groupby("province"):
        rows = rows[rows["mean_load_mw"] > 0].sort_values("mean_load_mw", ascending=False)
        lines = "".join(
            f"<br>→ {_text(site_names.get(site, site))}: {_number(load)} MW"
            for site, load in zip(rows["site"], rows["mean_load_mw"], strict=True)
        )
        popups[province] = f"<b>{_text(t['served_by'])}</b>{lines}"
    return popups


def build_html_map(results: Results, metric: str = "west_share", lang: str = "en") -> str:
    """An interactive folium map of the plan, as one HTML document that works offline.

    Province choropleth, cluster circles (existing and total capacity) and flow lines to
    clusters outside the origin province, each with a tooltip; a click on a province lists
    where its load is served. Every name from the results is HTML-escaped before it reaches
    the page. Leaflet is inlined (:func:`leaflet_assets`) and no background tiles are used, so
    the page loads nothing from the network (its content security policy forbids it).

    Parameters
    ----------
    results : optimizer.results.Results
    metric : str
        Province metric of the choropleth, one of ``geo.maps.METRICS``.
    lang : {"en", "zh"}
        Label language (browsers have CJK fonts, so no fallback is needed).

    Returns
    -------
    str
        The HTML document.
    """
    import folium  # heavy import, only needed here

    if lang not in LANGUAGES:
        msg = f"build_html_map | lang must be 'en' or 'zh', got {lang!r}. Choose one of the two."
        raise ValueError(msg)
    t = texts("html", lang)
    groups = texts("group", lang)
    style = METRICS[metric]
    layers = build_map_layers(results)

    units = load_provinces()
    plan = layers["provinces"].drop(columns="geometry")
    frame = units.merge(plan.drop(columns=["name_zh", "name_en"]), on="adcode", how="left")
    values = frame[metric].to_numpy(float)
    cmap, norm, levels = _colour_scale(values, style, False)
    fills = [
        mcolors.to_hex(cmap(norm(v / style.scale))) if np.isfinite(v) else NO_DATA_COLOUR
        for v in values
    ]
    popups = _province_flows(layers["flows"], results, t, lang)
    province_features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(geom),
            "properties": {
                "tooltip": _province_tooltip(row, t, lang),
                "fill": fill,
                "flows": popups.get(row.get("province"), _province_tooltip(row, t, lang)),
            },
        }
        for (_, row), geom, fill in zip(frame.iterrows(), frame.geometry, fills, strict=True)
    ]

    fmap = folium.Map(
        location=[35.0, 105.0], zoom_start=4, tiles=None, control_scale=True, prefer_canvas=True
    )
    _offline(fmap)
    tooltip = {"fields": ["tooltip"], "labels": False, "sticky": True}
    folium.GeoJson(
        {"type": "FeatureCollection", "features": province_features},
        name=t["provinces"],
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#8c8c8c",
            "weight": 0.6,
            "fillOpacity": 0.9,
        },
        highlight_function=lambda f: {"weight": 2, "color": "#333333"},
        tooltip=folium.GeoJsonTooltip(**tooltip),
        popup=folium.GeoJsonPopup(fields=["flows"], labels=False),
    ).add_to(fmap)
    dashes = [
        [(lat, lon) for lon, lat in line.coords] for line in load_south_china_sea_lines().geometry
    ]
    folium.PolyLine(dashes, color="#4d4d4d", weight=2, tooltip=_text(t["scs"])).add_to(fmap)

    flows = layers["flows"]
    flows = flows[(flows["site_kind"] == "cluster") & flows["cross_province"]]
    # One line per (province, site, group); the workloads of a group share the geometry.
    keys = ["province", "site", "group"]
    flows = gpd.GeoDataFrame(
        flows.groupby(keys, as_index=False).agg(
            mean_load_mw=("mean_load_mw", "sum"), geometry=("geometry", "first")
        ),
        geometry="geometry",
        crs=_CRS,
    )
    if len(flows):
        top = float(flows["mean_load_mw"].max())
        flows = flows[flows["mean_load_mw"] >= 0.01 * top]
        names = results.provinces.set_index("province")["name_en" if lang == "en" else "name_zh"]
        site_names = results.sites.set_index("site")["name_en" if lang == "en" else "name_zh"]
        flow_features = []
        for _, row in flows.iterrows():
            group = groups.get(row["group"], row["group"])
            tip = (
                f"<b>{_text(names.get(row['province'], row['province']))} → "
                f"{_text(site_names.get(row['site'], row['site']))}</b>"
                f"<br>{_text(group)}: {_number(row['mean_load_mw'])} MW"
            )
            flow_features.append(
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(row.geometry),
                    "properties": {
                        "tooltip": tip,
                        "colour": group_colour(row["group"]),
                        "weight": 1.0 + 7.0 * row["mean_load_mw"] / top,
                    },
                }
            )
        folium.GeoJson(
            {"type": "FeatureCollection", "features": flow_features},
            name=t["flows"],
            style_function=lambda f: {
                "color": f["properties"]["colour"],
                "weight": f["properties"]["weight"],
                "opacity": 0.8,
            },
            tooltip=folium.GeoJsonTooltip(**tooltip),
        ).add_to(fmap)

    clusters = layers["clusters"]
    if len(clusters):
        top = max(float(clusters["capacity_mw"].max()), 1e-9)
        features = []
        for _, row in clusters.iterrows():
            name = row["name_en"] if lang == "en" else row["name_zh"]
            tip = (
                f"<b>{_text(name)}</b><br>{_text(t['capacity'])}: "
                f"{_number(row['capacity_mw'])} MW ({_text(t['existing'])} "
                f"{_number(row['existing_mw'])}, {_text(t['new'])} {_number(row['new_mw'])})"
                f"<br>{_text(t['load'])}: {_number(row['mean_load_mw'])} MW"
                f"<br>{_text(t['utilisation'])}: {_number(100 * row['utilisation'], 0)} %"
            )
            colour = "#00582c" if row["hub_class"] == "west" else "#262626"
            for kind, value in (("total", row["capacity_mw"]), ("existing", row["existing_mw"])):
                features.append(
                    {
                        "type": "Feature",
                        "geometry": shapely.geometry.mapping(row.geometry),
                        "properties": {
                            "tooltip": tip,
                            "kind": kind,
                            "colour": colour,
                            "radius": max(3.0, 22.0 * np.sqrt(max(value, 0) / top)),
                        },
                    }
                )
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            name=t["clusters"],
            marker=folium.CircleMarker(),
            style_function=lambda f: {
                "radius": f["properties"]["radius"],
                "color": f["properties"]["colour"],
                "weight": 1.5 if f["properties"]["kind"] == "total" else 0.5,
                "fillColor": f["properties"]["colour"],
                "fillOpacity": 0.25 if f["properties"]["kind"] == "total" else 0.95,
            },
            tooltip=folium.GeoJsonTooltip(**tooltip),
        ).add_to(fmap)

    fmap.fit_bounds([[17.5, 73.5], [53.6, 135.1]])
    folium.LayerControl(collapsed=True).add_to(fmap)
    fmap.get_root().html.add_child(
        folium.Element(_legend_html(results, metric, lang, cmap, levels, style))
    )
    return fmap.get_root().render()


def _legend_html(results: Results, metric, lang, cmap, levels, style) -> str:
    t = texts("html", lang)
    groups = texts("group", lang)
    label = metric_label(metric, lang)
    scale = 100.0 if style.percent else 1.0
    step = float(np.min(np.diff(levels))) * scale
    digits = 3 if step < 0.1 else 1 if step < 10 else 0
    steps = "".join(
        f'<div><span style="background:{mcolors.to_hex(cmap(i))};display:inline-block;'
        f'width:14px;height:10px;margin-right:4px"></span>'
        f"{_number(lo * scale, digits)} – {_number(hi * scale, digits)}</div>"
        for i, (lo, hi) in enumerate(zip(levels[:-1], levels[1:], strict=True))
    )
    groups = "".join(
        f'<div><span style="background:{colour};display:inline-block;width:18px;height:4px;'
        f'margin:0 4px 3px 0"></span>{_text(groups.get(g, g))}</div>'
        for g, colour in GROUP_COLOURS.items()
    )
    scenario = (results.scenario or {}).get("name", "")
    return (
        '<div style="position:fixed;bottom:24px;left:12px;z-index:1000;background:white;'
        'padding:8px 10px;border:1px solid #999;font:12px sans-serif;max-width:260px">'
        f"<b>{_text(scenario)}</b><br>{_text(label)}{steps}"
        f'<div style="margin-top:6px"><span style="background:{NO_DATA_COLOUR};'
        'display:inline-block;width:14px;height:10px;margin-right:4px"></span>'
        f"{_text(t['outside'])}</div>"
        f'<div style="margin-top:6px"><b>{_text(t["flows"])}</b>{groups}</div>'
        '<div style="margin-top:6px;color:#555;font-size:10px">'
        f"{_text(t['boundaries'])}: {_text(BOUNDARY_SOURCE)}</div></div>"
    )
