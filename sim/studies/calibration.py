"""`cybernorms calibrate TARGETS`: fit behaviour coefficients to aggregate public facts.

A targets file names the scenario, the dated targets (value, tolerance, source),
the coefficients to search (dotted paths with ranges) and the search budget.

Loss: L(theta) = sum over targets of weight * ((simulated mean - value) / tolerance)^2, the
mean taken over replications that share their seeds across candidates (common
random numbers, so candidates are compared on the same worlds and draws).

Search: a Latin hypercube over the ranges (scipy.stats.qmc, seeded), the scenario's
current values as one more candidate; then `rounds` further hypercubes, each in a box
shrunk (by `shrink` per round) around the best candidate so far, which is carried
into every round and scored again with that round's replications. The best candidate is run
`replications` times (50 or more for a fit table worth reporting; the shipped file
uses 60) for the fit table: target vs simulated mean and 90%
spread of runs (5th-95th percentile). A count target passes if its value lies inside
the spread; an actor
target ("does not sign by date") passes if the share of runs in which the actor
signed is within the tolerance of the value.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.stats import qmc

from sim.errors import InputError, boundary, problem
from sim.metrics import checkpoint_label
from sim.runs.runner import derive_seed, run_batch, spec_for
from sim.scenario.loading import load_model_file, path_keys
from sim.scenario.spec import TimePoint
from sim.studies.backends import (
    TaskError,
    default_workers,
    estimate,
    execute,
    run_all,
    timed_pilot,
)
from sim.studies.baseline import cross_validated
from sim.studies.experiment import design_points, load_experiment
from sim.studies.forecast import Forecasts, combine, forecast_runs, forecast_tasks, needed
from sim.studies.outcomes import Observed, OutcomesSpec, folds, load_observed
from sim.studies.search import CMAES
from sim.studies.validation import (
    FitReport,
    forecast_table,
    groups_of,
    log_likelihood,
    model_forecasts,
    read_forecasts,
    report,
)


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Target(Spec):
    """One fact: a run metric (`metric`) or whether one actor had signed (`actor`)."""

    metric: str | None = None
    actor: str | None = None
    proposal: str
    at: TimePoint
    value: float
    tolerance: float = Field(gt=0)
    weight: float = Field(1.0, ge=0, description="weight of this target in the loss")
    source: str

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.metric is None) == (self.actor is None):
            raise ValueError("give exactly one of metric or actor")
        return self

    @property
    def label(self) -> str:
        what = self.metric if self.metric else f"{self.actor} signed"
        return f"{what} @ {self.at}"


class Stage(Spec):
    candidates: int = Field(ge=1)
    replications: int = Field(ge=1)
    rounds: int = Field(1, ge=1)


class Evolution(Spec):
    """CMA-ES settings: candidates per generation, generations, replications of each
    candidate (common random numbers), initial step size as a share of each range, and
    where the search starts: at the priors' means (a first calibration), or at the
    scenario's values (a refit after a change to the model; the priors still count)."""

    population: int = Field(12, ge=4)
    generations: int = Field(30, ge=1)
    replications: int = Field(4, ge=1)
    sigma: Annotated[float, Field(gt=0, le=1)] = 0.25
    start: Literal["priors", "scenario"] = "priors"


class Search(Spec):
    """`hypercube`: explore the whole box, then refine `rounds` times in a box shrunk
    around the best. `cmaes`: an evolution strategy (`sim.studies.search`), for many
    coefficients at once, started at the priors' means (else the scenario's values)."""

    method: Literal["hypercube", "cmaes"] = "hypercube"
    seed: int = 0
    explore: Stage = Stage(candidates=120, replications=6)
    refine: Stage = Stage(candidates=60, replications=12, rounds=3)
    shrink: Annotated[float, Field(gt=0, le=1)] = 0.3
    cmaes: Evolution = Evolution()


class Prior(Spec):
    """A normal prior on a coefficient: adds ((value - mean) / sd)^2 to the loss."""

    mean: float
    sd: float = Field(gt=0)


class CalibrationSpec(Spec):
    name: str
    compiled: date = Field(description="when the targets were compiled")
    scenario: str
    replications: int = Field(50, ge=2)
    search: Search = Search()
    parameters: dict[str, tuple[float, float]]
    priors: dict[str, Prior] = {}
    targets: list[Target] = []
    outcomes: OutcomesSpec | None = None

    @model_validator(mode="after")
    def _something_to_fit(self):
        if not self.targets and self.outcomes is None:
            raise ValueError("give targets, outcomes or both")
        return self


