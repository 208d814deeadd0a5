"""Text design (sim.studies.design, `cybernorms design`): objectives and constraints,
the space of texts, the Pareto front, runs on the sweep machinery with common random
numbers, resuming after an interruption, and bad input naming file, field, expectation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal

import sim.studies.sweep
from sim.errors import InputError
from sim.studies.design import (
    cheapest,
    design,
    edits,
    load_design,
    neighbours,
    pareto_front,
    parse_constraint,
    parse_objective,
    plan_counts,
    reference_text,
    sample,
    text_key,
)
from tests.conftest import run_cli

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.yaml"
SMALL = {"samples": 6, "rounds": 1, "per_round": 3, "replications": 3, "seed": 4}
VOLATILE = ["seconds", "host"]


def quiet(study, out, **kwargs):
    kwargs.setdefault("backend", "serial")
    return design(study, out, log=lambda line: None, quiet=True, **kwargs)


# --- objectives and constraints -----------------------------------------------------------

@pytest.mark.parametrize("text, weights", [
    ("share_states", {"share_states": 1.0}),
    ("0.5*joined_IND + 0.5*joined_BRA", {"joined_IND": 0.5, "joined_BRA": 0.5}),
    ("share_gdp - 0.25*polarisation", {"share_gdp": 1.0, "polarisation": -0.25}),
    ("-tipping_step", {"tipping_step": -1.0}),
    ("share_states+share_states", {"share_states": 2.0}),
])
def test_objectives(text, weights):
    assert parse_objective(text) == weights


@pytest.mark.parametrize("text", ["", "share_states +", "2*", "a*b", "0.5 joined_IND",
                                  "share_states * 2", "(share_gdp)"])
def test_bad_objectives_name_the_option(text):
    with pytest.raises(InputError, match="--objective.*expected a metric or a weighted sum"):
        parse_objective(text)


def test_constraints():
    assert parse_constraint("joined_IND>=0.5") == ("joined_IND", ">=", 0.5)
    assert parse_constraint(" breadth <= 4 ") == ("breadth", "<=", 4.0)
    for bad in ("joined_IND>0.5", "joined_IND", ">=0.5", "x>=y"):
        with pytest.raises(InputError, match="--constraint.*NAME>=VALUE"):
            parse_constraint(bad)


def test_pareto_front_by_hand():
    support = np.array([0.9, 0.8, 0.8, 0.5, 0.9])
    # columns to maximise: breadth, bindingness, minus distance
    ambition = np.array([[2, 0.1, -0.3], [4, 0.1, -0.3], [3, 0.1, -0.4], [4, 0.5, 0.0],
                         [2, 0.1, -0.3]])
    # row 2 is dominated by row 1; rows 0 and 4 tie (neither dominates the other)
    assert pareto_front(support, ambition).tolist() == [True, True, False, True, True]
    assert not pareto_front(np.array([np.nan]), np.zeros((1, 3)))[0]


# --- the space of texts ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_design(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "design.yaml"
    path.write_text(yaml.safe_dump({
        "name": "tiny", "objective": "share_states", "track": ["joined_EEE"],
        "space": {"content": {"openness": [0.3, 1.0], "restraint": [0.1, 0.9],
                              "control": [-1.0, -0.2]},
                  "keep": ["openness"], "bindingness": [0.0, 0.5]},
    }))
    return load_design(path, TINY, **SMALL)


def test_sampled_texts_stay_in_the_space(tiny_design):
    texts = sample(tiny_design, 64, seed=1)
    assert len(texts) == 64
    for text in texts:
        content = text["content"]
        assert 0.3 <= content["openness"] <= 1.0  # kept: always addressed
        assert content["restraint"] == 0 or 0.1 <= content["restraint"] <= 0.9
        assert content["control"] == 0 or -1.0 <= content["control"] <= -0.2
        assert 0.0 <= text["bindingness"] <= 0.5
        assert "state" in text["open_to"]  # the sponsor (AAA) is a state
    scopes = {tuple(v != 0 for v in t["content"].values()) for t in texts}
    assert len(scopes) == 4  # restraint and control each in and out of scope
    assert sample(tiny_design, 64, seed=1) == texts
    assert sample(tiny_design, 64, seed=2) != texts


def test_neighbours_change_one_thing(tiny_design):
    written = reference_text(tiny_design)
    assert written["content"] == {"openness": 0.9, "restraint": 0.3, "control": 0.0}
    for text in neighbours(tiny_design):
        changed = [d for d in written["content"] if text["content"][d] != written["content"][d]]
        changed += ["bindingness"] * (text["bindingness"] != written["bindingness"])
        changed += ["open_to"] * (text["open_to"] != written["open_to"])
        assert len(changed) == 1
        assert "openness" not in changed  # kept
    counts = plan_counts(tiny_design)
    assert counts["texts"] == 1 + len(neighbours(tiny_design)) + 6 + 3
    assert counts["runs"] == counts["texts"] * 3


def test_edits_are_new_and_inside_the_space(tiny_design):
    parents = [reference_text(tiny_design)]
    seen = {text_key(tiny_design, parents[0])}
    found = edits(tiny_design, parents, 20, seed=3, seen=seen)
    assert len(found) == 20 and len(seen) == 21
    for text in found:
        assert text != parents[0]
        assert 0.3 <= text["content"]["openness"] <= 1.0
        assert 0.0 <= text["bindingness"] <= 0.5
    assert edits(tiny_design, parents, 20, seed=3,
                 seen={text_key(tiny_design, parents[0])}) == found


# --- running --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def finished(tiny_design, tmp_path_factory):
    out = tmp_path_factory.mktemp("design")
    return out, quiet(tiny_design, out)


def test_design_runs_every_text_on_the_same_seeds(tiny_design, finished):
    out, result = finished
    texts = result.texts
    assert len(texts) == plan_counts(tiny_design)["texts"]
    assert (texts["runs"] == 3).all()
    tasks = pd.read_parquet(out / "tasks.parquet")
    seeds = tasks.groupby("point")["seed"].apply(tuple)
    assert seeds.nunique() == 1  # common random numbers
    written = texts.loc[result.reference]
    assert written["origin"] == "as written" and written["distance"] == 0
    assert written["versus_written"] == 0
    assert {"joined_EEE", "share_states", "share_gdp"} <= set(texts.columns)
    front = texts[texts["front"]]
    assert len(front) >= 1 and front["feasible"].all()
    best = texts["objective"].max()
    assert front["objective"].max() == best
    # support is the mean over the text's runs of its objective
    metrics = result.sweep.metrics
    mine = metrics[(metrics["metric"] == "share_states") & (metrics["at"] == "end")
                   & (metrics["proposal"] == "call")]
    means = mine.groupby("point")["value"].mean()
    assert np.allclose(texts["objective"], means.reindex(texts["text"]).to_numpy())


def test_design_resumes_after_an_interruption(tiny_design, finished, tmp_path, monkeypatch):
    _, complete = finished
    execute = sim.studies.sweep.execute
    calls = {"stage": 0}

    def dies_in_the_second_stage(*args, **kwargs):
        calls["stage"] += 1
        for done, (index, result) in enumerate(execute(*args, **kwargs)):
            if calls["stage"] == 2 and done == 1:
                raise KeyboardInterrupt
            yield index, result

    monkeypatch.setattr(sim.studies.sweep, "execute", dies_in_the_second_stage)
    with pytest.raises(KeyboardInterrupt):
        quiet(tiny_design, tmp_path)
    monkeypatch.setattr(sim.studies.sweep, "execute", execute)
    with pytest.raises(InputError, match="--resume"):
        quiet(tiny_design, tmp_path)
    resumed = quiet(tiny_design, tmp_path, resume=True)
    assert 0 < resumed.plan["runs_computed"] < complete.plan["runs_computed"]
    assert_frame_equal(resumed.texts, complete.texts)
    again = quiet(tiny_design, tmp_path, resume=True)
    assert again.plan["runs_computed"] == 0
    assert_frame_equal(again.texts, complete.texts)


def test_constraints_decide_the_front(tiny_design, finished, tmp_path):
    _, complete = finished
    texts = complete.texts
    limit = float(texts["bindingness"].median())
    bounded = load_design(None, TINY, constraints=[f"bindingness<={limit}"],
                          objective="share_states", **SMALL)
    assert bounded.constraints == [("bindingness", "<=", limit)]
    result = quiet(bounded, tmp_path)
    front = result.texts[result.texts["front"]]
    assert (front["bindingness"] <= limit + 1e-9).all()
    assert not result.texts.loc[result.texts["bindingness"] > limit + 1e-9, "feasible"].any()
    row = cheapest(texts, "share_states>=0")
    assert row is not None and row["distance"] == texts["distance"].min()
    assert cheapest(texts, "share_states>=2") is None


def test_design_command(tmp_path):
    args = ["design", TINY, "--samples", "2", "--rounds", "1", "--per-round", "2",
            "--replications", "2", "--track", "joined_EEE", "--backend", "serial",
            "--out", tmp_path]
    code, out, err = run_cli(*args, "--dry-run")
    assert code == 0, err
    assert "x 2 replications =" in out and "runs" in out
    code, out, err = run_cli(*args)
    assert code == 0, err
    assert "Pareto front of support against ambition" in out
    assert "runs/s" in out and "one-edit variants" in out
    assert "estimated" in err  # the run count and estimate come first
    for name in ("front.png", "front.pdf", "front.svg", "texts.csv", "front.md",
                 "design.json", "texts.yaml", "manifest.json"):
        assert (tmp_path / name).is_file(), name


# --- bad input ----------------------------------------------------------------------------

def write_spec(directory: Path, **data) -> Path:
    path = directory / "design.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("data, where", [
    ({"objective": "share_state"}, "design.yaml: objective: got 'share_state'"),
    ({"objective": "joined_XXX"}, "design.yaml: objective: got 'joined_XXX'"),
    ({"constraints": ["share_states>=0.5", "signers_stat>=3"]},
     "design.yaml: constraints.1: got 'signers_stat'"),
    ({"track": ["joined_eee"]}, "design.yaml: track.0: got 'joined_eee'"),
    ({"proposal": "cal"}, "design.yaml: proposal: got 'cal'"),
    ({"space": {"keep": ["opennes"]}}, "design.yaml: space.keep: got 'opennes'"),
    ({"space": {"content": {"openness": [0.2, 1.5]}}}, "design.yaml: space"),
    ({"space": {"bindingness": [0.5, 0.2]}}, "design.yaml: space"),
    ({"space": {"open_to": [["firm"]]}}, "design.yaml: space.open_to.0"),
    ({"at": "2030-01-01"}, "design.yaml: at: got '2030-01-01'"),
    ({"search": {"replications": 0}}, "design.yaml: search.replications"),
    ({"parameters": {"behaviour.state.nonsense": {"values": [1, 2]}}},
     "design.yaml: parameters.behaviour.state.nonsense"),
    ({"objectiv": "share_states"}, "design.yaml: objectiv"),
])
def test_bad_design_files_name_file_field_and_expectation(tmp_path, data, where):
    with pytest.raises(InputError) as error:
        load_design(write_spec(tmp_path, **data), TINY)
    message = str(error.value)
    assert where in message and "expected" in message
    assert len(error.value.problems) == 1


def test_unknown_metric_suggests_the_closest(tmp_path):
    with pytest.raises(InputError, match="did you mean 'share_states'"):
        load_design(None, TINY, objective="share_state")


@pytest.mark.parametrize("argv, message", [
    (["--objective", "share_state"], "--objective: got 'share_state'"),
    (["--constraint", "joined_EEE>0.5"], "--constraint: got 'joined_EEE>0.5'"),
    (["--constraint", "joined_AAA>=0.5", "--constraint", "joined_QQQ>=1"],
     "--constraint: got 'joined_QQQ'"),
    (["--replications", "0"], "--replications"),
    (["--at", "999"], "--at: got '999'"),
    (["--proposal", "nope"], "--proposal: got 'nope'"),
    (["--workers", "0"], "--workers: got '0'"),
    (["--spec", "/nonexistent/design.yaml"], "/nonexistent/design.yaml: --spec: expected an "
                                             "existing design file"),
])
def test_design_command_bad_arguments(argv, message):
    code, _, err = run_cli("design", TINY, "--dry-run", *argv)
    assert code == 2
    assert message in err and "expected" in err


def test_other_scenario_paths_join_the_search(tmp_path):
    """Any dotted scenario path can be searched with the text (as a sweep's parameters),
    e.g. how hard the sponsor campaigns."""
    path = write_spec(tmp_path, parameters={
        "proposals.call.outreach.push.budget": {"distribution": {"uniform": [0.0, 2.0]}},
        "behaviour.launch_rounds": {"values": [1, 3]}})
    study = load_design(path, TINY, samples=8, rounds=1, per_round=4, replications=2)
    assert reference_text(study)["parameters"] == {
        "proposals.call.outreach.push.budget": 0.5, "behaviour.launch_rounds": 2}
    texts = sample(study, 8, seed=0)
    budgets = [t["parameters"]["proposals.call.outreach.push.budget"] for t in texts]
    assert all(0.0 <= b <= 2.0 for b in budgets) and len(set(budgets)) == 8
    assert {t["parameters"]["behaviour.launch_rounds"] for t in texts} == {1, 3}
    result = quiet(study, tmp_path / "out")
    assert "proposals.call.outreach.push.budget" in result.texts.columns
    points = pd.read_parquet(tmp_path / "out" / "points.parquet")
    assert "proposals.call.outreach.push.budget" in points.columns


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "experiments")
                                        .glob("design_*.yaml")), ids=lambda p: p.stem)
def test_shipped_design_files_load(path):
    """experiments/design_*.yaml are valid for the baseline, and their first stage holds
    the text as written, its one-edit variants and the sampled texts."""
    study = load_design(path, Path(__file__).parents[1] / "scenarios" / "paris_call_2018.yaml")
    counts = plan_counts(study)
    search = study.spec.search
    assert counts["first_stage"] == 1 + len(neighbours(study)) + search.samples
    assert counts["runs"] == counts["texts"] * search.replications


@pytest.mark.parametrize("backend", ["process", pytest.param("dask", marks=pytest.mark.slow)])
def test_design_gives_the_same_texts_on_every_backend(tiny_design, finished, tmp_path,
                                                      backend):
    _, serial = finished
    parallel = quiet(tiny_design, tmp_path, backend=backend, workers=2)
    assert_frame_equal(parallel.texts, serial.texts)
