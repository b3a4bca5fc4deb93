"""Standard exports: flows.csv in every run directory, the plan as netCDF, the dataset as a Data Package."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

from planner.cli import main
from planner.datapackage import column_unit, package_descriptor
from planner.netcdf_export import results_dataset
from planner.rundir import read_run, write_run

TINY = ["time.hours_per_day=1"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    return write_run(run_scenario(load_scenario(None, TINY)), tmp_path_factory.mktemp("exports") / "run")


@pytest.fixture(scope="module")
def results(run_dir):
    return read_run(run_dir)


@pytest.fixture(scope="module")
def netcdf_file(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("nc") / "out"
    outcome = CliRunner().invoke(main, ["export", str(run_dir), "--format", "netcdf", "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    return out / "results.nc"


# --- flows.csv ----------------------------------------------------------------------------------

def test_flows_csv_holds_the_rows_of_flows_parquet(run_dir):
    csv_rows = pd.read_csv(run_dir / "flows.csv")
    parquet_rows = pd.read_parquet(run_dir / "flows.parquet")
    assert list(csv_rows.columns) == list(parquet_rows.columns)
    assert len(csv_rows) == len(parquet_rows) > 0
    assert csv_rows["load_mw"].to_numpy() == pytest.approx(parquet_rows["load_mw"].to_numpy(), rel=1e-12)
    assert (csv_rows["site"].astype(str).to_numpy() == parquet_rows["site"].astype(str).to_numpy()).all()
    assert (run_dir / "flows.csv").read_bytes().count(b"\r\n") == len(parquet_rows) + 1  # CRLF rows


def test_a_run_directory_without_flows_csv_still_reads(run_dir, tmp_path):
    import shutil

    older = tmp_path / "older"
    shutil.copytree(run_dir, older)
    (older / "flows.csv").unlink()
    assert read_run(older).flows["load_mw"].sum() == pytest.approx(read_run(run_dir).flows["load_mw"].sum())


def test_flows_csv_neutralises_formulas(results, tmp_path):
    hostile = results.flows.copy()
    hostile["province"] = "=HYPERLINK(\"x\")"
    from planner.rundir import write_csv

    write_csv(hostile, tmp_path / "flows.csv")
    assert set(pd.read_csv(tmp_path / "flows.csv")["province"]) == {"'=HYPERLINK(\"x\")"}


# --- netCDF -------------------------------------------------------------------------------------

def test_netcdf_round_trip_sums_equal_the_results_tables(results, netcdf_file):
    with xr.open_dataset(netcdf_file, engine="netcdf4") as dataset:
        flows = results.flows
        load = flows.groupby(["site", "period"])["load_mw"].sum()
        read_load = dataset["flow_mw"].sum(["province", "workload"])
        for (site, period), value in load.items():
            assert float(read_load.sel(site=site, period=period)) == pytest.approx(value, rel=1e-9)
            assert float(dataset["site_load_mw"].sel(site=site, period=period)) == pytest.approx(value, rel=1e-9)
        # Absent routes are 0, so the dense total equals the sparse one.
        assert float(dataset["flow_mw"].sum()) == pytest.approx(flows["load_mw"].sum(), rel=1e-9)
        weights = flows.groupby("period")["hours"].first()
        assert dataset["period_hours"].sel(period=list(weights.index)).to_numpy() == pytest.approx(weights.to_numpy())
        sites = results.sites.set_index("site")
        for name, column in (("site_new_mw", "new_mw"), ("site_fitout_mw", "fitout_mw"),
                             ("site_green_mwh", "green_mwh"), ("site_emissions_tco2", "emissions_tco2")):
            assert dataset[name].sel(site=list(sites.index)).to_numpy() == pytest.approx(sites[column].to_numpy())
        demand = results.provinces.set_index("province")["demand_mw"]
        assert dataset["province_demand_mw"].sel(province=list(demand.index)).to_numpy() == pytest.approx(
            demand.to_numpy())
        assert dataset.attrs["total_cost_cny"] == pytest.approx(results.summary.total_cost_cny, rel=1e-12)
        assert dataset.attrs["input_hash"] == results.metadata["input_hash"]
        assert dataset.attrs["scenario"] == results.summary.scenario
        assert dataset.attrs["status"] == str(results.summary.status)


def test_energy_of_the_flows_equals_the_province_demand_energy(results):
    dataset = results_dataset(results)
    served_mwh = (dataset["flow_mw"] * dataset["period_hours"]).sum(["site", "workload", "period"])
    demand = results.provinces.set_index("province")["demand_mwh"]
    assert served_mwh.sel(province=list(demand.index)).to_numpy() == pytest.approx(demand.to_numpy(), rel=1e-6)


def test_every_netcdf_variable_has_units_and_names_in_both_languages(results):
    dataset = results_dataset(results)
    for name, variable in dataset.data_vars.items():
        assert variable.attrs["units"], name
        assert variable.attrs["long_name"] and variable.attrs["long_name_zh"], name
        assert variable.attrs["long_name"] != variable.attrs["long_name_zh"], name
    assert set(dataset["flow_mw"].dims) == {"province", "site", "workload", "period"}
    assert np.all(dataset["flow_mw"].to_numpy() >= 0)


def test_export_defaults_to_the_run_directory(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    outcome = CliRunner().invoke(main, ["export", str(copy)])
    assert outcome.exit_code == 0, outcome.output
    with xr.open_dataset(copy / "results.nc", engine="netcdf4") as dataset:
        assert dataset.attrs["total_cost_cny"] == pytest.approx(read_run(copy).summary.total_cost_cny)


def test_export_refuses_a_folder_it_does_not_own_and_an_unknown_format(run_dir, tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep", encoding="utf-8")
    outcome = CliRunner().invoke(main, ["export", str(run_dir), "--out", str(foreign)])
    assert outcome.exit_code == 2
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    assert "Traceback" not in outcome.output
    outcome = CliRunner().invoke(main, ["export", str(run_dir), "--format", "pypsa", "--out", str(tmp_path / "x")])
    assert outcome.exit_code == 2
    assert "--format" in outcome.output
    assert not (tmp_path / "x").exists()


def test_export_refuses_a_folder_that_is_not_a_run(tmp_path):
    outcome = CliRunner().invoke(main, ["export", str(tmp_path)])
    assert outcome.exit_code == 2
    assert "Traceback" not in outcome.output


# --- Data Package -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("dp") / "dataset"
    outcome = CliRunner().invoke(main, ["datapackage", "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    return out


def test_the_data_package_validates(package):
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(package / "datapackage.json")
    assert report.valid, report.flatten(["resource/name", "type", "note"])[:5]


def test_the_data_package_holds_every_table_with_types_units_and_sources(package):
    from edwc_data.tables import data_dir

    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    paths = {resource["path"] for resource in descriptor["resources"]}
    assert paths == {p.name for p in data_dir().glob("*.csv")}
    for name in paths:
        assert (package / name).read_bytes() == (data_dir() / name).read_bytes()
    sites = next(r for r in descriptor["resources"] if r["path"] == "sites.csv")
    fields = {f["name"]: f for f in sites["schema"]["fields"]}
    assert fields["existing_mw"]["unit"] == "MW" and fields["existing_mw"]["type"] == "number"
    assert fields["price_cny_per_mwh"]["unit"] == "CNY/MWh"
    assert fields["site"]["type"] == "string"
    assert fields["pue"]["description"].startswith(("firm: ", "estimate: "))
    assert sites["sources"]


def test_a_changed_column_breaks_the_package(package, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    import shutil

    changed = tmp_path / "changed"
    shutil.copytree(package, changed)
    text = (changed / "sites.csv").read_text(encoding="utf-8")
    (changed / "sites.csv").write_text(re.sub(r"\bexisting_mw\b", "existing_gw", text, count=1), encoding="utf-8")
    report = frictionless.validate(changed / "datapackage.json")
    assert not report.valid
    assert any("existing" in str(row) for row in report.flatten(["fieldName", "note"]))


def test_a_non_numeric_value_breaks_the_package(package, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    import shutil

    changed = tmp_path / "changed"
    shutil.copytree(package, changed)
    frame = pd.read_csv(changed / "provinces.csv", dtype=str)
    frame.loc[0, "price_cny_per_mwh"] = "cheap"
    frame.to_csv(changed / "provinces.csv", index=False)
    assert not frictionless.validate(changed / "datapackage.json").valid


@pytest.mark.parametrize(("name", "unit"), [("ef_tco2_per_mwh", "tCO2/MWh"), ("great_circle_km", "km"),
                                            ("lat", "degree_north"), ("local_pue", "1"), ("province", None)])
def test_column_units_follow_the_name_suffixes(name, unit):
    assert column_unit(name) == unit


def test_datapackage_refuses_a_foreign_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    outcome = CliRunner().invoke(main, ["datapackage", "--out", str(tmp_path)])
    assert outcome.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_descriptor_describes_the_shipped_register():
    descriptor = package_descriptor()
    assert descriptor["title"] and descriptor["title_zh"] and descriptor["title"] != descriptor["title_zh"]
    provinces = next(r for r in descriptor["resources"] if r["path"] == "provinces.csv")
    types = {f["name"]: f["type"] for f in provinces["schema"]["fields"]}
    assert types["adcode"] == "integer" and types["ef_tco2_per_mwh"] == "number" and types["name_zh"] == "string"


def test_the_export_labels_have_the_same_fields_in_both_languages():
    import string

    from edwc_data.labels import label_table

    table = label_table()
    keys = [key for key in table if key.startswith(("nc_", "export_", "datapackage_"))]
    assert len(keys) >= 17
    for key in keys:
        english, chinese = ({name for _, name, _, _ in string.Formatter().parse(table[key][lang]) if name}
                            for lang in ("en", "zh"))
        assert english == chinese, key
