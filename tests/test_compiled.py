"""The compiled round gives the numpy kernel's digits: utilities bit for bit on arbitrary
worlds, and runs table for table; the noise is numpy's logistic draw to the last bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import compiled
from sim.decision import utility
from sim.model import NormDiplomacyModel
from sim.runs.record import TABLES
from sim.runs.runner import record_of, run_spec, spec_for
from sim.scenario.loading import with_overrides
from sim.studies.forecast import ForecastModel
from sim.world.build import build_world
from tests.conftest import ROOT, TINY
from tests.test_decision import CUE_GROUPS, WORLDS, randomise

#: the property test's cue groups: three leaders in one (a mean over 3 is inexact) and
#: three groups with leaders (the order of three additions counts)
GROUPS = {**CUE_GROUPS,
          "g20": {"members": {"member_of": ["g20"]}, "leaders_largest": 3, "cohesion": 0.9},
          "all": {"members": {}, "leaders": ["BBB", "EEE"], "cohesion": 0.45}}

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**WORLDS, zeros=st.sampled_from([0.0, 0.3]),
       non_adoption=st.sampled_from([None, 0.0]))
def test_compiled_utilities_equal_the_numpy_kernel_bit_for_bit(
        tiny_spec, seed, firms, civil, density, leaders, zeros, non_adoption):
    """Arbitrary worlds and states, coefficients partly 0 (the numpy kernel then skips
    the leader and cue terms): the same floats, all rows and a sorted subset."""
    spec = with_overrides(tiny_spec, {"world.firms.generated": firms,
                                      "world.civil.generated": civil,
                                      "blocs.east.leaders": leaders,
                                      "groups": GROUPS})
    world = build_world(spec, seed)
    rng = np.random.default_rng(seed)
    randomise(world, rng, density)
    world.coefficients[rng.random(world.coefficients.shape) < zeros] = 0.0
    if non_adoption is not None:
        world.non_adoption = non_adoption
    assert np.array_equal(compiled.utility(world), utility(world))
    rows = np.flatnonzero(rng.random(world.n_actors) < 0.3)
    assert np.array_equal(compiled.utility(world, rows), utility(world, rows))
    assert compiled.utility(world, rows[:0]).shape == (0, len(world.proposal_ids))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), shape=st.sampled_from([(1,), (7, 1), (50, 3), (4, 0)]))
def test_the_uniforms_give_numpys_logistic_draw_and_leave_the_stream_where_it_would(
        seed, shape):
    ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
    uniforms = compiled.logistic_from_uniforms(ours, shape)
    assert np.array_equal(_libm_logistic(uniforms), numpys.logistic(size=shape))
    assert ours.random() == numpys.random()  # the same number of draws taken


def _libm_logistic(uniforms: np.ndarray) -> np.ndarray:
    """log(u / (1 - u)) with the C library's log, one value at a time, as numpy's
    logistic draw computes it (numpy's vectorised log may differ in the last bit)."""
    import math
    return np.array([math.log(u / (1.0 - u)) for u in uniforms.ravel()]).reshape(
        uniforms.shape)


class _Stream:
    """A stand-in generator whose doubles are given, zeros included (a PCG64 stream
    yields 0.0 once in 2**53 draws)."""

    def __init__(self, values):
        self.values = list(values)

    def random(self, shape):
        count = int(np.prod(shape))
        taken, self.values = self.values[:count], self.values[count:]
        return np.array(taken, dtype=float).reshape(shape)


def test_a_zero_draw_is_skipped_as_numpy_redraws_it():
    stream = _Stream([0.5, 0.0, 0.25, 0.0, 0.0, 0.75, 0.125, 0.9])
    assert compiled.logistic_from_uniforms(stream, (2, 2)).tolist() == [
        [0.5, 0.25], [0.75, 0.125]]
    assert stream.values == [0.9]


def _tables(scenario, seed, decision, **overrides):
    spec = spec_for(TINY if scenario == "tiny" else ROOT / "scenarios" / scenario,
                    overrides or None)
    model = NormDiplomacyModel(spec, rng=seed, decision=decision)
    model.run_model()
    return record_of(model, TABLES).tables()


@pytest.mark.parametrize("scenario, overrides", [
    ("paris_call_2018.yaml", {}),
    ("competing_proposals.yaml", {}),           # rivals: two proposals, withdrawals
    ("negotiated_text.yaml", {}),               # revisions clear the text terms
    ("us_policy_shift_2021.yaml", {}),          # events change interests mid-run
    ("paris_call_2018.yaml", {"behaviour.non_adoption": 0.0}),
    ("tiny", {}),                               # no cue groups, named firms, rivals
])
def test_a_compiled_run_equals_a_numpy_run_table_for_table(scenario, overrides):
    for seed in (3, 11):
        fast = _tables(scenario, seed, "kernel", **overrides)
        plain = _tables(scenario, seed, "numpy", **overrides)
        for name in TABLES:
            pd.testing.assert_frame_equal(fast[name], plain[name], check_exact=True,
                                          obj=f"{scenario} seed {seed}: {name}")


def test_without_numba_the_kernel_runs_in_numpy(tiny_spec, monkeypatch):
    expected = run_spec(tiny_spec, 4, worlds=None).actors
    monkeypatch.setattr(compiled, "ENABLED", False)
    assert not compiled.available()
    pd.testing.assert_frame_equal(run_spec(tiny_spec, 4, worlds=None).actors, expected,
                                  check_exact=True)


def test_a_model_that_watches_every_round_is_not_compiled(tiny_spec, monkeypatch):
    """The forecast model reads each round's utilities: the compiled round, which does
    not call `utilities`, would leave its forecasts empty."""
    calls = []
    monkeypatch.setattr(compiled, "decide_rows",
                        lambda *args: calls.append(args))
    model = ForecastModel(tiny_spec, rng=2)
    model.run_model()
    assert not calls and model.log_unsigned.any()
    NormDiplomacyModel(tiny_spec, rng=2).run_model()
    assert calls


def test_an_unknown_decision_names_the_choices(tiny_spec):
    with pytest.raises(ValueError, match="'kernel', 'numpy' or 'reference'"):
        NormDiplomacyModel(tiny_spec, decision="fast")
