"""Statistics and tables (sim.studies.comparison, sim.outputs.report.write_comparison):
intervals, paired differences, Holm, Kaplan-Meier, compare() on common random numbers, replication
sufficiency, paper tables (Markdown, booktabs LaTeX) and `cybernorms compare`."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.outputs.tables import paper_table, to_latex, to_markdown
from sim.runs.runner import derive_seed
from sim.scenario.loading import with_overrides
from sim.studies.comparison import (
    OUTCOMES,
    compare,
    comparison_table,
    holm,
    kaplan_meier,
    mean_interval,
    paired_difference,
    replication_sufficiency,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"


def cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


# --- mean_interval ----------------------------------------------------------------------


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_mean_interval_is_the_student_t_interval(level):
    """mean +- t_{(1+level)/2, n-1} * s / sqrt(n), computed by hand."""
    values = np.array([3.0, 5.0, 4.0, 8.0, 6.0, 2.0])
    n, mean, sd = 6, values.mean(), values.std(ddof=1)
    half = stats.t.ppf((1 + level) / 2, n - 1) * sd / math.sqrt(n)
    got = mean_interval(values, level)
    assert got == pytest.approx((mean, mean - half, mean + half), rel=1e-12)
    assert got[0] == pytest.approx(14 / 3)


def test_mean_interval_ignores_nans_and_handles_tiny_samples():
    """NaNs are dropped; one value has no interval; no value has no mean."""
    with_nan = mean_interval(np.array([1.0, np.nan, 3.0]))
    assert with_nan == pytest.approx(mean_interval(np.array([1.0, 3.0])))
    mean, low, high = mean_interval(np.array([2.5]))
    assert mean == 2.5 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in mean_interval(np.array([])))
    assert mean_interval(np.array([4.0, 4.0, 4.0])) == (4.0, 4.0, 4.0)


# --- paired_difference ------------------------------------------------------------------


def test_paired_difference_on_hand_data():
    """other - first: mean 1.2, d_z = mean / sd(diff), p from scipy.stats.ttest_rel."""
    first = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    other = np.array([2.0, 2.0, 5.0, 4.0, 8.0])
    diff = other - first  # 1, 0, 2, 0, 3
    result = paired_difference(first, other)
    assert result["diff"] == pytest.approx(1.2)
    assert result["d_z"] == pytest.approx(1.2 / diff.std(ddof=1))
    assert result["d_z"] == pytest.approx(1.2 / math.sqrt(1.7))
    assert result["p"] == pytest.approx(stats.ttest_rel(other, first).pvalue, rel=1e-12)
    half = stats.t.ppf(0.975, 4) * math.sqrt(1.7) / math.sqrt(5)
    assert (result["diff_low"], result["diff_high"]) == pytest.approx((1.2 - half, 1.2 + half))
    assert result["pairs"] == 5


def test_paired_difference_drops_incomplete_pairs():
    first = np.array([1.0, np.nan, 3.0, 4.0])
    other = np.array([2.0, 5.0, np.nan, 6.0])
    result = paired_difference(first, other)
    assert result["pairs"] == 2 and result["diff"] == pytest.approx(1.5)


def test_paired_difference_zero_variance():
    """Identical replicates: difference 0, d_z 0, p 1. A constant shift: d_z +-inf, p 0,
    a zero-width interval."""
    same = paired_difference(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    assert (same["diff"], same["diff_low"], same["diff_high"], same["d_z"], same["p"]) == (
        0.0, 0.0, 0.0, 0.0, 1.0)
    up = paired_difference(np.array([1.0, 2.0, 3.0]), np.array([3.0, 4.0, 5.0]))
    assert up["diff"] == 2.0 and up["d_z"] == math.inf and up["p"] == 0.0
    assert (up["diff_low"], up["diff_high"]) == (2.0, 2.0)
    down = paired_difference(np.array([3.0, 4.0]), np.array([2.0, 3.0]))
    assert down["d_z"] == -math.inf and down["p"] == 0.0


def test_paired_difference_with_one_pair_has_no_test():
    result = paired_difference(np.array([1.0]), np.array([3.0]))
    assert result["diff"] == 2.0 and result["pairs"] == 1
    assert math.isnan(result["d_z"]) and math.isnan(result["p"])


# --- holm -------------------------------------------------------------------------------


def test_holm_known_example():
    """p = [0.01, 0.04, 0.03]: sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.04,
    made monotone -> [0.03, 0.06, 0.06] in the original order."""
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_holm_caps_at_one_keeps_nans_and_order():
    adjusted = holm([0.5, np.nan, 0.001, 0.3])
    assert math.isnan(adjusted[1])
    # three valid p-values: 0.001 * 3, then max(0.3 * 2, ...), then min(1, 0.5 * 1) -> 0.6
    assert adjusted[[2, 3, 0]] == pytest.approx([0.003, 0.6, 0.6])
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])
    assert len(holm([])) == 0


def test_holm_is_never_below_the_raw_p_and_is_monotone_in_p():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.2, 25)
    adjusted = holm(p)
    assert (adjusted >= p).all() and (adjusted <= 1).all()
    order = np.argsort(p)
    assert (np.diff(adjusted[order]) >= 0).all()


# --- kaplan_meier -----------------------------------------------------------------------


def test_kaplan_meier_hand_example_with_censoring():
    """Six actors: signed at 2, 3, 5; censored at 3, 6, 8.
    S(2) = 5/6, S(3) = 5/6 * 4/5, S(5) = 4/6 * 2/3; Greenwood terms 1/30, 1/20, 1/6."""
    durations = np.array([2, 3, 3, 5, 6, 8])
    signed = np.array([True, True, False, True, False, False])
    curve = kaplan_meier(durations, signed)
    assert list(curve["step"]) == [2, 3, 5]
    assert list(curve["at_risk"]) == [6, 5, 3]
    assert list(curve["events"]) == [1, 1, 1]
    survival = np.array([5 / 6, 4 / 6, 4 / 9])
    assert curve["signed"].to_numpy() == pytest.approx(1 - survival)
    variance = survival**2 * np.cumsum([1 / 30, 1 / 20, 1 / 6])
    half = 1.96 * np.sqrt(variance)
    assert curve["low"].to_numpy() == pytest.approx(np.clip(1 - survival - half, 0, 1))
    assert curve["high"].to_numpy() == pytest.approx(np.clip(1 - survival + half, 0, 1))


def test_kaplan_meier_ties_and_everyone_signing():
    """Two events at one step count together; when every actor signs the curve reaches 1
    (and the Greenwood term of the last step, d / (n (n - d)), is skipped, not inf)."""
    curve = kaplan_meier(np.array([1, 1, 4, 4]), np.array([True, True, True, True]))
    assert list(curve["events"]) == [2, 2]
    assert curve["signed"].to_numpy() == pytest.approx([0.5, 1.0])
    assert np.isfinite(curve[["low", "high"]].to_numpy()).all()


def test_kaplan_meier_without_events_is_empty():
    curve = kaplan_meier(np.array([5, 5, 5]), np.array([False, False, False]))
    assert curve.empty


# --- compare ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def identical():
    """tiny against itself, 4 replications."""
    return compare([TINY, TINY], 4, seed=2, steps=8, backend="serial")


@pytest.fixture(scope="module")
def binding(tiny_spec):
    """tiny against tiny with a more binding call."""
    stricter = with_overrides(tiny_spec, {"proposals.call.bindingness": 0.7})
    return compare([tiny_spec, stricter], 4, seed=2, steps=8, backend="serial")


def test_compare_identical_scenarios_differ_by_exactly_zero(identical):
    """Common random numbers: the same scenario twice gives the same runs, so every paired
    difference is exactly 0 with p = 1 (and Holm-adjusted p = 1)."""
    table = identical.table
    assert identical.labels == ["tiny", "tiny#2"]
    other = table[table["scenario"] == "tiny#2"]
    assert len(other) and (other["diff"] == 0).all()
    assert (other["diff_low"] == 0).all() and (other["diff_high"] == 0).all()
    assert (other["p"] == 1).all() and (other["p_holm"] == 1).all()
    assert (other["d_z"] == 0).all()
    assert (table["runs"] == 4).all()
    reference = table[table["scenario"] == "tiny"]
    assert reference["diff"].isna().all()  # the reference has no difference from itself
    first, second = (identical.metrics[identical.metrics["scenario"] == s]
                     .drop(columns="scenario").reset_index(drop=True)
                     for s in identical.labels)
    pd.testing.assert_frame_equal(first, second)


def test_compare_uses_the_same_seeds_for_every_scenario(binding):
    """Replicate r of every scenario runs on seed derive_seed(seed, "", r)."""
    assert binding.seeds == [derive_seed(2, "", r) for r in range(4)]
    seeds = binding.metrics.groupby(["scenario", "replicate"])["seed"].unique()
    for (_, replicate), values in seeds.items():
        assert list(values) == [binding.seeds[replicate]]


def test_compare_table_has_every_outcome_with_p_holm(binding):
    """One row per scenario, proposal, outcome and time point, runs == reps; the second
    scenario's rows carry paired differences and p_holm = holm(p) within each family (one
    outcome at one time point)."""
    table = binding.table
    assert set(OUTCOMES) <= set(table["metric"])
    assert {"joined_EEE"} <= set(table["metric"])
    assert set(table["at"]) == {"2020-01-06", "2020-02-03", "end"}
    assert (table["runs"] == 4).all()
    assert set(table["scenario"]) == {"tiny", "tiny#2"}
    assert "p_holm" in table
    for _, family in table.groupby(["proposal", "metric", "at"]):
        np.testing.assert_array_equal(family["p_holm"], holm(family["p"].to_numpy(float)))
    row = table[(table["scenario"] == "tiny#2") & (table["metric"] == "signers_state") &
                (table["proposal"] == "call") & (table["at"] == "end")].iloc[0]
    values = binding.metrics[(binding.metrics["metric"] == "signers_state") &
                             (binding.metrics["proposal"] == "call") &
                             (binding.metrics["at"] == "end")]
    pivot = values.pivot(index="replicate", columns="scenario", values="value")
    expected = paired_difference(pivot["tiny"].to_numpy(), pivot["tiny#2"].to_numpy())
    assert row["diff"] == pytest.approx(expected["diff"])
    assert row["mean"] == pytest.approx(pivot["tiny#2"].mean())
    assert row["p05"] == pytest.approx(np.percentile(pivot["tiny#2"], 5))


def test_comparison_table_on_hand_data():
    """Two scenarios, three replicates of one outcome."""
    rows = [{"scenario": s, "replicate": r, "proposal": "x", "metric": "signers_state",
             "at": "end", "value": v}
            for s, values in (("a", [1.0, 2.0, 3.0]), ("b", [2.0, 4.0, 3.0]))
            for r, v in enumerate(values)]
    table = comparison_table(pd.DataFrame(rows), ["a", "b"])
    a, b = table.iloc[0], table.iloc[1]
    assert (a["scenario"], a["mean"], a["runs"]) == ("a", 2.0, 3)
    assert b["diff"] == pytest.approx(1.0)
    assert b["p"] == pytest.approx(stats.ttest_rel([2.0, 4.0, 3.0], [1.0, 2.0, 3.0]).pvalue)
    assert b["p_holm"] == pytest.approx(b["p"])


def test_time_to_signing_counts_only_eligible_actors(binding, tiny_spec):
    """`code` is open to states only: its curves have only states, and the first step's
    risk set is the six states in each of the four runs. `call` is open to all kinds."""
    curves = binding.time_to_signing
    code = curves[(curves["proposal"] == "code") & (curves["scenario"] == "tiny")]
    assert set(code["kind"]) == {"state"}
    assert code["at_risk"].iloc[0] == 6 * 4
    call = curves[(curves["proposal"] == "call") & (curves["scenario"] == "tiny")]
    assert set(call["kind"]) == {"state", "firm", "civil"}
    states = call[call["kind"] == "state"]
    assert states["at_risk"].iloc[0] == 6 * 4
    assert (np.diff(states["signed"]) >= 0).all()
    assert (curves["signed"].between(0, 1)).all()
    dates = [tiny_spec.timeline.date_of_step(int(s)) for s in states["step"]]
    assert [d.isoformat() for d in states["date"].dt.date] == [d.isoformat() for d in dates]


# --- replication sufficiency ------------------------------------------------------------


def _metrics_of(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"run_id": [f"r{i}" for i in range(len(values))], "proposal": "x",
                         "metric": "signers_state", "at": "end", "value": values})


def test_replication_sufficiency_half_width_shrinks_with_n():
    """The half-width of the mean's 95% CI over the first n runs, for n = 2, 5, 10, 20."""
    values = [0.0, 1.0] * 10
    table = replication_sufficiency(_metrics_of(values))
    assert list(table["replications"]) == [2, 5, 10, 20]
    assert (np.diff(table["half_width"]) < 0).all()
    for row in table.itertuples():
        mean, low, high = mean_interval(np.array(values[:row.replications]))
        assert row.mean == pytest.approx(mean)
        assert row.half_width == pytest.approx((high - low) / 2)
        assert row.relative_half_width == pytest.approx((high - low) / 2 / mean)


