"""Runs: (scenario, overrides, seed) -> RunRecord, replicates, and batches for workers.

A run's integer seed is all it needs besides the resolved scenario: `derive_seed`
keys replicate seeds by a design point's hash, and `run_id` hashes (scenario, seed,
MODEL_VERSION), so the same run gets the same id and tables on any machine.

Runs of one process share world structures through `WORLDS` (sim.world.cache): runs
on the same world (common random numbers) draw it once, with the same results.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError, boundary, problem
from sim.metrics import run_metrics
from sim.model import NormDiplomacyModel, one_blas_thread
from sim.runs.record import (
    RunRecord,
    actors_table,
    stamp,
    texts_table,
    trajectories_table,
    votes_table,
)
from sim.runs.store import content_hash
from sim.scenario.loading import find_scenario, load_scenario, with_overrides
from sim.scenario.spec import ScenarioSpec
from sim.version import MODEL_VERSION
from sim.world.cache import WorldCache

#: the world structures this process keeps for the runs that share them
WORLDS = WorldCache()


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



@boundary
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
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed < 2**63):
        raise InputError(problem("seed", "", "a whole number from 0 to 2^63 - 1", seed))
    return run_spec(spec, spec.metadata.seed if seed is None else int(seed), decision=decision)


def run_spec(spec: ScenarioSpec, seed: int, *, decision: str = "kernel",
             tables: tuple[str, ...] = ("steps", "actors", "votes", "metrics"),
             worlds: WorldCache | None = WORLDS) -> RunRecord:
    """Run a validated spec with an integer seed (the function sweeps call).

    `worlds` shares world structures between runs that have the same one (default:
    this process's `WORLDS`; None draws the world afresh). The record's `timings` hold
    the seconds of each phase: build (the world and the model), steps, observe (tables).
    """
    with one_blas_thread():
        started = time.perf_counter()
        world = worlds.world(spec, seed) if worlds is not None else None
        model = NormDiplomacyModel(spec, rng=seed, decision=decision, world=world)
        built = time.perf_counter()
        model.run_model()
        stepped = time.perf_counter()
        record = record_of(model, tables)
    record.timings = {"build_s": built - started, "steps_s": stepped - built,
                      "observe_s": time.perf_counter() - stepped}
    # A Mesa model is a web of references back to itself (its schedule, scenario and
    # collectors), freed only by the cyclic collector, which seldom runs when runs
    # allocate few Python objects: let go of its world now, so memory does not pile up
    # over the runs of a sweep.
    model.__dict__.clear()
    return record


def record_of(model: NormDiplomacyModel,
              tables: tuple[str, ...] = ("steps", "actors", "votes", "metrics")) -> RunRecord:
    """The record of a model as it stands (after its last step, or paused earlier).

    `run_spec` records every run with it; the dashboard's "download this run" too.
    """
    spec, seed = model.spec, model.seed
    rid = run_id(spec, seed)
    empty = pd.DataFrame()
    history = model.history.table()
    return RunRecord(
        run_id=rid,
        seed=seed,
        scenario=spec,
        steps=stamp(history.copy(), rid, seed) if "steps" in tables else empty,
        actors=stamp(actors_table(model), rid, seed) if "actors" in tables else empty,
        votes=stamp(votes_table(model), rid, seed) if "votes" in tables else empty,
        metrics=stamp(run_metrics(model, history), rid, seed) if "metrics" in tables else empty,
        texts=stamp(texts_table(model), rid, seed),
        trajectories=stamp(trajectories_table(model), rid, seed),
    )


def run_replicates(scenario: str | Path | ScenarioSpec, reps: int, *, seed: int | None = None,
                   steps: int | None = None, overrides: Mapping[str, Any] | None = None
                   ) -> list[RunRecord]:
    """`reps` runs with seeds derived from `seed` (replicate r: derive_seed(seed, "", r))."""
    spec = resolve(scenario, overrides, steps)
    root = spec.metadata.seed if seed is None else int(seed)
    return [run_spec(spec, derive_seed(root, "", r)) for r in range(reps)]



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


def run_batch(scenario: str | Path, overrides: Mapping[str, Any] | None, tasks: list[dict],
              tables: tuple[str, ...] = ("metrics",), metrics: list[str] | None = None
              ) -> dict[str, pd.DataFrame | None]:
    """Several runs of one design point: the unit of work sent to a worker.

    `tasks` are dicts with at least a ``seed``; each comes back as a row of ``runs``
    with its status, error, seconds and host, so a run that raises is recorded as
    failed rather than ending the batch. ``metrics`` (a name keeps that metric and its
    families, e.g. ``joined_``) filters the metrics table; ``steps`` is kept when
    `tables` asks for it. ``timings`` sums the seconds of each phase (load, build,
    steps, observe) over the batch. Runs on the same world (common random numbers
    across points) share it through `WORLDS`.
    """
    host = f"{platform.node()}:{os.getpid()}"
    started = time.perf_counter()
    try:
        spec = spec_for(scenario, overrides)
    except Exception as exc:  # the point itself is bad: every run of it fails
        return {"runs": pd.DataFrame([{**t, "status": "failed", "error": f"{exc}",
                                       "seconds": 0.0, "host": host} for t in tasks]),
                "metrics": None, "steps": None, "texts": None,
                "timings": {}}
    timings = {"load_s": time.perf_counter() - started, "build_s": 0.0, "steps_s": 0.0,
               "observe_s": 0.0}
    runs, kept = [], {name: [] for name in ("metrics", "steps", "texts")}
    for task in tasks:
        started = time.perf_counter()
        try:
            record = run_spec(spec, task["seed"], tables=tables)
        except Exception as exc:
            runs.append({**task, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                         "seconds": time.perf_counter() - started, "host": host})
            continue
        frame = record.metrics
        if metrics is not None:
            frame = frame[frame["metric"].str.startswith(tuple(metrics))]
        kept["metrics"].append(frame)
        if "steps" in tables:
            kept["steps"].append(record.steps)
        if len(record.texts):  # a negotiated text's history is kept with every run
            kept["texts"].append(record.texts)
        runs.append({**task, "status": "ok", "error": "",
                     "seconds": time.perf_counter() - started, "host": host})
        for phase, seconds in record.timings.items():
            timings[phase] += seconds
    return {"runs": pd.DataFrame(runs), "timings": timings,
            **{name: pd.concat(frames, ignore_index=True) if frames else None
               for name, frames in kept.items()}}
