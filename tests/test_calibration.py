"""The default year against published figures: inside every range, and the page and README current."""

from pathlib import Path

import pytest
from edwc_data.labels import label_table
from edwc_data.tables import load_tables

from planner import calibration
from planner.run import run_scenario
from planner.scenario import load_scenario

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def default():
    return calibration.default_results()


def test_every_figure_of_the_default_year_is_inside_its_published_range(default):
    table = calibration.compare(default)
    assert len(table) == len(load_tables()["published"]) >= 12
    outside = table.loc[~table["inside"], ["figure", "plan", "low", "high"]]
    assert outside.empty, outside.to_string()


def test_the_calibration_page_and_the_readme_headline_are_current(default):
    page = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    assert page == calibration.render_page(default), "docs/calibration.md is stale: run python -m planner.calibration"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = calibration.render_readme_block(default)
    assert block in readme, "README.md's calibration block is stale: run python -m planner.calibration"


def test_the_figures_follow_from_the_plan_by_hand(default):
    s, sites = default.summary, default.sites
    figures = calibration.plan_figures(default)
    built = sites["existing_mw"].sum()
    assert figures["racks_million"] == pytest.approx(built / 2.5e-3 / 1e6)
    assert figures["facility_twh"] == pytest.approx(s.it_energy_mwh * s.pue_average / 1e6, rel=1e-12)
    assert figures["price_cny_per_kwh"] == pytest.approx(s.energy_cost_cny / s.facility_energy_mwh / 1e3)
    fitted = (sites["capacity_mw"] - sites["fitout_mw"] - sites["new_mw"]).sum()
    assert figures["occupancy_stock"] == pytest.approx(fitted / built)
    # Capacity in use at the end is the fitted stock plus what the plan fits out and builds.
    assert s.occupancy == pytest.approx((fitted + s.fitout_mw + s.new_capacity_mw) / (built + s.new_capacity_mw))


def test_a_plan_far_from_china_falls_outside(default):
    # Half as much load again cannot match the published electricity: the check can fail.
    heavy = run_scenario(load_scenario(None, ["demand.national_it_load_mw=18000", "time.days=2"]))
    table = calibration.compare(heavy).set_index("figure")
    assert not table.loc["facility_twh", "inside"] and not table.loc["it_kw_per_rack", "inside"]
    assert table.loc["racks_million", "inside"]  # the stock is the same


def test_published_ranges_are_wellformed_and_labelled():
    published = load_tables()["published"]
    assert (published["low"] <= published["high"]).all()
    assert set(published["status"]) <= {"F", "E"} and set(published["kind"]) == {"stock", "plan"}
    assert (published["source"].str.len() > 40).all()
    assert set(published.index) == set(calibration.FIGURES)
    for figure in published.index:
        assert f"calib_{figure}" in label_table(), figure