def test_replication_sufficiency_sizes_and_filters():
    """Chosen sizes; only the requested time point and outcomes."""
    frame = pd.concat([_metrics_of([1.0, 2.0, 3.0, 4.0]),
                       _metrics_of([9.0] * 4).assign(at="2020-01-06"),
                       _metrics_of([9.0] * 4).assign(metric="not_an_outcome")])
    table = replication_sufficiency(frame, sizes=[3, 4])
    assert list(table["replications"]) == [3, 4]
    assert list(table["mean"]) == [2.0, 2.5]


# --- paper tables -----------------------------------------------------------------------


def test_paper_table_formats_statistics(binding):
    table = paper_table(binding.table)
    assert list(table.columns) == ["Proposal", "Outcome", "Scenario", "Mean [95% CI]",
                                   "90% of runs", "Difference [95% CI]", "d_z", "p (Holm)"]
    assert len(table) == (binding.table["at"] == "end").sum()
    reference = table[table["Scenario"] == "tiny"]
    assert (reference["Difference [95% CI]"] == "").all()
    share = binding.table[(binding.table["metric"] == "share_gdp") &
                          (binding.table["at"] == "end")].iloc[0]
    row = table[(table["Outcome"] == "share_gdp") & (table["Scenario"] == share["scenario"]) &
                (table["Proposal"] == share["proposal"])].iloc[0]
    assert row["Mean [95% CI]"] == (f"{share['mean']:.2f} [{share['ci_low']:.2f}, "
                                    f"{share['ci_high']:.2f}]")


