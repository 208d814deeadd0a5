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

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.stats import qmc

from sim.errors import InputError, problem
from sim.metrics import checkpoint_label
from sim.runs.runner import derive_seed, run_batch, spec_for
from sim.scenario.loading import load_model_file
from sim.scenario.spec import TimePoint
from sim.studies.backends import TaskError, execute, run_all
from sim.studies.baseline import cross_validated
from sim.studies.outcomes import OutcomesSpec, load_observed
from sim.studies.validation import (
    FitReport,
    forecast_table,
    groups_of,
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


class Search(Spec):
    """Explore the whole box, then refine `rounds` times in a box shrunk around the best."""

    seed: int = 0
    explore: Stage = Stage(candidates=120, replications=6)
    refine: Stage = Stage(candidates=60, replications=12, rounds=3)
    shrink: Annotated[float, Field(gt=0, le=1)] = 0.3


class CalibrationSpec(Spec):
    name: str
    compiled: date = Field(description="when the targets were compiled")
    scenario: str
    replications: int = Field(50, ge=2)
    search: Search = Search()
    parameters: dict[str, tuple[float, float]]
    targets: list[Target]
    outcomes: OutcomesSpec | None = None


def load_targets(path: str | Path) -> tuple[CalibrationSpec, Path]:
    path = Path(path)
    spec = load_model_file(path, CalibrationSpec)
    backwards = [problem(path, f"parameters.{name}", "a range [low, high] with low < high",
                         list(bounds))
                 for name, bounds in spec.parameters.items() if not bounds[0] < bounds[1]]
    if backwards:
        raise InputError(backwards)
    scenario = (path.parent / spec.scenario).resolve()
    if not scenario.is_file():
        raise InputError(problem(path, "scenario", "an existing scenario file (relative to "
                                 "the targets file)", spec.scenario))
    return spec, scenario


def _base_overrides(calibration: CalibrationSpec, scenario: Path,
                    path: Path | str = "targets") -> dict:
    """Checkpoints at every target date, and no steps beyond the last one."""
    spec = spec_for(scenario)
    steps = sorted({spec.step_of(t.at) for t in calibration.targets})
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


def _current_values(scenario: Path, names) -> dict:
    data = spec_for(scenario).model_dump(by_alias=True)
    values = {}
    for name in names:
        node: Any = data
        for key in name.split("."):
            node = node[int(key)] if isinstance(node, list) else node[key]
        values[name] = float(node)
    return values


def _stage(scenario, base, candidates, seeds, backend, workers, log) -> list[dict]:
    tasks = [(str(scenario), {**base, **c}, seeds) for c in candidates]
    results = []
    for index, batch in execute(_evaluate, tasks, backend=backend, workers=workers):
        if isinstance(batch, TaskError):
            raise RuntimeError(f"calibration run failed: {batch.traceback}")
        results.append((index, batch))
        if log and len(results) % max(1, len(tasks) // 10) == 0:
            log(f"  {len(results)}/{len(tasks)} candidates")
    results.sort(key=lambda pair: pair[0])
    return [{"candidate": candidates[i], "metrics": batch["metrics"]} for i, batch in results]


def calibrate(targets_path: str | Path, *, backend: str = "process", workers: int | None = None,
              log=print) -> dict:
    """Run the search and the final fit; return the fit table and the best coefficients."""
    calibration, scenario = load_targets(targets_path)
    base = _base_overrides(calibration, scenario, Path(targets_path))
    search = calibration.search
    names = list(calibration.parameters)

    def seeds(count):
        return [derive_seed(search.seed, "calibration", r) for r in range(count)]

    current = _current_values(scenario, names)
    spec = spec_for(scenario, base)
    _check_observable(calibration, scenario, base, Path(targets_path))
    history: list[dict] = []

    def score(stage: str, candidates: list[dict], replications: int) -> tuple[float, dict]:
        log(f"{stage}: {len(candidates)} candidates x {replications} replications")
        for item in _stage(scenario, base, candidates, seeds(replications), backend, workers,
                           log):
            value = loss(_observe(item["metrics"], seeds(replications), calibration, spec),
                         calibration)
            history.append({"stage": stage, "loss": value, **item["candidate"]})
        ranked = [h for h in history if h["stage"] == stage]
        top = min(ranked, key=lambda h: h["loss"])
        log(f"  best loss {top['loss']:.2f}")
        return top["loss"], {n: top[n] for n in names}

    best_loss, best = score("explore", [current] + _candidates(
        calibration.parameters, search.explore.candidates, search.seed),
        search.explore.replications)
    shrink = 1.0
    for round_ in range(1, search.refine.rounds + 1):
        shrink *= search.shrink
        candidates = [best] + _candidates(calibration.parameters, search.refine.candidates,
                                          search.seed + round_, centre=best, shrink=shrink)
        best_loss, best = score(f"refine {round_}", candidates, search.refine.replications)
    log(f"final fit of the best candidate with {calibration.replications} replications")

    final_seeds = [derive_seed(search.seed, "fit", r) for r in range(calibration.replications)]
    chunks = [final_seeds[i:i + 5] for i in range(0, len(final_seeds), 5)]
    full = {**base, **best, "metadata.steps": spec_for(scenario).metadata.steps}
    tasks = [(str(scenario), full, chunk, ("metrics", "steps")) for chunk in chunks]
    batches = run_all(_evaluate, tasks, backend=backend, workers=workers,
                      what="a calibration run")
    metrics = pd.concat([batch["metrics"] for batch in batches], ignore_index=True)
    values = _observe(metrics, final_seeds, calibration, spec_for(scenario, full))
    table = fit_table(values, calibration)
    return {"calibration": calibration, "scenario": scenario, "best": best,
            "current": current, "loss": loss(values, calibration), "fit": table,
            "search": pd.DataFrame(history), "seeds": final_seeds,
            "steps": pd.concat([batch["steps"] for batch in batches], ignore_index=True)}


def fit_table(values: np.ndarray, calibration: CalibrationSpec) -> pd.DataFrame:
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
    return pd.DataFrame(rows)




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
    groups = groups_of(spec_for(scenario))
    forecasts = model_forecasts(scenario, {}, observed, reps, seed, backend=backend,
                                workers=workers)
    reports = [report(f"model on the training states ({reps} runs)",
                      forecast_table(observed, forecasts), groups)]
    if cross_validated is not None:
        reports.append(report("model, cross-validated", read_forecasts(cross_validated), groups))
    return reports


def baseline_fit(targets_path: str | Path, *, penalty: float = 1.0,
                 model: str | Path | None = None) -> list[FitReport]:
    """The cross-validated logistic regression on the targets file's training states and
    folds, and (if given) the model's cross-validated forecasts beside it."""
    calibration, scenario, observed = observed_of(targets_path)
    spec = spec_for(scenario)
    outcomes = calibration.outcomes
    table = cross_validated(observed, spec, outcomes.folds, outcomes.fold_seed, penalty)
    groups = groups_of(spec)
    reports = [report(f"logistic regression, {outcomes.folds}-fold cross-validated", table,
                      groups)]
    if model is not None:
        reports.append(report("model, cross-validated", read_forecasts(model), groups))
    return reports


__all__ = ["baseline_fit", "calibrate", "fit_table", "load_targets", "loss", "observed_of",
           "validate_fit"]
