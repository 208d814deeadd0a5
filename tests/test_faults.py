"""Fault tests (slow): sweeps killed with -9 or interrupted with Ctrl-C, two sweeps into
one folder at once, and output folders that are read-only or fill up. Each runs the
real command in its own process group, as a user's terminal would."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.studies.results import load_results
from sim.studies.sweep import sweep
from tests.conftest import refuse_folders_under, run_cli

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "paris_call_2018.yaml"
TINY = ROOT / "tests" / "data" / "tiny.yaml"


def baseline_experiment(tmp_path: Path, design: str = "grid", **changes) -> Path:
    """40 runs of the baseline, one per task, long enough to be interrupted."""
    spec = {"name": "faults", "scenario": str(BASELINE), "design": design, "replications": 8,
            "seed": 3, "batch": 1, "constants": {"metadata.steps": 80},
            "parameters": {"proposals.paris_call.bindingness": {
                "values": [0.05, 0.2, 0.4, 0.6, 0.8]}},
            "metrics": ["signers_", "share_gdp"], "max_runs": 1000, **changes}
    path = tmp_path / f"{design}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def start(*argv) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim", *map(str, argv)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_shards(process: subprocess.Popen, out: Path, count: int, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(list((out / "runs").glob("part-*.parquet"))) >= count:
            return
        if process.poll() is not None:
            pytest.fail(f"finished before it could be interrupted: {process.stderr.read()}")
        time.sleep(0.05)
    pytest.fail("no shards appeared")


def interrupt(process: subprocess.Popen, how: int) -> tuple[int, str, float]:
    """Send `how` to the whole process group (as Ctrl-C in a terminal does)."""
    sent = time.monotonic()
    os.killpg(process.pid, how)
    try:
        _, err = process.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return process.returncode, err, time.monotonic() - sent


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same experiment uninterrupted, in process and serially."""
    folder = tmp_path_factory.mktemp("reference")
    return sweep(baseline_experiment(folder), folder / "out", backend="serial", quiet=True,
                 log=lambda line: None)


# --- kill -9 and Ctrl-C ----------------------------------------------------------------


def test_kill_9_during_a_sweep_then_resume_equals_an_uninterrupted_run(tmp_path, reference):
    spec, out = baseline_experiment(tmp_path), tmp_path / "out"
    process = start("sweep", spec, "--out", out, "--workers", 2)
    wait_for_shards(process, out, 3)
    code, _, _ = interrupt(process, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert (out / ".lock").exists()  # left behind, stale: the next sweep takes it over
    code, _, err = run_cli("sweep", spec, "--out", out, "--resume", "--workers", 2)
    assert code == 0, err
    result = load_results(out)
    pd.testing.assert_frame_equal(result.metrics, reference.metrics)
    assert result.manifest["status"] == "complete"


@pytest.mark.parametrize(("command", "backend"), [("sweep", "process"),
                                                   ("sensitivity", "process"),
                                                   ("sweep", "dask")])
def test_ctrl_c_stops_within_5_s_keeps_finished_runs_and_exits_130(tmp_path, reference,
                                                                   command, backend):
    if command == "sweep":
        spec = baseline_experiment(tmp_path)
    else:
        spec = baseline_experiment(tmp_path, design="saltelli", samples=8, replications=1,
                                   parameters={
                                       "proposals.paris_call.bindingness": {
                                           "distribution": {"uniform": [0.0, 0.8]}},
                                       "behaviour.state.peers": {
                                           "distribution": {"uniform": [0.0, 0.5]}}})
    out = tmp_path / "out"
    process = start(command, spec, "--out", out, "--workers", 2, "--backend", backend)
    wait_for_shards(process, out, 3)
    code, err, seconds = interrupt(process, signal.SIGINT)
    assert code == 130, err
    assert seconds < 5, f"took {seconds:.1f} s to stop"
    assert "Traceback" not in err and "interrupted" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["runs_computed"] >= 3
    code, _, err = run_cli(command, spec, "--out", out, "--resume", "--workers", 2)
    assert code == 0, err
    if command == "sweep":
        pd.testing.assert_frame_equal(load_results(out).metrics, reference.metrics)


def test_ctrl_c_stops_a_calibration_within_5_s(tmp_path):
    targets = yaml.safe_load((ROOT / "experiments" / "calibrate_paris_call_2018.yaml")
                             .read_text())
    targets["scenario"] = str(BASELINE)
    # the copy lives elsewhere: its per-state outcomes file is named from the project's
    targets["outcomes"]["file"] = str(ROOT / "experiments" / targets["outcomes"]["file"])
    targets["search"] = {"seed": 1, "explore": {"candidates": 60, "replications": 2},
                         "refine": {"candidates": 4, "replications": 2, "rounds": 1}}
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(targets))
    process = start("calibrate", path, "--workers", 2)
    deadline = time.monotonic() + 120
    line = ""
    while "explore:" not in line and time.monotonic() < deadline:
        line = process.stderr.readline()
        assert line or process.poll() is None, "calibration ended before its search"
    time.sleep(2)
    code, err, seconds = interrupt(process, signal.SIGINT)
    assert code == 130, err
    assert seconds < 5, f"took {seconds:.1f} s to stop"
    assert "Traceback" not in err and "interrupted" in err