def test_to_markdown_is_a_pipe_table():
    frame = pd.DataFrame({"a": [1, 2], "b_c": ["x", "y"]})
    assert to_markdown(frame) == "| a | b_c |\n|---|---|\n| 1 | x |\n| 2 | y |"


def test_to_latex_is_booktabs_and_escapes():
    """booktabs rules; underscores, %, &, # and < escaped in cells, headers and caption."""
    frame = pd.DataFrame({"Outcome": ["signers_state"], "Scenario": ["tiny#2"],
                          "Mean [95% CI]": ["1 & 2"], "p (Holm)": ["<0.001"]})
    tex = to_latex(frame, "Share_of 100% states", "tab:x_y")
    lines = tex.splitlines()
    assert lines[0] == r"\begin{table}[ht]" and lines[-1] == r"\end{table}"
    assert r"\begin{tabular}{lllr}" in tex
    rules = [line for line in lines if line in (r"\toprule", r"\midrule", r"\bottomrule")]
    assert rules == [r"\toprule", r"\midrule", r"\bottomrule"]
    assert r"\caption{Share\_of 100\% states}" in tex
    assert r"\label{tab:x_y}" in tex
    assert r"Outcome & Scenario & Mean [95\% CI] & p (Holm) \\" in tex
    assert r"signers\_state & tiny\#2 & 1 \& 2 & $<$0.001 \\" in tex


