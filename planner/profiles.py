"""Hourly profiles of one year: green-power availability at every site and demand by workload shape.

Green power on offer at a site is a blend of solar, wind and hydro energy (shares by grid region,
``data/green_mix.csv``). Each part is a shape with mean 1 over the year:

- solar: pvlib's clear-sky global horizontal irradiance at the site's coordinates (Ineichen model,
  Linke turbidity from the table shipped with pvlib, so no download), times a monthly clearness
  index of the region (``data/green_profiles.csv``) and a day-to-day weather factor;
- wind: a monthly factor of the region, a daily cosine with the region's amplitude and peak hour,
  and a day-to-day weather factor;
- hydro: a monthly factor of the region (wet and dry seasons), flat within the month.

The day-to-day weather factors are synthetic: an autocorrelated log-normal series per grid region
with the coefficient of variation in ``green_mix.csv``, drawn from a fixed seed and rescaled so that
every month keeps its factor exactly. Sites of one region therefore share their weather, and the
profiles are the same on every machine and every run.

The blend is normalised to mean 1 over the year, so that ``green_available_mw`` × profile keeps the
site's annual green energy (``green_available_mw`` × 8,760 h) whatever the shape.

Demand of a workload class follows its diurnal shape (``data/diurnal.csv``) times a weekday or
weekend factor (``data/demand_weekly.csv``) times the year's growth (``demand.within_year_growth``:
demand compounds through the year, December above January), normalised to mean 1 over the year.

PUE follows the seasons: a site's PUE on day d is its annual PUE plus ``A·cos(2π(d − d_summer)/365)``,
with the amplitude A of its climate zone (``data/climate.csv``) and the peak in late July; the annual
mean stays the site's PUE.

The year has 365 days of 24 hours (8,760 h, China Standard Time); in a leap year 31 December is left out.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np
import pandas as pd
from edwc_data.cache import cached_arrays, input_key
from edwc_data.tables import load_tables
from edwc_data.units import DAYS_PER_YEAR, HOURS_PER_DAY

#: Hours of the profiled year, as a whole number (array sizes). [h]
HOURS_PER_YEAR = HOURS_PER_DAY * DAYS_PER_YEAR
TIMEZONE = "Asia/Shanghai"

#: The profile tables of the default dataset (edwc_data.tables.TABLE_FILES).
PROFILE_TABLES = ("green_profiles", "green_mix", "demand_weekly")

#: Largest share of clear-sky irradiance a day may reach, and the least: a weather factor cannot
#: make a day brighter than clear sky, nor darker than heavy overcast.
_CLEARNESS_MAX, _CLEARNESS_MIN = 1.0, 0.05


@dataclass
class YearProfiles:
    """Hourly profiles of one year, each with mean 1.

    Attributes
    ----------
    times : pandas.DatetimeIndex
        The 8,760 hours (start of each hour, China Standard Time).
    green : numpy.ndarray, shape (S, 8760)
        Green-power availability of each site, as a share of its mean (``green_available_mw``). [-]
    demand : numpy.ndarray, shape (K, 8760)
        Demand of each workload class, as a share of its mean. [-]
    """

    times: pd.DatetimeIndex
    green: np.ndarray
    demand: np.ndarray

    def by_day(self) -> tuple[np.ndarray, np.ndarray]:
        """``green`` as (S, 365, 24) and ``demand`` as (K, 365, 24)."""
        return (
            self.green.reshape(len(self.green), DAYS_PER_YEAR, HOURS_PER_DAY),
            self.demand.reshape(len(self.demand), DAYS_PER_YEAR, HOURS_PER_DAY),
        )


def load_profile_tables() -> dict[str, pd.DataFrame]:
    """The profile tables of the default dataset, as fresh copies.

    Returns
    -------
    dict of pandas.DataFrame
        ``green_profiles`` (grid_region × month: solar_clearness, wind_factor, hydro_factor),
        ``green_mix`` (by grid_region: energy shares and weather parameters) and
        ``demand_weekly`` (by diurnal shape: weekday and weekend factors).
    """
    tables = load_tables()
    return {key: tables[key] for key in PROFILE_TABLES}


def year_hours(year: int) -> pd.DatetimeIndex:
    """The 8,760 hours of ``year`` (365 days from 1 January, China Standard Time)."""
    return pd.date_range(f"{year}-01-01", periods=HOURS_PER_YEAR, freq="h", tz=TIMEZONE)


@functools.lru_cache(maxsize=256)
def clear_sky_ghi(lat: float, lon: float, year: int) -> np.ndarray:
    """Clear-sky global horizontal irradiance at the middle of each hour of the year.

    Parameters
    ----------
    lat, lon : float
        Site coordinates. [degrees]
    year : int

    Returns
    -------
    numpy.ndarray, shape (8760,)
        Irradiance. [W/m²]
    """
    # Imported here: pvlib takes seconds to import and only clustered scenarios need it.
    import pvlib

    middle = year_hours(year) + pd.Timedelta(minutes=30)
    location = pvlib.location.Location(float(lat), float(lon), tz=TIMEZONE)
    # The ephemeris sun position is within 0.4° of NREL's SPA and eight times faster: ample for
    # hourly energy. Ineichen reads the monthly Linke turbidity from LinkeTurbidities.h5, shipped
    # inside pvlib, so nothing is downloaded.
    position = location.get_solarposition(middle, method="ephemeris")
    return location.get_clearsky(middle, model="ineichen", solar_position=position)["ghi"].to_numpy(float)


def _uniform(seed: int, size: int) -> np.ndarray:
    # Raw PCG64 output is fixed by the algorithm, unlike numpy's distribution methods, which may
    # change between numpy versions: the profiles stay the same on every installation.
    raw = np.random.PCG64(seed).random_raw(size)
    return ((raw >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53


def _normal(seed: int, size: int) -> np.ndarray:
    # Box–Muller on the stable uniforms.
    u1, u2 = _uniform(seed, 2 * size).reshape(2, size)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def weather_factors(region: str, kind: str, cv: float, autocorrelation: float, months: np.ndarray) -> np.ndarray:
    """Synthetic day-to-day factors of one region, with mean 1 within every month.

    An AR(1) series in log space: ``z_d = ρ z_{d-1} + √(1-ρ²) ε_d``, factor ``exp(σ z − σ²/2)``
    with ``σ² = ln(1 + cv²)``, then divided by its monthly mean.

    Parameters
    ----------
    region : str
        Grid region (seeds the series, so regions differ and sites of a region agree).
    kind : str
        'solar' or 'wind' (seeds the series).
    cv : float
        Coefficient of variation of the daily factor. [-]
    autocorrelation : float
        Correlation of one day's factor with the next day's (in log space). [-]
    months : numpy.ndarray, shape (365,)
        Month (1–12) of each day.

    Returns
    -------
    numpy.ndarray, shape (365,)
    """
    days = months.size
    if cv <= 0:
        return np.ones(days)
    seed = zlib.crc32(f"{region}/{kind}".encode())
    shocks = _normal(seed, days)
    z = np.empty(days)
    z[0] = shocks[0]
    spread = np.sqrt(1.0 - autocorrelation**2)
    for day in range(1, days):
        z[day] = autocorrelation * z[day - 1] + spread * shocks[day]
    sigma = np.sqrt(np.log1p(cv**2))
    factor = np.exp(sigma * z - sigma**2 / 2.0)
    return factor / _monthly_mean(factor, months)[months - 1]


def _monthly_mean(values: np.ndarray, months: np.ndarray) -> np.ndarray:
    return np.bincount(months - 1, values, minlength=12) / np.bincount(months - 1, minlength=12)


def _normalised(values: np.ndarray) -> np.ndarray:
    mean = values.mean()
    return values / mean if mean > 0 else np.ones_like(values)


def green_profiles(sites: pd.DataFrame, grid_region: pd.Series, year: int) -> np.ndarray:
    """Hourly green-power availability of each site, mean 1 over the year.

    Parameters
    ----------
    sites : pandas.DataFrame
        Rows with ``lat``, ``lon`` [degrees] and ``host_province``.
    grid_region : pandas.Series
        Grid region of each province id (``provinces.csv`` ``grid_region``).
    year : int

    Returns
    -------
    numpy.ndarray, shape (len(sites), 8760)
        Availability as a share of the site's mean (``green_available_mw``). [-]
    """
    tables = load_profile_tables()
    monthly = tables["green_profiles"].set_index(["grid_region", "month"]).sort_index()
    mix = tables["green_mix"].set_index("grid_region")
    times = year_hours(year)
    month_of_hour = times.month.to_numpy()
    month_of_day = month_of_hour[::HOURS_PER_DAY]
    hour_of_day = times.hour.to_numpy()
    profiles = np.ones((len(sites), HOURS_PER_YEAR))
    weather: dict[tuple[str, str], np.ndarray] = {}
    for i, (lat, lon, host) in enumerate(zip(sites["lat"], sites["lon"], sites["host_province"], strict=True)):
        region = str(grid_region.get(host, ""))
        if region not in mix.index:
            continue  # a site outside the tables' regions keeps flat availability
        m = mix.loc[region]
        factors = monthly.loc[region].reindex(range(1, 13))
        if (region, "solar") not in weather:
            weather[region, "solar"] = weather_factors(
                region, "solar", m["solar_daily_cv"], m["daily_autocorrelation"], month_of_day)
            weather[region, "wind"] = weather_factors(
                region, "wind", m["wind_daily_cv"], m["daily_autocorrelation"], month_of_day)
        blend = np.zeros(HOURS_PER_YEAR)
        if m["solar_share"] > 0:
            clearness = factors["solar_clearness"].to_numpy(float)[month_of_day - 1] * weather[region, "solar"]
            clearness = np.clip(clearness, _CLEARNESS_MIN, _CLEARNESS_MAX)
            ghi = clear_sky_ghi(round(float(lat), 4), round(float(lon), 4), year)
            solar = ghi * np.repeat(clearness, HOURS_PER_DAY)
            blend += m["solar_share"] * _normalised(solar)
        if m["wind_share"] > 0:
            diurnal = 1.0 + m["wind_diurnal_amplitude"] * np.cos(
                2.0 * np.pi * (hour_of_day - m["wind_peak_hour"]) / HOURS_PER_DAY)
            daily = factors["wind_factor"].to_numpy(float)[month_of_day - 1] * weather[region, "wind"]
            blend += m["wind_share"] * _normalised(np.repeat(daily, HOURS_PER_DAY) * diurnal)
        if m["hydro_share"] > 0:
            blend += m["hydro_share"] * _normalised(factors["hydro_factor"].to_numpy(float)[month_of_hour - 1])
        profiles[i] = _normalised(blend)
    return profiles


#: Day of the year (0-based) on which cooling needs, and so PUE, peak: late July. [d]
SUMMER_PEAK_DAY = 200


def seasonal_pue_offset(amplitude: np.ndarray, day_of_year: np.ndarray) -> np.ndarray:
    """PUE above (or below) the annual mean of each site on each day, (S, D); mean 0 over the year. [-]

    Parameters
    ----------
    amplitude : numpy.ndarray, shape (S,)
        Half the summer-to-winter swing of each site's PUE (its climate zone's). [-]
    day_of_year : numpy.ndarray, shape (D,)
        Days (0-based from 1 January).
    """
    phase = 2.0 * np.pi * (np.asarray(day_of_year, float) - SUMMER_PEAK_DAY) / DAYS_PER_YEAR
    return np.asarray(amplitude, float)[:, None] * np.cos(phase)[None, :]


def growth_factors(within_year_growth: float, days: int = DAYS_PER_YEAR) -> np.ndarray:
    """Demand of each day relative to the year's mean when demand compounds at ``within_year_growth``. [-]"""
    factor = (1.0 + within_year_growth) ** (np.arange(days) / days)
    return factor / factor.mean()


