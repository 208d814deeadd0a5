"""What a run computes and what it skips: agents on demand, shared worlds, the kernel's
restricted products, phase timings. Results must stay exactly as they were."""

from __future__ import annotations

import mesa
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

from sim.agents import ActorAgent
from sim.decision import utility
from sim.model import NormDiplomacyModel
from sim.scenario.loading import with_overrides
from sim.world.build import build_world
from tests.test_decision import randomise


def test_a_run_builds_no_mesa_agents(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=1)
    model.run_model()
    assert model._actors is None
    assert len(mesa.Model.agents.fget(model)) == 0  # Mesa's own registry stayed empty


def test_agents_appear_on_first_access_in_row_order(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=1)
    agents = model.agents
    assert len(agents) == model.world.n_actors
    assert [a.unique_id for a in model.actors] == list(range(1, model.world.n_actors + 1))
    assert [a.index for a in model.actors] == list(range(model.world.n_actors))
    assert all(isinstance(a, ActorAgent) for a in agents)
    assert model.agents is agents and len(model.agents) == model.world.n_actors  # built once
    assert sum(len(s) for s in model.agents_by_type.values()) == model.world.n_actors


def test_an_agent_view_builds_them_too(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=1)
    state = model.actors[model.world.index_of["FFF"]]
    assert state.iso3 == "FFF"
    assert len(model.agents) == model.world.n_actors


def test_the_per_agent_reference_builds_them_when_it_first_steps(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=1, decision="reference")
    assert model._actors is None
    model.step()
    assert len(model.actors) == model.world.n_actors


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), firms=st.integers(0, 30), civil=st.integers(0, 30),
       density=st.sampled_from([0.0, 0.05, 0.5]), share=st.floats(0.0, 1.0))
def test_utilities_of_the_deciding_rows_equal_the_full_kernel_to_the_last_bit(
        tiny_spec, seed, firms, civil, density, share):
    """A step computes only the deciding actors: their values must be exactly (==) the
    rows of the all-actor kernel, or runs would change with who happens to decide."""
    spec = with_overrides(tiny_spec, {"world.firms.generated": firms,
                                      "world.civil.generated": civil})
    world = build_world(spec, seed)
    rng = np.random.default_rng(seed)
    randomise(world, rng, density)
    # parallel ties of very different weights make any change in the order of sums show
    ties = world.network.tocoo()
    world.network = sparse.coo_matrix(
        (np.r_[ties.data, ties.data * 1e-9], (np.r_[ties.row, ties.row],
                                              np.r_[ties.col, ties.col])),
        shape=ties.shape).tocsr()
    world.peer_norm = np.asarray(world.network @ world.eligible.astype(float))
    rows = np.flatnonzero(rng.random(world.n_actors) < share)
    np.testing.assert_array_equal(utility(world, rows), utility(world)[rows])


def test_step_series_equal_what_a_per_step_collect_gathers(tiny_spec):
    """The DataCollector filled from the History == Mesa collecting every step."""
    import pandas as pd

    model = NormDiplomacyModel(tiny_spec, rng=4)
    live = mesa.DataCollector(model_reporters=model.datacollector.model_reporters)
    for _ in range(8):
        model.step()
        live.collect(model)
    series = model.datacollector
    assert series._collection_steps == live._collection_steps
    assert series.model_vars == live.model_vars
    pd.testing.assert_frame_equal(series.get_model_vars_dataframe(),
                                  live.get_model_vars_dataframe(), check_exact=True)
    model.step()  # read again later: the new step is there too
    assert len(series.get_model_vars_dataframe()) == 9
