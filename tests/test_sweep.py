"""Sweeps (sim.studies.sweep, sim.studies.results, sim.studies.backends): the same results on
every backend, resume, grown grids, failures, the manifest, shards (orphans, compaction),
interruption, bounded memory, `cybernorms sweep --dry-run` and `cybernorms report`."""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
import weakref
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal

import sim.outputs.report
import sim.runs.runner
import sim.studies.results
import sim.studies.sweep
from sim.errors import InputError
from sim.runs.runner import run_batch, run_spec, spec_for
from sim.studies.experiment import load_experiment, spec_hash
from sim.studies.results import compact, load_results, write_shard
from sim.studies.sweep import plan, sweep
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TINY = DATA / "tiny.yaml"
EXPERIMENTS = DATA / "experiments"
GRID = EXPERIMENTS / "grid.yaml"
BINDINGNESS = "proposals.call.bindingness"
THRESHOLD = "behaviour.state.threshold.mean"
VOLATILE = ["seconds", "host"]  # timing and host columns differ between runs of a sweep


def quiet_sweep(spec: Path, out: Path, **kwargs):
    kwargs.setdefault("backend", "serial")
    return sweep(spec, out, log=lambda line: None, quiet=True, **kwargs)


def experiment_copy(directory: Path, source: Path = GRID, name: str | None = None,
                    **changes) -> Path:
    """A copy of an experiment file in `directory` (scenario made absolute), changed."""
    data = yaml.safe_load(source.read_text())
    data["scenario"] = str((source.parent / data["scenario"]).resolve())
    data.update(changes)
    path = directory / f"{name or source.stem}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def assert_same_results(got, expected) -> None:
    """Bit-identical runs (without timing/host) and metrics."""
    assert_frame_equal(got.runs.drop(columns=VOLATILE), expected.runs.drop(columns=VOLATILE))
    assert_frame_equal(got.metrics, expected.metrics)
    assert_frame_equal(got.points, expected.points)


def shards(directory: Path, table: str) -> list[Path]:
    return sorted((directory / table).glob("part-*.parquet"))


cli = run_cli


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The grid experiment (4 points x 3 replications) run serially."""
    out = tmp_path_factory.mktemp("reference") / "grid"
    return quiet_sweep(GRID, out)


# --- what a sweep writes ----------------------------------------------------------------


def test_sweep_runs_every_planned_task_and_joins_parameters(reference):
    """Every planned (point, replicate) ran once with its planned seed and run id; metrics
    carry the point's label and parameter values; the directory has the documented files."""
    planned = plan(GRID)
    runs = reference.runs
    assert len(runs) == 12 and (runs["status"] == "ok").all()
    expected = pd.DataFrame([t.model_dump() for t in planned["tasks"]])
    got = runs[["point", "replicate", "seed", "run_id"]]
    assert_frame_equal(got, expected[["point", "replicate", "seed", "run_id"]])
    assert set(reference.metrics["run_id"]) == set(runs["run_id"])
    first = reference.metrics[reference.metrics["point"] == 3].iloc[0]
    assert first[BINDINGNESS] == 0.6 and first[THRESHOLD] == 0.6
    assert first["label"] == "bindingness=0.6, mean=0.6"
    assert reference.parameters == [BINDINGNESS, THRESHOLD]
    for name in ("experiment.yaml", "scenario.yaml", "points.parquet", "tasks.parquet",
                 "manifest.json"):
        assert (reference.directory / name).is_file()
    assert len(shards(reference.directory, "runs")) == 1  # compacted at the end


def test_sweep_metrics_equal_single_runs(reference):
    """A sweep's metrics are those of run_spec(scenario with the point's overrides, seed)."""
    planned = plan(GRID)
    task = planned["tasks"][7]
    point = planned["points"][task.point]
    record = run_spec(spec_for(planned["scenario"], point.overrides), task.seed)
    mine = reference.metrics[reference.metrics["run_id"] == task.run_id]
    assert record.run_id == task.run_id
    expected = record.metrics.sort_values(["proposal", "metric", "at"], kind="stable")
    assert mine["value"].tolist() == expected["value"].tolist()


