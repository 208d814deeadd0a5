"""`--backend dask --scheduler ADDRESS` against a cluster a user already has: a scheduler
and two workers started as separate processes with the `dask` command-line tools, one
worker killed mid-sweep. The sweep must finish with every run exactly once, and the
results of a serial sweep."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.studies import backends
from sim.studies.results import load_results
from tests.test_sweep import (
    BINDINGNESS,
    ROOT,
    _start_sweep,
    _wait_for_shards,
    assert_same_results,
    experiment_copy,
    quiet_sweep,
)

pytestmark = pytest.mark.slow
DASK = Path(sys.executable).with_name("dask")
# 3 points x 12 replications, one run per task: long enough to kill a worker mid-way
EXPERIMENT = {"replications": 12, "batch": 1, "max_runs": 1000,
              "constants": {"metadata.steps": 150},
              "parameters": {BINDINGNESS: {"values": [0.1, 0.5, 0.9]}}}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(*arguments: str) -> subprocess.Popen:
    """A `dask` command with the project's worker settings, as experiments/README.md
    starts them."""
    environment = {**os.environ, "DASK_CONFIG": str(backends.DASK_WORKER_CONFIG)}
    return subprocess.Popen([str(DASK), *arguments], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=environment)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two single-threaded workers (no nanny: a killed worker stays dead)
    on free ports of 127.0.0.1; yields (address, scheduler file, [worker processes])."""
    from dask.distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = _start("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                       "--no-dashboard", "--scheduler-file", str(scheduler_file))
    workers = [_start("worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                      "--host", "127.0.0.1", "--name", f"w{i}") for i in (1, 2)]
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=60)
                break
            except OSError:
                assert scheduler.poll() is None, scheduler.stderr.read()
                assert time.monotonic() < deadline, "the scheduler did not come up"
                time.sleep(0.5)
        yield address, scheduler_file, workers
    finally:
        for process in (*workers, scheduler):
            _stop(process)


def _wait_for_hosts(process, out: Path, pids: set[int], timeout: float = 180) -> None:
    """Until runs of every worker in `pids` are on disk (the sweep still running)."""
    deadline = time.monotonic() + timeout
    while True:
        hosts = set()
        for shard in (out / "runs").glob("part-*.parquet"):
            with contextlib.suppress(Exception):  # a shard being renamed into place
                hosts |= set(pd.read_parquet(shard, columns=["host"])["host"])
        if pids <= {int(host.rsplit(":", 1)[1]) for host in hosts}:
            return
        assert process.poll() is None, "the sweep ended before every worker had run"
        assert time.monotonic() < deadline, "not every worker ran"
        time.sleep(0.05)


def test_a_sweep_survives_a_killed_worker(tmp_path, cluster):
    address, _, workers = cluster
    spec = experiment_copy(tmp_path, name="dask_kill", **EXPERIMENT)
    # first the reference: it also compiles the decision round into numba's cache, so
    # that neither worker spends its first seconds compiling while the other runs
    serial = quiet_sweep(spec, tmp_path / "serial")
    out = tmp_path / "out"
    sweep = _start_sweep(spec, out, "--backend", "dask", "--scheduler", address)
    try:
        _wait_for_shards(sweep, out, 6, timeout=180)
        _wait_for_hosts(sweep, out, {worker.pid for worker in workers})
        victim = workers[0]  # with --no-nanny, the process is the worker itself
        os.kill(victim.pid, signal.SIGKILL)  # mid-sweep: runs in flight on it
        victim.wait(timeout=30)
        done_at_kill = len(list((out / "runs").glob("part-*.parquet")))
        _, err = sweep.communicate(timeout=600)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
    assert sweep.returncode == 0, err[-3000:]
    assert done_at_kill < 36, "the worker was killed after the sweep had finished"

    result = load_results(out)
    runs = result.runs
    assert len(runs) == 36 and runs["run_id"].is_unique and (runs["status"] == "ok").all()
    raw = pd.concat([pd.read_parquet(p) for p in (out / "runs").glob("*.parquet")])
    assert raw["run_id"].is_unique  # no run written twice, even one retried elsewhere
    assert not result.metrics.duplicated(["run_id", "proposal", "metric", "at"]).any()
    hosts = set(runs["host"].str.rsplit(":", n=1).str[1].astype(int))
    assert {worker.pid for worker in workers} <= hosts  # both worked, one until killed
    assert result.manifest["status"] == "complete" and result.manifest["runs_computed"] == 36
    assert_same_results(result, serial)


def test_workers_started_with_the_settings_file_take_it(cluster):
    import dask
    from dask.distributed import Client

    address, _, _ = cluster
    with Client(address, timeout=10) as client:  # (functions these workers can import)
        for key, value in backends.worker_settings().items():
            if not key.startswith("distributed.nanny"):  # these workers have no nanny
                assert set(client.run(dask.config.get, key).values()) == {value}, key


def test_a_scheduler_file_names_the_cluster(tmp_path, cluster):
    """As on a batch system: the sweep finds the scheduler through the file it wrote."""
    _, scheduler_file, _ = cluster
    spec = experiment_copy(tmp_path, name="dask_file", **{**EXPERIMENT, "replications": 2,
                                                          "constants": {"metadata.steps": 5}})
    result = quiet_sweep(spec, tmp_path / "out", backend="dask", scheduler=str(scheduler_file))
    assert result.manifest["backend"] == "dask" and result.manifest["runs_computed"] == 6
    assert_same_results(result, quiet_sweep(spec, tmp_path / "serial"))