def load_targets(path: str | Path) -> tuple[CalibrationSpec, Path]:
    path = Path(path)
    spec = load_model_file(path, CalibrationSpec)
    backwards = [problem(path, f"parameters.{name}", "a range [low, high] with low < high",
                         list(bounds))
                 for name, bounds in spec.parameters.items() if not bounds[0] < bounds[1]]
    backwards += [problem(path, f"priors.{name}", "a coefficient listed under `parameters`",
                          name) for name in spec.priors if name not in spec.parameters]
    if backwards:
        raise InputError(backwards)
    scenario = (path.parent / spec.scenario).resolve()
    if not scenario.is_file():
        raise InputError(problem(path, "scenario", "an existing scenario file (relative to "
                                 "the targets file)", spec.scenario))
    return spec, scenario


def _base_overrides(calibration: CalibrationSpec, scenario: Path,
                    path: Path | str = "targets") -> dict:
    """Checkpoints at every target date, and no steps beyond the last target or outcome."""
    spec = spec_for(scenario)
    steps = sorted({spec.step_of(t.at) for t in calibration.targets})
    if calibration.outcomes is not None:  # the outcomes a search fits (weight > 0)
        outcomes = calibration.outcomes
        fitted = [w for o in outcomes.signed.values()
                  for w, weight in zip(o.by, o.weights(), strict=True) if weight > 0]
        steps += [spec.metadata.steps if w == "end" else spec.step_of(w) for w in fitted]
        steps += [spec.step_of(spec.proposals[p].un_vote.at)
                  for p, vote in outcomes.votes.items() if vote.weight > 0
                  and p in spec.proposals and spec.proposals[p].un_vote is not None]
    checkpoints = [t.at for t in calibration.targets]
    iso3 = set(spec_states(spec))
    unknown = [problem(path, f"targets.{i}.actor", "an ISO3 code of a state in the scenario",
                       t.actor)
               for i, t in enumerate(calibration.targets) if t.actor and t.actor not in iso3]
    if unknown:
        raise InputError(unknown)
    followed = {t.actor for t in calibration.targets if t.actor}
    return {"report.checkpoints": sorted(set(checkpoints), key=str),
            "report.swing_states": sorted(set(spec.report.swing_states) | followed),
            "metadata.steps": max(steps)}


def spec_states(spec) -> list[str]:
    from sim.data.roster import load_states

    return list(load_states(spec.world.states.roster, spec.base_dir).frame["iso3"])


def _observe(metrics: pd.DataFrame, seeds: list[int], calibration: CalibrationSpec,
             spec) -> np.ndarray:
    """(runs, targets) simulated values, one row per seed in `seeds`."""
    values = np.full((len(seeds), len(calibration.targets)), np.nan)
    labels = [(t.proposal, t.metric or f"joined_{t.actor}", checkpoint_label(spec, t.at))
              for t in calibration.targets]
    indexed = metrics.set_index(["seed", "proposal", "metric", "at"])["value"]
    for r, seed in enumerate(seeds):
        for t, label in enumerate(labels):
            values[r, t] = indexed.get((seed, *label), np.nan)
    return values


def _evaluate(scenario: str, overrides: dict, seeds: list[int],
              tables: tuple[str, ...] = ("metrics",)) -> dict:
    """Runs of one candidate; a failed run ends the calibration (it is a bug or bad input)."""
    batch = run_batch(scenario, overrides, [{"seed": seed} for seed in seeds], tables)
    failed = batch["runs"][batch["runs"]["status"] == "failed"]
    if len(failed):
        raise RuntimeError(f"calibration run failed: {failed['error'].iloc[0]}")
    return batch


def _check_observable(calibration: CalibrationSpec, scenario: Path, base: dict,
                      path: Path) -> None:
    """One run of the scenario as it is: every target must find its metric (a misspelled
    metric or proposal would otherwise score NaN for every candidate, silently)."""
    seeds = [calibration.search.seed]
    batch = _evaluate(str(scenario), base, seeds)
    values = _observe(batch["metrics"], seeds, calibration, spec_for(scenario, base))
    missing = [problem(path, f"targets.{i}", "a metric (signers_<kind>, share_states, "
                       "share_gdp, state_signers_<bloc>, ...) of a proposal of the scenario "
                       "at a time inside the run", target.metric or target.actor)
               for i, target in enumerate(calibration.targets) if np.isnan(values[0, i])]
    if missing:
        raise InputError(missing)