def test_metrics_filter_and_keep_steps(tmp_path):
    """`metrics` keeps only metrics starting with the listed names; keep_steps stores the
    per-step table, joined with the points like the metrics."""
    spec = experiment_copy(tmp_path, metrics=["signers_", "share_gdp"], keep_steps=True,
                           replications=1)
    result = quiet_sweep(spec, tmp_path / "out")
    names = set(result.metrics["metric"])
    assert names == {"signers_state", "signers_firm", "signers_civil", "share_gdp"}
    assert len(result.steps) and set(result.steps["run_id"]) == set(result.runs["run_id"])
    assert result.steps["step"].max() == 8
    assert {BINDINGNESS, THRESHOLD, "label"} <= set(result.steps.columns)


def test_points_table_and_experiment_copy(reference):
    """points.parquet lists the design; experiment.yaml is the spec as run."""
    points = pd.read_parquet(reference.directory / "points.parquet")
    assert list(points["point"]) == [0, 1, 2, 3]
    assert list(points[BINDINGNESS]) == [0.1, 0.1, 0.6, 0.6]
    assert list(points[THRESHOLD]) == [0.2, 0.6, 0.2, 0.6]
    spec, _ = load_experiment(GRID)
    assert reference.experiment == spec.model_dump(mode="json")


# --- backends ---------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_process_backend_gives_bit_identical_results(tmp_path, reference, workers):
    """backend process with 1 and 2 workers: the same runs and metrics as serial."""
    result = quiet_sweep(GRID, tmp_path / "out", backend="process", workers=workers)
    assert_same_results(result, reference)


def test_batch_size_does_not_change_results(tmp_path, reference):
    """One run per task (batch: 1) on 2 processes gives the same runs and metrics."""
    spec = experiment_copy(tmp_path, batch=1)
    result = quiet_sweep(spec, tmp_path / "out", backend="process", workers=2)
    assert len(shards(tmp_path / "out", "runs")) == 1
    assert result.manifest["runs_per_task"] == 1
    assert_same_results(result, reference)


def test_dask_backend_gives_bit_identical_results(tmp_path, reference):
    """backend dask (a LocalCluster of 2 worker processes, about 6 s): the same runs and
    metrics."""
    pytest.importorskip("dask.distributed")
    result = quiet_sweep(GRID, tmp_path / "out", backend="dask", workers=2)
    assert result.manifest["backend"] == "dask"
    assert_same_results(result, reference)


# --- resume -----------------------------------------------------------------------------


def test_out_dir_with_a_sweep_refuses_to_start_without_resume(tmp_path, reference):
    """A directory holding a sweep: InputError naming --out; nothing is overwritten."""
    out = tmp_path / "grid"
    shutil.copytree(reference.directory, out)
    manifest = (out / "manifest.json").read_text()
    with pytest.raises(InputError) as caught:
        quiet_sweep(GRID, out)
    assert "--out" in str(caught.value) and str(out) in str(caught.value)
    assert "--resume" in str(caught.value)
    assert (out / "manifest.json").read_text() == manifest


def test_cli_sweep_into_a_used_directory_exits_2(tmp_path, reference):
    out = tmp_path / "grid"
    shutil.copytree(reference.directory, out)
    code, _, err = cli("sweep", GRID, "--out", out, "--backend", "serial")
    assert code == 2 and "--out" in err


def test_resume_of_a_finished_sweep_computes_nothing(tmp_path, reference):
    """--resume on a complete sweep: 0 runs computed, all reused, same results."""
    out = tmp_path / "grid"
    shutil.copytree(reference.directory, out)
    lines = []
    result = sweep(GRID, out, backend="serial", resume=True, quiet=True, log=lines.append)
    assert result.manifest["runs_computed"] == 0
    assert result.manifest["runs_reused"] == 12
    assert result.manifest["status"] == "complete"
    assert "0 runs computed, 12 reused" in lines[-1]
    assert_same_results(result, reference)


def _grown(tmp_path, values):
    return experiment_copy(tmp_path, name="grown", parameters={
        BINDINGNESS: {"values": values}, THRESHOLD: {"values": [0.2, 0.6]}})


def test_resumed_grown_grid_reuses_old_runs_and_computes_only_new(tmp_path, reference):
    """A grid grown by one value and resumed: the 12 old runs are reused, only the 6 runs
    of the new value are computed."""
    out = tmp_path / "grid"
    shutil.copytree(reference.directory, out)
    result = quiet_sweep(_grown(tmp_path, [0.1, 0.6, 0.9]), out, resume=True)
    assert result.manifest["runs_reused"] == 12
    assert result.manifest["runs_computed"] == 6
    assert len(result.runs) == 18 and (result.runs["status"] == "ok").all()


