"""The on-disk store of a sweep: checked Parquet shards, a points table and a manifest.

Layout of a sweep directory:

    experiment.yaml      the experiment as run (with its hash in the manifest)
    scenario.yaml        the base scenario, resolved
    points.parquet       design points: index, label, parameter columns, overrides (JSON)
    tasks.parquet        the plan: point, replicate, seed and run id of every run
    runs/part-*.parquet  one row per computed run id: status (ok / failed), error,
                         seconds, host (a run shared by two points is computed once)
    metrics/part-*.parquet, steps/part-*.parquet   long-form results of ok runs
    manifest.json        versions, git revision, spec hash, counts, timings, status,
                         and the SHA-256 and row count of every file and shard
    .lock                held while a sweep writes the folder
    damaged/             shards found damaged on --resume, set aside

A shard is written atomically after each finished task and named by the SHA-256 of
its bytes; metrics and steps shards are written before the runs shard that commits
them, and the runs shard records their names, checksums and row counts. A run counts
as finished only once its runs shard is intact and so are the shards it commits, so
killing a sweep loses at most the tasks in flight, an orphan shard is ignored, and a
shard truncated, overwritten or emptied afterwards is detected (`verify`): `--resume`
sets it aside and computes its runs again; `report` refuses to report without them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import InputError, boundary, problem
from sim.runs.store import addressed_file, file_sha256

TABLES = ("runs", "metrics", "steps", "texts")
COMMITTED = ("metrics", "steps", "texts")  # tables whose shards a runs shard commits
#: Parquet metadata key of a runs shard: the shards it commits
SHARDS_KEY = b"cybernorms.shards"
#: files written once at the start of a sweep, checked like shards
PLAN_FILES = ("experiment.yaml", "scenario.yaml", "points.parquet", "tasks.parquet")


def _shards(directory: Path, table: str) -> list[Path]:
    return sorted((directory / table).glob("part-*.parquet"))


def _write(folder: Path, table: pa.Table) -> dict:
    with addressed_file(folder) as target:
        pq.write_table(table, target.tmp)
    return {"name": f"{folder.name}/{target.path.name}", "sha256": target.sha256,
            "rows": table.num_rows}


def write_shard(directory: Path, frames: dict[str, pd.DataFrame]) -> list[dict]:
    """Write one task's tables as shards, the runs shard last (it commits the others).

    Returns the entries (name, sha256, rows) of the shards written, for the manifest.
    """
    directory = Path(directory)
    committed = []
    for table in COMMITTED:
        frame = frames.get(table)
        if frame is not None and len(frame):
            committed.append(_write(directory / table,
                                    pa.Table.from_pandas(frame, preserve_index=False)))
    runs = pa.Table.from_pandas(frames["runs"], preserve_index=False)
    runs = runs.replace_schema_metadata({**(runs.schema.metadata or {}),
                                         SHARDS_KEY: json.dumps(committed).encode()})
    return [*committed, _write(directory / "runs", runs)]


@dataclass
class Verification:
    """What `verify` found in a sweep folder.

    Attributes:
        runs: intact runs shards whose committed shards are intact too.
        committed: per table, the intact shards those runs shards commit.
        damaged: (shard, why) for every shard that cannot be trusted, including runs
            shards whose committed shards are missing or damaged.
        missing: shards the manifest lists that are not there.
    """

    runs: list[Path] = field(default_factory=list)
    committed: dict[str, list[Path]] = field(default_factory=dict)
    damaged: list[tuple[Path, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def entries(self) -> list[dict]:
        """Manifest entries of every trusted shard."""
        paths = [*(p for table in COMMITTED for p in self.committed.get(table, ())), *self.runs]
        return [_entry(path) for path in paths]

    def describe(self, limit: int = 5) -> str:
        items = [f"{p.parent.name}/{p.name}: {why}" for p, why in self.damaged]
        items += [f"{name}: missing" for name in self.missing]
        more = f"; and {len(items) - limit} more" if len(items) > limit else ""
        return "; ".join(items[:limit]) + more


def _entry(path: Path) -> dict:
    return {"name": f"{path.parent.name}/{path.name}", "sha256": file_sha256(path),
            "rows": pq.ParquetFile(path).metadata.num_rows}


def _check(path: Path, rows: int | None = None, sha256: str | None = None) -> str | None:
    """Why a shard cannot be trusted (against its name, and a recorded checksum and row
    count where given), or None."""
    if not path.is_file():
        return "missing"
    digest, named = file_sha256(path), path.stem.removeprefix("part-")
    if len(named) < 16 or not digest.startswith(named) or sha256 not in (None, digest):
        return "its content does not match its checksum (truncated, overwritten or emptied)"
    try:
        found = pq.ParquetFile(path).metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        return f"not a readable Parquet file ({type(exc).__name__})"
    if rows is not None and found != rows:
        return f"{found} rows where {rows} were written"
    return None


def verify(directory: Path, manifest: dict | None = None) -> Verification:
    """Check every shard against its checksum and every runs shard's commitments."""
    directory = Path(directory)
    found = Verification(committed={table: [] for table in COMMITTED})
    for path in _shards(directory, "runs"):
        why = _check(path)
        entries: list[dict] = []
        if why is None:
            try:
                metadata = pq.read_schema(path).metadata or {}
                entries = json.loads(metadata.get(SHARDS_KEY, b"[]"))
            except (pa.ArrowException, OSError, ValueError):
                why = "its list of committed shards cannot be read"
        bad = []
        for entry in entries:
            shard = directory / entry["name"]
            problem_ = _check(shard, entry.get("rows"), entry.get("sha256"))
            if problem_ is not None:
                bad.append((shard, problem_))
        if why is not None:
            found.damaged.append((path, why))
        elif bad:
            found.damaged.extend(bad)
            found.damaged.append((path, f"{len(bad)} of the shards it commits are damaged "
                                        "or missing"))
        else:
            found.runs.append(path)
            for entry in entries:
                table = entry["name"].split("/", 1)[0]
                found.committed.setdefault(table, []).append(directory / entry["name"])
    listed = (manifest or {}).get("shards", [])
    present = {f"{p.parent.name}/{p.name}" for p in found.runs}
    present |= {f"{p.parent.name}/{p.name}" for paths in found.committed.values() for p in paths}
    present |= {f"{p.parent.name}/{p.name}" for p, _ in found.damaged}
    found.missing = sorted(e["name"] for e in listed if e["name"] not in present
                           and not (directory / e["name"]).is_file())
    for table in COMMITTED:
        found.committed[table] = sorted(set(found.committed[table]))
    return found


