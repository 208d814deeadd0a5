"""The record of a run: its tidy tables (steps, actors, votes, metrics), and files.

Every row carries the run id and the integer seed that reproduces it (see docs/ODD.md
"Observation"); `write_runs` stores the tables of one or more runs with a manifest
and the resolved scenario YAML, atomically.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.metrics import checkpoint_label
from sim.model import VOTE_CODES, NormDiplomacyModel
from sim.runs.store import provenance, write_json, write_table, write_text
from sim.scenario.spec import ScenarioSpec


@dataclass
class RunRecord:
    """The outcome of one run.

    Attributes:
        run_id: hash of (resolved scenario, seed, MODEL_VERSION).
        seed: the integer seed (`cybernorms run --seed` reproduces the run).
        scenario: the resolved ScenarioSpec.
        steps, actors, votes, metrics: tidy tables, every row with run_id and seed.
        timings: seconds per phase: build_s (world and model), steps_s, observe_s
            (tables and metrics).
    """

    run_id: str
    seed: int
    scenario: ScenarioSpec
    steps: pd.DataFrame
    actors: pd.DataFrame
    votes: pd.DataFrame
    metrics: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"steps": self.steps, "actors": self.actors, "votes": self.votes,
                "metrics": self.metrics}

    def write(self, out: str | Path) -> Path:
        return write_runs([self], out)

    def __repr__(self) -> str:
        return (f"RunRecord(run_id={self.run_id!r}, seed={self.seed}, "
                f"scenario={self.scenario.metadata.name!r}, "
                f"steps={self.scenario.metadata.steps})")


def stamp(frame: pd.DataFrame, rid: str, seed: int) -> pd.DataFrame:
    """Prefix every row with the run id and integer seed (the columns every table opens with)."""
    frame.insert(0, "seed", np.int64(seed))
    frame.insert(0, "run_id", rid)
    return frame


def actors_table(model: NormDiplomacyModel) -> pd.DataFrame:
    """Per actor and proposal: final state, first signature, withdrawal, checkpoints."""
    world = model.world
    n, props = world.n_actors, world.proposal_ids
    kinds = np.array(["state", "firm", "civil"])[world.kind]
    bloc_names = np.array([*world.bloc_ids, ""], dtype=object)[world.bloc]
    frames = []
    for p, pid in enumerate(props):
        signed_step = pd.array(np.where(world.signed_step[:, p] >= 0, world.signed_step[:, p],
                                        None), dtype="Int64")
        withdrawn = pd.array(np.where(world.withdrawn_step[:, p] >= 0,
                                      world.withdrawn_step[:, p], None), dtype="Int64")
        frame = pd.DataFrame({
            "actor_id": world.ids,
            "name": world.names,
            "kind": kinds,
            "home": world.ids[world.home],
            "bloc": bloc_names,
            "category": world.category,
            "generated": world.generated,
            "proposal": np.full(n, pid, dtype=object),
            "eligible": world.eligible[:, p],
            "signed": world.signed[:, p],
            "signed_step": signed_step,
            "signed_date": _dates(world, signed_step),
            "withdrawn_step": withdrawn,
            "opposed": world.opposed[:, p],
        })
        for when in model.spec.report.checkpoints:
            step = model.spec.step_of(when)
            if step in model.history.signed_at:
                label = checkpoint_label(model.spec, when)
                frame[f"signed_by_{label}"] = model.history.signed_at[step][:, p]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _dates(world, steps: pd.arrays.IntegerArray) -> pd.Series:
    known = sorted({int(s) for s in steps.dropna()})
    lookup = {s: pd.Timestamp(world.date_of_step(s)) for s in known}
    return pd.Series([lookup[int(s)] if not pd.isna(s) else pd.NaT for s in steps],
                     dtype="datetime64[ns]")


def votes_table(model: NormDiplomacyModel) -> pd.DataFrame:
    world = model.world
    states = world.slices["state"]
    frames = []
    for vote in world.votes_due:
        codes = world.votes[:, vote.proposal]
        if (codes == -2).all():
            continue
        frames.append(pd.DataFrame({
            "iso3": world.ids[states],
            "name": world.names[states],
            "bloc": np.array([*world.bloc_ids, ""], dtype=object)[world.bloc[states]],
            "proposal": world.proposal_ids[vote.proposal],
            "step": np.int64(vote.step),
            "date": pd.Timestamp(world.date_of_step(vote.step)),
            "vote": [VOTE_CODES.get(int(c), "") for c in codes],
        }))
    if not frames:
        return pd.DataFrame(columns=["iso3", "name", "bloc", "proposal", "step", "date", "vote"])
    return pd.concat(frames, ignore_index=True)



def signing_probability(records: list[RunRecord]) -> pd.DataFrame:
    """Per actor, proposal and checkpoint: the share of runs in which the actor had signed.

    Only actors who are the same in every run (states and named firms and
    organisations); generated actors are drawn anew with each world seed.
    """
    actors = pd.concat([r.actors for r in records], ignore_index=True)
    actors = actors[~actors["generated"]]
    columns = ["signed"] + [c for c in actors.columns if c.startswith("signed_by_")]
    keys = ["actor_id", "name", "kind", "home", "bloc", "proposal"]
    grouped = actors.groupby(keys, sort=False)[columns].mean().reset_index()
    long = grouped.melt(id_vars=keys, value_vars=columns, var_name="at", value_name="probability")
    long["at"] = long["at"].str.removeprefix("signed_by_").replace({"signed": "end"})
    long.insert(len(keys), "runs", len(records))
    return long


def write_runs(records: list[RunRecord], out: str | Path, *,
               load_s: float | None = None) -> Path:
    """Write the tables of one or more runs, a manifest and the resolved scenario.

    The manifest's `timings` sum each phase over the runs: load (`load_s`, the seconds
    the caller spent reading the scenario, if it says), build, steps, observe and write.
    """
    started = time.perf_counter()
    out = Path(out)
    spec = records[0].scenario
    for name in ("steps", "actors", "votes", "metrics"):
        write_table(out / f"{name}.parquet",
                    pd.concat([getattr(r, name) for r in records], ignore_index=True))
    if len(records) > 1:
        write_table(out / "signing_probability.parquet", signing_probability(records))
    write_text(out / "scenario.yaml", spec.to_yaml())
    phases = {"load_s": load_s} | {
        phase: sum(r.timings.get(phase, 0.0) for r in records)
        for phase in ("build_s", "steps_s", "observe_s")}
    manifest = {
        "scenario": spec.metadata.name,
        "scenario_source": spec.source,
        "scenario_digest": spec.digest(),
        "runs": [{"run_id": r.run_id, "seed": r.seed, **r.timings} for r in records],
        "timings": {**phases, "write_s": time.perf_counter() - started},
        **provenance(),
    }
    write_json(out / "manifest.json", manifest)
    return out
