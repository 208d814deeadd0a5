"""`cybernorms bench` runs every section and reports each figure (not what they are)."""

from __future__ import annotations

import json
import statistics

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow


def test_the_benchmark_reports_every_figure(tmp_path):
    code, out, err = run_cli("bench", "--json", "--sizes", "1000", "2000", "--repeats", "1",
                             "--mesa-repeats", "1", "--profile", "--sweeps", "12",
                             "--memory-runs", "6", "12", "--scale", "20000",
                             "--figure", str(tmp_path / "step_cost"))
    assert code == 0, err
    report = json.loads(out)
    assert report["baseline"]["median_s"] > 0 and report["baseline"]["build_median_s"] > 0
    assert report["mesa"]["ratio"] > 0
    assert [row["actors"] for row in report["sizes"]] == [1000, 2000]
    for row in report["sizes"]:
        assert row["speedup"] > 0 and row["step_s"] > 0
        assert row["max_abs_difference"] <= 1e-9  # the kernel is the per-agent rule
    assert report["step_scaling"][0]["from"] == 1000
    assert report["profile"] and {"function", "own_s"} <= set(report["profile"][0])
    sweeps = report["sweeps"]
    assert set(sweeps["backends"]) == {"serial", "process", "dask"}
    assert sweeps["identical"] is True
    assert len(sweeps["pairs"]) == 2 and sweeps["dask_over_pool"] == statistics.median(
        pair["dask_s"] / pair["process_s"] for pair in sweeps["pairs"])
    assert [row["runs"] for row in sweeps["memory"]] == [6, 12] and sweeps["memory_ratio"] > 0
    (scale,) = report["scale"]
    assert scale["actors"] == 20000 and scale["peak_rss_gib"] > 0
    assert all(value >= 0 for value in scale["signers"].values())
    assert report["negotiation"]["candidates"] > 0 and report["negotiation"]["round_s"] > 0
    assert {p.name for p in tmp_path.iterdir()} == {f"step_cost.{ext}" for ext in
                                                    ("png", "svg", "pdf", "caption.txt")}