def set_aside(directory: Path, verification: Verification) -> None:
    """Move damaged shards to `directory`/damaged/, so no later read trusts them."""
    target = Path(directory) / "damaged"
    for path, _ in verification.damaged:
        if path.is_file():
            target.mkdir(exist_ok=True)
            shutil.move(str(path), target / f"{path.parent.name}-{path.name}")


def check_plan_files(directory: Path, manifest: dict) -> list[str]:
    """Files of the plan whose checksum differs from the manifest's (or that are gone)."""
    recorded = manifest.get("files", {})
    return [name for name, digest in recorded.items()
            if not (Path(directory) / name).is_file()
            or file_sha256(Path(directory) / name) != digest]


def finished_runs(directory: Path, verification: Verification | None = None) -> pd.DataFrame:
    """Committed runs in intact shards, one row per run id (an ok row wins over a failed
    one), or an empty frame."""
    verification = verification or verify(directory)
    if not verification.runs:
        return pd.DataFrame(columns=["run_id", "status"])
    runs = pd.concat([pd.read_parquet(s) for s in verification.runs], ignore_index=True)
    # a run retried on --resume may have a failed row and an ok row: ok wins
    runs = runs.sort_values("status", key=lambda s: s.eq("ok"), kind="stable")
    return runs.drop_duplicates("run_id", keep="last").sort_index()


def _read(verification: Verification, table: str, ok_ids: set[str]) -> pd.DataFrame:
    shards = verification.committed.get(table, [])
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


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InputError(problem(path, "", "the JSON manifest a sweep writes (it is "
                                 "damaged; run the sweep again with --resume)")) from None
    return manifest if isinstance(manifest, dict) else {}


