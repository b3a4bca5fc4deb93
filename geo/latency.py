"""Great-circle distances and the one-way fibre latency model between provinces and sites."""

from __future__ import annotations

import numpy as np
from edwc_data.units import FIBRE_MS_PER_KM  # about 4.9 µs per km; see data/SOURCES.md
from pyproj import Geod

_WGS84 = Geod(ellps="WGS84")


def distance_km(lat_from: np.ndarray, lon_from: np.ndarray, lat_to: np.ndarray, lon_to: np.ndarray) -> np.ndarray:
    """Geodesic distance on the WGS84 ellipsoid between every origin and every destination.

    Parameters
    ----------
    lat_from, lon_from : array of shape (m,)
        Origin coordinates. [degrees]
    lat_to, lon_to : array of shape (n,)
        Destination coordinates. [degrees]

    Returns
    -------
    numpy.ndarray of shape (m, n)
        Distance from each origin to each destination. [km]
    """
    lat_from, lon_from = np.asarray(lat_from, float), np.asarray(lon_from, float)
    lat_to, lon_to = np.asarray(lat_to, float), np.asarray(lon_to, float)
    m, n = lat_from.size, lat_to.size
    _, _, metres = _WGS84.inv(np.repeat(lon_from, n), np.repeat(lat_from, n), np.tile(lon_to, m), np.tile(lat_to, m))
    return np.asarray(metres, float).reshape(m, n) / 1000.0


def one_way_latency_ms(distance_km: np.ndarray, route_factor: float = 1.6, overhead_ms: float = 1.0) -> np.ndarray:
    """One-way network latency over fibre.

    ``overhead_ms + distance_km * route_factor * FIBRE_MS_PER_KM``.

    Parameters
    ----------
    distance_km : array
        Great-circle distance. [km]
    route_factor : float
        Fibre route length divided by great-circle distance. [-]
    overhead_ms : float
        Fixed delay of equipment, access network and queuing. [ms]

    Returns
    -------
    numpy.ndarray
        One-way latency. [ms]
    """
    return overhead_ms + np.asarray(distance_km, float) * route_factor * FIBRE_MS_PER_KM
