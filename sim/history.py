"""What the model observes each step: signers and opposers by kind and bloc, coverage.

One `History` per run collects small arrays per step (cheap: a few reductions over
the signature matrix) and turns them into the tidy `steps` table at the end. It also
keeps the signature matrix at each checkpoint, for per-actor outcomes at those dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario.spec import KINDS
from sim.world.arrays import World


class History:
    """Per-step tallies of one run.

    Attributes:
        steps: step numbers recorded, in order.
        signers, opposers: per step, (P, 3) counts by kind.
        bloc_signers: per step, (P, B) state signers per bloc.
        share_states, share_gdp: per step, (P,) share of states / of world GDP signed.
        signed_at: checkpoint step -> (N, P) signature matrix at the end of that step.
    """

    def __init__(self, world: World, checkpoints: list[int]):
        self.world = world
        self.checkpoints = set(checkpoints)
        states = world.slices["state"]
        self._states = states
        self._gdp = world.attributes["gdp_usd_2018"][states]
        self._gdp_share = self._gdp / self._gdp.sum()
        blocs = world.bloc[states]
        # (states x blocs); a scenario may have no blocs at all
        self._bloc_onehot = (blocs[:, None] == np.arange(len(world.bloc_ids))[None, :]
                             ).astype(float)
        self.steps: list[int] = []
        self.signers: list[np.ndarray] = []
        self.opposers: list[np.ndarray] = []
        self.bloc_signers: list[np.ndarray] = []
        self.share_states: list[np.ndarray] = []
        self.share_gdp: list[np.ndarray] = []
        self.signed_at: dict[int, np.ndarray] = {}

    def record(self, step: int) -> None:
        world = self.world
        signed = world.signed
        self.steps.append(step)
        self.signers.append(np.stack([signed[r].sum(axis=0) for r in world.slices.values()], 1))
        self.opposers.append(
            np.stack([world.opposed[r].sum(axis=0) for r in world.slices.values()], 1)
        )
        state_signed = signed[self._states].astype(float)
        self.bloc_signers.append(state_signed.T @ self._bloc_onehot)
        self.share_states.append(state_signed.mean(axis=0))
        self.share_gdp.append(self._gdp_share @ state_signed)
        if step in self.checkpoints:
            self.signed_at[step] = signed.copy()

    def latest(self, what: str, proposal: int, column: int | None = None) -> float:
        """The most recent value of a tally (0 before the first step), for reporters."""
        series = getattr(self, what)
        if not series:
            return 0
        value = series[-1][proposal]
        return (value if column is None else value[column]).item()

    def table(self) -> pd.DataFrame:
        """Tidy per-step table: one row per step and proposal."""
        world = self.world
        n_steps, n_props = len(self.steps), len(world.proposal_ids)
        if n_steps == 0:
            return pd.DataFrame()
        steps = np.repeat(self.steps, n_props)
        columns = {
            "step": steps,
            "date": [world.date_of_step(int(s)) for s in self.steps for _ in range(n_props)],
            "proposal": np.tile(world.proposal_ids, n_steps),
        }
        signers = np.stack(self.signers).reshape(-1, 3)
        opposers = np.stack(self.opposers).reshape(-1, 3)
        for k, kind in enumerate(KINDS):
            columns[f"signers_{kind}"] = signers[:, k]
        for k, kind in enumerate(KINDS):
            columns[f"opposers_{kind}"] = opposers[:, k]
        blocs = np.stack(self.bloc_signers).reshape(n_steps * n_props, len(world.bloc_ids))
        for b, bloc in enumerate(world.bloc_ids):
            columns[f"state_signers_{bloc}"] = blocs[:, b].astype(np.int64)
        columns["share_states"] = np.stack(self.share_states).ravel()
        columns["share_gdp"] = np.stack(self.share_gdp).ravel()
        frame = pd.DataFrame(columns)
        frame["date"] = pd.to_datetime(frame["date"])
        return frame
