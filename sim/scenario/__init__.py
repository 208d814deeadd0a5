"""Scenario files -> a validated `ScenarioSpec`, the first step of the flow.

Modules: `spec` (the format), `loading` (YAML, `extends:`, `--set`), `problems`
(error messages), `references` (cross-references), `schema` (JSON Schema), `timeline`.
Exports `load_scenario`, `with_overrides`, `find_scenario`, `ScenarioSpec`, `KINDS`, `TERMS`.
"""

from sim.scenario.loading import find_scenario, load_scenario, with_overrides
from sim.scenario.spec import KINDS, TERMS, ScenarioSpec

__all__ = ["KINDS", "TERMS", "ScenarioSpec", "find_scenario", "load_scenario", "with_overrides"]
