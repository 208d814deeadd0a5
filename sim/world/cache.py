"""Worlds drawn once per process and shared by the runs that have the same one.

With common random numbers, runs that differ only in behaviour, proposals or campaigns
(calibration candidates, most sweep points, compared scenarios) have the same world
structure (`structure_key`: the world sections of the scenario, their tables, the seed).
`WorldCache.world` draws a structure the first time and shares it afterwards; each run
still gets its own thresholds, proposals, interests to change and dynamic state, so the
results are those of a world drawn afresh.

Two memory budgets, least recently used first out in each: a structure asked for
once waits in a small one (a sweep without common random numbers never asks twice, and
costs little); asked for again, it moves to the larger one, where structures that runs
do share stay. A structure too large to wait is kept from its second request. Kept
structures are read-only: a run that tried to change one would fail at once instead of
changing the runs after it.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from sim.scenario.spec import ScenarioSpec
from sim.world.arrays import World
from sim.world.build import build_world, draw_structure, furnish_world, structure_key

#: bytes of structures one process keeps (a baseline world is about 4 MB): asked for
#: once (waiting for a second run), and shared by runs
WAITING_BUDGET = 64 * 2**20
SHARED_BUDGET = 512 * 2**20
_OBJECT_BYTES = 64  # rough size of one Python string held by an object array


class _Kept:
    """Structures by key within a byte budget, least recently used dropped first."""

    def __init__(self, budget: int):
        self.budget, self.used = budget, 0
        self.items: OrderedDict[str, tuple[World, int]] = OrderedDict()

    def get(self, key: str) -> World | None:
        if key not in self.items:
            return None
        self.items.move_to_end(key)
        return self.items[key][0]

    def pop(self, key: str) -> World | None:
        item = self.items.pop(key, None)
        if item is None:
            return None
        self.used -= item[1]
        return item[0]

    def put(self, key: str, structure: World, size: int) -> bool:
        if size > self.budget:
            return False
        self.items[key] = (structure, size)
        self.used += size
        while self.used > self.budget:
            _, (_, dropped) = self.items.popitem(last=False)
            self.used -= dropped
        return True


class WorldCache:
    """World structures of this process, by structure key.

    Attributes:
        built, reused: how many structures were drawn, and how many runs shared one.
    """

    def __init__(self, waiting: int = WAITING_BUDGET, shared: int = SHARED_BUDGET,
                 remembered: int = 100_000):
        self.built = self.reused = 0
        self._waiting, self._shared = _Kept(waiting), _Kept(shared)
        self._asked: OrderedDict[str, None] = OrderedDict()  # keys seen, structure or not
        self._remembered = remembered

    def world(self, spec: ScenarioSpec, seed: int) -> World:
        """A World for one run of `spec` with integer `seed`, sharing a kept structure."""
        key = structure_key(spec, seed)
        structure = self._shared.get(key)
        if structure is None:
            structure = self._waiting.pop(key)
            if structure is not None:  # asked for again: runs share it
                self._shared.put(key, structure, structure_bytes(structure))
        if structure is not None:
            self.reused += 1
            return build_world(spec, seed, structure)
        self.built += 1
        structure = draw_structure(spec, seed)
        size = structure_bytes(structure)
        if key in self._asked:  # too large to wait, or waited too long: share it now
            kept = self._shared.put(key, structure, size)
        else:
            self._asked[key] = None
            if len(self._asked) > self._remembered:
                self._asked.popitem(last=False)
            kept = self._waiting.put(key, structure, size)
        if not kept:  # the run's own: no copies
            return furnish_world(structure, spec, seed)
        _freeze(structure)
        return build_world(spec, seed, structure)

    def clear(self) -> None:
        for kept in (self._waiting, self._shared):
            kept.items.clear()
            kept.used = 0
        self._asked.clear()

    def __len__(self) -> int:
        return len(self._waiting.items) + len(self._shared.items)

    def __repr__(self) -> str:
        return (f"WorldCache({len(self._shared.items)} shared, {len(self._waiting.items)} "
                f"waiting, {(self._shared.used + self._waiting.used) / 2**20:.1f} MiB, "
                f"built {self.built}, reused {self.reused})")


def _own_arrays(structure: World):
    """The arrays a structure owns: its fields and its network's (attribute columns may
    be the data tables' own arrays, shared by every world)."""
    for value in vars(structure).values():
        if isinstance(value, np.ndarray):
            yield value
        elif isinstance(value, list | tuple):
            yield from (v for v in value if isinstance(v, np.ndarray))
    network = structure.network
    yield from (network.data, network.indices, network.indptr)


def structure_bytes(structure: World) -> int:
    """Memory a structure holds, roughly (arrays, plus strings held by object arrays)."""
    arrays = [*_own_arrays(structure), *structure.attributes.arrays()]
    return sum(a.nbytes + (_OBJECT_BYTES * a.size if a.dtype == object else 0)
               for a in arrays)


def _freeze(structure: World) -> None:
    for array in _own_arrays(structure):
        array.flags.writeable = False
