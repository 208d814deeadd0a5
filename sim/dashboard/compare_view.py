"""The "Compare scenarios" tab: two scenarios over N replications on shared seeds.

The comparison runs as a job of the dashboard (sim/dashboard/jobs.py), so it goes on,
and its result stays, while the user looks at other tabs; the tab's choices (A, B,
replications, root seed) are kept by the dashboard too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import solara

from sim.dashboard import controls
from sim.dashboard.compare import Comparison, compare
from sim.dashboard.figures import FIGURE_FORMATS, chart_figure, compare_charts, figure_bytes
from sim.dashboard.jobs import CANCELLED, DONE, FAILED, RUNNING, Job, duration
from sim.dashboard.widgets import Chart, DownloadButton, NumberField, ValueSlider
from sim.scenario.spec import ScenarioSpec

CURRENT = "current settings"


@dataclass(frozen=True)
class CompareChoice:
    """What the tab will compare: scenario labels A and B, replications, root seed."""

    first: str
    second: str
    reps: int = 10
    root: int = 0


def default_choice(choices: dict[str, str], current_label: str) -> CompareChoice:
    others = [label for label in choices if label != current_label]
    return CompareChoice(first=f"{CURRENT} ({current_label})",
                         second=others[0] if others else next(iter(choices)))


def options(choices: dict[str, str], current_label: str) -> dict[str, str | None]:
    """Label -> scenario file (None: the current settings)."""
    return {f"{CURRENT} ({current_label})": None, **choices}


def start_comparison(choice: CompareChoice, specs: tuple[ScenarioSpec, ScenarioSpec],
                     on_change) -> Job:
    labels = (choice.first.split(" (")[0] if choice.first.startswith(CURRENT) else choice.first,
              choice.second.split(" (")[0] if choice.second.startswith(CURRENT)
              else choice.second)

    def work(job: Job) -> Comparison:
        return compare(*specs, choice.reps, choice.root, labels=labels,
                       progress=lambda _: job.advance(), check=job.check)

    return Job(f"comparison of {labels[0]} and {labels[1]}", 2 * choice.reps, work,
               on_change).start()


@solara.component
def CompareView(choices: dict[str, str], current: ScenarioSpec, current_label: str,
                choice: solara.Reactive[CompareChoice], job: solara.Reactive[Job | None],
                revision: solara.Reactive[int], seconds_per_run: float | None,
                on_change: Callable[[], None]):
    """Pick A and B, run, watch progress (or cancel), and read the result.

    `revision` changes with the job's progress (only this tab re-draws); `on_change` is
    what the job calls after each run and at its end."""
    revision.value  # noqa: B018 (re-render on the job's progress)
    labels = options(choices, current_label)
    picked = choice.value
    running = job.value is not None and job.value.state == RUNNING

    def spec_of(label: str) -> ScenarioSpec:
        return current if labels.get(label) is None else controls.file_spec(labels[label])

    def run():
        if running:
            return
        job.set(start_comparison(picked, (spec_of(picked.first), spec_of(picked.second)),
                                 on_change))

    def pick(**changes):
        choice.set(replace(picked, **changes))

    runs = 2 * picked.reps
    with solara.Row(gap="16px", style={"align-items": "end", "flex-wrap": "wrap"}):
        solara.Select("Scenario A", value=picked.first, values=list(labels),
                      on_value=lambda v: pick(first=v), style={"min-width": "260px"})
        solara.Select("Scenario B", value=picked.second, values=list(labels),
                      on_value=lambda v: pick(second=v), style={"min-width": "260px"})
        with solara.Div(style={"min-width": "240px"}):
            ValueSlider("Replications (shared seeds)", picked.reps, lambda v: pick(reps=v),
                        2, 50, 1, integer=True, control="Replications (shared seeds)")
        NumberField(picked.root, lambda v: pick(root=v), integer=True, label="Root seed",
                    width="120px")
        solara.Button("Run comparison", color="primary", icon_name="mdi-play",
                      on_click=run, disabled=running)
    estimate = f", about {duration(runs * seconds_per_run)}" if seconds_per_run else ""
    solara.Text(f"{runs} runs ({picked.reps} replications of each){estimate}. Both scenarios "
                f"run with the same seeds, replicate by replicate (common random numbers), so "
                f"each replicate gives a paired difference.", classes=["cn-muted"])
    current_job = job.value
    if current_job is not None:
        # the job changes inside: its state and count make the status draw again
        JobStatus(current_job, current_job.state, current_job.done)
        if current_job.state == DONE:
            ComparisonResult(current_job.result)


@solara.component
def JobStatus(job: Job, state: str, done: int):
    if state == RUNNING:
        left = job.remaining
        with solara.Row(style={"align-items": "center"}, classes=["cn-job"]):
            solara.Text(f"Running {job.label}: {done} of {job.total} runs "
                        f"({job.fraction:.0%})" + (f", about {duration(left)} left" if left
                                                   is not None else ", estimating ..."),
                        classes=["cn-muted", "cn-job-progress"])
            solara.Button("Cancel", text=True, small=True, icon_name="mdi-close",
                          on_click=job.cancel)
        solara.ProgressLinear(value=job.fraction * 100)
    elif state == CANCELLED:
        solara.Warning(f"Cancelled after {done} of {job.total} runs "
                       f"({duration(job.elapsed)}).", dense=True)
    elif state == FAILED:
        solara.Error(f"The comparison failed: {job.error}")
    else:
        solara.Text(f"{job.total} runs in {duration(job.elapsed)}.", classes=["cn-muted"])


def _numbers(table: pd.DataFrame, column: str) -> list[str]:
    """Shares as percentages, counts with one decimal (means of counts), n/a for NaN."""
    return ["n/a" if np.isnan(value) else f"{value:.1%}" if outcome.startswith("share")
            else f"{value:,.1f}" for outcome, value in zip(table["outcome"], table[column],
                                                             strict=True)]


@solara.component
def ComparisonResult(comparison: Comparison):
    common = [p for p in comparison.specs[0].proposals if p in comparison.specs[1].proposals]
    pid, set_pid = solara.use_state(common[0] if common else "")
    if not common:
        solara.Warning("The two scenarios share no proposal to compare.")
        return
    if len(common) > 1:
        solara.ToggleButtonsSingle(value=pid, values=common, on_value=set_pid, dense=True)
    longer = max(comparison.specs, key=lambda s: s.metadata.steps)
    signers, coverage = compare_charts(comparison.steps, pid, longer)
    Chart(chart_json=json.dumps(signers), height=210)
    Chart(chart_json=json.dumps(coverage), height=210)
    table = comparison.differences[comparison.differences["proposal"] == pid]
    shown = pd.DataFrame({
        "outcome at the end": table["outcome"],
        comparison.labels[0]: _numbers(table, "mean_a"),
        comparison.labels[1]: _numbers(table, "mean_b"),
        "B - A (mean)": _numbers(table, "difference"),
        "95% CI": [f"[{lo}, {hi}]" for lo, hi in zip(_numbers(table, "ci_low"),
                                                      _numbers(table, "ci_high"), strict=True)],
    })
    solara.Text(f"Outcome differences, paired over {len(comparison.seeds)} shared seeds "
                f"(B - A; 95% Student-t interval):", classes=["cn-section"])
    solara.DataFrame(shown.reset_index(drop=True), items_per_page=10)
    solara.Text(f"Each scenario's replications are those of \"cybernorms run SCENARIO --reps "
                f"{len(comparison.seeds)} --seed {comparison.root_seed}\". The map of the live "
                f"tab can show every state's signing probability in either scenario.",
                classes=["cn-muted"])
    stem = f"compare_{pid}"
    with solara.Row(gap="8px", style={"flex-wrap": "wrap", "align-items": "start"}):
        DownloadButton("Differences (CSV)", "comparison_differences.csv",
                       lambda: comparison.differences.to_csv(index=False).encode(),
                       "the differences table")
        DownloadButton("All steps (CSV)", "comparison_steps.csv", lambda: pd.concat(
            [s.assign(scenario=label) for label, s in comparison.steps.items()]).to_csv(
                index=False).encode(), "the steps of every run")
        DownloadButton("Signing probabilities (CSV)", "comparison_signing_probability.csv",
                       lambda: pd.concat([t.assign(scenario=label) for label, t in
                                          comparison.probabilities.items()]).to_csv(
                           index=False).encode(), "the signing probabilities")
    for name, chart in (("signatories", signers), ("coverage", coverage)):
        with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text(f"{name} figure", style={"min-width": "130px"})
            for fmt in FIGURE_FORMATS:
                DownloadButton(fmt.upper(), f"{stem}_{name}.{fmt}",
                               lambda chart=chart, fmt=fmt: figure_bytes(
                                   chart_figure(chart, longer), fmt),
                               f"the {name} figure ({fmt.upper()})")
