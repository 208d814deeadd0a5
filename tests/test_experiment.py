"""Experiment specs (sim.studies.experiment): designs and their point counts, sampled values,
labels, validation errors, the max_runs guard, keyed seeds and run ids, and the
shipped experiments in experiments/*.yaml."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.errors import InputError
from sim.runs.runner import derive_seed
from sim.studies.calibration import _base_overrides, load_targets
from sim.studies.experiment import (
    design_points,
    factors,
    load_experiment,
    sensitivity_sample,
    spec_hash,
)
from sim.studies.sweep import _points_table, plan

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TINY = DATA / "tiny.yaml"
EXPERIMENTS = DATA / "experiments"
SHIPPED = sorted(p for p in (ROOT / "experiments").glob("*.yaml")
                 if not p.stem.startswith(("calibrate_", "design_")))
SHIPPED_TARGETS = sorted((ROOT / "experiments").glob("calibrate_*.yaml"))

BINDINGNESS = "proposals.call.bindingness"
THRESHOLD = "behaviour.state.threshold.mean"
TEMPERATURE = "behaviour.temperature"
OPEN_TO = "proposals.call.open_to"


def write_experiment(directory: Path, name: str = "exp", **fields) -> Path:
    """An experiment file on the tiny world (short runs); `fields` replace the defaults."""
    data = {"name": name, "scenario": str(TINY), "design": "grid", "replications": 2,
            "seed": 1, "constants": {"metadata.steps": 4},
            "parameters": {BINDINGNESS: {"values": [0.1, 0.5]}}}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def points_of(path: Path):
    spec, _ = load_experiment(path)
    return spec, design_points(spec)


UNIFORM = {"distribution": {"uniform": [0.1, 0.9]}}
LOGUNIFORM = {"distribution": {"loguniform": [0.01, 1.0]}}
CHOICE = {"distribution": {"choice": [0.05, 0.25, 0.75]}}


# --- designs: how many points ----------------------------------------------------------


def test_grid_is_the_product_of_the_parameter_values(tmp_path):
    """grid: one point per combination (values x range x choice), each exactly once."""
    path = write_experiment(tmp_path, parameters={
        BINDINGNESS: {"values": [0.1, 0.2, 0.3]},
        THRESHOLD: {"range": {"start": 0.2, "stop": 0.4, "step": 0.1}},
        TEMPERATURE: {"distribution": {"choice": [0.05, 0.1]}},
    })
    spec, points = points_of(path)
    assert len(points) == 3 * 3 * 2
    combos = [tuple(p.overrides[n] for n in (BINDINGNESS, THRESHOLD, TEMPERATURE))
              for p in points]
    expected = itertools.product([0.1, 0.2, 0.3], [0.2, 0.3, 0.4], [0.05, 0.1])
    assert sorted(combos) == sorted(expected)
    assert [p.index for p in points] == list(range(18))
    # constants are merged into every point
    assert all(p.overrides["metadata.steps"] == 4 for p in points)


@pytest.mark.parametrize("start, stop, step, expected", [
    (0.0, 1.0, 0.25, [0.0, 0.25, 0.5, 0.75, 1.0]),  # stop lands: inclusive
    (0.0, 1.0, 0.3, [0.0, 0.3, 0.6, 0.9]),  # stop does not land
    (0.1, 0.3, 0.1, [0.1, 0.2, 0.3]),  # floating-point steps still land on stop
    (0.5, 0.5, 0.1, [0.5]),
])
def test_range_values(tmp_path, start, stop, step, expected):
    """A range is start, start + step, ... up to stop, inclusive when stop lands."""
    path = write_experiment(tmp_path, parameters={
        THRESHOLD: {"range": {"start": start, "stop": stop, "step": step}}})
    _, points = points_of(path)
    assert [p.overrides[THRESHOLD] for p in points] == pytest.approx(expected, abs=1e-12)


def test_points_design_has_one_point_per_label_with_constants(tmp_path):
    """points: one point per entry, labelled by its key; point overrides beat constants."""
    path = write_experiment(tmp_path, design="points", parameters=None,
                            constants={"metadata.steps": 4, BINDINGNESS: 0.2},
                            points={"base": {}, "loose": {BINDINGNESS: 0.0},
                                    "strict": {BINDINGNESS: 0.9, THRESHOLD: 0.1}})
    spec, points = points_of(path)
    assert [p.label for p in points] == ["base", "loose", "strict"]
    assert [p.overrides[BINDINGNESS] for p in points] == [0.2, 0.0, 0.9]
    assert points[2].overrides == {"metadata.steps": 4, BINDINGNESS: 0.9, THRESHOLD: 0.1}
    assert len(plan(path)["tasks"]) == 3 * spec.replications


@pytest.mark.parametrize("design", ["lhs", "sobol_sequence", "halton"])
@pytest.mark.parametrize("samples", [1, 13, 16])
def test_sampled_designs_have_samples_points(tmp_path, design, samples):
    """lhs / sobol_sequence / halton: exactly `samples` points (also off powers of two)."""
    path = write_experiment(tmp_path, design=design, samples=samples,
                            parameters={THRESHOLD: UNIFORM, TEMPERATURE: LOGUNIFORM})
    _, points = points_of(path)
    assert len(points) == samples
    assert len({p.key for p in points}) == samples


@pytest.mark.parametrize("design", ["lhs", "sobol_sequence", "halton"])
def test_sampled_values_stay_inside_their_distributions(tmp_path, design):
    """uniform and ranges inside [low, high]; loguniform positive and inside; choices and
    `values` only take listed values; every value is a plain Python scalar."""
    path = write_experiment(tmp_path, design=design, samples=64, parameters={
        THRESHOLD: UNIFORM,
        TEMPERATURE: LOGUNIFORM,
        BINDINGNESS: CHOICE,
        "behaviour.state.peers": {"range": {"start": 0.2, "stop": 0.4, "step": 0.1}},
        "behaviour.state.cost": {"values": [0.5, 1.5]},
    })
    _, points = points_of(path)
    column = {name: np.array([p.overrides[name] for p in points]) for name in
              (THRESHOLD, TEMPERATURE, BINDINGNESS, "behaviour.state.peers",
               "behaviour.state.cost")}
    assert ((column[THRESHOLD] >= 0.1) & (column[THRESHOLD] <= 0.9)).all()
    assert (column[TEMPERATURE] > 0).all()
    assert ((column[TEMPERATURE] >= 0.01) & (column[TEMPERATURE] <= 1.0)).all()
    # log-uniform: about half the draws below the geometric midpoint 0.1
    assert 0.3 < np.mean(column[TEMPERATURE] < 0.1) < 0.7
    assert set(column[BINDINGNESS]) <= {0.05, 0.25, 0.75}
    assert len(set(column[BINDINGNESS])) == 3  # 64 draws reach every choice
    assert ((column["behaviour.state.peers"] >= 0.2) &
            (column["behaviour.state.peers"] <= 0.4)).all()
    assert set(column["behaviour.state.cost"]) == {0.5, 1.5}
    for point in points:
        for value in point.overrides.values():
            assert type(value) in (int, float), type(value)


@pytest.mark.parametrize("design", ["lhs", "sobol_sequence", "halton", "saltelli", "morris"])
def test_seeded_designs_are_identical_on_reload_and_change_with_the_seed(tmp_path, design):
    """The same file gives the same points; another `seed` gives other points."""
    fields = {"design": design, "samples": 8, "parameters": {THRESHOLD: UNIFORM,
                                                             TEMPERATURE: UNIFORM}}
    first = write_experiment(tmp_path, "a", seed=3, **fields)
    again = write_experiment(tmp_path, "b", seed=3, **fields)
    other = write_experiment(tmp_path, "c", seed=4, **fields)
    overrides = [[p.overrides for p in points_of(path)[1]] for path in (first, again, other)]
    assert overrides[0] == overrides[1]
    assert overrides[0] != overrides[2]


@pytest.mark.parametrize("samples, names, groups, expected", [
    (8, 3, None, 8 * (3 + 2)),
    (4, 2, None, 4 * (2 + 2)),
    (8, 3, {"g1": [0, 1], "g2": [2]}, 8 * (2 + 2)),
])
def test_saltelli_has_n_times_factors_plus_two_points(tmp_path, samples, names, groups,
                                                      expected):
    """saltelli (calc_second_order False): N x (factors + 2); with groups, factors = groups."""
    params = [THRESHOLD, TEMPERATURE, BINDINGNESS][:names]
    group_spec = ({g: [params[i] for i in members] for g, members in groups.items()}
                  if groups else None)
    path = write_experiment(tmp_path, design="saltelli", samples=samples, groups=group_spec,
                            parameters={p: UNIFORM for p in params})
    spec, points = points_of(path)
    assert factors(spec) == (len(groups) if groups else names)
    assert len(points) == expected
    values = np.array([[p.overrides[n] for n in params] for p in points])
    assert ((values >= 0.1) & (values <= 0.9)).all()


@pytest.mark.parametrize("samples, names, groups, expected", [
    (4, 3, None, 4 * (3 + 1)),
    (5, 2, None, 5 * (2 + 1)),
    (4, 3, {"g1": [0, 1], "g2": [2]}, 4 * (2 + 1)),
])
def test_morris_has_n_times_factors_plus_one_points(tmp_path, samples, names, groups,
                                                    expected):
    """morris: N trajectories of factors + 1 points; with groups, factors = groups."""
    params = [THRESHOLD, TEMPERATURE, BINDINGNESS][:names]
    group_spec = ({g: [params[i] for i in members] for g, members in groups.items()}
                  if groups else None)
    path = write_experiment(tmp_path, design="morris", samples=samples, groups=group_spec,
                            parameters={p: UNIFORM for p in params})
    spec, points = points_of(path)
    assert len(points) == expected
    assert len(sensitivity_sample(spec)) == expected
    values = np.array([[p.overrides[n] for n in params] for p in points])
    assert ((values >= 0.1 - 1e-12) & (values <= 0.9 + 1e-12)).all()


def test_sensitivity_points_follow_salibs_sample_order(tmp_path):
    """Point i carries row i of SALib's sample (the order its analyses expect)."""
    path = write_experiment(tmp_path, design="saltelli", samples=4,
                            parameters={THRESHOLD: UNIFORM, TEMPERATURE: UNIFORM})
    spec, points = points_of(path)
    sample = sensitivity_sample(spec)
    got = np.array([[p.overrides[THRESHOLD], p.overrides[TEMPERATURE]] for p in points])
    np.testing.assert_array_equal(got, sample)


