"""Checks of the default dataset in data/: shapes, ids, sums and the source register."""
from pathlib import Path

import pandas as pd
import pytest
import yaml

DATA = Path(__file__).parents[1] / "data"
CSV_FILES = [
    "provinces.csv", "sites.csv", "workloads.csv", "diurnal.csv",
    "green_profiles.csv", "green_mix.csv", "demand_weekly.csv", "climate.csv", "grid_regions.csv", "published.csv",
    "network_nodes.csv", "network_links.csv",
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


def test_built_capacity_is_the_national_rack_count_split_by_region():
    # 10.85M standard racks × 2.5 kW in all; the regions hold CAICT's shares of them (SOURCES.md).
    p = read("provinces.csv").set_index("province")
    s = read("sites.csv").set_index("site")
    # The clusters' >1.46M racks (NDA, Mar 2024) plus Horinger's 集宁 start zone, 0.10M racks.
    assert s.existing_mw.sum() == pytest.approx((1.46e6 + 0.10e6) * 2.5 / 1000)
    assert p.local_existing_mw.sum() + s.existing_mw.sum() == pytest.approx(10.85e6 * 2.5 / 1000)
    regions = {"jjj": ["beijing", "tianjin", "hebei"], "yrd": ["shanghai", "jiangsu", "zhejiang", "anhui"],
               "hubs6": ["guangdong", "sichuan", "chongqing", "inner_mongolia", "guizhou", "gansu", "ningxia"]}
    shares = {"jjj": 0.215, "yrd": 0.245, "hubs6": 0.255}
    built = p.local_existing_mw + s.groupby("host_province").existing_mw.sum().reindex(p.index).fillna(0.0)
    for region, members in regions.items():
        assert built[members].sum() / built.sum() == pytest.approx(shares[region], abs=2e-4), region
    assert p.local_occupancy.between(0.5, 0.7).all() and s.occupancy.between(0.3, 1.0).all()


def test_sites():
    s = read("sites.csv")
    p = read("provinces.csv")
    assert len(s) == 10
    assert s.site.is_unique
    assert set(s.host_province) <= set(p.province)
    assert set(s.hub_class) == {"east", "west"}
    assert (s.max_new_mw > 0).all()
    assert (s.green_available_mw >= 0).all()
    # Emission factors are the host province's (so a province's override reaches its clusters).
    assert "ef_tco2_per_mwh" not in s.columns
    assert (s.pue <= s.pue_cap).all() and (s.pue >= 1.0).all()
    assert set(read("provinces.csv").climate) <= set(read("climate.csv").climate)
    assert set(p.grid_region) <= set(read("grid_regions.csv").grid_region)


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
    p = read("provinces.csv")
    assert p.ef_tco2_per_mwh.between(0, 1.2, inclusive="neither").all()
    assert read("grid_regions.csv").ef_marginal_tco2_per_mwh.between(0.5, 1.3).all()
    for name in ["provinces.csv", "sites.csv"]:
        assert (read(name).price_cny_per_mwh > 0).all(), name


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