def test_paper_table_to_latex_escapes_every_underscore(binding):
    tex = to_latex(paper_table(binding.table), "Outcomes", "tab:o")
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0]
    assert "signers\\_state" in body
    assert "_" not in body.replace("\\_", "")


# --- command line -----------------------------------------------------------------------


def test_cli_compare_writes_tables_and_figures(tmp_path):
    """`cybernorms compare A B --reps 4 --out DIR --backend serial`: comparison tables in
    md/tex/csv for the end and each checkpoint, metrics, Kaplan-Meier table, and figures
    (adoption, coverage, time to signing, blocs) with captions holding the digests."""
    other = tmp_path / "tiny_binding.yaml"
    other.write_text(f"extends: {TINY}\nmetadata: {{name: tiny_binding}}\n"
                     "proposals: {call: {bindingness: 0.7}}\n")
    out = tmp_path / "out"
    code, stdout, _ = cli("compare", TINY, other, "--reps", 4, "--steps", 8, "--out", out,
                          "--backend", "serial")
    assert code == 0
    assert "2 scenarios x 4 replications on shared seeds" in stdout
    assert "| Proposal | Outcome | Scenario |" in stdout
    for stem in ("table_end", "table_at_2020-01-06", "table_at_2020-02-03"):
        for suffix in ("md", "tex", "csv"):
            assert (out / f"{stem}.{suffix}").stat().st_size > 0
    tex = (out / "table_end.tex").read_text()
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert "signers\\_state" in tex
    table = pd.read_csv(out / "comparison.csv")
    assert (table["runs"] == 4).all() and "p_holm" in table
    assert set(table["scenario"]) == {"tiny", "tiny_binding"}
    assert len(pd.read_parquet(out / "metrics.parquet"))
    assert len(pd.read_csv(out / "time_to_signing.csv"))
    stems = ["adoption_call", "coverage_call", "time_to_signing_call", "blocs_call_tiny",
             "blocs_call_tiny_binding", "adoption_code", "blocs_code_tiny"]
    for stem in stems:
        for suffix in ("png", "svg", "pdf"):
            assert (out / f"{stem}.{suffix}").stat().st_size > 0, stem
        caption = (out / f"{stem}.caption.txt").read_text()
        assert "4 replications" in caption and "tiny_binding" in caption
