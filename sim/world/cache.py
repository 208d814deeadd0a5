"""Worlds drawn once per process and shared by the runs that have the same one.

With common random numbers, runs that differ only in behaviour, proposals or campaigns
(calibration candidates, most sweep points, compared scenarios) have the same world
structure (`structure_key`: the world sections of the scenario, their tables, the seed).
`WorldCache.world` draws a structure the first time and shares it afterwards; each run
still gets its own thresholds, proposals, interests to change and dynamic state, so the
results are those of a world drawn afresh.

A structure is kept from its second request on (a world asked for once, as in a sweep
without common random numbers, costs nothing to remember), up to a memory budget, least
recently used first out. Kept structures are read-only: a run that tried to change one
would fail at once instead of changing the runs after it.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from sim.scenario.spec import ScenarioSpec
from sim.world.arrays import World
from sim.world.build import build_world, draw_structure, structure_key

#: bytes of structures one process keeps (a baseline world is about 4 MB)
DEFAULT_BUDGET = 512 * 2**20
_OBJECT_BYTES = 64  # rough size of one Python string held by an object array


class WorldCache:
    """World structures of this process, by structure key.

    Attributes:
        budget: bytes of structures kept at most.
        built, reused: how many structures were drawn, and how many runs shared one.
    """

    def __init__(self, budget: int = DEFAULT_BUDGET, remembered: int = 100_000):
        self.budget = budget
        self.built = self.reused = 0
        self._kept: OrderedDict[str, tuple[World, int]] = OrderedDict()
        self._asked: OrderedDict[str, None] = OrderedDict()  # keys seen once
        self._remembered = remembered
        self._used = 0

    def world(self, spec: ScenarioSpec, seed: int) -> World:
        """A World for one run of `spec` with integer `seed`, sharing a kept structure."""
        key = structure_key(spec, seed)
        if key in self._kept:
            self._kept.move_to_end(key)
            self.reused += 1
            return build_world(spec, seed, self._kept[key][0])
        self.built += 1
        if key in self._asked:  # the second request: worth keeping
            del self._asked[key]
            structure = draw_structure(spec, seed)
            self._keep(key, structure)
            return build_world(spec, seed, structure)
        self._asked[key] = None
        if len(self._asked) > self._remembered:
            self._asked.popitem(last=False)
        return build_world(spec, seed)

    def _keep(self, key: str, structure: World) -> None:
        size = structure_bytes(structure)
        if size > self.budget:
            return
        _freeze(structure)
        self._kept[key] = (structure, size)
        self._used += size
        while self._used > self.budget:
            _, (_, dropped) = self._kept.popitem(last=False)
            self._used -= dropped

    def clear(self) -> None:
        self._kept.clear()
        self._asked.clear()
        self._used = 0

    def __len__(self) -> int:
        return len(self._kept)

    def __repr__(self) -> str:
        return (f"WorldCache({len(self)} structures, {self._used / 2**20:.1f} of "
                f"{self.budget / 2**20:.0f} MiB, built {self.built}, reused {self.reused})")


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
