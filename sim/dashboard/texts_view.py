"""A proposal's text as it stood each week, its revisions, and an actor's interests over time.

Both read the recorded frames (sim/dashboard/frames.py): the text and the interests
are arrays of the World like any other, snapshotted when they change, so the view of
any past week shows the text then and the revisions up to then, without re-running.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import solara

from sim.dashboard.figures import date_label
from sim.dashboard.frames import Frame
from sim.dashboard.widgets import escape

#: sparkline size in pixels
SPARK_WIDTH, SPARK_HEIGHT = 120, 22


def revisions(frames: Sequence[Frame], p: int) -> list[dict]:
    """Each change of proposal p's text between consecutive frames: week, date, what moved."""
    found = []
    for before, after in zip(frames, frames[1:], strict=False):
        old, new = before.world, after.world
        moved = [(dim, float(a), float(b)) for dim, a, b in
                 zip(old.dimensions, old.content[p], new.content[p], strict=True) if a != b]
        if old.bindingness[p] != new.bindingness[p]:
            moved.append(("bindingness", float(old.bindingness[p]), float(new.bindingness[p])))
        if moved:
            found.append({"step": after.step, "date": after.date, "moved": moved})
    return found


def text_table(frame: Frame, pid: str) -> str:
    """The text at the week shown, per dimension, beside the text as drafted."""
    world = frame.world
    p = world.proposal_ids.index(pid)
    proposal = world.spec.proposals[pid]
    rows = []
    for d, dim in enumerate(world.dimensions):
        drafted, now = proposal.content.get(dim, 0.0), float(world.content[p, d])
        if not (drafted or now):
            continue
        mark = " class='cn-changed'" if now != drafted else ""
        rows.append(f"<tr{mark} title='{escape(world.spec.dimensions[dim])}'>"
                    f"<td>{escape(dim)}</td><td style='text-align:right'>{drafted:+.2f}</td>"
                    f"<td style='text-align:right'><b>{now:+.2f}</b></td></tr>")
    now_b = float(world.bindingness[p])
    mark = " class='cn-changed'" if now_b != proposal.bindingness else ""
    rows.append(f"<tr{mark}><td>bindingness</td><td style='text-align:right'>"
                f"{proposal.bindingness:.2f}</td><td style='text-align:right'><b>{now_b:.2f}"
                f"</b></td></tr>")
    return (f"<div class='cn-section'>The text of {escape(pid)} as of "
            f"{date_label(frame.date)} (week {frame.step})</div>"
            "<table class='cn-attr-table cn-text-table'><tr><th>dimension</th>"
            f"<th>drafted</th><th>now</th></tr>{''.join(rows)}</table>")


def revisions_table(found: list[dict]) -> str:
    if not found:
        return "<div class='cn-muted'>No revision of the text so far.</div>"
    rows = "".join(
        f"<tr><td>{date_label(r['date'])} (week {r['step']})</td><td>"
        + ", ".join(f"{escape(dim)} {a:+.2f} → {b:+.2f}" for dim, a, b in r["moved"])
        + "</td></tr>" for r in found)
    return ("<div class='cn-section'>Revisions</div><table class='cn-attr-table'>"
            f"<tr><th>when</th><th>what moved</th></tr>{rows}</table>")


@solara.component
def TextView(frames: Sequence[Frame], pid: str):
    """The proposal's text at the last frame given and every revision up to it."""
    frame = frames[-1]
    p = frame.world.proposal_ids.index(pid)
    negotiated = frame.world.spec.proposals[pid].negotiation is not None
    solara.HTML(tag="div", unsafe_innerHTML=text_table(frame, pid))
    if not negotiated:
        solara.Text("This proposal is not negotiated in this scenario (no `negotiation` "
                    "block): its text stays as drafted.", classes=["cn-muted"])
    solara.HTML(tag="div", unsafe_innerHTML=revisions_table(revisions(frames, p)))


def interest_trajectory(frames: Sequence[Frame], row: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, (S, D) interests) of actor `row` over the frames."""
    steps = np.array([f.step for f in frames])
    return steps, np.stack([f.world.interests[row] for f in frames])


def sparkline(values: np.ndarray) -> str:
    """An inline SVG line of values in [-1, 1] (a dashed line marks 0)."""
    n = len(values)
    xs = np.linspace(0, SPARK_WIDTH, n) if n > 1 else np.array([SPARK_WIDTH / 2])
    ys = (1 - (np.clip(values, -1, 1) + 1) / 2) * SPARK_HEIGHT
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    middle = SPARK_HEIGHT / 2
    return (f"<svg width='{SPARK_WIDTH}' height='{SPARK_HEIGHT}' role='img'>"
            f"<line x1='0' y1='{middle}' x2='{SPARK_WIDTH}' y2='{middle}' stroke='#9aa5b1' "
            f"stroke-dasharray='2,2'/><polyline fill='none' stroke='#1f2933' "
            f"stroke-width='1.5' points='{points}'/></svg>")


def trajectory_html(frames: Sequence[Frame], row: int) -> str:
    """The actor's interest on each dimension at the first and the shown week, with a
    line of its course in between (-1 at the bottom, +1 at the top)."""
    world = frames[-1].world
    steps, values = interest_trajectory(frames, row)
    moved = np.flatnonzero((values != values[0]).any(axis=0))
    if not len(moved):
        return ("<div class='cn-section'>Interests</div><div class='cn-muted'>Its interests "
                f"have not moved up to week {steps[-1]}.</div>")
    rows = "".join(
        f"<tr><td>{escape(world.dimensions[d])}</td><td style='text-align:right'>"
        f"{values[0, d]:+.2f}</td><td>{sparkline(values[:, d])}</td>"
        f"<td style='text-align:right'><b>{values[-1, d]:+.2f}</b></td></tr>" for d in moved)
    return ("<div class='cn-section'>Interest trajectory</div><div class='cn-muted'>The "
            f"dimensions on which its interests moved, week {steps[0]} to {steps[-1]} "
            "(line: -1 bottom, +1 top)</div><table class='cn-attr-table'><tr><th>dimension"
            f"</th><th>week {steps[0]}</th><th></th><th>week {steps[-1]}</th></tr>{rows}"
            "</table>")
