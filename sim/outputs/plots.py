"""Figures for papers: adoption curves, bloc curves and coverage, from tidy step tables.

Every figure reads the `steps` table of one or more runs (several runs give a mean
line and a band holding the middle 90% of runs), uses the colour-blind-safe palette
the dashboard uses too (`sim.outputs.palette`), is readable in greyscale (each line
has its own dash pattern and lightness; bands are pale tints of their line), has
labelled axes with units, and is saved as vector (PDF, SVG) and PNG with a caption
file recording what produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.outputs.palette import GRID, bloc_color, series_color, series_dash  # noqa: E402
from sim.runs.store import atomic_path, write_text  # noqa: E402
from sim.scenario.spec import KINDS  # noqa: E402

KIND_LABELS = {"state": "States", "firm": "Firms", "civil": "Civil society"}


def _style(i: int, color: str | None = None) -> dict:
    dash = series_dash(i)
    return {"color": color or series_color(i), "linestyle": (0, dash) if dash else "-",
            "linewidth": 1.4}


def band(steps: pd.DataFrame, column: str, low: float = 5, high: float = 95) -> pd.DataFrame:
    """Per date: mean and the [low, high] percentiles of `column` over runs."""
    grouped = steps.groupby("date")[column]
    return pd.DataFrame({
        "mean": grouped.mean(),
        "low": grouped.quantile(low / 100),
        "high": grouped.quantile(high / 100),
    })


def _plot_band(ax, stats: pd.DataFrame, label: str, i: int, shade: bool,
               color: str | None = None) -> None:
    style = _style(i, color)
    ax.plot(stats.index, stats["mean"], label=label, **style)
    if shade:
        ax.fill_between(stats.index, stats["low"], stats["high"], color=style["color"],
                        alpha=0.18, linewidth=0)


def _dates_axis(ax) -> None:
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=(4, 7, 10)))
    ax.grid(True, color=GRID, linewidth=0.6)


def adoption_curves(runs: dict[str, pd.DataFrame] | pd.DataFrame, proposal: str,
                    targets: pd.DataFrame | None = None):
    """Signers over time by kind, one panel per kind; one line (and band) per scenario.

    `runs` maps a scenario label to its steps table (or is one steps table);
    `targets` (columns kind, date, value) adds observed points as markers.
    """
    runs = {"": runs} if isinstance(runs, pd.DataFrame) else runs
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), constrained_layout=True)
    for ax, kind in zip(axes, KINDS, strict=True):
        for i, (label, steps) in enumerate(runs.items()):
            mine = steps[steps["proposal"] == proposal]
            several = mine["run_id"].nunique() > 1 if "run_id" in mine else False
            _plot_band(ax, band(mine, f"signers_{kind}"), label or "simulated", i, several)
        if targets is not None:
            mine = targets[targets["kind"] == kind]
            ax.plot(pd.to_datetime(mine["date"]), mine["value"], "kD", markersize=5,
                    markerfacecolor="white", label="observed")
        ax.set_title(KIND_LABELS[kind], fontsize=10)
        ax.set_ylabel("signatories (count)")
        _dates_axis(ax)
    axes[0].legend(fontsize=8, frameon=False)
    return fig


def bloc_curves(steps: pd.DataFrame, proposal: str, blocs: Sequence[str]):
    """State signers per bloc over time (mean and 90% band of runs)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4), constrained_layout=True)
    mine = steps[steps["proposal"] == proposal]
    several = mine["run_id"].nunique() > 1
    for i, bloc in enumerate(blocs):
        _plot_band(ax, band(mine, f"state_signers_{bloc}"), bloc, i, several, bloc_color(i))
    ax.set_ylabel("state signatories (count)")
    ax.set_title("State signatories by bloc", fontsize=10)
    _dates_axis(ax)
    if blocs:
        ax.legend(fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "the scenario defines no blocs", transform=ax.transAxes,
                ha="center")
    return fig


def coverage_curves(runs: dict[str, pd.DataFrame] | pd.DataFrame, proposal: str):
    """Share of states and of world GDP covered, with the one-third tipping line."""
    runs = {"": runs} if isinstance(runs, pd.DataFrame) else runs
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), constrained_layout=True, sharey=True)
    for ax, column, title in zip(axes, ("share_states", "share_gdp"),
                                 ("Share of UN member states", "Share of world GDP (2018)"),
                                 strict=True):
        for i, (label, steps) in enumerate(runs.items()):
            mine = steps[steps["proposal"] == proposal]
            _plot_band(ax, band(mine, column), label or "simulated", i,
                       mine["run_id"].nunique() > 1)
        if column == "share_states":
            ax.axhline(1 / 3, color="0.3", linewidth=0.8, linestyle=(0, (1, 2)))
            ax.annotate("tipping point (1/3)", (0.02, 1 / 3 + 0.015),
                        xycoords=("axes fraction", "data"), fontsize=8, color="0.3")
        ax.set_title(title, fontsize=10)
        ax.set_ylim(0, 1)
        _dates_axis(ax)
    axes[0].set_ylabel("share covered (0-1)")
    axes[0].legend(fontsize=8, frameon=False)
    return fig


