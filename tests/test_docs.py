"""The scenario reference in docs/ is generated from the schema and must not drift from it."""

from pathlib import Path

from planner.schema_doc import render


def test_scenario_reference_is_current():
    committed = (Path(__file__).parents[1] / "docs" / "scenario.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/scenario.md is stale: run `python -m planner.schema_doc > docs/scenario.md`"


def test_source_tables_are_current():
    from planner.data_doc import render_page

    page = (Path(__file__).parents[1] / "data" / "SOURCES.md").read_text(encoding="utf-8")
    assert page == render_page(page), "data/SOURCES.md is stale: run `python -m planner.data_doc`"
