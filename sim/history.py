"""What the model observes each step: signers and opposers by kind and bloc, coverage.

One `History` per run collects small arrays per step (cheap: a few reductions over
the signature matrix) and turns them into the tidy `steps` table at the end. It also
keeps the signature matrix at each checkpoint, for per-actor outcomes at those dates.
`StepSeries` shows the same tallies as Mesa's DataCollector, filled in when read.
"""

from __future__ import annotations

import mesa
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
        # first rows of the kinds present (an absent kind counts 0)
        self._present = [k for k, rows in enumerate(world.slices.values())
                         if rows.stop > rows.start]
        self._starts = [list(world.slices.values())[k].start for k in self._present]
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
        self.signers.append(self._by_kind(signed))
        self.opposers.append(self._by_kind(world.opposed))
        state_signed = signed[self._states].astype(float)
        self.bloc_signers.append(state_signed.T @ self._bloc_onehot)
        # a count over n is exactly the mean of the 0/1 column
        self.share_states.append(self.signers[-1][:, 0] / len(state_signed))
        self.share_gdp.append(self._gdp_share @ state_signed)
        if step in self.checkpoints:
            self.signed_at[step] = signed.copy()

    def _by_kind(self, flags: np.ndarray) -> np.ndarray:
        """(P, 3) how many actors of each kind have the flag, per proposal."""
        counts = np.zeros((3, flags.shape[1]), dtype=np.int64)
        if self._starts:
            counts[self._present] = np.add.reduceat(flags, self._starts, axis=0,
                                                    dtype=np.int64)
        return counts.T

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


class StepSeries(mesa.DataCollector):
    """Mesa's DataCollector over a run's History: per step the date and, per proposal,
    signers by kind and the shares of states and of world GDP.

    The series are copied from the History when read (`model_vars`, the collected steps,
    the data frames), not gathered by `collect` each step: a run nobody watches pays
    nothing, and SolaraViz and `mesa.batch_run` see the values a per-step collect would.
    """

    def __init__(self, history: History):
        self.history = history
        self._ready = False
        super().__init__(model_reporters=self._reporters())
        self._ready = True

    def _reporters(self) -> dict:
        """What a per-step collect would report (the values `_catch_up` copies)."""
        reporters = {"date": lambda m: m.date}
        for p, pid in enumerate(self.history.world.proposal_ids):
            for k, kind in enumerate(KINDS):
                reporters[f"{pid}.signers_{kind}"] = (
                    lambda m, p=p, k=k: m.history.latest("signers", p, k))
            reporters[f"{pid}.share_states"] = lambda m, p=p: m.history.latest("share_states", p)
            reporters[f"{pid}.share_gdp"] = lambda m, p=p: m.history.latest("share_gdp", p)
        return reporters

    @property
    def model_vars(self) -> dict[str, list]:
        self._catch_up()
        return self._series

    @model_vars.setter
    def model_vars(self, value: dict[str, list]) -> None:
        self._series = value

    @property
    def _collection_steps(self) -> list[float]:
        self._catch_up()
        return self._collected

    @_collection_steps.setter
    def _collection_steps(self, value: list[float]) -> None:
        self._collected = value

    def collect(self, model=None) -> None:
        """Nothing to gather: the History has it (kept for code that calls it)."""
        self._catch_up()

    def _catch_up(self) -> None:
        if not self._ready:  # DataCollector.__init__ is still setting up
            return
        history, series = self.history, self._series
        for i in range(len(self._collected), len(history.steps)):
            step = history.steps[i]
            self._collected.append(float(step))  # the model's time at that step
            series["date"].append(history.world.date_of_step(max(step, 1)))
            for p, pid in enumerate(history.world.proposal_ids):
                for k, kind in enumerate(KINDS):
                    series[f"{pid}.signers_{kind}"].append(history.signers[i][p, k].item())
                series[f"{pid}.share_states"].append(history.share_states[i][p].item())
                series[f"{pid}.share_gdp"].append(history.share_gdp[i][p].item())
