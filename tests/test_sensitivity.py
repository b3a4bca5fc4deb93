"""Global sensitivity: space-filling samples, quantile maps, Sobol' and Morris indices, studies that use them."""

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from optimizer.status import PlanStatus
from planner.cli.study_commands import sweep_command
from planner.studies import StudyError, design_runs, sweep
from planner.studies.design import _as_distribution
from planner.studies.sensitivity import run_count, sensitivity_indices, unit_points

#: Two inputs of a toy response: x1 ~ U(0, 1), x2 ~ U(0, 2).
TOY = {"x1": {"dist": "uniform", "low": 0.0, "high": 1.0}, "x2": {"dist": "uniform", "low": 0.0, "high": 2.0}}
TINY = {"name": "tiny", "time": {"hours_per_day": 2}, "solver": {"backend": "highs"}}


def _toy_table(method: str, samples: int, seed: int, response) -> pd.DataFrame:
    runs = design_runs(samples=samples, distributions=TOY, seed=seed, sensitivity=method)
    return pd.DataFrame([
        {"sample": run.sample, "status": PlanStatus.OPTIMAL, "y": response(run.values["x1"], run.values["x2"])}
        for run in runs
    ])


def test_sobol_indices_of_a_linear_response_match_their_analytic_values():
    # y = 3 x1 + x2: Var = 9/12 + 4/12, so S1 = ST = 9/13 for x1 and 4/13 for x2 (no interaction).
    table = _toy_table("sobol", 4096, 11, lambda x1, x2: 3 * x1 + x2)
    assert len(table) == run_count("sobol", 2, 4096) == 4096 * 4
    indices, skipped = sensitivity_indices(table, ["x1", "x2"], ["y"], "sobol", 4096, 11)
    assert skipped == []
    by_key = indices.set_index("key")
    for key, share in (("x1", 9 / 13), ("x2", 4 / 13)):
        assert by_key.loc[key, "S1"] == pytest.approx(share, abs=0.02)
        assert by_key.loc[key, "ST"] == pytest.approx(share, abs=0.02)


def test_sobol_total_index_sees_an_interaction_the_first_order_misses():
    # y = x1 · (x2 - 1): E[y | x1] = 0 and E[y | x2] = (x2 - 1)/2, so x1 has S1 = 0 but ST > 0.
    table = _toy_table("sobol", 4096, 3, lambda x1, x2: x1 * (x2 - 1))
    by_key = sensitivity_indices(table, ["x1", "x2"], ["y"], "sobol", 4096, 3)[0].set_index("key")
    # Var y = E[x1²] E[(x2-1)²] = 1/3 · 1/3 = 1/9; Var E[y|x2] = 1/4 · 1/3 = 1/12: S1(x2) = 3/4.
    assert by_key.loc["x1", "S1"] == pytest.approx(0.0, abs=0.03)
    assert by_key.loc["x2", "S1"] == pytest.approx(0.75, abs=0.03)
    assert by_key.loc["x1", "ST"] == pytest.approx(0.25, abs=0.03)  # 1 - S1(x2)


def test_morris_effects_of_a_linear_response_are_its_slopes_over_each_range():
    # One step of u moves x1 by Δ and x2 by 2Δ: elementary effects are exactly 3 and 2, σ = 0.
    table = _toy_table("morris", 10, 5, lambda x1, x2: 3 * x1 + x2)
    assert len(table) == run_count("morris", 2, 10) == 30
    by_key = sensitivity_indices(table, ["x1", "x2"], ["y"], "morris", 10, 5)[0].set_index("key")
    assert by_key.loc["x1", "mu_star"] == pytest.approx(3.0, rel=1e-12)
    assert by_key.loc["x2", "mu_star"] == pytest.approx(2.0, rel=1e-12)
    assert by_key["sigma"].max() == pytest.approx(0.0, abs=1e-12)


def test_a_missing_run_or_a_constant_figure_is_left_out_with_its_reason():
    table = _toy_table("morris", 4, 1, lambda x1, x2: x1 + x2)
    table["flat"] = 7.0
    table.loc[3, "status"] = PlanStatus.INFEASIBLE
    indices, skipped = sensitivity_indices(table, ["x1", "x2"], ["y", "flat"], "morris", 4, 1)
    assert indices.empty
    assert skipped[0].startswith("y: 1 of 12 runs without a plan")
    table.loc[3, "status"] = PlanStatus.OPTIMAL
    _, skipped = sensitivity_indices(table, ["x1", "x2"], ["y", "flat"], "morris", 4, 1)
    assert skipped == ["flat: the same in every run (no variance to share out)"]


def test_latin_hypercube_puts_one_point_in_every_stratum_of_every_key():
    points = unit_points("lhs", 3, 50, seed=9)
    for column in points.T:
        assert sorted(np.floor(column * 50).astype(int)) == list(range(50))


