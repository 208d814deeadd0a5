"""The dashboard's figures, described once and drawn twice.

A chart is a plain description (panels of lines over model steps with axis titles,
optional bands, a reference line, and marks at the dates of events and campaigns)
built from the tidy `steps` table (`History.table()`). The browser draws it live
(sim/dashboard/chart.vue: a step costs a few kilobytes and no image rendering);
`chart_figure` draws the same description with matplotlib for PNG, SVG and PDF. Colours
come from `sim.outputs.palette`, shared with the paper figures: within a chart a colour
means one thing (a proposal, a bloc or a scenario) and each line also has its own dash
pattern, so the charts read in greyscale.
"""

from __future__ import annotations

import io
import textwrap
from datetime import date

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.outputs.palette import (
    GRID,
    INK,
    MUTED_INK,
    REFERENCE,
    STANCE_COLORS,
    STANCES,
    bloc_color,
    series_color,
    series_dash,
)
from sim.outputs.plots import band
from sim.scenario.spec import KINDS, ScenarioSpec
from sim.world.arrays import World

#: stance of an actor on a proposal, as coded by `status_codes`
STATUS = STANCES
STATUS_COLORS = STANCE_COLORS
NOT_ELIGIBLE, NOT_YET, SIGNED, OPPOSED, WITHDREW = range(5)
KIND_TITLES = {"state": "States", "firm": "Firms", "civil": "Civil society"}
TIPPING = {"y": 1 / 3, "label": "tipping point: one third"}
#: export formats of every figure: bitmap for slides, vectors for papers
FIGURE_FORMATS = ("png", "svg", "pdf")
X_TITLE = "date"


def status_codes(world: World, proposal: int) -> np.ndarray:
    """(N,) stance of every actor on `proposal` (indices into STATUS)."""
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