def loss(values: np.ndarray, calibration: CalibrationSpec) -> float:
    """Weighted squared misses of the aggregate targets, in units of their tolerance."""
    if not calibration.targets:
        return 0.0
    goal = np.array([t.value for t in calibration.targets])
    tolerance = np.array([t.tolerance for t in calibration.targets])
    weight = np.array([t.weight for t in calibration.targets])
    mean = np.nanmean(values, axis=0)
    return float(np.sum(weight * ((mean - goal) / tolerance) ** 2))


def _candidates(ranges: dict[str, tuple[float, float]], count: int, seed: int,
                centre: dict | None = None, shrink: float = 1.0) -> list[dict]:
    names = list(ranges)
    lows = np.array([ranges[n][0] for n in names])
    highs = np.array([ranges[n][1] for n in names])
    if centre is not None:
        half = (highs - lows) * shrink / 2
        middle = np.array([centre[n] for n in names])
        lows, highs = np.maximum(lows, middle - half), np.minimum(highs, middle + half)
    sample = qmc.LatinHypercube(d=len(names), seed=seed).random(count)
    points = qmc.scale(sample, lows, highs)
    return [{n: float(round(v, 4)) for n, v in zip(names, row, strict=True)} for row in points]


def _current_values(scenario: Path, names, path: Path) -> dict:
    """The scenario's value of each searched coefficient (where a search starts): a
    coefficient the scenario leaves unset (an absent entry of a mapping) has none."""
    data = spec_for(scenario).model_dump(by_alias=True)
    values, unset = {}, []
    for name in names:
        node: Any = data
        try:
            for key in path_keys(name):
                node = node[int(key)] if isinstance(node, list) else node[key]
            values[name] = float(node)
        except (KeyError, IndexError, TypeError, ValueError):
            unset.append(problem(path, f"parameters.{name}", f"a number that {scenario.name} "
                                 "sets (the search starts from the scenario's value): give "
                                 "it a value in the scenario", node))
    if unset:
        raise InputError(unset)
    return values


def prior_penalty(candidate: dict, calibration: CalibrationSpec) -> float:
    """Sum of ((value - mean) / sd)^2 over the coefficients with a prior."""
    return float(sum(((candidate[name] - prior.mean) / prior.sd) ** 2
                     for name, prior in calibration.priors.items()))


def per_state_loss(observed: Observed, forecasts, weight: float = 1.0) -> float:
    """Deviance of the per-state forecasts: -2 x weighted log-likelihood, summed."""
    total = 0.0
    for outcome in observed.outcomes:
        if not len(outcome.iso3):
            continue
        frame = forecast_table(Observed(observed.source, outcome.iso3, [outcome],
                                        observed.strata), forecasts)
        total += -2.0 * outcome.weight * len(frame) * log_likelihood(frame)
    return weight * total


