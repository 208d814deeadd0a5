"""The cybernorms dashboard: watch who signs a cyber-norm proposal, and why.

Start it with ``cybernorms dashboard [SCENARIO]`` (or ``solara run sim/dashboard/app.py``).
The model on screen is always ``NormDiplomacyModel(source, rng=seed, **overrides)``, the
run ``cybernorms run SOURCE --seed SEED --set PATH=VALUE ...`` reproduces: the controls
change the settings, Reset rebuilds the model with them. A `Player`
(sim/dashboard/player.py) steps it, one step at a time, and every view draws a `Frame`
(a snapshot of a week, sim/dashboard/frames.py), never the model while it steps. The
address of the page names the scenario, overrides, seed and week shown
(sim/dashboard/address.py). Model logic stays in the model; the figures are described
in sim/dashboard/figures.py, drawn live by the browser and exported with matplotlib.
See docs/dashboard.md.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import numpy as np
import solara
import solara.lab

from sim.dashboard import controls
from sim.dashboard.address import View, query_of, view_of
from sim.dashboard.colouring import PROBABILITY, STANCE
from sim.dashboard.compare_view import CompareView, default_choice
from sim.dashboard.export import figure_makers, run_archive, run_stem
from sim.dashboard.figures import FIGURE_FORMATS, date_label, figure_bytes
from sim.dashboard.frames import Frame
from sim.dashboard.jobs import DONE, RUNNING, Job
from sim.dashboard.live import LiveRun, SignersTable, bloc_sizes, colouring_for, kind_totals
from sim.dashboard.player import Player
from sim.dashboard.sidebar import (
    ChangesList,
    PlayControls,
    ScenarioPicker,
    SettingsPanels,
    week_line,
)
from sim.dashboard.texts_view import TextView
from sim.dashboard.widgets import Address, DownloadButton
from sim.errors import InputError
from sim.model import NormDiplomacyModel
from sim.scenario.spec import KINDS

STYLE = """
.cn-kpi { padding: 6px 12px; border-radius: 8px; background: #f5f7fa; min-width: 140px;
  flex: 1 1 140px; }
.cn-kpi-label { font-size: 11.5px; color: #52606d; text-transform: uppercase;
  letter-spacing: .04em; }
