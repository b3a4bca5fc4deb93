"""Checks of the default dataset in data/: shapes, ids, sums and the source register."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

DATA = Path(__file__).parents[1] / "data"
CSV_FILES = [
    "provinces.csv", "sites.csv", "workloads.csv", "diurnal.csv",
    "green_profiles.csv", "green_mix.csv", "demand_weekly.csv",
]
OPTIONAL_NUMERIC = {("workloads.csv", "latency_max_ms")}


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name)


@pytest.fixture(scope="module")
def sources() -> pd.DataFrame:
    return pd.read_csv(DATA / "sources.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def defaults() -> dict:
    with open(DATA / "defaults.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def numeric_leaves(tree: dict, prefix: str = "") -> dict[str, float]:
    """Dotted keys of all numeric leaves (bool and null excluded)."""
    out = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(numeric_leaves(value, dotted + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[dotted] = value
    return out


def test_provinces_unique():
    p = read("provinces.csv")
    assert len(p) == 31
    assert p.province.is_unique
    assert p.adcode.is_unique
    assert p.adcode.between(110000, 659999).all()
    assert set(p.grid_region) <= {"north", "northeast", "east", "central", "northwest", "south", "southwest"}
    assert set(p.ai_hub_region) == {0, 1}


def test_local_existing_total():
    p = read("provinces.csv")
    assert p.local_existing_mw.sum() == pytest.approx((8.1e6 - 1.46e6) * 2.5 / 1000)


def test_sites():
    s = read("sites.csv")
    p = read("provinces.csv")
    assert len(s) == 10
    assert s.site.is_unique
    assert set(s.host_province) <= set(p.province)
    assert set(s.hub_class) == {"east", "west"}
    assert (s.max_new_mw > 0).all()
    assert (s.green_available_mw >= 0).all()
    ef = p.set_index("province").ef_tco2_per_mwh
    assert np.allclose(s.ef_tco2_per_mwh, s.host_province.map(ef))


def test_workloads():
    w = read("workloads.csv")
    d = read("diurnal.csv")
    assert len(w) == 7
    assert w.workload.is_unique
    assert w.share.sum() == pytest.approx(1.0, abs=1e-12)
    ai = w.set_index("workload").share[["ai_inference", "ai_training"]].sum()
    assert ai == pytest.approx(0.35)
    assert set(w["shape"]) <= set(d.columns) - {"hour"}
    assert set(w.group) <= {"interactive", "ai", "batch"}


def test_diurnal_means():
    d = read("diurnal.csv")
    assert list(d.hour) == list(range(24))
    for col in d.columns.drop("hour"):
        assert abs(d[col].mean() - 1.0) < 1e-9, col
        assert (d[col] > 0).all(), col


@pytest.mark.parametrize("name", CSV_FILES)
def test_no_missing_numbers(name):
    df = read(name)
    for col in df.select_dtypes("number").columns:
        if (name, col) in OPTIONAL_NUMERIC:
            continue
        assert not df[col].isna().any(), f"{name}: {col} has NaN"


def test_emission_factors_and_prices():
    for name in ["provinces.csv", "sites.csv"]:
        df = read(name)
        assert df.ef_tco2_per_mwh.between(0, 1.2, inclusive="neither").all(), name
        assert (df.price_cny_per_mwh > 0).all(), name


@pytest.mark.parametrize("name", CSV_FILES)
def test_every_csv_number_has_a_source(name, sources):
    df = read(name)
    reg = sources[sources.file == name]
    blanket = set(reg.field[reg.rows == "*"])
    for col in df.select_dtypes("number").columns:
        assert col in blanket, f"{name}: {col} has no source entry (rows='*')"


def test_every_default_has_a_source(defaults, sources):
    reg = set(sources.field[sources.file == "defaults.yaml"])
    missing = set(numeric_leaves(defaults)) - reg
    assert not missing, f"defaults.yaml: no source for {sorted(missing)}"


def test_source_register_wellformed(sources):
    assert list(sources.columns) == ["file", "field", "rows", "status", "source"]
    assert set(sources.status) <= {"F", "E"}
    assert (sources.source.str.len() > 0).all()
    assert set(sources.file) <= set(CSV_FILES) | {"defaults.yaml"}
    # Row-specific entries name existing ids.
    for row in sources[(sources.rows != "*") & (sources.rows != "")].itertuples():
        ids = set(read(row.file).iloc[:, 0])
        assert set(row.rows.split(";")) <= ids, row
    # Every register entry names an existing field.
    for row in sources[sources.file != "defaults.yaml"].itertuples():
        assert row.field in read(row.file).columns, row
