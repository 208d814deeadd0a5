"""Observed per-state outcomes (training data): which states signed by when, how they voted.

A targets file names the CSV (one row per state, `iso3` plus outcome columns) and says
what each column is: a signature date (empty: never) for a proposal, checked at one or
more dates, or a recorded UN vote (yes / abstain / no; empty: absent). These outcomes
are calibration targets and cross-validation data, never model inputs.

Loading checks every cell against the scenario: an unknown ISO3 code, a duplicated
state, a date outside the scenario or an unknown vote stops with one message naming
the file, the row, the column and the expected value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim import limits
from sim.data.roster import load_states
from sim.errors import InputError, problem
from sim.scenario.spec import ScenarioSpec, TimePoint

VOTES = ("yes", "abstain", "no")


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignedOutcome(Spec):
    """A column of signature dates (empty: never signed) for one proposal."""

    column: str
    by: list[TimePoint | Literal["end"]] = Field(min_length=1)
    weight: float | list[float] = Field(
        1.0, description="weight of each date's log-likelihood (one number, or one per "
        "date); a date of weight 0 is forecast and scored but not fitted")

    def weights(self) -> list[float]:
        return list(self.weight) if isinstance(self.weight, list) else [self.weight] * len(
            self.by)

    @model_validator(mode="after")
    def _one_weight_per_date(self):
        weights = self.weights()
        if len(weights) != len(self.by) or min(weights) < 0:
            raise ValueError("weight: one number >= 0, or one per date in `by`")
        return self


class VoteOutcome(Spec):
    """A column of recorded votes (yes / abstain / no; empty: absent) on one proposal."""

    column: str
    weight: float = Field(1.0, ge=0)


class OutcomesSpec(Spec):
    """Per-state outcomes to fit and to cross-validate (paths relative to the targets file)."""

    file: str
    signed: dict[str, SignedOutcome] = {}
    votes: dict[str, VoteOutcome] = {}
    weight: float = Field(1.0, ge=0, description="weight of the per-state fit in the loss")
    folds: int = Field(5, ge=2, description="folds of the cross-validation")
    fold_seed: int = 0
    by_rule: list[str] = Field(
        [], description="non-EU states the split put in the training file by rule, not "
        "by the random draw; the other non-EU training states are scored as the group "
        "`drawn`, the sample that resembles the held-out states")


@dataclass(frozen=True)
class Outcome:
    """One observed outcome over the states that have a value for it.

    Attributes:
        name: label, e.g. ``paris_call signed by 2019-09-16`` or ``oewg vote``.
        proposal: the proposal id in the scenario.
        kind: "signed" or "vote".
        step: for "signed": had signed by the end of this step; None for votes.
        iso3: (n,) states with an observation.
        observed: (n,) 0/1 for "signed"; vote labels for "vote".
        weight: weight in the likelihood.
    """

    name: str
    proposal: str
    kind: str
    step: int | None
    iso3: np.ndarray
    observed: np.ndarray
    weight: float = 1.0


@dataclass(frozen=True)
class Observed:
    """Every outcome read from one training file; `strata` labels states for folds."""

    source: str
    iso3: np.ndarray
    outcomes: list[Outcome]
    strata: np.ndarray

    def restricted(self, keep: set[str]) -> Observed:
        """The same outcomes over the states in `keep` only (a fold's training part)."""
        outcomes = []
        for outcome in self.outcomes:
            mask = np.isin(outcome.iso3, list(keep))
            outcomes.append(Outcome(outcome.name, outcome.proposal, outcome.kind, outcome.step,
                                    outcome.iso3[mask], outcome.observed[mask], outcome.weight))
        mask = np.isin(self.iso3, list(keep))
        return Observed(self.source, self.iso3[mask], outcomes, self.strata[mask])

    def fitted(self) -> Observed:
        """Only the outcomes with a positive weight (those a calibration fits)."""
        return Observed(self.source, self.iso3, [o for o in self.outcomes if o.weight > 0],
                        self.strata)


def _label(spec: ScenarioSpec, when) -> tuple[str, int]:
    last = spec.metadata.steps
    if when == "end":
        return spec.timeline.date_of_step(last).isoformat(), last
    step = spec.step_of(when)
    return (when.isoformat() if isinstance(when, date) else str(when)), step


def load_observed(outcomes: OutcomesSpec, scenario: ScenarioSpec, base_dir: Path,
                  targets_file: str | Path = "targets") -> Observed:
    """Read and check the training file against the scenario's states, time and proposals."""
    path = Path(outcomes.file)
    if not path.is_absolute():
        path = base_dir / path
    where = "outcomes"
    unknown = [problem(targets_file, f"{where}.{section}.{pid}",
                       f"a proposal of the scenario ({sorted(scenario.proposals)})", pid)
               for section in ("signed", "votes") for pid in getattr(outcomes, section)
               if pid not in scenario.proposals]
    if unknown:
        raise InputError(unknown)
    if not path.is_file():
        raise InputError(problem(targets_file, f"{where}.file",
                                 "an existing CSV of observed outcomes (relative to the "
                                 "targets file)", outcomes.file))
    frame = limits.read_csv(path, "CSV file of observed outcomes")
    columns = ["iso3"] + [o.column for o in outcomes.signed.values()] + [
        o.column for o in outcomes.votes.values()]
    missing = [problem(path, c, "this column to be present") for c in columns
               if c not in frame.columns]
    if missing:
        raise InputError(missing)

    roster = set(load_states(scenario.world.states.roster, scenario.base_dir).frame["iso3"])
    first, last = scenario.metadata.start, scenario.timeline.date_of_step(
        scenario.metadata.steps + 1)
    problems, seen = [], {}
    trained = set(frame["iso3"])
    for k, iso3 in enumerate(outcomes.by_rule):
        if iso3 not in trained:
            problems.append(problem(targets_file, f"{where}.by_rule[{k}]",
                                    f"an ISO3 code of a state in {outcomes.file}", iso3))
    for index, iso3 in enumerate(frame["iso3"]):
        row = index + 2  # line number: the header is line 1
        if iso3 not in roster:
            problems.append(problem(path, f"row {row}: iso3",
                                    "an ISO3 code in the scenario's state roster", iso3))
        elif iso3 in seen:
            problems.append(problem(path, f"row {row}: iso3", f"each state once (already on "
                                    f"row {seen[iso3]})", iso3))
        seen.setdefault(iso3, row)
        for signed in outcomes.signed.values():
            text = frame.at[index, signed.column].strip()
            if not text:
                continue
            try:
                day = date.fromisoformat(text)
            except ValueError:
                day = None
            if day is None or not first <= day < last:
                problems.append(problem(
                    path, f"row {row}: {signed.column}",
                    f"a date YYYY-MM-DD inside the scenario ({first} to "
                    f"{date.fromordinal(last.toordinal() - 1)}) or empty (never signed)", text))
        for vote in outcomes.votes.values():
            text = frame.at[index, vote.column].strip()
            if text and text not in VOTES:
                problems.append(problem(path, f"row {row}: {vote.column}",
                                        "yes, abstain, no or empty (absent)", text))
    if problems:
        raise InputError(problems)

    iso3 = frame["iso3"].to_numpy(object)
    result = []
    strata = np.zeros(len(frame), dtype=np.int64)
    for pid, signed in outcomes.signed.items():
        days = frame[signed.column].str.strip()
        steps = np.array([scenario.step_of(date.fromisoformat(d)) if d else np.iinfo(np.int64).max
                          for d in days], dtype=np.int64)
        for k, (when, weight) in enumerate(zip(signed.by, signed.weights(), strict=True)):
            label, step = _label(scenario, when)
            result.append(Outcome(f"{pid} signed by {label}", pid, "signed", step, iso3,
                                  (steps <= step).astype(np.int64), weight))
            strata = strata * 2 + (steps <= step) if k < 2 else strata
    for pid, vote in outcomes.votes.items():
        cast = frame[vote.column].str.strip().to_numpy(object)
        present = cast != ""
        result.append(Outcome(f"{pid} vote", pid, "vote", None, iso3[present], cast[present],
                              vote.weight))
    return Observed(str(path), iso3, result, strata)


def folds(observed: Observed, k: int, seed: int) -> list[np.ndarray]:
    """Stratified folds of the states (iso3 arrays): each stratum dealt round-robin in a
    seeded random order, so every fold holds its share of signers, late joiners and
    never-joiners."""
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(observed.iso3), dtype=np.int64)
    offset = 0
    for stratum in np.unique(observed.strata):
        members = np.flatnonzero(observed.strata == stratum)
        rng.shuffle(members)
        assignment[members] = (np.arange(len(members)) + offset) % k
        offset += len(members)
    return [observed.iso3[assignment == f] for f in range(k)]


__all__ = ["VOTES", "Observed", "Outcome", "OutcomesSpec", "folds", "load_observed"]
