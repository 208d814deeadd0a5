"""Consultation and revision of a text: the sponsor weighs candidate texts and adopts one.

A round (docs/ODD.md, "Negotiation") takes the text as it stands, builds its
neighbourhood (each negotiable dimension moved by a step either way, out of the scope
or into it where the limits allow; bindingness likewise), never below the sponsor's
red lines, and scores every candidate at once: the consulted actors' utilities for all
candidates are one array (`sim.decision.text_utility`), their chances of signing one
more, and the sponsor's objective weighs expected support against the distance from
its ideal text (the text as drafted). A revision is adopted only if it scores strictly
better than the standing text. Signers of an earlier version stay unless the revision
crosses one of their own red lines and they would no longer sign; such withdrawals are
recorded with their cause. Bueno de Mesquita (1994, 2011) and Stokman & van Oosten
(1994) model the sponsor's choice as expected-utility bargaining over positions;
Putnam (1988) the red lines of a two-level game.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from sim.decision import text_utility
from sim.scenario.spec import Negotiation, ScenarioSpec
from sim.world.arrays import World
from sim.world.rules import select

#: grid values are rounded to this many decimals, so steps of 0.1 stay 0.1
DECIMALS = 9


@dataclass(eq=False)
class Talks:
    """The negotiation of one proposal: what may move, whom it asks, what happened.

    Attributes:
        proposal: index of the proposal; spec: its `negotiation` block.
        ideal, ideal_bindingness: the text as drafted (the sponsor's ideal).
        lower, upper: (D,) limits of each dimension's content; movable: (D,) negotiable.
        red_line: (D,) dimensions the sponsor never weakens below the drafted content.
        consulted: (N,) actors the sponsor asks (eligible, not the sponsor itself).
        schedule: step -> number of rounds held at that step.
        rounds: one dict per round (the `texts` table, one row per dimension).
        withdrawals: (actor row, step) -> the cause of a withdrawal a revision caused.
    """

    proposal: int
    spec: Negotiation
    ideal: np.ndarray
    ideal_bindingness: float
    lower: np.ndarray
    upper: np.ndarray
    movable: np.ndarray
    red_line: np.ndarray
    consulted: np.ndarray
    schedule: dict[int, int]
    rounds: list[dict] = field(default_factory=list)
    withdrawals: dict[tuple[int, int], str] = field(default_factory=dict)
    held: int = 0


def schedule_of(spec: ScenarioSpec, negotiation: Negotiation, launch: int) -> dict[int, int]:
    """Step -> rounds: `before_launch` at the launch, one at each date, one every N steps."""
    rounds = negotiation.rounds
    schedule: dict[int, int] = {}
    if rounds.before_launch:
        schedule[launch] = rounds.before_launch
    for when in rounds.at:
        step = max(spec.step_of(when), launch)
        schedule[step] = schedule.get(step, 0) + 1
    if rounds.every:
        until = spec.metadata.steps if rounds.until is None else spec.step_of(rounds.until)
        for step in range(launch + rounds.every, until + 1, rounds.every):
            schedule[step] = schedule.get(step, 0) + 1
    return schedule


def open_talks(world: World) -> list[Talks]:
    """The negotiations of a world's proposals, as its scenario states them."""
    spec = world.spec
    talks = []
    for p, proposal in enumerate(spec.proposals.values()):
        negotiation = proposal.negotiation
        if negotiation is None:
            continue
        dims = world.dimensions
        lower, upper = world.content[p].copy(), world.content[p].copy()
        movable = np.zeros(len(dims), dtype=bool)
        for dim, limits in negotiation.content.items():
            d = dims.index(dim)
            lower[d], upper[d], movable[d] = limits.min, limits.max, True
        consulted = select(world, negotiation.consult) & world.eligible[:, p]
        if world.sponsor[p] >= 0:
            consulted[world.sponsor[p]] = False
        talks.append(Talks(
            proposal=p, spec=negotiation, ideal=world.content[p].copy(),
            ideal_bindingness=float(world.bindingness[p]), lower=lower, upper=upper,
            movable=movable, red_line=np.isin(dims, negotiation.red_lines),
            consulted=consulted,
            schedule=schedule_of(spec, negotiation, int(world.launch_step[p])),
        ))
    return talks


def options(value: float, lower: float, upper: float, step: float,
            floor: float | None = None) -> list[float]:
    """Values one round may give a dimension: the current one first, a step either way,
    and 0 (out of the scope) where the limits hold it; never below `floor` in the drafted
    direction (a red line: `floor` is the drafted content, its sign the direction)."""
    found = [value]
    for candidate in (value - step, value + step, 0.0):
        candidate = min(max(round(candidate, DECIMALS), lower), upper)
        if floor is not None and np.sign(floor) * candidate < abs(floor):
            continue
        if candidate not in found:
            found.append(candidate)
    return found


def candidate_texts(talks: Talks, content: np.ndarray, bindingness: float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(C, D) contents and (C,) bindingness of the candidates; the standing text first.

    The whole neighbourhood when it has at most `candidates` texts, else the standing
    text and a random draw from it (each dimension's value drawn independently).
    """
    spec = talks.spec
    choices = []
    for d, value in enumerate(content):
        if not talks.movable[d]:
            choices.append([float(value)])
            continue
        floor = talks.ideal[d] if talks.red_line[d] else None
        choices.append(options(float(value), talks.lower[d], talks.upper[d], spec.step, floor))
    limits = spec.bindingness
    choices.append([bindingness] if limits is None else
                   options(bindingness, limits.min, limits.max, spec.step))
    total = int(np.prod([len(c) for c in choices], dtype=float))
    if total <= spec.candidates:
        grid = np.array(list(itertools.product(*choices)), dtype=float)
    else:
        picks = [rng.integers(len(c), size=spec.candidates - 1) for c in choices]
        drawn = np.column_stack([np.asarray(c)[pick] for c, pick in zip(choices, picks,
                                                                         strict=True)])
        grid = np.vstack([[c[0] for c in choices], drawn])
    return grid[:, :-1], grid[:, -1]


def distance(talks: Talks, content: np.ndarray, bindingness: np.ndarray) -> np.ndarray:
    """(C,) mean absolute distance from the drafted text over what may be negotiated."""
    gap = np.abs(content[:, talks.movable] - talks.ideal[talks.movable]).sum(axis=1)
    parts = int(talks.movable.sum())
    if talks.spec.bindingness is not None:
        gap = gap + np.abs(bindingness - talks.ideal_bindingness)
        parts += 1
    return gap / max(parts, 1)


def chances(world: World, p: int, rows: np.ndarray, u: np.ndarray, temperature: float
            ) -> np.ndarray:
    """(len(rows), C) chance that each actor signs (or, if signed, stays) under each text."""
    theta = world.threshold[rows]
    signed = world.signed[rows, p]
    bar = np.where(signed, theta - world.hysteresis[rows], theta)[:, None]
    if temperature > 0:
        return expit((u - bar) / temperature)
    return (u > bar).astype(float)


def score(world: World, talks: Talks, content: np.ndarray, bindingness: np.ndarray,
          temperature: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(objective, support, distance) of each candidate text, each (C,)."""
    p, weigh = talks.proposal, talks.spec.weigh
    rows = np.flatnonzero(talks.consulted)
    if len(rows):
        u = text_utility(world, p, rows, content, bindingness)
        weights = world.weight[rows] if weigh.count == "weight" else np.ones(len(rows))
        support = weights @ chances(world, p, rows, u, temperature) / weights.sum()
    else:
        support = np.zeros(len(content))
    far = distance(talks, content, bindingness)
    return weigh.support * support - weigh.distance * far, support, far


def hold_round(world: World, talks: Talks, step: int, seed: int, temperature: float) -> None:
    """One round: choose the best candidate, revise the text, let crossed signers go."""
    p = talks.proposal
    talks.held += 1
    rng = np.random.default_rng([seed, p, step, talks.held])
    before, before_b = world.content[p].copy(), float(world.bindingness[p])
    content, bindingness = candidate_texts(talks, before, before_b, rng)
    objective, support, far = score(world, talks, content, bindingness, temperature)
    best = int(np.argmax(objective))  # the first of equals: the standing text wins ties
    left = []
    if best:
        world.content[p], world.bindingness[p] = content[best], bindingness[best]
        world.interests_changed()
        left = release_crossed(world, talks, before, step)
    talks.rounds.append({
        "round": talks.held, "step": step, "content": world.content[p].copy(),
        "bindingness": float(world.bindingness[p]), "previous": before,
        "previous_bindingness": before_b, "consulted": int(talks.consulted.sum()),
        "candidates": len(content), "support": float(support[best]),
        "support_before": float(support[0]), "distance": float(far[best]),
        "objective": float(objective[best]), "withdrawals": len(left),
    })


def crossed_red_lines(world: World, talks: Talks, before: np.ndarray) -> np.ndarray:
    """(N, D) the dimensions on which the revision crosses each actor's own red line: the
    content moved against its interest on a dimension it holds above `signer_red_line`."""
    moved = world.content[talks.proposal] - before
    against = moved[None, :] * world.interests < 0
    return against & (world.salience > talks.spec.signer_red_line)


def release_crossed(world: World, talks: Talks, before: np.ndarray, step: int) -> list[int]:
    """Signers whose red line the revision crossed and who would not sign it now withdraw."""
    p = talks.proposal
    crossed = crossed_red_lines(world, talks, before)
    signers = world.signed[:, p] & crossed.any(axis=1)
    if world.sponsor[p] >= 0:
        signers[world.sponsor[p]] = False
    rows = np.flatnonzero(signers)
    if not len(rows):
        return []
    u = text_utility(world, p, rows, world.content[p][None], world.bindingness[p:p + 1])[:, 0]
    leaving = rows[u < world.threshold[rows]]
    world.signed[leaving, p] = False
    world.withdrawn_step[leaving, p] = step
    for row in leaving:
        dims = [world.dimensions[d] for d in np.flatnonzero(crossed[row])]
        talks.withdrawals[(int(row), step)] = "red line: " + ", ".join(dims)
    return [int(r) for r in leaving]


def drafted_round(world: World, talks: Talks) -> dict:
    """Round 0 of the texts table: the text as drafted, before any consultation."""
    return {"round": 0, "step": int(world.launch_step[talks.proposal]),
            "content": talks.ideal, "bindingness": talks.ideal_bindingness,
            "previous": talks.ideal, "previous_bindingness": talks.ideal_bindingness,
            "consulted": 0, "candidates": 1, "support": float("nan"),
            "support_before": float("nan"), "distance": 0.0, "objective": float("nan"),
            "withdrawals": 0}