def time_ticks(spec: ScenarioSpec) -> tuple[list[dict], list[int]]:
    """(labelled ticks, unlabelled minor ticks) of the time axis.

    Years for runs of two years or more (quarters as minor ticks), quarters for
    shorter runs, months below nine months (weeks, for daily steps, as minor ticks).
    """
    timeline, last = spec.timeline, spec.metadata.steps
    days = [timeline.date_of_step(step) for step in range(1, last + 1)]
    years = (days[-1] - days[0]).days / 365.25
    months = 12 if years >= 2 else 3 if years >= 0.75 else 1
    ticks, minor, seen, seen_minor = [], [], set(), set()
    for step, day in enumerate(days, start=1):
        quarter = (day.year, (day.month - 1) // 3)
        if months == 12 and quarter not in seen_minor:
            seen_minor.add(quarter)
            if step > 1 or day.month in (1, 4, 7, 10):
                minor.append(step)
        if months == 1 and spec.metadata.unit == "day" and day.weekday() == 0:
            minor.append(step)
        period = (day.year, (day.month - 1) // months)
        if period in seen:
            continue
        seen.add(period)
        if months == 12:
            if step > 1 or day.month == 1:  # a year's label where that year begins
                ticks.append({"x": step, "label": str(day.year)})
        else:
            new_year = step == 1 or day.month <= months
            ticks.append({"x": step, "label": f"{day:%b %Y}" if new_year else f"{day:%b}"})
    labelled = {tick["x"] for tick in ticks}
    return ticks, [step for step in minor if step not in labelled]


def chart_marks(spec: ScenarioSpec) -> list[dict]:
    """Dated happenings to mark on time charts: launches after the start, campaigns
    that start later than their proposal, forums, UN votes and events."""
    last, marks = spec.metadata.steps, []
    for pid, proposal in spec.proposals.items():
        launch = spec.step_of(proposal.launch)
        if launch > 1:
            marks.append({"x": launch, "label": f"{pid} launched"})
        for cid, campaign in proposal.outreach.items():
            start = launch if campaign.start is None else spec.step_of(campaign.start)
            if start > launch:
                what = "forum" if campaign.convenes and "forum" not in cid else "campaign"
                marks.append({"x": start, "label": f"{cid.replace('_', ' ')} ({what})"})
        if proposal.un_vote is not None:
            marks.append({"x": spec.step_of(proposal.un_vote.at), "label": f"UN vote on {pid}"})
    for eid, event in spec.events.items():
        label = event.description or eid.replace("_", " ")
        marks.append({"x": spec.step_of(event.at),
                      "label": label if len(label) <= 40 else label[:38].rstrip() + "…"})
    return sorted((m for m in marks if 1 <= m["x"] <= last), key=lambda m: m["x"])


_AXES: dict[int, tuple[ScenarioSpec, dict]] = {}


def _axis(spec: ScenarioSpec) -> dict:
    """The time axis of a scenario's charts (kept per spec: a page draws it every step)."""
    kept = _AXES.get(id(spec))
    if kept is None or kept[0] is not spec:
        ticks, minor = time_ticks(spec)
        kept = (spec, {"x_min": 1, "x_max": spec.metadata.steps, "ticks": ticks,
                       "minor": minor, "dates": step_dates(spec), "x_title": X_TITLE,
                       "marks": chart_marks(spec)})
        if len(_AXES) > 32:
            _AXES.clear()
        _AXES[id(spec)] = kept
    return kept[1]


def _series(frame: pd.DataFrame, column: str) -> tuple[list[int], list[float]]:
    return frame["step"].astype(int).tolist(), np.round(frame[column].to_numpy(float), 4).tolist()


def _line(frame: pd.DataFrame, column: str, label: str, index: int, color: str | None = None
          ) -> dict:
    x, y = _series(frame, column)
    return {"label": label, "color": color or series_color(index),
            "dash": list(series_dash(index)), "x": x, "y": y}


def _legend_item(label: str, index: int, color: str | None = None) -> dict:
    return {"label": label, "color": color or series_color(index),
            "dash": list(series_dash(index))}


def _by_proposal(steps: pd.DataFrame) -> dict[str, pd.DataFrame]:
    if not len(steps):
        return {}
    proposals = steps["proposal"].to_numpy()
    if (proposals == proposals[0]).all():  # one proposal (most scenarios): no grouping
        return {proposals[0]: steps}
    return dict(tuple(steps.groupby("proposal", sort=False)))


def _proposal_index(spec: ScenarioSpec, pid: str) -> int:
    return list(spec.proposals).index(pid)


def signers_chart(steps: pd.DataFrame, spec: ScenarioSpec, totals: dict[str, int]) -> dict:
    """Signatories over time, a panel per kind, a line per proposal open to that kind."""
    mine = _by_proposal(steps)
    panels = []
    for kind in KINDS:
        lines = [_line(mine[pid], f"signers_{kind}", pid, _proposal_index(spec, pid))
                 for pid, proposal in spec.proposals.items()
                 if kind in proposal.open_to and pid in mine]
        top = max([max(line["y"], default=0) for line in lines], default=0)
        total = totals[kind]
        panels.append({
            "title": f"{KIND_TITLES[kind]} (of {total:,})",
            "unit": "count", "y_title": "signatories (count)",
            "y_max": float(total if kind == "state" else min(total, max(10, top * 1.25))),
            "lines": lines,
            "note": "" if any(kind in p.open_to for p in spec.proposals.values())
            else "no proposal open to them",
        })
    legend = [_legend_item(pid, i) for i, pid in enumerate(spec.proposals)]
    return {**_axis(spec), "title": "Signatories over time", "panels": panels,
            "legend": legend}


def coverage_chart(steps: pd.DataFrame, spec: ScenarioSpec) -> dict:
    """Share of UN member states and of world GDP that signed, with the one-third line."""
    mine = _by_proposal(steps)
    panels = []
    for column, title, y_title in (
            ("share_states", "UN member states", "share of states (%)"),
            ("share_gdp", "World GDP (2018)", "share of world GDP (%)")):
        lines = [_line(mine[pid], column, pid, _proposal_index(spec, pid))
                 for pid, proposal in spec.proposals.items()
                 if "state" in proposal.open_to and pid in mine]
        panels.append({"title": title, "unit": "share", "y_title": y_title, "y_max": 1.0,
                       "lines": lines, **({"hline": TIPPING} if column == "share_states" else {})})
    legend = [_legend_item(pid, i) for i, pid in enumerate(spec.proposals)
              if "state" in spec.proposals[pid].open_to]
    return {**_axis(spec), "title": "Coverage by signing states", "panels": panels,
            "legend": legend}


def bloc_chart(steps: pd.DataFrame, spec: ScenarioSpec, bloc_sizes: dict[str, int]) -> dict:
    """State signatories per bloc, a panel per proposal open to states."""
    mine = _by_proposal(steps)
    proposals = [pid for pid, p in spec.proposals.items() if "state" in p.open_to]
    blocs = list(spec.blocs)
    panels = []
    for pid in proposals:
        lines = [_line(mine[pid], f"state_signers_{bloc}", spec.blocs[bloc].label or bloc,
                       b, bloc_color(blocs.index(bloc)))
                 for b, bloc in enumerate(bloc_sizes) if pid in mine]
        top = max([max(line["y"], default=0) for line in lines], default=0)
        panels.append({"title": pid if len(proposals) > 1 else "",
                       "unit": "count", "y_title": "state signatories (count)", "lines": lines,
                       "y_max": float(min(max(bloc_sizes.values(), default=1),
                                          max(10, top * 1.25)))})
    legend = [_legend_item(f"{spec.blocs[bloc].label or bloc} ({size})", b,
                           bloc_color(blocs.index(bloc)))
              for b, (bloc, size) in enumerate(bloc_sizes.items())]
    return {**_axis(spec), "title": "State signatories by bloc (states in the bloc)",
            "panels": panels, "legend": legend}


def compare_charts(runs: dict[str, pd.DataFrame], proposal: str, spec: ScenarioSpec
                   ) -> tuple[dict, dict]:
    """(signatories by kind, coverage) of compared scenarios: mean and middle-90% band."""
    index = {label: i for i, label in enumerate(runs)}
    stats = {label: steps[steps["proposal"] == proposal] for label, steps in runs.items()}
    both = " vs ".join(runs)

    def panel(column: str, title: str, unit: str, y_title: str) -> dict:
        lines = []
        for label, mine in stats.items():
            if not len(mine):
                continue
            summary = band(mine.assign(date=mine["step"]), column)
            lines.append({"label": label, "color": series_color(index[label]),
                          "dash": list(series_dash(index[label])),
                          "x": summary.index.astype(int).tolist(),
                          **{key: np.round(summary[name].to_numpy(float), 4).tolist()
                             for key, name in (("y", "mean"), ("low", "low"),
                                               ("high", "high"))}})
        top = max([max(line["high"], default=0) for line in lines], default=0)
        return {"title": title, "unit": unit, "y_title": y_title, "lines": lines,
                "y_max": 1.0 if unit == "share" else float(max(10, top * 1.1)),
                **({"hline": TIPPING} if column == "share_states" else {})}

    legend = [_legend_item(label, i) for label, i in index.items()]
    signers = {**_axis(spec), "legend": legend,
               "title": f"{proposal}, {both}: signatories (mean, middle 90% of runs)",
               "panels": [panel(f"signers_{kind}", KIND_TITLES[kind], "count",
                                "signatories (count)") for kind in KINDS]}
    coverage = {**_axis(spec), "legend": legend,
                "title": f"{proposal}, {both}: coverage (mean, middle 90% of runs)",
                "panels": [panel("share_states", "UN member states", "share",
                                 "share of states (%)"),
                           panel("share_gdp", "World GDP (2018)", "share",
                                 "share of world GDP (%)")]}
    return signers, coverage


def chart_figure(chart: dict, spec: ScenarioSpec, subtitle: str = "") -> Figure:
    """A chart description drawn with matplotlib (for export as PNG, SVG or PDF).

    Laid out so that nothing is clipped: constrained layout, a legend below the panels
    in as many columns as fit the width, and mark labels inside the axes.
    """
    panels = chart["panels"]
    fig = Figure(figsize=(max(5.0, 3.5 * len(panels)), 3.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    day = spec.timeline.date_of_step
    for ax, panel in zip(axes, panels, strict=True):
        _draw_panel(ax, panel, chart, day)
    handles = [_legend_handle(item) for item in chart.get("legend", [])]
    if handles:
        fit_legend(fig, handles)
    fit_title(fig, chart["title"] + (f" · {subtitle}" if subtitle else ""))
    return fig


def _draw_panel(ax, panel: dict, chart: dict, day) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    ax.grid(True, color=GRID, linewidth=0.7)
    for line in panel["lines"]:
        dates = [day(x) for x in line["x"]]
        if "low" in line:
            ax.fill_between(dates, line["low"], line["high"], color=line["color"],
                            alpha=0.18, linewidth=0)
        dash = tuple(line.get("dash") or ())
        ax.plot(dates, line["y"], color=line["color"], linewidth=1.8,
                linestyle=(0, dash) if dash else "-", label=line["label"])
    if panel.get("hline"):
        ax.axhline(panel["hline"]["y"], color=REFERENCE, linewidth=0.9, linestyle=(0, (4, 3)))
        ax.annotate(panel["hline"]["label"], (0.01, panel["hline"]["y"]),
                    xycoords=("axes fraction", "data"), xytext=(0, 3),
                    textcoords="offset points", fontsize=7.5, color=MUTED_INK)
    for n, mark in enumerate(chart.get("marks", [])):
        when = day(mark["x"])
        early = mark["x"] - chart["x_min"] < 0.6 * (chart["x_max"] - chart["x_min"])
        ax.axvline(when, color=REFERENCE, linewidth=0.8, linestyle=(0, (1, 2)))
        ax.annotate(mark["label"], (when, 1), xycoords=("data", "axes fraction"),
                    xytext=(2 if early else -2, -3 - 9 * (n % 3)), textcoords="offset points",
                    fontsize=6.5, color=MUTED_INK, va="top", ha="left" if early else "right")
    if panel.get("note"):
        ax.text(0.5, 0.5, panel["note"], transform=ax.transAxes, ha="center",
                fontsize=8, color=REFERENCE)
    ax.set_ylim(0, panel["y_max"])
    if panel["unit"] == "share":
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlim(day(chart["x_min"]), day(chart["x_max"]))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    ax.set_xlabel(chart.get("x_title", X_TITLE), fontsize=8, color=MUTED_INK)
    ax.set_ylabel(panel.get("y_title", ""), fontsize=8, color=MUTED_INK)
    if panel["title"]:
        ax.set_title(panel["title"], fontsize=9.5, loc="left", color=INK)


def _legend_handle(item: dict) -> Line2D:
    dash = tuple(item.get("dash") or ())
    return Line2D([], [], color=item["color"], linewidth=1.8,
                  linestyle=(0, dash) if dash else "-", label=item["label"])


def fit_legend(fig: Figure, handles: list, **options) -> None:
    """A legend below the panels, in as many columns (at most 4) as fit the figure."""
    renderer = _renderer(fig)
    for ncols in range(min(len(handles), 4), 0, -1):
        legend = fig.legend(handles=handles, loc="outside lower center", ncols=ncols,
                            fontsize=8, frameon=False, **options)
        if legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width or ncols == 1:
            return
        legend.remove()


def _renderer(fig: Figure):
    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    return canvas.get_renderer()


def fit_title(fig: Figure, text: str) -> None:
    """The figure's title, wrapped onto as many lines as it needs to fit the width."""
    renderer = _renderer(fig)
    for width in range(len(text), 19, -4):
        title = fig.suptitle(textwrap.fill(text, width), fontsize=10, x=0.01, ha="left",
                             color=INK)
        if title.get_window_extent(renderer).width <= 0.97 * fig.bbox.width:
            return


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """The figure as PNG (200 dpi), SVG or PDF bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=200 if fmt == "png" else None,
                metadata=None if fmt == "png" else {"Creator": "cybernorms dashboard"})
    return buffer.getvalue()
