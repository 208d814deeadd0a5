"""Per-state forecasts from replicated runs: P(signed by a step), P(each vote).

Two estimates from the same runs:

- `share`: the share of runs in which a state had signed by the step (its first
  signature), or cast each vote: what the model forecasts, reported by `validate-fit`.
- `smooth`: the same probability with each run's own coin flips integrated out. In a
  run, a state that has not signed considers a proposal with probability c (1 in a
  launch round or at a forum, its activation rate otherwise) and then signs with
  probability q = P(U + tau * eps > theta) = logistic((U - theta) / tau). Along the
  run's path of everyone else's decisions, P(signed by T) = 1 - prod_t (1 - c_t q_t);
  votes are treated the same way (`sim.decision.vote_probabilities`). The mean over
  runs estimates the same forecast with far less noise, and it changes smoothly with
  the coefficients, which is what a calibration search needs (a conditional Monte
  Carlo, or Rao-Blackwellised, estimator; it ignores a state's feedback on its own
  environment, which is small except for bloc leaders).

The runs themselves are exactly those of `NormDiplomacyModel` (same seeds, same draws,
same results): `ForecastModel` only looks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from sim.decision import utility
from sim.metrics import run_metrics
from sim.model import NormDiplomacyModel
from sim.runs.runner import spec_for
from sim.studies.outcomes import Observed


class ForecastModel(NormDiplomacyModel):
    """A model run that also accumulates each state's chance of having signed.

    Attributes:
        log_unsigned: (states, P) log-probability, given the path so far, that the state
            would not yet have signed (its own draws integrated out).
        unsigned_at: step -> copy of `log_unsigned` at the end of that step.
        vote_shares: proposal index -> (states, 3) probabilities of yes, abstain, no.
    """

    compiled_rounds = False  # it reads every round's utilities

    def __init__(self, *args, record_steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._states = np.arange(self.world.slices["state"].stop)
        self.log_unsigned = np.zeros((len(self._states), len(self.world.proposal_ids)))
        self.unsigned_at: dict[int, np.ndarray] = {}
        self.vote_shares: dict[int, np.ndarray] = {}
        self._record = set(record_steps)

    def step(self) -> None:
        super().step()
        if self.steps in self._record:
            self.unsigned_at[self.steps] = self.log_unsigned.copy()

    def decide(self) -> None:
        self._focus = self.focus()
        self._round = 0
        super().decide()

    def utilities(self, rows: np.ndarray | None = None) -> np.ndarray:
        world = self.world
        wanted = self._states if rows is None else np.union1d(self._states, rows)
        u = utility(world, wanted)
        states = u[: len(self._states)]
        active = world.activation[self._states][:, None] if self._round == 0 else 0.0
        chance = (active if self._focus is None  # nobody in focus this step
                  else np.where(self._focus[self._states], 1.0, active))
        chance = chance * (world.eligible[self._states] & world.launched[None, :])
        theta = world.threshold[self._states][:, None]
        tau = self.spec.behaviour.temperature
        q = expit((states - theta) / tau) if tau > 0 else (states > theta).astype(float)
        self.log_unsigned += np.log1p(-np.minimum(chance * q, 1.0 - 1e-12))
        self._round += 1
        if self.decision == "reference":
            return super().utilities(rows)
        return u if rows is None else u[np.searchsorted(wanted, rows)]

    def cast_votes(self, vote, contributions, noise, voters):
        shares = self.vote_shares.setdefault(vote.proposal, np.zeros((len(self._states), 3)))
        shares[voters] = self.vote_probabilities(vote, contributions, voters)
        return super().cast_votes(vote, contributions, noise, voters)


@dataclass
class Forecasts:
    """Per-state forecasts over replicated runs, aligned with the scenario's states.

    Attributes:
        iso3: (states,) codes in roster order.
        signed: (proposal, step) -> (states,) probability of having signed by the step.
        votes: proposal -> (states, 3) probabilities of yes, abstain, no.
        runs: number of runs averaged.
    """

    iso3: np.ndarray
    signed: dict[tuple[str, int], np.ndarray]
    votes: dict[str, np.ndarray]
    runs: int

    def of(self, outcome) -> np.ndarray:
        """The forecast for an observed outcome, in the order of `outcome.iso3`."""
        index = {c: i for i, c in enumerate(self.iso3)}
        rows = np.array([index[c] for c in outcome.iso3], dtype=np.int64)
        if outcome.kind == "signed":
            return self.signed[(outcome.proposal, outcome.step)][rows]
        return self.votes[outcome.proposal][rows]


def forecast_runs(scenario: str, overrides: dict, seeds: list[int], signed: list,
                  votes: list, metrics: bool = False) -> dict:
    """Run one candidate on `seeds`; summed per-state forecasts, both estimates (a worker
    task). With `metrics`, also each run's metrics (long form, with its seed), for
    aggregate targets; runs then go to the scenario's last step."""
    spec = spec_for(scenario, overrides)
    proposals = list(spec.proposals)
    steps = sorted({step for _, step in signed})
    vote_steps = [spec.step_of(spec.proposals[p].un_vote.at) for p in votes]
    last = max(steps + vote_steps + [spec.metadata.steps if metrics else 1])
    sums = {"share": dict.fromkeys(signed, 0.0), "smooth": dict.fromkeys(signed, 0.0),
            "votes_share": dict.fromkeys(votes, 0.0), "votes_smooth": dict.fromkeys(votes, 0.0)}
    frames, iso3 = [], None
    for seed in seeds:
        model = ForecastModel(spec, rng=seed, record_steps=steps)
        model.last_step = last
        for _ in range(last):
            model.step()
        world = model.world
        states = world.slices["state"]
        iso3 = world.ids[states]
        for key in signed:
            p, step = proposals.index(key[0]), key[1]
            first = world.signed_step[states, p]
            sums["share"][key] = sums["share"][key] + ((first >= 0) & (first <= step))
            sums["smooth"][key] = sums["smooth"][key] + 1.0 - np.exp(model.unsigned_at[step][:, p])
        for pid in votes:
            p = proposals.index(pid)
            codes = world.votes[states, p]
            sums["votes_share"][pid] = sums["votes_share"][pid] + np.column_stack(
                [codes == 1, codes == 0, codes == -1]).astype(float)
            sums["votes_smooth"][pid] = sums["votes_smooth"][pid] + model.vote_shares[p]
        if metrics:
            frame = run_metrics(model)
            frame.insert(0, "seed", seed)
            frames.append(frame)
    return {"iso3": iso3, **sums, "runs": len(seeds),
            "metrics": pd.concat(frames, ignore_index=True) if frames else None}


