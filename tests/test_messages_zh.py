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

CONVERTED = ["error_unknown_key", "error_missing_field", "error_value_ge", "error_value_gt", "error_value_le",
             "error_value_lt", "error_value_choice", "error_value_number", "error_value_integer", "error_value_bool"]
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


@pytest.mark.parametrize(("setting", "key", "chinese"), [
    ("carbon.price_cny_per_tco2=-5", "error_value_ge", "取值应不小于 0，收到 -5"),
    ("solver.tolerance=5", "error_value_le", "取值应不大于 0.01，收到 5"),
    ("carbon.accounting=foo", "error_value_choice", "收到 'foo'"),
    ("carbon.price_cny_per_tco2=abc", "error_value_number", "取值应为数字"),
    ("time.defer_within_day=maybe", "error_value_bool", "布尔值"),
])
def test_a_bad_value_reads_in_chinese_with_its_english_line_unchanged(setting, key, chinese):
    from planner.scenario import load_scenario

    with pytest.raises(ScenarioError) as caught:
        load_scenario(None, [setting])
    error = caught.value
    field = setting.split("=")[0]
    assert error.key == key
    assert str(error) == f"--set: {field} | " + label_table()[key]["en"].format(**error.fields)
    assert error.text("zh").startswith(f"--set: {field} | ") and chinese in error.text("zh")
    result = CliRunner().invoke(main, ["run", "--set", setting, "--no-map", "--lang", "zh"])
    assert result.exit_code == 2 and chinese in result.output


def test_a_message_pydantic_words_otherwise_keeps_its_english_line_and_no_key():
    from planner.scenario import load_scenario

    with pytest.raises(ScenarioError) as caught:
        load_scenario(None, ["time.days=2.5"])  # "a number with a fractional part": no label for it
    assert caught.value.key is None and caught.value.text("zh") == str(caught.value)
