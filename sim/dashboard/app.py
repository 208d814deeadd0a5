"""The cybernorms dashboard: watch who signs a cyber-norm proposal, and why.

Start it with ``cybernorms dashboard [SCENARIO]`` (or ``solara run sim/dashboard/app.py``). Built
on Mesa's SolaraViz: Mesa's ModelController gives Step, Play/Pause and Reset, and Reset
rebuilds the model from flat keyword arguments (`source` for the NormScenario, `rng` and
dotted overrides for the model) that the controls on the left keep up to date. Model
logic stays in the model; the figures are described in sim/dashboard/figures.py, drawn
live by the browser and exported with matplotlib. See docs/dashboard.md.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import solara
import solara.lab
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from sim.dashboard import controls
from sim.dashboard.compare import Comparison, compare
from sim.dashboard.figures import (
    NOT_ELIGIBLE,
    OPPOSED,
    SIGNED,
    STATUS,
    STATUS_COLORS,
    bloc_chart,
    chart_figure,
    compare_charts,
    coverage_chart,
    date_label,
    figure_bytes,
    signers_chart,
    status_codes,
    step_dates,
)
from sim.dashboard.network_view import HEIGHT, WIDTH, network_figure, network_view
from sim.dashboard.worldmap import map_figure, map_layout
from sim.model import NormDiplomacyModel
from sim.runs.record import actors_table
from sim.runs.runner import run_id
from sim.scenario.spec import KINDS, TERMS, ScenarioSpec

STYLE = """
.cn-kpi { padding: 10px 14px; border-radius: 8px; background: #f5f7fa; min-width: 150px;
  flex: 1 1 150px; }
.cn-kpi-label { font-size: 12px; color: #52606d; text-transform: uppercase;
  letter-spacing: .04em; }
