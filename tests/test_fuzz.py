"""The fuzz suite (slow; run by .ci/run): generated inputs for every command, run in
process through the tests' CLI runner. Each example must end with exit status 0 or 2
(or 1, for a sweep or calibration that finished with failed runs or missed targets),
never print a traceback, never take over 20 s and never hold over 2 GiB.

The input classes and their strategies are in tests/fuzz_inputs.py (`FUZZED`); the
examples are derandomised, so CI draws the same ~1,200 examples every time (a few
minutes in all).
"""

from __future__ import annotations

import collections
import resource
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import sim.cli
from tests.conftest import run_cli
from tests.fuzz_inputs import DATA, FUZZED, Case

pytestmark = pytest.mark.slow

SECONDS = 20.0
MEMORY = 2 * 2**30
CASES = [(command, name, strategy, examples, clean) for command, classes in FUZZED.items()
         for name, strategy, examples, clean in classes]


class Overrun(BaseException):
    """Raised inside a command that ran too long or grew too large (not an Exception, so
    no handler in the project can swallow it)."""


def _resident() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


class Watchdog:
    """Checks the example's time and memory every 50 ms (SIGALRM: no thread, so worker
    processes are still forked as in normal use)."""

    def __enter__(self):
        self.started = time.perf_counter()
        self.peak = 0
        self.previous = signal.signal(signal.SIGALRM, self._check)
        signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
        return self

    def _check(self, signum, frame):
        self.peak = max(self.peak, _resident())
        elapsed = time.perf_counter() - self.started
        if elapsed > SECONDS:
            raise Overrun(f"over {SECONDS:.0f} s")
        if self.peak > MEMORY:
            raise Overrun(f"over {MEMORY / 2**30:.0f} GiB resident ({self.peak / 2**30:.2f})")

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, self.previous)
        return False


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> dict[str, Path]:
    """Folders some commands read: the tiny world's runs, and a finished sweep."""
    root = tmp_path_factory.mktemp("fuzz")
    results, sweep = root / "results", root / "sweep"
    assert run_cli("run", DATA / "tiny.yaml", "--reps", 3, "--out", results)[0] == 0
    assert run_cli("sweep", DATA / "experiments" / "grid.yaml", "--out", sweep,
                   "--backend", "serial")[0] == 0
    return {"results": results, "sweep": sweep}


@pytest.fixture(scope="module", autouse=True)
def no_server():
    """The dashboard's server would block: stand in for it (its checks still run)."""
    import solara.__main__

    import sim.dashboard.server as server

    original = (solara.__main__.run.main, server.assets_ready)
    solara.__main__.run.main = lambda *args, **kwargs: None
    server.assets_ready = lambda: True
    yield
    solara.__main__.run.main, server.assets_ready = original


def damage_sweep(source: Path, target: Path, damage: str) -> None:
    shutil.copytree(source, target)
    metrics = next((target / "metrics").glob("part-*.parquet"))
    if damage == "truncate":
        metrics.write_bytes(metrics.read_bytes()[:-50])
    elif damage == "empty":
        metrics.write_bytes(b"")
    elif damage == "delete":
        metrics.unlink()
    elif damage == "manifest":
        (target / "manifest.json").write_text("{not json")
    elif damage == "points":
        (target / "points.parquet").write_bytes(b"PAR1 garbage")
    elif damage == "garbage":
        (target / "runs" / "part-0000000000000000000000.parquet").write_bytes(b"\x00" * 64)
    elif damage == "not_a_sweep":
        (target / "points.parquet").unlink()


def run_case(case: Case, prepared: dict[str, Path]) -> tuple[int, str, str, float]:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        for name, data in case.files.items():
            (folder / name).write_bytes(data.replace(b"{dir}", str(folder).encode()))
        for name, damage in case.folders.items():
            damage_sweep(prepared["sweep"], folder / name, damage)
        names = {"dir": str(folder), "results": str(prepared["results"]),
                 "sweep": str(prepared["sweep"]),
                 **{name: str(folder / name) for name in case.folders}}
        argv = [_fill(arg, names) for arg in case.argv]
        try:
            with Watchdog() as watchdog:
                code, out, err = run_cli(*argv)
        except Overrun as exc:
            raise AssertionError(f"{exc}: {argv!r}") from None
        return code, out, err, time.perf_counter() - watchdog.started
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fill(argument: str, names: dict[str, str]) -> str:
    for key, value in names.items():
        argument = argument.replace("{" + key + "}", value)
    return argument


def test_every_command_is_fuzzed():
    """A command added to the CLI must be added to FUZZED (one strategy, one line)."""
    assert set(FUZZED) == set(sim.cli.COMMANDS)


def test_the_suite_draws_at_least_1000_examples():
    assert sum(case[3] for case in CASES) >= 1000


@pytest.mark.parametrize(("command", "name", "strategy", "examples", "clean"), CASES,
                         ids=[f"{case[0]}: {case[1]}" for case in CASES])
def test_generated_inputs_end_cleanly(prepared, capsys, command, name, strategy, examples,
                                      clean):
    """Exit 0 or 2 (or 1 where a command reports failed runs), no traceback, under 20 s
    and 2 GiB, for every generated input; and the inputs reach both outcomes (a class
    whose every input is refused would test only the refusals)."""
    outcomes: collections.Counter = collections.Counter()

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=strategy)
    def check(case: Case):
        code, out, err, seconds = run_case(case, prepared)
        outcomes[code] += 1
        assert "Traceback" not in err and "Traceback" not in out, err[-3000:]
        assert code in clean, (code, err[-3000:])

    check()
    with capsys.disabled():
        print(f"\n  {command}: {name}: exit statuses {dict(sorted(outcomes.items()))}")
    if command not in ("schema", "dashboard", "bench", "report"):
        assert outcomes[2] and (outcomes[0] or outcomes[1]), outcomes