# --- labels -----------------------------------------------------------------------------


def test_labels_of_non_scalar_values_appear_in_the_points_table(tmp_path):
    """A list-valued parameter shows its label in point columns, point labels and the
    points table; the overrides column keeps the real values as JSON."""
    path = write_experiment(tmp_path, parameters={
        OPEN_TO: {"values": [["state"], ["state", "firm"]], "labels": ["states", "states_firms"]},
        BINDINGNESS: {"values": [0.1]},
    })
    spec, points = points_of(path)
    assert [p.columns[OPEN_TO] for p in points] == ["states", "states_firms"]
    assert [p.label for p in points] == ["open_to=states, bindingness=0.1",
                                         "open_to=states_firms, bindingness=0.1"]
    table = _points_table(spec, points)
    assert list(table[OPEN_TO]) == ["states", "states_firms"]
    assert json.loads(table["overrides"][1])[OPEN_TO] == ["state", "firm"]


def test_unlabelled_non_scalar_values_show_as_json(tmp_path):
    """Without labels, a mapping value is shown as sorted JSON (a single Parquet type)."""
    content = [{"openness": 0.9}, {"restraint": 0.5, "openness": 0.2}]
    path = write_experiment(tmp_path, parameters={"proposals.call.content": {"values": content}})
    spec, points = points_of(path)
    table = _points_table(spec, points)
    assert list(table["proposals.call.content"]) == [
        json.dumps(content[0], sort_keys=True), json.dumps(content[1], sort_keys=True)]