def combine(parts: list[dict], smooth: bool = False) -> Forecasts:
    """Mean of the summed forecasts of several worker tasks (`smooth`: the conditional
    estimate, else the share of runs)."""
    runs = sum(part["runs"] for part in parts)
    which, votes = ("smooth", "votes_smooth") if smooth else ("share", "votes_share")
    signed = {key: sum(part[which][key] for part in parts) / runs for key in parts[0][which]}
    cast = {key: sum(part[votes][key] for part in parts) / runs for key in parts[0][votes]}
    return Forecasts(parts[0]["iso3"], signed, cast, runs)


def needed(observed: Observed) -> tuple[list[tuple[str, int]], list[str]]:
    """The (proposal, step) signatures and the proposals' votes an observation asks for."""
    signed = sorted({(o.proposal, o.step) for o in observed.outcomes if o.kind == "signed"})
    votes = sorted({o.proposal for o in observed.outcomes if o.kind == "vote"})
    return signed, votes


def forecast_tasks(scenario: str, overrides: dict, seeds: list[int], observed: Observed,
                   metrics: bool = False, chunk: int = 4) -> list[tuple]:
    """Worker tasks (for `sim.studies.backends`) that together cover `seeds`."""
    signed, votes = needed(observed)
    return [(scenario, overrides, seeds[i:i + chunk], signed, votes, metrics)
            for i in range(0, len(seeds), chunk)]


__all__ = ["ForecastModel", "Forecasts", "combine", "forecast_runs", "forecast_tasks", "needed"]
