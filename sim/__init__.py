"""cybernorms: an agent-based model of cyber-norm diplomacy, on Mesa.

The flow: scenario file -> ScenarioSpec (`load_scenario`) -> World (`build_world`) ->
`NormDiplomacyModel` (steps) -> RunRecord (`run`) -> metrics -> tables and figures;
many runs: `sweep` (experiments) and `compare` (scenarios on shared seeds).

Example:
    >>> from sim import run
    >>> record = run("scenarios/paris_call_2018.yaml", seed=7)
    >>> record.metrics.query("metric == 'signers_state' and at == 'end'")
"""

from sim.model import NormDiplomacyModel
from sim.runs.record import RunRecord
from sim.runs.runner import run
from sim.scenario.loading import load_scenario
from sim.version import MODEL_VERSION
from sim.world.build import build_world

_LAZY = {
    "sweep": ("sim.studies.sweep", "sweep"),
    "load_results": ("sim.studies.results", "load_results"),
    "compare": ("sim.studies.comparison", "compare"),
    "calibrate": ("sim.studies.calibration", "calibrate"),
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
