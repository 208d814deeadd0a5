"""JSON Schema of the scenario format, for editors and external validators."""

from __future__ import annotations

from typing import Any

from sim.scenario.spec import ScenarioSpec


def scenario_json_schema(partial: bool = False) -> dict:
    """JSON Schema of the scenario format (for editors and external validators).

    `partial=True` is for files that `extends:` another and so hold only what they
    change: nothing is required, and any field may be null (which deletes it).
    """
    schema = ScenarioSpec.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cybernorms scenario" + (" (partial, for extends:)" if partial else "")
    return _without_required(schema) if partial else schema


def _without_required(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: {"anyOf": [v, {"type": "null"}]}
                             for k, v in out["properties"].items()}
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = {"anyOf": [out["additionalProperties"], {"type": "null"}]}
    return out
