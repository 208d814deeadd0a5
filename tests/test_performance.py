"""What a run computes and what it skips: agents on demand, shared worlds, the kernel's
restricted products, phase timings. Results must stay exactly as they were."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

from sim.agents import ActorAgent
from sim.decision import utility
from sim.model import NormDiplomacyModel
from sim.runs.runner import run_spec
from sim.scenario.loading import with_overrides
from sim.world.build import build_world, structure_key
from sim.world.cache import WorldCache, structure_bytes
from sim.world.network import tie_sums
from tests.conftest import DATA
from tests.test_decision import CUE_GROUPS, randomise


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
                                      "world.civil.generated": civil, "groups": CUE_GROUPS})
    world = build_world(spec, seed)
    rng = np.random.default_rng(seed)
    randomise(world, rng, density)  # every term, signals of non-adoption, cue groups
    world.coefficients[rng.random(world.coefficients.shape) < 0.3] = 0.0  # some unheeded
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


# --- no world built twice ------------------------------------------------------------


def _same_tables(first, second):
    import pandas as pd

    for name, table in first.tables().items():
        pd.testing.assert_frame_equal(table, second.tables()[name], check_exact=True)


def test_runs_sharing_a_world_give_the_tables_of_worlds_drawn_afresh(tiny_spec):
    """Behaviour and proposals differ, the world is drawn once; results as if it were not.

    The tiny scenario's event changes interests and a threshold mid-run: a shared
    structure must not carry that into the next run."""
    variants = [tiny_spec, with_overrides(tiny_spec, {"behaviour.state.peers": 0.9,
                                                       "behaviour.firm.threshold.mean": 0.2,
                                                       "proposals.call.bindingness": 0.7})]
    cache = WorldCache()
    for _ in range(3):
        for spec in variants:
            for seed in (1, 2):
                _same_tables(run_spec(spec, seed, worlds=cache),
                             run_spec(spec, seed, worlds=None))
    assert cache.built == 2 and cache.reused == 10  # each world drawn once
    assert len(cache) == 2


#: the tiny scenario with every mechanism that reads or writes per-run state switched on
EVERYTHING = {
    "groups": CUE_GROUPS,
    "world.states.capacity": {"base": 0.1, "democracy": 0.5},
    "world.states.regime": {"member_of.nato": 1.0},
    "proposals.call.ties": {"member_of.g20": 0.8},
    "proposals.call.regime": 1.0,
    "proposals.call.launch_reach": {"base": 0.5},
    "behaviour.non_adoption": 0.7,
    "behaviour.state.cue": 0.5, "behaviour.state.capacity": 0.3,
    "behaviour.state.regime": 0.4, "behaviour.state.ties": 0.6,
    "proposals.code.un_vote.two_stage": True, "proposals.code.un_vote.hedge": 0.2,
    "proposals.call.negotiation": {
        "rounds": {"before_launch": 1, "every": 4}, "consult": {"kind": "state"},
        "content": {"restraint": {"min": 0.0, "max": 1.0}, "control": {"min": -0.5,
                                                                       "max": 0.5}},
        "bindingness": {"min": 0.0, "max": 0.5}, "candidates": 50},
    "positions.socialisation.rate": 0.1,
    "positions.persuasion": {"rate": 0.2, "dimensions": {"call": ["openness"]}},
}


def test_every_mechanism_on_a_shared_world_gives_the_tables_of_one_drawn_afresh(tiny_spec):
    """Negotiation rewrites a text and moving positions rewrite interests mid-run; cue
    groups, sponsor ties and launch lists are set from the scenario: none of it may leak
    from one run into the next through a shared structure, or differ from a world drawn
    afresh."""
    spec = with_overrides(tiny_spec, EVERYTHING)
    other = with_overrides(spec, {"proposals.call.ties": {"member_of.nato": -0.5},
                                  "behaviour.state.cue": 0.9})
    cache = WorldCache()
    for _ in range(2):
        for variant in (spec, other):
            record = run_spec(variant, 3, worlds=cache)
            _same_tables(record, run_spec(variant, 3, worlds=None))
    assert cache.built == 1 and cache.reused == 3
    assert len(record.texts) and (record.votes["vote"] != "abstain").any()


def test_a_different_world_section_is_a_different_world(tiny_spec):
    other = with_overrides(tiny_spec, {"world.firms.generated": 31})
    assert structure_key(tiny_spec, 1) != structure_key(other, 1)
    assert structure_key(tiny_spec, 1) != structure_key(tiny_spec, 2)
    behaviour = with_overrides(tiny_spec, {"behaviour.civil.align": 0.1,
                                           "proposals.call.open_to": ["state"]})
    assert structure_key(tiny_spec, 1) == structure_key(behaviour, 1)


def test_a_kept_structure_is_read_only(tiny_spec):
    cache = WorldCache()
    for _ in range(2):
        world = cache.world(tiny_spec, 1)
    assert len(cache) == 1
    with pytest.raises(ValueError, match="read-only"):
        world.weight[0] = 2.0
    drawn = world.interests[0, 0]
    world.interests[0, 0] = drawn / 2 + 0.25  # a run's own copy: events and views write here
    assert cache.world(tiny_spec, 1).interests[0, 0] == drawn


def test_the_cache_keeps_no_more_than_its_budgets(tiny_spec):
    """Worlds asked for once wait in the small budget; shared ones stay in the large."""
    size = structure_bytes(build_world(tiny_spec, 1))
    cache = WorldCache(waiting=2 * size, shared=3 * size)
    for seed in range(10):  # a sweep without common random numbers: each world once
        cache.world(tiny_spec, seed)
    assert cache.built == 10 and 1 <= len(cache) <= 3  # (sizes vary a little by seed)
    for seed in range(20, 25):  # asked twice each: shared from the second time
        cache.world(tiny_spec, seed)
        cache.world(tiny_spec, seed)
    assert (cache.built, cache.reused) == (15, 5)
    for kept in (cache._waiting, cache._shared):
        assert 0 < kept.used <= kept.budget
    none_waits = WorldCache(waiting=0, shared=3 * size)
    for _ in range(3):  # too large to wait: shared from its second request
        none_waits.world(tiny_spec, 7)
    assert (none_waits.built, none_waits.reused) == (2, 1)


def test_a_sweep_on_common_worlds_shares_them_between_points(tmp_path):
    """3 points x 2 replicates on shared worlds, in one process, after the pilot run (run
    twice: a quick pilot is timed on its repeat): the 2 worlds are drawn once and shared by
    every run; the results are those of worlds drawn afresh (test_sweep checks)."""
    from sim.runs.runner import WORLDS
    from sim.studies.sweep import sweep

    WORLDS.clear()
    built, reused = WORLDS.built, WORLDS.reused
    sweep(DATA / "experiments" / "points.yaml", tmp_path / "out", backend="serial",
          quiet=True, log=lambda line: None, load=False)
    assert (WORLDS.built - built, WORLDS.reused - reused, len(WORLDS)) == (2, 6, 2)


def test_ids_and_names_of_generated_actors_are_made_only_when_read(tiny_spec):
    from sim.metrics import run_metrics

    model = NormDiplomacyModel(tiny_spec, rng=2)
    model.run_model()
    run_metrics(model)
    world = model.world
    assert "ids" not in vars(world) and "names" not in vars(world)
    assert world.ids[0] == "AAA" and world.ids[-1] == "civil_20"
    assert world.names[-1].startswith("ngo civil 20 (")
    assert {a: world.index_of[a] for a in world.ids} == {a: i for i, a in enumerate(world.ids)}
    assert len(world.index_of) == world.n_actors


def test_static_terms_in_blocks_equal_one_piece(tiny_spec, monkeypatch):
    """Blocks of actors and texts give the very values of one (N, P, D) pass, and no
    block holds more cells than TEXT_BLOCK (a world of 10 million actors would need
    gigabytes for one (N, 1, D) array)."""
    from sim import decision

    spec = with_overrides(tiny_spec, {"world.firms.generated": 40})
    world = build_world(spec, 3)
    randomise(world, np.random.default_rng(3), 0.1)
    whole = decision.static_terms(world)
    world.interests_changed()
    sizes, demand = [], decision._demand

    def watched(x, s, y):
        out = demand(x, s, y)
        sizes.append(out.size)
        return out

    monkeypatch.setattr(decision, "_demand", watched)
    monkeypatch.setattr(decision, "TEXT_BLOCK", 7 * len(world.dimensions))
    for got, expected in zip(decision.static_terms(world), whole, strict=True):
        np.testing.assert_array_equal(got, expected)
    assert len(sizes) > 1 and max(sizes) <= 7 * len(world.dimensions)


def test_the_model_computes_with_one_blas_thread(tiny_spec, monkeypatch):
    """Large products summed by several threads would make results depend on the cores."""
    from threadpoolctl import threadpool_info

    model = NormDiplomacyModel(tiny_spec, rng=1)
    decide, seen = model.decide, []

    def watched():
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        decide()

    monkeypatch.setattr(model, "decide", watched)
    model.step()
    model.run_model()
    assert seen and set(seen) == {1}


# --- the network, built without loops over groups ----------------------------------------


def _partners_group_by_group(groups, members, degree, rng):
    """One draw per group, as the network was first built (the reference)."""
    rows, cols = [], []
    for label in sorted(set(groups[members].tolist())):
        group = members[groups[members] == label]
        if len(group) < 2:
            continue
        offsets = rng.integers(1, len(group), size=(len(group), degree))
        rows.append(np.repeat(group, degree))
        cols.append(group[(np.arange(len(group))[:, None] + offsets) % len(group)].ravel())
    return (np.concatenate(rows), np.concatenate(cols)) if rows else (np.empty(0),) * 2


def _pairs_group_by_group(groups, members):
    rows, cols = [], []
    for label in sorted(set(groups[members].tolist())):
        if label in (-1, ""):
            continue
        group = members[groups[members] == label]
        i, j = np.meshgrid(group, group, indexing="ij")
        rows.append(i[i != j])
        cols.append(j[i != j])
    return (np.concatenate(rows), np.concatenate(cols)) if rows else (np.empty(0),) * 2


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), labels=st.integers(1, 12),
       degree=st.integers(1, 4), text=st.booleans())
def test_ties_drawn_at_once_are_those_drawn_group_by_group(seed, n, labels, degree, text):
    from sim.world.network import _pairs_within, _random_partners

    rng = np.random.default_rng(seed)
    codes = rng.integers(-1 if not text else 0, labels, n)
    groups = np.array([f"g{c:02d}" if c else "" for c in codes], dtype=object) if text else codes
    members = np.flatnonzero(rng.random(n) < 0.8)
    for got, expected in zip(_pairs_within(groups, members),
                             _pairs_group_by_group(groups, members), strict=True):
        np.testing.assert_array_equal(got, expected)
    # random partners are drawn among labelled members (homes, sectors) only
    members = members[groups[members] != ("" if text else -1)]
    drawn = _random_partners(groups, members, degree, np.random.default_rng(seed))
    reference = _partners_group_by_group(groups, members, degree, np.random.default_rng(seed))
    for got, expected in zip(drawn, reference, strict=True):
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 80), props=st.integers(1, 3),
       density=st.sampled_from([0.0, 0.05, 0.5]), share=st.floats(0.0, 1.0),
       few=st.sampled_from([0, 10**9]))
def test_tie_sums_equal_the_full_product_to_the_last_bit(seed, n, props, density, share,
                                                         few):
    """Gathered with numpy (few ties) or sliced by scipy (many): (A @ x)[rows], exactly."""
    rng = np.random.default_rng(seed)
    ties = sparse.random(n, n, density=density, random_state=rng, format="coo")
    # parallel ties of very different weights make any change in the order of sums show
    ties = sparse.coo_matrix((np.r_[ties.data, ties.data * 1e-9] * rng.uniform(0, 3),
                              (np.r_[ties.row, ties.row], np.r_[ties.col, ties.col])),
                             shape=(n, n)).tocsr()
    values = rng.random((n, props)) * (rng.random((n, props)) < 0.7)
    rows = np.flatnonzero(rng.random(n) < share)
    np.testing.assert_array_equal(tie_sums(ties, rows, values, few),
                                  np.asarray(ties @ values)[rows])


def test_a_finished_run_lets_go_of_its_world(tiny_spec):
    """Freed at once, not when the cyclic collector wakes up (seldom, in a sweep that
    allocates few objects: worlds piled up to hundreds of MB per worker)."""
    import gc
    import weakref

    cache = WorldCache(waiting=0, shared=0)  # keeps nothing itself
    drawn, made = [], cache.world

    def watched(spec, seed):
        world = made(spec, seed)
        drawn.append(weakref.ref(world))
        return world

    cache.world = watched
    gc.collect()
    gc.disable()
    try:
        run_spec(tiny_spec, 1, tables=("metrics",), worlds=cache)
        assert drawn and drawn[0]() is None
    finally:
        gc.enable()


def test_roster_columns_are_made_once_and_cannot_be_changed(tiny_spec):
    """Building a world read every roster column as a new array four times (a fifth of
    a baseline run in a sweep): a table now keeps each column, read-only."""
    from sim.data.roster import load_states

    states = load_states(tiny_spec.world.states.roster, tiny_spec.base_dir)
    name = states.numbers[0]
    first = states.attribute(name)
    assert states.attribute(name) is first
    assert np.array_equal(first, states.frame[name].to_numpy(float), equal_nan=True)
    with pytest.raises(ValueError):
        first[0] = 1.0
    member = states.memberships[0]
    assert np.array_equal(states.column(member), states.frame[member].to_numpy(float))
