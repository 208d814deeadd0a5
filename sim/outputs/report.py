"""Tables and figures for papers, from a comparison, a sweep, a calibration or a sensitivity run.

Every figure is written as PDF, SVG and PNG with a caption file recording what
produced it (experiment or scenario digests, spec hash, replications, seeds);
every table as Markdown, LaTeX (booktabs) and CSV.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.outputs.plots import (
    adoption_curves,
    bloc_curves,
    coverage_curves,
    plt,
    reliability_diagram,
    save_figure,
    time_to_signing_curves,
)
from sim.outputs.tables import paper_table, to_markdown, write_tables
from sim.runs.runner import spec_for
from sim.runs.store import provenance, write_json, write_table, write_text
from sim.studies.comparison import HOLM_FAMILY, Comparison, mean_interval
from sim.studies.experiment import SAMPLED, SENSITIVITY
from sim.studies.results import SweepResult

MAIN = ("signers_state", "signers_firm", "signers_civil", "share_gdp")


# --- comparisons -----------------------------------------------------------------------

def write_comparison(comparison: Comparison, out: str | Path) -> list[Path]:
    out = Path(out)
    reps = len(comparison.seeds)
    digests = ", ".join(f"{label} {spec.digest()[:12]}"
                        for label, spec in zip(comparison.labels, comparison.specs, strict=True))
    provenance = (f"{reps} replications per scenario on shared seeds (common random numbers; "
                  f"first seeds {comparison.seeds[:3]}). Scenario digests: {digests}.")
    write_table(out / "comparison.csv", comparison.table)
    write_table(out / "metrics.parquet", comparison.metrics)
    write_table(out / "time_to_signing.csv", comparison.time_to_signing)
    reference = comparison.labels[0]
    for at in comparison.table["at"].unique():
        name = "end" if at == "end" else f"at_{at}"
        write_tables(paper_table(comparison.table, at), out / f"table_{name}",
                     f"Outcomes {'at the last step' if at == 'end' else f'on {at}'}: mean with "
                     f"95% CI, 90% spread of runs, and paired difference from {reference} "
                     f"(p {HOLM_FAMILY}). {provenance}", f"tab:compare-{name}")
    written = []
    proposals = list(dict.fromkeys(comparison.steps["proposal"]))
    runs = {label: comparison.steps[comparison.steps["scenario"] == label]
            for label in comparison.labels}
    for proposal in proposals:
        if not any(len(f[f["proposal"] == proposal]) for f in runs.values()):
            continue
        present = {k: v for k, v in runs.items() if (v["proposal"] == proposal).any()}
        written += save_figure(adoption_curves(present, proposal), out / f"adoption_{proposal}",
                               f"Signatories of {proposal} by kind: mean and 90% band of runs. "
                               + provenance)
        written += save_figure(coverage_curves(present, proposal), out / f"coverage_{proposal}",
                               f"Share of states and of world GDP covered by {proposal}; dotted "
                               f"line: one third of states (tipping point). " + provenance)
        written += save_figure(time_to_signing_curves(comparison.time_to_signing, proposal),
                               out / f"time_to_signing_{proposal}",
                               f"Time to signing {proposal} (Kaplan-Meier, actors who never "
                               f"sign censored at the last step), 95% Greenwood bands. "
                               + provenance)
        for label, spec in zip(comparison.labels, comparison.specs, strict=True):
            if proposal in spec.proposals:
                written += save_figure(
                    bloc_curves(runs[label], proposal, list(spec.blocs)),
                    out / f"blocs_{proposal}_{label}",
                    f"State signatories of {proposal} by bloc in {label}: mean and 90% band. "
                    + provenance)
    return written


# --- sweeps ----------------------------------------------------------------------------

def point_summary(result: SweepResult, metrics=MAIN, at: str = "end") -> pd.DataFrame:
    """Per design point and metric: mean, 95% CI of the mean, 90% spread of runs."""
    frame = result.metrics[(result.metrics["at"] == at) & result.metrics["metric"].isin(metrics)]
    keys = ["point", "label", *result.parameters, "proposal", "metric"]
    rows = []
    for key, group in frame.groupby(keys, sort=False, dropna=False):
        values = group["value"].to_numpy(float)
        mean, low, high = mean_interval(values)
        finite = values[~np.isnan(values)]
        rows.append({**dict(zip(keys, key, strict=True)), "runs": int(finite.size),
                     "mean": mean, "ci_low": low, "ci_high": high,
                     "p05": np.percentile(finite, 5) if finite.size else math.nan,
                     "p95": np.percentile(finite, 95) if finite.size else math.nan})
    return pd.DataFrame(rows)


def _varying(result: SweepResult) -> list[str]:
    return [p for p in result.parameters if result.points[p].nunique() > 1]


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series)


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


def _heatmap(summary: pd.DataFrame, x: str, y: str, metric: str, proposal: str,
             facet: str | None = None):
    """Mean of `metric` over x by y; with `facet`, one panel per value of a third factor
    (up to four; further factors are averaged)."""
    mine = summary[(summary["metric"] == metric) & (summary["proposal"] == proposal)]
    panels = list(dict.fromkeys(mine[facet]))[:4] if facet else [None]
    grids = [(mine if value is None else mine[mine[facet] == value]).pivot_table(
        index=y, columns=x, values="mean", aggfunc="mean", sort=False) for value in panels]
    rows, cols = grids[0].shape
    fig, axes = plt.subplots(1, len(grids), figsize=(1.6 + 1.0 * cols * len(grids),
                                                     1.4 + 0.6 * rows),
                             constrained_layout=True, squeeze=False, sharey=True)
    values = np.concatenate([g.to_numpy(float).ravel() for g in grids])
    low, high = np.nanmin(values), np.nanmax(values)
    middle = (low + high) / 2
    for ax, grid, value in zip(axes[0], grids, panels, strict=True):
        image = ax.imshow(grid.to_numpy(float), cmap="Greys", aspect="auto", vmin=low,
                          vmax=high)
        ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns], rotation=30,
                      ha="right")
        ax.set_yticks(range(grid.shape[0]), [str(i) for i in grid.index])
        ax.set_xlabel(x.rsplit(".", 1)[-1])
        for (i, j), cell in np.ndenumerate(grid.to_numpy(float)):
            if np.isfinite(cell):
                ax.text(j, i, _number(cell), ha="center", va="center", fontsize=8,
                        color="white" if cell > middle else "black")
        if value is not None:
            ax.set_title(f"{facet.rsplit('.', 1)[-1]} = {value}", fontsize=9)
    axes[0][0].set_ylabel(y.rsplit(".", 1)[-1])
    fig.colorbar(image, ax=axes[0].tolist(), label=f"{metric} (mean)")
    fig.suptitle(f"{proposal}: {metric}", fontsize=10)
    return fig


def _lines(summary: pd.DataFrame, x: str, metric: str, proposal: str):
    mine = summary[(summary["metric"] == metric) & (summary["proposal"] == proposal)]
    numeric = _numeric(mine[x])
    mine = mine.sort_values(x) if numeric else mine
    fig, ax = plt.subplots(figsize=(4.8 if numeric else 1.5 + 0.5 * len(mine), 3.2),
                           constrained_layout=True)
    positions = mine[x].to_numpy(float) if numeric else np.arange(len(mine))
    if numeric:  # a continuous parameter: a band and a line
        ax.fill_between(positions, mine["p05"], mine["p95"], color="0.5", alpha=0.2,
                        linewidth=0, label="90% of runs")
    else:  # separate points: whiskers only, nothing drawn between them
        ax.vlines(positions, mine["p05"], mine["p95"], color="0.7", linewidth=6,
                  label="90% of runs")
    ax.errorbar(positions, mine["mean"], yerr=[mine["mean"] - mine["ci_low"],
                                               mine["ci_high"] - mine["mean"]],
                color="0", marker="o", markersize=3, capsize=2,
                linestyle="-" if numeric else "none", label="mean, 95% CI")
    if not numeric:
        ax.set_xticks(positions, [str(v) for v in mine[x]], rotation=30, ha="right")
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    ax.set_title(proposal, fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(True, color="0.9", linewidth=0.6)
    return fig


def _scatter(result: SweepResult, metric: str, proposal: str, at: str = "end"):
    """Sampled designs: each run against each parameter, with binned means (partial
    dependence by averaging over the other parameters)."""
    frame = result.metrics[(result.metrics["metric"] == metric) &
                           (result.metrics["proposal"] == proposal) & (result.metrics["at"] == at)]
    names = [p for p in _varying(result) if _numeric(result.points[p])]
    cols = min(3, max(len(names), 1))
    rows = math.ceil(len(names) / cols) if names else 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.7 * rows),
                             constrained_layout=True, squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        ax.scatter(frame[name], frame["value"], s=4, color="0.55", alpha=0.6, linewidth=0)
        bins = np.unique(np.quantile(frame[name], np.linspace(0, 1, 9)))
        if len(bins) > 2:
            cut = pd.cut(frame[name], bins, include_lowest=True)
            binned = frame.groupby(cut, observed=True).agg(x=(name, "mean"), y=("value", "mean"))
            ax.plot(binned["x"], binned["y"], color="0", marker="o", markersize=3)
        ax.set_xlabel(name.rsplit(".", 2)[-2] + "." + name.rsplit(".", 1)[-1]
                      if name.count(".") > 1 else name, fontsize=8)
        ax.set_ylabel(metric, fontsize=8)
        ax.grid(True, color="0.9", linewidth=0.6)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    fig.suptitle(f"{proposal}: {metric} against each parameter", fontsize=10)
    return fig


def write_sweep_report(result: SweepResult, out: str | Path | None = None,
                       metrics=MAIN) -> list[Path]:
    """Figures and tables for a finished sweep, chosen by its design."""
    out = Path(out) if out else result.directory / "report"
    experiment = result.experiment
    manifest = result.manifest
    shared = " with common random numbers" if experiment.get("common_random_numbers") else ""
    provenance = (f"Experiment {experiment.get('name')} (spec hash "
                  f"{manifest.get('spec_hash', '?')}), design {experiment.get('design')}, "
                  f"{experiment.get('replications')} replications per point, root seed "
                  f"{experiment.get('seed')}{shared}; model version "
                  f"{manifest.get('model_version', '?')}.")
    summary = point_summary(result, metrics)
    written = []
    write_tables(summary.round(4), out / "summary", "Per design point: mean, 95% CI of the mean "
                 f"and 90% spread of runs at the last step. {provenance}", "tab:sweep")
    varying = _varying(result)
    design = experiment.get("design")
    proposals = list(dict.fromkeys(summary["proposal"])) if len(summary) else []
    for proposal in proposals:
        for metric in metrics:
            if not ((summary["metric"] == metric) & (summary["proposal"] == proposal)).any():
                continue
            stem = out / f"{metric}_{proposal}"
            if design in SAMPLED + SENSITIVITY:
                fig = _scatter(result, metric, proposal)
                caption = "Runs against each parameter, black: binned means."
            elif len(varying) >= 2:
                facet = varying[2] if len(varying) >= 3 else None
                fig = _heatmap(summary, varying[0], varying[1], metric, proposal, facet)
                caption = (f"Mean {metric} over {varying[0]} x {varying[1]}"
                           + (f", one panel per {facet}" if facet else "")
                           + (f" (averaged over {', '.join(varying[3:])})" if varying[3:] else "")
                           + ".")
            else:
                x = varying[0] if varying else "label"
                fig = _lines(summary, x, metric, proposal)
                caption = f"Mean {metric} with 95% CI and 90% spread of runs, by {x}."
            written += save_figure(fig, stem, f"{caption} {provenance}")
    return written


# --- calibration and sensitivity -------------------------------------------------------

def markdown_fit(result: dict) -> str:
    calibration = result["calibration"]
    table = result["fit"]
    lines = [
        f"# Calibration fit: {calibration.name}",
        "",
        f"Targets compiled {calibration.compiled}; scenario `{Path(result['scenario']).name}`; "
        f"{calibration.replications} replications of the best candidate "
        f"(seeds derived from search seed {calibration.search.seed}); loss "
        f"{result['loss']:.2f}.",
        "",
        "| target | value | tolerance | simulated mean | 90% spread of runs | pass | source |",
        "|---|---:|---:|---:|---|:---:|---|",
    ]
    for row in table.itertuples():
        spread = f"{row.p05:.3g} - {row.p95:.3g}"
        lines.append(f"| {row.target} | {row.value:g} | {row.tolerance:g} | "
                     f"{row.simulated_mean:.3g} | {spread} | {'yes' if row.passed else 'no'} | "
                     f"{row.source} |")
    fits = [result[k] for k in ("per_state", "cross_validation") if k in result]
    if fits:
        lines += ["", "# Per-state fit", "", markdown_fit_scores(fits)]
    return "\n".join(lines)


def fit_figure(result: dict):
    """Simulated signers by kind (mean, 90% band) with the count targets as markers."""
    calibration = result["calibration"]
    spec = spec_for(result["scenario"])
    rows = [{"kind": t.metric.removeprefix("signers_"), "value": t.value,
             "date": t.at if isinstance(t.at, date) else spec.timeline.date_of_step(t.at)}
            for t in calibration.targets
            if t.metric and t.metric.startswith("signers_")]
    proposal = next(t.proposal for t in calibration.targets if t.metric)
    return adoption_curves({"simulated (best fit)": result["steps"]}, proposal,
                           targets=pd.DataFrame(rows))


def write_calibration(result: dict, out: str | Path) -> Path:
    out = Path(out)
    calibration = result["calibration"]
    counts = [t for t in calibration.targets if t.metric and t.metric.startswith("signers_")]
    if counts:
        save_figure(fit_figure(result), out / "fit", (
        f"Calibration of {calibration.name}: signatories by kind, mean and 90% band of "
            f"{calibration.replications} runs of the best candidate (seeds "
            f"{result['seeds'][0]}...), observed targets as diamonds. Targets compiled "
            f"{calibration.compiled}."))
    write_text(out / "fit.md", markdown_fit(result) + "\n")
    write_table(out / "fit.csv", result["fit"])
    write_table(out / "search.csv", result["search"])
    write_text(out / "best.yaml", yaml.safe_dump(result["best"], sort_keys=False))
    fits = [result[k] for k in ("per_state", "cross_validation") if k in result]
    if fits:
        write_fit_reports(fits, out / "per_state", f"Targets {calibration.name}; "
                          f"{calibration.replications} runs per forecast.")
    if "cross_validation" in result:
        write_fit_reports([result["cross_validation"]], out / "cross_validation",
                          f"Targets {calibration.name}; each fold forecast by a calibration "
                          "on the other folds.")
        write_table(out / "cross_validation" / "folds.csv", result["folds"])
    write_json(out / "manifest.json", {
        "targets": result["calibration"].name,
        "scenario": str(result["scenario"]),
        "loss": result["loss"],
        "best": result["best"],
        "seeds": result["seeds"],
        **provenance(),
    })
    return out


# --- per-state fit (validate-fit, baseline, cross-validation) --------------------------

FIT_COLUMNS = ("outcome", "group", "states", "balanced_accuracy", "auc", "brier",
               "log_likelihood", "accuracy", "abstainers", "abstainers_predicted")


def markdown_fit_scores(reports) -> str:
    """The scores of several sets of forecasts side by side, one table per source."""
    lines = []
    for fit in reports:
        columns = [c for c in FIT_COLUMNS if c in fit.summary]
        lines += [f"## {fit.label}", "", to_markdown(fit.summary[columns].round(3)), ""]
    return "\n".join(lines)


def write_fit_reports(reports, out: str | Path, caption: str) -> list[Path]:
    """forecasts.csv (per state; the first report's), summary.csv and .md for every
    report, reliability tables and one reliability diagram per signature outcome."""
    out = Path(out)
    written = [write_table(out / "forecasts.csv", reports[0].table)]
    for fit in reports[1:]:
        written.append(write_table(out / f"forecasts_{_slug(fit.label)}.csv", fit.table))
    summary = pd.concat([f.summary.assign(source=f.label) for f in reports], ignore_index=True)
    written.append(write_table(out / "summary.csv", summary))
    written.append(write_text(out / "summary.md", markdown_fit_scores(reports) + "\n"))
    bins = {f.label: f.reliability for f in reports if len(f.reliability)}
    if bins:
        written.append(write_table(out / "reliability.csv", pd.concat(
            [t.assign(source=label) for label, t in bins.items()], ignore_index=True)))
        outcomes = dict.fromkeys(o for t in bins.values() for o in t["outcome"])
        for outcome in outcomes:
            written += save_figure(reliability_diagram(bins, outcome),
                                   out / f"reliability_{_slug(outcome)}",
                                   f"Reliability of per-state forecasts, {outcome}: observed "
                                   f"share of states against mean forecast in ten bins. "
                                   f"{caption}")
    return written


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()


def sensitivity_figure(indices: pd.DataFrame, design: str):
    metrics = list(dict.fromkeys(indices["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 3.6),
                             constrained_layout=True, squeeze=False, sharey=True)
    for ax, metric in zip(axes[0], metrics, strict=True):
        mine = indices[indices["metric"] == metric]
        y = np.arange(len(mine))
        if design == "saltelli":
            ax.barh(y + 0.2, mine["ST"], height=0.4, xerr=mine["ST_conf"], color="0.35",
                    label="total (ST)", capsize=2)
            ax.barh(y - 0.2, mine["S1"], height=0.4, xerr=mine["S1_conf"], color="0.75",
                    label="first order (S1)", capsize=2, hatch="//")
            ax.set_xlabel("Sobol' index")
        else:
            ax.barh(y, mine["mu_star"], xerr=mine["mu_star_conf"], color="0.5", capsize=2,
                    label="mu*")
            ax.set_xlabel("Morris mu* (outcome units)")
        ax.set_yticks(y, list(mine["factor"]), fontsize=8)
        ax.set_title(metric, fontsize=10)
        ax.grid(True, axis="x", color="0.9", linewidth=0.6)
    axes[0][0].legend(fontsize=8, frameon=False)
    return fig


def write_sensitivity(result, out: str | Path) -> None:
    """indices.csv/.md/.tex and a figure (PDF, SVG, PNG) of a `SensitivityResult`."""
    spec, plan, out = result.experiment, result.budget, Path(out)
    shared = " with common random numbers" if spec.common_random_numbers else ""
    caption = (f"{'Sobol first-order and total' if spec.design == 'saltelli' else 'Morris'} "
               f"indices with 95% confidence intervals (bootstrap), {plan['formula']} runs, "
               f"root seed {spec.seed}{shared}; outcome of a point: mean of its replications "
               f"at the last step. Experiment {spec.name}, spec hash "
               f"{result.sweep.manifest.get('spec_hash', '?')}.")
    write_tables(result.indices.round(4), out / "indices", caption, "tab:sensitivity")
    save_figure(sensitivity_figure(result.indices, spec.design), out / "indices", caption)


__all__ = ["markdown_fit", "point_summary", "write_calibration", "write_comparison",
           "write_sensitivity", "write_sweep_report"]