.cn-kpi-value { font-size: 22px; font-weight: 600; color: #1f2933; line-height: 1.2; }
.cn-kpi-sub { font-size: 12px; color: #616e7c; }
.cn-muted { color: #616e7c; font-size: 13px; }
.cn-description { font-size: 13.5px; color: #323f4b; line-height: 1.45; }
.cn-actor-name { font-size: 18px; font-weight: 600; margin-top: 8px; }
.cn-term-table { width: 100%; border-collapse: collapse; font-size: 13px; }
.cn-term-table td { padding: 2px 4px; }
.cn-term { cursor: help; }
.cn-term-name { border-bottom: 1px dotted #9aa5b1; }
.cn-bar-cell { width: 40%; }
.cn-bar { height: 10px; border-radius: 2px; }
.cn-attr-table { width: 100%; font-size: 13px; border-collapse: collapse; }
.cn-attr-table td { padding: 1px 4px; border-bottom: 1px solid #eef1f4; }
.cn-attr-table td:first-child { color: #52606d; }
.cn-section { font-size: 13px; font-weight: 600; color: #323f4b; margin: 10px 0 2px; }
.cn-control-label { font-size: 13px; color: #323f4b; }
.cn-exact input { font-variant-numeric: tabular-nums; font-weight: 600; text-align: right; }
.cn-drawer .v-navigation-drawer__content { padding: 8px 12px 24px; }
.cn-drawer .cn-drawer-close.d-flex { display: none !important; }
.cn-map-header .v-select { margin-top: 0; padding-top: 0; }
.cn-live-columns .v-card__text { padding: 8px 12px; }
.cn-main { padding: 8px 12px; }
@media (max-width: 959px) {
  .cn-drawer .cn-drawer-close.d-flex { display: flex !important; }
}
@media (max-width: 600px) {
  .cn-drawer.v-navigation-drawer { width: 86vw !important; }
  .cn-kpi { min-width: 40%; flex-basis: 40%; }
  .cn-main { padding: 6px 4px; }
  .cn-appbar-step { font-size: 12px !important; }
}
"""


@dataclass(frozen=True)
class Opening:
    """The model a page opens with, the week to show, and why the address was not used."""

    model: NormDiplomacyModel
    week: int | None = None
    notice: str | None = None


def opening(query: str | None) -> Opening:
    """The model the page's address asks for, or the command line's scenario."""
    default = controls.initial_source()
    choices = controls.scenario_choices(default)
    view, problem = view_of(query, set(choices))
    if view is not None:
        source = choices[view.scenario]
        spec, why = controls.validate(source, view.overrides)
        if spec is not None:
            return Opening(NormDiplomacyModel(source, rng=view.seed, **view.overrides),
                           view.week)
        problem = f"The settings in the address are not a valid scenario: {why}"
    return Opening(NormDiplomacyModel(default), None, problem)


@solara.component
def Layout(children: list | None = None):
    """The dashboard brings its own app bar and sidebar, so the layout adds nothing."""
    solara.Div(children=children or [])


@solara.component
def Page():
    """The page `solara run sim/dashboard/app.py` serves: the address's view, or the
    scenario named on the command line."""
    router = solara.use_router()
    first = solara.use_memo(lambda: opening(router.search), [])
    Dashboard(first.model, week=first.week, notice=first.notice)


def settings_of(model: NormDiplomacyModel) -> tuple[str, dict, int | None]:
    """(scenario file, overrides, explicit seed or None) a model was built with."""
    return (controls.source_of(model.spec), dict(model.scenario.overrides),
            model.seed if model.scenario.rng_explicit else None)


@solara.component
def Dashboard(model: NormDiplomacyModel | solara.Reactive[NormDiplomacyModel],
              week: int | None = None, notice: str | None = None):
    """The whole dashboard around a model (or a reactive one, which Reset replaces).

    `week` is the week to open at (the model is stepped to it); `notice` says why the
    page's address could not be followed.
    """
    model = solara.use_reactive(model)
    first_source, first_overrides, first_seed = solara.use_memo(
        lambda: settings_of(model.value), [])
    choices = solara.use_memo(lambda: controls.scenario_choices(first_source), [])
    source = solara.use_reactive(first_source)
    overrides = solara.use_reactive(first_overrides)
    seed = solara.use_reactive(first_seed)
    problem = solara.use_reactive(notice)
    focus = solara.use_reactive(model.value.world.proposal_ids[0])
    selected = solara.use_reactive(-1)
    tab = solara.use_reactive(0)
    panels = solara.use_reactive([0])
    pause_ms = solara.use_reactive(150)
    shown_week = solara.use_reactive(None)
    drawer = solara.use_reactive(None)  # None: open on wide screens, closed on phones
    colour_mode = solara.use_reactive(STANCE)
    drawn = solara.use_reactive(None)  # (model, serial, frame) of the latest drawing
    serial = solara.use_memo(itertools.count, [])
    compare_choice = solara.use_reactive(solara.use_memo(
        lambda: default_choice(choices, controls.file_spec(first_source).metadata.name), []))
    compare_job = solara.use_reactive(None)
    compare_revision = solara.use_memo(lambda: solara.reactive(0), [])
    compare_finished = solara.use_reactive(0)
    opened_at = solara.use_ref(week)

    current = model.value

    def make_player() -> Player:
        player = Player(current, lambda frame: drawn.set((current, next(serial), frame)),
                        pause=pause_ms.value / 1000)
        if opened_at.current:  # the address's week: step there (same seed, same numbers)
            for _ in range(min(opened_at.current, current.last_step)):
                player.advance()
            opened_at.current = None
        return player

    player = solara.use_memo(make_player, [current])
    solara.use_effect(lambda: player.close, [player])

    base = controls.file_spec(source.value)
    spec, _ = controls.validate(source.value, overrides.value)
    world = current.world
    pid = focus.value if focus.value in world.proposal_ids else world.proposal_ids[0]
    # while playing, the frame last drawn (the page draws at its own pace); else the latest
    playing_frame = drawn.value[2] if drawn.value and drawn.value[0] is current else None
    latest = playing_frame if player.playing and playing_frame else player.recording.latest
    week_value = shown_week.value
    shown = player.recording.at(week_value) if week_value is not None and \
        week_value < latest.step else latest
    steps = player.recording.steps_until(latest.step)
    history = player.recording.frames[: shown.step + 1]  # the frames up to the week shown
    row = selected.value
    if not 0 <= row < world.n_actors:
        sponsor = int(world.sponsor[world.proposal_ids.index(pid)])
        row = sponsor if sponsor >= 0 else 0
    applied = settings_of(current)
    pending = (source.value, overrides.value, seed.value) != applied

    def apply(new_overrides: dict, new_seed: int | None) -> None:
        checked, why = controls.validate(source.value, new_overrides)
        problem.set(why)
        if checked is None:
            return
        overrides.set(new_overrides)
        seed.set(new_seed)

    def set_override(key: str, value) -> None:
        apply(controls.changed(base, overrides.value, key, value), seed.value)

    def set_seed(value: int | None) -> None:
        apply(overrides.value, None if value in (None, base.metadata.seed) else int(value))

    def rebuild(new_source: str, new_overrides: dict, new_seed: int | None) -> None:
        player.close()
        try:
            rebuilt = NormDiplomacyModel(new_source, rng=new_seed, **new_overrides)
        except InputError as exc:
            problem.set(str(exc))
            return
        shown_week.set(None)
        model.set(rebuilt)

    def reset() -> None:
        rebuild(source.value, overrides.value, seed.value)

    def open_scenario(path: str) -> None:
        source.set(path)
        overrides.set({})
        seed.set(None)
        problem.set(None)
        selected.set(-1)
        rebuild(path, {}, None)

    def step() -> None:
        shown_week.set(None)
        player.step()

    def play_or_pause() -> None:
        if player.playing:
            player.pause_playing()
        else:
            shown_week.set(None)
            player.pause = pause_ms.value / 1000
            player.play()
        drawn.set((current, next(serial), player.recording.latest))

    def set_pause(ms: int) -> None:
        pause_ms.set(ms)
        player.pause = ms / 1000

    def look_at(week: int | None) -> None:
        if week is not None and player.playing:
            player.pause_playing()
        shown_week.set(week)

    def job_changed() -> None:
        compare_revision.set(compare_revision.value + 1)
        running = compare_job.value
        if running is not None and running.state != RUNNING:
            compare_finished.set(compare_finished.value + 1)

    compare_finished.value  # noqa: B018 (the map offers probabilities once a job is done)
    job: Job | None = compare_job.value
    probabilities = solara.use_memo(lambda: _probabilities(job), [job, job and job.state])
    names_json = solara.use_memo(lambda: json.dumps([f"{n} ({k})" for n, k in zip(
        world.names, np.array(KINDS)[world.kind], strict=True)]), [world])
    labels = {path: label for label, path in choices.items()}
    model_source, model_overrides, model_seed = applied
    query = None if player.playing else query_of(View(
        labels.get(model_source, model_source), model_overrides, model_seed,
        shown.step if shown.step else None))

    solara.Title(f"cybernorms · {current.spec.metadata.name}")
    solara.Style(STYLE)
    Address(query=query)
    with solara.v.NavigationDrawer(app=True, clipped=True, v_model=drawer.value,
                                   on_v_model=drawer.set, width=380, mobile_break_point=960,
                                   class_="cn-drawer"):
        with solara.Row(justify="end", classes=["cn-drawer-close"]):
            solara.Button("Close", icon_name="mdi-close", text=True, small=True,
                          on_click=lambda: drawer.set(False))
        with solara.Card(margin=0, elevation=0):
            ScenarioPicker(source.value, choices, open_scenario, base)
        with solara.Card(margin=0, elevation=0):
            solara.Text(week_line(shown, current.spec), style={"font-weight": "600"},
                        classes=["cn-step"])
            PlayControls(current.spec, player.playing, player.error, shown, latest, reset, step,
                         play_or_pause, look_at, pause_ms.value, set_pause)
            ChangesList(overrides.value, seed.value, lambda: apply({}, None), pending,
                        problem.value)
        if spec is not None:
            SettingsPanels(base, spec, pid, seed.value, set_override, set_seed, panels)
    with solara.v.AppBar(app=True, clipped_left=True, color="primary", dark=True, dense=False):
        solara.Button(icon_name="mdi-menu", icon=True, dark=True, classes=["cn-menu"],
                      on_click=lambda: drawer.set(not drawer.value))
        solara.v.ToolbarTitle(children=[f"cybernorms · {current.spec.metadata.name}"])
        solara.v.Spacer()
        solara.Text(week_line(shown, current.spec) + (" · finished" if latest.finished and
                                                        shown is latest else ""),
                    style={"font-weight": "600", "font-size": "15px"},
                    classes=["cn-step", "cn-appbar-step"])
    with (solara.v.Content(), solara.Div(classes=["cn-main"]),
          solara.lab.Tabs(value=tab, lazy=True, background_color="transparent")):
        with solara.lab.Tab("Live run", icon_name="mdi-play-circle-outline"):
            if len(world.proposal_ids) > 1:
                with solara.Row(style={"align-items": "center"}):
                    solara.Text("Proposal shown and edited:", classes=["cn-muted"])
                    solara.ToggleButtonsSingle(value=pid, values=world.proposal_ids,
                                               on_value=focus.set, dense=True)
            LiveRun(world, shown, steps, latest.step, pid, row, selected.set,
                    names_json, probabilities, colour_mode, history)
        with solara.lab.Tab("Signatories", icon_name="mdi-table"):
            SignersTable(shown, pid)
        with solara.lab.Tab("Compare scenarios", icon_name="mdi-compare-horizontal"):
            CompareView(choices, spec or base, base.metadata.name, compare_choice,
                        compare_job, compare_revision,
                        job.result.run_seconds if job is not None and job.state == DONE
                        else None, job_changed)
        with solara.lab.Tab("Export", icon_name="mdi-download"):
            ExportView(player, shown, steps, pid, colour_mode.value, probabilities)
        # last, so the other tabs keep their places (and their addresses)
        with solara.lab.Tab("Text", icon_name="mdi-file-document-edit-outline"):
            TextView(history, pid)


def _probabilities(job: Job | None) -> dict:
    """Colour modes "signing probability: <label>" from a finished comparison."""
    if job is None or job.state != DONE:
        return {}
    comparison = job.result
    return {f"{PROBABILITY}: {label}": (comparison.signing_at_end(label), label,
                                        len(comparison.seeds))
            for label in comparison.labels}


@solara.component
def ExportView(player: Player, frame: Frame, steps, pid: str, mode: str, probabilities: dict):
    """The run's files as `cybernorms run --out` writes them; the figures as PNG, SVG, PDF."""
    world, spec = frame.world, frame.world.spec
    latest = player.recording.latest
    p = world.proposal_ids.index(pid)
    colouring = colouring_for(mode, world, p, probabilities)
    when = f"{date_label(frame.date)} (week {frame.step})"
    stem = f"{spec.metadata.name}_seed{world.seed}_week{frame.step}"

    def archive() -> bytes:
        record = player.record()
        return run_archive(record, run_stem(record, latest.step))

    with solara.Columns([1, 1], classes=["cn-export"]):
        with solara.Card("This run"):
            solara.Text(f"The run as it stands ({week_line(latest, spec)}): the files "
                        f"`cybernorms run` writes with --out (steps, actors, votes, metrics and "
                        f"every other table of the run record, the manifest and the resolved "
                        f"scenario), zipped. Every table row carries the run id and the seed "
                        f"({world.seed}).", classes=["cn-muted"])
            DownloadButton("Download this run (zip)",
                           f"{spec.metadata.name}_seed{world.seed}_step{latest.step}.zip",
                           archive, "the run's files", mime_type="application/zip")
            if not latest.finished:
                solara.Text(f"Step to the end ({spec.metadata.steps} steps) for the files of "
                            f"the whole run.", classes=["cn-muted"])
        with solara.Card("Figures"):
            solara.Text(f"As the page shows them at {when}; the map and the network coloured "
                        f"by {colouring.title}. PNG at 200 dpi, SVG and PDF as vectors.",
                        classes=["cn-muted"])
            makers = figure_makers(frame, steps, kind_totals(world), bloc_sizes(world), pid,
                                   colouring, when)
            for name, make in makers.items():
                with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
                    solara.Text(name, style={"min-width": "200px"})
                    for fmt in FIGURE_FORMATS:
                        DownloadButton(fmt.upper(), f"{stem}_{name.replace(' ', '_')}.{fmt}",
                                       lambda make=make, fmt=fmt: figure_bytes(make(), fmt),
                                       f"the {name} ({fmt.upper()})")
