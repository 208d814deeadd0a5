"""The inspector: one actor, where it stands on a proposal at the week shown, and why.

It reads a frame's World (sim/dashboard/frames.py), so it shows any past week, and
computes the utility terms with `sim.decision.utility_terms` on that frame: the same
numbers the model's agents report (`agent.utility_terms`), without touching the model
while it steps, and whether or not the model has built its Mesa agents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import solara

from sim.dashboard import controls
from sim.dashboard.figures import (
    NOT_ELIGIBLE,
    OPPOSED,
    SIGNED,
    STATUS,
    STATUS_COLORS,
    date_label,
    status_codes,
)
from sim.dashboard.frames import Frame
from sim.dashboard.glossary import meaning
from sim.dashboard.texts_view import trajectory_html
from sim.dashboard.widgets import ActorSearch, escape
from sim.decision import utility_terms
from sim.scenario.spec import KINDS, TERMS
from sim.world.arrays import World

#: what an actor's weight is, per kind (states: the scenario's weight attribute)
WEIGHT_OF = {"firm": "size", "civil": "reach"}


def signed_number(value: float, digits: int = 3) -> str:
    """+0.874, -0.020, and 0.000 for anything that rounds to zero (never -0.000)."""
    rounded = round(value, digits)
    return f"{0.0:.{digits}f}" if rounded == 0 else f"{rounded:+.{digits}f}"


def share_text(share: float) -> str:
    """A share as a percentage with two significant digits (2.9%, 0.012%)."""
    if share <= 0:
        return "0%"
    percent = 100 * share
    return f"{percent:.2g}%" if percent < 10 else f"{percent:.0f}%"


def verdict(u: float, theta: float, hysteresis: float, signed: bool) -> str:
    """What the decision rule makes of U now (before the noise of the next decision)."""
    if signed:
        return ("stays: U is above θ minus hysteresis" if u >= theta - hysteresis else
                "may withdraw: U has fallen below θ minus hysteresis")
    if u > theta:
        return "signs when it next reconsiders: U is above θ"
    if u < -theta:
        return "opposes: U is below minus θ"
    return "does not sign yet: U is below θ"


def terms_table(world: World, row: int, p: int, terms: dict[str, float], verdict_text: str
                ) -> str:
    """Each term's contribution to U as a bar, with its meaning as a tooltip."""
    total = sum(terms.values())
    scale = max([abs(v) for v in terms.values()] + [abs(total), 1e-9])
    rows = []
    for t, term in enumerate(TERMS):
        value = terms[term]
        width = abs(value) / scale * 100
        colour = STATUS_COLORS[SIGNED] if value >= 0 else STATUS_COLORS[OPPOSED]
        left = f"<div class='cn-bar' style='width:{width:.0f}%;background:{colour};" \
               f"margin-left:auto'></div>" if value < 0 else ""
        right = f"<div class='cn-bar' style='width:{width:.0f}%;background:{colour}'></div>" \
            if value > 0 else ""
        coefficient = float(world.coefficients[t, row])
        tip = f"{meaning(term)}. Coefficient {coefficient:g} for this kind of actor."
        rows.append(f"<tr title='{escape(tip)}' class='cn-term' data-term='{term}'>"
                    f"<td><span class='cn-term-name'>{term}</span></td>"
                    f"<td class='cn-bar-cell'>{left}</td><td class='cn-bar-cell'>{right}</td>"
                    f"<td style='text-align:right'>{signed_number(value)}</td></tr>")
    return (f"<div class='cn-section'>Why: utility of signing U = {signed_number(total)}</div>"
            f"<div class='cn-muted'>{verdict_text} (each decision adds noise). Hover a term "
            f"for what it means.</div>"
            f"<table class='cn-term-table'>{''.join(rows)}</table>")


def attributes_table(world: World, row: int) -> str:
    attrs, kind = world.attributes, KINDS[world.kind[row]]
    rows = []
    if kind == "state":
        for name, label, fmt in (("gdp_usd_2018", "GDP 2018", lambda v: f"US$ {v / 1e9:,.0f} bn"),
                                 ("population_2018", "Population", lambda v: f"{v / 1e6:,.1f} m"),
                                 ("internet_pct_2018", "Internet users", lambda v: f"{v:.0f}%"),
                                 ("freedom_house_2018", "Freedom House", lambda v: f"{v:.0f}/100"),
                                 ("gci_2018", "ITU cybersecurity index", lambda v: f"{v:.2f}")):
            if name in attrs and not np.isnan(attrs[name][row]):
                rows.append((label, fmt(attrs[name][row])))
        rows.append(("Cyber power", f"{world.cyber_power[row]:.2f}"))
    k = int(world.kind[row])
    share = world.weight[row] / world.kind_weight_total[k] if world.kind_weight_total[k] else 0.0
    source = world.spec.world.states.weight if kind == "state" else WEIGHT_OF[kind]
    what = "world GDP" if kind == "state" and source.startswith("gdp") else \
        f"all {controls.KIND_PLURAL[kind]}' {source.replace('_', ' ')}"
    rows.append(("Weight", f"{share_text(share)} of {what}"))
    rows.append(("Threshold θ", f"{world.threshold[row]:.3f}"))
    member = ", ".join(n for n, m in zip(world.membership_names, world.membership[row],
                                          strict=True) if m) or "none"
    rows.append(("Member of", member))
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<div class='cn-section'>Attributes</div><table class='cn-attr-table'>{body}</table>"


@solara.component
def Inspector(world: World, pid: str, row: int, on_select: Callable[[int], None],
              names_json: str, when: str, frames: Sequence[Frame] = ()):
    """One actor: who it is, where it stands, the terms of its utility of signing, and
    (given the frames up to the week shown) the course of its interests."""
    p = world.proposal_ids.index(pid)
    ActorSearch(names_json=names_json, value=row, event_select=on_select)
    kind = KINDS[world.kind[row]]
    code = int(status_codes(world, p)[row])
    step = int(world.signed_step[row, p])
    bloc = world.spec.blocs[world.bloc_ids[world.bloc[row]]].label if world.bloc[row] >= 0 \
        else "no bloc"
    where = "" if kind == "state" else f" · based in {escape(world.names[world.home[row]])}"
    category = f" · {escape(world.category[row])}" if world.category[row] else ""
    since = f" since {date_label(world.date_of_step(step))}" if code == SIGNED and step >= 0 \
        else ""
    solara.HTML(tag="div", unsafe_innerHTML=(
        f"<div class='cn-actor-name'>{escape(world.names[row])}</div>"
        f"<div class='cn-muted'>{controls.KIND_LABELS[kind]}{category}{where} · "
        f"{escape(bloc)}</div><div style='margin-top:4px'><span class='cn-dot' "
        f"style='display:inline-block;width:10px;height:10px;border-radius:50%;"
        f"background:{STATUS_COLORS[code]};border:1px solid #9aa5b1'></span> "
        f"<b>{STATUS[code]}</b>{since}</div><div class='cn-muted'>{escape(when)}</div>"))
    if code != NOT_ELIGIBLE:
        terms = utility_terms(world, row, p)
        solara.HTML(tag="div", unsafe_innerHTML=terms_table(
            world, row, p, terms, verdict(sum(terms.values()), float(world.threshold[row]),
                                          float(world.hysteresis[row]), code == SIGNED)))
    if frames:
        solara.HTML(tag="div", unsafe_innerHTML=trajectory_html(frames, row))
    solara.HTML(tag="div", unsafe_innerHTML=attributes_table(world, row))