class _Search:
    """What every candidate of one calibration shares: scenario, seeds, targets, data."""

    def __init__(self, calibration, scenario, base, observed, backend, workers, log):
        self.calibration, self.scenario, self.base = calibration, scenario, base
        self.spec = spec_for(scenario, base)
        self.observed, self.backend, self.workers, self.log = observed, backend, workers, log
        self.names = list(calibration.parameters)
        self.history: list[dict] = []

    def seeds(self, count: int) -> list[int]:
        return [derive_seed(self.calibration.search.seed, "calibration", r)
                for r in range(count)]

    def score(self, stage: str, candidates: list[dict], replications: int,
              observed: Observed | None) -> list[float]:
        """Loss of each candidate (aggregate targets + per-state deviance + priors)."""
        seeds = self.seeds(replications)
        signed, votes = needed(observed) if observed is not None else ([], [])
        tasks = [(str(self.scenario), {**self.base, **c}, seeds, signed, votes, True)
                 for c in candidates]
        losses = [0.0] * len(candidates)
        for index, part in execute(forecast_runs, tasks, backend=self.backend,
                                   workers=self.workers):
            if isinstance(part, TaskError):
                raise RuntimeError(f"calibration run failed: {part.traceback}")
            aggregate = loss(_observe(part["metrics"], seeds, self.calibration, self.spec),
                             self.calibration)
            states = 0.0
            if observed is not None:
                states = per_state_loss(observed, combine([part], smooth=True),
                                        self.calibration.outcomes.weight)
            prior = prior_penalty(candidates[index], self.calibration)
            losses[index] = aggregate + states + prior
            self.history.append({"stage": stage, "loss": losses[index], "aggregate": aggregate,
                                 "per_state": states, "prior": prior, **candidates[index]})
        return losses

    def pilot(self, candidate: dict) -> float:
        """Seconds of one run as the search runs them (for the estimate printed first)."""
        signed, votes = needed(self.observed) if self.observed is not None else ([], [])
        return timed_pilot(lambda: forecast_runs(
            str(self.scenario), {**self.base, **candidate}, self.seeds(1), signed, votes,
            True))[0]

    def candidate(self, unit: np.ndarray) -> dict:
        ranges = self.calibration.parameters
        return {n: float(round(ranges[n][0] + u * (ranges[n][1] - ranges[n][0]), 4))
                for n, u in zip(self.names, unit, strict=True)}

    def hypercube(self, current: dict, observed) -> dict:
        search, ranges = self.calibration.search, self.calibration.parameters

        def stage(label, candidates, replications):
            self.log(f"{label}: {len(candidates)} candidates x {replications} replications")
            losses = self.score(label, candidates, replications, observed)
            best = int(np.argmin(losses))
            self.log(f"  best loss {losses[best]:.2f}")
            return candidates[best]

        best = stage("explore", [current] + _candidates(ranges, search.explore.candidates,
                                                        search.seed),
                     search.explore.replications)
        shrink = 1.0
        for round_ in range(1, search.refine.rounds + 1):
            shrink *= search.shrink
            best = stage(f"refine {round_}", [best] + _candidates(
                ranges, search.refine.candidates, search.seed + round_, centre=best,
                shrink=shrink), search.refine.replications)
        return best

    def evolve(self, current: dict, observed, label: str = "") -> dict:
        """CMA-ES from the priors' means or the scenario's values; the best candidate seen."""
        settings, ranges = self.calibration.search.cmaes, self.calibration.parameters
        priors = {} if settings.start == "scenario" else self.calibration.priors
        start = {n: priors[n].mean if n in priors else current[n] for n in self.names}
        unit = np.array([(start[n] - ranges[n][0]) / (ranges[n][1] - ranges[n][0])
                         for n in self.names])
        strategy = CMAES(unit, settings.sigma, settings.population, self.calibration.search.seed)
        best, best_loss = self.candidate(np.clip(unit, 0, 1)), math.inf
        prefix = f"{label} " if label else ""
        self.log(f"{prefix}cmaes: {settings.generations} generations x {settings.population} "
                 f"candidates x {settings.replications} replications, {len(self.names)} "
                 "coefficients")
        for generation in range(1, settings.generations + 1):
            units = strategy.ask()
            candidates = [self.candidate(u) for u in units]
            extra = [best] if generation == 1 else []
            losses = self.score(f"{prefix}generation {generation}", candidates + extra,
                                settings.replications, observed)
            strategy.tell(units, np.array(losses[:len(candidates)]))
            top = int(np.argmin(losses))
            if losses[top] < best_loss:
                best, best_loss = (candidates + extra)[top], losses[top]
            self.log(f"  {prefix}generation {generation}: best loss {min(losses):.2f} "
                     f"(so far {best_loss:.2f}), step size {strategy.sigma:.3f}")
        return best

    def run(self, current: dict, observed, label: str = "") -> dict:
        if self.calibration.search.method == "cmaes":
            return self.evolve(current, observed, label)
        return self.hypercube(current, observed)


def _forecast(search: _Search, overrides: dict, observed: Observed, key: str) -> Forecasts:
    """Per-state forecasts (share of runs) of `replications` runs of the candidate."""
    seeds = [derive_seed(search.calibration.search.seed, key, r)
             for r in range(search.calibration.replications)]
    tasks = forecast_tasks(str(search.scenario), overrides, seeds, observed)
    return combine(run_all(forecast_runs, tasks, backend=search.backend,
                           workers=search.workers, what="a forecast run"))


