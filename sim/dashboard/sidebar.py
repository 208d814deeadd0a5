"""The sidebar: which scenario, Step / Play / Reset and the week shown, and what to vary.

Controls show the scenario's exact values and change the *settings* only when the user
changes a value (sim/dashboard/controls.py turns settings into the smallest set of
overrides); Reset rebuilds the model with them.
"""

from __future__ import annotations

from collections.abc import Callable

import solara

from sim.dashboard import controls
from sim.dashboard.figures import date_label
from sim.dashboard.frames import Frame
from sim.dashboard.widgets import NumberField, ValueSlider, escape
from sim.scenario.spec import KINDS, ScenarioSpec


def week_line(frame: Frame, spec: ScenarioSpec) -> str:
    """"Week 5 of 170 · 10 Dec 2018" (or "Step ..." for other units)."""
    if frame.step == 0:
        return f"Before the first step · starts {date_label(frame.date)}"
    unit = "Week" if spec.metadata.unit == "week" else "Step"
    return f"{unit} {frame.step} of {spec.metadata.steps} · {date_label(frame.date)}"


@solara.component
def ScenarioPicker(source: str, choices: dict[str, str], on_source: Callable[[str], None],
                   spec: ScenarioSpec):
    labels = {path: label for label, path in choices.items()}
    solara.Select("Scenario", value=labels.get(source, source), values=list(choices),
                  on_value=lambda label: on_source(choices[label]))
    solara.HTML(unsafe_innerHTML=escape(spec.metadata.description or "(no description)"),
                classes=["cn-description"])


@solara.component
def PlayControls(spec: ScenarioSpec, playing: bool, error: str | None, shown: Frame,
                 latest: Frame, on_reset: Callable[[], None], on_step: Callable[[], None],
                 on_play: Callable[[], None], on_week: Callable[[int | None], None],
                 pause_ms: int, on_pause_ms: Callable[[int], None]):
    """Reset, Play/Pause, Step; the pause between steps; the week scrubber; the end."""
    finished = latest.finished
    with solara.Row(justify="space-between"):
        solara.Button("Reset", color="primary", on_click=on_reset)
        solara.Button("❚❚" if playing else "▶", color="primary", on_click=on_play,
                      disabled=finished and not playing)
        solara.Button("Step", color="primary", on_click=on_step, disabled=playing or finished)
    ValueSlider("Pause between steps when playing (ms)", pause_ms, on_pause_ms, 0, 1000, 10,
                integer=True, control="pause")
    if latest.step > 0:
        ValueSlider(f"Week shown (0 to {latest.step})",
                    shown.step, lambda week: on_week(None if week >= latest.step else week),
                    0, latest.step, 1, integer=True, control="week")
        if shown.step < latest.step:
            with solara.Row(style={"align-items": "center"}):
                solara.Text(f"Looking back at {date_label(shown.date)}; the run is at week "
                            f"{latest.step}.", classes=["cn-muted"])
                solara.Button("Latest", text=True, small=True, on_click=lambda: on_week(None))
        else:
            solara.Text("Move back to look at an earlier week; Step and Play show the latest.",
                        classes=["cn-muted"])
    if finished:
        solara.Info(f"Run finished: {week_line(latest, spec)}, the scenario's last step. Reset "
                    f"to run again.", dense=True)
    if error:
        solara.Error(error, dense=True)


@solara.component
def ProposalControls(spec: ScenarioSpec, pid: str, set_override: Callable[[str, object], None]):
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
def LengthAndSeed(spec: ScenarioSpec, seed: int | None, set_override, set_seed):
    ValueSlider("Steps", spec.metadata.steps,
                lambda v: set_override("metadata.steps", v), 10, max(520, spec.metadata.steps),
                1, integer=True, control="metadata.steps")
    NumberField(spec.metadata.seed if seed is None else seed, set_seed, integer=True,
                label="Seed", width="180px")
    solara.Text("The same seed gives the same run; see the seed in every exported table.",
                classes=["cn-muted"])


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
        solara.Text("Settings as in the scenario file.", classes=["cn-muted", "cn-no-changes"])
        return
    with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
        for item in items:
            solara.v.Chip(children=[item], small=True, label=True, class_="ma-1 cn-change")
    solara.Button("Back to the file's settings", text=True, small=True, icon_name="mdi-undo",
                  on_click=on_revert)


@solara.component
def SettingsPanels(base: ScenarioSpec, spec: ScenarioSpec, pid: str, seed: int | None,
                   set_override, set_seed, panels: solara.Reactive[list[int]]):
    """The text, the outreach, the behaviour coefficients, run length and seed."""
    with solara.v.ExpansionPanels(multiple=True, v_model=panels.value, accordion=True,
                                  flat=True, on_v_model=panels.set):
        for index, (title, body) in enumerate((
            (f"Text of {pid}", lambda: ProposalControls(spec, pid, set_override)),
            ("Sponsor outreach", lambda: OutreachControls(base, spec, pid, set_override)),
            ("Behaviour coefficients", lambda: BehaviourControls(spec, set_override)),
            ("Run length and seed", lambda: LengthAndSeed(spec, seed, set_override, set_seed)),
        )):
            with solara.v.ExpansionPanel():
                solara.v.ExpansionPanelHeader(children=[title])
                with solara.v.ExpansionPanelContent():
                    if index in panels.value:  # closed panels hold no widgets
                        body()
