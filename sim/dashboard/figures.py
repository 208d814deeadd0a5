"""The dashboard's figures, described once and drawn twice.

A chart is a plain description (panels of lines over model steps, optional bands and a
reference line) built from the tidy `steps` table (`History.table()`). The browser
draws it live (sim/dashboard/chart.vue: a step costs a few kilobytes and no image
rendering); `chart_figure` draws the same description with matplotlib for PNG/SVG
export. Unlike the greyscale paper figures of `sim.outputs.plots`, these are read on screen and
use colour: stances a blue/red pair that colour-blind readers tell apart (ColorBrewer
RdBu), proposals and blocs Paul Tol's qualitative sets.
"""

from __future__ import annotations

import io
from datetime import date

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.plots import band
from sim.scenario.spec import KINDS, ScenarioSpec
from sim.world.arrays import World

#: stance of an actor on a proposal, as coded by `status_codes`
STATUS = ("not eligible", "not yet", "signed", "opposed", "withdrew")
STATUS_COLORS = ("#f4f5f7", "#c9cfd8", "#2166ac", "#d6604d", "#f4a582")
NOT_ELIGIBLE, NOT_YET, SIGNED, OPPOSED, WITHDREW = range(5)
#: Paul Tol's "bright" (proposals, compared scenarios) and "muted" (blocs) sets
PROPOSAL_COLORS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377")
BLOC_COLORS = ("#332288", "#88ccee", "#cc6677", "#ddcc77", "#117733", "#44aa99", "#882255",
               "#999933", "#aa4499")
KIND_TITLES = {"state": "States", "firm": "Firms", "civil": "Civil society"}
TIPPING = {"y": 1 / 3, "label": "tipping point: one third"}


def status_codes(world: World, proposal: int) -> np.ndarray:
    """(N,) stance of every actor on `proposal` now (indices into STATUS)."""
    codes = np.full(world.n_actors, NOT_YET, dtype=np.int8)
    codes[world.withdrawn_step[:, proposal] >= 0] = WITHDREW
    codes[world.opposed[:, proposal]] = OPPOSED
    codes[world.signed[:, proposal]] = SIGNED
    codes[~world.eligible[:, proposal]] = NOT_ELIGIBLE
    return codes


def date_label(day: date) -> str:
    """Dates as analysts write them: 12 Nov 2018."""
    return f"{day.day} {day:%b %Y}"


def step_dates(spec: ScenarioSpec) -> list[str]:
    """Label of every step 0..last (step 0, before the first, shows the start date)."""
    return [date_label(spec.timeline.date_of_step(max(step, 1)))
            for step in range(spec.metadata.steps + 1)]


