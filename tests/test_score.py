"""Scoring simulated per-actor outcomes against an observed table (sim.studies.score,
`cybernorms score`): probabilities per actor, Brier, AUC, balanced accuracy, confusion
counts, dates, UN votes, and the errors of a bad observed table."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.errors import InputError
from sim.studies.score import VOTES, auc, binary_scores, score
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"
REPS = 6

cli = run_cli


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """`cybernorms run tests/data/tiny.yaml --reps 6 --out DIR`."""
    out = tmp_path_factory.mktemp("score") / "run"
    code, _, _ = cli("run", TINY, "--reps", REPS, "--out", out)
    assert code == 0
    return out


@pytest.fixture(scope="module")
def actors(results) -> pd.DataFrame:
    return pd.read_parquet(results / "actors.parquet")


@pytest.fixture(scope="module")
def votes(results) -> pd.DataFrame:
    return pd.read_parquet(results / "votes.parquet")


def observed(tmp_path: Path, rows: list[dict], name: str = "observed.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def share_signed_by(actors: pd.DataFrame, actor: str, proposal: str, step: int) -> float:
    """By hand: the share of runs whose first signature came at or before `step`."""
    mine = actors[(actors["actor_id"] == actor) & (actors["proposal"] == proposal)]
    assert len(mine) == REPS
    first = mine["signed_step"]
    return float(sum(1 for s in first if not pd.isna(s) and s <= step) / REPS)


STATES = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
NAMED = STATES + ["acme_corp", "blue_telecom", "red_systems"]


# --- hand examples of the scores ----------------------------------------------------------


def test_auc_by_hand_with_ties():
    """Positives 0.9, 0.5; negatives 0.5, 0.2: pairs won 1 + 1 + 1, tied 1 -> 3.5 / 4."""
    p = np.array([0.9, 0.5, 0.5, 0.2])
    y = np.array([1, 1, 0, 0])
    assert auc(p, y) == 0.875
    u = stats.mannwhitneyu(p[y == 1], p[y == 0]).statistic
    assert auc(p, y) == pytest.approx(u / 4)


def test_auc_extremes():
    y = np.array([1, 0, 1, 0])
    assert auc(np.array([0.8, 0.1, 0.7, 0.2]), y) == 1.0
    assert auc(np.array([0.1, 0.8, 0.2, 0.7]), y) == 0.0
    assert auc(np.full(4, 0.3), y) == 0.5
    assert np.isnan(auc(np.array([0.2, 0.4]), np.array([1, 1])))


def test_binary_scores_by_hand():
    """Threshold 0.5: TP 1 (0.9), FP 2 (0.6, 0.5), FN 1 (0.4), TN 1 (0.1);
    sensitivity 1/2, specificity 1/3; Brier (0.01 + 0.36 + 0.36 + 0.25 + 0.01) / 5."""
    p = np.array([0.9, 0.6, 0.4, 0.5, 0.1])
    y = np.array([1, 0, 1, 0, 0])
    scores = binary_scores(p, y)
    assert (scores["true_positive"], scores["false_positive"], scores["false_negative"],
            scores["true_negative"]) == (1, 2, 1, 1)
    assert scores["balanced_accuracy"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert scores["brier"] == pytest.approx(0.198)
    assert scores["observed_rate"] == pytest.approx(0.4)
    assert scores["actors"] == 5
    assert scores["auc"] == pytest.approx(auc(p, y))


def test_balanced_accuracy_with_one_class_uses_the_defined_rate():
    scores = binary_scores(np.array([0.9, 0.2]), np.array([1, 1]))
    assert scores["balanced_accuracy"] == 0.5  # sensitivity 1/2; specificity undefined
    assert np.isnan(scores["auc"])


# --- signatures -------------------------------------------------------------------------


def test_probability_per_actor_is_the_share_of_runs_signed(results, actors, tmp_path):
    """Each named actor's probability (by the last step) is the share of the 6 runs in
    which it had signed, computed here from the actors table (firms only on `call`: `code`
    is open to states)."""
    pairs = [(a, "call") for a in NAMED] + [(a, "code") for a in STATES]
    rows = [{"actor": a, "proposal": p, "signed": 1} for a, p in pairs]
    result = score(results, observed(tmp_path, rows))
    got = result.signatures.set_index(["actor", "proposal"])["probability"]
    for actor, proposal in pairs:
        assert got[(actor, proposal)] == share_signed_by(actors, actor, proposal, 20)
    assert (result.signatures["by"] == "end").all()
    assert (result.signatures["error"] ==
            result.signatures["probability"] - result.signatures["observed"]).all()


def test_perfect_forecaster_scores_brier_0_and_auc_1(results, actors, tmp_path):
    """Observed = what the runs agree on (actors whose probability is 0 or 1, at least one
    of each): Brier 0, AUC 1, balanced accuracy 1, no false positives or negatives."""
    rows = []
    for actor, proposal in [(a, "call") for a in NAMED] + [(a, "code") for a in STATES]:
        p = share_signed_by(actors, actor, proposal, 20)
        if p in (0.0, 1.0):
            rows.append({"actor": actor, "proposal": proposal, "signed": int(p)})
    by_proposal = pd.DataFrame(rows).groupby("proposal")["signed"].nunique()
    assert (by_proposal == 2).any(), "the tiny runs should agree on signers and non-signers"
    result = score(results, observed(tmp_path, rows))
    for row in result.summary.itertuples():
        assert row.brier == 0.0
        assert row.false_positive == 0 and row.false_negative == 0
        if by_proposal[row.proposal] == 2:
            assert row.auc == 1.0 and row.balanced_accuracy == 1.0
    assert (result.signatures["error"] == 0).all()


def test_summary_scores_match_the_per_actor_table(results, tmp_path):
    """The summary of each proposal is binary_scores of its per-actor rows."""
    observed_signed = {"AAA": 1, "BBB": 0, "CCC": 1, "DDD": 1, "EEE": 0, "FFF": 1}
    rows = [{"actor": a, "proposal": "call", "signed": s} for a, s in observed_signed.items()]
    result = score(results, observed(tmp_path, rows))
    (summary,) = result.summary.to_dict("records")
    expected = binary_scores(result.signatures["probability"].to_numpy(),
                             result.signatures["observed"].to_numpy())
    for key, value in expected.items():
        assert summary[key] == pytest.approx(value, nan_ok=True), key
    assert (summary["outcome"], summary["proposal"], summary["by"], summary["runs"]) == (
        "signed", "call", "end", REPS)


def test_by_dates_use_the_first_signature_step(results, actors, tmp_path, tiny_spec):
    """`by` a date: the share of runs whose first signature step is at or before the step
    containing that date (a week from 2020-01-06); each date is scored separately."""
    dates = ["2020-01-06", "2020-01-12", "2020-01-13", "2020-02-09", "2020-03-30"]
    rows = [{"actor": a, "proposal": "call", "signed": 1, "by": d}
            for a in NAMED for d in dates]
    result = score(results, observed(tmp_path, rows))
    for row in result.signatures.itertuples():
        step = tiny_spec.step_of(date.fromisoformat(row.by))
        assert row.probability == share_signed_by(actors, row.actor, "call", step)
    assert tiny_spec.step_of(date(2020, 1, 12)) == 1 and tiny_spec.step_of(date(2020, 1, 13)) == 2
    assert list(result.summary["by"]) == dates
    # someone's first signature is later than step 1 in some run, so dates matter
    first = result.signatures.pivot(index="actor", columns="by", values="probability")
    assert (first["2020-03-30"] >= first["2020-01-06"]).all()
    assert (first["2020-03-30"] > first["2020-01-06"]).any()


def test_withdrawn_signers_count_as_having_signed(results, actors, tmp_path):
    """Signature rows use the first signature, so an actor who later withdrew still had
    signed by the end (it differs from the `signed` column at the end of the run)."""
    withdrawn = actors[actors["withdrawn_step"].notna() & ~actors["actor_id"].str.match(
        r"^(firm|civil)_")]
    if withdrawn.empty:
        pytest.skip("no named actor withdrew in these runs")
    actor, proposal = withdrawn.iloc[0][["actor_id", "proposal"]]
    result = score(results, observed(tmp_path, [{"actor": actor, "proposal": proposal,
                                                 "signed": 1}]))
    mine = actors[(actors["actor_id"] == actor) & (actors["proposal"] == proposal)]
    assert result.signatures["probability"].iloc[0] == mine["signed_step"].notna().mean()
    assert result.signatures["probability"].iloc[0] > mine["signed"].mean()


# --- votes ------------------------------------------------------------------------------


def test_votes_multiclass_brier_accuracy_and_confusion(results, votes, tmp_path):
    """Vote rows: the share of runs with each vote, the most likely vote, the multi-class
    Brier score, accuracy, the AUC of yes-vs-rest and the 3 x 3 confusion counts, all
    recomputed here from the votes table."""
    truth = {"AAA": "no", "BBB": "yes", "CCC": "abstain", "DDD": "yes", "EEE": "abstain",
             "FFF": "yes"}
    rows = [{"actor": a, "proposal": "code", "vote": v} for a, v in truth.items()]
    result = score(results, observed(tmp_path, rows))
    table = result.votes.set_index("actor")
    brier, correct, confusion = [], 0, {}
    p_yes, is_yes = [], []
    for actor, observed_vote in truth.items():
        mine = votes[(votes["iso3"] == actor) & (votes["proposal"] == "code")]
        assert len(mine) == REPS
        shares = [float((mine["vote"] == v).mean()) for v in VOTES]
        assert [table.loc[actor, f"p_{v}"] for v in VOTES] == shares
        predicted = VOTES[int(np.argmax(shares))]
        assert table.loc[actor, "predicted"] == predicted
        brier.append(sum((s - (v == observed_vote)) ** 2 for s, v in zip(shares, VOTES,
                                                                        strict=True)))
        correct += predicted == observed_vote
        confusion[(observed_vote, predicted)] = confusion.get((observed_vote, predicted), 0) + 1
        p_yes.append(shares[0])
        is_yes.append(int(observed_vote == "yes"))
    (summary,) = result.summary.to_dict("records")
    assert (summary["outcome"], summary["proposal"], summary["actors"]) == ("vote", "code", 6)
    assert summary["brier"] == pytest.approx(np.mean(brier))
    assert summary["accuracy"] == pytest.approx(correct / 6)
    assert summary["auc"] == pytest.approx(auc(np.array(p_yes), np.array(is_yes)))
    for o in VOTES:
        for p in VOTES:
            assert summary[f"observed_{o}_predicted_{p}"] == confusion.get((o, p), 0), (o, p)
    assert sum(summary[f"observed_{o}_predicted_{p}"] for o in VOTES for p in VOTES) == 6


def test_signatures_and_votes_in_one_file(results, tmp_path):
    rows = [{"actor": "AAA", "proposal": "call", "signed": 1, "vote": ""},
            {"actor": "BBB", "proposal": "code", "signed": "", "vote": "yes"}]
    result = score(results, observed(tmp_path, rows))
    assert list(result.summary["outcome"]) == ["signed", "vote"]
    assert len(result.signatures) == 1 and len(result.votes) == 1


# --- errors -----------------------------------------------------------------------------

ERRORS = {
    "unknown actor": ([{"actor": "AAA", "proposal": "call", "signed": 1},
                       {"actor": "ZZZ", "proposal": "call", "signed": 1}], "row 3: actor", "ZZZ"),
    "unknown proposal": ([{"actor": "AAA", "proposal": "paris_call", "signed": 1}],
                         "row 2: proposal", "paris_call"),
    "signed 2": ([{"actor": "AAA", "proposal": "call", "signed": 2}], "row 2: signed", "'2'"),
    "bad date": ([{"actor": "AAA", "proposal": "call", "signed": 1, "by": "2020-13-45"}],
                 "row 2: by", "2020-13-45"),
    "bad vote": ([{"actor": "AAA", "proposal": "code", "vote": "maybe"}], "row 2: vote",
                 "maybe"),
    "vote without a UN vote": ([{"actor": "AAA", "proposal": "code", "vote": "yes"},
                                {"actor": "AAA", "proposal": "call", "vote": "yes"}],
                               "row 3: vote", "call"),
    "missing columns": ([{"actor": "AAA", "signed": 1}], "proposal", None),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_observed_table_names_file_row_and_field(results, tmp_path, case):
    rows, where, value = ERRORS[case]
    path = observed(tmp_path, rows, name="facts.csv")
    with pytest.raises(InputError) as caught:
        score(results, path)
    message = str(caught.value)
    assert str(path) in message and where in message
    if value is not None:
        assert value in message


def test_every_unknown_name_is_reported_at_once(results, tmp_path):
    rows = [{"actor": "ZZZ", "proposal": "call", "signed": 1},
            {"actor": "AAA", "proposal": "nope", "signed": 1}]
    with pytest.raises(InputError) as caught:
        score(results, observed(tmp_path, rows))
    fields = [p.field for p in caught.value.problems]
    assert fields == ["row 2: actor", "row 3: proposal"]


def test_results_directory_without_actors_table(tmp_path):
    rows = [{"actor": "AAA", "proposal": "call", "signed": 1}]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError) as caught:
        score(empty, observed(tmp_path, rows))
    assert str(empty) in str(caught.value) and "actors.parquet" in str(caught.value)


def test_missing_observed_file(results, tmp_path):
    with pytest.raises(InputError) as caught:
        score(results, tmp_path / "nope.csv")
    assert "nope.csv" in str(caught.value)


# --- command line -----------------------------------------------------------------------


def test_cli_score_prints_the_summary_and_writes_tables(results, tmp_path):
    rows = [{"actor": a, "proposal": "call", "signed": 1, "vote": ""} for a in STATES]
    rows += [{"actor": a, "proposal": "code", "signed": "", "vote": "yes"} for a in STATES]
    path = observed(tmp_path, rows)
    out = tmp_path / "scores"
    code, stdout, _ = cli("score", results, "--observed", path, "--out", out)
    assert code == 0
    assert stdout.startswith("| outcome | proposal | by | runs |")
    for name in ("summary", "signatures", "votes"):
        assert len(pd.read_csv(out / f"score_{name}.csv"))


def test_cli_score_bad_table_exits_2(results, tmp_path):
    path = observed(tmp_path, [{"actor": "AAA", "proposal": "call", "signed": 7}])
    code, _, err = cli("score", results, "--observed", path)
    assert code == 2 and "row 2: signed" in err


def test_row_without_signed_or_vote_is_an_error(results, tmp_path):
    rows = [{"actor": "AAA", "proposal": "call", "signed": 1, "vote": ""},
            {"actor": "BBB", "proposal": "call", "signed": "", "vote": ""}]
    with pytest.raises(InputError) as caught:
        score(results, observed(tmp_path, rows))
    assert "row 3" in str(caught.value)
