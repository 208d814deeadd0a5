"""Per-state fit: training outcomes and their bad input, forecasts (share and smoothed),
validate-fit, the logistic baseline, calibration to individual outcomes with k-fold
cross-validation, CMA-ES, and the new mechanisms' switches (votes, cues, ties)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, ROOT, run_cli

from sim.decision import term_arrays, utility_terms, vote_band, vote_codes, vote_probabilities
from sim.errors import InputError
from sim.model import NormDiplomacyModel
from sim.runs.runner import spec_for
from sim.scenario.loading import with_overrides
from sim.scenario.spec import TERMS
from sim.studies.calibration import calibrate, observed_of
from sim.studies.forecast import ForecastModel, combine, forecast_runs, needed
from sim.studies.outcomes import folds
from sim.studies.search import CMAES
from sim.studies.validation import late_joiners, read_forecasts
from sim.world.arrays import Vote
from sim.world.build import build_world

TARGETS = DATA / "experiments" / "outcomes.yaml"
OUTCOMES = DATA / "tiny_outcomes.csv"


def targets_with(tmp_path, csv_text: str):
    """The tiny outcomes targets file, reading a training file with `csv_text`."""
    (tmp_path / "train.csv").write_text(csv_text)
    text = TARGETS.read_text().replace("../tiny_outcomes.csv", "train.csv").replace(
        "../tiny.yaml", str(DATA / "tiny.yaml"))
    path = tmp_path / "targets.yaml"
    path.write_text(text)
    return path


# --- training outcomes: loading and bad input ------------------------------------------


def test_observed_outcomes_of_the_training_file():
    _, _, observed = observed_of(TARGETS)
    names = [o.name for o in observed.outcomes]
    assert names == ["call signed by 2020-02-03", "call signed by 2020-05-18", "code vote"]
    early, late, vote = observed.outcomes
    assert dict(zip(early.iso3, early.observed, strict=True)) == {
        "AAA": 1, "BBB": 0, "CCC": 1, "DDD": 0, "EEE": 0, "FFF": 0}
    assert late.observed.sum() == 3  # EEE joined after the first date
    assert list(vote.iso3) == ["AAA", "BBB", "CCC", "DDD", "FFF"]  # EEE absent


BAD_ROWS = {  # (row replacing FFF's, or added), where, what was expected
    "unknown iso3": ("ZZZ,,yes", "row 8: iso3", "an ISO3 code in the scenario's state roster"),
    "duplicated state": ("BBB,,yes", "row 8: iso3", "each state once (already on row 3)"),
    "date outside the scenario": ("FFF,2019-06-01,no", "row 7: call_since",
                                  "a date YYYY-MM-DD inside the scenario (2020-01-06 to "
                                  "2020-05-24) or empty"),
    "date not a date": ("FFF,soon,no", "row 7: call_since", "a date YYYY-MM-DD"),
    "unknown vote": ("FFF,,maybe", "row 7: code_vote", "yes, abstain, no or empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_training_rows_stop_with_file_row_column_and_expectation(tmp_path, case):
    row, where, expected = BAD_ROWS[case]
    lines = OUTCOMES.read_text().splitlines()
    if row.startswith("FFF"):
        lines = [line for line in lines if not line.startswith("FFF")]
    path = targets_with(tmp_path, "\n".join(lines + [row]) + "\n")
    code, _, err = run_cli("validate-fit", path, "--reps", 1, "--backend", "serial")
    assert code == 2
    assert "train.csv" in err and where in err and expected in err


def test_missing_outcome_column_and_unknown_proposal(tmp_path):
    path = targets_with(tmp_path, "iso3,call_since\nAAA,\n")
    code, _, err = run_cli("validate-fit", path, "--reps", 1, "--backend", "serial")
    assert code == 2 and "code_vote" in err and "this column to be present" in err
    text = TARGETS.read_text().replace("    code: {column: code_vote}",
                                       "    cod: {column: code_vote}")
    (tmp_path / "t.yaml").write_text(text.replace("../", f"{DATA}/"))
    code, _, err = run_cli("validate-fit", tmp_path / "t.yaml", "--reps", 1)
    assert code == 2 and "outcomes.votes.cod" in err and "a proposal of the scenario" in err


def test_the_drawn_group_leaves_out_the_eu_and_the_states_included_by_rule(tmp_path):
    """`outcomes.by_rule` names the states a split included by rule; the other non-EU
    training states are scored as `drawn`, the estimate for the held-out states."""
    text = TARGETS.read_text().replace("  folds: 2", "  folds: 2\n  by_rule: [BBB]")
    (tmp_path / "t.yaml").write_text(text.replace("../", f"{DATA}/"))
    out = tmp_path / "fit"
    code, stdout, _ = run_cli("validate-fit", tmp_path / "t.yaml", "--reps", 2, "--out", out,
                              "--backend", "serial")
    assert code == 0 and "| drawn |" in stdout
    summary = pd.read_csv(out / "summary.csv").set_index(["outcome", "group"])
    signed = "call signed by 2020-02-03"
    non_eu = summary.loc[(signed, "non_eu"), "states"]
    assert summary.loc[(signed, "drawn"), "states"] == non_eu - 1
    plain = tmp_path / "plain"  # without `by_rule`, no such group
    run_cli("validate-fit", TARGETS, "--reps", 1, "--out", plain, "--backend", "serial")
    assert "drawn" not in set(pd.read_csv(plain / "summary.csv")["group"])


def test_a_state_included_by_rule_must_be_a_training_state(tmp_path):
    text = TARGETS.read_text().replace("  folds: 2", "  folds: 2\n  by_rule: [BBB, ZZZ]")
    (tmp_path / "t.yaml").write_text(text.replace("../", f"{DATA}/"))
    code, _, err = run_cli("validate-fit", tmp_path / "t.yaml", "--reps", 1,
                           "--backend", "serial")
    assert code == 2 and "t.yaml" in err and "outcomes.by_rule[1]" in err
    assert "an ISO3 code of a state in" in err and "ZZZ" in err


def test_folds_are_stratified_and_cover_every_state_once():
    _, _, observed = observed_of(TARGETS)
    parts = folds(observed, 2, seed=0)
    assert sorted(np.concatenate(parts)) == sorted(observed.iso3)
    early = dict(zip(observed.outcomes[0].iso3, observed.outcomes[0].observed, strict=True))
    assert [sum(early[c] for c in part) for part in parts] == [1, 1]  # one early signer each


# --- forecasts --------------------------------------------------------------------------


def test_forecasting_leaves_the_run_unchanged(tiny_spec):
    """ForecastModel only looks: same signatures, steps and votes as the plain model."""
    plain = NormDiplomacyModel(tiny_spec, rng=5)
    plain.run_model()
    looking = ForecastModel(tiny_spec, rng=5, record_steps=[5])
    looking.run_model()
    assert np.array_equal(plain.world.signed_step, looking.world.signed_step)
    assert np.array_equal(plain.world.votes, looking.world.votes)
    assert 5 in looking.unsigned_at


def test_smoothed_forecast_agrees_with_the_share_of_runs():
    """Both estimate the same probability: over many runs they agree."""
    spec = spec_for(DATA / "tiny.yaml", {"behaviour.temperature": 0.4,
                                         "behaviour.state.activation": 0.1})
    _, _, observed = observed_of(TARGETS)
    signed, votes = needed(observed)
    part = forecast_runs(str(DATA / "tiny.yaml"), {"behaviour.temperature": 0.4,
                                                   "behaviour.state.activation": 0.1},
                         list(range(120)), signed, votes)
    share, smooth = combine([part]), combine([part], smooth=True)
    for key in share.signed:
        assert np.abs(share.signed[key] - smooth.signed[key]).max() < 0.12
    assert np.abs(share.votes["code"] - smooth.votes["code"]).max() < 0.15
    assert spec.metadata.steps == 20


def test_vote_probabilities_match_the_frequencies_of_votes():
    vote = Vote(0, 1, 0.1, -0.2, np.ones(len(TERMS)), hedge=0.2)
    contributions = np.array([[0.5, -0.3, 0.05, 1.0], [-0.2, 0.1, 0.0, -0.9]])
    value, low, high = vote_band(vote, contributions)
    p = vote_probabilities(value, low, high, 0.3)
    assert np.allclose(p.sum(axis=1), 1)
    rng = np.random.default_rng(0)
    draws = np.array([vote_codes(value, low, high, 0.3 * rng.logistic(size=4))
                      for _ in range(20000)])
    for k, code in enumerate((1, 0, -1)):
        assert np.allclose((draws == code).mean(axis=0), p[:, k], atol=0.02)


def test_hedge_band_turns_cross_pressure_into_abstention():
    """Pulls of +1 and -0.9: a yes without the hedge band, an abstention with it."""
    contributions = np.array([[1.0], [-0.9]])
    for hedge, expected in ((0.0, 1), (0.3, 0)):
        vote = Vote(0, 1, 0.05, -0.05, np.ones(2), hedge=hedge)
        assert vote_codes(*vote_band(vote, contributions), np.zeros(1))[0] == expected
    one_sided = np.array([[1.0], [0.0]])
    vote = Vote(0, 1, 0.05, -0.05, np.ones(2), hedge=0.3)
    assert vote_codes(*vote_band(vote, one_sided), np.zeros(1))[0] == 1


def test_a_pull_one_way_only_does_not_widen_the_band():
    """Pulls of +0.6, +0.3 and -0.05 are no cross-pressure: the band widens by the
    smaller side (0.05), so the state votes yes; the sum of sizes (0.95, model 0.3.0)
    would have made it abstain."""
    contributions = np.array([[0.6], [0.3], [-0.05]])
    vote = Vote(0, 1, 0.05, -0.05, np.ones(3), hedge=1.0)
    value, low, high = vote_band(vote, contributions)
    assert high[0] == pytest.approx(0.1) and low[0] == pytest.approx(-0.1)
    assert vote_codes(value, low, high, np.zeros(1))[0] == 1


def test_late_joiners_are_scored_on_the_states_still_open():
    table = pd.DataFrame({
        "iso3": ["A", "B", "C", "A", "B", "C"],
        "outcome": ["p signed by 1"] * 3 + ["p signed by 2"] * 3,
        "observed": [1, 0, 0, 1, 1, 0], "forecast": [0.9, 0.2, 0.5, 0.95, 0.6, 0.5]})
    late = late_joiners(table, "p signed by 1", "p signed by 2")
    assert list(late["iso3"]) == ["B", "C"]
    assert late["forecast"].tolist() == pytest.approx([0.5, 0.0])
    assert late["outcome"].iloc[0] == "p late joiners (1 .. 2)"


# --- commands ---------------------------------------------------------------------------


def test_validate_fit_writes_forecasts_scores_and_reliability(tmp_path):
    out = tmp_path / "fit"
    code, stdout, _ = run_cli("validate-fit", TARGETS, "--reps", 4, "--out", out,
                              "--backend", "serial")
    assert code == 0 and "balanced_accuracy" in stdout and "code vote" in stdout
    table = pd.read_csv(out / "forecasts.csv")
    assert set(table["outcome"]) == {"call signed by 2020-02-03", "call signed by 2020-05-18",
                                     "code vote"}
    signed = table[table["forecast"].notna()]
    assert signed["forecast"].between(0, 1).all() and len(signed) == 12
    summary = pd.read_csv(out / "summary.csv")
    assert {"all", "non_eu"} <= set(summary["group"])
    assert summary["brier"].between(0, 2).all()
    assert (out / "reliability_call_signed_by_2020_02_03.png").is_file()
    assert (out / "reliability.csv").is_file()
    again = read_forecasts(out)
    assert len(again) == len(table)


def test_read_forecasts_names_a_bad_file(tmp_path):
    (tmp_path / "forecasts.csv").write_text("iso3,outcome\nAAA,x\n")
    code, _, err = run_cli("validate-fit", TARGETS, "--reps", 1, "--backend", "serial",
                           "--cross-validated", tmp_path)
    assert code == 2 and "forecasts.csv" in err and "columns iso3, outcome, observed" in err


def test_baseline_cross_validates_a_logistic_regression(tmp_path):
    code, stdout, _ = run_cli("baseline", TARGETS, "--out", tmp_path)
    assert code == 0 and "logistic regression, 2-fold cross-validated" in stdout
    table = pd.read_csv(tmp_path / "forecasts.csv")
    assert len(table) == 6 + 6 + 5
    votes = table[table["outcome"] == "code vote"]
    assert np.allclose(votes[["p_yes", "p_abstain", "p_no"]].sum(axis=1), 1)
    code, _, err = run_cli("baseline", TARGETS, "--penalty", 0)
    assert code == 2 and "--penalty" in err


def test_ablation_scores_each_point(tmp_path):
    code, stdout, _ = run_cli("validate-fit", TARGETS, "--reps", 2, "--backend", "serial",
                              "--ablation", DATA / "experiments" / "ablation_fit.yaml",
                              "--out", tmp_path)
    assert code == 0 and "no_peers" in stdout
    table = pd.read_csv(tmp_path / "ablation.csv")
    assert set(table["point"]) == {"baseline", "no_peers"}


@pytest.fixture(scope="module")
def cross_validated():
    lines = []
    return calibrate(TARGETS, backend="serial", log=lines.append, folds=True), lines


def test_calibration_fits_per_state_outcomes_and_cross_validates(cross_validated):
    result, lines = cross_validated
    # the run count first: (2 x 4 + 1) x 2 searched + 4 fit + 4 per state, and per fold
    # (2 folds) a search and a forecast: 18 + 8 + 2 x (18 + 4) = 70
    assert lines[0].startswith("calibration: 70 runs; 70 runs at about ")
    assert lines[1].startswith("cmaes: 2 generations x 4 candidates x 2 replications")
    search = result["search"]
    assert {"aggregate", "per_state", "prior"} <= set(search.columns)
    assert (search["per_state"] > 0).all()
    assert np.allclose(search["loss"], search["aggregate"] + search["per_state"]
                       + search["prior"])
    fit = result["per_state"].summary
    assert set(fit["outcome"]) >= {"call signed by 2020-02-03", "code vote"}
    cv = result["cross_validation"].table
    for outcome, rows in cv.groupby("outcome"):
        assert rows["iso3"].is_unique, outcome  # every state forecast once, by one fold
    assert sorted(result["folds"]["fold"]) == [1, 2]
    assert any(line.startswith("fold 2/2 cmaes") for line in lines)


def test_calibration_writes_per_state_and_cross_validation(cross_validated, tmp_path):
    from sim.outputs.report import write_calibration

    write_calibration(cross_validated[0], tmp_path)
    assert (tmp_path / "per_state" / "forecasts.csv").is_file()
    assert (tmp_path / "cross_validation" / "forecasts.csv").is_file()
    assert (tmp_path / "cross_validation" / "folds.csv").is_file()
    assert "Per-state fit" in (tmp_path / "fit.md").read_text()


def test_a_prior_must_name_a_parameter(tmp_path):
    text = TARGETS.read_text().replace("behaviour.state.threshold.mean: {mean",
                                       "behaviour.state.peers: {mean")
    (tmp_path / "t.yaml").write_text(text.replace("../", f"{DATA}/"))
    code, _, err = run_cli("calibrate", tmp_path / "t.yaml", "--backend", "serial")
    assert code == 2 and "priors.behaviour.state.peers" in err


def test_a_refit_starts_at_the_scenarios_values(tmp_path):
    """`start: scenario` seeds the search with the scenario's coefficients, not the priors'."""
    text = TARGETS.read_text().replace("replications: 2}", "replications: 2, start: scenario}")
    text = text.replace("{mean: 0.2, sd: 0.3}", "{mean: 0.8, sd: 0.3}")
    (tmp_path / "t.yaml").write_text(text.replace("../", f"{DATA}/"))
    result = calibrate(tmp_path / "t.yaml", backend="serial", log=lambda line: None)
    first = result["search"][result["search"]["stage"] == "generation 1"]
    start = first.iloc[-1]  # the start point, carried into the first generation
    assert start["behaviour.state.threshold.mean"] == 0.2  # the scenario's, not the prior's
    assert start["behaviour.state.capacity"] == 0.0


def test_cmaes_finds_the_minimum_of_a_quadratic():
    target = np.array([0.2, 0.7, 0.5, 0.9])
    strategy = CMAES(np.full(4, 0.5), 0.3, 10, seed=1)
    for _ in range(60):
        x = strategy.ask()
        strategy.tell(x, ((x - target) ** 2).sum(axis=1))
    assert np.abs(strategy.mean - target).max() < 0.02


# --- mechanisms: switches, cues, non-adoption, two-stage votes -------------------------

NEW_TERMS = ("capacity", "regime", "ties", "cue")
MECHANISMS = {
    "world.states.capacity": {"democracy": 1.0},
    "world.states.regime": {"member_of.nato": 1.0},
    "proposals.call.regime": 1.0,
    "proposals.call.ties": {"member_of.eu": 1.0},
    "groups": {"g20": {"members": {"member_of": ["g20"]}, "leaders_largest": 1}},
}


@pytest.mark.parametrize("term", NEW_TERMS)
def test_each_new_term_switches_off_with_its_coefficient(tiny_spec, term):
    """An ablation switch per mechanism: the coefficient 0 removes the term everywhere."""
    on = with_overrides(tiny_spec, {**MECHANISMS, f"behaviour.state.{term}": 1.0})
    model = NormDiplomacyModel(on, rng=1)
    for _ in range(3):
        model.step()
    column = term_arrays(model.world)[TERMS.index(term)][:6, 0]
    assert np.abs(column).max() > 0
    off = NormDiplomacyModel(with_overrides(on, {f"behaviour.state.{term}": 0.0}), rng=1)
    for _ in range(3):
        off.step()
    assert all(utility_terms(off.world, i, 0)[term] == 0 for i in range(6))


def test_groups_are_led_by_their_largest_members(tiny_spec):
    spec = with_overrides(tiny_spec, {"groups": {
        "g20": {"members": {"member_of": ["g20"]}, "leaders_largest": 2},
        "named": {"members": {}, "leaders": ["CCC"], "leaders_largest": 1}}})
    world = build_world(spec, 1)
    g20 = [world.ids[i] for i in world.group_leaders[0]]
    weights = {world.ids[i]: world.weight[i] for i in range(6) if world.group_member[i, 0]}
    assert g20 == sorted(weights, key=weights.get, reverse=True)[:2]
    assert [world.ids[i] for i in world.group_leaders[1]][0] == "CCC"
    firm = world.slices["firm"].start
    assert (world.group_member[firm] == world.group_member[world.home[firm]]).all()


def test_a_leader_who_declined_sends_a_negative_signal(tiny_spec):
    """FFF leads `west`: having considered and not signed, it shows -non_adoption."""
    spec = with_overrides(tiny_spec, {"behaviour.non_adoption": 0.5})
    world = build_world(spec, 1)
    fff, follower = world.index_of["FFF"], world.index_of["AAA"]
    assert world.bloc[follower] == world.bloc[fff]
    leader = TERMS.index("leader")
    assert term_arrays(world)[leader, follower, 0] == 0.0
    world.considered[fff, 0] = True
    assert term_arrays(world)[leader, follower, 0] == pytest.approx(-0.5 * 0.6)


@pytest.mark.parametrize("two_stage", [True, False])
def test_two_stage_votes_follow_the_leaders_votes(tiny_spec, two_stage):
    """FFF leads `west`. Made to favour the text, and neither signed nor opposed, it votes
    yes first; with a strong leader term the other members of `west` (who dislike the
    text) then vote yes too. In one stage they read FFF's stance (none) and vote no."""
    overrides = {"proposals.code.un_vote": {"at": "2020-03-02", "yes_above": 0.0,
                                            "no_below": 0.0, "two_stage": two_stage,
                                            "terms": ["align", "leader"]},
                 "behaviour.temperature": 0.0, "behaviour.state.leader": 5.0,
                 "behaviour.state.activation": 0.0}
    model = NormDiplomacyModel(with_overrides(tiny_spec, overrides), rng=2)
    world = model.world
    vote_step = model.spec.step_of(model.spec.proposals["code"].un_vote.at)
    for _ in range(vote_step - 1):
        model.step()
    west, fff = world.bloc_ids.index("west"), world.index_of["FFF"]
    world.interests[fff] = np.sign(world.content[1])
    world.interests_changed()
    world.signed[fff, 1] = world.opposed[fff, 1] = world.considered[fff, 1] = False
    model.step()
    followers = [i for i in range(6) if world.bloc[i] == west and i != fff]
    assert followers and world.votes[fff, 1] == 1
    expected = 1 if two_stage else -1
    assert all(world.votes[i, 1] == expected for i in followers)