@boundary
def calibrate(targets_path: str | Path, *, backend: str = "process", workers: int | None = None,
              log=print, folds: bool = False) -> dict:
    """Run the search and the final fit; return the fit table and the best coefficients.

    With per-state outcomes in the targets file, the loss adds their deviance and the
    result carries the per-state fit on the training states; `folds` adds a k-fold
    cross-validation (each fold's states forecast by a calibration on the others).
    """
    calibration, scenario = load_targets(targets_path)
    base = _base_overrides(calibration, scenario, Path(targets_path))
    names = list(calibration.parameters)
    observed = None
    if calibration.outcomes is not None:
        observed = load_observed(calibration.outcomes, spec_for(scenario),
                                 Path(targets_path).parent, targets_path)
    current = _current_values(scenario, names, Path(targets_path))
    _check_observable(calibration, scenario, base, Path(targets_path))
    search = _Search(calibration, scenario, base, observed, backend, workers, log)
    runs = search_runs(calibration, folds)
    log(f"calibration: {runs} runs; " + estimate(
        runs, search.pilot(current), 1 if backend == "serial" else workers or default_workers()))
    best = search.run(current, None if observed is None else observed.fitted())
    log("best: " + ", ".join(f"{name}={value}" for name, value in best.items()))
    log(f"final fit of the best candidate with {calibration.replications} replications")

    final_seeds = [derive_seed(calibration.search.seed, "fit", r)
                   for r in range(calibration.replications)]
    chunks = [final_seeds[i:i + 5] for i in range(0, len(final_seeds), 5)]
    full = {**base, **best, "metadata.steps": spec_for(scenario).metadata.steps}
    tasks = [(str(scenario), full, chunk, ("metrics", "steps")) for chunk in chunks]
    batches = run_all(_evaluate, tasks, backend=backend, workers=workers,
                      what="a calibration run")
    metrics = pd.concat([batch["metrics"] for batch in batches], ignore_index=True)
    values = _observe(metrics, final_seeds, calibration, spec_for(scenario, full))
    result = {"calibration": calibration, "scenario": scenario, "best": best,
              "current": current, "loss": loss(values, calibration),
              "fit": fit_table(values, calibration), "seeds": final_seeds,
              "steps": pd.concat([batch["steps"] for batch in batches], ignore_index=True)}
    if observed is not None:
        groups = groups_of(spec_for(scenario), calibration.outcomes.by_rule)
        table = forecast_table(observed, _forecast(search, {**base, **best}, observed, "fit"))
        result["per_state"] = report(f"model on the training states "
                                     f"({calibration.replications} runs)", table, groups)
        if folds:
            result["cross_validation"], result["folds"] = _cross_validate(
                search, current, observed, groups)
    result["search"] = pd.DataFrame(search.history)
    return result


def _cross_validate(search: _Search, current: dict, observed: Observed, groups):
    """k-fold: calibrate on k-1 folds of the training states, forecast the held-out fold."""
    outcomes = search.calibration.outcomes
    parts = folds(observed, outcomes.folds, outcomes.fold_seed)
    tables, bests = [], []
    for k, held in enumerate(parts, start=1):
        label = f"fold {k}/{len(parts)}"
        train = observed.restricted(set(observed.iso3) - set(held))
        best = search.run(current, train.fitted(), label)
        bests.append({"fold": k, "states": len(held), **best})
        forecasts = _forecast(search, {**search.base, **best}, observed, f"fold {k}")
        table = forecast_table(observed.restricted(set(held)), forecasts)
        tables.append(table.assign(fold=k))
    table = pd.concat(tables, ignore_index=True)
    fit = report(f"model, {len(parts)}-fold cross-validated", table, groups)
    return fit, pd.DataFrame(bests)


def search_runs(calibration: CalibrationSpec, folds: bool = False) -> int:
    """Runs of a calibration: every candidate of the search x its replications, the final
    fit, the per-state forecasts, and with `folds` a search and forecast per fold (so a
    user knows what the command will do, and what Ctrl-C would stop)."""
    search = calibration.search
    if search.method == "cmaes":
        evolution = search.cmaes
        searched = (evolution.generations * evolution.population + 1) * evolution.replications
    else:
        searched = ((search.explore.candidates + 1) * search.explore.replications
                    + search.refine.rounds * (search.refine.candidates + 1)
                    * search.refine.replications)
    runs = searched + calibration.replications
    if calibration.outcomes is not None:
        runs += calibration.replications
        if folds:
            runs += calibration.outcomes.folds * (searched + calibration.replications)
    return runs


