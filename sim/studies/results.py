"""The on-disk store of a sweep: Parquet shards, a points table and a manifest.

Layout of a sweep directory:

    experiment.yaml      the experiment as run (with its hash in the manifest)
    scenario.yaml        the base scenario, resolved
    points.parquet       design points: index, label, parameter columns, overrides (JSON)
    tasks.parquet        the plan: point, replicate, seed and run id of every run
    runs/part-*.parquet  one row per computed run id: status (ok / failed), error,
                         seconds, host (a run shared by two points is computed once)
    metrics/part-*.parquet, steps/part-*.parquet   long-form results of ok runs
    manifest.json        versions, git revision, spec hash, counts, timings, status

A shard is written atomically after each finished task, metrics and steps before the
runs shard that commits them; a run counts as finished only once its row is in a
runs shard. So killing a sweep loses at most the tasks in flight, and loading ignores
any orphan shard. `--resume` reads the finished run ids and skips them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.runs.store import atomic_path, write_table

TABLES = ("runs", "metrics", "steps", "texts")


def _shards(directory: Path, table: str) -> list[Path]:
    return sorted((directory / table).glob("part-*.parquet"))


def write_shard(directory: Path, frames: dict[str, pd.DataFrame]) -> str:
    """Write one task's tables as shards sharing a name; the runs shard goes last."""
    name = f"part-{uuid.uuid4().hex[:12]}.parquet"
    for table in ("metrics", "steps", "texts"):
        frame = frames.get(table)
        if frame is not None and len(frame):
            write_table(directory / table / name, frame)
    write_table(directory / "runs" / name, frames["runs"])
    return name


def finished_runs(directory: Path) -> pd.DataFrame:
    """Committed runs, one row per run id (an ok row wins over a failed one), or an
    empty frame."""
    shards = _shards(directory, "runs")
    if not shards:
        return pd.DataFrame(columns=["run_id", "status"])
    runs = pd.concat([pd.read_parquet(s) for s in shards], ignore_index=True)
    # a run retried on --resume may have a failed row and an ok row: ok wins
    runs = runs.sort_values("status", key=lambda s: s.eq("ok"), kind="stable")
    return runs.drop_duplicates("run_id", keep="last").sort_index()


def _read(directory: Path, table: str, ok_ids: set[str]) -> pd.DataFrame:
    shards = _shards(directory, table)
    if not shards:
        return pd.DataFrame()
    frame = pd.concat([pd.read_parquet(s) for s in shards], ignore_index=True)
    frame = frame[frame["run_id"].isin(ok_ids)]
    keys = [c for c in ("run_id", "step", "proposal", "metric", "at", "round", "dimension")
            if c in frame.columns]
    return frame.drop_duplicates(keys, keep="last")


@dataclass
class SweepResult:
    """A sweep loaded from disk.

    Attributes:
        runs: one row per run (status ok or failed), with point columns.
        metrics: tidy metrics of ok runs joined with the point's parameters.
        steps: per-step series (if the experiment kept them), joined likewise.
        texts: each negotiated text per run, round and dimension, joined likewise.
        points: the design points; manifest: provenance; experiment: the spec (dict).
    """

    directory: Path
    runs: pd.DataFrame
    metrics: pd.DataFrame
    steps: pd.DataFrame
    points: pd.DataFrame
    manifest: dict
    experiment: dict
    texts: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def parameters(self) -> list[str]:
        return [c for c in self.points.columns if c not in ("point", "label", "overrides")]


def load_results(directory: str | Path) -> SweepResult:
    """Everything a finished (or interrupted) sweep wrote, in a fixed order.

    The order does not depend on which worker finished first, so results compare
    equal whatever the backend or worker count.
    """
    directory = Path(directory)
    if not (directory / "points.parquet").is_file():
        from sim.errors import InputError, problem

        raise InputError(problem(directory, "", "a sweep directory (with points.parquet), "
                                 "written by `cybernorms sweep`"))
    points = pd.read_parquet(directory / "points.parquet")
    tasks = pd.read_parquet(directory / "tasks.parquet")
    computed = finished_runs(directory)
    ok = set(computed.loc[computed["status"] == "ok", "run_id"])
    # the plan maps (point, replicate) to run ids; two points may share a run (same
    # resolved scenario and seed), which is computed once and belongs to both
    outcome = computed.drop(columns=[c for c in ("point", "replicate", "seed")
                                     if c in computed.columns])
    runs = tasks.merge(outcome, on="run_id", how="left")
    runs["status"] = runs["status"].fillna("pending")
    runs = runs.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
    point_columns = points.drop(columns=["overrides"])

    def joined(frame: pd.DataFrame, sort: list[str]) -> pd.DataFrame:
        if frame.empty:
            return frame
        frame = frame.drop(columns=[c for c in ("seed",) if c in frame.columns])
        frame = frame.merge(tasks[["run_id", "seed", "point", "replicate"]], on="run_id")
        frame = frame.merge(point_columns, on="point")
        return frame.sort_values(["point", "replicate", *sort], kind="stable").reset_index(
            drop=True)

    manifest_path = directory / "manifest.json"
    return SweepResult(
        directory=directory,
        runs=runs,
        metrics=joined(_read(directory, "metrics", ok), ["proposal", "metric", "at"]),
        steps=joined(_read(directory, "steps", ok), ["step", "proposal"]),
        points=points,
        manifest=json.loads(manifest_path.read_text()) if manifest_path.is_file() else {},
        experiment=_experiment(directory),
        texts=joined(_read(directory, "texts", ok), ["proposal", "round", "dimension"]),
    )


def _experiment(directory: Path) -> dict:
    import yaml

    path = directory / "experiment.yaml"
    return yaml.safe_load(path.read_text()) if path.is_file() else {}


def compact(directory: Path) -> None:
    """Merge each table's shards into one (atomically), after a sweep completes.

    Shards are streamed into the merged file one at a time, so memory stays that of
    one shard however large the sweep.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    for table in TABLES:
        shards = _shards(directory, table)
        if len(shards) <= 1:
            continue
        schema = pa.unify_schemas([pq.read_schema(s) for s in shards],
                                  promote_options="permissive")
        target = directory / table / f"part-{uuid.uuid4().hex[:12]}.parquet"
        with atomic_path(target) as tmp, pq.ParquetWriter(tmp, schema) as writer:
            for shard in shards:
                writer.write_table(pq.read_table(shard).cast(schema))
        for shard in shards:
            shard.unlink()
