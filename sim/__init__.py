"""cybernorms: an agent-based model of cyber-norm diplomacy, on Mesa.

The flow: scenario file -> ScenarioSpec (`load_scenario`) -> World (`build_world`) ->
`NormDiplomacyModel` (steps) -> RunRecord (`run`) -> metrics -> tables and figures;
many runs: `sweep` (experiments) and `compare` (scenarios on shared seeds).

Example:
    >>> from sim import run
    >>> record = run("scenarios/paris_call_2018.yaml", seed=7)
    >>> record.metrics.query("metric == 'signers_state' and at == 'end'")
"""

MODEL_VERSION = "0.1.0"
"""Changes whenever the same scenario and seed would give different results."""

from sim.model import NormDiplomacyModel  # noqa: E402
from sim.runs import RunRecord, run  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402
from sim.world import build_world  # noqa: E402

_LAZY = {
    "sweep": ("sim.sweep", "sweep"),
    "load_results": ("sim.results", "load_results"),
    "compare": ("sim.analysis", "compare"),
    "calibrate": ("sim.calibration", "calibrate"),
}


def __getattr__(name: str):
    """Import the heavier entry points (sweeps, comparisons) on first use."""
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


__all__ = ["MODEL_VERSION", "NormDiplomacyModel", "RunRecord", "build_world", "calibrate",
           "compare", "load_results", "load_scenario", "run", "sweep"]