@boundary
def load_results(directory: str | Path) -> SweepResult:
    """Everything a finished (or interrupted) sweep wrote, checked, in a fixed order.

    Every shard is checked against its checksum first: a damaged or missing one is an
    InputError that says to run the sweep again with --resume (which recomputes its
    runs), never a result silently missing runs. The order does not depend on which
    worker finished first, so results compare equal whatever the backend or worker count.
    """
    directory = Path(directory)
    if not (directory / "points.parquet").is_file():
        raise InputError(problem(directory, "", "a sweep directory (with points.parquet), "
                                 "written by `cybernorms sweep`"))
    manifest = read_manifest(directory)
    changed = check_plan_files(directory, manifest)
    verification = verify(directory, manifest)
    if changed or verification.damaged or verification.missing:
        what = "; ".join([*(f"{name}: changed or missing" for name in changed),
                          *([verification.describe()] if verification.damaged
                            or verification.missing else [])])
        experiment = manifest.get("experiment_file", "EXPERIMENT.yaml")
        raise InputError(problem(directory, "", f"intact results, but {what}; to recompute "
                                 f"the runs they held: cybernorms sweep {experiment} --out "
                                 f"{directory} --resume"))
    try:
        points = pd.read_parquet(directory / "points.parquet")
        tasks = pd.read_parquet(directory / "tasks.parquet")
    except (pa.ArrowException, OSError) as exc:
        raise InputError(problem(directory, "points.parquet, tasks.parquet", "the tables a "
                                 f"sweep writes ({type(exc).__name__}: {exc})")) from None
    computed = finished_runs(directory, verification)
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

    return SweepResult(
        directory=directory,
        runs=runs,
        metrics=joined(_read(verification, "metrics", ok), ["proposal", "metric", "at"]),
        steps=joined(_read(verification, "steps", ok), ["step", "proposal"]),
        points=points,
        manifest=manifest,
        experiment=_experiment(directory),
        texts=joined(_read(verification, "texts", ok), ["proposal", "round", "dimension"]),
    )


def _experiment(directory: Path) -> dict:
    import yaml

    path = directory / "experiment.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}


def compact(directory: Path, record=None) -> list[dict]:
    """Merge each table's trusted shards into one, after a sweep completes.

    Shards are streamed into the merged file one at a time, so memory stays that of
    one shard however large the sweep. The merged runs shard commits the merged
    metrics and steps shards; `record(entries)` is called with the shards that remain
    (to write them into the manifest) before the old shards and orphans are removed,
    so a crash in between leaves only duplicates, which loading ignores.
    """
    directory = Path(directory)
    record = record or (lambda entries: None)
    verification = verify(directory)
    if len(verification.runs) <= 1 and not _orphans(directory, verification):
        entries = verification.entries
        record(entries)
        return entries
    merged = []
    for table in COMMITTED:
        shards = verification.committed.get(table, [])
        if shards:
            merged.append(_merge(directory / table, shards))
    runs = _merge(directory / "runs", verification.runs,
                  {SHARDS_KEY: json.dumps(merged).encode()})
    record([*merged, runs])
    keep = {directory / e["name"] for e in [*merged, runs]}
    for table in TABLES:
        for shard in _shards(directory, table):
            if shard not in keep:
                shard.unlink()
    return [*merged, runs]


def _orphans(directory: Path, verification: Verification) -> list[Path]:
    trusted = set(verification.runs) | {p for ps in verification.committed.values() for p in ps}
    return [s for table in TABLES for s in _shards(directory, table) if s not in trusted]


def _merge(folder: Path, shards: list[Path], metadata: dict | None = None) -> dict:
    schema = pa.unify_schemas([pq.read_schema(s).remove_metadata() for s in shards],
                              promote_options="permissive")
    if metadata:
        schema = schema.with_metadata(metadata)
    rows = 0
    with addressed_file(folder) as target, pq.ParquetWriter(target.tmp, schema) as writer:
        for shard in shards:
            table = pq.read_table(shard)
            table = table.replace_schema_metadata(None).cast(schema.remove_metadata())
            writer.write_table(table.replace_schema_metadata(schema.metadata))
            rows += table.num_rows
    return {"name": f"{folder.name}/{target.path.name}", "sha256": target.sha256, "rows": rows}
