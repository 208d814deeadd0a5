"""Negotiation (sim.negotiation): the batched text kernel, a revision worked out by hand,
red lines (the sponsor's never crossed, a signer's the only cause of a revision's
withdrawals), the texts table, and the negotiation block's bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_decision import randomise

from sim import decision
from sim.decision import reference_utility, text_utility
from sim.errors import InputError
from sim.model import NormDiplomacyModel
from sim.negotiation import crossed_red_lines, hold_round, open_talks
from sim.runs.runner import run_spec
from sim.scenario.loading import load_scenario, with_overrides
from sim.scenario.spec import TERMS

NEGOTIATION = "proposals.call.negotiation"


def negotiating(spec, **block):
    return with_overrides(spec, {NEGOTIATION: block})


# --- the kernel ------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), texts=st.integers(1, 40),
       density=st.sampled_from([0.0, 0.1, 0.4]), by_values=st.booleans(),
       grid=st.sampled_from([None, 0.5, 0.1]))
def test_text_kernel_equals_reference(tiny_spec, seed, texts, density, by_values, grid):
    """The utility of many candidate texts in one array equals, actor by actor and text by
    text, the per-agent rule with that text standing in for the proposal's; both ways of
    summing the burden (direct, and by the values of a grid of texts)."""
    model = NormDiplomacyModel(tiny_spec, rng=1)
    world = model.world
    rng = np.random.default_rng(seed)
    randomise(world, rng, density)
    content = rng.uniform(-1, 1, (texts, len(world.dimensions)))
    if grid is not None:
        content = np.round(content / grid) * grid
    content *= rng.random(content.shape) < 0.7
    bindingness = rng.uniform(0, 1, texts)
    rows = np.sort(rng.choice(world.n_actors, size=min(12, world.n_actors), replace=False))
    p = int(rng.integers(len(world.proposal_ids)))
    direct = decision.DIRECT_TEXTS
    decision.DIRECT_TEXTS = 0 if by_values else 1000
    try:
        batched = text_utility(world, p, rows, content, bindingness)
    finally:
        decision.DIRECT_TEXTS = direct
    for a, i in enumerate(rows):
        for c in range(texts):
            expected = reference_utility(world, int(i), p, text=(content[c], bindingness[c]))
            assert batched[a, c] == pytest.approx(expected, abs=1e-9)


def test_text_kernel_of_the_standing_text_is_the_utility(tiny_spec):
    from sim.decision import utility

    model = NormDiplomacyModel(tiny_spec, rng=3)
    world = model.world
    randomise(world, np.random.default_rng(3), 0.2)
    rows = np.arange(world.n_actors)
    for p in range(len(world.proposal_ids)):
        standing = text_utility(world, p, rows, world.content[p][None],
                                world.bindingness[p:p + 1])[:, 0]
        np.testing.assert_allclose(standing, utility(world)[:, p], atol=1e-9)


# --- a revision worked out by hand -----------------------------------------------------


def hand_world(spec, distance: float):
    """Six states; only align counts (coefficient 1), every threshold 0.6, no noise.

    The text covers openness (0.9); the sponsor may add restraint at 0.5 (step 0.5,
    limits [0, 0.5]). Everyone holds openness at 0.5 with salience 1 and restraint with
    salience 1: BBB and CCC for it (+1), the others against (-1). Without restraint
    align = 0.45 / 0.9 = 0.5 < 0.6 for all: support 0. With it, align = (0.45 + 0.5 x)
    / 1.4: 0.679 for BBB and CCC (they would sign), -0.036 for the rest: support 2/5
    of the five consulted. Distance from the draft: 0.5 over one negotiable dimension.
    """
    spec = with_overrides(spec, {
        "behaviour.temperature": 0.0, "proposals.code": None,
        NEGOTIATION: {"rounds": {"before_launch": 1}, "consult": {"kind": "state"},
                      "content": {"restraint": {"min": 0.0, "max": 0.5}}, "step": 0.5,
                      "weigh": {"support": 1.0, "distance": distance}},
        "proposals.call.content": {"openness": 0.9},
    })
    model = NormDiplomacyModel(spec, rng=1)
    world = model.world
    states = world.slices["state"]
    world.coefficients[:] = 0.0
    world.coefficients[TERMS.index("align")] = 1.0
    world.threshold[:] = 0.6
    world.interests[states] = 0.0
    world.salience[states] = 0.0
    dims = {d: world.dimensions.index(d) for d in ("openness", "restraint")}
    world.interests[states, dims["openness"]] = 0.5
    world.interests[states, dims["restraint"]] = -1.0
    for iso3 in ("BBB", "CCC"):
        world.interests[world.index_of[iso3], dims["restraint"]] = 1.0
    world.salience[states, dims["openness"]] = 1.0
    world.salience[states, dims["restraint"]] = 1.0
    world.eligible[world.slices["firm"]] = False
    world.eligible[world.slices["civil"]] = False
    model.talks = open_talks(world)
    world.interests_changed()
    return model, dims


@pytest.mark.parametrize(("distance", "revised"), [(0.5, True), (1.0, False)])
def test_best_revision_by_hand(tiny_spec, distance, revised):
    """Objective of adding restraint: 2/5 - distance x 0.5, against 0 for the draft:
    0.15 > 0 at distance weight 0.5 (revise), -0.1 < 0 at 1.0 (keep the draft)."""
    model, dims = hand_world(tiny_spec, distance)
    model.step()
    world, talks = model.world, model.talks[0]
    (entry,) = talks.rounds
    assert entry["candidates"] == 2
    assert entry["support_before"] == 0.0
    assert world.content[0, dims["restraint"]] == (0.5 if revised else 0.0)
    assert entry["support"] == pytest.approx(0.4 if revised else 0.0)
    assert entry["objective"] == pytest.approx(0.4 - distance * 0.5 if revised else 0.0)
    if revised:  # those it won sign at the launch round that follows
        signed = {world.ids[i] for i in np.flatnonzero(world.signed[:, 0])}
        assert {"BBB", "CCC"} <= signed


def test_texts_table_records_the_rounds(tiny_spec):
    model, _ = hand_world(tiny_spec, 0.5)
    model.run_model()
    from sim.runs.record import texts_table

    texts = texts_table(model)
    restraint = texts[texts["dimension"] == "restraint"]
    assert restraint["round"].tolist() == [0, 1]
    assert restraint["content"].tolist() == [0.0, 0.5]
    assert restraint["conceded"].tolist() == [False, True]
    assert set(texts["dimension"]) == {"openness", "restraint", "bindingness"}
    assert (texts.loc[texts["round"] == 1, "consulted"] == 5).all()


# --- red lines -------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), rounds=st.integers(1, 6),
       step=st.sampled_from([0.1, 0.25, 0.5]),
       red=st.sampled_from([["openness"], ["restraint"], ["openness", "restraint"]]),
       lows=st.tuples(st.floats(-1, 0), st.floats(-1, 0.3), st.floats(-1, 0)),
       signer_line=st.floats(0, 1))
def test_red_lines(tiny_spec, seed, rounds, step, red, lows, signer_line):
    """Whatever the world and the rounds: the sponsor never weakens a red-line dimension
    below its draft, nor leaves the limits; and a signer leaves only when the revision
    crossed one of its own red lines and it would not sign the new text."""
    spec = negotiating(tiny_spec, rounds={"before_launch": rounds}, step=step,
                       red_lines=red, weigh={"support": 1.0, "distance": 0.05},
                       signer_red_line=signer_line, candidates=200,
                       content={"openness": {"min": lows[0], "max": 1.0},
                                "restraint": {"min": lows[1], "max": 1.0},
                                "control": {"min": lows[2], "max": 0.5}},
                       bindingness={"min": 0.0, "max": 0.6})
    model = NormDiplomacyModel(spec, rng=1)
    world = model.world
    rng = np.random.default_rng(seed)
    drafted, drafted_b = world.content.copy(), world.bindingness.copy()
    randomise(world, rng, 0.2)
    world.content, world.bindingness = drafted, drafted_b
    world.interests_changed()
    (talks,) = model.talks
    for _ in range(rounds):
        before = world.content[0].copy()
        signed_before = world.signed[:, 0].copy()
        hold_round(world, talks, 1, model.seed, 0.1)
        text = world.content[0]
        for dim in red:
            d = world.dimensions.index(dim)
            assert np.sign(talks.ideal[d]) * text[d] >= abs(talks.ideal[d]) - 1e-12
        assert (text >= talks.lower - 1e-12).all() and (text <= talks.upper + 1e-12).all()
        assert 0.0 <= world.bindingness[0] <= 0.6
        left = np.flatnonzero(signed_before & ~world.signed[:, 0])
        crossed = crossed_red_lines(world, talks, before).any(axis=1)
        assert crossed[left].all()
        world.signed[left, 0] = True  # as they stood when they weighed the new text
        u = text_utility(world, 0, left, text[None], world.bindingness[:1])[:, 0]
        world.signed[left, 0] = False
        assert (u < world.threshold[left]).all()
        assert world.sponsor[0] not in left


def test_a_standing_text_changes_nothing(tiny_spec):
    """A negotiation that may move nothing leaves every table as without it, bit for bit
    (withdrawals by hysteresis included)."""
    plain = run_spec(tiny_spec, 5)
    spec = negotiating(tiny_spec, rounds={"before_launch": 2, "every": 3},
                       content={"openness": {"min": 0.9, "max": 0.9}})
    talked = run_spec(spec, 5)
    for name in ("steps", "actors", "votes"):
        pd_plain = getattr(plain, name).drop(columns="run_id")
        pd_talked = getattr(talked, name).drop(columns="run_id")
        assert pd_plain.equals(pd_talked), name
    assert plain.texts.empty and len(talked.texts)


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(("block", "field", "expected"), [
    ({"content": {"opennes": {"min": 0, "max": 1}}}, "negotiation.content.opennes",
     "a dimension from `dimensions`"),
    ({"consult": {"bloc": ["westt"]}}, "negotiation.consult.bloc.0", "a bloc from `blocs`"),
    ({"red_lines": ["control"]}, "negotiation.red_lines.0", "a dimension the text covers"),
    ({"content": {"openness": {"min": -1.5, "max": 1}}}, "negotiation.content.openness.min",
     "greater than or equal to -1"),
    ({"content": {"openness": {"min": 0.0, "max": 0.5}}}, "negotiation.content.openness",
     "limits that hold the drafted content 0.9"),
    ({"bindingness": {"min": 0.0, "max": 1.2}}, "negotiation.bindingness.max",
     "less than or equal to 1"),
])
def test_bad_negotiation_blocks_name_file_field_and_expectation(tiny_spec, block, field,
                                                                 expected):
    with pytest.raises(InputError) as error:
        negotiating(tiny_spec, **block)
    (found,) = error.value.problems
    assert found.field == f"proposals.call.{field}"
    assert expected in found.expected


def test_bad_positions_blocks(tiny_spec):
    with pytest.raises(InputError) as error:
        with_overrides(tiny_spec, {"positions.record": ["ZZZ"],
                                   "positions.persuasion.dimensions": {"cal": ["openness"]}})
    fields = {p.field for p in error.value.problems}
    assert fields == {"positions.record.0", "positions.persuasion.dimensions.cal"}


def test_extends_replace_swaps_a_section_whole(tmp_path):
    from conftest import TINY

    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {TINY}\nreplace: [proposals, world.states.interests]\n"
                     "proposals:\n  only: {content: {restraint: 0.5}, sponsor: AAA}\n"
                     "world: {states: {interests: {restraint: {base: 0.1}}}}\n")
    spec = load_scenario(child)
    assert list(spec.proposals) == ["only"]
    assert list(spec.world.states.interests) == ["restraint"]
    assert spec.world.states.salience  # not replaced: merged from the base
    child.write_text(f"extends: {TINY}\nreplace: [proposal]\n")
    with pytest.raises(InputError) as error:
        load_scenario(child)
    (found,) = error.value.problems
    assert found.field == "replace.0" and "a section of the base" in found.expected


# --- sweeps and the shipped scenarios --------------------------------------------------


def test_sweeps_keep_each_runs_text(tmp_path):
    from conftest import TINY

    from sim.runs.runner import run_batch

    scenario = tmp_path / "negotiated.yaml"
    scenario.write_text(
        f"extends: {TINY}\nproposals:\n  call:\n    negotiation:\n"
        "      rounds: {before_launch: 1, every: 5}\n"
        "      content: {restraint: {min: 0.0, max: 1.0}}\n")
    result = run_batch(scenario, {}, [{"seed": 1}, {"seed": 2}])
    texts = result["texts"]
    assert set(texts["seed"]) == {1, 2}
    assert set(texts["round"]) == {0, 1, 2, 3, 4}
    assert (result["runs"]["status"] == "ok").all()


def test_negotiated_text_scenario_validates_and_negotiates():
    from conftest import ROOT

    spec = load_scenario(ROOT / "scenarios" / "negotiated_text.yaml")
    record = run_spec(with_overrides(spec, {"metadata.steps": 2}), 1)
    assert set(record.texts["round"]) == {0, 1, 2, 3}
    assert set(record.trajectories["actor_id"]) == {"IND", "BRA", "FRA", "USA"}
