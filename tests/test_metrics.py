"""Metrics on hand-built worlds whose right answers can be worked out on paper."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.metrics import effective_number, jaccard, polarisation, run_metrics, tipping_step
from sim.model import NormDiplomacyModel
from sim.runs.runner import run_spec
from sim.scenario.loading import load_scenario
from tests.conftest import DATA

STATES = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]


def granovetter_chain(n_steps: int = 10):
    """Six states, all tied to each other, who care only about peers.

    Thresholds are set so that state k signs once k others have: state 0 has a
    negative threshold (signs at launch), state k has theta = (k - 0.5) / 5. With
    synchronous updating exactly one more state signs each step.
    """
    events = {
        f"threshold_{iso3.lower()}": {"at": 1, "select": {"iso3": [iso3]},
                                      "threshold": {"set": (k - 0.5) / 5}}
        for k, iso3 in enumerate(STATES)
    }
    zero = {t: 0.0 for t in ("align", "cost", "leader", "momentum", "home", "federated",
                             "outreach", "rival")}
    return load_scenario({
        "metadata": {"name": "chain", "start": "2020-01-06", "steps": n_steps, "seed": 1},
        "report": {"checkpoints": [3], "swing_states": ["EEE"]},
        "dimensions": {"openness": "the only dimension"},
        "blocs": {"all": {"members": {}, "leaders": []},
                  },
        "world": {"states": {"roster": "tiny_states.csv"},
                  "network": {"same_bloc": 1.0}},
        "proposals": {"pact": {"content": {"openness": 1.0}, "open_to": ["state"]}},
        "behaviour": {"temperature": 0.0,
                      "state": {**zero, "peers": 1.0, "activation": 1.0, "hysteresis": 0.0,
                                "threshold": {"mean": 0.0, "sd": 0.0}}},
        "events": events,
    }, base_dir=DATA)


def test_granovetter_chain_signs_one_state_per_step():
    model = NormDiplomacyModel(granovetter_chain(), rng=1)
    counts = []
    for _ in range(8):
        model.step()
        counts.append(int(model.world.signed[:, 0].sum()))
    assert counts == [1, 2, 3, 4, 5, 6, 6, 6]
    order = [int(model.world.signed_step[model.world.index_of[s], 0]) for s in STATES]
    assert order == [1, 2, 3, 4, 5, 6]


def test_granovetter_chain_metrics():
    record = run_spec(granovetter_chain(), 1)
    metrics = record.metrics.set_index(["proposal", "metric", "at"])["value"]
    # tipping point: ceil(6 / 3) = 2 state signers, first reached at step 2
    assert metrics[("pact", "tipping_step", "end")] == 2
    # checkpoint step 3 = 2020-01-20: AAA, BBB and CCC have signed
    assert metrics[("pact", "signers_state", "2020-01-20")] == 3
    assert metrics[("pact", "share_states", "2020-01-20")] == pytest.approx(0.5)
    assert metrics[("pact", "joined_EEE", "2020-01-20")] == 0
    assert metrics[("pact", "joined_EEE", "end")] == 1
    gdp = np.array([2e12, 1.5e12, 5e11, 1e13, 2e12, 2e13])
    assert metrics[("pact", "share_gdp", "2020-01-20")] == pytest.approx(gdp[:3].sum() / gdp.sum())
    assert metrics[("pact", "polarisation", "end")] == 0  # one bloc
    assert metrics[("pact", "withdrawals", "end")] == 0


def test_breaking_the_chain_stops_the_cascade():
    """Raise state 2's threshold beyond reach: the cascade stops at two signers."""
    spec = granovetter_chain()
    from sim.scenario.loading import with_overrides

    spec = with_overrides(spec, {"events.threshold_ccc.threshold.set": 5.0})
    record = run_spec(spec, 1)
    metrics = record.metrics.set_index(["proposal", "metric", "at"])["value"]
    assert metrics[("pact", "signers_state", "end")] == 2
    assert metrics[("pact", "tipping_step", "end")] == 2


def test_tipping_step_never_reached_is_nan():
    assert math.isnan(tipping_step(np.array([0, 1, 1]), np.array([1, 2, 3]), 193))
    assert tipping_step(np.array([10, 64, 65]), np.array([1, 2, 3]), 193) == 3


def test_effective_number_and_jaccard():
    assert effective_number(np.array([10, 0])) == 1
    assert effective_number(np.array([5, 5])) == 2
    assert effective_number(np.array([2, 1, 1])) == pytest.approx(1 / (0.25 + 0.0625 * 2))
    assert math.isnan(effective_number(np.array([0, 0])))
    a = np.array([1, 1, 0, 0], bool)
    b = np.array([0, 1, 1, 0], bool)
    assert jaccard(a, b) == pytest.approx(1 / 3)


def test_polarisation_by_hand():
    signed = np.array([1, 1, 0, 0, 1, 0], bool)
    bloc = np.array([0, 0, 1, 1, 2, 2])
    # shares: bloc 0 = 1, bloc 1 = 0, bloc 2 = 0.5
    assert polarisation(signed, bloc, 3) == 1.0
    assert polarisation(signed, bloc, 4) == 1.0  # an empty bloc is ignored


def test_vote_tallies_and_cross_proposal_metrics(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=3)
    model.run_model()
    metrics = run_metrics(model).set_index(["proposal", "metric", "at"])["value"]
    votes = model.world.votes[:, 1]
    assert metrics[("code", "vote_yes", "end")] == (votes == 1).sum()
    assert metrics[("code", "vote_no", "end")] == (votes == -1).sum()
    assert sum(metrics[("code", f"vote_{v}", "end")] for v in ("yes", "abstain", "no")) == 6
    counts = model.world.signed.sum(axis=0)
    assert metrics[("*", "fragmentation", "end")] == pytest.approx(effective_number(counts))
    assert metrics[("call|code", "jaccard", "end")] == pytest.approx(
        jaccard(model.world.signed[:, 0], model.world.signed[:, 1]))
