"""Backends run tasks from any kind of caller: scripts, stdin, threaded parents."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim.studies import backends
from sim.studies.backends import TaskError, execute, run_all, timed_pilot
from tests.conftest import ROOT


def _square(x):
    return x * x


def _fail(x):
    raise ValueError(f"bad {x}")


def test_results_come_back_in_task_order_whatever_the_backend():
    tasks = [(i,) for i in range(7)]
    for backend in ("serial", "process"):
        assert run_all(_square, tasks, backend=backend, workers=2) == [i * i for i in range(7)]


def test_a_failing_task_is_a_value_not_an_exception():
    results = dict(execute(_fail, [(1,), (2,)], backend="process", workers=2))
    assert all(isinstance(r, TaskError) and r.kind == "ValueError" for r in results.values())
    assert "bad 1" in results[0].message


def test_process_backend_works_from_stdin_without_a_main_guard():
    """A notebook-like caller (code from stdin, no __main__ file) can use the pool.

    Fails with a forkserver or spawn start: those re-import __main__ from its file.
    """
    code = ("from sim.studies.comparison import compare\n"
            "c = compare(['tests/data/tiny.yaml', 'tests/data/tiny.yaml'], 2, seed=1,"
            " workers=2, steps=3)\n"
            "print(c.table['runs'].min())\n")
    done = subprocess.run([sys.executable, "-"], input=code, text=True, capture_output=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "2"


def test_a_threaded_parent_is_not_forked(monkeypatch):
    """With other threads running, workers start from a fork server instead (no deadlock)."""
    import threading

    from sim.studies.backends import _context

    monkeypatch.setattr(threading, "active_count", lambda: 3)
    assert _context().get_start_method() in ("forkserver", "spawn")
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert _context().get_start_method() == "fork"


def test_a_result_cut_off_mid_message_does_not_keep_the_pool_alive():
    """A worker ended while sending a result leaves half a message in the result pipe.
    The pool's manager thread waited for the rest forever, and the interpreter waits
    for that thread at exit: an interrupted calibration printed its message and hung."""
    import os
    import struct
    import time
    from concurrent.futures import ProcessPoolExecutor

    from sim.studies import backends

    pool = ProcessPoolExecutor(max_workers=1, mp_context=backends._context())
    pool.submit(time.sleep, 0).result()  # the worker and the manager thread are running
    manager, writer = pool._executor_manager_thread, pool._result_queue._writer
    os.write(writer.fileno(), struct.pack("!i", 1_000_000) + b"the first bytes")
    time.sleep(0.2)  # the manager is now reading a message that will never be whole
    try:
        backends._stop(pool)
        manager.join(5)
        assert not manager.is_alive(), "the pool's manager thread still waits for a result"
    finally:
        if manager.is_alive():  # do not leave this test run hanging at exit
            writer.close()
            manager.join(5)



@pytest.mark.parametrize("first, calls_made, timed", [(0.6, 2, 0.05), (3.0, 1, 3.0)])
def test_a_pilot_run_under_a_second_is_timed_on_its_repeat(monkeypatch, first, calls_made,
                                                           timed):
    """The first run of a process pays once for imports and loading the compiled round
    (a 0.04 s baseline run took 0.58 s, and a 10,000-run sweep was announced at 48 min
    instead of 7): a quick pilot is run again and the repeat timed; a slow one is not."""
    clock = iter([0.0, first, 10.0, 10.05])
    monkeypatch.setattr(backends.time, "perf_counter", lambda: next(clock))
    calls = []
    seconds, result = timed_pilot(lambda: calls.append(1) or len(calls))
    monkeypatch.undo()
    assert (len(calls), result) == (calls_made, calls_made)
    assert seconds == pytest.approx(timed)


def _local_worker_state() -> dict:
    import os

    from distributed import get_worker

    worker = get_worker()
    return {"malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            "callbacks": {name: pc.callback_time
                          for name, pc in worker.periodic_callbacks.items()}}


def test_the_local_dask_cluster_starts_workers_that_only_compute():
    """Its workers neither profile nor trim memory at every free, and check their event
    loop and memory once a second: Dask's defaults (every 10, 20 and 100 ms) made each
    run 15-30% slower than on the process pool."""
    ((_, state),) = list(execute(_local_worker_state, [()], backend="dask", workers=1))
    assert state["malloc_trim"] is None
    assert "profile" not in state["callbacks"]
    assert state["callbacks"]["tick"] == 1000
    assert state["callbacks"]["memory_monitor"] == 1000
    assert state["callbacks"]["monitor"] == 2000


def test_worker_settings_change_only_their_own_keys():
    """As dotted keys: a nested mapping given to dask.config.set replaces whole sections
    (the scheduler's among them)."""
    import dask
    import distributed  # noqa: F401 (adds its defaults to the configuration)

    settings = backends.worker_settings()
    assert all("." in key for key in settings)
    with dask.config.set(settings):
        assert dask.config.get("distributed.worker.profile.enabled") is False
        assert dask.config.get("distributed.scheduler.work-stealing") is True
        assert dask.config.get("distributed.nanny.pre-spawn-environ.OMP_NUM_THREADS") == 1