def test_grid_grown_at_the_end_and_resumed_equals_a_fresh_sweep(tmp_path, reference):
    """Appending a value (point indices unchanged): resumed results = a fresh sweep."""
    out = tmp_path / "grid"
    shutil.copytree(reference.directory, out)
    grown = _grown(tmp_path, [0.1, 0.6, 0.9])
    resumed = quiet_sweep(grown, out, resume=True)
    fresh = quiet_sweep(grown, tmp_path / "fresh")
    assert_same_results(resumed, fresh)


def test_grid_grown_in_the_middle_and_resumed_equals_a_fresh_sweep(tmp_path, reference):
    """Inserting a value shifts point indices; reused runs keep their parameter values
    (the plan, tasks.parquet, maps points to run ids)."""
    out = tmp_path / "grid"
    shutil.copytree(reference.directory, out)
    grown = _grown(tmp_path, [0.1, 0.3, 0.6])
    resumed = quiet_sweep(grown, out, resume=True)
    fresh = quiet_sweep(grown, tmp_path / "fresh")
    by_run = resumed.metrics.drop_duplicates("run_id").set_index("run_id")[BINDINGNESS]
    expected = fresh.metrics.drop_duplicates("run_id").set_index("run_id")[BINDINGNESS]
    assert by_run.sort_index().to_dict() == expected.sort_index().to_dict()
    assert_same_results(resumed, fresh)


# --- failures ---------------------------------------------------------------------------


@pytest.fixture
def failing_point(monkeypatch):
    """Runs of points with bindingness 0.6 raise (in-process, so use backend serial)."""
    real = sim.runs.runner.run_spec

    def run_or_fail(spec, seed, **kwargs):
        if spec.proposals["call"].bindingness == 0.6:
            raise RuntimeError(f"boom at seed {seed}")
        return real(spec, seed, **kwargs)

    monkeypatch.setattr(sim.runs.runner, "run_spec", run_or_fail)


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, failing_point):
    """Runs that raise are recorded as failed with their error; other points succeed; the
    manifest counts them and lists them."""
    result = quiet_sweep(GRID, tmp_path / "out")
    runs = result.runs
    failed = runs[runs["status"] == "failed"]
    assert sorted(set(failed["point"])) == [2, 3] and len(failed) == 6
    assert all(e.startswith("RuntimeError: boom at seed ") for e in failed["error"])
    assert (runs.loc[runs["point"] < 2, "status"] == "ok").all()
    assert set(result.metrics["point"]) == {0, 1}
    manifest = result.manifest
    assert manifest["status"] == "complete_with_failures"
    assert manifest["runs_failed"] == 6 and manifest["runs_computed"] == 6
    assert len(manifest["failures"]) == 6
    assert {f["run_id"] for f in manifest["failures"]} == set(failed["run_id"])


def test_cli_sweep_with_failures_exits_1(tmp_path, failing_point):
    code, _, _ = cli("sweep", GRID, "--out", tmp_path / "out", "--backend", "serial")
    assert code == 1


def test_resume_recomputes_failed_runs(tmp_path, failing_point, monkeypatch):
    """--resume after failures computes exactly the failed runs again."""
    out = tmp_path / "out"
    quiet_sweep(GRID, out)
    monkeypatch.undo()
    result = quiet_sweep(GRID, out, resume=True)
    assert result.manifest["runs_reused"] == 6
    assert result.manifest["runs_computed"] == 6
    assert result.manifest["runs_failed"] == 0


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_resumed_run_that_now_succeeds_counts_as_ok_whatever_the_shard_names(
        tmp_path, failing_point, monkeypatch, reference, order):
    """The latest outcome of a run wins, whatever order the shards are read in."""
    import sim.studies.results as results

    out = tmp_path / "out"
    quiet_sweep(GRID, out)
    monkeypatch.undo()
    original = results._shards
    if order == "reversed":
        monkeypatch.setattr(results, "_shards", lambda d, t: original(d, t)[::-1])
    result = quiet_sweep(GRID, out, resume=True)
    assert (result.runs["status"] == "ok").all()
    assert_frame_equal(result.metrics, reference.metrics)


