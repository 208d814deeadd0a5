"""The "Live run" tab: headline figures, the world map or the network, the inspector and
the time charts, all drawn from one frame (the week shown) of the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import solara

from sim.dashboard import controls
from sim.dashboard.colouring import (
    BLOC,
    PROBABILITY,
    SIGNING_DATE,
    STANCE,
    Colouring,
    by_bloc,
    by_probability,
    by_signing_date,
    by_stance,
)
from sim.dashboard.figures import (
    STATUS,
    STATUS_COLORS,
    bloc_chart,
    coverage_chart,
    date_label,
    signers_chart,
    step_dates,
)
from sim.dashboard.frames import Frame
from sim.dashboard.inspector import Inspector
from sim.dashboard.network_view import HEIGHT, WIDTH, network_view
from sim.dashboard.widgets import ActorView, Chart, Guarded, Kpi
from sim.dashboard.worldmap import map_layout
from sim.scenario.spec import KINDS, ScenarioSpec
from sim.world.arrays import World

WORLD_MAP, NETWORK = "World map", "Network"
ALL_BLOCS = "all blocs"


def kind_totals(world: World) -> dict[str, int]:
    return {k: s.stop - s.start for k, s in world.slices.items()}


def bloc_sizes(world: World) -> dict[str, int]:
    blocs = world.bloc[world.slices["state"]]
    return {bloc: int((blocs == code).sum()) for code, bloc in enumerate(world.bloc_ids)}


def colouring_for(mode: str, world: World, p: int, probabilities: dict) -> Colouring:
    """The colouring named `mode`; PROBABILITY modes are "signing probability: <label>"
    (keys of `probabilities`); an unknown mode colours by stance."""
    if mode == BLOC:
        return by_bloc(world)
    if mode == SIGNING_DATE:
        return by_signing_date(world, p)
    if mode.startswith(PROBABILITY) and mode in probabilities:
        values, label, runs = probabilities[mode]
        return by_probability(world, values.get(world.proposal_ids[p], {}), label, runs)
    return by_stance(world, p)


def _state_json(world: World, colouring: Colouring, rows: np.ndarray, p: int,
                legend_rows: np.ndarray, shown: np.ndarray | None = None,
                dim: np.ndarray | None = None) -> str:
    """What changes per step: fills, stances (tooltips), signing steps, the legend."""
    stance = by_stance(world, p).codes
    return json.dumps({
        "fill": colouring.fill(rows), "status": stance[rows].tolist(),
        "since": world.signed_step[rows, p].tolist(),
        "notes": None if colouring.notes is None else colouring.notes[rows].tolist(),
        "dim": None if dim is None or not dim.any() else dim.tolist(),
        "legend": colouring.legend(legend_rows, shown), "title": colouring.title,
    })


def _geometry_json(spec: ScenarioSpec, shapes: list[dict], **svg) -> str:
    """What stays while the model runs: shapes, their labels, the dates of the steps."""
    return json.dumps({"shapes": shapes, "stance_colors": STATUS_COLORS, "labels": STATUS,
                       "step_dates": step_dates(spec), **svg})


def map_geometry(world: World) -> tuple[np.ndarray, str]:
    layout, names = map_layout(world), world.names
    shapes = [{"row": row, "name": names[row], "d": d} for row, d in layout.outlines.items()]
    shapes += [{"row": row, "name": names[row], "x": x, "y": y, "r": 11, "m": "circle"}
               for row, (x, y) in layout.markers.items()]
    rows = np.array([s["row"] for s in shapes])
    return rows, _geometry_json(world.spec, shapes, view_box=layout.view_box,
                                background=layout.background)


def network_geometry(world: World) -> tuple[np.ndarray, str, dict]:
    view = network_view(world)
    marks = ("circle", "square", "triangle")
    labelled = set(view.labelled().tolist())
    order = np.argsort(view.kind == 0, kind="stable")  # states drawn last, on top
    shapes = []
    for i in order:
        row = int(view.rows[i])
        shape = {"row": row, "name": world.names[row],
                 "x": round(float(view.xy[i, 0]), 1), "y": round(float(view.xy[i, 1]), 1),
                 "r": round(float(view.radius[i]), 1), "m": marks[view.kind[i]]}
        if i in labelled:
            shape["label"] = world.ids[row]
        shapes.append(shape)
    return view.rows[order], _geometry_json(world.spec, shapes, view_box=f"0 0 {WIDTH:.0f} "
                                            f"{HEIGHT:.0f}", edges=view.edges_path()), view.shown


@solara.component
def Headline(frame: Frame, steps: pd.DataFrame, pid: str):
    """Where the focus proposal stands at the week shown."""
    world = frame.world
    p = world.proposal_ids.index(pid)
    totals = kind_totals(world)
    signed = [int(world.signed[s, p].sum()) for s in world.slices.values()]
    opposed = int(world.opposed[world.slices["state"], p].sum())
    tipping = -(-totals["state"] // 3)
    gdp, reached = 0.0, None
    if len(steps):
        mine = (steps["proposal"].to_numpy() == pid) & (steps["step"].to_numpy() <= frame.step)
        shares = steps["share_gdp"].to_numpy()[mine]
        states = steps["signers_state"].to_numpy()[mine]
        gdp = float(shares[-1]) if len(shares) else 0.0
        crossed = np.flatnonzero(states >= tipping)
        reached = steps["date"].to_numpy()[mine][crossed[0]] if len(crossed) else None
    with solara.Row(gap="10px", style={"flex-wrap": "wrap"}, classes=["cn-kpis"]):
        for kind, count in zip(KINDS, signed, strict=True):
            label = f"{controls.KIND_LABELS[kind]} signed"
            if kind not in world.spec.proposals[pid].open_to:
                Kpi(label, "-", "not eligible")
                continue
            against = f" · {opposed} opposed" if kind == "state" and opposed else ""
            Kpi(label, f"{count:,}", f"of {totals[kind]:,}{against}")
        Kpi("World GDP covered", f"{gdp:.0%}", "by signing states")
        Kpi("Tipping point", "not yet" if reached is None else
            date_label(pd.Timestamp(reached).date()), f"one third = {tipping} states")


@solara.component
def WorldView(base: World, frame: Frame, pid: str, selected: int,
              on_select: Callable[[int], None], colouring: Colouring):
    """States on the world map, coloured by `colouring`."""
    rows, geometry = solara.use_memo(lambda: map_geometry(base), [base])
    world = frame.world
    unplaced = map_layout(base).unplaced
    note = "Small states are drawn as circles" + (
        f" · not on the map: {', '.join(base.names[unplaced])}" if unplaced else "")
    states = np.arange(world.slices["state"].start, world.slices["state"].stop)
    ActorView(geometry_json=geometry, state_json=_state_json(
        world, colouring, rows, world.proposal_ids.index(pid), states),
        selected=selected, note=note, event_select=on_select)


@solara.component
def NetworkView(base: World, frame: Frame, pid: str, selected: int,
                on_select: Callable[[int], None], colouring: Colouring):
    """The influence network (states and a sample of firms and organisations)."""
    rows, geometry, shown = solara.use_memo(lambda: network_geometry(base), [base])
    kinds, set_kinds = solara.use_state(list(KINDS))
    bloc, set_bloc = solara.use_state(ALL_BLOCS)
    world = frame.world
    blocs = {ALL_BLOCS: -1, **{(world.spec.blocs[b].label or b): code
                               for code, b in enumerate(world.bloc_ids)}}
    dim = ~np.isin(world.kind[rows], [KINDS.index(k) for k in kinds])
    if blocs.get(bloc, -1) >= 0:
        dim |= world.bloc[rows] != blocs[bloc]
    with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.ToggleButtonsMultiple(value=kinds, values=list(KINDS), on_value=set_kinds,
                                     dense=True, classes=["cn-network-kinds"])
        solara.Select("Bloc", value=bloc, values=list(blocs), on_value=set_bloc, dense=True,
                      style={"max-width": "240px"}, classes=["cn-network-bloc"])
    note = (f"{shown['firm'][0]} of {shown['firm'][1]:,} firms and {shown['civil'][0]} of "
            f"{shown['civil'][1]:,} organisations drawn · ● state ■ firm ▲ civil society · "
            f"counts: all actors (drawn)")
    ActorView(geometry_json=geometry, state_json=_state_json(
        world, colouring, rows, world.proposal_ids.index(pid), np.arange(world.n_actors),
        shown=rows, dim=dim), selected=selected, note=note, event_select=on_select)


@solara.component
def SignersChart(steps: pd.DataFrame, spec: ScenarioSpec, world: World, cursor: int | None):
    chart = signers_chart(steps, spec, kind_totals(world))
    # untitled: it must fit above the fold; its legend and axis titles say what it shows
    Chart(chart_json=json.dumps({**chart, "cursor": cursor}), height=175, titled=False)


@solara.component
def CoverageCharts(steps: pd.DataFrame, spec: ScenarioSpec, world: World, cursor: int | None):
    coverage = json.dumps({**coverage_chart(steps, spec), "cursor": cursor})
    blocs = json.dumps({**bloc_chart(steps, spec, bloc_sizes(world)), "cursor": cursor})
    several = sum("state" in p.open_to for p in spec.proposals.values()) > 1
    # a bloc panel per proposal needs the whole width
    with solara.Column(gap="18px") if several else solara.ColumnsResponsive(12, large=[7, 5]):
        Chart(chart_json=coverage, height=210)
        Chart(chart_json=blocs, height=210)


@solara.component
def LiveRun(base: World, frame: Frame, steps: pd.DataFrame, latest: int, pid: str, row: int,
            on_select: Callable[[int], None], names_json: str, probabilities: dict,
            colour_by: solara.Reactive[str], frames: Sequence[Frame] = ()):
    """The live tab at the week `frame` shows (charts run to `latest`, the cursor marks
    the week shown when it is an earlier one); `frames` up to it feed the inspector's
    interest trajectory."""
    view, set_view = solara.use_state(WORLD_MAP)
    modes = [STANCE, BLOC, SIGNING_DATE, *probabilities]
    mode = colour_by.value if colour_by.value in modes else STANCE
    world, spec = frame.world, frame.world.spec
    p = world.proposal_ids.index(pid)
    cursor = frame.step if frame.step < latest else None
    with Guarded("The headline figures", frame.step):
        Headline(frame, steps, pid)
    # side by side on wide screens (>= 1264 px), stacked below
    with solara.ColumnsResponsive(12, large=[8, 4], gutters_dense=True,
                                  classes=["cn-live-columns"]):
        with solara.Column(gap="12px"):
            with solara.Card(margin=0, classes=["cn-map-card"]):
                with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"},
                                gap="8px", classes=["cn-map-header"]):
                    solara.ToggleButtonsSingle(value=view, values=[WORLD_MAP, NETWORK],
                                               on_value=set_view, dense=True)
                    solara.v.Spacer()
                    solara.v.Select(v_model=mode, items=modes, on_v_model=colour_by.set,
                                    prefix="Colour by:", dense=True, hide_details=True,
                                    style_="max-width: 300px", class_="cn-colour-by")
                colouring = colouring_for(mode, world, p, probabilities)
                with Guarded(f"The {view.lower()}", frame.step):
                    if view == WORLD_MAP:
                        WorldView(base, frame, pid, row, on_select, colouring)
                    else:
                        NetworkView(base, frame, pid, row, on_select, colouring)
            with (solara.Card(margin=0, classes=["cn-signers-card"]),
                  Guarded("The signatories chart", latest)):
                SignersChart(steps, spec, base, cursor)
        with (solara.Card(margin=0, classes=["cn-inspector"]),
              Guarded("The inspector", (frame.step, row))):
            Inspector(world, pid, row, on_select, names_json,
                      f"as of {date_label(frame.date)} (week {frame.step})", frames)
    with (solara.Card(margin=0, style={"margin-top": "12px"}),
          Guarded("The coverage charts", latest)):
        CoverageCharts(steps, spec, base, cursor)


@solara.component
def SignersTable(frame: Frame, pid: str):
    """Who had signed the proposal by the week shown, and when; filter by kind and bloc."""
    kind, set_kind = solara.use_state("all")
    bloc, set_bloc = solara.use_state("all")
    query, set_query = solara.use_state("")
    world = frame.world
    p = world.proposal_ids.index(pid)
    rows = np.flatnonzero(world.signed[:, p])
    kinds = np.array(KINDS)[world.kind[rows]]
    bloc_ids = np.array([*world.bloc_ids, ""], dtype=object)[world.bloc[rows]]
    table = pd.DataFrame({
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
        table = table[table["kind"] == kind]
    if bloc != "all":
        table = table[table["bloc"] == bloc]
    if query:
        table = table[table["name"].str.contains(query, case=False, regex=False)]
    solara.Text(f"{len(table):,} signatories of {pid} by {date_label(frame.date)} "
                f"(week {frame.step})", classes=["cn-muted"])
    # 20 is one of the table's own page sizes, so its pager says what it shows
    solara.DataFrame(table.reset_index(drop=True), items_per_page=20)