def time_ticks(spec: ScenarioSpec) -> list[dict]:
    """Axis ticks where a year begins (or a quarter, or a month, for shorter runs)."""
    timeline, last = spec.timeline, spec.metadata.steps
    days = [timeline.date_of_step(step) for step in range(1, last + 1)]
    years = (days[-1] - days[0]).days / 365.25
    months = 12 if years >= 2 else 3 if years >= 0.75 else 1
    ticks, seen = [], set()
    for step, day in enumerate(days, start=1):
        period = (day.year, (day.month - 1) // months)
        if period in seen:
            continue
        seen.add(period)
        if months == 12:
            if step > 1 or day.month == 1:  # a year's label where that year begins
                ticks.append({"x": step, "label": str(day.year)})
        else:
            new_year = step == 1 or day.month <= months
            ticks.append({"x": step, "label": f"{day:%b %y}" if new_year else f"{day:%b}"})
    return ticks


def _axis(spec: ScenarioSpec) -> dict:
    return {"x_min": 1, "x_max": spec.metadata.steps, "ticks": time_ticks(spec),
            "dates": step_dates(spec)}


def _series(frame: pd.DataFrame, column: str) -> tuple[list[int], list[float]]:
    return frame["step"].astype(int).tolist(), np.round(frame[column].to_numpy(float), 4).tolist()


def _line(frame: pd.DataFrame, column: str, label: str, color: str) -> dict:
    x, y = _series(frame, column)
    return {"label": label, "color": color, "x": x, "y": y}


def _by_proposal(steps: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return dict(tuple(steps.groupby("proposal", sort=False))) if len(steps) else {}


def _proposal_color(spec: ScenarioSpec, pid: str) -> str:
    return PROPOSAL_COLORS[list(spec.proposals).index(pid) % len(PROPOSAL_COLORS)]


def signers_chart(steps: pd.DataFrame, spec: ScenarioSpec, totals: dict[str, int]) -> dict:
    """Signatories over time, a panel per kind, a line per proposal open to that kind."""
    mine = _by_proposal(steps)
    panels = []
    for kind in KINDS:
        lines = [_line(mine[pid], f"signers_{kind}", pid, _proposal_color(spec, pid))
                 for pid, proposal in spec.proposals.items()
                 if kind in proposal.open_to and pid in mine]
        top = max([max(line["y"], default=0) for line in lines], default=0)
        total = totals[kind]
        panels.append({
            "title": f"{KIND_TITLES[kind]} signing (of {total:,})",
            "unit": "count",
            "y_max": float(total if kind == "state" else min(total, max(10, top * 1.25))),
            "lines": lines,
            "note": "" if any(kind in p.open_to for p in spec.proposals.values())
            else "no proposal open to them",
        })
    legend = [{"label": pid, "color": _proposal_color(spec, pid)} for pid in spec.proposals]
    return {**_axis(spec), "title": "Signatories over time", "panels": panels,
            "legend": legend if len(spec.proposals) > 1 else []}


def coverage_chart(steps: pd.DataFrame, spec: ScenarioSpec) -> dict:
    """Share of UN member states and of world GDP that signed, with the one-third line."""
    mine = _by_proposal(steps)
    panels = []
    for column, title in (("share_states", "Share of UN member states"),
                          ("share_gdp", "Share of world GDP (2018)")):
        lines = [_line(mine[pid], column, pid, _proposal_color(spec, pid))
                 for pid, proposal in spec.proposals.items()
                 if "state" in proposal.open_to and pid in mine]
        panels.append({"title": title, "unit": "share", "y_max": 1.0, "lines": lines,
                       "hline": TIPPING})
    legend = [{"label": pid, "color": _proposal_color(spec, pid)} for pid in spec.proposals
              if "state" in spec.proposals[pid].open_to]
    return {**_axis(spec), "title": "Coverage", "panels": panels,
            "legend": legend if len(legend) > 1 else []}


def bloc_chart(steps: pd.DataFrame, spec: ScenarioSpec, bloc_sizes: dict[str, int]) -> dict:
    """State signatories per bloc, a panel per proposal open to states."""
    mine = _by_proposal(steps)
    proposals = [pid for pid, p in spec.proposals.items() if "state" in p.open_to]
    panels = []
    for pid in proposals:
        lines = [_line(mine[pid], f"state_signers_{bloc}", spec.blocs[bloc].label or bloc,
                       BLOC_COLORS[b % len(BLOC_COLORS)])
                 for b, bloc in enumerate(bloc_sizes) if pid in mine]
        top = max([max(line["y"], default=0) for line in lines], default=0)
        panels.append({"title": pid if len(proposals) > 1 else "State signatories by bloc",
                       "unit": "count", "lines": lines,
                       "y_max": float(min(max(bloc_sizes.values(), default=1),
                                          max(10, top * 1.25)))})
    legend = [{"label": f"{spec.blocs[bloc].label or bloc} ({size} states)",
               "color": BLOC_COLORS[b % len(BLOC_COLORS)]}
              for b, (bloc, size) in enumerate(bloc_sizes.items())]
    return {**_axis(spec), "title": "State signatories by bloc", "panels": panels,
            "legend": legend}


def compare_charts(runs: dict[str, pd.DataFrame], proposal: str, spec: ScenarioSpec
                   ) -> tuple[dict, dict]:
    """(signatories by kind, coverage) of compared scenarios: mean and middle-90% band."""
    colours = dict(zip(runs, PROPOSAL_COLORS, strict=False))
    stats = {label: steps[steps["proposal"] == proposal] for label, steps in runs.items()}

    def panel(column: str, title: str, unit: str) -> dict:
        lines = []
        for label, mine in stats.items():
            if not len(mine):
                continue
            summary = band(mine.assign(date=mine["step"]), column)
            lines.append({"label": label, "color": colours[label],
                          "x": summary.index.astype(int).tolist(),
                          **{key: np.round(summary[name].to_numpy(float), 4).tolist()
                             for key, name in (("y", "mean"), ("low", "low"),
                                               ("high", "high"))}})
        top = max([max(line["high"], default=0) for line in lines], default=0)
        return {"title": title, "unit": unit, "lines": lines,
                "y_max": 1.0 if unit == "share" else float(max(10, top * 1.1)),
                **({"hline": TIPPING} if column == "share_states" else {})}

    legend = [{"label": label, "color": colours[label]} for label in runs]
    signers = {**_axis(spec), "title": f"{proposal}: signatories (mean, middle 90% of runs)",
               "legend": legend,
               "panels": [panel(f"signers_{kind}", f"{KIND_TITLES[kind]} signing", "count")
                          for kind in KINDS]}
    coverage = {**_axis(spec), "title": f"{proposal}: coverage (mean, middle 90% of runs)",
                "legend": legend,
                "panels": [panel("share_states", "Share of UN member states", "share"),
                           panel("share_gdp", "Share of world GDP (2018)", "share")]}
    return signers, coverage


def chart_figure(chart: dict, spec: ScenarioSpec) -> Figure:
    """A chart description drawn with matplotlib (for export as PNG or SVG)."""
    panels = chart["panels"]
    fig = Figure(figsize=(max(4.5, 3.4 * len(panels)), 3.0), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    day = spec.timeline.date_of_step
    for ax, panel in zip(axes, panels, strict=True):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
        ax.grid(True, color="#e9ecf0", linewidth=0.7)
        for line in panel["lines"]:
            dates = [day(x) for x in line["x"]]
            if "low" in line:
                ax.fill_between(dates, line["low"], line["high"], color=line["color"],
                                alpha=0.18, linewidth=0)
            ax.plot(dates, line["y"], color=line["color"], linewidth=1.8, label=line["label"])
        if panel.get("hline"):
            ax.axhline(panel["hline"]["y"], color="#7b8794", linewidth=0.9,
                       linestyle=(0, (4, 3)))
            ax.annotate(panel["hline"]["label"], (0.01, panel["hline"]["y"]),
                        xycoords=("axes fraction", "data"), xytext=(0, 3),
                        textcoords="offset points", fontsize=7.5, color="#616e7c")
        if panel.get("note"):
            ax.text(0.5, 0.5, panel["note"], transform=ax.transAxes, ha="center",
                    fontsize=8, color="#7b8794")
        ax.set_ylim(0, panel["y_max"])
        if panel["unit"] == "share":
            ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_xlim(day(chart["x_min"]), day(chart["x_max"]))
        locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_title(panel["title"], fontsize=9.5, loc="left")
    if any(panel["lines"] for panel in panels) and (chart.get("legend") or len(
            panels[0]["lines"]) > 1):
        handles, labels = axes[0].get_legend_handles_labels()
        if not handles:
            handles, labels = axes[-1].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4),
                   fontsize=8, frameon=False)
    fig.suptitle(f"{chart['title']} ({spec.metadata.name})", fontsize=10, x=0.01, ha="left")
    return fig


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """The figure as PNG (200 dpi) or SVG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=200 if fmt == "png" else None,
                metadata={"Creator": "cybernorms dashboard"} if fmt == "svg" else None)
    return buffer.getvalue()