# --- two sweeps at once ----------------------------------------------------------------


def test_two_sweeps_started_together_the_second_is_refused(tmp_path, reference):
    spec, out = baseline_experiment(tmp_path), tmp_path / "out"
    first = start("sweep", spec, "--out", out, "--workers", 1)
    time.sleep(0.2)
    second = start("sweep", spec, "--out", out, "--workers", 1)
    _, second_err = second.communicate(timeout=120)
    _, first_err = first.communicate(timeout=300)
    codes = sorted([first.returncode, second.returncode])
    assert codes == [0, 2], (first_err, second_err)
    refused = second_err if second.returncode == 2 else first_err
    assert "is writing it" in refused and "Traceback" not in refused
    pd.testing.assert_frame_equal(load_results(out).metrics, reference.metrics)


# --- full and read-only folders --------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(path: Path, size: str, read_only: bool = False):
    """A tmpfs of `size` mounted at `path` (needs the right to mount); yields False where
    mounting is not permitted, so the caller uses a stand-in instead."""
    path.mkdir()
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                             capture_output=True, check=False).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_gives_a_clean_message_and_status_failed(tmp_path, monkeypatch):
    disk = tmp_path / "disk"
    with small_filesystem(disk, "1600k") as mounted:
        if not mounted:  # a stand-in: writes of Parquet shards fail as on a full disk
            import sim.studies.results as results

            real = results.pq.write_table

            def full(table, where, **options):
                if "/runs/" in str(where) and len(list((disk / "out" / "runs").glob("*"))):
                    raise OSError(errno.ENOSPC, "No space left on device", str(where))
                return real(table, where, **options)

            monkeypatch.setattr(results.pq, "write_table", full)
        code, _, err = run_cli("sweep", baseline_experiment(tmp_path, replications=40),
                               "--out", disk / "out", "--backend", "serial")
        assert code == 2 and "Traceback" not in err
        assert "disk with free space" in err
        manifest = json.loads((disk / "out" / "manifest.json").read_text())
        assert manifest["status"] == "failed" and "No space left" in manifest["reason"]
        assert not list((disk / "out").rglob(".*.tmp"))  # no half-written file left


def test_a_read_only_folder_gives_a_clean_message(tmp_path, monkeypatch):
    disk = tmp_path / "disk"
    with small_filesystem(disk, "1m", read_only=True) as mounted:
        if not mounted:  # a stand-in: creating anything there fails as on a read-only disk
            refuse_folders_under(monkeypatch, disk)
        for argv in (["sweep", baseline_experiment(tmp_path), "--out", disk / "out",
                      "--backend", "serial"],
                     ["run", TINY, "--out", disk / "run"],
                     ["compare", TINY, TINY, "--reps", 2, "--steps", 2, "--out", disk / "cmp",
                      "--backend", "serial"]):
            code, _, err = run_cli(*argv)
            assert code == 2 and "Traceback" not in err, err
            assert "read-only" in err and str(disk) in err