def fit_table(values: np.ndarray, calibration: CalibrationSpec) -> pd.DataFrame:
    """Each aggregate target against the simulated mean and 90% spread, and whether it
    passes (empty, with its columns, when the file has only per-state outcomes)."""
    rows = []
    for t, target in enumerate(calibration.targets):
        column = values[:, t]
        low, high = np.nanpercentile(column, [5, 95])
        mean = float(np.nanmean(column))
        if target.actor:
            passed = abs(mean - target.value) <= target.tolerance
        else:
            passed = low <= target.value <= high
        rows.append({
            "target": target.label,
            "proposal": target.proposal,
            "value": target.value,
            "tolerance": target.tolerance,
            "simulated_mean": mean,
            "p05": float(low),
            "p95": float(high),
            "passed": bool(passed),
            "source": target.source,
        })
    return pd.DataFrame(rows, columns=["target", "proposal", "value", "tolerance",
                                       "simulated_mean", "p05", "p95", "passed", "source"])




def observed_of(targets_path: str | Path):
    """(calibration spec, scenario path, observed per-state outcomes) of a targets file."""
    calibration, scenario = load_targets(targets_path)
    if calibration.outcomes is None:
        raise InputError(problem(targets_path, "outcomes", "an `outcomes:` section naming "
                                 "the training file and its outcome columns"))
    observed = load_observed(calibration.outcomes, spec_for(scenario),
                             Path(targets_path).parent, targets_path)
    return calibration, scenario, observed


def validate_fit(targets_path: str | Path, *, reps: int = 40, seed: int = 0,
                 cross_validated: str | Path | None = None, backend: str = "process",
                 workers: int | None = None) -> list[FitReport]:
    """Scores of the scenario's per-state forecasts (`reps` runs) on the training states,
    and of the forecasts of a cross-validation (its forecasts.csv) if given."""
    calibration, scenario, observed = observed_of(targets_path)
    groups = groups_of(spec_for(scenario), calibration.outcomes.by_rule)
    forecasts = model_forecasts(scenario, {}, observed, reps, seed, backend=backend,
                                workers=workers)
    reports = [report(f"model on the training states ({reps} runs)",
                      forecast_table(observed, forecasts), groups)]
    if cross_validated is not None:
        reports.append(report("model, cross-validated", read_forecasts(cross_validated), groups))
    return reports


def ablation_fit(targets_path: str | Path, experiment: str | Path, *, reps: int = 40,
                 seed: int = 0, backend: str = "process",
                 workers: int | None = None) -> pd.DataFrame:
    """Per-state scores of the scenario with each point's overrides (e.g. one mechanism
    switched off), on the same seeds: what each mechanism adds to the fit."""
    calibration, scenario, observed = observed_of(targets_path)
    spec, _ = load_experiment(experiment)
    if spec.design != "points":
        raise InputError(problem(experiment, "design", "points (one set of overrides per "
                                 "point)", spec.design))
    groups = groups_of(spec_for(scenario), calibration.outcomes.by_rule)
    frames = []
    for point in design_points(spec):
        forecasts = model_forecasts(scenario, point.overrides, observed, reps, seed,
                                    backend=backend, workers=workers)
        summary = report(point.label, forecast_table(observed, forecasts), groups).summary
        frames.append(summary.assign(point=point.label))
    table = pd.concat(frames, ignore_index=True)
    return table[["point"] + [c for c in table.columns if c != "point"]]


def baseline_fit(targets_path: str | Path, *, penalty: float = 1.0,
                 model: str | Path | None = None) -> list[FitReport]:
    """The cross-validated logistic regression on the targets file's training states and
    folds, and (if given) the model's cross-validated forecasts beside it."""
    calibration, scenario, observed = observed_of(targets_path)
    spec = spec_for(scenario)
    outcomes = calibration.outcomes
    table = cross_validated(observed, spec, outcomes.folds, outcomes.fold_seed, penalty)
    groups = groups_of(spec, outcomes.by_rule)
    reports = [report(f"logistic regression, {outcomes.folds}-fold cross-validated", table,
                      groups)]
    if model is not None:
        reports.append(report("model, cross-validated", read_forecasts(model), groups))
    return reports


__all__ = ["ablation_fit", "baseline_fit", "calibrate", "fit_table", "load_targets", "loss",
           "observed_of",
           "validate_fit"]