.cn-kpi-value { font-size: 26px; font-weight: 600; color: #1f2933; line-height: 1.25; }
.cn-kpi-sub { font-size: 12.5px; color: #616e7c; }
.cn-muted { color: #616e7c; font-size: 13px; }
.cn-description { font-size: 13.5px; color: #323f4b; line-height: 1.45; }
.cn-term-table { width: 100%; border-collapse: collapse; font-size: 13px; }
.cn-term-table td { padding: 2px 4px; }
.cn-bar-cell { width: 46%; }
.cn-bar { height: 10px; border-radius: 2px; }
.cn-attr-table { width: 100%; font-size: 13px; border-collapse: collapse; }
.cn-attr-table td { padding: 1px 4px; border-bottom: 1px solid #eef1f4; }
.cn-attr-table td:first-child { color: #52606d; }
.cn-section { font-size: 13px; font-weight: 600; color: #323f4b; margin: 10px 0 2px; }
.cn-control-label { font-size: 13px; color: #323f4b; display: flex;
  justify-content: space-between; margin-top: 6px; }
.cn-control-value { font-variant-numeric: tabular-nums; color: #1f2933; font-weight: 600; }
.v-navigation-drawer { width: 380px !important; }
"""


# The Vue components take their data as JSON text: one string is cheap for reacton to
# compare and pass on, where lists of hundreds of dicts are walked item by item.


@solara.component_vue("chart.vue")
def Chart(chart_json: str, height: int = 200):
    """Panels of lines over time (see dashboard_figures)."""


@solara.component_vue("svg.vue")
def ActorView(geometry_json: str, state_json: str, selected: int = -1, note: str = "",
              event_select: Callable[[int], None] | None = None):
    """Actors as coloured shapes; clicking one selects it."""


@solara.component_vue("search.vue")
def ActorSearch(names_json: str, value: int, event_select: Callable[[int], None] | None = None):
    """Find an actor by name among thousands (filtered in the browser)."""


# --- small building blocks -------------------------------------------------------------


@solara.component
def ValueSlider(label: str, value: float, on_value: Callable[[float], None], low: float,
                high: float, step: float = 0.01, integer: bool = False, control: str = ""):
    """A slider whose current value is always visible (analysts compare numbers).

    `control` (default: the label) names it in the page (attribute data-control), for
    tests and for anyone scripting the page.
    """
    shown = f"{int(value)}" if integer else f"{value:.3g}"
    solara.HTML(unsafe_innerHTML=f"<span>{html.escape(label)}</span>"
                f"<span class='cn-control-value'>{shown}</span>", classes=["cn-control-label"])
    solara.v.Slider(v_model=value, min=low, max=high, step=step, dense=True, hide_details=True,
                    on_v_model=lambda v: on_value(int(v) if integer else float(v)),
                    class_="mt-0 pt-0", attributes={"data-control": control or label})


@solara.component
def Kpi(label: str, value: str, sub: str = ""):
    with solara.Div(classes=["cn-kpi"]):
        solara.Div(children=[label], classes=["cn-kpi-label"])
        solara.Div(children=[value], classes=["cn-kpi-value"])
        if sub:
            solara.Div(children=[sub], classes=["cn-kpi-sub"])


def _totals(model: NormDiplomacyModel) -> dict[str, int]:
    return {k: s.stop - s.start for k, s in model.world.slices.items()}


def _bloc_sizes(model: NormDiplomacyModel) -> dict[str, int]:
    blocs = model.world.bloc[model.world.slices["state"]]
    return {bloc: int((blocs == code).sum()) for code, bloc in enumerate(model.world.bloc_ids)}


def _date_line(model: NormDiplomacyModel) -> str:
    if model.steps == 0:
        return f"Before the first step · starts {date_label(model.date)}"
    return f"Week {model.steps} of {model.last_step} · {date_label(model.date)}" \
        if model.spec.metadata.unit == "week" else \
        f"Step {model.steps} of {model.last_step} · {date_label(model.date)}"


# --- the sidebar: scenario, run controls, what to vary ------------------------------------


@solara.component
def ScenarioPicker(source: str, choices: dict[str, str], on_source: Callable[[str], None],
                   spec: ScenarioSpec):
    labels = {path: label for label, path in choices.items()}
    solara.Select("Scenario", value=labels.get(source, source), values=list(choices),
                  on_value=lambda label: on_source(choices[label]))
    solara.HTML(unsafe_innerHTML=html.escape(spec.metadata.description or "(no description)"),
                classes=["cn-description"])


@solara.component
def ProposalControls(base: ScenarioSpec, spec: ScenarioSpec, pid: str,
                     set_override: Callable[[str, object], None]):
    """Inclusiveness, bindingness and scope of one proposal's text."""
    proposal = spec.proposals[pid]
    prefix = f"proposals.{pid}"
    solara.Div(children=["Who may sign (inclusiveness)"], classes=["cn-section"])
    with solara.Row(gap="4px"):
        for kind in KINDS:
            def toggle(checked, kind=kind):
                kinds = set(proposal.open_to) | {kind} if checked else \
                    set(proposal.open_to) - {kind}
                set_override(f"{prefix}.open_to", controls.open_to(sorted(kinds)))
            solara.Checkbox(label=controls.KIND_LABELS[kind], value=kind in proposal.open_to,
                            on_value=toggle)
    ValueSlider("Bindingness (0 = a call, 1 = a treaty)", proposal.bindingness,
                lambda v: set_override(f"{prefix}.bindingness", v), 0.0, 1.0, 0.05,
                control=f"{prefix}.bindingness")
    covered = controls.scope(spec, pid)
    names = {d.replace("_", " "): d for d in spec.dimensions}
    solara.Div(children=["What the text covers (scope)"], classes=["cn-section"])
    solara.SelectMultiple(
        "Dimensions", values=[d.replace("_", " ") for d in covered],
        all_values=list(names),
        on_value=lambda chosen: set_override(
            f"{prefix}.content",
            controls.content_for(spec, pid, [names[c] for c in chosen])),
    )
    with solara.Details("Strength of each commitment (-1 to 1)"):
        for dim in covered:
            ValueSlider(dim.replace("_", " "), proposal.content[dim],
                        lambda v, dim=dim: set_override(
                            f"{prefix}.content",
                            controls.content_for(spec, pid, covered, {dim: v})),
                        -1.0, 1.0, 0.05, control=f"{prefix}.content.{dim}")


@solara.component
def OutreachControls(base: ScenarioSpec, spec: ScenarioSpec, pid: str,
                     set_override: Callable[[str, object], None]):
    """Budget, decay and targets of each of the sponsor's campaigns."""
    campaigns = spec.proposals[pid].outreach
    if not campaigns:
        solara.Text("This proposal has no outreach campaign.", classes=["cn-muted"])
        return
    sponsor = spec.proposals[pid].sponsor or "the sponsor"
    solara.Text(f"Campaigns of {sponsor}: pressure = budget x target weight x "
                f"exp(-decay x steps since start).", classes=["cn-muted"])
    for cid, campaign in campaigns.items():
        key = f"proposals.{pid}.outreach.{cid}"
        start = campaign.start if campaign.start is not None else spec.proposals[pid].launch
        solara.Div(children=[f"{cid.replace('_', ' ')} (from {start})"], classes=["cn-section"])
        ValueSlider("Budget", campaign.budget, lambda v, key=key: set_override(f"{key}.budget", v),
                    0.0, max(3.0, 2 * campaign.budget), 0.01, control=f"{key}.budget")
        ValueSlider("Decay per step", campaign.decay,
                    lambda v, key=key: set_override(f"{key}.decay", v),
                    0.0, max(0.1, 2 * campaign.decay), 0.001, control=f"{key}.decay")
        if cid not in base.proposals[pid].outreach:
            continue
        weights, extra = controls.target_weights(spec, base, pid, cid)
        groups = base.proposals[pid].outreach[cid].targets
        for g, (group, weight) in enumerate(zip(groups, weights, strict=True)):
            def set_weight(v, g=g, cid=cid, weights=weights, extra=extra, key=key):
                changed = list(weights)
                changed[g] = v
                set_override(f"{key}.targets",
                             controls.campaign_targets(base, pid, cid, changed, extra))
            label = controls.describe_target(group.select.model_dump(by_alias=True))
            ValueSlider(f"Target: {label}", weight, set_weight, 0.0, 2.0, 0.05,
                        control=f"{key}.targets.{g}.weight")
        solara.SelectMultiple(
            "Also target the states of these blocs", values=extra,
            all_values=list(spec.blocs),
            on_value=lambda blocs, cid=cid, weights=weights, key=key: set_override(
                f"{key}.targets", controls.campaign_targets(base, pid, cid, weights, blocs)))


@solara.component
def BehaviourControls(spec: ScenarioSpec, set_override: Callable[[str, object], None]):
    """Coefficients of the utility terms, per kind of actor."""
    kind, set_kind = solara.use_state("state")
    solara.ToggleButtonsSingle(value=kind, values=list(KINDS), on_value=set_kind,
                               dense=True)
    behaviour = getattr(spec.behaviour, kind)
    for coefficient in controls.COEFFICIENTS:
        node = behaviour
        for part in coefficient.field.split("."):
            node = getattr(node, part)
        ValueSlider(coefficient.label, float(node),
                    lambda v, c=coefficient: set_override(f"behaviour.{kind}.{c.field}", v),
                    0.0, max(coefficient.high, 2 * float(node)), coefficient.step,
                    control=f"behaviour.{kind}.{coefficient.field}")
    solara.Div(children=["All kinds"], classes=["cn-section"])
    ValueSlider("temperature: noise in decisions", spec.behaviour.temperature,
                lambda v: set_override("behaviour.temperature", v), 0.0, 0.5, 0.005,
                control="behaviour.temperature")


@solara.component
def ChangesList(overrides: dict, seed: int | None, on_revert: Callable[[], None],
                pending: bool, problem: str | None):
    """What differs from the scenario file, and whether Reset still has to apply it."""
    if problem:
        solara.Error(f"Not applied: {problem}", dense=True)
    if pending:
        solara.Warning("Press Reset to run with these settings.", dense=True)
    items = [controls.describe_override(k, v) for k, v in overrides.items()]
    if seed is not None:
        items.append(f"seed {seed}")
    if not items:
        solara.Text("Settings as in the scenario file.", classes=["cn-muted"])
        return
    with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
        for item in items:
            solara.v.Chip(children=[item], small=True, label=True, class_="ma-1")
    solara.Button("Back to the file's settings", text=True, small=True, icon_name="mdi-undo",
                  on_click=on_revert)


# --- the main views ---------------------------------------------------------------------------


@solara.component
def Headline(model: NormDiplomacyModel, pid: str):
    """Where the focus proposal stands now."""
    update_counter.get()
    world, p = model.world, model.world.proposal_ids.index(pid)
    totals = _totals(model)
    signed = [int(world.signed[s, p].sum()) for s in world.slices.values()]
    opposed = int(world.opposed[world.slices["state"], p].sum())
    gdp = model.history.latest("share_gdp", p)
    tipping = -(-totals["state"] // 3)
    steps = model.history.table()
    mine = steps[steps["proposal"] == pid] if len(steps) else steps
    reached = mine[mine["signers_state"] >= tipping] if len(mine) else mine
    with solara.Row(gap="10px", style={"flex-wrap": "wrap"}):
        for kind, count in zip(KINDS, signed, strict=True):
            label = f"{controls.KIND_LABELS[kind]} signed"
            if kind not in model.spec.proposals[pid].open_to:
                Kpi(label, "-", "not eligible")
                continue
            against = f" · {opposed} opposed" if kind == "state" and opposed else ""
            Kpi(label, f"{count:,}", f"of {totals[kind]:,}{against}")
        Kpi("World GDP covered", f"{gdp:.0%}", "by signing states (2018 GDP)")
        Kpi("Tipping point", date_label(reached["date"].iloc[0].date()) if len(reached)
            else "not yet", f"one third = {tipping} states")


@solara.component
def SignersChart(model: NormDiplomacyModel):
    update_counter.get()
    chart = signers_chart(model.history.table(), model.spec, _totals(model))
    Chart(chart_json=json.dumps(chart), height=180)


@solara.component
def CoverageCharts(model: NormDiplomacyModel):
    update_counter.get()
    steps, spec = model.history.table(), model.spec
    coverage = json.dumps(coverage_chart(steps, spec))
    blocs = json.dumps(bloc_chart(steps, spec, _bloc_sizes(model)))
    several = sum("state" in p.open_to for p in spec.proposals.values()) > 1
    # a bloc panel per proposal needs the whole width
    with solara.Column(gap="18px") if several else solara.Columns([7, 5]):
        Chart(chart_json=coverage, height=190)
        Chart(chart_json=blocs, height=190)


def _state_json(world, rows: np.ndarray, p: int) -> str:
    """What changes per step: each shape's stance, when it signed, the legend's counts."""
    codes = status_codes(world, p)
    counts = np.bincount(codes[np.unique(rows)], minlength=len(STATUS))
    codes = codes[rows]
    legend = [{"label": label, "color": colour, "count": int(n)}
              for label, colour, n in zip(STATUS, STATUS_COLORS, counts, strict=True) if n]
    return json.dumps({"status": codes.tolist(), "since": world.signed_step[rows, p].tolist(),
                       "legend": legend})


def _geometry_json(model: NormDiplomacyModel, shapes: list[dict], **svg) -> str:
    """What stays while the model runs: shapes, their labels, the dates of the steps."""
    return json.dumps({"shapes": shapes, "colors": STATUS_COLORS, "labels": STATUS,
                       "step_dates": step_dates(model.spec), **svg})


@solara.component
def WorldView(model: NormDiplomacyModel, pid: str, selected: int,
              on_select: Callable[[int], None]):
    """States on the world map, coloured by their stance on the proposal."""
    update_counter.get()
    world = model.world
    rows, geometry = solara.use_memo(lambda: _map_geometry(model), [world])
    p = world.proposal_ids.index(pid)
    unplaced = map_layout(world).unplaced
    note = "Small states are drawn as circles" + (
        f" · not on the map: {', '.join(world.names[unplaced])}" if unplaced else "")
    ActorView(geometry_json=geometry, state_json=_state_json(world, rows, p),
              selected=selected, note=note, event_select=on_select)


def _map_geometry(model: NormDiplomacyModel) -> tuple[np.ndarray, str]:
    layout, names = map_layout(model.world), model.world.names
    shapes = [{"row": row, "name": names[row], "d": d} for row, d in layout.outlines.items()]
    shapes += [{"row": row, "name": names[row], "x": x, "y": y, "r": 11, "m": "circle"}
               for row, (x, y) in layout.markers.items()]
    rows = np.array([s["row"] for s in shapes])
    return rows, _geometry_json(model, shapes, view_box=layout.view_box,
                                background=layout.background)


@solara.component
def NetworkView(model: NormDiplomacyModel, pid: str, selected: int,
                on_select: Callable[[int], None]):
    """The influence network (states and a sample of firms and organisations)."""
    update_counter.get()
    world = model.world
    rows, geometry, shown = solara.use_memo(lambda: _network_geometry(model), [world])
    p = world.proposal_ids.index(pid)
    note = (f"{shown['firm'][0]} of {shown['firm'][1]:,} firms and {shown['civil'][0]} of "
            f"{shown['civil'][1]:,} organisations shown · ● state ■ firm ▲ civil society")
    ActorView(geometry_json=geometry, state_json=_state_json(world, rows, p),
              selected=selected, note=note, event_select=on_select)


def _network_geometry(model: NormDiplomacyModel) -> tuple[np.ndarray, str, dict]:
    view = network_view(model.world)
    names, marks = model.world.names, ("circle", "square", "triangle")
    order = np.argsort(view.kind == 0, kind="stable")  # states drawn last, on top
    shapes = [{"row": int(view.rows[i]), "name": names[view.rows[i]],
               "x": round(float(view.xy[i, 0]), 1), "y": round(float(view.xy[i, 1]), 1),
               "r": round(float(view.radius[i]), 1), "m": marks[view.kind[i]]} for i in order]
    return view.rows[order], _geometry_json(model, shapes, view_box=f"0 0 {WIDTH:.0f} "
                                            f"{HEIGHT:.0f}", edges=view.edges_path()), view.shown


@solara.component
def Inspector(model: NormDiplomacyModel, pid: str, row: int, on_select: Callable[[int], None]):
    """One actor: who it is, where it stands, and the terms of its utility of signing."""
    update_counter.get()
    world = model.world
    agent = model.actors[row]
    p = world.proposal_ids.index(pid)
    names = solara.use_memo(lambda: json.dumps([f"{n} ({k})" for n, k in zip(
        world.names, np.array(KINDS)[world.kind], strict=True)]), [world])
    ActorSearch(names_json=names, value=row, event_select=on_select)
    code = int(status_codes(world, p)[row])
    since = agent.signed_date[pid]
    bloc = world.spec.blocs[agent.bloc].label if agent.bloc else "no bloc"
    where = "" if agent.kind == "state" else f" · based in {html.escape(agent.home.name)}"
    category = f" · {world.category[row]}" if world.category[row] else ""
    solara.HTML(tag="div", unsafe_innerHTML=(
        f"<div style='font-size:18px;font-weight:600;margin-top:8px'>"
        f"{html.escape(agent.name)}</div>"
        f"<div class='cn-muted'>{controls.KIND_LABELS[agent.kind]}{category}{where} · {bloc}"
        f"</div><div style='margin-top:4px'><span class='cn-dot' style='display:inline-block;"
        f"width:10px;height:10px;border-radius:50%;background:{STATUS_COLORS[code]};"
        f"border:1px solid #9aa5b1'></span> <b>{STATUS[code]}</b>"
        + (f" since {date_label(since)}" if since and code == SIGNED else "") + "</div>"))
    if code != NOT_ELIGIBLE:
        terms = agent.utility_terms(pid)
        solara.HTML(tag="div", unsafe_innerHTML=_terms_table(
            terms, _verdict(sum(terms.values()), agent.threshold,
                            float(world.hysteresis[row]), code == SIGNED)))
    solara.HTML(tag="div", unsafe_innerHTML=_attributes_table(agent))


def _verdict(u: float, theta: float, hysteresis: float, signed: bool) -> str:
    """What the decision rule makes of U now (before the noise of the next decision)."""
    if signed:
        return ("stays: U is above θ minus hysteresis" if u >= theta - hysteresis else
                "may withdraw: U has fallen below θ minus hysteresis")
    if u > theta:
        return "signs when it next reconsiders: U is above θ"
    if u < -theta:
        return "opposes: U is below minus θ"
    return "does not sign yet: U is below θ"


def _terms_table(terms: dict[str, float], verdict: str) -> str:
    total = sum(terms.values())
    scale = max([abs(v) for v in terms.values()] + [abs(total), 1e-9])
    rows = []
    for term in TERMS:
        value = terms[term]
        width = abs(value) / scale * 100
        colour = STATUS_COLORS[SIGNED] if value >= 0 else STATUS_COLORS[OPPOSED]
        left = f"<div class='cn-bar' style='width:{width:.0f}%;background:{colour};" \
               f"margin-left:auto'></div>" if value < 0 else ""
        right = f"<div class='cn-bar' style='width:{width:.0f}%;background:{colour}'></div>" \
            if value > 0 else ""
        rows.append(f"<tr><td>{term}</td><td class='cn-bar-cell'>{left}</td>"
                    f"<td class='cn-bar-cell'>{right}</td>"
                    f"<td style='text-align:right'>{value:+.3f}</td></tr>")
    return (f"<div class='cn-section'>Why: utility of signing U = {total:+.3f}</div>"
            f"<div class='cn-muted'>{verdict} (each decision adds noise)</div>"
            f"<table class='cn-term-table'>{''.join(rows)}</table>")


def _attributes_table(agent) -> str:
    world, row = agent.world, agent.index
    attrs = world.attributes
    rows = []
    if agent.kind == "state":
        for name, label, fmt in (("gdp_usd_2018", "GDP 2018", lambda v: f"US$ {v / 1e9:,.0f} bn"),
                                 ("population_2018", "Population", lambda v: f"{v / 1e6:,.1f} m"),
                                 ("internet_pct_2018", "Internet users", lambda v: f"{v:.0f}%"),
                                 ("freedom_house_2018", "Freedom House", lambda v: f"{v:.0f}/100"),
                                 ("gci_2018", "ITU cybersecurity index", lambda v: f"{v:.2f}")):
            if name in attrs and not np.isnan(attrs[name][row]):
                rows.append((label, fmt(attrs[name][row])))
        rows.append(("Cyber power", f"{agent.cyber_power:.2f}"))
    rows.append(("Weight", f"{agent.weight:,.3g}"))
    rows.append(("Threshold θ", f"{agent.threshold:.3f}"))
    member = ", ".join(agent.memberships) or "none"
    rows.append(("Member of", member))
    body = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return f"<div class='cn-section'>Attributes</div><table class='cn-attr-table'>{body}</table>"


@solara.component
def SignersTable(model: NormDiplomacyModel, pid: str):
    """Who signed the proposal, and when; filter by kind and bloc."""
    update_counter.get()
    kind, set_kind = solara.use_state("all")
    bloc, set_bloc = solara.use_state("all")
    query, set_query = solara.use_state("")
    world = model.world
    p = world.proposal_ids.index(pid)
    rows = np.flatnonzero(world.signed[:, p])
    kinds = np.array(KINDS)[world.kind[rows]]
    bloc_ids = np.array([*world.bloc_ids, ""], dtype=object)[world.bloc[rows]]
    frame = pd.DataFrame({
        "name": world.names[rows],
        "kind": kinds,
        "bloc": bloc_ids,
        "home": world.names[world.home[rows]],
        "sector / type": world.category[rows],
        "signed": [date_label(world.date_of_step(int(s))) for s in world.signed_step[rows, p]],
        "step": world.signed_step[rows, p],
    }).sort_values(["step", "kind", "name"])
    with solara.Row(gap="16px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.ToggleButtonsSingle(value=kind, values=["all", *KINDS], on_value=set_kind,
                                   dense=True)
        solara.Select("Bloc", value=bloc, values=["all", *world.bloc_ids], on_value=set_bloc,
                      style={"max-width": "220px"})
        solara.InputText("Search by name", value=query, on_value=set_query,
                         continuous_update=True, style={"max-width": "260px"})
    if kind != "all":
        frame = frame[frame["kind"] == kind]
    if bloc != "all":
        frame = frame[frame["bloc"] == bloc]
    if query:
        frame = frame[frame["name"].str.contains(query, case=False, regex=False)]
    solara.Text(f"{len(frame):,} signatories of {pid} shown", classes=["cn-muted"])
    solara.DataFrame(frame.reset_index(drop=True), items_per_page=15)


@solara.component
def CompareView(choices: dict[str, str], current: ScenarioSpec, current_label: str):
    """Two scenarios side by side over N replications on shared seeds."""
    options = {f"current settings ({current_label})": None, **choices}
    first, set_first = solara.use_state(next(iter(options)))
    others = [label for label in choices if label != current_label]
    second, set_second = solara.use_state(others[0] if others else next(iter(choices)))
    reps, set_reps = solara.use_state(10)
    root, set_root = solara.use_state(0)
    progress = solara.use_reactive(0.0)
    result = solara.use_reactive(None)
    failure = solara.use_reactive(None)

    def spec_of(label: str) -> ScenarioSpec:
        return current if options[label] is None else controls.file_spec(options[label])

    def work():
        failure.set(None)
        progress.set(0.0)
        try:
            result.set(compare(spec_of(first), spec_of(second), reps, root,
                               labels=(first.split(" (")[0], second),
                               progress=progress.set))
        except Exception as exc:  # shown to the user; a bad pair must not kill the page
            failure.set(f"{type(exc).__name__}: {exc}")

    run = solara.lab.use_task(work, dependencies=None, prefer_threaded=True)

    with solara.Row(gap="16px", style={"align-items": "end", "flex-wrap": "wrap"}):
        solara.Select("Scenario A", value=first, values=list(options), on_value=set_first,
                      style={"min-width": "260px"})
        solara.Select("Scenario B", value=second, values=list(options), on_value=set_second,
                      style={"min-width": "260px"})
        with solara.Div(style={"min-width": "220px"}):
            ValueSlider("Replications (shared seeds)", reps, set_reps, 2, 50, 1, integer=True)
        solara.InputInt("Root seed", value=root, on_value=set_root, style={"max-width": "120px"})
        solara.Button("Run comparison", color="primary", icon_name="mdi-play",
                      on_click=run, disabled=run.pending)
    if run.pending:
        solara.ProgressLinear(value=progress.value * 100)
        solara.Text(f"Running {2 * reps} runs ... {progress.value:.0%}", classes=["cn-muted"])
    if failure.value:
        solara.Error(failure.value)
    if result.value is not None:
        ComparisonResult(result.value)
    elif not run.pending:
        solara.Text("Both scenarios run with the same seeds, replicate by replicate (common "
                    "random numbers), so each replicate gives a paired difference.",
                    classes=["cn-muted"])


@solara.component
def ComparisonResult(comparison: Comparison):
    common = [p for p in comparison.specs[0].proposals if p in comparison.specs[1].proposals]
    pid, set_pid = solara.use_state(common[0] if common else "")
    if not common:
        solara.Warning("The two scenarios share no proposal to compare.")
        return
    if len(common) > 1:
        solara.ToggleButtonsSingle(value=pid, values=common, on_value=set_pid, dense=True)
    longer = max(comparison.specs, key=lambda s: s.metadata.steps)
    signers, coverage = compare_charts(comparison.steps, pid, longer)
    Chart(chart_json=json.dumps(signers), height=200)
    Chart(chart_json=json.dumps(coverage), height=200)
    table = comparison.differences[comparison.differences["proposal"] == pid]
    shown = pd.DataFrame({
        "outcome at the end": table["outcome"],
        comparison.labels[0]: _numbers(table, "mean_a"),
        comparison.labels[1]: _numbers(table, "mean_b"),
        "B - A (mean)": _numbers(table, "difference"),
        "95% CI": [f"[{lo}, {hi}]" for lo, hi in zip(_numbers(table, "ci_low"),
                                                      _numbers(table, "ci_high"), strict=True)],
    })
    solara.Text(f"Outcome differences, paired over {len(comparison.seeds)} shared seeds "
                f"(B - A; 95% Student-t interval):", classes=["cn-section"])
    solara.DataFrame(shown.reset_index(drop=True), items_per_page=10)
    with solara.Row(gap="8px"):
        solara.FileDownload(lambda: comparison.differences.to_csv(index=False).encode(),
                            filename="comparison_differences.csv", label="Differences (CSV)")
        solara.FileDownload(lambda: pd.concat(
            [s.assign(scenario=label) for label, s in comparison.steps.items()]).to_csv(
                index=False).encode(), filename="comparison_steps.csv", label="All steps (CSV)")
        solara.FileDownload(lambda: figure_bytes(chart_figure(signers, longer), "png"),
                            filename=f"compare_{pid}_signers.png", label="Signers (PNG)")
        solara.FileDownload(lambda: figure_bytes(chart_figure(coverage, longer), "svg"),
                            filename=f"compare_{pid}_coverage.svg", label="Coverage (SVG)")


def _numbers(table: pd.DataFrame, column: str) -> list[str]:
    """Shares as percentages, counts with one decimal (means of counts), n/a for NaN."""
    return ["n/a" if np.isnan(value) else f"{value:.1%}" if outcome.startswith("share")
            else f"{value:,.1f}" for outcome, value in zip(table["outcome"], table[column],
                                                             strict=True)]


@solara.component
def ExportView(model: NormDiplomacyModel, pid: str):
    """The figures as PNG/SVG, the run's tables as CSV/Parquet, the scenario as YAML."""
    update_counter.get()
    spec, world = model.spec, model.world
    p = world.proposal_ids.index(pid)
    stem = f"{spec.metadata.name}_seed{model.seed}_step{model.steps}"

    def stamped(frame: pd.DataFrame) -> pd.DataFrame:
        """As `cybernorms run` writes tables: each row with the run id and its seed."""
        frame.insert(0, "seed", np.int64(model.seed))
        frame.insert(0, "run_id", run_id(spec, model.seed))
        return frame

    def steps_table() -> pd.DataFrame:
        return model.history.table()

    figures = {
        "signatories by kind": lambda: chart_figure(
            signers_chart(steps_table(), spec, _totals(model)), spec),
        "coverage of states and GDP": lambda: chart_figure(coverage_chart(steps_table(), spec),
                                                           spec),
        "state signatories by bloc": lambda: chart_figure(
            bloc_chart(steps_table(), spec, _bloc_sizes(model)), spec),
        "world map": lambda: map_figure(world, p, f"{pid}: {_date_line(model)}"),
        "influence network": lambda: network_figure(world, p, f"{pid}: {_date_line(model)}"),
    }
    solara.Text(f"Figures and tables of this run as it stands ({_date_line(model)}). Figures "
                f"for {pid}: PNG at 200 dpi, SVG as vectors. Every table row carries the seed.",
                classes=["cn-muted"])
    with solara.Columns([1, 1]):
        with solara.Card("Figures"):
            for name, make in figures.items():
                with solara.Row(gap="8px", style={"align-items": "center"}):
                    solara.Text(name, style={"min-width": "210px"})
                    for fmt in ("png", "svg"):
                        solara.FileDownload(lambda make=make, fmt=fmt: figure_bytes(make(), fmt),
                                            filename=f"{stem}_{name.replace(' ', '_')}.{fmt}",
                                            label=fmt.upper())
        with solara.Card("Tables"):
            tables = {"steps": lambda: stamped(steps_table()),
                      "actors": lambda: stamped(actors_table(model))}
            for name, make in tables.items():
                with solara.Row(gap="8px", style={"align-items": "center"}):
                    solara.Text(name, style={"min-width": "90px"})
                    solara.FileDownload(lambda make=make: make().to_csv(index=False).encode(),
                                        filename=f"{stem}_{name}.csv", label="CSV")
                    solara.FileDownload(lambda make=make: _parquet(make()),
                                        filename=f"{stem}_{name}.parquet", label="Parquet")
            with solara.Row(gap="8px", style={"align-items": "center"}):
                solara.Text("scenario", style={"min-width": "90px"})
                solara.FileDownload(lambda: spec.to_yaml().encode(),
                                    filename=f"{stem}_scenario.yaml", label="YAML")


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


# --- the page -------------------------------------------------------------------------------


@solara.component
def Page():
    """The page `solara run sim/dashboard/app.py` serves: the scenario named on the command line."""
    first = solara.use_memo(lambda: NormDiplomacyModel(controls.initial_source()), [])
    Dashboard(first)


@solara.component
def Dashboard(model: NormDiplomacyModel | solara.Reactive[NormDiplomacyModel]):
    """The whole dashboard around a model (or a reactive one, which Reset replaces)."""
    model = solara.use_reactive(model)

    def start() -> tuple[str, dict, int | None]:
        first = model.value
        return (controls.source_of(first.spec), dict(first.scenario.overrides),
                first.seed if first.scenario.rng_explicit else None)

    # initial values only: use_reactive follows its argument when that changes
    first_source, first_overrides, first_seed = solara.use_memo(start, [])
    first_params = controls.model_parameters(first_source, first_seed, first_overrides)
    choices = solara.use_memo(lambda: controls.scenario_choices(first_source), [])
    source = solara.use_reactive(first_source)
    overrides = solara.use_reactive(first_overrides)
    seed = solara.use_reactive(first_seed)
    params = solara.use_reactive(solara.use_memo(lambda: first_params, []))
    applied = solara.use_reactive(solara.use_memo(lambda: first_params, []))
    problem = solara.use_reactive(None)
    focus = solara.use_reactive(model.value.world.proposal_ids[0])
    selected = solara.use_reactive(-1)
    tab = solara.use_reactive(0)
    panels = solara.use_reactive([0])
    play_interval = solara.use_reactive(150)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)

    current = model.value
    # whatever rebuilt the model (Reset, a new scenario) applied the parameters of that moment
    solara.use_effect(lambda: applied.set(params.value), [current])
    base = controls.file_spec(source.value)
    spec, _ = controls.validate(source.value, overrides.value)
    pid = focus.value if focus.value in current.world.proposal_ids else \
        current.world.proposal_ids[0]
    p = current.world.proposal_ids.index(pid)
    row = selected.value
    if not 0 <= row < current.world.n_actors:
        sponsor = int(current.world.sponsor[p])
        row = sponsor if sponsor >= 0 else 0

    def apply(new_overrides: dict, new_seed: int | None) -> None:
        checked, why = controls.validate(source.value, new_overrides)
        problem.set(why)
        if checked is None:
            return
        overrides.set(new_overrides)
        seed.set(new_seed)
        params.set(controls.model_parameters(source.value, new_seed, new_overrides))

    def set_override(key: str, value) -> None:
        apply(controls.changed(base, overrides.value, key, value), seed.value)

    def set_seed(value: int | None) -> None:
        apply(overrides.value, None if value in (None, base.metadata.seed) else int(value))

    def open_scenario(path: str) -> None:
        source.set(path)
        overrides.set({})
        seed.set(None)
        problem.set(None)
        params.set(controls.model_parameters(path, None, {}))
        model.set(NormDiplomacyModel(path))
        selected.set(-1)

    solara.Title("cybernorms dashboard")
    solara.Style(STYLE)
    with solara.AppBar():
        solara.AppBarTitle(f"cybernorms · {current.spec.metadata.name}")
        with solara.Div(style={"margin-left": "auto", "font-size": "15px"}):
            StepLabel(current)

    with solara.Sidebar():
        with solara.Card(margin=0, elevation=0):
            ScenarioPicker(source.value, choices, open_scenario, base)
        with solara.Card(margin=0, elevation=0):
            StepLabel(current)
            ModelController(model, model_parameters=params,
                            play_interval=play_interval, render_interval=render_interval,
                            use_threads=use_threads).key(f"controller-{id(current)}")
            ValueSlider("Pause between steps when playing (ms)", play_interval.value,
                        play_interval.set, 0, 1000, 10, integer=True)
            ChangesList(overrides.value, seed.value,
                        lambda: apply({}, None), params.value != applied.value, problem.value)
        if spec is not None:
            with solara.v.ExpansionPanels(multiple=True, v_model=panels.value, accordion=True,
                                          flat=True, on_v_model=panels.set):
                for index, (title, body) in enumerate((
                    (f"Text of {pid}", lambda: ProposalControls(base, spec, pid, set_override)),
                    ("Sponsor outreach", lambda: OutreachControls(base, spec, pid,
                                                                  set_override)),
                    ("Behaviour coefficients", lambda: BehaviourControls(spec, set_override)),
                    ("Run length and seed", lambda: RunControls(spec, seed.value, set_override,
                                                                set_seed)),
                )):
                    with solara.v.ExpansionPanel():
                        solara.v.ExpansionPanelHeader(children=[title])
                        with solara.v.ExpansionPanelContent():
                            if index in panels.value:  # closed panels hold no widgets
                                body()

    with solara.lab.Tabs(value=tab, lazy=True, background_color="transparent"):
        with solara.lab.Tab("Live run", icon_name="mdi-play-circle-outline"):
            if len(current.world.proposal_ids) > 1:
                with solara.Row(style={"align-items": "center"}):
                    solara.Text("Proposal shown and edited:", classes=["cn-muted"])
                    solara.ToggleButtonsSingle(value=pid, values=current.world.proposal_ids,
                                               on_value=focus.set, dense=True)
            LiveRun(current, pid, row, selected.set)
        with solara.lab.Tab("Signatories", icon_name="mdi-table"):
            SignersTable(current, pid)
        with solara.lab.Tab("Compare scenarios", icon_name="mdi-compare-horizontal"):
            CompareView(choices, spec or base, base.metadata.name)
        with solara.lab.Tab("Export", icon_name="mdi-download"):
            ExportView(current, pid)


@solara.component
def StepLabel(model: NormDiplomacyModel):
    update_counter.get()
    solara.Text(_date_line(model), style={"font-weight": "600"}, classes=["cn-step"])


@solara.component
def RunControls(spec: ScenarioSpec, seed: int | None, set_override, set_seed):
    ValueSlider("Steps", spec.metadata.steps,
                lambda v: set_override("metadata.steps", v), 10, max(520, spec.metadata.steps),
                1, integer=True, control="metadata.steps")
    solara.InputInt("Seed", value=spec.metadata.seed if seed is None else seed,
                    on_value=set_seed, continuous_update=True)
    solara.Text("The same seed gives the same run; see the seed in every exported table.",
                classes=["cn-muted"])


@solara.component
def LiveRun(model: NormDiplomacyModel, pid: str, row: int, on_select: Callable[[int], None]):
    view, set_view = solara.use_state("World map")
    Headline(model, pid)
    with solara.Columns([8, 4], gutters_dense=True):
        with solara.Column(gap="12px"):
            with solara.Card(margin=0):
                with solara.Row(style={"align-items": "center"}):
                    solara.Text(f"Stance of each state on {pid}" if view == "World map"
                                else f"Influence network, coloured by stance on {pid}",
                                classes=["cn-section"])
                    solara.v.Spacer()
                    solara.ToggleButtonsSingle(value=view, values=["World map", "Network"],
                                               on_value=set_view, dense=True)
                if view == "World map":
                    WorldView(model, pid, row, on_select)
                else:
                    NetworkView(model, pid, row, on_select)
            with solara.Card(margin=0):
                SignersChart(model)
        with solara.Card(margin=0):
            Inspector(model, pid, row, on_select)
    with solara.Card(margin=0, style={"margin-top": "12px"}):
        CoverageCharts(model)
