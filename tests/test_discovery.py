"""Scenario discovery (sim.studies.discovery, `cybernorms discover`): PRIM and CART find
a box planted in a synthetic table; bad arguments name the option and the expectation."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.studies.discovery import cases, choose, discover, tree_leaves
from sim.studies.results import SweepResult
from sim.studies.sweep import sweep
from tests.conftest import run_cli

DATA = Path(__file__).parent / "data"


def synthetic(n: int = 800, seed: int = 3, nominal: bool = True) -> SweepResult:
    """A sweep of n one-run points whose outcome is high exactly inside a planted box:
    a > 0.6, b < 0.4 (and open_to not `states`); c is noise."""
    rng = np.random.default_rng(seed)
    points = pd.DataFrame({"point": range(n), "label": [f"p{i}" for i in range(n)],
                           "a": rng.uniform(0, 1, n), "b": rng.uniform(0, 1, n),
                           "c": rng.uniform(0, 1, n)})
    inside = (points["a"] > 0.6) & (points["b"] < 0.4)
    if nominal:
        points["open_to"] = rng.choice(["states", "states+firms", "all"], n)
        inside &= points["open_to"] != "states"
    points["overrides"] = "{}"
    value = np.where(inside, rng.uniform(0.6, 1.0, n), rng.uniform(0.0, 0.55, n))
    metrics = pd.DataFrame({"run_id": [f"r{i}" for i in range(n)], "seed": range(n),
                            "point": range(n), "replicate": 0, "proposal": "call",
                            "metric": "share_states", "at": "end", "value": value})
    metrics = metrics.merge(points.drop(columns="overrides"), on="point")
    return SweepResult(Path("synthetic"), pd.DataFrame(), metrics, pd.DataFrame(), points,
                       {}, {})


def test_prim_finds_the_planted_box():
    found = discover(synthetic(), "share_states", threshold=0.58)
    box = found.box.set_index("parameter")
    assert set(box.index) == {"a", "b", "open_to"}  # c is noise: never restricted
    assert box.loc["a", "low"] == pytest.approx(0.6, abs=0.03)
    assert box.loc["b", "high"] == pytest.approx(0.4, abs=0.03)
    assert "not states" in box.loc["open_to", "limits"]
    pick = found.trajectory.loc[found.chosen]
    assert pick["coverage"] >= 0.9 and pick["density"] >= 0.9
    # the trajectory trades coverage for density: it starts with every run in the box
    first = found.trajectory.iloc[0]
    assert first["coverage"] == 1.0 and first["mass"] == 1.0
    assert found.trajectory["density"].iloc[-1] > first["density"]


def test_cart_finds_the_planted_box():
    result = synthetic(nominal=False)
    inputs, holds, _ = cases(result, "share_states", threshold=0.58)
    leaves = tree_leaves(inputs, holds)
    best = leaves.iloc[0]
    assert best["density"] == 1.0 and best["coverage"] >= 0.9
    bounds = dict(re.findall(r"(\w+ [<>]=?) ([0-9.]+)", best["rule"]))
    assert set(bounds) == {"a >", "b <="}  # c is noise: never in a rule
    assert float(bounds["a >"]) == pytest.approx(0.6, abs=0.03)
    assert float(bounds["b <="]) == pytest.approx(0.4, abs=0.03)
    assert leaves["coverage"].sum() == pytest.approx(1.0)
    assert leaves["mass"].sum() == pytest.approx(1.0)


def test_cart_leaves_keep_their_own_categories():
    """Each side of a categorical split keeps its own values (a shared set would give
    every leaf the same rule)."""
    inputs, holds, _ = cases(synthetic(n=3000), "share_states", threshold=0.58)
    leaves = tree_leaves(inputs, holds)
    rules = [r for r in leaves["rule"] if "open_to" in r]
    assert any("open_to in {states}" in r for r in rules)
    assert any("open_to in {all, states+firms}" in r or "open_to in {all}" in r for r in rules)


def test_below_and_missing_values():
    result = synthetic()
    result.metrics.loc[result.metrics.index[:10], "value"] = np.nan
    inputs, holds, _ = cases(result, "share_states", threshold=0.3, below=True)
    assert not holds[:10].any()  # a missing outcome does not hold
    values = result.metrics["value"].to_numpy()
    assert (holds == (values <= 0.3)).all()


def test_choose_takes_the_densest_box_with_enough_coverage():
    trajectory = pd.DataFrame({"box": range(4), "coverage": [1.0, 0.8, 0.6, 0.3],
                               "density": [0.2, 0.5, 0.7, 0.9], "mass": [1, .6, .4, .1],
                               "res_dim": [0, 1, 2, 2]})
    assert choose(trajectory, 0.5) == 2
    assert choose(trajectory, 0.9) == 0
    assert choose(trajectory, 0.1) == 3


@pytest.mark.parametrize("kwargs, field", [
    ({"outcome": "share_state", "threshold": 0.5}, "--outcome"),
    ({"outcome": "share_states", "threshold": 0.5, "at": "2019-01-01"}, "--at"),
    ({"outcome": "share_states", "threshold": 0.5, "proposal": "cal"}, "--proposal"),
    ({"outcome": "share_states", "threshold": 5.0}, "--threshold"),
])
def test_bad_arguments_name_the_option(kwargs, field):
    outcome = kwargs.pop("outcome")
    with pytest.raises(InputError) as error:
        discover(synthetic(n=100), outcome, **kwargs)
    assert field in str(error.value)
    assert len(error.value.problems) == 1


def test_unknown_outcome_suggests_the_closest():
    with pytest.raises(InputError, match="did you mean 'share_states'"):
        discover(synthetic(n=100), "share_state", threshold=0.5)


@pytest.mark.parametrize("option, value", [("min_coverage", 0.0), ("min_coverage", 1.5),
                                           ("peel_alpha", 0.9), ("mass_min", -1)])
def test_bad_settings_name_the_option(option, value):
    with pytest.raises(InputError, match=f"--{option.replace('_', '-')}"):
        discover(synthetic(n=100), "share_states", threshold=0.58, **{option: value})


@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    sweep(DATA / "experiments" / "grid.yaml", out, backend="serial", log=lambda line: None,
          quiet=True)
    return out


def test_discover_command_on_a_sweep(grid_sweep, tmp_path):
    code, out, err = run_cli("discover", grid_sweep, "--outcome", "share_states",
                             "--proposal", "call", "--threshold", "0.5", "--out", tmp_path)
    assert code == 0, err
    assert "PRIM" in out and "CART leaves" in out
    for name in ("trajectory.png", "trajectory.svg", "trajectory.pdf", "trajectory.csv",
                 "box.md", "leaves.csv", "manifest.json"):
        assert (tmp_path / name).is_file(), name


def test_discover_command_bad_input(grid_sweep, tmp_path):
    code, _, err = run_cli("discover", grid_sweep, "--outcome", "nonsense", "--threshold", "1")
    assert code == 2
    assert f"{grid_sweep}: --outcome: got 'nonsense'" in err
    code, _, err = run_cli("discover", tmp_path, "--outcome", "share_states", "--threshold", "1")
    assert code == 2 and "a sweep directory" in err


def test_short_names_drop_the_shared_part_of_paths():
    from sim.studies.discovery import short_names

    assert short_names(["proposals.p.content.x", "proposals.p.bindingness"]) == [
        "content.x", "bindingness"]
    assert short_names(["a.b", "c.d"]) == ["a.b", "c.d"]
    assert short_names(["proposals.p.bindingness"]) == ["bindingness"]


def test_without_the_workbench_discover_says_what_to_install(monkeypatch):
    """The EMA Workbench is an opt-in extra: without it, one message naming the install."""
    import builtins

    from sim.errors import InputError
    from sim.studies import discovery

    real_import = builtins.__import__

    def no_workbench(name, *args, **kwargs):
        if name.startswith("ema_workbench"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_workbench)
    with pytest.raises(InputError, match=r"cybernorms\[discovery\]"):
        discovery._ema()