# --- validation -------------------------------------------------------------------------

P2 = {THRESHOLD: UNIFORM, TEMPERATURE: UNIFORM}
INVALID = {
    "missing parameters": ({"parameters": {}}, "parameters"),
    "values and range": ({"parameters": {BINDINGNESS: {
        "values": [0.1], "range": {"start": 0, "stop": 1, "step": 0.5}}}},
        f"parameters.{BINDINGNESS}"),
    "range and distribution": ({"parameters": {BINDINGNESS: {
        "range": {"start": 0, "stop": 1, "step": 0.5}, **UNIFORM}}},
        f"parameters.{BINDINGNESS}"),
    "none of values/range/distribution": ({"parameters": {BINDINGNESS: {}}},
                                          f"parameters.{BINDINGNESS}"),
    "labels length": ({"parameters": {BINDINGNESS: {"values": [0.1, 0.2], "labels": ["a"]}}},
                      f"parameters.{BINDINGNESS}"),
    "labels without values": ({"parameters": {BINDINGNESS: {**UNIFORM, "labels": ["a"]}}},
                              f"parameters.{BINDINGNESS}"),
    "groups name unknown parameter": ({"design": "saltelli", "samples": 4, "parameters": P2,
                                       "groups": {"a": [THRESHOLD, "behaviour.nope"],
                                                  "b": [TEMPERATURE]}}, "groups"),
    "groups leave one out": ({"design": "saltelli", "samples": 4, "parameters": P2,
                              "groups": {"a": [THRESHOLD]}}, "groups"),
    "lhs without samples": ({"design": "lhs", "parameters": P2}, "samples"),
    "sobol_sequence without samples": ({"design": "sobol_sequence", "parameters": P2},
                                       "samples"),
    "halton without samples": ({"design": "halton", "parameters": P2}, "samples"),
    "saltelli without samples": ({"design": "saltelli", "parameters": P2}, "samples"),
    "morris without samples": ({"design": "morris", "parameters": P2}, "samples"),
    "points without points": ({"design": "points"}, "points"),
    "two distributions": ({"parameters": {THRESHOLD: {"distribution": {
        "uniform": [0, 1], "choice": [1]}}}}, f"parameters.{THRESHOLD}.distribution"),
    "uniform low >= high": ({"parameters": {THRESHOLD: {"distribution": {"uniform": [1, 0]}}}},
                            f"parameters.{THRESHOLD}.distribution"),
    "loguniform not positive": ({"parameters": {THRESHOLD: {"distribution": {
        "loguniform": [0, 1]}}}}, f"parameters.{THRESHOLD}.distribution"),
    "empty choice": ({"parameters": {THRESHOLD: {"distribution": {"choice": []}}}},
                     f"parameters.{THRESHOLD}.distribution"),
    "range step 0": ({"parameters": {THRESHOLD: {"range": {"start": 0, "stop": 1, "step": 0}}}},
                     f"parameters.{THRESHOLD}.range.step"),
    "unknown design": ({"design": "gird"}, "design"),
    "replications 0": ({"replications": 0}, "replications"),
    "missing scenario file": ({"scenario": "no_such_scenario.yaml"}, "scenario"),
}

