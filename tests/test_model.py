"""NormDiplomacyModel: schedule, determinism, agents as views, Mesa integration."""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd
import pytest
from mesa.experimental.scenarios import Scenario
from mesa.visualization.solara_viz import _build_model_init_kwargs, _check_model_params

from sim.agents import CivilAgent, FirmAgent, StateAgent
from sim.decision import utility
from sim.decision import vote_band as decision_vote_band
from sim.model import NormDiplomacyModel, NormScenario
from sim.runs.runner import run_spec
from sim.scenario.spec import TERMS
from tests.conftest import TINY


def test_same_seed_same_tables_different_seed_differs(tiny_spec):
    first, second = run_spec(tiny_spec, 11), run_spec(tiny_spec, 11)
    for name, table in first.tables().items():
        pd.testing.assert_frame_equal(table, second.tables()[name], check_exact=True)
    other = run_spec(tiny_spec, 12)
    assert not first.actors["signed_step"].equals(other.actors["signed_step"])
    assert first.run_id != other.run_id


def test_reference_agent_loop_gives_the_same_run(tiny_spec):
    """Mesa shuffle_do over agents computing their own utility == the vectorised kernel."""
    kernel = run_spec(tiny_spec, 5, decision="kernel")
    reference = run_spec(tiny_spec, 5, decision="reference")
    pd.testing.assert_frame_equal(kernel.steps, reference.steps)
    pd.testing.assert_frame_equal(kernel.actors, reference.actors)
    pd.testing.assert_frame_equal(kernel.votes, reference.votes)


def test_model_runs_to_the_last_step_then_stops(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=1)
    model.run_model()
    assert model.steps == tiny_spec.metadata.steps
    assert not model.running
    assert len(model.history.steps) == tiny_spec.metadata.steps


def test_scenario_is_a_mesa_scenario_carrying_the_spec(tiny_spec):
    model = NormDiplomacyModel(TINY, rng=3)
    assert isinstance(model.scenario, Scenario)
    assert isinstance(model.scenario, NormScenario)
    assert model.scenario.spec.digest() == tiny_spec.digest()
    assert model.scenario.rng == model.seed == 3


def test_default_seed_is_the_scenarios(tiny_spec):
    assert NormDiplomacyModel(tiny_spec).seed == tiny_spec.metadata.seed


def test_generator_rng_becomes_an_integer_seed(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=np.random.default_rng(0))
    assert isinstance(model.seed, int)
    again = NormDiplomacyModel(tiny_spec, rng=np.random.default_rng(0))
    assert again.seed == model.seed


def test_negative_seed_is_refused(tiny_spec):
    with pytest.raises(ValueError, match="non-negative"):
        NormDiplomacyModel(tiny_spec, rng=-1)


def test_rng_must_match_scenario_rng(tiny_spec):
    scenario = NormScenario(rng=4, spec=tiny_spec)
    with pytest.raises(ValueError, match="must be the same"):
        NormDiplomacyModel(scenario, rng=5)
    assert NormDiplomacyModel(scenario, rng=4).seed == 4


def test_dotted_overrides_reach_the_spec():
    model = NormDiplomacyModel(TINY, rng=1, **{"proposals.call.bindingness": 0.75,
                                               "proposals.call.open_to": ["state"]})
    assert model.spec.proposals["call"].bindingness == 0.75
    assert not model.world.eligible[model.world.slices["firm"], 0].any()


def test_solara_reset_rebuilds_with_changed_controls():
    """SolaraViz's Reset path: flat kwargs -> scenario class + model kwargs -> new model."""
    model = NormDiplomacyModel(TINY, rng=1)
    params = {"source": str(TINY), "proposals.call.bindingness": 0.9, "rng": 8}
    _check_model_params(model, params)
    kwargs = _build_model_init_kwargs(model, params, add_scenario_when_empty=True,
                                      require_model_accepts_scenario=True)
    rebuilt = type(model)(**kwargs)
    assert rebuilt.spec.proposals["call"].bindingness == 0.9
    assert rebuilt.seed == 8
    assert rebuilt.spec.metadata.name == "tiny"
    # Reset with no controls at all still builds a model (the default scenario)
    bare = _build_model_init_kwargs(rebuilt, {}, add_scenario_when_empty=True,
                                    require_model_accepts_scenario=True)
    assert isinstance(bare["scenario"], NormScenario)