def time_to_signing_curves(curves: pd.DataFrame, proposal: str):
    """Kaplan-Meier P(signed by date) per kind; one line and 95% band per scenario."""
    mine = curves[curves["proposal"] == proposal] if len(curves) else curves
    kinds = [k for k in KINDS if k in set(mine.get("kind", ()))]
    fig, axes = plt.subplots(1, max(len(kinds), 1), figsize=(3.4 * max(len(kinds), 1), 3.2),
                             constrained_layout=True, squeeze=False)
    if not kinds:  # nobody signed in any run: no event to draw a curve from
        axes[0][0].text(0.5, 0.5, "no actor signed in any run", ha="center",
                        transform=axes[0][0].transAxes)
    for ax, kind in zip(axes[0][:len(kinds)], kinds, strict=True):
        for i, (label, curve) in enumerate(mine[mine["kind"] == kind].groupby("scenario",
                                                                            sort=False)):
            ax.step(curve["date"], curve["signed"], where="post", label=label, **_style(i))
            ax.fill_between(curve["date"], curve["low"], curve["high"], step="post",
                            color=series_color(i), alpha=0.15, linewidth=0)
        ax.set_title(KIND_LABELS[kind], fontsize=10)
        ax.set_ylim(0, 1)
        _dates_axis(ax)
    axes[0][0].set_ylabel("P(signed by date)")
    if kinds:
        axes[0][0].legend(fontsize=8, frameon=False)
    return fig


def sufficiency_curves(table: pd.DataFrame, proposal: str):
    """CI half-width of each outcome against replications (log-log, 1/sqrt(n) guide)."""
    mine = table[table["proposal"] == proposal]
    # an outcome whose mean is 0 has no relative width; where every run agrees it is 0
    shown = mine[np.isfinite(mine["relative_half_width"].to_numpy(float))]
    fig, ax = plt.subplots(figsize=(4.8, 3.4), constrained_layout=True)
    for i, (metric, group) in enumerate(shown.groupby("metric", sort=False)):
        ax.plot(group["replications"], group["relative_half_width"], label=metric, **_style(i))
    ax.set_xscale("log")
    if (shown["relative_half_width"] > 0).any():
        ax.set_yscale("log")
    if shown.empty:
        ax.text(0.5, 0.5, "no outcome varies between runs", transform=ax.transAxes,
                ha="center")
    ax.set_xlabel("replications (runs)")
    ax.set_ylabel("95% CI half-width / mean")
    ax.grid(True, which="both", color=GRID, linewidth=0.6)
    if not shown.empty:
        ax.legend(fontsize=8, frameon=False)
    return fig


def reliability_diagram(tables: dict[str, pd.DataFrame], outcome: str):
    """Observed rate against mean forecast per bin, one line per set of forecasts
    (marker area grows with the share of states in the bin); the diagonal is perfect
    calibration."""
    fig, ax = plt.subplots(figsize=(4.2, 4.2), constrained_layout=True)
    ax.plot([0, 1], [0, 1], color="0.7", linewidth=0.8, linestyle=":", label="perfectly calibrated")
    markers = ["o", "s", "^", "D"]
    for i, (label, table) in enumerate(tables.items()):
        part = table[table["outcome"] == outcome]
        if part.empty:
            continue
        style = _style(i)
        ax.plot(part["mean_forecast"], part["observed_rate"], color=style["color"],
                linestyle=style["linestyle"], linewidth=1.2, label=label)
        share = part["states"] / part["states"].sum()
        ax.scatter(part["mean_forecast"], part["observed_rate"], s=10 + 120 * share,
                   color=style["color"], marker=markers[i % len(markers)], zorder=3)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("forecast probability (mean in bin)")
    ax.set_ylabel("observed share of states (in bin)")
    ax.set_title(outcome, fontsize=9)
    ax.grid(True, color="0.9", linewidth=0.6)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0.0, 0.93))
    return fig


def save_figure(fig, stem: str | Path, caption: str,
                formats: Sequence[str] = ("png", "svg", "pdf")) -> list[Path]:
    """Write the figure in each format (atomically) and `<stem>.caption.txt`."""
    stem = Path(stem)
    written = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=200 if fmt == "png" else None,
                        metadata={"Creator": "cybernorms"} if fmt != "png" else None)
        written.append(path)
    written.append(write_text(stem.with_suffix(".caption.txt"), caption.strip() + "\n"))
    plt.close(fig)
    return written


__all__ = ["adoption_curves", "band", "bloc_curves", "coverage_curves", "reliability_diagram",
           "save_figure",
           "sufficiency_curves", "time_to_signing_curves"]