@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_experiment_raises_input_error_naming_file_and_field(tmp_path, case):
    """Every rule violation is an InputError whose message names the file and the field."""
    fields, field = INVALID[case]
    path = write_experiment(tmp_path, "broken", **fields)
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert str(path) in message
    assert field in message
    assert all(p.file == str(path) for p in caught.value.problems)


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_experiment_problem_has_the_field(tmp_path, case):
    """The Problem's `field` itself (not only the prose) is the offending field."""
    fields, field = INVALID[case]
    path = write_experiment(tmp_path, "broken", **fields)
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    assert any(p.field.startswith(field) for p in caught.value.problems), [
        p.field for p in caught.value.problems]


@pytest.mark.parametrize("key, suggestion, field", [
    ("replicatons", "replications", "replicatons"),
    ("parameter", "parameters", "parameter"),
])
def test_unknown_key_suggests_the_right_one(tmp_path, key, suggestion, field):
    """A misspelt top-level key: InputError with file, field and a did-you-mean."""
    path = write_experiment(tmp_path, "typo", **{key: 3})
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert str(path) in message and field in message
    assert f"did you mean {suggestion!r}" in message


def test_unknown_key_inside_a_parameter_suggests_the_right_one(tmp_path):
    path = write_experiment(tmp_path, "typo", parameters={BINDINGNESS: {"valeus": [0.1]}})
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert f"parameters.{BINDINGNESS}.valeus" in message
    assert "did you mean 'values'" in message