def test_sobol_sequence_is_balanced_in_blocks_of_a_power_of_two():
    points = unit_points("sobol", 2, 64, seed=4)
    for column in points.T:
        assert np.bincount(np.floor(column * 8).astype(int), minlength=8).tolist() == [8] * 8


@pytest.mark.parametrize("spec", [
    {"dist": "uniform", "low": 2.0, "high": 5.0},
    {"dist": "triangular", "low": 0.9, "mode": 1.0, "high": 1.15},
    {"dist": "normal", "mean": 10.0, "sd": 2.0, "low": 7.0},
])
def test_quantile_maps_lhs_points_onto_the_distribution(spec):
    # The empirical distribution of stratified points matches the one random draws converge to.
    distribution = _as_distribution(spec)
    mapped = np.sort(distribution.quantile(unit_points("lhs", 1, 4000, seed=2)[:, 0]))
    drawn = np.sort(distribution.draw(np.random.default_rng(0), 400_000))
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        assert np.quantile(mapped, q) == pytest.approx(np.quantile(drawn, q), rel=5e-3)


def test_discrete_quantile_gives_each_value_its_probability():
    distribution = _as_distribution(
        {"dist": "discrete", "values": [0.8, 1.0, "none"], "probabilities": [0.2, 0.5, 0.3]}
    )
    picks = distribution.quantile(unit_points("lhs", 1, 1000, seed=1)[:, 0])
    assert [picks.count(value) for value in (0.8, 1.0, "none")] == [200, 500, 300]


@pytest.mark.parametrize(("options", "field"), [
    ({"sensitivity": "sobol", "samples": 48}, "samples"),
    ({"sensitivity": "morris", "samples": 4, "grid": {"carbon.price_cny_per_tco2": [0, 100]}}, "grid"),
    ({"sensitivity": "morris", "samples": 4, "sampling": "lhs"}, "sampling"),
    ({"sampling": "halton", "samples": 4}, "sampling"),
    ({"sensitivity": "sobol", "samples": 65536}, "grid"),  # 65,536 × (1 + 2) runs, over the limit
])
def test_a_sensitivity_design_that_cannot_work_is_refused_before_anything_runs(options, field, tmp_path):
    distributions = {"demand.scale": {"dist": "uniform", "low": 0.9, "high": 1.1}}
    with pytest.raises(StudyError) as error:
        sweep(TINY, distributions=distributions, executor="serial", progress=False, out_dir=tmp_path / "out",
              **options)
    assert error.value.field == field
    assert not (tmp_path / "out").exists()


def test_a_latin_hypercube_study_varies_the_plan_as_its_samples_do():
    distributions = {"demand.scale": {"dist": "uniform", "low": 0.9, "high": 1.05}}
    table = sweep(TINY, samples=6, distributions=distributions, sampling="lhs", seed=3, executor="serial",
                  progress=False, outputs=["total_cost_cny"])
    assert (table["status"] == PlanStatus.OPTIMAL).all()
    assert sorted(np.floor((table["demand.scale"] - 0.9) / 0.15 * 6).astype(int)) == list(range(6))
    # More demand costs more: the cost follows the sampled scale.
    ordered = table.sort_values("demand.scale")["total_cost_cny"].to_numpy()
    assert (np.diff(ordered) > 0).all()


def test_cli_morris_study_writes_indices_chart_and_report(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({
        "name": "screening",
        "base": "baseline",
        "set": {"time.hours_per_day": 2, "solver.backend": "highs"},
        "sensitivity": "morris",
        "samples": 2,
        "seed": 5,
        "distributions": {
            "demand.scale": {"dist": "uniform", "low": 0.9, "high": 1.05},
            "carbon.price_cny_per_tco2": {"dist": "uniform", "low": 0, "high": 300},
        },
        "outputs": ["total_cost_cny", "emissions_tco2"],
    }))
    out = tmp_path / "out"
    result = CliRunner().invoke(sweep_command, [str(path), "--out", str(out), "--executor", "serial", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "6 runs (6 optimal)" in result.output
    indices = pd.read_csv(out / "sensitivity.csv").set_index(["figure", "key"])
    # Both keys move the cost (more load to serve; a price on every tonne emitted).
    assert indices.loc[("total_cost_cny", "demand.scale"), "mu_star"] > 0
    assert indices.loc[("total_cost_cny", "carbon.price_cny_per_tco2"), "mu_star"] > 0
    assert (out / "sensitivity.png").exists() and (out / "sensitivity.svg").exists()
    report = (out / "report.md").read_text()
    assert "### Global sensitivity (Morris)" in report and "Morris trajectories" in report
