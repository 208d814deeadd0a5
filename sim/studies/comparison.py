"""Comparing scenarios: replicate statistics, paired differences, time to signing, tables.

`compare` runs every scenario with the same seeds, replicate by replicate (common
random numbers: the same worlds and draws wherever the scenarios agree), so that
differences are paired. For each scenario and outcome it reports the mean, the 95%
confidence interval of the mean (Student t) and the 90% spread of runs (5th-95th
percentile); for each scenario after the first, the paired difference from the first
with its 95% interval, the paired effect size d_z = mean(diff) / sd(diff), and the
paired t-test p-value, adjusted with Holm's method within each family: one outcome
at one time point, over the comparisons with the first scenario (a paper reports a
table per outcome; adjusting over all outcomes and dates at once would make every
p-value 1 while its confidence interval excludes 0).
Time to signing is a Kaplan-Meier curve per kind: actors who never sign are censored
at the last step, not dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim import limits
from sim.errors import InputError, boundary, problem
from sim.runs.runner import derive_seed, resolve, run_spec
from sim.scenario.spec import ScenarioSpec
from sim.studies.backends import default_workers, estimate, run_all, timed_pilot

#: what one family of Holm-adjusted tests shares: each scenario against the reference
FAMILY = ["proposal", "metric", "at"]
HOLM_FAMILY = ("Holm-adjusted within each outcome and time point (over the comparisons "
               "with the reference); the 95% CIs are not adjusted")

#: outcomes compared by default (at the end and at each checkpoint)
OUTCOMES = ("signers_state", "signers_firm", "signers_civil", "share_states", "share_gdp",
            "polarisation")


def mean_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and its Student-t confidence interval (NaNs ignored)."""
    values = np.asarray(values, float)
    values = values[~np.isnan(values)]
    n = values.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if n == 1:
        return mean, math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def paired_difference(first: np.ndarray, other: np.ndarray) -> dict:
    """other - first, paired by replicate: mean, 95% CI, d_z and paired t-test p."""
    first, other = np.asarray(first, float), np.asarray(other, float)
    keep = ~(np.isnan(first) | np.isnan(other))
    diff = other[keep] - first[keep]
    mean, low, high = mean_interval(diff)
    n = diff.size
    if n < 2:
        return {"diff": mean, "diff_low": low, "diff_high": high, "d_z": math.nan,
                "p": math.nan, "pairs": n}
    sd = diff.std(ddof=1)
    if sd == 0:  # identical in every replicate, or a constant shift
        d_z = 0.0 if mean == 0 else math.copysign(math.inf, mean)
        p = 1.0 if mean == 0 else 0.0
    else:
        d_z = mean / sd
        p = float(stats.ttest_1samp(diff, 0.0).pvalue)
    return {"diff": mean, "diff_low": low, "diff_high": high, "d_z": d_z, "p": p, "pairs": n}


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaNs stay NaN)."""
    p = np.asarray(pvalues, float)
    adjusted = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def kaplan_meier(durations: np.ndarray, signed: np.ndarray) -> pd.DataFrame:
    """Product-limit estimate of P(signed by step t), with Greenwood 95% bands.

    durations: step of first signature, or the last step observed (censored);
    signed: True where the actor signed (an event), False where censored.
    """
    durations = np.asarray(durations)
    signed = np.asarray(signed, bool)
    times = np.unique(durations[signed])
    at_risk = np.array([(durations >= t).sum() for t in times], float)
    events = np.array([((durations == t) & signed).sum() for t in times], float)
    survival = np.cumprod(1 - events / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = events / (at_risk * (at_risk - events))
    variance = survival**2 * np.cumsum(np.nan_to_num(terms, posinf=0.0))
    half = 1.96 * np.sqrt(variance)
    return pd.DataFrame({
        "step": times,
        "signed": 1 - survival,
        "low": np.clip(1 - survival - half, 0, 1),
        "high": np.clip(1 - survival + half, 0, 1),
        "at_risk": at_risk,
        "events": events,
    })


def _run_scenario(spec: ScenarioSpec, seeds: list[int]) -> list:
    return [run_spec(spec, seed, tables=("steps", "actors", "metrics")) for seed in seeds]


@dataclass
class Comparison:
    """Results of `compare`.

    Attributes:
        labels: scenario names, first is the reference.
        metrics, steps: tidy tables of all runs, with a `scenario` column.
        table: per scenario, outcome and time point: statistics and paired differences.
        time_to_signing: Kaplan-Meier curves per scenario, proposal and kind.
        seeds: the seeds shared by all scenarios (replicate r uses seeds[r]).
    """

    labels: list[str]
    specs: list[ScenarioSpec]
    metrics: pd.DataFrame
    steps: pd.DataFrame
    table: pd.DataFrame
    time_to_signing: pd.DataFrame
    seeds: list[int] = field(default_factory=list)


def _survival(records, label: str) -> list[pd.DataFrame]:
    actors = pd.concat([r.actors for r in records], ignore_index=True)
    actors = actors[actors["eligible"]]
    last = int(max(r.steps["step"].max() for r in records))
    frames = []
    for (proposal, kind), group in actors.groupby(["proposal", "kind"], sort=False):
        signed = group["signed_step"].notna().to_numpy()
        durations = group["signed_step"].fillna(last).to_numpy(float)
        curve = kaplan_meier(durations, signed)
        timeline = records[0].scenario.timeline
        curve.insert(1, "date", pd.to_datetime([timeline.date_of_step(int(s))
                                                for s in curve["step"]]))
        curve.insert(0, "kind", kind)
        curve.insert(0, "proposal", proposal)
        curve.insert(0, "scenario", label)
        frames.append(curve)
    return frames


def comparison_table(metrics: pd.DataFrame, labels: list[str],
                     outcomes: Sequence[str] = OUTCOMES) -> pd.DataFrame:
    """Statistics per scenario and outcome, and paired differences from the first."""
    rows = []
    wanted = metrics[metrics["metric"].isin(outcomes) | metrics["metric"].str.startswith(
        "joined_")]
    pivot = wanted.pivot_table(index=["proposal", "metric", "at", "replicate"],
                               columns="scenario", values="value", aggfunc="first")
    # proposals as the scenarios list them, outcomes in the order asked, then time points
    proposals = list(dict.fromkeys(wanted["proposal"]))
    order = {m: i for i, m in enumerate(outcomes)}
    blocks = sorted(pivot.groupby(level=[0, 1, 2], sort=False),
                    key=lambda item: (proposals.index(item[0][0]),
                                      order.get(item[0][1], len(order)), item[0][1],
                                      item[0][2] == "end", item[0][2]))
    for (proposal, metric, at), block in blocks:
        block = block.droplevel([0, 1, 2]).sort_index()
        reference = block[labels[0]].to_numpy() if labels[0] in block else None
        for label in labels:
            if label not in block or block[label].isna().all():
                continue
            values = block[label].to_numpy(float)
            mean, low, high = mean_interval(values)
            finite = values[~np.isnan(values)]
            row = {"proposal": proposal, "metric": metric, "at": at, "scenario": label,
                   "runs": int(finite.size), "mean": mean, "ci_low": low, "ci_high": high,
                   "p05": float(np.percentile(finite, 5)) if finite.size else math.nan,
                   "p95": float(np.percentile(finite, 95)) if finite.size else math.nan}
            if label != labels[0] and reference is not None:
                row.update(paired_difference(reference, values))
            rows.append(row)
    table = pd.DataFrame(rows)
    if "p" in table:
        # one family per outcome and time point: the comparisons with the reference
        table["p_holm"] = table.groupby(FAMILY, sort=False)["p"].transform(
            lambda p: holm(p.to_numpy(float)))
    return table


def _announce(specs: list[ScenarioSpec], seeds: list[int], backend: str, workers: int | None,
              log) -> None:
    """Time one run of the first scenario and say what the whole job will take."""
    seconds, _ = timed_pilot(lambda: run_spec(specs[0], seeds[0], tables=("metrics",)))
    parallel = 1 if backend == "serial" else workers or default_workers()
    log(f"{len(specs)} scenario{'s' if len(specs) > 1 else ''} x {len(seeds)} replications: "
        + estimate(len(specs) * len(seeds), seconds, parallel))


def _check_reps(reps: int, minimum: int) -> None:
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < minimum:
        raise InputError(problem("reps", "", f"a whole number >= {minimum} (an interval "
                                 "needs two runs)", reps))
    limits.check("runs", reps, "reps", "", "a number of replications")


@boundary
def compare(scenarios: Sequence[str | Path | ScenarioSpec], reps: int, *, seed: int = 0,
            steps: int | None = None, backend: str = "process", workers: int | None = None,
            outcomes: Sequence[str] = OUTCOMES, log=None) -> Comparison:
    """Run each scenario `reps` times on shared seeds and compare them to the first.

    With `log` (e.g. print), one run is timed first and the estimate of the whole
    comparison is logged before it starts.
    """
    _check_reps(reps, 2)
    specs = [resolve(s, steps=steps) for s in scenarios]
    labels = _unique_labels([s.metadata.name for s in specs])
    seeds = [derive_seed(seed, "", r) for r in range(reps)]
    if log is not None:
        _announce(specs, seeds, backend, workers, log)
    chunk = max(1, min(10, math.ceil(reps / 4)))
    tasks = [(spec, seeds[i:i + chunk]) for spec in specs for i in range(0, reps, chunk)]
    owners = [(k, i) for k in range(len(specs)) for i in range(0, reps, chunk)]
    records: dict[int, list] = {k: [] for k in range(len(specs))}
    batches = run_all(_run_scenario, tasks, backend=backend, workers=workers,
                      what="a comparison run")
    for (owner, _), batch in zip(owners, batches, strict=True):
        records[owner].extend(batch)
    metric_frames, step_frames, survival = [], [], []
    for k, label in enumerate(labels):
        for replicate, record in enumerate(records[k]):
            for frames, table in ((metric_frames, record.metrics), (step_frames, record.steps)):
                frame = table.copy()
                frame.insert(0, "replicate", replicate)
                frame.insert(0, "scenario", label)
                frames.append(frame)
        survival.extend(_survival(records[k], label))
    metrics = pd.concat(metric_frames, ignore_index=True)
    return Comparison(
        labels=labels,
        specs=specs,
        metrics=metrics,
        steps=pd.concat(step_frames, ignore_index=True),
        table=comparison_table(metrics, labels, outcomes),
        time_to_signing=pd.concat(survival, ignore_index=True),
        seeds=seeds,
    )


def _unique_labels(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return labels


@boundary
def replicate_runs(scenario: str | Path | ScenarioSpec, reps: int, *, seed: int = 0,
                   steps: int | None = None, backend: str = "process",
                   workers: int | None = None, log=None) -> list:
    """`reps` runs of one scenario (seeds as in `compare`), in replicate order."""
    _check_reps(reps, 1)
    spec = resolve(scenario, steps=steps)
    seeds = [derive_seed(seed, "", r) for r in range(reps)]
    if log is not None:
        _announce([spec], seeds, backend, workers, log)
    chunk = max(1, min(10, math.ceil(reps / 8)))
    tasks = [(spec, seeds[i:i + chunk]) for i in range(0, reps, chunk)]
    batches = run_all(_run_scenario, tasks, backend=backend, workers=workers, what="a run")
    return [record for batch in batches for record in batch]


def replication_sufficiency(metrics: pd.DataFrame, sizes: Sequence[int] | None = None,
                            outcomes: Sequence[str] = OUTCOMES, at: str = "end"
                            ) -> pd.DataFrame:
    """Half-width of the 95% CI of the mean of each outcome using the first n runs.

    How many replications a comparison needs: the half-width shrinks like 1/sqrt(n);
    read off the n at which it is small next to the differences that matter.
    """
    runs = list(dict.fromkeys(metrics["run_id"]))
    sizes = sizes or [n for n in (2, 5, 10, 20, 30, 50, 100, 200, 500) if n <= len(runs)]
    chosen = metrics[(metrics["at"] == at) & metrics["metric"].isin(outcomes)]
    rows = []
    for (proposal, metric), group in chosen.groupby(["proposal", "metric"], sort=False):
        by_run = group.set_index("run_id")["value"].reindex(runs).to_numpy(float)
        for n in sizes:
            mean, low, high = mean_interval(by_run[:n])
            rows.append({"proposal": proposal, "metric": metric, "replications": n,
                         "mean": mean, "half_width": (high - low) / 2,
                         "relative_half_width": (high - low) / 2 / abs(mean) if mean else math.nan})
    return pd.DataFrame(rows)


__all__ = ["Comparison", "compare", "comparison_table", "holm", "kaplan_meier",
           "mean_interval", "paired_difference"]