def test_batch_run_over_dotted_parameters():
    results = mesa.batch_run(
        NormDiplomacyModel,
        parameters={"scenario": str(TINY), "proposals.call.bindingness": [0.0, 0.9]},
        rng=[1, 2],
        max_steps=6,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    frame = pd.DataFrame(results)
    assert len(frame) == 4
    assert set(frame["proposals.call.bindingness"]) == {0.0, 0.9}
    assert frame["Step"].max() == 6
    assert {"call.signers_state", "call.share_gdp"} <= set(frame.columns)


def test_agents_are_views_onto_the_world(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=2)
    world = model.world
    kinds = {type(a) for a in model.agents}
    assert kinds == {StateAgent, FirmAgent, CivilAgent}
    state = model.actors[world.index_of["FFF"]]
    assert state.iso3 == "FFF" and state.bloc == "west" and state.kind == "state"
    model.step()
    assert state.signed["call"] == bool(world.signed[state.index, 0])
    world.signed[state.index, 0] = not world.signed[state.index, 0]
    assert state.signed["call"] == bool(world.signed[state.index, 0])
    firm = next(a for a in model.agents if isinstance(a, FirmAgent))
    assert firm.home.kind == "state"
    assert firm.bloc == firm.home.bloc
    assert set(firm.interests) == set(tiny_spec.dimensions)
    assert math.isclose(sum(firm.utility_terms("call").values()), firm.utility("call"))


def test_sponsor_signs_at_launch_and_not_before(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=1)
    code = model.world.proposal_ids.index("code")
    sponsor = model.world.index_of["BBB"]
    for _ in range(4):
        model.step()
        assert not model.world.signed[:, code].any()
    model.step()  # step 5 = 2020-02-03, the launch
    assert model.world.signed[sponsor, code]
    assert model.world.signed_step[sponsor, code] == 5


def test_event_changes_interests_at_its_step(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=1)
    row, dim = model.world.index_of["FFF"], tiny_spec.dimensions and list(
        tiny_spec.dimensions).index("restraint")
    before = model.world.interests[row, dim]
    threshold = model.world.threshold[row]
    event_step = tiny_spec.step_of(tiny_spec.events["warming"].at)
    for _ in range(event_step - 1):
        model.step()
    assert model.world.interests[row, dim] == before
    model.step()
    assert model.world.interests[row, dim] == pytest.approx(min(1.0, before + 0.5))
    assert model.world.threshold[row] == pytest.approx(threshold * 0.5)


def test_outreach_pressure_decays_exponentially(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=1)
    campaign = model.world.campaigns[0]
    for _ in range(4):
        model.step()
    expected = campaign.budget * campaign.target * math.exp(-campaign.decay * (4 - 1))
    np.testing.assert_allclose(model.world.outreach[:, 0], expected)


def test_un_vote_follows_utility_when_noise_is_off(tiny_spec):
    spec_dict = {"behaviour.temperature": 0.0}
    model = NormDiplomacyModel(tiny_spec, rng=1, **spec_dict)
    vote = model.world.votes_due[0]
    for _ in range(vote.step - 1):
        model.step()
    model.step()
    states = model.world.slices["state"]
    u = utility(model.world)[states, vote.proposal]
    expected = np.where(u > vote.yes_above, 1, np.where(u < vote.no_below, -1, 0))
    np.testing.assert_array_equal(model.world.votes[:, vote.proposal], expected)


def test_temperature_zero_is_deterministic_in_decisions(tiny_spec):
    """With tau = 0, noise draws do not matter: the same world gives the same signatures."""
    a = NormDiplomacyModel(tiny_spec, rng=1, **{"behaviour.temperature": 0.0,
                                                "behaviour.state.activation": 1.0,
                                                "behaviour.firm.activation": 1.0,
                                                "behaviour.civil.activation": 1.0})
    b = NormDiplomacyModel(tiny_spec, rng=1, **{"behaviour.temperature": 0.0,
                                                "behaviour.state.activation": 1.0,
                                                "behaviour.firm.activation": 1.0,
                                                "behaviour.civil.activation": 1.0})
    b.behaviour_rng = np.random.default_rng(999)  # different draws, same decisions
    a.run_model()
    b.run_model()
    np.testing.assert_array_equal(a.world.signed, b.world.signed)


def test_datacollector_series_match_history(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=1)
    model.run_model()
    series = model.datacollector.get_model_vars_dataframe()
    table = model.history.table()
    calls = table[table["proposal"] == "call"]
    assert list(series["call.signers_state"]) == list(calls["signers_state"])


def test_rebuilt_scenario_remembers_its_source():
    """A Reset with overrides or a seed keeps the scenario file (was: fell back to baseline)."""
    scenario = NormScenario(source=str(TINY))
    model = NormDiplomacyModel(scenario, rng=3, **{"proposals.call.bindingness": 0.2})
    assert model.scenario.source == str(TINY)
    from_spec = NormDiplomacyModel(model.spec, rng=4)
    assert from_spec.scenario.source == model.spec.source


def test_un_vote_counts_only_the_terms_it_names(tiny_spec):
    """A vote on position alone: V = a * align (no peers, no momentum), noise off."""
    from sim.decision import term_arrays
    from sim.scenario.spec import TERMS

    model = NormDiplomacyModel(tiny_spec, rng=1, **{"behaviour.temperature": 0.0,
                                                    "proposals.code.un_vote.terms": ["align"]})
    vote = model.world.votes_due[0]
    for _ in range(vote.step):
        model.step()
    states = model.world.slices["state"]
    align = TERMS.index("align")
    v = (model.world.coefficients[align, states]
         * term_arrays(model.world)[align, states, vote.proposal])
    expected = np.where(v > vote.yes_above, 1, np.where(v < vote.no_below, -1, 0))
    np.testing.assert_array_equal(model.world.votes[:, vote.proposal], expected)


def test_launch_list_of_everyone_is_the_launch_round_of_everyone(tiny_spec):
    """A reach of 1 puts every state on the launch list: the run is the one without."""
    from sim.scenario.loading import with_overrides

    reached = run_spec(with_overrides(tiny_spec, {"proposals.call.launch_reach": {"base": 1.0}}), 5)
    plain = run_spec(tiny_spec, 5)
    pd.testing.assert_frame_equal(reached.actors.drop(columns="run_id"),
                                  plain.actors.drop(columns="run_id"))


def test_states_off_the_launch_list_do_not_weigh_the_text_at_launch(tiny_spec):
    """With no state consulted, only the sponsor and the non-states are in focus at launch."""
    model = NormDiplomacyModel(tiny_spec, rng=2, **{"proposals.call.launch_reach": {"base": 0.0},
                                                    "behaviour.state.activation": 0.0})
    call = model.world.proposal_ids.index("call")
    model.step()
    states = model.world.kind == 0
    focus = np.zeros(states.shape, bool)
    focus[model.world.index_of["AAA"]] = True
    np.testing.assert_array_equal(model.world.launch_reach[states, call], focus[states])
    assert not model.world.considered[states & ~focus, call].any()
    assert model.world.considered[~states, call].all()
    np.testing.assert_array_equal(model.world.signed[states, call], focus[states])


def test_a_civil_share_of_one_is_the_run_without_one(tiny_spec):
    """Naming a kind at share 1 (all of them, as when it is not named) changes no draw."""
    from sim.scenario.loading import with_overrides

    reach = {"proposals.call.launch_reach": {"base": 0.6}}
    plain = run_spec(with_overrides(tiny_spec, reach), 5)
    named = run_spec(with_overrides(tiny_spec, {
        **reach, "proposals.call.launch_reach_of": {"firm": 1.0, "civil": 1.0}}), 5)
    pd.testing.assert_frame_equal(named.actors.drop(columns="run_id"),
                                  plain.actors.drop(columns="run_id"))


def test_organisations_off_the_launch_list_do_not_weigh_the_text_at_launch(tiny_spec):
    """Civil share 0: no organisation considers in the launch round; firms all do, and
    without a state `launch_reach` every state is on the list."""
    model = NormDiplomacyModel(tiny_spec, rng=2, **{
        "proposals.call.launch_reach_of": {"civil": 0.0}, "behaviour.civil.activation": 0.0})
    call = model.world.proposal_ids.index("call")
    model.step()
    world = model.world
    civil, firms, states = (world.slices[k] for k in ("civil", "firm", "state"))
    assert not world.launch_reach[civil, call].any()
    assert world.launch_reach[firms, call].all() and world.launch_reach[states, call].all()
    assert not world.considered[civil, call].any() and not world.signed[civil, call].any()
    assert world.considered[firms, call].all()


def test_a_larger_civil_share_keeps_every_organisation_a_smaller_one_reached(tiny_spec):
    lists = [NormDiplomacyModel(tiny_spec, rng=3, **{"proposals.call.launch_reach_of":
                                                     {"civil": r}}).world.launch_reach[:, 0]
             for r in (0.2, 0.5, 0.8)]
    assert (lists[0] <= lists[1]).all() and (lists[1] <= lists[2]).all()
    assert lists[0].sum() < lists[2].sum()


def test_a_wider_launch_list_keeps_every_state_a_narrower_one_reached(tiny_spec):
    """The same uniform draws are compared with the reach: lists are nested in the reach."""
    lists = [NormDiplomacyModel(tiny_spec, rng=3, **{"proposals.call.launch_reach":
                                                     {"base": r}}).world.launch_reach[:, 0]
             for r in (0.2, 0.5, 0.8)]
    assert (lists[0] <= lists[1]).all() and (lists[1] <= lists[2]).all()


def test_a_vote_weighs_the_affinity_term_by_term_for_cross_pressure(tiny_spec):
    """Affinity 1 - 1 x democracy (Avalon: democracy 0.9) sums to about 0.1, but it is a
    pull of 1 toward yes against 0.9 toward no: with a hedge the band widens by 0.9 (the
    smaller side); with the affinity summed it would not widen at all."""
    model = NormDiplomacyModel(tiny_spec, rng=1, **{
        "proposals.code.ties": {"base": 1.0, "democracy": -1.0},
        "proposals.code.un_vote.hedge": 1.0})
    world = model.world
    code = world.proposal_ids.index("code")
    states = np.arange(world.slices["state"].stop)
    parts = world.tie_parts[code]
    np.testing.assert_allclose(parts.sum(axis=0), world.ties[states, code], atol=1e-12)
    vote = next(v for v in world.votes_due if v.proposal == code)
    t = TERMS.index("ties")
    contributions = np.zeros((len(TERMS), len(states)))
    contributions[t] = world.coefficients[t, states] * vote.terms[t] * world.ties[states, code]
    value, low, high = model.vote_band(vote, contributions, states)
    avalon = world.index_of["AAA"]
    democracy = 1.0 - world.ties[avalon, code]
    pull = world.coefficients[t, avalon] * vote.terms[t]
    assert high[avalon] == pytest.approx(vote.yes_above + pull * min(1.0, democracy))
    assert low[avalon] == pytest.approx(vote.no_below - pull * min(1.0, democracy))
    summed = decision_vote_band(vote, contributions)
    assert summed[2][avalon] == pytest.approx(vote.yes_above)


def _votes_on_code(spec, **overrides):
    model = NormDiplomacyModel(spec, rng=1, **overrides)
    world = model.world
    code = world.proposal_ids.index("code")
    vote = next(v for v in world.votes_due if v.proposal == code)
    while model.steps < vote.step:
        model.step()
    return model, vote, world.votes[:, code].copy()


def test_the_sponsor_of_a_rival_resolution_votes_against_it(tiny_spec):
    """With `rival_sponsors_vote_no`, the sponsor of a declared rival (here Avalon, who
    sponsors the call) votes no even when every pull clears the band; without it, it
    votes with the rest. Russia voted yes on the US text in part of the 0.3.1 runs."""
    yes_to_all = {"proposals.code.un_vote.yes_above": -50.0,
                  "proposals.code.un_vote.no_below": -60.0,
                  "proposals.code.rivals": {"call": 0.5}}
    _, _, plain = _votes_on_code(tiny_spec, **yes_to_all)
    assert (plain == 1).all()
    model, vote, votes = _votes_on_code(
        tiny_spec, **yes_to_all, **{"proposals.code.un_vote.rival_sponsors_vote_no": True})
    avalon = model.world.index_of["AAA"]
    np.testing.assert_array_equal(vote.opponents, [avalon])
    assert votes[avalon] == -1
    assert (np.delete(votes, avalon) == 1).all()
    voters = np.arange(model.world.slices["state"].stop)
    chances = model.vote_probabilities(vote, np.zeros((len(TERMS), len(voters))), voters)
    np.testing.assert_array_equal(chances[avalon], [0.0, 0.0, 1.0])


def test_a_rival_declared_on_the_other_side_also_counts(tiny_spec):
    """Rivalry is declared once and holds both ways: `call.rivals: {code}` makes
    Avalon an opponent in the vote on `code` too."""
    model, vote, _ = _votes_on_code(tiny_spec, **{
        "proposals.call.rivals": {"code": 0.5},
        "proposals.code.un_vote.rival_sponsors_vote_no": True})
    np.testing.assert_array_equal(vote.opponents, [model.world.index_of["AAA"]])


def test_a_vote_weight_scales_its_term_and_weight_one_is_the_default(tiny_spec):
    """`weights` multiplies a counted term in this vote only; naming weight 1 changes
    no vote, and weight 0 on every counted term leaves only the noise."""
    _, vote, plain = _votes_on_code(tiny_spec)
    _, ones, same = _votes_on_code(tiny_spec, **{
        "proposals.code.un_vote.weights": dict.fromkeys(TERMS, 1.0)})
    np.testing.assert_array_equal(ones.terms, vote.terms)
    np.testing.assert_array_equal(same, plain)
    _, half, _ = _votes_on_code(tiny_spec, **{
        "proposals.code.un_vote.weights": {"leader": 0.5}})
    expected = np.ones(len(TERMS))
    expected[TERMS.index("leader")] = 0.5
    np.testing.assert_array_equal(half.terms, expected)


def test_a_vote_weight_on_a_term_it_does_not_count_is_refused(tiny_spec):
    from sim.errors import InputError
    from sim.scenario.loading import with_overrides

    with pytest.raises(InputError, match=r"un_vote.*weights only on the counted terms"
                                         r".*not on \['peers'\]"):
        with_overrides(tiny_spec, {"proposals.code.un_vote.terms": ["align", "leader"],
                                   "proposals.code.un_vote.weights": {"peers": 0.5}})


def test_the_sponsor_of_a_resolution_votes_for_it(tiny_spec):
    """Even when its own terms pull it against the text (here a band no pull reaches),
    the sponsor votes yes, as it stands by its text when signing; its chances are
    (1, 0, 0). In 0.3.0 Russia voted against its own resolution in part of the runs."""
    model = NormDiplomacyModel(tiny_spec, rng=1, **{
        "proposals.code.un_vote.yes_above": 50.0, "proposals.code.un_vote.no_below": 40.0})
    world = model.world
    code = world.proposal_ids.index("code")
    vote = next(v for v in world.votes_due if v.proposal == code)
    while model.steps < vote.step:
        model.step()
    sponsor = world.sponsor[code]
    votes = world.votes[:, code]  # one row per state
    assert votes[sponsor] == 1
    assert (np.delete(votes, sponsor) == -1).all()  # nobody else clears a band of 50
    voters = np.arange(world.slices["state"].stop)
    contributions = np.zeros((len(TERMS), len(voters)))
    chances = model.vote_probabilities(vote, contributions, voters)
    np.testing.assert_array_equal(chances[sponsor], [1.0, 0.0, 0.0])