def demand_profiles(diurnal: pd.DataFrame, shapes: list[str] | pd.Series, year: int,
                    within_year_growth: float = 0.0) -> np.ndarray:
    """Hourly demand of each workload shape over the year, mean 1.

    Parameters
    ----------
    diurnal : pandas.DataFrame
        ``data/diurnal.csv``: column ``hour`` and one column per shape (each with mean 1).
    shapes : list of str
        Shape of each workload class (``workloads.csv`` ``shape``).
    year : int
    within_year_growth : float
        Growth of demand through the year, compounded daily. [-/yr]

    Returns
    -------
    numpy.ndarray, shape (len(shapes), 8760)
        Demand as a share of the class's mean load. [-]
    """
    weekly = load_profile_tables()["demand_weekly"].set_index("shape")
    times = year_hours(year)
    weekend = times.dayofweek.to_numpy() >= 5
    hourly = diurnal.set_index("hour").reindex(range(HOURS_PER_DAY))
    growth = np.repeat(growth_factors(within_year_growth), HOURS_PER_DAY)
    rows = []
    for shape in shapes:
        day = hourly[shape].to_numpy(float)[times.hour.to_numpy()]
        if shape in weekly.index:
            factor = np.where(weekend, weekly.loc[shape, "weekend_factor"], weekly.loc[shape, "weekday_factor"])
        else:
            factor = np.ones(HOURS_PER_YEAR)
        rows.append(_normalised(day * factor * growth))
    return np.array(rows).reshape(len(rows), HOURS_PER_YEAR)