def test_max_runs_guards_the_design(tmp_path):
    """More runs than max_runs: plan() raises an InputError naming the file and max_runs
    and the run count; at the limit it plans."""
    fields = {"parameters": {BINDINGNESS: {"values": [0.1, 0.2, 0.3]}}, "replications": 4}
    over = write_experiment(tmp_path, "over", max_runs=11, **fields)
    with pytest.raises(InputError) as caught:
        plan(over)
    message = str(caught.value)
    assert str(over) in message and "max_runs" in message and "12" in message
    exact = write_experiment(tmp_path, "exact", max_runs=12, **fields)
    assert len(plan(exact)["tasks"]) == 12


@pytest.mark.parametrize("parameter", [{"range": {"start": 0.9, "stop": 0.1, "step": 0.1}},
                                       {"values": []}], ids=["backwards range", "no values"])
def test_a_parameter_without_values_is_an_input_error(tmp_path, parameter):
    """A parameter that contributes no value (so a grid with no points) is bad input."""
    path = write_experiment(tmp_path, parameters={BINDINGNESS: parameter})
    with pytest.raises(InputError) as caught:
        plan(path)
    assert str(path) in str(caught.value) and BINDINGNESS in str(caught.value)


def test_spec_hash_changes_with_the_spec_and_not_with_formatting(tmp_path):
    """spec_hash: equal for the same content, different when anything changes."""
    a, _ = load_experiment(write_experiment(tmp_path, "a"))
    b, _ = load_experiment(write_experiment(tmp_path, "b"))
    c, _ = load_experiment(write_experiment(tmp_path, "c", replications=3))
    assert spec_hash(a) != spec_hash(b)  # the name is part of the spec
    assert spec_hash(b.model_copy(update={"name": "a"})) == spec_hash(a)
    assert spec_hash(c.model_copy(update={"name": "a"})) != spec_hash(a)


# --- seeds and run ids ------------------------------------------------------------------


def tasks_of(path: Path):
    planned = plan(path)
    points = {p.index: p for p in planned["points"]}
    return planned, {(json.dumps(points[t.point].overrides, sort_keys=True), t.replicate): t
                     for t in planned["tasks"]}


def test_growing_a_grid_keeps_seeds_and_run_ids_of_existing_points(tmp_path):
    """Seeds are keyed by the point's overrides, not its position: inserting a value in
    the middle of a grid (and adding replications) changes no existing seed or run id."""
    small = write_experiment(tmp_path, "small", parameters={
        BINDINGNESS: {"values": [0.1, 0.5]}, THRESHOLD: {"values": [0.2, 0.6]}})
    grown = write_experiment(tmp_path, "grown", replications=3, parameters={
        BINDINGNESS: {"values": [0.1, 0.3, 0.5]}, THRESHOLD: {"values": [0.2, 0.4, 0.6]}})
    planned_small, before = tasks_of(small)
    planned_grown, after = tasks_of(grown)
    assert len(before) == 8 and len(after) == 27
    for key, task in before.items():
        assert after[key].seed == task.seed
        assert after[key].run_id == task.run_id
    # the positions did move, so the match above is by key, not by index
    moved = [key for key, task in before.items() if after[key].point != task.point]
    assert moved


def test_seed_of_a_replicate_is_derive_seed_of_the_point_key(tmp_path):
    """Replicate r of a point: derive_seed(root seed, point key, r)."""
    planned = plan(write_experiment(tmp_path, seed=42))
    for task in planned["tasks"]:
        point = planned["points"][task.point]
        assert task.seed == derive_seed(42, point.key, task.replicate)


