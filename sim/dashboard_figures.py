"""Figures of the dashboard: live curves of one run, mean curves of two compared scenarios.

Unlike the greyscale paper figures of `sim.plots`, these are read on screen, so they use
colour: stances a blue/red pair that colour-blind readers tell apart (ColorBrewer RdBu),
proposals and blocs Paul Tol's qualitative sets. Every function returns a matplotlib
`Figure` (not pyplot, which is not safe in server threads), so the figure shown live is
the one exported as PNG or SVG. All read the tidy `steps` table (`History.table()`).
"""

from __future__ import annotations

import io
from datetime import date

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.plots import band
from sim.scenario import KINDS, ScenarioSpec
from sim.world import World

#: stance of an actor on a proposal, as coded by `status_codes`
STATUS = ("not eligible", "not yet", "signed", "opposed", "withdrew")
STATUS_COLORS = ("#f4f5f7", "#c9cfd8", "#2166ac", "#d6604d", "#f4a582")
NOT_ELIGIBLE, NOT_YET, SIGNED, OPPOSED, WITHDREW = range(5)
#: Paul Tol's "bright" (proposals, compared scenarios) and "muted" (blocs) sets
PROPOSAL_COLORS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377")
BLOC_COLORS = ("#332288", "#88ccee", "#cc6677", "#ddcc77", "#117733", "#44aa99", "#882255",
               "#999933", "#aa4499")
KIND_TITLES = {"state": "States", "firm": "Firms", "civil": "Civil society"}
TIPPING = 1 / 3


def status_codes(world: World, proposal: int) -> np.ndarray:
    """(N,) stance of every actor on `proposal` now (indices into STATUS)."""
    codes = np.full(world.n_actors, NOT_YET, dtype=np.int8)
    codes[world.withdrawn_step[:, proposal] >= 0] = WITHDREW
    codes[world.opposed[:, proposal]] = OPPOSED
    codes[world.signed[:, proposal]] = SIGNED
    codes[~world.eligible[:, proposal]] = NOT_ELIGIBLE
    return codes


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """The figure as PNG (200 dpi) or SVG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=200 if fmt == "png" else None,
                metadata={"Creator": "cybernorms dashboard"} if fmt == "svg" else None)
    return buffer.getvalue()


def _figure(panels: int, height: float = 2.5, width: float = 10.0) -> tuple[Figure, list]:
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
        ax.spines[["left", "bottom"]].set_color("#9aa1ab")
        ax.tick_params(labelsize=8, colors="#4a5260")
        ax.grid(True, color="#e9ecf0", linewidth=0.7)
        ax.set_axisbelow(True)
    return fig, list(axes)


def _time_axis(ax, spec: ScenarioSpec) -> None:
    """The whole run's span, so curves grow from left to right instead of rescaling."""
    first = spec.timeline.date_of_step(1)
    last = spec.timeline.date_of_step(spec.metadata.steps)
    ax.set_xlim(first, last)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _title(ax, text: str) -> None:
    ax.set_title(text, fontsize=9.5, loc="left", color="#1f2933", fontweight="semibold")


def _mine(steps: pd.DataFrame, proposal: str) -> pd.DataFrame:
    return steps[steps["proposal"] == proposal] if len(steps) else steps


def _open_to(spec: ScenarioSpec, kind: str) -> list[str]:
    return [pid for pid, p in spec.proposals.items() if kind in p.open_to]


def signers_figure(steps: pd.DataFrame, spec: ScenarioSpec, n_actors: dict[str, int]) -> Figure:
    """Signatories over time, one panel per kind, one line per proposal open to that kind."""
    fig, axes = _figure(3)
    for ax, kind in zip(axes, KINDS, strict=True):
        for i, pid in enumerate(spec.proposals):
            mine = _mine(steps, pid)
            if kind not in spec.proposals[pid].open_to or not len(mine):
                continue
            colour = PROPOSAL_COLORS[i % len(PROPOSAL_COLORS)]
            ax.plot(mine["date"], mine[f"signers_{kind}"], color=colour, linewidth=1.8,
                    label=pid)
            ax.plot(mine["date"].iloc[-1:], mine[f"signers_{kind}"].iloc[-1:], "o",
                    color=colour, markersize=4)
        if not _open_to(spec, kind):
            ax.text(0.5, 0.5, "no proposal open to them", transform=ax.transAxes,
                    ha="center", va="center", fontsize=8, color="#7b8794")
        total = n_actors[kind]
        _title(ax, f"{KIND_TITLES[kind]} signing (of {total:,})")
        top = max([10] + [_mine(steps, pid)[f"signers_{kind}"].max() for pid in spec.proposals
                          if len(_mine(steps, pid))])
        ax.set_ylim(0, total if kind == "state" else min(total, top * 1.25))
        _time_axis(ax, spec)
    axes[0].set_ylabel("signatories", fontsize=8.5)
    if len(spec.proposals) > 1:
        axes[0].legend(fontsize=7.5, frameon=False, loc="upper left")
    return fig


