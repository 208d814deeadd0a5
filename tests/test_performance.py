"""What a run computes and what it skips: agents on demand, shared worlds, the kernel's
restricted products, phase timings. Results must stay exactly as they were."""

from __future__ import annotations

import mesa
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from sim.agents import ActorAgent
from sim.model import NormDiplomacyModel
from sim.world.network import tie_sums


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


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), props=st.integers(1, 3),
       density=st.sampled_from([0.0, 0.05, 0.5]), share=st.floats(0.0, 1.0))
def test_tie_sums_equal_the_full_product_to_the_last_bit(seed, n, props, density, share):
    """The deciding rows' peer sums equal the rows of scipy's product exactly (==, not ≈)."""
    rng = np.random.default_rng(seed)
    ties = sparse.random(n, n, density=density, random_state=rng, format="coo")
    # parallel ties and weights of very different sizes make the order of addition show
    ties = sparse.coo_matrix((np.r_[ties.data, ties.data * 1e-9] * rng.uniform(0, 3),
                              (np.r_[ties.row, ties.row], np.r_[ties.col, ties.col])),
                             shape=(n, n)).tocsr()
    values = rng.random((n, props)) * (rng.random((n, props)) < 0.7)
    rows = np.flatnonzero(rng.random(n) < share)
    expected = np.asarray(ties @ values)[rows]
    np.testing.assert_array_equal(tie_sums(ties, rows, values), expected)


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