def test_regional_ties_link_members_of_listed_organisations(tiny_spec):
    none = build_world(tiny_spec, 1).network
    spec = with_overrides(tiny_spec, {"world.network.regional": {"weight": 2.0,
                                                                 "orgs": ["brics"]}})
    world = build_world(spec, 1)
    added = (world.network - none).toarray()[:6, :6]
    brics = world.membership[:6, world.membership_names.index("brics")]
    expected = 2.0 * np.outer(brics, brics)
    np.fill_diagonal(expected, 0)
    assert np.allclose(added, expected)


def test_a_roster_without_the_optional_columns_still_loads():
    """tiny_states.csv predates the regional and French-ties columns."""
    from sim.data.roster import load_states

    table = load_states(str(DATA / "tiny_states.csv"))
    assert "caricom" not in table.memberships and "eu" in table.memberships
    packaged = load_states()
    assert {"caricom", "coe", "franc_zone"} <= set(packaged.memberships)
    assert "budapest_convention" in packaged.numbers


def test_the_roster_takes_no_column_built_from_recorded_un_votes(tmp_path):
    """Voting agreement with a state is built from recorded votes: an outcome, not an input."""
    from sim.data.roster import load_states

    packaged = load_states()
    assert not [c for c in packaged.frame.columns if "agreement" in c or "coincidence" in c]
    frame = pd.read_csv(ROOT / "sim" / "data" / "states_2018.csv", dtype=str,
                        keep_default_na=False)
    path = tmp_path / "states.csv"
    frame.assign(un_agreement_usa_2017="0.5").to_csv(path, index=False)
    with pytest.raises(InputError, match="un_agreement_usa_2017"):
        load_states(str(path))


def test_the_training_copy_matches_its_shared_source():
    shared = ROOT.parent / "shared" / "validation" / "states_train_2018.csv"
    copy = ROOT / "experiments" / "validation" / "states_train_2018.csv"
    if not shared.is_file():
        pytest.skip("the shared validation folder is not beside this checkout")
    assert copy.read_bytes() == shared.read_bytes()
