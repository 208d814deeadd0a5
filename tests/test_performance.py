"""What a run computes and what it skips: agents on demand, shared worlds, the kernel's
restricted products, phase timings. Results must stay exactly as they were."""

from __future__ import annotations

import mesa

from sim.agents import ActorAgent
from sim.model import NormDiplomacyModel


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