def test_a_point_with_invalid_overrides_fails_alone(tmp_path):
    """bindingness 1.7 is invalid: that point's runs are failed with the validation error
    (plan() does not raise), the other points run, the manifest counts the failures."""
    spec = experiment_copy(tmp_path, parameters={BINDINGNESS: {"values": [1.7, 0.1]}})
    assert [t.invalid is not None for t in plan(spec)["tasks"]] == [True] * 3 + [False] * 3
    result = quiet_sweep(spec, tmp_path / "out")
    runs = result.runs
    bad = runs[runs["point"] == 0]
    assert len(bad) == 3 and (bad["status"] == "failed").all()
    assert all("proposals.call.bindingness" in e and "1.7" in e for e in bad["error"])
    assert (runs.loc[runs["point"] == 1, "status"] == "ok").all()
    assert set(result.metrics["point"]) == {1}
    assert result.manifest["runs_failed"] == 3 and result.manifest["runs_computed"] == 3
    assert result.manifest["status"] == "complete_with_failures"


def test_every_point_keeps_its_runs_with_common_random_numbers(tmp_path):
    """A point that restates the scenario's value ({bindingness: 0.1} in tiny) next to the
    baseline point {}: the same runs, computed once, belong to both points."""
    spec = experiment_copy(tmp_path, design="points", parameters={},
                           common_random_numbers=True, replications=2,
                           points={"baseline": {}, "restated": {BINDINGNESS: 0.1},
                                   "other": {BINDINGNESS: 0.5}})
    result = quiet_sweep(spec, tmp_path / "out")
    assert result.runs.groupby("point").size().to_dict() == {0: 2, 1: 2, 2: 2}
    assert (result.runs["status"] == "ok").all()
    assert result.metrics.groupby("point")["run_id"].nunique().to_dict() == {0: 2, 1: 2, 2: 2}
    assert result.manifest["runs_computed"] == 4
    base, restated = (result.metrics[result.metrics["point"] == p] for p in (0, 1))
    assert list(base["run_id"]) == list(restated["run_id"])
    assert list(base["value"]) == list(restated["value"])


# --- manifest and shards ----------------------------------------------------------------


def test_manifest_records_provenance_and_counts(reference):
    """spec hash, model version, package versions, git revision, counts and status."""
    manifest = json.loads((reference.directory / "manifest.json").read_text())
    spec, _ = load_experiment(GRID)
    assert manifest["spec_hash"] == spec_hash(spec)
    assert manifest["model_version"] == sim.MODEL_VERSION
    assert {"python", "numpy", "pandas", "mesa"} <= set(manifest["versions"])
    assert "git_revision" in manifest
    assert manifest["runs_total"] == 12
    assert (manifest["runs_computed"], manifest["runs_reused"], manifest["runs_failed"]) == (
        12, 0, 0)
    assert manifest["status"] == "complete"
    assert manifest["points"] == 4 and manifest["replications"] == 3
    assert manifest["failures"] == []
    assert manifest == reference.manifest


def test_orphan_metrics_shards_are_ignored(tmp_path, reference):
    """A metrics (or steps) shard without its runs shard, as left by a kill between the
    two writes, does not show up in load_results."""
    out = tmp_path / "grid"
    shutil.copytree(reference.directory, out)
    orphan = reference.metrics[["run_id", "seed", "proposal", "metric", "at", "value"]].copy()
    orphan["run_id"] = orphan["run_id"] + "x"
    orphan["value"] = -1.0
    orphan.to_parquet(out / "metrics" / "part-000000000000.parquet", index=False)
    orphan.to_parquet(out / "metrics" / "part-ffffffffffff.parquet", index=False)
    result = load_results(out)
    assert_frame_equal(result.metrics, reference.metrics)
    assert_frame_equal(result.runs, reference.runs)


def test_compact_merges_shards_without_changing_results(tmp_path, monkeypatch):
    """Before compaction every task has its shards; compact() leaves one per table and
    load_results gives the same frames."""
    monkeypatch.setattr(sim.studies.sweep, "compact", lambda directory, record: [])
    spec = experiment_copy(tmp_path, batch=1, keep_steps=True)
    out = tmp_path / "out"
    before = quiet_sweep(spec, out)
    assert len(shards(out, "runs")) == 12 and len(shards(out, "metrics")) == 12
    compact(out)
    for table in ("runs", "metrics", "steps"):
        assert len(shards(out, table)) == 1
    after = load_results(out)
    assert_frame_equal(after.runs, before.runs)
    assert_frame_equal(after.metrics, before.metrics)
    assert_frame_equal(after.steps, before.steps)


