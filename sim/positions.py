"""Positions that move: socialisation among signers and persuasion by a sponsor's campaign.

Both read the interests as they stood at the start of the phase and change them all at
once (synchronous), after the step's decisions, so the next step reads the moved
positions. Socialisation (Finnemore & Sikkink 1998, internalisation; the opinion
dynamics of Friedkin & Johnsen 1990): an actor's interests on a proposal's scope move
by `rate` toward the tie-weighted mean of the interests of the signers it is tied to,
once it has signed (`among: signers`) or while its peers sign (`peers`). Persuasion:
a campaign's pressure on an actor moves its interests toward the text, by `rate` x
pressure (at most all the way), on the dimensions the scenario names. At rate 0 nothing
runs and nothing changes.
"""

from __future__ import annotations

import numpy as np

from sim.scenario.spec import Positions
from sim.world.arrays import World


def socialisation_pull(world: World, rate: float, among: str) -> np.ndarray:
    """(N, D) change of interests from ties to signers, summed over proposals."""
    x = world.interests
    change = np.zeros_like(x)
    for p in range(len(world.proposal_ids)):
        signed = world.signed[:, p].astype(float)
        tied = np.asarray(world.network @ signed).ravel()
        drifting = tied > 0
        if among == "signers":
            drifting &= world.signed[:, p]
        if not drifting.any():
            continue
        pull = np.asarray(world.network @ (signed[:, None] * x))
        target = pull[drifting] / tied[drifting, None]
        scope = world.content[p] != 0
        change[np.ix_(drifting, scope)] += rate * (target[:, scope] - x[np.ix_(drifting, scope)])
    return change


def persuasion_pull(world: World, positions: Positions) -> np.ndarray:
    """(N, D) change of interests from the campaigns' pressure toward their texts."""
    persuasion = positions.persuasion
    x = world.interests
    change = np.zeros_like(x)
    for p, pid in enumerate(world.proposal_ids):
        pressure = world.outreach[:, p]
        if not pressure.any():
            continue
        if pid in persuasion.dimensions:
            dims = np.isin(world.dimensions, persuasion.dimensions[pid])
        else:
            dims = world.content[p] != 0
        share = np.minimum(persuasion.rate * pressure, 1.0)[:, None]
        change[:, dims] += share * (world.content[p][dims] - x[:, dims])
    return change


def move_positions(world: World, positions: Positions) -> bool:
    """Apply this step's socialisation and persuasion; True if any interest moved."""
    change = np.zeros_like(world.interests)
    if positions.socialisation.rate > 0:
        change += socialisation_pull(world, positions.socialisation.rate,
                                     positions.socialisation.among)
    if positions.persuasion.rate > 0:
        change += persuasion_pull(world, positions)
    if not change.any():
        return False
    np.clip(world.interests + change, -1.0, 1.0, out=world.interests)
    world.interests_changed()
    return True


class Trajectories:
    """Interests of the recorded actors (`positions.record`) at the end of each step."""

    def __init__(self, world: World, positions: Positions):
        self.rows = np.array([world.index_of[a] for a in positions.record], dtype=np.int64)
        self.steps: list[int] = []
        self.interests: list[np.ndarray] = []
        self.world = world

    def record(self, step: int) -> None:
        if len(self.rows):
            self.steps.append(step)
            self.interests.append(self.world.interests[self.rows].copy())
