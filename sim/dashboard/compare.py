"""Compare mode of the dashboard: two scenarios over N replications on shared seeds.

Replicate r of both scenarios runs with the same seed (`derive_seed(root, "", r)`, as
`sim.studies.comparison.compare` does), so the worlds and random draws agree wherever the two
scenarios do (common random numbers) and each replicate gives a paired difference.
Outcomes at the last step are summarised per scenario (mean) and as the mean paired
difference B - A with its 95% Student-t interval; each scenario's replications also give
every state's (and named actor's) probability of having signed by the end, which the
map can show. Replicate seeds are those of `cybernorms run --reps N --seed ROOT`, so a
scenario's replications can be reproduced from the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from sim.runs.record import RunRecord, signing_probability
from sim.runs.runner import derive_seed, run_spec
from sim.scenario.spec import ScenarioSpec
from sim.studies.comparison import paired_difference

#: outcome column of the steps table -> label in the differences table
OUTCOMES = {
    "signers_state": "state signatories",
    "signers_firm": "firm signatories",
    "signers_civil": "civil-society signatories",
    "share_states": "share of UN member states",
    "share_gdp": "share of world GDP",
}


@dataclass
class Comparison:
    """Steps tables of both scenarios (all replicates) and the outcome differences.

    Attributes:
        labels: (label of A, label of B).
        seeds: the seeds both scenarios ran with (replicate r used seeds[r]).
        steps: label -> steps table of all replicates (a `replicate` column added).
        differences: per proposal and outcome: mean of A, mean of B, B - A and its 95% CI.
        probabilities: label -> signing_probability table (states and named actors).
        root_seed: the root the seeds derive from; run_seconds: mean seconds per run.
    """

    labels: tuple[str, str]
    specs: tuple[ScenarioSpec, ScenarioSpec]
    seeds: list[int]
    steps: dict[str, pd.DataFrame]
    differences: pd.DataFrame
    probabilities: dict[str, pd.DataFrame]
    root_seed: int = 0
    run_seconds: float = 0.0

    def signing_at_end(self, label: str) -> dict[str, dict[str, float]]:
        """proposal -> actor id -> share of the runs of `label` in which it had signed."""
        table = self.probabilities[label]
        table = table[table["at"] == "end"]
        return {pid: dict(zip(part["actor_id"], part["probability"], strict=True))
                for pid, part in table.groupby("proposal", sort=False)}


def shared_seeds(root: int, reps: int) -> list[int]:
    return [derive_seed(root, "", r) for r in range(reps)]


def final_outcomes(steps: pd.DataFrame) -> pd.DataFrame:
    """Per replicate and proposal: the outcomes at each run's last step."""
    last = steps[steps["step"] == steps.groupby("replicate")["step"].transform("max")]
    return last.set_index(["proposal", "replicate"])[list(OUTCOMES)]


def outcome_differences(steps_a: pd.DataFrame, steps_b: pd.DataFrame) -> pd.DataFrame:
    """Mean outcomes of A and B at the end and the paired difference B - A (95% CI)."""
    a, b = final_outcomes(steps_a), final_outcomes(steps_b)
    rows = []
    for proposal in a.index.get_level_values(0).unique():
        if proposal not in b.index.get_level_values(0):
            continue
        paired = a.loc[proposal].add_suffix("_a").join(b.loc[proposal].add_suffix("_b"),
                                                       how="inner")
        for column, label in OUTCOMES.items():
            paired_stats = paired_difference(paired[f"{column}_a"].to_numpy(float),
                                             paired[f"{column}_b"].to_numpy(float))
            rows.append({"proposal": proposal, "outcome": label,
                         "mean_a": float(paired[f"{column}_a"].mean()),
                         "mean_b": float(paired[f"{column}_b"].mean()),
                         "difference": paired_stats["diff"],
                         "ci_low": paired_stats["diff_low"], "ci_high": paired_stats["diff_high"],
                         "p": paired_stats["p"], "pairs": paired_stats["pairs"]})
    return pd.DataFrame(rows)


def compare(a: ScenarioSpec, b: ScenarioSpec, reps: int, root_seed: int = 0,
            labels: tuple[str, str] | None = None,
            progress: Callable[[float], None] | None = None,
            check: Callable[[], None] | None = None) -> Comparison:
    """Run A and B `reps` times each on shared seeds.

    `progress` gets the fraction done after each run; `check` is called between runs
    and may raise to stop (the dashboard's Cancel).
    """
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    labels = labels or (a.metadata.name, b.metadata.name)
    if labels[0] == labels[1]:
        labels = (f"A: {labels[0]}", f"B: {labels[1]}")
    seeds = shared_seeds(root_seed, reps)
    frames: dict[str, list[pd.DataFrame]] = {label: [] for label in labels}
    named: dict[str, list[RunRecord]] = {label: [] for label in labels}
    done, seconds = 0, 0.0
    for replicate, seed in enumerate(seeds):
        for label, spec in zip(labels, (a, b), strict=True):
            if check is not None:
                check()
            record = run_spec(spec, seed, tables=("steps", "actors"))
            seconds += sum(record.timings.values())
            steps = record.steps
            steps.insert(0, "replicate", replicate)
            frames[label].append(steps)
            # only the actors who exist in every world count for probabilities
            record.actors = record.actors[~record.actors["generated"]]
            named[label].append(record)
            done += 1
            if progress is not None:
                progress(done / (2 * reps))
    steps = {label: pd.concat(parts, ignore_index=True) for label, parts in frames.items()}
    return Comparison(labels=labels, specs=(a, b), seeds=seeds, steps=steps,
                      differences=outcome_differences(*steps.values()),
                      probabilities={label: signing_probability(records)
                                     for label, records in named.items()},
                      root_seed=root_seed, run_seconds=seconds / max(done, 1))