def test_common_random_numbers_share_replicate_seeds_across_points(tmp_path):
    """With common_random_numbers every point runs on the same seeds, replicate by
    replicate (derive_seed(root, "", r)); without, seeds differ between points."""
    params = {BINDINGNESS: {"values": [0.1, 0.5, 0.9]}}
    crn = plan(write_experiment(tmp_path, "crn", seed=8, replications=3,
                                common_random_numbers=True, parameters=params))
    seeds = {(t.point, t.replicate): t.seed for t in crn["tasks"]}
    for replicate in range(3):
        assert {seeds[(p, replicate)] for p in range(3)} == {derive_seed(8, "", replicate)}
    assert len(set(seeds.values())) == 3
    independent = plan(write_experiment(tmp_path, "ind", seed=8, replications=3,
                                        parameters=params))
    assert len({t.seed for t in independent["tasks"]}) == 9


@pytest.mark.parametrize("crn", [False, True])
def test_run_ids_differ_between_points_and_replicates(tmp_path, crn):
    """Every task of a design has its own run id (with or without shared seeds)."""
    planned = plan(write_experiment(tmp_path, common_random_numbers=crn, replications=3,
                                    parameters={BINDINGNESS: {"values": [0.1, 0.5]},
                                                THRESHOLD: {"values": [0.2, 0.6]}}))
    ids = [t.run_id for t in planned["tasks"]]
    assert len(ids) == 12 and len(set(ids)) == 12


def test_seeds_are_non_negative_63_bit_integers(tmp_path):
    """derive_seed and the planned seeds are ints in [0, 2**63)."""
    seeds = [derive_seed(root, key, r) for root in (0, 1, 2**40)
             for key in ("", "a", "0123456789abcdef") for r in range(50)]
    planned = plan(write_experiment(tmp_path, design="lhs", samples=20, replications=5,
                                    parameters={THRESHOLD: UNIFORM}))
    seeds += [t.seed for t in planned["tasks"]]
    assert all(type(s) is int and 0 <= s < 2**63 for s in seeds)
    assert len(set(seeds)) == len(seeds)


def test_derive_seed_depends_on_root_key_and_replicate():
    base = derive_seed(1, "k", 0)
    assert derive_seed(1, "k", 0) == base
    assert len({base, derive_seed(2, "k", 0), derive_seed(1, "j", 0),
                derive_seed(1, "k", 1)}) == 4


# --- shipped experiments ----------------------------------------------------------------


def _plan_params():
    for path in SHIPPED:
        marks = [pytest.mark.slow] if path.stem == "sensitivity" else []  # 1,536 points
        yield pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("path", list(_plan_params()))
def test_shipped_experiment_plans_within_max_runs(path):
    """experiments/*.yaml load, resolve every point's scenario and fit their max_runs;
    run ids are unique."""
    planned = plan(path)
    spec = planned["spec"]
    assert len(planned["tasks"]) == len(planned["points"]) * spec.replications
    assert len(planned["tasks"]) <= spec.max_runs
    assert len({t.run_id for t in planned["tasks"]}) == len(planned["tasks"])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_experiment_design_size(path):
    """The design's run count (without resolving scenarios) is within max_runs, and a
    sensitivity design has the documented N x (factors + 2) points."""
    spec, scenario = load_experiment(path)
    assert scenario.is_file()
    points = design_points(spec)
    assert len(points) * spec.replications <= spec.max_runs
    if spec.design == "saltelli":
        assert len(points) == spec.samples * (factors(spec) + 2)
    if spec.design == "grid":
        assert len(points) == math.prod(len(p.grid()) for p in spec.parameters.values())


@pytest.mark.parametrize("path", SHIPPED_TARGETS, ids=lambda p: p.stem)
def test_shipped_calibration_targets_load(path):
    """The calibration file is a targets file: it loads with load_targets, its actors are
    states of its scenario and its ranges are proper."""
    calibration, scenario = load_targets(path)
    assert scenario.is_file()
    assert (calibration.targets or calibration.outcomes) and calibration.parameters
    base = _base_overrides(calibration, scenario)  # raises for unknown actors
    assert base["metadata.steps"] >= 1
    assert all(low < high for low, high in calibration.parameters.values())
    with pytest.raises(InputError):
        load_experiment(path)
