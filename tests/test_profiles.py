"""Hourly profiles of the year: mean 1, deterministic, physically shaped, computed offline."""

import numpy as np
import pandas as pd
import pytest
from edwc_data.tables import load_tables

from planner.profiles import (
    HOURS_PER_YEAR,
    clear_sky_ghi,
    demand_profiles,
    green_profiles,
    weather_factors,
    year_hours,
)


@pytest.fixture(scope="module")
def cluster_profiles():
    tables = load_tables()
    sites = tables["sites"].reset_index(drop=True)
    return sites, green_profiles(sites, tables["provinces"]["grid_region"], 2025)


def test_year_has_8760_hours_in_china_standard_time():
    hours = year_hours(2024)  # a leap year keeps 365 days: 31 December is left out
    assert len(hours) == HOURS_PER_YEAR == 8760
    assert str(hours.tz) == "Asia/Shanghai"
    assert hours[0] == pd.Timestamp("2024-01-01 00:00", tz="Asia/Shanghai")


def test_clear_sky_is_dark_at_night_and_bright_at_noon():
    ghi = clear_sky_ghi(37.29, 105.13, 2025).reshape(365, 24)  # Zhongwei
    assert ghi[:, 0].max() == 0.0
    assert ghi[171, 12] > 800.0 > ghi[355, 12] > 300.0  # June noon above December noon [W/m²]


def test_green_profiles_have_mean_one_and_repeat_exactly(cluster_profiles):
    sites, profiles = cluster_profiles
    assert profiles.shape == (len(sites), HOURS_PER_YEAR)
    assert profiles.mean(axis=1) == pytest.approx(np.ones(len(sites)), rel=1e-12)
    assert (profiles >= 0).all()
    tables = load_tables()
    again = green_profiles(sites, tables["provinces"]["grid_region"], 2025)
    assert np.array_equal(profiles, again)


def test_solar_led_sites_peak_at_midday_and_hydro_led_sites_in_the_wet_season(cluster_profiles):
    sites, profiles = cluster_profiles
    by_hour = profiles.reshape(len(sites), 365, 24).mean(axis=1)
    zhongwei = sites.index[sites["site"] == "zhongwei"][0]  # north-west: half solar
    assert by_hour[zhongwei, 12] > 1.5 > 0.7 > by_hour[zhongwei, 2]
    tianfu = sites.index[sites["site"] == "tianfu"][0]  # south-west: hydro-led
    monthly = pd.Series(profiles[tianfu], index=year_hours(2025)).resample("MS").mean()
    assert monthly.iloc[6:9].mean() > 1.2 > 0.8 > monthly.iloc[0:3].mean()


def test_weather_factors_keep_every_monthly_mean():
    months = year_hours(2025).month.to_numpy()[::24]
    factors = weather_factors("north", "wind", 0.45, 0.6, months)
    monthly = np.bincount(months - 1, factors) / np.bincount(months - 1)
    assert monthly == pytest.approx(np.ones(12), rel=1e-12)
    assert factors.std() > 0.2  # the weather does vary from day to day


def test_demand_follows_the_diurnal_shape_and_the_week():
    diurnal = load_tables()["diurnal"]
    profiles = demand_profiles(diurnal, ["business", "flat"], 2025)
    assert profiles.mean(axis=1) == pytest.approx([1.0, 1.0], rel=1e-12)
    assert profiles[1] == pytest.approx(np.ones(HOURS_PER_YEAR))
    days = profiles[0].reshape(365, 24).mean(axis=1)
    weekday = year_hours(2025).dayofweek.to_numpy()[::24] < 5
    assert days[weekday].mean() > 1.0 > days[~weekday].mean()
