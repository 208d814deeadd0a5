"""Running many independent tasks: in-process, on a local process pool, or on Dask.

`execute` yields (index, result) as tasks finish, keeping a bounded number in flight
so memory stays flat however many tasks there are. Tasks are plain picklable
callables with arguments; results come back in completion order, so callers that
need an order sort by index. Dask is imported only when asked for.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from sim import limits

BACKENDS = ("serial", "process", "dask")
#: Dask settings for workers that only compute runs (why: in the file itself)
DASK_WORKER_CONFIG = Path(__file__).with_name("dask-workers.yaml")


def duration(seconds: float) -> str:
    """1m05s, 2h03m, or ? for an unknown duration."""
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def timed_pilot(function):
    """(seconds, result) of one run for an estimate. The first run in a process also pays,
    once, for imports, data caches and loading the compiled round (about half a second):
    a run that took under a second is run again and the second one timed."""
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    if seconds < 1.0:
        started = time.perf_counter()
        result = function()
        seconds = time.perf_counter() - started
    return seconds, result


def estimate(runs: int, seconds_per_run: float, workers: int) -> str:
    """What a long command prints before it starts: runs, measured rate, expected time."""
    parallel = max(1, min(workers, runs))
    rate = 1 / seconds_per_run if seconds_per_run > 0 else math.inf
    return (f"{runs} runs at about {seconds_per_run:.2f} s per run ({rate:.1f} runs/s per "
            f"worker, measured just now): estimated {duration(runs * seconds_per_run / parallel)}"
            f" on {parallel} worker{'s' if parallel > 1 else ''} (longer if other work shares "
            "the cores)")


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def _context():
    """How to start workers.

    fork where the parent runs a single thread: instant starts with the parent's
    imports, and scripts, notebooks and `python -c` need no `__main__` guard. A parent
    running threads (a dashboard, a Dask client) is not forked, which could deadlock:
    then forkserver, whose workers fork from a clean server that imported the model
    once (scripts then need the usual `if __name__ == "__main__":` guard); else spawn.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.studies.sweep", "sim.studies.comparison",
                                        "sim.studies.calibration"])
        return context
    return multiprocessing.get_context("spawn")


