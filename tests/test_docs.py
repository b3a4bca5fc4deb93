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


def test_every_test_named_in_the_reliability_page_exists():
    import re

    tests = Path(__file__).parent
    page = (tests.parent / "docs" / "reliability.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+\.py)::(\w+)(?:\[[^\]]*\])?`", page))
    assert len(named) > 80
    missing = [f"{f}::{name}" for f, name in sorted(named) if f"def {name}(" not in (tests / f).read_text()]
    assert not missing, missing
