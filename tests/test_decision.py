"""The vectorised kernel equals the per-agent reference rule, term by term."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

from sim.decision import reference_utility, term_arrays, utility, utility_terms
from sim.scenario.loading import with_overrides
from sim.scenario.spec import TERMS
from sim.world.build import build_world


def randomise(world, rng: np.random.Generator, density: float) -> None:
    """Put a world into an arbitrary (but valid) state, including awkward corners."""
    n, p = world.signed.shape
    d = len(world.dimensions)
    world.interests = rng.uniform(-1, 1, (n, d))
    world.salience = rng.uniform(0, 1, (n, d)) * (rng.random((n, d)) < 0.8)
    world.salience[rng.random(n) < 0.1] = 0.0  # actors who care about nothing
    world.content = rng.uniform(-1, 1, (p, d)) * (rng.random((p, d)) < 0.6)
    world.bindingness = rng.uniform(0, 1, p)
    world.signed = rng.random((n, p)) < 0.4
    world.opposed = ~world.signed & (rng.random((n, p)) < 0.3)
    world.outreach = rng.uniform(0, 2, (n, p)) * (rng.random((n, p)) < 0.5)
    world.federated = (rng.random((n, p)) < 0.2).astype(float)
    rivalry = rng.uniform(0, 1, (p, p))
    world.rivalry = np.triu(rivalry, 1) + np.triu(rivalry, 1).T
    world.eligible = rng.random((n, p)) < 0.8
    world.considered = rng.random((n, p)) < 0.5
    world.non_adoption = float(rng.uniform(0, 1))
    world.cohesion = rng.uniform(0, 1, len(world.bloc_ids))
    world.group_cohesion = rng.uniform(0, 1, len(world.group_ids))
    world.group_member = rng.random(world.group_member.shape) < 0.6
    world.capacity = rng.normal(0, 1, n) * (world.kind == 0)
    world.embeddedness = rng.uniform(0, 1, n) * (world.kind == 0)
    world.regime = rng.uniform(-1, 1, p)
    world.ties = rng.normal(0, 1, (n, p)) * (world.kind == 0)[:, None]
    world.coefficients = rng.normal(0, 1, world.coefficients.shape)
    ties = sparse.random(n, n, density=density, random_state=rng, format="csr")
    ties.setdiag(0)
    ties.eliminate_zeros()
    world.network = ties.tocsr()
    world.peer_norm = np.asarray(world.network @ world.eligible.astype(float))
    world.interests_changed()


#: cue groups for the property test: listed and largest-member leaders, one leaderless
CUE_GROUPS = {
    "north": {"members": {"member_of": ["nato"]}, "leaders": ["AAA"], "leaders_largest": 1},
    "g20": {"members": {"member_of": ["g20"]}, "leaders_largest": 2, "cohesion": 0.9},
    "south": {"members": {"where": {"democracy": {"max": 0.5}}}},
}


#: the arbitrary worlds of the property tests: seed, generated actors, tie density, leaders
WORLDS = {
    "seed": st.integers(0, 2**32 - 1),
    "firms": st.integers(0, 25),
    "civil": st.integers(0, 25),
    "density": st.sampled_from([0.0, 0.05, 0.3]),
    "leaders": st.sampled_from([["FFF"], ["DDD", "BBB"], [], ["AAA", "DDD", "EEE"]]),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**WORLDS)
def test_kernel_equals_reference(tiny_spec, seed, firms, civil, density, leaders):
    """For arbitrary worlds and states, utility(world)[i, p] == reference_utility(i, p)."""
    spec = with_overrides(tiny_spec, {"world.firms.generated": firms,
                                      "world.civil.generated": civil,
                                      "blocs.east.leaders": leaders,
                                      "groups": CUE_GROUPS})
    world = build_world(spec, seed)
    randomise(world, np.random.default_rng(seed), density)
    kernel = utility(world)
    terms = term_arrays(world)
    for i in range(world.n_actors):
        for p in range(len(world.proposal_ids)):
            assert kernel[i, p] == pytest.approx(reference_utility(world, i, p), abs=1e-9)
            parts = utility_terms(world, i, p)
            for t, term in enumerate(TERMS):
                assert world.coefficients[t, i] * terms[t, i, p] == pytest.approx(
                    parts[term], abs=1e-9)


def test_terms_stay_in_their_ranges(baseline_spec):
    """align in [-1, 1]; peers, momentum, federated in [0, 1]; cost >= 0; leader within cohesion."""
    world = build_world(baseline_spec, 3)
    randomise(world, np.random.default_rng(3), 0.01)
    terms = dict(zip(TERMS, term_arrays(world), strict=True))
    assert terms["align"].min() >= -1 - 1e-12 and terms["align"].max() <= 1 + 1e-12
    assert terms["cost"].min() >= 0
    for name in ("peers", "momentum", "federated"):
        assert terms[name].min() >= 0 and terms[name].max() <= 1 + 1e-12
    assert np.abs(terms["leader"]).max() <= world.cohesion.max() + 1e-12


def test_non_binding_text_costs_nothing(tiny_spec):
    world = build_world(with_overrides(tiny_spec, {"proposals.call.bindingness": 0.0}), 1)
    cost = term_arrays(world)[TERMS.index("cost")][:, 0]
    assert np.all(cost == 0)


def test_align_by_hand(tiny_spec):
    """align = sum_d s x y / sum_d s |y| over the text's scope, checked for one actor."""
    world = build_world(tiny_spec, 1)
    i, p = 0, 0
    x, s, y = world.interests[i], world.salience[i], world.content[p]
    expected = (s * x * y).sum() / (s * np.abs(y)).sum()
    assert term_arrays(world)[0, i, p] == pytest.approx(expected)


def test_static_terms_are_recomputed_after_a_change(tiny_spec):
    """Writing through an agent view clears the cached align/cost terms."""
    from sim.model import NormDiplomacyModel

    model = NormDiplomacyModel(tiny_spec, rng=1)
    state = model.actors[0]
    before = utility(model.world)[0, 0]
    state.interests["openness"] = -1.0
    after = utility(model.world)[0, 0]
    assert after < before
    assert after == pytest.approx(reference_utility(model.world, 0, 0), abs=1e-12)


def test_legitimacy_over_eligible_or_all(tiny_spec):
    """A states-only proposal: momentum is state coverage (eligible) or 0.6 of it (all)."""
    from sim.decision import momentum

    common = {"proposals.call.open_to": ["state"],
              "behaviour.legitimacy": {"state": 0.6, "firm": 0.2, "civil": 0.2}}
    eligible = build_world(with_overrides(tiny_spec, common), 1)
    whole = build_world(with_overrides(tiny_spec, {**common, "behaviour.legitimacy_over": "all"}),
                        1)
    for world in (eligible, whole):
        world.signed[[0, 3], 0] = True
    states = eligible.slices["state"]
    coverage = eligible.weight[states][[0, 3]].sum() / eligible.weight[states].sum()
    assert momentum(eligible)[0] == pytest.approx(coverage)
    assert momentum(whole)[0] == pytest.approx(0.6 * coverage)
