"""`cybernorms score RESULTS --observed FILE`: simulated per-actor outcomes vs observed.

RESULTS is the --out directory of `cybernorms run --reps N` (its actors and votes
tables). The observed table, supplied by the user, is a CSV with columns

    actor      iso3 of a state, or the id of a named actor
    proposal   proposal id
    signed     1 / 0: had signed by `by`             (signature rows), or
    vote       yes / abstain / no                     (vote rows)
    by         date (YYYY-MM-DD), optional for signature rows: default the last step

For signatures the forecast is the share of runs in which the actor had signed by
that date (its first signature); for votes, the share of runs with each vote.
Scores: Brier score, AUC (probability that a random signer is ranked above a random
non-signer), balanced accuracy at probability 0.5, and the confusion table; for votes,
the multi-class Brier score, accuracy of the most likely vote, the 3 x 3 confusion
table and the AUC of "yes" against the rest. Per-actor rows say where the model is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError, problem
from sim.scenario.loading import load_scenario

VOTES = ("yes", "abstain", "no")


def auc(probability: np.ndarray, outcome: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties counted half)."""
    positive, negative = probability[outcome == 1], probability[outcome == 0]
    if len(positive) == 0 or len(negative) == 0:
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).sum()
    ties = (positive[:, None] == negative[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positive) * len(negative)))


def binary_scores(probability: np.ndarray, outcome: np.ndarray) -> dict:
    predicted = probability >= 0.5
    tp = int((predicted & (outcome == 1)).sum())
    tn = int((~predicted & (outcome == 0)).sum())
    fp = int((predicted & (outcome == 0)).sum())
    fn = int((~predicted & (outcome == 1)).sum())
    sensitivity = tp / (tp + fn) if tp + fn else float("nan")
    specificity = tn / (tn + fp) if tn + fp else float("nan")
    return {
        "actors": int(len(outcome)),
        "observed_rate": float(outcome.mean()) if len(outcome) else float("nan"),
        "brier": float(np.mean((probability - outcome) ** 2)),
        "auc": auc(probability, outcome),
        "balanced_accuracy": float(np.nanmean([sensitivity, specificity])),
        "true_positive": tp, "false_positive": fp, "false_negative": fn, "true_negative": tn,
    }


def _read_observed(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(problem(path, "", "an existing CSV file of observed outcomes"))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("actor", "proposal") if c not in frame.columns]
    if missing or not ({"signed", "vote"} & set(frame.columns)):
        raise InputError(problem(path, ", ".join(missing) or "signed/vote",
                                 "columns actor, proposal and signed (with optional by) "
                                 "or vote"))
    return frame


def _load_run(directory: Path):
    actors_path = directory / "actors.parquet"
    if not actors_path.is_file():
        raise InputError(problem(directory, "", "the --out directory of `cybernorms run` "
                                 "(with actors.parquet; use --reps for probabilities)"))
    actors = pd.read_parquet(actors_path)
    votes_path = directory / "votes.parquet"
    votes = pd.read_parquet(votes_path) if votes_path.is_file() else pd.DataFrame()
    spec = load_scenario(directory / "scenario.yaml")
    return actors, votes, spec


@dataclass
class Score:
    signatures: pd.DataFrame  # per actor
    votes: pd.DataFrame  # per state and proposal
    summary: pd.DataFrame  # one row per (kind of outcome, proposal)