def execute(function: Callable[..., Any], tasks: Iterable[tuple], *, backend: str = "process",
            workers: int | None = None, scheduler: str | None = None,
            in_flight: int | None = None) -> Iterator[tuple[int, Any]]:
    """Call `function(*task)` for every task; yield (task index, result) as each finishes.

    Exceptions raised by a task are yielded as the result (not raised), so one failed
    task never stops the others; callers decide what a failure means.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    workers = workers or default_workers()
    if backend == "serial" or (backend == "process" and workers == 1):
        for index, task in enumerate(tasks):
            yield index, _guarded(function, task)
        return
    limit = in_flight or 2 * workers
    bounds = limits.current()  # workers check inputs against the caller's limits
    if backend == "process":
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(),
                                   initializer=_ignore_interrupts)
        try:
            yield from _bounded(lambda task: pool.submit(_guarded, function, task, bounds),
                                tasks, limit)
        except BaseException:  # Ctrl-C, or the caller stopped: do not wait for the workers
            _stop(pool)
            raise
        pool.shutdown(wait=True)
        return
    yield from _dask(function, tasks, workers, scheduler, limit, bounds)


@contextlib.contextmanager
def _interrupts_ignored_by_children():
    """Start processes that ignore Ctrl-C (they inherit the ignoring): the caller stops
    them when it is interrupted, so they print no tracebacks of their own."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def interrupts_deferred():
    """Hold a Ctrl-C that arrives while a finished run is committed (its shards written
    and counted) until the commit is done, so the manifest counts every shard on disk."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: arrived.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if arrived:
        raise KeyboardInterrupt


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which stops them (no worker tracebacks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(pool: ProcessPoolExecutor, grace: float = 2.0) -> None:
    """Cancel what has not started, end the workers now, and reap them.

    A worker ended while it was sending a result leaves half a message in the result
    pipe; the pool's manager thread then waits for the rest forever, and the interpreter
    waits for that thread at exit. Once the workers are gone this process holds the last
    writing end of that pipe: closing it turns the wait into an end of file, which the
    manager treats as a broken pool and ends on.
    """
    processes = list((pool._processes or {}).values())  # noqa: SLF001 (no public handle)
    result_queue = pool._result_queue  # noqa: SLF001 (shutdown forgets it)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(grace)
        if process.is_alive():
            process.kill()
            process.join(grace)
    with contextlib.suppress(AttributeError, OSError):
        result_queue._writer.close()  # noqa: SLF001 (no public handle)


def run_all(function: Callable[..., Any], tasks: list[tuple], *, backend: str = "process",
            workers: int | None = None, what: str = "a task") -> list:
    """Results of every task in task order; the first failure stops with its traceback."""
    results: list = [None] * len(tasks)
    for index, result in execute(function, tasks, backend=backend, workers=workers):
        if isinstance(result, TaskError):
            raise RuntimeError(f"{what} failed:\n{result.traceback}")
        results[index] = result
    return results


def _guarded(function, task, bounds=None):
    try:
        if bounds is not None and bounds != limits.current():
            limits.configure(bounds)
        return function(*task)
    except Exception as exc:  # reported to the caller as a value, with its traceback text
        import traceback

        return TaskError(type(exc).__name__, str(exc), traceback.format_exc())


class TaskError:
    """A task that raised: kept as a value so a sweep can record it and go on."""

    def __init__(self, kind: str, message: str, traceback: str):
        self.kind, self.message, self.traceback = kind, message, traceback

    def __repr__(self) -> str:
        return f"TaskError({self.kind}: {self.message})"


def _bounded(submit, tasks, limit) -> Iterator[tuple[int, Any]]:
    pending: dict = {}
    iterator = enumerate(tasks)
    exhausted = False
    while pending or not exhausted:
        while not exhausted and len(pending) < limit:
            try:
                index, task = next(iterator)
            except StopIteration:
                exhausted = True
                break
            pending[submit(task)] = index
        if not pending:
            break
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            yield pending.pop(future), future.result()


def _dask(function, tasks, workers, scheduler, limit, bounds) -> Iterator[tuple[int, Any]]:
    """Tasks on a Dask cluster: `scheduler` is an address (tcp://host:8786), a scheduler
    file (JSON, as `dask scheduler --scheduler-file` writes on a batch system), or None
    for a local cluster of `workers` processes. A worker lost mid-sweep costs only its
    tasks in flight: the scheduler runs them again elsewhere, and each result is taken
    once."""
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        # the nannies keep the settings they start with, also for a worker they restart
        with _interrupts_ignored_by_children(), dask.config.set(worker_settings()):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
        client = Client(cluster)
    elif scheduler.endswith(".json"):
        client = Client(scheduler_file=scheduler)
    else:
        client = Client(scheduler)
    try:
        iterator = enumerate(tasks)
        futures = {}
        for index, task in iterator:
            futures[client.submit(_guarded, function, task, bounds, pure=False)] = index
            if len(futures) >= limit:
                break
        queue = as_completed(list(futures))
        for future in queue:
            index = futures.pop(future)
            yield index, future.result()
            future.release()
            following = next(iterator, None)
            if following is not None:
                new = client.submit(_guarded, function, following[1], bounds, pure=False)
                futures[new] = following[0]
                queue.add(new)
    except BaseException:  # Ctrl-C or the caller stopped: end the workers we started, quietly
        if cluster is not None:
            with contextlib.suppress(Exception):
                client.cancel(list(futures))
                client.run(_quiet_worker_logs)  # a closing scheduler is not news to them
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def worker_settings() -> dict[str, Any]:
    """The settings of DASK_WORKER_CONFIG as dotted keys (`dask.config.set` replaces a
    whole section given as a nested mapping; dotted keys change only their leaves)."""
    import yaml

    def leaves(prefix: str, node) -> Iterator[tuple[str, Any]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield from leaves(f"{prefix}.{key}" if prefix else key, value)
        else:
            yield prefix, node

    return dict(leaves("", yaml.safe_load(DASK_WORKER_CONFIG.read_text(encoding="utf-8"))))


def _quiet_worker_logs() -> None:
    import logging

    logging.getLogger("distributed").setLevel(logging.CRITICAL)
