"""Scenario loading: defaults, overrides, and one-line errors naming the file, the field and the fix."""

import pytest

from planner.scenario import MAX_FILE_BYTES, ScenarioError, load_scenario, resolve_scenario


def write(tmp_path, text, name="s.yaml", mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_empty_file_is_all_defaults(tmp_path):
    scenario = load_scenario(write(tmp_path, ""))
    assert scenario.name == "s"
    assert scenario.demand.national_it_load_mw == pytest.approx(12000.0)
    assert scenario.carbon.cap_tco2 is None


def test_shipped_scenarios_load_by_name():
    assert load_scenario("policy-2025").policy.hub_new_share_min == pytest.approx(0.6)
    assert load_scenario("no-west").sites["qingyang"].enabled is False


def test_set_overrides_apply_after_the_file(tmp_path):
    path = write(tmp_path, "carbon:\n  price_cny_per_tco2: 50\n")
    scenario = load_scenario(path, ["carbon.price_cny_per_tco2=200", "sites.qingyang.enabled=false"])
    assert scenario.carbon.price_cny_per_tco2 == 200
    assert scenario.sites["qingyang"].enabled is False


def test_input_hash_is_stable_and_sensitive():
    a, b = load_scenario(), load_scenario()
    assert a.input_hash() == b.input_hash()
    assert load_scenario(None, ["carbon.price_cny_per_tco2=1"]).input_hash() != a.input_hash()


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("carbon:\n  pricee: 3\n", "carbon.pricee", "unknown key"),
        ("sites:\n  qingyang:\n    pue: 0.9\n", "sites.qingyang.pue", "greater than or equal to 1"),
        ("sites:\n  atlantis:\n    pue: 1.2\n", "sites.atlantis", "unknown site id"),
        ("provinces:\n  narnia: {local_pue: 1.3}\n", "provinces.narnia", "unknown province id"),
        ("carbon:\n  price_cny_per_tco2: .nan\n", "carbon.price_cny_per_tco2", "finite"),
        ("carbon:\n  price_cny_per_tco2: ten\n", "carbon.price_cny_per_tco2", "valid number"),
        ("workloads:\n  finance: {share: 0.5}\n", "workloads", "add up to 1"),
        ("time:\n  hours_per_day: 5\n", "time.hours_per_day", "Input should be"),
        ("demand:\n  national_it_load_mw: 1e20\n", "demand.national_it_load_mw", "less than"),
    ],
)
def test_bad_values_name_file_and_field(tmp_path, text, field, words):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    message = str(info.value)
    assert message.startswith(f"s.yaml: {field} | ")
    assert words in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("a: &x [1, 2]\nb: *x\n", "anchors and aliases"),
        ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
        ("- 1\n- 2\n", "must be a mapping"),
        ("carbon: [unclosed\n", "not valid YAML at line"),
    ],
)
def test_hostile_yaml_is_refused(tmp_path, content, words):
    with pytest.raises(ScenarioError, match=words):
        load_scenario(write(tmp_path, content))


def test_non_utf8_and_oversize_files_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(write(tmp_path, b"name: \xff\xfe\n", mode="wb"))
    with pytest.raises(ScenarioError, match="over the"):
        load_scenario(write(tmp_path, "#" * (MAX_FILE_BYTES + 1)))


def test_unknown_scenario_name_lists_the_shipped_ones():
    with pytest.raises(ScenarioError, match="baseline"):
        load_scenario("no-such-scenario")


def test_bad_set_syntax_blames_set():
    with pytest.raises(ScenarioError, match=r"^--set"):
        resolve_scenario({}, ["carbon.price_cny_per_tco2"])
    with pytest.raises(ScenarioError, match=r"^--set: carbon.price_cny_per_tco2 \|"):
        resolve_scenario({}, ["carbon.price_cny_per_tco2=-5"])
