"""The record of a run: its tidy tables (steps, actors, votes, metrics, texts,
trajectories), and files.

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
from sim.negotiation import drafted_round
from sim.runs.store import provenance, write_json, write_table, write_text
from sim.scenario.spec import ScenarioSpec

#: the tables of a run record, as files `<name>.parquet`
TABLES = ("steps", "actors", "votes", "metrics", "texts", "trajectories")
TEXT_COLUMNS = ["proposal", "round", "step", "date", "dimension", "content", "previous",
                "drafted", "conceded", "consulted", "candidates", "support",
                "support_before", "distance", "objective", "withdrawals"]
TRAJECTORY_COLUMNS = ["actor_id", "name", "step", "date", "dimension", "interest"]


@dataclass
class RunRecord:
    """The outcome of one run.

    Attributes:
        run_id: hash of (resolved scenario, seed, MODEL_VERSION).
        seed: the integer seed (`cybernorms run --seed` reproduces the run).
        scenario: the resolved ScenarioSpec.
        steps, actors, votes, metrics: tidy tables, every row with run_id and seed.
        texts: each negotiated text per round and dimension (empty without negotiation).
        trajectories: interests of the recorded actors per step and dimension.
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
    texts: pd.DataFrame = field(default_factory=pd.DataFrame)
    trajectories: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: dict[str, float] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}

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
            "withdrawn_cause": withdrawal_causes(model, p),
            "opposed": world.opposed[:, p],
        })
        for when in model.spec.report.checkpoints:
            step = model.spec.step_of(when)
            if step in model.history.signed_at:
                label = checkpoint_label(model.spec, when)
                frame[f"signed_by_{label}"] = model.history.signed_at[step][:, p]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def withdrawal_causes(model: NormDiplomacyModel, p: int) -> np.ndarray:
    """Why each actor's last withdrawal happened: a revision crossing its red line (as
    the negotiation recorded it), else its utility falling below theta - hysteresis."""
    world = model.world
    withdrawn = world.withdrawn_step[:, p]
    causes = np.where(withdrawn >= 0, "hysteresis", "").astype(object)
    for talks in model.talks:
        if talks.proposal == p:
            for (row, step), cause in talks.withdrawals.items():
                if withdrawn[row] == step:
                    causes[row] = cause
    return causes


def texts_table(model: NormDiplomacyModel) -> pd.DataFrame:
    """Per negotiated proposal, round and dimension (and bindingness): the text after the
    round, before it, as drafted, whether the round conceded ground (moved it away from
    the draft), whom it consulted and what the sponsor expected. Round 0 is the draft."""
    world = model.world
    rows = []
    for talks in model.talks:
        pid = world.proposal_ids[talks.proposal]
        for entry in [drafted_round(world, talks), *talks.rounds]:
            values = [*zip(world.dimensions, entry["content"], entry["previous"],
                           talks.ideal, strict=True),
                      ("bindingness", entry["bindingness"], entry["previous_bindingness"],
                       talks.ideal_bindingness)]
            negotiable = [*talks.movable, True]
            for (dim, content, previous, drafted), movable in zip(values, negotiable,
                                                                  strict=True):
                if not (movable or content or previous or drafted):
                    continue
                rows.append({
                    "proposal": pid, "round": entry["round"], "step": entry["step"],
                    "date": pd.Timestamp(world.date_of_step(entry["step"])),
                    "dimension": dim, "content": float(content), "previous": float(previous),
                    "drafted": float(drafted),
                    "conceded": bool(abs(content - drafted) > abs(previous - drafted)),
                    **{key: entry[key] for key in TEXT_COLUMNS[9:]},
                })
    return pd.DataFrame(rows, columns=TEXT_COLUMNS)


def trajectories_table(model: NormDiplomacyModel) -> pd.DataFrame:
    """Interests of the actors named in `positions.record`, per step and dimension."""
    trajectories, world = model.trajectories, model.world
    if not trajectories.steps:
        return pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    values = np.stack(trajectories.interests)  # (steps, actors, D)
    n_steps, n_actors, n_dims = values.shape
    steps = np.repeat(trajectories.steps, n_actors * n_dims)
    dates = {s: pd.Timestamp(world.date_of_step(max(s, 1))) for s in trajectories.steps}
    return pd.DataFrame({
        "actor_id": np.tile(np.repeat(world.ids[trajectories.rows], n_dims), n_steps),
        "name": np.tile(np.repeat(world.names[trajectories.rows], n_dims), n_steps),
        "step": steps.astype(np.int64),
        "date": [dates[s] for s in steps],
        "dimension": np.tile(world.dimensions, n_steps * n_actors),
        "interest": values.ravel(),
    })


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
    for name in TABLES:
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
