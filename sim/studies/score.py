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

The table is read with an explicit encoding (UTF-8 unless told) and every cell as
text, then checked as a whole before anything is scored: known actors and proposals,
0/1 and yes/abstain/no values, `by` dates inside the run, actors whose kind may sign
the proposal, no row given twice. Scoring is vectorised (200,000 rows in about a second).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats

from sim import limits
from sim.errors import InputError, boundary, problem
from sim.scenario.loading import load_scenario

VOTES = ("yes", "abstain", "no")
#: at most this many problems are listed one by one; the rest are counted
SHOWN = 10


def auc(probability: np.ndarray, outcome: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties counted half), from ranks."""
    probability, outcome = np.asarray(probability, float), np.asarray(outcome)
    positive = outcome == 1
    n_pos, n_neg = int(positive.sum()), int((outcome == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(probability)  # ties get their mean rank: counted half
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


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


def _rows(path: Path, frame: pd.DataFrame, bad: pd.Series, field: str, expected: str,
          values: pd.Series | None = None) -> list:
    """Problems for the rows where `bad` holds: the first few named, the rest counted."""
    rows = frame.index[bad.to_numpy()]
    shown = [problem(path, f"row {row}: {field}", expected,
                     values.loc[row] if values is not None else _MISSING_VALUE)
             for row in rows[:SHOWN]]
    if len(rows) > SHOWN:
        shown.append(problem(path, field, f"{expected} (and {len(rows) - SHOWN} more rows "
                             "like these)"))
    return shown


_MISSING_VALUE = object()


def _problem_rows(found: list) -> list:
    return [problem(p.file, p.field, p.expected) if p.value is _MISSING_VALUE else p
            for p in found]


def read_observed(path: str | Path, encoding: str = "utf-8") -> pd.DataFrame:
    """The observed table as text cells, indexed by row number in the file (2 = first row
    below the header); every structural problem is an InputError naming file and row."""
    path = Path(path)
    frame = limits.read_csv(path, "CSV file of observed outcomes", encoding,
                            other=", or give its encoding, e.g. --encoding latin-1")
    missing = [c for c in ("actor", "proposal") if c not in frame.columns]
    if missing or not ({"signed", "vote"} & set(frame.columns)):
        raise InputError(problem(path, ", ".join(missing) or "signed/vote",
                                 "columns actor, proposal and signed (with optional by) "
                                 "or vote"))
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    for column in ("actor", "proposal", "signed", "vote", "by"):
        frame[column] = frame[column].str.strip() if column in frame else ""
    return frame


def _load_run(directory: Path):
    actors_path = directory / "actors.parquet"
    if not actors_path.is_file():
        raise InputError(problem(directory, "", "the --out directory of `cybernorms run` "
                                 "(with actors.parquet; use --reps for probabilities)"))
    votes_path = directory / "votes.parquet"
    try:
        actors = pd.read_parquet(actors_path, columns=["run_id", "actor_id", "kind", "proposal",
                                                       "eligible", "signed_step"])
        votes = pd.read_parquet(votes_path) if votes_path.is_file() else pd.DataFrame()
    except (pa.ArrowException, OSError, KeyError, ValueError) as exc:
        raise InputError(problem(directory, "actors.parquet, votes.parquet", "the tables "
                                 f"`cybernorms run --out` writes ({type(exc).__name__})")) \
            from None
    spec = load_scenario(directory / "scenario.yaml")
    return actors, votes, spec


@dataclass
class Score:
    signatures: pd.DataFrame  # per actor
    votes: pd.DataFrame  # per state and proposal
    summary: pd.DataFrame  # one row per (kind of outcome, proposal)


def _step_of_dates(texts: pd.Series, spec, path: Path, problems: list) -> pd.Series:
    """`by` texts -> steps (the last step where empty); bad or out-of-run dates are problems."""
    last = spec.metadata.steps
    first_day = spec.timeline.date_of_step(1)
    last_day = spec.timeline.date_of_step(last + 1) - timedelta(days=1)
    steps, bad, outside = {}, [], []
    for text in texts.unique():
        if text == "":
            steps[text] = last
            continue
        try:
            when = date.fromisoformat(text)
        except ValueError:
            bad.append(text)
            continue
        if not first_day <= when <= last_day:
            outside.append(text)
            continue
        steps[text] = spec.step_of(when)
    frame = texts.to_frame("by")
    problems += _rows(path, frame, texts.isin(bad), "by", "a date YYYY-MM-DD", texts)
    problems += _rows(path, frame, texts.isin(outside), "by", f"a date inside the run, from "
                      f"{first_day} to {last_day}", texts)
    return texts.map(steps)


@boundary
def score(results: str | Path, observed: str | Path, *, encoding: str = "utf-8") -> Score:
    """Score the runs in `results` against the observed CSV (see the module docstring)."""
    results, observed = Path(results), Path(observed)
    actors, votes, spec = _load_run(results)
    table = read_observed(observed, encoding)
    runs = actors["run_id"].nunique()
    known = set(actors["actor_id"])
    problems = _rows(observed, table, ~table["actor"].isin(known), "actor", "an actor id in "
                     "the results (iso3 of a state or a named actor's id)", table["actor"])
    problems += _rows(observed, table, ~table["proposal"].isin(list(spec.proposals)),
                      "proposal", f"one of {sorted(spec.proposals)}", table["proposal"])
    if problems:
        raise InputError(_problem_rows(problems))

    signed, vote = table["signed"], table["vote"]
    is_signature, is_vote = signed != "", (signed == "") & (vote != "")
    problems += _rows(observed, table, (signed != "") & (vote != ""), "signed, vote",
                      "a value in one of signed or vote, not both")
    problems += _rows(observed, table, (signed == "") & (vote == ""), "signed, vote",
                      "a value in `signed` (0/1) or in `vote` (yes/abstain/no)")
    problems += _rows(observed, table, is_signature & ~signed.isin(["0", "1"]), "signed",
                      "0 or 1", signed)
    problems += _rows(observed, table, is_vote & ~vote.isin(VOTES), "vote",
                      "yes, abstain or no", vote)
    steps = _step_of_dates(table.loc[is_signature, "by"], spec, observed, problems)

    eligibility = actors.drop_duplicates(["actor_id", "proposal"]).set_index(
        ["actor_id", "proposal"])
    keys = pd.MultiIndex.from_frame(table[["actor", "proposal"]])
    eligible = pd.Series(eligibility["eligible"].reindex(keys).to_numpy(), index=table.index)
    kinds = pd.Series(eligibility["kind"].reindex(keys).to_numpy(), index=table.index)
    for pid, proposal in spec.proposals.items():
        problems += _rows(observed, table, is_signature & (table["proposal"] == pid)
                          & (eligible != True),  # noqa: E712 (a nullable column)
                          "actor", f"an actor whose kind may sign {pid} (open to "
                          f"{', '.join(proposal.open_to)})",
                          table["actor"] + " (" + kinds.astype(str) + ")")
    sign_key = table["actor"] + "|" + table["proposal"] + "|" + table["by"]
    problems += _duplicates(observed, table, is_signature, sign_key, "signature")
    vote_key = table["actor"] + "|" + table["proposal"]
    problems += _duplicates(observed, table, is_vote, vote_key, "vote")
    if problems:
        raise InputError(_problem_rows(problems))

    signatures = _signature_rows(actors, table[is_signature], steps, runs)
    vote_table = _vote_rows(votes, table[is_vote], observed, spec)
    return Score(signatures=signatures, votes=vote_table,
                 summary=_summary(signatures, vote_table, runs))


def _duplicates(path: Path, table: pd.DataFrame, mask: pd.Series, key: pd.Series,
                what: str) -> list:
    keyed = key[mask]
    twice = keyed[keyed.duplicated(keep=False)]
    if twice.empty:
        return []
    first = twice.groupby(twice, sort=False).head(1)
    later = twice[~twice.index.isin(first.index)]
    return [problem(path, f"row {row}", f"each {what} once (row {first[first == value].index[0]}"
                    " gives the same actor, proposal" + (" and date" if what == "signature"
                                                         else "") + ")",
                    value.replace("|", ", ").rstrip(", "))
            for row, value in later.head(SHOWN).items()] + (
        [problem(path, "", f"each {what} once (and {len(later) - SHOWN} more repeated rows)")]
        if len(later) > SHOWN else [])


def _signature_rows(actors: pd.DataFrame, rows: pd.DataFrame, steps: pd.Series,
                    runs: int) -> pd.DataFrame:
    """Share of runs in which each actor had first signed by the row's step (vectorised:
    sorted (pair, step) keys and two binary searches per row)."""
    if rows.empty:
        return pd.DataFrame()
    pairs = pd.concat([actors["actor_id"] + "|" + actors["proposal"],
                       rows["actor"] + "|" + rows["proposal"]], ignore_index=True)
    codes, _ = pd.factorize(pairs)
    actor_codes, row_codes = codes[:len(actors)], codes[len(actors):]
    signed = actors["signed_step"].notna().to_numpy()
    first = actors["signed_step"].to_numpy(dtype=float, na_value=np.nan)[signed]
    wanted = steps.to_numpy(dtype=np.int64)
    span = int(max(np.nanmax(first, initial=0), wanted.max(initial=0))) + 3
    keys = np.sort(actor_codes[signed].astype(np.int64) * span + first.astype(np.int64) + 1)
    low = np.searchsorted(keys, row_codes.astype(np.int64) * span, side="left")
    high = np.searchsorted(keys, row_codes.astype(np.int64) * span + wanted + 1, side="right")
    return pd.DataFrame({
        "actor": rows["actor"].to_numpy(), "proposal": rows["proposal"].to_numpy(),
        "by": rows["by"].replace("", "end").to_numpy(),
        "observed": rows["signed"].astype(int).to_numpy(),
        "probability": (high - low) / runs,
    })


def _vote_rows(votes: pd.DataFrame, rows: pd.DataFrame, path: Path, spec) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame()
    if len(votes):
        counts = pd.crosstab([votes["iso3"], votes["proposal"]], votes["vote"])
        counts = counts.reindex(columns=list(VOTES), fill_value=0)
        totals = pd.crosstab([votes["iso3"], votes["proposal"]], "all")["all"]
        shares = counts.div(totals, axis=0)
    else:
        shares = pd.DataFrame(columns=list(VOTES))
    keys = pd.MultiIndex.from_frame(rows[["actor", "proposal"]])
    found = shares.reindex(keys)
    absent = found.isna().all(axis=1).to_numpy()
    if absent.any():
        voted = sorted({p for p, proposal in spec.proposals.items() if proposal.un_vote})
        raise InputError(_problem_rows(_rows(
            path, rows, pd.Series(absent, index=rows.index), "vote", "a state and a proposal "
            f"with a UN vote in the results ({', '.join(voted) or 'none has one'})",
            rows["proposal"])))
    table = pd.DataFrame({"actor": rows["actor"].to_numpy(),
                          "proposal": rows["proposal"].to_numpy(),
                          "observed": rows["vote"].to_numpy(),
                          **{f"p_{v}": found[v].to_numpy(float) for v in VOTES}})
    probabilities = table[[f"p_{v}" for v in VOTES]].to_numpy()
    table["predicted"] = np.array(VOTES)[probabilities.argmax(axis=1)]
    return table


def _summary(signatures: pd.DataFrame, vote_table: pd.DataFrame, runs: int) -> pd.DataFrame:
    summary = []
    if len(signatures):
        signatures["error"] = signatures["probability"] - signatures["observed"]
        for (proposal, by), group in signatures.groupby(["proposal", "by"], sort=False):
            summary.append({"outcome": "signed", "proposal": proposal, "by": by, "runs": runs,
                            **binary_scores(group["probability"].to_numpy(),
                                            group["observed"].to_numpy())})
    if len(vote_table):
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
    return pd.DataFrame(summary)


__all__ = ["Score", "auc", "binary_scores", "read_observed", "score"]
