"""A million actors: the baseline with its generated firms and civil society scaled to
1,000,000 (60% firms), 170 steps, in its own process. Time is for the benchmark
(`cybernorms bench --scale`); this checks that the run completes, that actors of every
kind sign, and that memory stays within its bound."""

from __future__ import annotations

import pytest

from sim.bench import time_scale

pytestmark = pytest.mark.slow


def test_a_million_actors_run_170_steps_in_bounded_memory():
    (run,) = time_scale((1_000_000,))
    assert run["actors"] == 1_000_000 and run["steps"] == 170
    assert run["firms"] + run["civil"] > 999_000
    at_end = run["signers"]
    assert all(at_end[f"paris_call.signers_{kind}"] > 0 for kind in ("state", "firm", "civil"))
    assert run["peak_rss_gib"] < 1.5
