"""Runs: (scenario, overrides, seed) -> RunRecord, and replicates of a scenario.

A RunRecord holds the tidy tables of a run (steps, actors, votes, metrics; see
docs/ODD.md "Observation"), every row carrying the run id and the integer seed that reproduces it,
plus the resolved scenario. `write` stores them with a manifest and the scenario YAML.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import MODEL_VERSION
from sim.metrics import checkpoint_label, run_metrics
from sim.model import VOTE_CODES, NormDiplomacyModel
from sim.scenario import ScenarioSpec, find_scenario, load_scenario, with_overrides
from sim.store import content_hash, provenance, write_json, write_table, write_text


def derive_seed(root: int, key: str, replicate: int) -> int:
    """Seed of `replicate` under `root`, keyed by `key` (e.g. a design point's hash).

    Keyed rather than positional, so adding design points or replicates never changes
    the seeds of existing ones. Always a non-negative 63-bit integer.
    """
    digest = hashlib.sha256(f"{root}:{key}:{replicate}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def run_id(spec: ScenarioSpec | str, seed: int) -> str:
    """Content hash of (resolved scenario, seed, MODEL_VERSION); `spec` may be its digest."""
    digest = spec if isinstance(spec, str) else spec.digest()
    return content_hash(digest, int(seed), MODEL_VERSION)


def resolve(scenario: str | Path | ScenarioSpec, overrides: Mapping[str, Any] | None = None,
            steps: int | None = None) -> ScenarioSpec:
    """A validated spec from a file, a shipped name or a spec, with overrides applied."""
    overrides = dict(overrides or {})
    if steps is not None:
        overrides["metadata.steps"] = steps
    if isinstance(scenario, ScenarioSpec):
        return with_overrides(scenario, overrides) if overrides else scenario
    return load_scenario(find_scenario(scenario), overrides)


@dataclass
class RunRecord:
    """The outcome of one run.

    Attributes:
        run_id: hash of (resolved scenario, seed, MODEL_VERSION).
        seed: the integer seed (`cybernorms run --seed` reproduces the run).
        scenario: the resolved ScenarioSpec.
        steps, actors, votes, metrics: tidy tables, every row with run_id and seed.
        timings: seconds spent building and running.
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


def _stamp(frame: pd.DataFrame, rid: str, seed: int) -> pd.DataFrame:
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


def run(
    scenario: str | Path | ScenarioSpec = "paris_call_2018",
    *,
    seed: int | None = None,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    decision: str = "kernel",
) -> RunRecord:
    """Run one scenario to its last step.

    Args:
        scenario: a file, a shipped scenario name, or a ScenarioSpec.
        seed: integer seed (default: the scenario's `metadata.seed`).
        steps: run this many steps instead of `metadata.steps`.
        overrides: dotted paths to values, as `--set` on the command line.

    Example:
        >>> record = run("scenarios/paris_call_2018.yaml", seed=7)
        >>> record.metrics.query("metric == 'signers_state' and at == 'end'")
    """
    spec = resolve(scenario, overrides, steps)
    return run_spec(spec, spec.metadata.seed if seed is None else int(seed), decision=decision)


def run_spec(spec: ScenarioSpec, seed: int, *, decision: str = "kernel",
             tables: tuple[str, ...] = ("steps", "actors", "votes", "metrics")) -> RunRecord:
    """Run a validated spec with an integer seed (the function sweeps call)."""
    started = time.perf_counter()
    model = NormDiplomacyModel(spec, rng=seed, decision=decision)
    built = time.perf_counter()
    model.run_model()
    finished = time.perf_counter()
    rid = run_id(spec, seed)
    empty = pd.DataFrame()
    history = model.history.table()
    record = RunRecord(
        run_id=rid,
        seed=seed,
        scenario=spec,
        steps=_stamp(history.copy(), rid, seed) if "steps" in tables else empty,
        actors=_stamp(actors_table(model), rid, seed) if "actors" in tables else empty,
        votes=_stamp(votes_table(model), rid, seed) if "votes" in tables else empty,
        metrics=_stamp(run_metrics(model, history), rid, seed) if "metrics" in tables else empty,
    )
    record.timings = {"build_s": built - started, "run_s": finished - built,
                      "tables_s": time.perf_counter() - finished}
    return record


def run_replicates(scenario: str | Path | ScenarioSpec, reps: int, *, seed: int | None = None,
                   steps: int | None = None, overrides: Mapping[str, Any] | None = None
                   ) -> list[RunRecord]:
    """`reps` runs with seeds derived from `seed` (replicate r: derive_seed(seed, "", r))."""
    spec = resolve(scenario, overrides, steps)
    root = spec.metadata.seed if seed is None else int(seed)
    return [run_spec(spec, derive_seed(root, "", r)) for r in range(reps)]


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


def write_runs(records: list[RunRecord], out: str | Path) -> Path:
    """Write the tables of one or more runs, a manifest and the resolved scenario."""
    out = Path(out)
    spec = records[0].scenario
    for name in ("steps", "actors", "votes", "metrics"):
        write_table(out / f"{name}.parquet",
                    pd.concat([getattr(r, name) for r in records], ignore_index=True))
    if len(records) > 1:
        write_table(out / "signing_probability.parquet", signing_probability(records))
    write_text(out / "scenario.yaml", spec.to_yaml())
    manifest = {
        "scenario": spec.metadata.name,
        "scenario_source": spec.source,
        "scenario_digest": spec.digest(),
        "runs": [{"run_id": r.run_id, "seed": r.seed, **r.timings} for r in records],
        **provenance(),
    }
    write_json(out / "manifest.json", manifest)
    return out


@lru_cache(maxsize=64)
def _cached_spec(source: str, overrides_json: str, stamps: tuple) -> ScenarioSpec:
    return resolve(source, json.loads(overrides_json))


def spec_for(source: str | Path, overrides: Mapping[str, Any] | None = None) -> ScenarioSpec:
    """A validated spec, cached per (source, overrides) within a process (for workers).

    The cache key includes the modification times of the scenario files in the source's
    folder, so an edited scenario (or base it extends) is read again.
    """
    path = find_scenario(source) if isinstance(source, str | Path) else source
    folder = Path(path).resolve().parent
    stamps = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.yaml")))
    return _cached_spec(str(source), json.dumps(overrides or {}, sort_keys=True, default=str),
                        stamps)


def run_batch(source: str | Path, overrides: Mapping[str, Any] | None, seeds: list[int],
              tables: tuple[str, ...] = ("metrics",)) -> list[RunRecord]:
    """Several runs of one design point: the unit of work sent to a worker."""
    spec = spec_for(source, overrides)
    return [run_spec(spec, seed, tables=tables) for seed in seeds]