def score(results: str | Path, observed: str | Path) -> Score:
    results, observed = Path(results), Path(observed)
    actors, votes, spec = _load_run(results)
    table = _read_observed(observed)
    runs = actors["run_id"].nunique()
    known = set(actors["actor_id"])
    problems = []
    for row, actor in enumerate(table["actor"], start=2):
        if actor not in known:
            problems.append(problem(observed, f"row {row}: actor", "an actor id in the results "
                                    "(iso3 of a state or a named actor's id)", actor))
    for row, proposal in enumerate(table["proposal"], start=2):
        if proposal not in spec.proposals:
            problems.append(problem(observed, f"row {row}: proposal",
                                    f"one of {sorted(spec.proposals)}", proposal))
    if problems:
        raise InputError(problems)

    signature_rows, vote_rows = [], []
    last = spec.metadata.steps
    first = actors.groupby(["actor_id", "proposal"])
    for row, record in enumerate(table.to_dict("records"), start=2):
        key = (record["actor"], record["proposal"])
        if record.get("signed", "") != "":
            if record["signed"] not in ("0", "1"):
                raise InputError(problem(observed, f"row {row}: signed", "0 or 1",
                                         record["signed"]))
            by = record.get("by") or ""
            try:
                step = spec.step_of(date.fromisoformat(by)) if by else last
            except ValueError:
                raise InputError(problem(observed, f"row {row}: by", "a date YYYY-MM-DD",
                                         by)) from None
            steps = first.get_group(key)["signed_step"]
            probability = float(((steps.notna()) & (steps <= step)).sum() / runs)
            signature_rows.append({"actor": key[0], "proposal": key[1], "by": by or "end",
                                   "observed": int(record["signed"]),
                                   "probability": probability})
        elif record.get("vote", "") != "":
            if record["vote"] not in VOTES:
                raise InputError(problem(observed, f"row {row}: vote", "yes, abstain or no",
                                         record["vote"]))
            mine = votes[(votes["iso3"] == key[0]) & (votes["proposal"] == key[1])] if len(
                votes) else votes
            if mine.empty:
                raise InputError(problem(observed, f"row {row}: vote", "a proposal with a UN "
                                         "vote in the results", key[1]))
            shares = {v: float((mine["vote"] == v).mean()) for v in VOTES}
            vote_rows.append({"actor": key[0], "proposal": key[1], "observed": record["vote"],
                              **{f"p_{v}": shares[v] for v in VOTES}})
        else:
            raise InputError(problem(observed, f"row {row}", "a value in `signed` (0/1) or in "
                                     "`vote` (yes/abstain/no)", record))
    signatures = pd.DataFrame(signature_rows)
    vote_table = pd.DataFrame(vote_rows)
    summary = []
    if len(signatures):
        signatures["error"] = signatures["probability"] - signatures["observed"]
        for (proposal, by), group in signatures.groupby(["proposal", "by"], sort=False):
            summary.append({"outcome": "signed", "proposal": proposal, "by": by, "runs": runs,
                            **binary_scores(group["probability"].to_numpy(),
                                            group["observed"].to_numpy())})
    if len(vote_table):
        probabilities = vote_table[[f"p_{v}" for v in VOTES]].to_numpy()
        vote_table["predicted"] = [VOTES[i] for i in probabilities.argmax(axis=1)]
        for proposal, group in vote_table.groupby("proposal", sort=False):
            p = group[[f"p_{v}" for v in VOTES]].to_numpy()
            truth = np.array([[o == v for v in VOTES] for o in group["observed"]], float)
            confusion = pd.crosstab(group["observed"], group["predicted"])
            row = {"outcome": "vote", "proposal": proposal, "by": "vote", "runs": runs,
                   "actors": len(group), "brier": float(np.mean(np.sum((p - truth) ** 2, 1))),
                   "accuracy": float((group["predicted"] == group["observed"]).mean()),
                   "auc": auc(p[:, 0], truth[:, 0])}
            for observed_vote in VOTES:
                for predicted_vote in VOTES:
                    count = confusion.get(predicted_vote, {}).get(observed_vote, 0)
                    row[f"observed_{observed_vote}_predicted_{predicted_vote}"] = int(count)
            summary.append(row)
    return Score(signatures=signatures, votes=vote_table, summary=pd.DataFrame(summary))


__all__ = ["Score", "auc", "binary_scores", "score"]