#: Version of the cached profiles' layout and recipe: bump it when this module's arithmetic changes.
_CACHE_LAYOUT = 2


def profiles_key(sites: pd.DataFrame, workloads: pd.DataFrame, year: int, within_year_growth: float = 0.0) -> str:
    """Cache key of a year's profiles: everything they are computed from (sites, shapes, tables, pvlib)."""
    tables = load_tables()
    rated = sites["green_available_mw"].to_numpy(float) > 0
    return input_key(
        "profiles", _CACHE_LAYOUT, version("pvlib"), int(year), float(within_year_growth),
        sites[["lat", "lon", "host_province"]].to_csv(index=False), rated.tolist(), list(workloads["shape"]),
        *(tables[name].to_csv() for name in (*PROFILE_TABLES, "diurnal")),
        tables["provinces"]["grid_region"].to_csv(),
    )


def year_profiles(sites: pd.DataFrame, workloads: pd.DataFrame, year: int,
                  within_year_growth: float = 0.0) -> YearProfiles:
    """Green availability of every site and demand of every class, hour by hour over ``year``.

    Computed once per set of inputs and kept in the tool's cache folder (:mod:`edwc_data.cache`):
    the clear-sky runs of pvlib take most of a second.

    Parameters
    ----------
    sites : pandas.DataFrame
        As in :class:`optimizer.inputs.PlanInputs`: ``lat``, ``lon``, ``host_province``,
        ``green_available_mw``.
    workloads : pandas.DataFrame
        With ``shape`` (``workloads.csv``).
    year : int
    within_year_growth : float
        Growth of demand through the year (``demand.within_year_growth``). [-/yr]

    Returns
    -------
    YearProfiles
        Sites without green power on offer keep flat availability (1): the plan never uses
        their profile, and each profile costs a clear-sky run.
    """
    arrays = cached_arrays("profiles", profiles_key(sites, workloads, year, within_year_growth),
                           lambda: _compute_profiles(sites, workloads, year, within_year_growth))
    return YearProfiles(times=year_hours(year), green=arrays["green"], demand=arrays["demand"])


def _compute_profiles(sites: pd.DataFrame, workloads: pd.DataFrame, year: int,
                      within_year_growth: float) -> dict[str, np.ndarray]:
    tables = load_tables()
    green = np.ones((len(sites), HOURS_PER_YEAR))
    rated = sites["green_available_mw"].to_numpy(float) > 0
    if rated.any():
        green[rated] = green_profiles(sites[rated], tables["provinces"]["grid_region"], year)
    demand = demand_profiles(tables["diurnal"], list(workloads["shape"]), year, within_year_growth)
    return {"green": green, "demand": demand}