def coverage_figure(steps: pd.DataFrame, spec: ScenarioSpec) -> Figure:
    """Share of UN member states and of world GDP that signed, with the one-third line."""
    fig, axes = _figure(2)
    for ax, column, title in zip(axes, ("share_states", "share_gdp"),
                                 ("Share of UN member states", "Share of world GDP (2018)"),
                                 strict=True):
        ax.axhline(TIPPING, color="#7b8794", linewidth=0.9, linestyle=(0, (4, 3)))
        ax.annotate("tipping point: one third", (0.01, TIPPING), xycoords=("axes fraction", "data"),
                    xytext=(0, 3), textcoords="offset points", fontsize=7.5, color="#616e7c")
        for i, pid in enumerate(spec.proposals):
            mine = _mine(steps, pid)
            if not len(mine) or "state" not in spec.proposals[pid].open_to:
                continue
            colour = PROPOSAL_COLORS[i % len(PROPOSAL_COLORS)]
            ax.plot(mine["date"], mine[column], color=colour, linewidth=1.8, label=pid)
            ax.plot(mine["date"].iloc[-1:], mine[column].iloc[-1:], "o", color=colour,
                    markersize=4)
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        _title(ax, title)
        _time_axis(ax, spec)
    if len(spec.proposals) > 1:
        axes[0].legend(fontsize=7.5, frameon=False, loc="upper right")
    return fig


def bloc_figure(steps: pd.DataFrame, spec: ScenarioSpec, bloc_sizes: dict[str, int]) -> Figure:
    """State signatories per bloc, one panel per proposal open to states."""
    proposals = _open_to(spec, "state") or list(spec.proposals)
    fig, axes = _figure(len(proposals), width=10.0 if len(proposals) > 1 else 6.0)
    for ax, pid in zip(axes, proposals, strict=True):
        mine = _mine(steps, pid)
        for b, (bloc, size) in enumerate(bloc_sizes.items()):
            if not len(mine):
                break
            label = f"{spec.blocs[bloc].label or bloc} ({size})"
            ax.plot(mine["date"], mine[f"state_signers_{bloc}"], linewidth=1.6, label=label,
                    color=BLOC_COLORS[b % len(BLOC_COLORS)])
        ax.set_ylim(0, max(bloc_sizes.values(), default=1) * 1.05)
        _title(ax, f"State signatories by bloc: {pid}" if len(proposals) > 1
               else "State signatories by bloc")
        _time_axis(ax, spec)
    axes[0].set_ylabel("states", fontsize=8.5)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right center", fontsize=7.5, frameon=False)
    return fig


def compare_figure(runs: dict[str, pd.DataFrame], proposal: str, spec: ScenarioSpec) -> Figure:
    """Mean curves of two scenarios over their replications, with bands of 90% of runs.

    Top row: signatories by kind; bottom row: shares of states and of world GDP.
    """
    fig = Figure(figsize=(10, 4.8), layout="constrained")
    grid = fig.add_gridspec(2, 6)
    axes = [fig.add_subplot(grid[0, 2 * k:2 * k + 2]) for k in range(3)]
    axes += [fig.add_subplot(grid[1, 3 * k:3 * k + 3]) for k in range(2)]
    columns = [f"signers_{kind}" for kind in KINDS] + ["share_states", "share_gdp"]
    titles = [f"{KIND_TITLES[kind]} signing" for kind in KINDS] + [
        "Share of UN member states", "Share of world GDP (2018)"]
    for ax, column, title in zip(axes, columns, titles, strict=True):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
        ax.grid(True, color="#e9ecf0", linewidth=0.7)
        for i, (label, steps) in enumerate(runs.items()):
            mine = _mine(steps, proposal)
            if not len(mine):
                continue
            stats = band(mine, column)
            colour = PROPOSAL_COLORS[i % len(PROPOSAL_COLORS)]
            ax.fill_between(stats.index, stats["low"], stats["high"], color=colour, alpha=0.18,
                            linewidth=0)
            ax.plot(stats.index, stats["mean"], color=colour, linewidth=1.8, label=label)
        if column.startswith("share"):
            ax.axhline(TIPPING, color="#7b8794", linewidth=0.9, linestyle=(0, (4, 3)))
            ax.set_ylim(0, 1)
            ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        else:
            ax.set_ylim(bottom=0)
        _title(ax, title)
        _time_axis(ax, spec)
    axes[0].legend(fontsize=7.5, frameon=False, loc="upper left")
    fig.suptitle(f"{proposal}: mean of replications; bands hold the middle 90% of runs",
                 fontsize=9, color="#52606d", x=0.01, ha="left")
    return fig


def date_label(day: date) -> str:
    """Dates as analysts write them: 12 Nov 2018."""
    return f"{day.day} {day:%b %Y}"
