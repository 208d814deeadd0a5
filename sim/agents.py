"""States, firms and civil-society organisations as Mesa agents.

An agent is a view onto one row of the model's World: reading ``agent.signed`` or
``agent.interests`` reads the arrays the vectorised kernel works on, and writing
``agent.interests["multistakeholder"] = 0.4`` changes them. ``consider`` is the
per-agent reference of the decision rule (used to check and benchmark the kernel).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from datetime import date

import mesa
import numpy as np

from sim.decision import reference_utility, utility_terms


class NamedRow(MutableMapping):
    """A numpy row seen as a mapping from names to values; writes go to the array."""

    def __init__(self, row: np.ndarray, names: list[str], on_change=None):
        self._row, self._names, self._on_change = row, names, on_change

    def __getitem__(self, name: str):
        return self._row[self._names.index(name)].item()

    def __setitem__(self, name: str, value) -> None:
        self._row[self._names.index(name)] = value
        if self._on_change is not None:
            self._on_change()

    def __delitem__(self, name: str) -> None:
        raise TypeError("dimensions and proposals cannot be removed from an actor")

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._row, dtype=dtype)

    def __repr__(self) -> str:
        return repr(dict(self))


class ActorAgent(mesa.Agent):
    """An actor of the cyber-norm world, viewed from its row `index` in the World.

    Attributes:
        index: row of this actor in the World arrays.
        actor_id: iso3 for states, a slug for named actors, kind_NNNN for generated ones.
        name, kind, bloc, home: who it is (home is the home state's agent).
        interests, salience: per dimension (mappings onto the World arrays).
        weight, cyber_power, threshold: scalars.
        signed, opposed: per proposal; signed_date: the date of the first signature.
    """

    kind = "actor"

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index

    @property
    def world(self):
        return self.model.world

    @property
    def actor_id(self) -> str:
        return self.world.ids[self.index]

    @property
    def name(self) -> str:
        return self.world.names[self.index]

    @property
    def bloc(self) -> str | None:
        code = self.world.bloc[self.index]
        return self.world.bloc_ids[code] if code >= 0 else None

    @property
    def home(self) -> StateAgent:
        return self.model.actors[self.world.home[self.index]]

    @property
    def interests(self) -> NamedRow:
        return NamedRow(self.world.interests[self.index], self.world.dimensions,
                        self.world.interests_changed)

    @property
    def salience(self) -> NamedRow:
        return NamedRow(self.world.salience[self.index], self.world.dimensions,
                        self.world.interests_changed)

    @property
    def signed(self) -> NamedRow:
        return NamedRow(self.world.signed[self.index], self.world.proposal_ids)

    @property
    def opposed(self) -> NamedRow:
        return NamedRow(self.world.opposed[self.index], self.world.proposal_ids)

    @property
    def signed_date(self) -> dict[str, date | None]:
        steps = self.world.signed_step[self.index]
        return {pid: self.world.date_of_step(int(s)) if s >= 0 else None
                for pid, s in zip(self.world.proposal_ids, steps, strict=True)}

    @property
    def weight(self) -> float:
        return float(self.world.weight[self.index])

    @property
    def cyber_power(self) -> float:
        return float(self.world.cyber_power[self.index])

    @property
    def threshold(self) -> float:
        return float(self.world.threshold[self.index])

    @property
    def memberships(self) -> list[str]:
        row = self.world.membership[self.index]
        return [name for name, member in zip(self.world.membership_names, row, strict=True)
                if member]

    def utility(self, proposal: str) -> float:
        """Utility of signing `proposal` now (the reference rule)."""
        return reference_utility(self.world, self.index, self.world.proposal_ids.index(proposal))

    def utility_terms(self, proposal: str) -> dict[str, float]:
        """Each term's contribution to `utility(proposal)`."""
        return utility_terms(self.world, self.index, self.world.proposal_ids.index(proposal))

    def consider(self) -> None:
        """Evaluate every proposal on the table and note the utilities for this step.

        The model applies all notes at once after every agent has considered, so the
        order of agents does not matter (synchronous updating).
        """
        world, row, model = self.world, self.index, self.model
        for p in range(len(world.proposal_ids)):
            model.pending_utility[row, p] = reference_utility(world, row, p,
                                                              model.step_momentum[p])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.actor_id!r}, bloc={self.bloc!r})"


class StateAgent(ActorAgent):
    """A UN member state."""

    kind = "state"

    @property
    def iso3(self) -> str:
        return self.actor_id


class FirmAgent(ActorAgent):
    """A firm, with a home state and a sector."""

    kind = "firm"

    @property
    def sector(self) -> str:
        return self.world.category[self.index]


class CivilAgent(ActorAgent):
    """A civil-society organisation (NGO, university, association, technical body)."""

    kind = "civil"

    @property
    def type(self) -> str:
        return self.world.category[self.index]


AGENT_CLASSES = (StateAgent, FirmAgent, CivilAgent)
