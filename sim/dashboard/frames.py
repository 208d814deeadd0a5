"""The run as it stood at every week it has reached: snapshots the page draws from.

The model changes its World in place as it steps. After each step the dashboard keeps a
snapshot of every array of the World that changed (signatures, opposition, outreach
pressure, interests after an event, ...), copied, so that

- the page draws a snapshot while the next step runs, never arrays a step is writing
  (drawing and stepping do not overlap, whatever the pause between steps);
- the week scrubber shows any past week (map, counters, inspector, including each
  actor's utility terms then) without re-running.

Arrays that did not change are shared with the previous snapshot, so a frame costs only
what changed (the signature and stance matrices, the outreach pressure: about 55 kB a
week at the baseline).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from sim.model import NormDiplomacyModel
from sim.world.arrays import World


@dataclass(frozen=True)
class Frame:
    """The run at the end of `step` (0: before the first step).

    Attributes:
        step: the step number; date: its first day (the start date at step 0).
        world: a World whose arrays are this step's snapshot (never changed afterwards).
        finished: True once the model had taken its last step.
    """

    step: int
    date: date
    world: World
    finished: bool


def _tracked(world: World) -> dict[str, np.ndarray]:
    """The World's arrays (every numpy field; the model may change any of them)."""
    return {name: value for name, value in vars(world).items() if isinstance(value, np.ndarray)}


class Recording:
    """The frames of one model, from step 0 to the latest step it took.

    `capture` is called by whoever steps the model, right after each step; readers take
    `latest`, `at(step)` and `steps` from any thread (each is replaced whole, never
    changed in place).

    Attributes:
        model: the model recorded.
        frames: frame of each step, frames[k].step == k.
        steps: the tidy steps table (`History.table()`) up to the latest frame.
    """

    def __init__(self, model: NormDiplomacyModel):
        self.model = model
        self._copies: dict[str, np.ndarray] = {}
        self.steps: pd.DataFrame = pd.DataFrame()
        self.frames: list[Frame] = []
        self.capture()

    def capture(self) -> Frame:
        """Snapshot the model as it stands now (after its latest step)."""
        model = self.model
        world = copy.copy(model.world)
        for name, live in _tracked(model.world).items():
            kept = self._copies.get(name)
            if kept is None or kept.shape != live.shape or not np.array_equal(kept, live):
                kept = live.copy()
                kept.flags.writeable = False
                self._copies[name] = kept
            setattr(world, name, kept)
        world.static_cache = None  # align and cost are recomputed from this frame's arrays
        frame = Frame(step=model.steps, date=model.date, world=world,
                      finished=not model.running or model.steps >= model.last_step)
        # the table first: a reader that sees this frame sees its row in the table
        self.steps = model.history.table()
        self.frames = [*self.frames[:frame.step], frame]
        return frame

    @property
    def latest(self) -> Frame:
        return self.frames[-1]

    def at(self, step: int) -> Frame:
        """The frame of `step` (clamped to the steps recorded)."""
        frames = self.frames
        return frames[min(max(int(step), 0), len(frames) - 1)]

    def steps_until(self, step: int) -> pd.DataFrame:
        """The steps table up to and including `step`."""
        table = self.steps
        return table[table["step"] <= step] if len(table) else table
