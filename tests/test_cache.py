"""The tool's cache folder: written atomically where EDWC_CACHE_DIR points, read back, never elsewhere.

Every test points the cache at its own temporary folder; the cached values must equal what is
computed without the cache (boundaries, map geometry, profiles, representative days).
"""

import numpy as np
import pytest
from edwc_data import cache


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("EDWC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "_memory", {})
    return tmp_path / "cache"


def test_an_entry_is_made_once_then_read_back(folder):
    calls = []

    def make():
        calls.append(1)
        return b"payload"

    assert cache.cached("kind", "k1", make) == b"payload"
    assert cache.cached("kind", "k1", make) == b"payload"
    assert len(calls) == 1
    entry = folder / "kind" / "k1.bin"
    assert entry.is_file() and entry.read_bytes().endswith(b"payload")
    assert [p.name for p in (folder / "kind").iterdir()] == ["k1.bin"]  # no temporary file left behind


def test_arrays_round_trip_without_pickling(folder):
    values = {"a": np.arange(5.0), "names": np.array(["x", "yz"])}
    first = cache.cached_arrays("arrays", "k", lambda: values)
    again = cache.cached_arrays("arrays", "k", lambda: pytest.fail("made twice"))
    for name in values:
        assert np.array_equal(first[name], values[name]) and np.array_equal(again[name], values[name])


def test_a_file_the_tool_did_not_write_is_left_alone(folder):
    (folder / "kind").mkdir(parents=True)
    foreign = folder / "kind" / "k.bin"
    foreign.write_bytes(b"someone else's")
    assert cache.cached("kind", "k", lambda: b"ours") == b"ours"
    assert foreign.read_bytes() == b"someone else's"


def test_a_damaged_entry_of_ours_is_made_again(folder):
    cache.cached_arrays("arrays", "k", lambda: {"a": np.ones(3)})
    entry = folder / "arrays" / "k.bin"
    entry.write_bytes(entry.read_bytes()[:40])  # our header, then garbage
    assert np.array_equal(cache.cached_arrays("arrays", "k", lambda: {"a": np.zeros(2)})["a"], np.zeros(2))


def test_an_unwritable_cache_falls_back_to_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("EDWC_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(cache, "_memory", {})
    calls = []
    for _ in range(2):
        assert cache.cached("kind", "k", lambda: calls.append(1) or b"v") == b"v"
    assert len(calls) == 1
    assert blocker.read_text() == "not a folder"


def test_the_default_folder_is_the_xdg_one(tmp_path, monkeypatch):
    monkeypatch.delenv("EDWC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_root() == tmp_path / "edwc-planner"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_root() == tmp_path / "home" / ".cache" / "edwc-planner"


def test_cached_boundaries_and_map_geometry_equal_the_computed_ones(folder):
    import shapely

    from geo import boundaries, maps

    boundaries._load_provinces.cache_clear()
    maps.map_geometry.cache_clear()
    try:
        cached = boundaries.load_provinces()
        computed = boundaries._province_arrays(0.01)
        assert list(cached["adcode"]) == computed["adcode"].tolist()
        assert all(shapely.equals_exact(a, b, 0.0) for a, b in
                   zip(cached.geometry, boundaries.unpack_geometries(computed), strict=True))
        geometry = maps.map_geometry()
        assert len(geometry.paths) == len(cached) == 34
        assert {p.parent.name for p in folder.rglob("*.bin")} == {"boundaries"}
    finally:
        boundaries._load_provinces.cache_clear()
        maps.map_geometry.cache_clear()


def test_cached_profiles_and_days_equal_the_computed_ones(folder, default_inputs):
    from planner import periods, profiles

    sites, workloads = default_inputs.sites, default_inputs.workloads
    first = profiles.year_profiles(sites, workloads, 2025, 0.18)
    again = profiles.year_profiles(sites, workloads, 2025, 0.18)
    direct = profiles._compute_profiles(sites, workloads, 2025, 0.18)
    assert np.array_equal(first.green, direct["green"]) and np.array_equal(again.demand, direct["demand"])
    days = periods.cluster_days(first, 4, add_extremes=True)
    direct_days = periods._cluster(first, 4, np.ones(len(sites)), np.ones(len(workloads)), True)
    again_days = periods.cluster_days(again, 4, add_extremes=True)
    for name, value in direct_days.items():
        key = {"day_of_year": "day_of_year"}.get(name, name)
        assert np.array_equal(getattr(days, key), value) and np.array_equal(getattr(again_days, key), value)
    # A change of input is a new entry, never a stale answer.
    other = profiles.year_profiles(sites, workloads, 2026, 0.18)
    assert not np.array_equal(other.demand, first.demand)
    flat = profiles.year_profiles(sites, workloads, 2025, 0.0)
    assert not np.array_equal(flat.demand, first.demand)
    assert len(list((folder / "profiles").iterdir())) == 3
