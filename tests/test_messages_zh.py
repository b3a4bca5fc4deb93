"""Error lines in Chinese: label keys render in both languages, a bad scenario reads in Chinese under --lang zh."""

import pickle
import re
import string

import pytest
from click.testing import CliRunner
from edwc_data.labels import label_table

from optimizer.status import PlanInfeasible
from planner.cli import main
from planner.errors import ScenarioError, error_text

CONVERTED = ["error_unknown_key", "error_missing_field"]
HAN = re.compile(r"[\u4e00-\u9fff]")


def _fields(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", CONVERTED)
def test_converted_keys_have_both_languages_with_the_same_fields(key):
    entry = label_table()[key]
    assert _fields(entry["en"]) == _fields(entry["zh"])
    assert HAN.search(entry["zh"])


def test_str_stays_english_and_text_translates_and_pickles():
    english = label_table()["error_unknown_key"]["en"]
    error = ScenarioError(english, source="s.yaml", field="sites.x", key="error_unknown_key")
    assert str(error) == f"s.yaml: sites.x | {english}"
    back = pickle.loads(pickle.dumps(error))
    assert (back.key, back.fields, str(back)) == ("error_unknown_key", {}, str(error))
    assert back.text("zh") == f"s.yaml: sites.x | {label_table()['error_unknown_key']['zh']}"
    assert error_text(ValueError("plain"), "zh") == "plain"


def test_plan_status_error_keeps_key_through_pickling():
    error = PlanInfeasible("no plan", key="error_missing_field")
    back = pickle.loads(pickle.dumps(error))
    assert str(back) == "no plan" and back.key == "error_missing_field"
    assert HAN.search(back.text("zh"))


@pytest.mark.parametrize("how", ["option", "env"])
def test_misspelt_scenario_key_reads_in_chinese(tmp_path, how, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sitez: {}\n")
    args = ["run", str(bad), "--no-map", "--out", str(tmp_path / "run")]
    if how == "option":
        args.append("--lang=zh")
    else:
        monkeypatch.setenv("EDWC_LANG", "zh")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("bad.yaml: sitez | ")
    assert HAN.search(line)


def test_locale_default(monkeypatch):
    from planner.cli.common import default_lang

    monkeypatch.delenv("EDWC_LANG", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert default_lang() == "zh"
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert default_lang() == "en"
