"""cybernorms: an agent-based model of cyber-norm diplomacy, on Mesa.

The flow: scenario file -> ScenarioSpec (`load_scenario`) -> World (`build_world`) ->
`NormDiplomacyModel` (steps) -> RunRecord (`run`) -> metrics -> tables and figures.
"""

MODEL_VERSION = "0.1.0"
"""Changes whenever the same scenario and seed would give different results."""

from sim.model import NormDiplomacyModel  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402
from sim.world import build_world  # noqa: E402

__all__ = ["MODEL_VERSION", "NormDiplomacyModel", "build_world", "load_scenario"]
