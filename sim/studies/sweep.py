"""`cybernorms sweep`: run an experiment's runs on a backend and stream them to disk.

Runs are grouped into batches of one design point (several runs per task, so task
overhead stays small next to the work), a bounded number of batches is in flight,
and each finished batch is written as shards (sim.studies.results) before the next is
taken. The same experiment gives the same results whatever the backend or number
of workers: every run depends only on its scenario, overrides and seed.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from sim.errors import InputError, boundary, did_you_mean, os_problem, problem
from sim.runs.runner import run_batch, run_spec, spec_for
from sim.runs.store import (
    file_sha256,
    folder_lock,
    provenance,
    write_json,
    write_table,
    write_text,
)
from sim.studies.backends import (
    TaskError,
    default_workers,
    duration,
    estimate,
    execute,
    interrupts_deferred,
    timed_pilot,
)
from sim.studies.experiment import (
    ExperimentSpec,
    Point,
    RunTask,
    design_points,
    load_experiment,
    run_tasks,
    spec_hash,
)
from sim.studies.results import (
    PLAN_FILES,
    compact,
    finished_runs,
    load_results,
    read_manifest,
    set_aside,
    verify,
    write_shard,
)


class Progress:
    """A one-line progress report with rate and ETA, on stderr."""

    def __init__(self, total: int, stream=sys.stderr, quiet: bool = False):
        self.total, self.done, self.failed = total, 0, 0
        self.started = time.perf_counter()
        self.stream, self.quiet = stream, quiet
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._last = 0.0
        self._last_decile = -1

    def update(self, done: int, failed: int) -> None:
        self.done += done
        self.failed += failed
        now = time.perf_counter()
        decile = int(10 * self.done / max(self.total, 1))
        if self.quiet or (self.tty and now - self._last < 0.5 and self.done < self.total):
            return
        if not self.tty and decile == self._last_decile and self.done < self.total:
            return
        self._last, self._last_decile = now, decile
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else math.inf
        bar = "#" * int(20 * self.done / max(self.total, 1))
        line = (f"[{bar:<20}] {self.done}/{self.total} runs {self.done / max(self.total, 1):4.0%}"
                f"  {rate:.1f} runs/s  ETA {duration(eta)}  failed {self.failed}")
        print(("\r" if self.tty else "") + line, end="" if self.tty else "\n",
              file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and not self.quiet:
            print(file=self.stream)


#: space set aside while a sweep writes, freed to record a failure when the disk is full
RESERVE_BYTES = 1 << 20


def _batches(todo: list[RunTask], size: int) -> list[tuple]:
    """Runs of one point grouped into tasks of `size` runs."""
    by_point: dict[int, list[RunTask]] = {}
    for task in todo:
        by_point.setdefault(task.point, []).append(task)
    batches = []
    for point, tasks in by_point.items():
        for start in range(0, len(tasks), size):
            chunk = [t.model_dump(exclude={"invalid"}) for t in tasks[start:start + size]]
            batches.append((point, chunk))
    return batches


def plan(path: str | Path) -> dict:
    """What a sweep would do, without running it (for printing and dry runs).

    The run count is checked from the design before any point is built; then every
    point is resolved and validated as the sweep will (a point that is not a valid
    scenario is recorded in its tasks as `invalid`).
    """
    spec, scenario = load_experiment(path)
    points = design_points(spec)
    tasks = run_tasks(spec, scenario, points)
    return {"spec": spec, "scenario": scenario, "points": points, "tasks": tasks}


def invalid_points(planned: dict) -> dict[str, list[int]]:
    """Why points are invalid -> the indices of the points with that reason."""
    reasons: dict[str, list[int]] = {}
    for task in planned["tasks"]:
        if task.invalid and task.replicate == 0:
            reasons.setdefault(task.invalid, []).append(task.point)
    return reasons


def dry_run(path: str | Path, log: Callable[[str], None] = print, workers: int | None = None,
            backend: str = "process") -> int:
    """Print the design, its run count and an estimate, and check every point as the sweep
    would; returns the number of invalid points (the command exits 2 if there are any)."""
    planned = plan(path)
    spec, points, tasks = planned["spec"], planned["points"], planned["tasks"]
    log(f"{spec.name}: design {spec.design}, {len(points)} points x {spec.replications} "
        f"replications = {len(tasks)} runs (max_runs {spec.max_runs})")
    for point in points[:10]:
        log(f"  {point.index:>5}  {point.label}")
    if len(points) > 10:
        log(f"  ... and {len(points) - 10} more points")
    reasons = invalid_points(planned)
    bad = sum(len(indices) for indices in reasons.values())
    valid = [t for t in tasks if not t.invalid]
    if valid:
        per_run, produced = pilot(planned["scenario"], points[valid[0].point], valid[0].seed)
        check_metrics(spec, produced, path)
        parallel = 1 if backend == "serial" else workers or default_workers()
        log(estimate(len({t.run_id for t in valid}), per_run, parallel))
    if not bad:
        log(f"all {len(points)} points are valid scenarios")
        return 0
    log(f"{bad} of {len(points)} points are invalid (their runs would be recorded as failed):")
    for reason, indices in sorted(reasons.items(), key=lambda item: -len(item[1]))[:5]:
        shown = ", ".join(str(i) for i in indices[:8]) + (" ..." if len(indices) > 8 else "")
        log(f"  {len(indices)} point{'s' if len(indices) > 1 else ''} ({shown}): {reason}")
    if len(reasons) > 5:
        log(f"  ... and {len(reasons) - 5} more reasons")
    return bad


def pilot(scenario: Path, point: Point, seed: int) -> tuple[float, set[str]]:
    """One run in-process: its duration (for the estimate) and the metric names it
    produces (to check the experiment's `metrics`). It also warms the data caches."""
    spec = spec_for(scenario, point.overrides)
    seconds, record = timed_pilot(lambda: run_spec(spec, seed, tables=("metrics",)))
    return seconds, set(record.metrics["metric"])


def check_metrics(spec: ExperimentSpec, produced: set[str], path) -> None:
    """Every name in `metrics` must keep something (a typo would keep nothing)."""
    unmatched = [problem(path, f"metrics.{i}", "a metric name or prefix such as signers_, "
                         "share_gdp, joined_ or tipping_step" + did_you_mean(name, produced),
                         name)
                 for i, name in enumerate(spec.metrics or ())
                 if not any(metric.startswith(name) for metric in produced)]
    if unmatched:
        raise InputError(unmatched)


def _points_table(spec: ExperimentSpec, points: list[Point]) -> pd.DataFrame:
    import json

    rows = []
    for point in points:
        row = {"point": point.index, "label": point.label}
        for name in spec.parameters:
            value = point.columns.get(name)
            row[name] = value if not isinstance(value, dict | list) else json.dumps(value)
        row["overrides"] = json.dumps(point.overrides, sort_keys=True, default=str)
        rows.append(row)
    frame = pd.DataFrame(rows)
    for name in spec.parameters:  # mixed types would not fit one Parquet column
        if frame[name].map(type).nunique() > 1:
            frame[name] = frame[name].astype(str)
    return frame


@boundary
def sweep(path: str | Path, out: str | Path, *, backend: str = "process",
          workers: int | None = None, scheduler: str | None = None, resume: bool = False,
          log: Callable[[str], None] | None = None, quiet: bool = False, load: bool = True):
    """Run every (point, replicate) of an experiment not yet finished in `out`.

    Returns the loaded SweepResult, or with `load=False` only the manifest (a dict with
    the counts), so that the sweeping process never holds all results in memory.
    The folder is locked while the sweep writes it (a second sweep into it is refused).
    With `resume=True` every shard already there is checked first, and runs whose
    shards are damaged or missing are computed again. Raises InputError for a bad
    experiment, an output directory that holds another sweep, or a failed write (the
    manifest then says "failed" and why); KeyboardInterrupt after an interruption
    (finished runs are kept).
    """
    log = log or (lambda line: print(line, file=sys.stderr))
    out = Path(out)
    planned = plan(path)
    with folder_lock(out, "sweep folder"):
        reserve = out / ".reserve"  # room to record a failure on a disk that fills up
        try:
            reserve.write_bytes(b"\0" * RESERVE_BYTES)
            manifest = _sweep(planned, path, out, backend, workers, scheduler, resume, log,
                              quiet)
        except OSError as exc:
            reason = (f"{os_problem(exc).expected}, while writing "
                      f"{Path(exc.filename).parent if exc.filename else 'its files'}")
            with contextlib.suppress(OSError):
                reserve.unlink()
            with contextlib.suppress(OSError, InputError):  # best effort
                write_json(out / "manifest.json", {**read_manifest(out), "status": "failed",
                                                   "reason": reason})
            raise InputError(problem(out, "--out", reason)) from None
        finally:
            with contextlib.suppress(OSError):
                reserve.unlink()
    return load_results(out) if load else manifest


def _sweep(planned: dict, path, out: Path, backend, workers, scheduler, resume, log,
           quiet) -> dict:
    spec, scenario, points, tasks = (planned[k] for k in ("spec", "scenario", "points", "tasks"))
    if (out / "runs").is_dir() and any((out / "runs").iterdir()) and not resume:
        raise InputError(problem(out, "--out", "an empty or new directory, or --resume to "
                                 "continue the sweep already in it", str(out)))
    shards: list[dict] = []
    finished = pd.DataFrame(columns=["run_id", "status"])
    if resume:
        verification = verify(out, read_manifest(out))
        if verification.damaged or verification.missing:
            log(f"{len(verification.damaged) + len(verification.missing)} damaged or missing "
                f"shards ({verification.describe()}): their runs are computed again; damaged "
                f"shards are set aside in {out / 'damaged'}/")
            set_aside(out, verification)
        finished = finished_runs(out, verification)
        shards = verification.entries
    done_ids = set(finished.loc[finished["status"] == "ok", "run_id"])
    todo, planned_ids = [], set()
    for task in tasks:  # each distinct run once, in plan order
        if task.run_id not in done_ids and task.run_id not in planned_ids:
            planned_ids.add(task.run_id)
            todo.append(task)
    reused = len({t.run_id for t in tasks} & done_ids)
    workers = workers or default_workers()

    write_text(out / "experiment.yaml", yaml.safe_dump(spec.model_dump(mode="json"),
                                                       sort_keys=False))
    write_text(out / "scenario.yaml", spec_for(scenario).to_yaml())
    write_table(out / "points.parquet", _points_table(spec, points))
    write_table(out / "tasks.parquet",
                pd.DataFrame([t.model_dump(exclude={"invalid"}) for t in tasks]))

    invalid = [t for t in todo if t.invalid]
    todo = [t for t in todo if not t.invalid]
    per_run = 0.0
    if todo:
        per_run, produced = pilot(scenario, points[todo[0].point], todo[0].seed)
        check_metrics(spec, produced, path)
    parallel = 1 if backend == "serial" else workers
    size = spec.batch or max(1, min(50, math.ceil(1.0 / max(per_run, 1e-3)),
                                    math.ceil(len(todo) / (4 * parallel)) if todo else 1))
    log(f"{spec.name}: {len(points)} points x {spec.replications} replications = "
        f"{len(tasks)} runs ({reused} already done, {len(todo)} to run"
        f"{f', {len(invalid)} invalid' if invalid else ''}); "
        f"{estimate(len(todo), per_run, parallel)} ({backend}), {size} runs per task")

    manifest = {
        "experiment": spec.name,
        "experiment_file": str(path),
        "spec_hash": spec_hash(spec),
        "design": spec.design,
        "points": len(points),
        "replications": spec.replications,
        "runs_total": len(tasks),
        "runs_reused": reused,
        "backend": backend,
        "workers": parallel,
        "runs_per_task": size,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "running",
        **provenance(),
        "files": {name: file_sha256(out / name) for name in PLAN_FILES},
    }
    write_json(out / "manifest.json", {**manifest, "shards": shards})

    failures: dict[str, dict] = {}  # the first failed runs, for the manifest
    _note_failures(failures, finished)
    if invalid:
        log(f"{len(invalid)} runs of {len({t.point for t in invalid})} points with invalid "
            f"overrides are recorded as failed; first: {invalid[0].invalid}")
        rows = pd.DataFrame([{**t.model_dump(exclude={"invalid"}), "status": "failed",
                              "error": t.invalid, "seconds": 0.0, "host": ""} for t in invalid])
        shards += write_shard(out, {"runs": rows})
        _note_failures(failures, rows)
    by_index = {p.index: p for p in points}
    batches = _batches(todo, size)
    tables = ("metrics", "steps") if spec.keep_steps else ("metrics",)
    work = [(str(scenario), by_index[point].overrides, chunk, tables, spec.metrics)
            for point, chunk in batches]
    progress = Progress(len(todo), quiet=quiet)
    computed, failed = 0, len(invalid)
    # seconds per phase, summed over runs on every worker (writing: this process)
    phases = dict.fromkeys(("load_s", "build_s", "steps_s", "observe_s", "write_s"), 0.0)
    started = time.perf_counter()
    last_manifest = started
    status = "interrupted"

    def record(**extra) -> None:
        elapsed = time.perf_counter() - started
        manifest.update({
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "runs_computed": computed,
            "runs_failed": failed,
            "elapsed_s": round(elapsed, 3),
            "runs_per_s": round(computed / elapsed, 3) if elapsed > 0 else None,
            "timings": {phase: round(seconds, 3) for phase, seconds in phases.items()},
            **extra,
        })
        write_json(out / "manifest.json", {**manifest, "shards": shards})

    try:
        for index, result in execute(run_batch, work, backend=backend, workers=workers,
                                     scheduler=scheduler):
            if isinstance(result, TaskError):
                chunk = batches[index][1]
                result = {"runs": pd.DataFrame([{**t, "status": "failed",
                                                 "error": f"{result.kind}: {result.message}",
                                                 "seconds": 0.0, "host": ""} for t in chunk])}
            with interrupts_deferred():
                writing = time.perf_counter()
                shards += write_shard(out, result)
                phases["write_s"] += time.perf_counter() - writing
                for phase, seconds in result.get("timings", {}).items():
                    phases[phase] += seconds
                _note_failures(failures, result["runs"])
                batch_failed = int((result["runs"]["status"] == "failed").sum())
                computed += len(result["runs"]) - batch_failed
                failed += batch_failed
            progress.update(len(result["runs"]), batch_failed)
            if time.perf_counter() - last_manifest > 5:
                last_manifest = time.perf_counter()
                record()
        status = "complete_with_failures" if failed else "complete"
    except KeyboardInterrupt:
        log("\ninterrupted: finished runs are kept; continue with --resume")
        record(status="interrupted", failures=list(failures.values()))
        raise
    except BaseException as exc:
        if not isinstance(exc, OSError):
            with contextlib.suppress(OSError):
                record(status="failed", reason=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        progress.close()
    elapsed = time.perf_counter() - started

    def merged(entries: list[dict]) -> None:
        shards[:] = entries
        record(status=status, failures=list(failures.values()))

    compact(out, record=merged)
    log(f"{computed} runs computed, {reused} reused, {failed} failed in {duration(elapsed)}; "
        f"results in {out}/")
    return {**manifest, "shards": shards}


def _note_failures(failures: dict[str, dict], runs: pd.DataFrame, limit: int = 20) -> None:
    """Keep the first `limit` failed runs by run id; a run that succeeds leaves the list."""
    if runs.empty or "status" not in runs:
        return
    for run_id in runs.loc[runs["status"] == "ok", "run_id"]:
        failures.pop(run_id, None)
    for row in runs[runs["status"] == "failed"].head(max(0, limit - len(failures))).itertuples():
        failures[row.run_id] = {"run_id": row.run_id, "point": int(row.point),
                                "replicate": int(row.replicate), "seed": int(row.seed),
                                "error": row.error}


__all__ = ["dry_run", "plan", "sweep"]
