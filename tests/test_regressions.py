"""Bugs found in review, each pinned by the test that failed before its fix."""

from __future__ import annotations

import shutil

import pytest
import yaml

from sim.errors import InputError
from sim.runs.runner import run_spec, spec_for
from sim.scenario.loading import load_scenario, with_overrides
from sim.world.build import build_world
from tests.conftest import DATA, TINY


def test_a_bloc_rule_may_use_cyber_power(tiny_spec):
    """Blocs were assigned before cyber power existed: KeyError 'cyber_power'."""
    spec = with_overrides(tiny_spec, {"blocs.west.members": {"where": {"cyber_power":
                                                                       {"min": 0.5}}}})
    world = build_world(spec, 1)
    west = world.bloc_ids.index("west")
    strong = world.cyber_power[world.slices["state"]] >= 0.5
    assert ((world.bloc[world.slices["state"]] == west) == strong).all()


@pytest.mark.parametrize(("dotted", "value", "field"), [
    ("events.warming.at", "2019-06-03", "events.warming.at"),
    ("proposals.code.un_vote.at", "2019-12-30", "proposals.code.un_vote.at"),
    ("report.checkpoints", ["2019-01-07"], "report.checkpoints.0"),
    ("proposals.call.outreach.push.end", "2019-12-30", "proposals.call.outreach.push.end"),
])
def test_times_that_could_never_take_effect_are_errors(dotted, value, field):
    """A time before the start (or a campaign ending before it starts) was silently
    ignored: an event that never fired, a checkpoint that never appeared."""
    with pytest.raises(InputError) as caught:
        load_scenario(TINY, {dotted: value})
    assert [p.field for p in caught.value.problems] == [field]


def test_spec_cache_follows_an_edited_file(tmp_path):
    """spec_for kept returning the old spec (and run id) after the file changed."""
    for name in ("tiny.yaml", "tiny_states.csv", "tiny_firms.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    path = tmp_path / "tiny.yaml"
    before = spec_for(path)
    data = yaml.safe_load(path.read_text())
    data["proposals"]["call"]["bindingness"] = 0.9
    path.write_text(yaml.safe_dump(data))
    after = spec_for(path)
    assert before.proposals["call"].bindingness == 0.1
    assert after.proposals["call"].bindingness == 0.9


def test_roster_cache_follows_an_edited_table(tmp_path):
    """The roster was cached by path only: new data, stale world."""
    from sim.data.roster import load_states

    shutil.copy(DATA / "tiny_states.csv", tmp_path / "roster.csv")
    first = load_states(str(tmp_path / "roster.csv"))
    text = (tmp_path / "roster.csv").read_text().replace("Avalon", "Avalonia")
    (tmp_path / "roster.csv").write_text(text)
    assert "Avalonia" in set(load_states(str(tmp_path / "roster.csv")).frame["name"])
    assert "Avalon" in set(first.frame["name"])


def test_repr_of_a_run_without_its_steps_table(tiny_spec):
    """repr(RunRecord) raised KeyError 'step' when sweeps keep only metrics."""
    record = run_spec(tiny_spec, 1, tables=("metrics",))
    assert "steps=20" in repr(record)


def test_saltelli_needs_uniform_parameters(tmp_path):
    """A loguniform parameter was sampled uniformly by SALib without a word."""
    from sim.studies.experiment import load_experiment

    path = tmp_path / "sa.yaml"
    path.write_text(yaml.safe_dump({
        "name": "sa", "scenario": str(TINY), "design": "saltelli", "samples": 4,
        "parameters": {"behaviour.state.peers": {"distribution": {"loguniform": [0.01, 1]}}},
    }))
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    assert caught.value.problems[0].field == "parameters.behaviour.state.peers"


def test_a_misspelled_metric_in_an_experiment_is_an_error(tmp_path):
    """metrics: [signers_sate] kept nothing at all."""
    from sim.studies.sweep import sweep

    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump({
        "name": "grid", "scenario": str(TINY), "design": "grid", "replications": 1,
        "parameters": {"proposals.call.bindingness": {"values": [0.1]}},
        "metrics": ["signers_sate"],
    }))
    with pytest.raises(InputError) as caught:
        sweep(path, tmp_path / "out", backend="serial", quiet=True, log=lambda line: None)
    assert caught.value.problems[0].field == "metrics.0"
    assert "signers_state" in caught.value.problems[0].expected


def test_calibration_targets_that_observe_nothing_are_errors(tmp_path):
    """A misspelled target metric scored NaN for every candidate, silently."""
    from sim.studies.calibration import calibrate

    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump({
        "name": "t", "compiled": "2026-11-26", "scenario": str(TINY), "replications": 2,
        "search": {"explore": {"candidates": 1, "replications": 1},
                   "refine": {"candidates": 1, "replications": 1, "rounds": 1}},
        "parameters": {"behaviour.state.peers": [0.0, 1.0]},
        "targets": [
            {"metric": "signers_state", "proposal": "call", "at": "2020-01-06", "value": 5,
             "tolerance": 1, "source": "made up"},
            {"metric": "signers_sate", "proposal": "call", "at": "2020-01-06", "value": 5,
             "tolerance": 1, "source": "made up"},
        ],
    }))
    with pytest.raises(InputError) as caught:
        calibrate(path, backend="serial", log=lambda line: None)
    assert [p.field for p in caught.value.problems] == ["targets.1"]


def test_backwards_calibration_range_names_its_parameter(tmp_path):
    """The error printed the whole file instead of the parameter."""
    from sim.studies.calibration import load_targets

    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump({
        "name": "t", "compiled": "2026-11-26", "scenario": str(TINY),
        "parameters": {"behaviour.state.peers": [1.0, 0.0]},
        "targets": [{"metric": "signers_state", "proposal": "call", "at": 1, "value": 5,
                     "tolerance": 1, "source": "made up"}],
    }))
    with pytest.raises(InputError) as caught:
        load_targets(path)
    assert caught.value.problems[0].field == "parameters.behaviour.state.peers"
