"""Sensitivity analysis (sim.studies.sensitivity, `cybernorms sensitivity`): the run budget of
Saltelli and Morris designs, indices that rank an influential parameter above an inert
one on the tiny world, and the files the command writes."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.errors import InputError
from sim.studies.experiment import load_experiment
from sim.studies.results import SweepResult
from sim.studies.sensitivity import analyse, budget, load_indices, point_outcomes
from sim.studies.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TINY = DATA / "tiny.yaml"
SALTELLI = DATA / "experiments" / "saltelli.yaml"
MORRIS = DATA / "experiments" / "morris.yaml"
INFLUENTIAL = "behaviour.state.threshold.mean"
INERT = "behaviour.state.federated"  # multiplies a term that is zero for every state
UNIFORM = {"distribution": {"uniform": [0.1, 0.9]}}
THREE = ["behaviour.temperature", "behaviour.state.peers", INFLUENTIAL]


def cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def quiet_sweep(spec: Path, out: Path):
    return sweep(spec, out, backend="serial", quiet=True, log=lambda line: None)


def write_design(directory: Path, design: str, samples: int, replications: int = 2,
                 groups: dict | None = None, **fields) -> Path:
    data = {"name": f"s_{design}", "scenario": str(TINY), "design": design,
            "samples": samples, "replications": replications,
            "parameters": {name: UNIFORM for name in THREE}, **fields}
    if groups:
        data["groups"] = groups
    path = directory / f"{design}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# --- budget -----------------------------------------------------------------------------

GROUPS = {"noise": ["behaviour.temperature"], "states": ["behaviour.state.peers", INFLUENTIAL]}


@pytest.mark.parametrize("design, groups, factors, per_sample", [
    ("saltelli", None, 3, 5),
    ("saltelli", GROUPS, 2, 4),
    ("morris", None, 3, 4),
    ("morris", GROUPS, 2, 3),
])
def test_budget_formula_and_counts(tmp_path, design, groups, factors, per_sample):
    """saltelli: N x (factors + 2) points; morris: N x (factors + 1); with groups the
    factors are the groups; runs = points x replications."""
    path = write_design(tmp_path, design, samples=8, replications=3, groups=groups)
    plan = budget(path)
    assert plan["design"] == design and plan["N"] == 8
    assert plan["factors"] == factors
    assert plan["points"] == 8 * per_sample
    assert plan["replications"] == 3 and plan["runs"] == 8 * per_sample * 3
    increment = 2 if design == "saltelli" else 1
    assert plan["formula"] == (f"N x (factors + {increment}) x replications = "
                               f"8 x {per_sample} x 3")


def test_budget_of_the_shipped_sensitivity_experiment():
    """experiments/sensitivity.yaml: 128 x (10 groups + 2) x 4 = 6,144 runs, as its header
    says, within its max_runs."""
    plan = budget(ROOT / "experiments" / "sensitivity.yaml")
    assert (plan["factors"], plan["points"], plan["runs"]) == (10, 1536, 6144)
    spec, _ = load_experiment(ROOT / "experiments" / "sensitivity.yaml")
    assert plan["runs"] <= spec.max_runs


def test_budget_of_a_non_sensitivity_design_is_an_input_error(tmp_path):
    path = write_design(tmp_path, "lhs", samples=8)
    with pytest.raises(InputError) as caught:
        budget(path)
    assert str(path) in str(caught.value) and "design" in str(caught.value)
    assert "saltelli or morris" in str(caught.value)


# --- analyse ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saltelli_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("saltelli") / "out"
    return quiet_sweep(SALTELLI, out)


@pytest.fixture(scope="module")
def morris_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("morris") / "out"
    return quiet_sweep(MORRIS, out)


def test_inert_parameter_really_is_inert(saltelli_result):
    """Precondition: the inert factor changes no outcome (same seeds, same threshold)."""
    metrics = saltelli_result.metrics
    end = metrics[(metrics["at"] == "end") & (metrics["proposal"] == "call")]
    spread = end.groupby([INFLUENTIAL, "metric"])["value"].nunique()
    assert (spread == 1).all()


def test_sobol_indices_rank_the_influential_parameter_first(saltelli_result):
    """Saltelli with common random numbers: the inert factor's S1 and ST are exactly 0;
    the state threshold carries most of the variance of every outcome."""
    spec, _ = load_experiment(SALTELLI)
    indices = analyse(saltelli_result, spec)
    assert list(indices.columns) == ["metric", "factor", "S1", "S1_conf", "ST", "ST_conf"]
    assert set(indices["metric"]) == {"signers_state", "signers_firm", "signers_civil",
                                      "share_gdp"}
    assert len(indices) == 4 * 2
    for metric, block in indices.groupby("metric"):
        by_factor = block.set_index("factor")
        assert by_factor.loc[INERT, "ST"] == pytest.approx(0, abs=1e-12), metric
        assert by_factor.loc[INERT, "S1"] == pytest.approx(0, abs=1e-12), metric
    state = indices[indices["metric"] == "signers_state"].set_index("factor")
    assert state.loc[INFLUENTIAL, "ST"] > 0.5
    assert state.loc[INFLUENTIAL, "ST"] > state.loc[INERT, "ST"] + state.loc[INFLUENTIAL,
                                                                             "ST_conf"]


def test_morris_indices_rank_the_influential_parameter_first(morris_result):
    spec, _ = load_experiment(MORRIS)
    indices = analyse(morris_result, spec, outcomes=("signers_state", "share_gdp"))
    assert list(indices.columns) == ["metric", "factor", "mu_star", "mu_star_conf", "sigma"]
    for _, block in indices.groupby("metric"):
        by_factor = block.set_index("factor")
        assert by_factor.loc[INERT, "mu_star"] == 0.0
        assert by_factor.loc[INFLUENTIAL, "mu_star"] > 0.0
    state = indices[indices["metric"] == "signers_state"].set_index("factor")
    assert state.loc[INFLUENTIAL, "mu_star"] > 1.0  # states: out of 6


def test_point_outcomes_are_means_over_replications_in_point_order(morris_result):
    y = point_outcomes(morris_result, "signers_state", "call")
    assert len(y) == len(morris_result.points) == 30
    metrics = morris_result.metrics
    chosen = metrics[(metrics["metric"] == "signers_state") & (metrics["proposal"] == "call") &
                     (metrics["at"] == "end")]
    expected = chosen.groupby("point")["value"].mean().sort_index().to_numpy()
    np.testing.assert_array_equal(y, expected)


def test_analyse_refuses_an_incomplete_sweep(morris_result):
    """A point without finished runs: RuntimeError telling to resume the sweep."""
    spec, _ = load_experiment(MORRIS)
    metrics = morris_result.metrics[morris_result.metrics["point"] != 7]
    partial = SweepResult(**{**morris_result.__dict__, "metrics": metrics})
    with pytest.raises(RuntimeError, match="resume"):
        analyse(partial, spec)


# --- command line -----------------------------------------------------------------------


def test_cli_sensitivity_writes_indices_tables_and_figure(tmp_path):
    """`cybernorms sensitivity SPEC --out DIR`: indices.csv/.md/.tex, a figure in png, svg
    and pdf with a caption naming the budget formula and the spec hash."""
    out = tmp_path / "morris"
    code, stdout, err = cli("sensitivity", MORRIS, "--out", out, "--backend", "serial")
    assert code == 0, err
    assert "sensitivity (morris): N x (factors + 1) x replications = 10 x 3 x 1 = 30 runs" in err
    assert "| metric | factor | mu_star |" in stdout
    indices = load_indices(out)
    assert len(indices) == 4 * 2
    assert set(indices["factor"]) == {INFLUENTIAL, INERT}
    for suffix in ("csv", "md", "tex", "png", "svg", "pdf", "caption.txt"):
        assert (out / f"indices.{suffix}").stat().st_size > 0, suffix
    tex = (out / "indices.tex").read_text()
    assert r"\toprule" in tex and r"mu\_star" in tex
    caption = (out / "indices.caption.txt").read_text()
    manifest = pd.read_json(out / "manifest.json", typ="series")
    assert manifest["spec_hash"] in caption
    assert "10 x 3 x 1" in caption


def test_cli_sensitivity_of_a_grid_exits_2(tmp_path):
    path = DATA / "experiments" / "grid.yaml"
    code, _, err = cli("sensitivity", path, "--out", tmp_path / "out", "--backend", "serial")
    assert code == 2 and "saltelli or morris" in err
