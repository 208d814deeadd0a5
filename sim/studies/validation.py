"""How well per-state forecasts match observed outcomes: `cybernorms validate-fit`.

Forecasts (from replicated runs, from a cross-validation or from the logistic baseline)
are held in one tidy table, one row per state and outcome: `iso3`, `outcome`,
`observed`, and either `forecast` (P(signed by the date)) or `p_yes`, `p_abstain`,
`p_no` (a vote). From it:

- per outcome and group (all states; non-EU states; the non-EU states drawn at random,
  when the targets file names those the split included by rule): balanced accuracy at P = 0.5,
  AUC, Brier score and mean log-likelihood; for votes, the accuracy of the most likely
  vote, the multi-class Brier score and how many abstainers are predicted to abstain;
- late joiners: among states not signed by the first date of an outcome, AUC and Brier
  of P(signed by the last date | not by the first) for those who joined in between;
- a reliability table (forecasts binned, observed rate per bin) for the diagram;
- per state: forecast, most likely outcome and error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.roster import load_states
from sim.errors import InputError, problem
from sim.runs.runner import derive_seed
from sim.studies.backends import run_all
from sim.studies.forecast import Forecasts, combine, forecast_runs, forecast_tasks
from sim.studies.outcomes import VOTES, Observed
from sim.studies.score import auc, binary_scores

#: probabilities are clipped this far from 0 and 1 in the log-likelihood
EPSILON = 0.01


def forecast_table(observed: Observed, forecasts: Forecasts) -> pd.DataFrame:
    """One row per state and observed outcome: observed value and forecast."""
    frames = []
    for outcome in observed.outcomes:
        values = forecasts.of(outcome)
        frame = pd.DataFrame({"iso3": outcome.iso3, "outcome": outcome.name,
                              "observed": outcome.observed})
        if outcome.kind == "signed":
            frame["forecast"] = values
        else:
            for k, vote in enumerate(VOTES):
                frame[f"p_{vote}"] = values[:, k]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _is_vote(frame: pd.DataFrame) -> bool:
    return "p_yes" in frame and frame["p_yes"].notna().all()


def log_likelihood(frame: pd.DataFrame) -> float:
    """Mean log-likelihood of one outcome's observations (forecasts clipped by EPSILON)."""
    if _is_vote(frame):
        p = frame[[f"p_{v}" for v in VOTES]].to_numpy(float)
        p = np.clip(p, EPSILON / 3, 1.0)
        p = p / p.sum(axis=1, keepdims=True)
        index = np.array([VOTES.index(v) for v in frame["observed"]])
        return float(np.mean(np.log(p[np.arange(len(p)), index])))
    p = np.clip(frame["forecast"].to_numpy(float), EPSILON, 1 - EPSILON)
    y = frame["observed"].to_numpy(float)
    return float(np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _vote_scores(frame: pd.DataFrame) -> dict:
    p = frame[[f"p_{v}" for v in VOTES]].to_numpy(float)
    truth = np.array([[o == v for v in VOTES] for o in frame["observed"]], float)
    predicted = np.array(VOTES)[p.argmax(axis=1)]
    abstained = frame["observed"].to_numpy() == "abstain"
    return {
        "states": len(frame),
        "accuracy": float((predicted == frame["observed"].to_numpy()).mean()),
        "brier": float(np.mean(np.sum((p - truth) ** 2, axis=1))),
        "log_likelihood": log_likelihood(frame),
        "auc": auc(p[:, 0], truth[:, 0]),
        "abstainers": int(abstained.sum()),
        "abstainers_predicted": int((predicted[abstained] == "abstain").sum()),
        "abstain_predicted": int((predicted == "abstain").sum()),
    }


def _signed_scores(frame: pd.DataFrame) -> dict:
    p = frame["forecast"].to_numpy(float)
    y = frame["observed"].to_numpy(int)
    scores = binary_scores(p, y)
    scores["states"] = scores.pop("actors")
    return {**scores, "mean_forecast": float(p.mean()), "log_likelihood": log_likelihood(frame)}


def late_joiners(table: pd.DataFrame, first: str, last: str) -> pd.DataFrame:
    """States not signed by outcome `first`: P(signed by `last` | not by `first`), observed."""
    a = table[table["outcome"] == first].set_index("iso3")
    b = table[table["outcome"] == last].set_index("iso3")
    open_ = a.index[a["observed"] == 0].intersection(b.index)
    p1, p2 = a.loc[open_, "forecast"], b.loc[open_, "forecast"]
    conditional = ((p2 - p1) / (1 - p1).where(p1 < 1)).fillna(0.0).clip(0, 1)
    proposal, since = first.split(" signed by ")
    until = last.split(" signed by ")[1]
    return pd.DataFrame({"iso3": open_, "outcome": f"{proposal} late joiners ({since} .. {until})",
                         "observed": b.loc[open_, "observed"].to_numpy(),
                         "forecast": conditional.to_numpy()})


def _signed_pairs(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(first date, last date) outcome names of each proposal with several dates."""
    names = [n for n in dict.fromkeys(table["outcome"]) if " signed by " in n]
    by_proposal: dict[str, list[str]] = {}
    for name in names:
        by_proposal.setdefault(name.split(" signed by ")[0], []).append(name)
    return [(group[0], group[-1]) for group in by_proposal.values() if len(group) > 1]


def summarise(table: pd.DataFrame, groups: dict[str, set[str]]) -> pd.DataFrame:
    """Scores per outcome and group (`groups`: name -> iso3 codes; "all" is added)."""
    rows = []
    named = {"all": None, **groups}
    tables = [table] + [late_joiners(table, a, b) for a, b in _signed_pairs(table)]
    for frame in tables:
        for outcome, rows_of in frame.groupby("outcome", sort=False):
            for group, members in named.items():
                part = rows_of if members is None else rows_of[rows_of["iso3"].isin(members)]
                if part.empty:
                    continue
                scores = _vote_scores(part) if _is_vote(part) else _signed_scores(part)
                rows.append({"outcome": outcome, "group": group, **scores})
    return pd.DataFrame(rows)


def reliability(table: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Signature forecasts binned on [0, 1]: mean forecast and observed rate per bin."""
    signed = table[table["forecast"].notna()] if "forecast" in table else table.iloc[0:0]
    rows = []
    edges = np.linspace(0, 1, bins + 1)
    for outcome, frame in signed.groupby("outcome", sort=False):
        which = np.clip(np.digitize(frame["forecast"], edges[1:-1]), 0, bins - 1)
        for b in range(bins):
            part = frame[which == b]
            if len(part):
                rows.append({"outcome": outcome, "low": edges[b], "high": edges[b + 1],
                             "states": len(part), "mean_forecast": part["forecast"].mean(),
                             "observed_rate": part["observed"].astype(float).mean()})
    return pd.DataFrame(rows)


def per_state(table: pd.DataFrame) -> pd.DataFrame:
    """Per state and outcome: forecast, most likely outcome and error."""
    out = table.copy()
    if "forecast" in out:
        signed = out["forecast"].notna()
        out.loc[signed, "predicted"] = (out.loc[signed, "forecast"] >= 0.5).astype(int).astype(str)
        out.loc[signed, "error"] = (out.loc[signed, "forecast"]
                                    - out.loc[signed, "observed"].astype(float))
    if "p_yes" in out:
        votes = out["p_yes"].notna()
        p = out.loc[votes, [f"p_{v}" for v in VOTES]].to_numpy(float)
        out.loc[votes, "predicted"] = np.array(VOTES)[p.argmax(axis=1)]
        truth = np.array([[o == v for v in VOTES] for o in out.loc[votes, "observed"]], float)
        out.loc[votes, "error"] = np.sum((p - truth) ** 2, axis=1)
    return out


def groups_of(scenario, by_rule=()) -> dict[str, set[str]]:
    """Scoring groups from the roster: non-EU states (the EU is where the old model fit)
    and, given the states a split put in training by rule, the non-EU states it drew at
    random (`drawn`): scored alone, they estimate the score on the held-out states, which
    were drawn the same way."""
    frame = load_states(scenario.world.states.roster, scenario.base_dir).frame
    non_eu = set(frame.loc[frame["eu"] == 0, "iso3"])
    return {"non_eu": non_eu, **({"drawn": non_eu - set(by_rule)} if by_rule else {})}


@dataclass
class FitReport:
    """Scores of one set of per-state forecasts.

    Attributes:
        label: what the forecasts are (e.g. "model, 40 runs", "cross-validated").
        table: per state and outcome (see `per_state`).
        summary: per outcome and group (see `summarise`).
        reliability: binned signature forecasts.
    """

    label: str
    table: pd.DataFrame
    summary: pd.DataFrame
    reliability: pd.DataFrame


def report(label: str, table: pd.DataFrame, groups: dict[str, set[str]]) -> FitReport:
    return FitReport(label, per_state(table), summarise(table, groups), reliability(table))


def model_forecasts(scenario: str | Path, overrides: dict, observed: Observed, reps: int,
                    seed: int, *, smooth: bool = False, backend: str = "process",
                    workers: int | None = None) -> Forecasts:
    """Per-state forecasts of `reps` runs (seeds derived from `seed`)."""
    seeds = [derive_seed(seed, "forecast", r) for r in range(reps)]
    tasks = forecast_tasks(str(scenario), overrides, seeds, observed)
    return combine(run_all(forecast_runs, tasks, backend=backend, workers=workers,
                           what="a forecast run"), smooth)


def read_forecasts(path: str | Path) -> pd.DataFrame:
    """A per-state forecast table written by `validate-fit`, `calibrate --folds` or
    `baseline` (forecasts.csv)."""
    path = Path(path)
    if path.is_dir():
        path = path / "forecasts.csv"
    if not path.is_file():
        raise InputError(problem(path, "", "a forecasts.csv written by validate-fit, "
                                 "calibrate --folds or baseline (or its directory)"))
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    needed = {"iso3", "outcome", "observed"}
    if not needed <= set(frame.columns) or not ({"forecast", "p_yes"} & set(frame.columns)):
        raise InputError(problem(path, ", ".join(sorted(needed - set(frame.columns)))
                                 or "forecast", "columns iso3, outcome, observed and "
                                 "forecast or p_yes, p_abstain, p_no"))
    signed = frame["outcome"].str.contains(" signed by ").to_numpy()
    observed = frame["observed"].astype(str).to_numpy(object)
    observed[signed] = [int(float(v)) for v in observed[signed]]
    frame["observed"] = pd.Series(observed, index=frame.index, dtype=object)
    return frame.drop(columns=[c for c in ("predicted", "error") if c in frame])


__all__ = ["FitReport", "forecast_table", "groups_of", "late_joiners", "log_likelihood",
           "model_forecasts", "per_state", "read_forecasts", "reliability", "report",
           "summarise"]
