"""ScenarioSpec -> World: the actors of one scenario and seed, as numpy arrays.

Modules: `arrays` (the World itself), `rules` (selectors, attribute-linear forms),
`network` (typed influence ties), `build` (draws everything from the world seed).
Exports `World`, `build_world`, `seed_streams`.
"""

from sim.world.arrays import World
from sim.world.build import build_world, seed_streams

__all__ = ["World", "build_world", "seed_streams"]