def test_write_shard_writes_the_runs_shard_last(tmp_path, monkeypatch):
    """metrics and steps before runs: a crash in between leaves only orphans; the runs
    shard records the name, checksum and row count of the shards it commits, and every
    shard is named by its own checksum."""
    import json

    import pyarrow.parquet as pq

    from sim.runs.store import file_sha256

    order = []
    real = sim.studies.results.pq.write_table

    def recording(table, where):
        order.append(Path(where).parent.name)
        return real(table, where)

    monkeypatch.setattr(sim.studies.results.pq, "write_table", recording)
    frame = pd.DataFrame({"run_id": ["a", "b"], "value": [1.0, 2.0]})
    entries = write_shard(tmp_path, {"runs": frame, "metrics": frame, "steps": frame})
    monkeypatch.undo()
    assert order == ["metrics", "steps", "runs"]
    assert [e["name"].split("/")[0] for e in entries] == ["metrics", "steps", "runs"]
    for entry in entries:
        path = tmp_path / entry["name"]
        assert file_sha256(path) == entry["sha256"]
        assert path.stem == f"part-{entry['sha256'][:32]}" and entry["rows"] == 2
    runs = tmp_path / entries[-1]["name"]
    committed = json.loads(pq.read_schema(runs).metadata[b"cybernorms.shards"])
    assert committed == entries[:2]


# --- interruption -----------------------------------------------------------------------


def test_interrupted_sweep_keeps_finished_runs_and_resume_completes_it(tmp_path, reference,
                                                                        monkeypatch):
    """A KeyboardInterrupt after 3 of 12 tasks: KeyboardInterrupt propagates, the manifest
    says interrupted, 3 runs are committed; --resume runs the other 9 and the results
    equal an uninterrupted sweep."""
    spec = experiment_copy(tmp_path, batch=1)
    out = tmp_path / "out"
    real = sim.studies.sweep.Progress.update
    calls = []

    def interrupting(self, done, failed):
        real(self, done, failed)
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(sim.studies.sweep.Progress, "update", interrupting)
    with pytest.raises(KeyboardInterrupt):
        quiet_sweep(spec, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert manifest["runs_computed"] == 3
    partial = load_results(out)
    assert partial.runs["status"].value_counts().to_dict() == {"pending": 9, "ok": 3}
    assert partial.metrics["run_id"].nunique() == 3

    monkeypatch.undo()
    result = quiet_sweep(spec, out, resume=True)
    assert result.manifest["runs_reused"] == 3 and result.manifest["runs_computed"] == 9
    assert result.manifest["status"] == "complete"
    assert_same_results(result, reference)


def test_cli_sweep_interrupted_exits_130(tmp_path, monkeypatch):
    def interrupt(self, done, failed):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.studies.sweep.Progress, "update", interrupt)
    code, _, err = cli("sweep", GRID, "--out", tmp_path / "out", "--backend", "serial")
    assert code == 130
    assert "--resume" in err


LONG = {"replications": 40, "batch": 1, "max_runs": 1000, "constants": {"metadata.steps": 20},
        "parameters": {BINDINGNESS: {"values": [0.1, 0.5, 0.9]}}}


def _start_sweep(spec: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(spec), "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        start_new_session=True)


def _wait_for_shards(process, out: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(list((out / "runs").glob("part-*.parquet"))) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no shards appeared"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["serial", "process"])
def test_sigint_then_resume_equals_an_uninterrupted_sweep(tmp_path, backend):
    """Ctrl-C (SIGINT to the process group) of `cybernorms sweep` after some shards:
    exit 130, manifest interrupted; --resume completes and equals an uninterrupted sweep."""
    spec = experiment_copy(tmp_path, name="long", **LONG)
    out = tmp_path / "out"
    extra = ["--backend", backend] + (["--workers", "2"] if backend == "process" else [])
    process = _start_sweep(spec, out, *extra)
    _wait_for_shards(process, out, 5)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    done = int((load_results(out).runs["status"] == "ok").sum())
    assert 5 <= done < 120
    resumed = quiet_sweep(spec, out, resume=True)
    assert resumed.manifest["runs_reused"] == done
    assert_same_results(resumed, quiet_sweep(spec, tmp_path / "fresh"))


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_sweep(tmp_path):
    """kill -9 mid-sweep (no chance to clean up): the committed runs load, the manifest
    still says running, and --resume completes to the uninterrupted results."""
    spec = experiment_copy(tmp_path, name="long", **LONG)
    out = tmp_path / "out"
    process = _start_sweep(spec, out, "--backend", "serial")
    _wait_for_shards(process, out, 5)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    status = load_results(out).runs["status"]
    assert set(status) == {"ok", "pending"}
    resumed = quiet_sweep(spec, out, resume=True)
    assert resumed.manifest["runs_reused"] == (status == "ok").sum()
    assert_same_results(resumed, quiet_sweep(spec, tmp_path / "fresh"))


# --- memory ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend, workers", [("serial", 1), ("process", 2)])
def test_written_batches_are_released(tmp_path, monkeypatch, backend, workers):
    """Streaming: once a batch is written to its shards the sweep holds no reference to its
    tables, so at most the batches in flight (2 per worker) are alive, not all 12."""
    real = sim.studies.sweep.write_shard
    refs, alive = [], []

    def tracking(directory, frames):
        name = real(directory, frames)
        refs.append(weakref.ref(frames["runs"]))
        gc.collect()
        alive.append(sum(ref() is not None for ref in refs))
        return name

    monkeypatch.setattr(sim.studies.sweep, "write_shard", tracking)
    spec = experiment_copy(tmp_path, batch=1, replications=3, constants={"metadata.steps": 2})
    quiet_sweep(spec, tmp_path / "out", backend=backend, workers=workers)
    assert len(refs) == 12
    assert max(alive) <= (2 if backend == "serial" else 2 * workers + 1), alive


def _streaming_peak(spec: Path, out: Path, monkeypatch) -> int:
    """tracemalloc peak of a sweep up to its compaction, collecting garbage after each
    batch (Mesa models are reference cycles: without this the peak measures CPython's
    collector timing, not the sweep)."""
    seen = {}
    real_update, real_compact = sim.studies.sweep.Progress.update, sim.studies.sweep.compact

    def update(self, done, failed):
        real_update(self, done, failed)
        gc.collect()

    def compact_(directory, record):
        seen["peak"] = tracemalloc.get_traced_memory()[1]
        return real_compact(directory, record)

    monkeypatch.setattr(sim.studies.sweep.Progress, "update", update)
    monkeypatch.setattr(sim.studies.sweep, "compact", compact_)
    gc.collect()
    tracemalloc.start()
    try:
        quiet_sweep(spec, out)
    finally:
        tracemalloc.stop()
        monkeypatch.undo()
    return seen["peak"]


def _memory_spec(tmp_path: Path, replications: int) -> Path:
    return experiment_copy(tmp_path, name=f"mem{replications}", replications=replications,
                           batch=5, max_runs=1000, constants={"metadata.steps": 4},
                           parameters={BINDINGNESS: {"values": [0.1, 0.5]}})


@pytest.mark.slow
def test_memory_stays_bounded(tmp_path, monkeypatch):
    """Going from 20 to 200 runs, the peak of the streaming phase grows by less per run
    than keeping each run's tables would cost (measured here by holding run_batch's
    output for 100 runs): results are not accumulated. (The remaining growth is the
    in-memory plan and pandas' copy-on-write weak references on the cached rosters.)"""
    small, large = _memory_spec(tmp_path, 10), _memory_spec(tmp_path, 100)
    quiet_sweep(small, tmp_path / "warm")  # imports, caches
    planned = plan(large)
    tasks = [t.model_dump() for t in planned["tasks"][:100]]
    overrides = planned["points"][0].overrides
    gc.collect()
    tracemalloc.start()
    try:
        kept = [run_batch(str(planned["scenario"]), overrides, tasks[i:i + 5])
                for i in range(0, 100, 5)]
        gc.collect()
        kept_per_run = tracemalloc.get_traced_memory()[0] / 100
    finally:
        tracemalloc.stop()
    del kept
    peak_small = _streaming_peak(small, tmp_path / "small", monkeypatch)
    peak_large = _streaming_peak(large, tmp_path / "large", monkeypatch)
    growth_per_run = (peak_large - peak_small) / 180
    print(f"peaks {peak_small} / {peak_large} B, {growth_per_run:.0f} B per extra run; "
          f"keeping a run's tables: {kept_per_run:.0f} B")
    assert growth_per_run < kept_per_run, (peak_small, peak_large, kept_per_run)


# --- command line: dry run and report ---------------------------------------------------


def test_dry_run_prints_the_run_count_and_runs_nothing(tmp_path):
    out = tmp_path / "out"
    code, stdout, _ = cli("sweep", GRID, "--dry-run", "--out", out)
    assert code == 0
    assert stdout.splitlines()[0] == ("tiny_grid: design grid, 4 points x 3 replications = "
                                      "12 runs (max_runs 100)")
    assert "bindingness=0.6, mean=0.6" in stdout
    assert not out.exists()


def test_dry_run_over_max_runs_exits_2(tmp_path):
    spec = experiment_copy(tmp_path, max_runs=5)
    code, _, err = cli("sweep", spec, "--dry-run")
    assert code == 2 and "max_runs" in err


def test_dry_run_lists_at_most_ten_points(tmp_path):
    spec = experiment_copy(tmp_path, replications=1,
                           parameters={BINDINGNESS: {"range": {"start": 0, "stop": 1,
                                                               "step": 0.05}}})
    code, stdout, _ = cli("sweep", spec, "--dry-run")
    assert code == 0 and "21 points x 1 replications = 21 runs" in stdout
    assert "... and 11 more points" in stdout


FIGURE_KINDS = {"grid": "_heatmap", "line": "_lines", "points": "_lines", "lhs": "_scatter"}


@pytest.mark.parametrize("design", list(FIGURE_KINDS))
def test_report_writes_tables_and_figures_for_each_design(tmp_path, monkeypatch, design):
    """`cybernorms report DIR`: summary.md/.tex/.csv and, per main metric and proposal, a
    figure in png, svg, pdf with a caption holding the spec hash; a grid of two parameters
    gets heat maps, one parameter or named points get lines, a sampled design scatters."""
    out = tmp_path / design
    result = quiet_sweep(EXPERIMENTS / f"{design}.yaml", out)
    used = []
    for name in ("_heatmap", "_lines", "_scatter"):
        real = getattr(sim.outputs.report, name)
        monkeypatch.setattr(sim.outputs.report, name,
                            lambda *a, _real=real, _name=name, **k: used.append(_name)
                            or _real(*a, **k))
    code, stdout, _ = cli("report", out)
    assert code == 0
    report = out / "report"
    for suffix in ("md", "tex", "csv"):
        assert (report / f"summary.{suffix}").stat().st_size > 0
    summary = pd.read_csv(report / "summary.csv")
    points = len(result.points)
    assert len(summary) == points * 2 * 4  # points x proposals x main metrics
    assert set(summary["runs"]) == {result.experiment["replications"]}
    tex = (report / "summary.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex
    assert set(used) == {FIGURE_KINDS[design]} and len(used) == 8
    for metric in ("signers_state", "signers_firm", "signers_civil", "share_gdp"):
        for proposal in ("call", "code"):
            stem = report / f"{metric}_{proposal}"
            for suffix in ("png", "svg", "pdf"):
                assert stem.with_suffix(f".{suffix}").stat().st_size > 0
            caption = stem.with_suffix(".caption.txt").read_text()
            assert result.manifest["spec_hash"] in caption
    assert f"files written to {report}" in stdout


def test_report_on_a_directory_without_a_sweep_exits_2(tmp_path):
    code, _, err = cli("report", tmp_path)
    assert code == 2 and "points.parquet" in err


def test_ctrl_c_while_a_run_is_committed_still_counts_it(tmp_path, monkeypatch):
    """A Ctrl-C arriving while a finished run's shards are written waits for the commit:
    the interrupted manifest lists and counts every runs shard on disk (it used to miss
    the one being written)."""
    written = []

    def write_then_interrupt(directory, frames):
        entries = write_shard(directory, frames)
        written.append(entries)
        if len(written) == 3:  # Ctrl-C as the third run's runs shard lands
            os.kill(os.getpid(), signal.SIGINT)
        return entries

    monkeypatch.setattr(sim.studies.sweep, "write_shard", write_then_interrupt)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        quiet_sweep(experiment_copy(tmp_path), out)
    manifest = json.loads((out / "manifest.json").read_text())
    on_disk = sorted(f"runs/{p.name}" for p in shards(out, "runs"))
    assert manifest["status"] == "interrupted"
    runs_on_disk = sum(len(pd.read_parquet(p)) for p in shards(out, "runs"))
    assert len(on_disk) == 3 and manifest["runs_computed"] == runs_on_disk
    assert sorted(e["name"] for e in manifest["shards"] if e["name"].startswith("runs/")) \
        == on_disk
