"""What the dashboard lets analysts vary, expressed as dotted overrides of a scenario file.

Mesa's SolaraViz rebuilds a model from flat keyword arguments: `source` goes to the
NormScenario, `rng` and dotted paths such as ``proposals.paris_call.bindingness`` go to
NormDiplomacyModel, which applies them as overrides. This module reads a scenario's
values for each control and turns what the user set back into the smallest set of
overrides (only what differs from the file), so the page can show, and Reset apply,
exactly what changed. It holds no UI code, so it is tested on its own.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.scenario.loading import SCENARIO_DIR, find_scenario, load_scenario, with_overrides
from sim.scenario.spec import KINDS, TERMS, ScenarioSpec

#: environment variable through which `cybernorms dashboard SCENARIO` names the scenario
SCENARIO_ENV = "CYBERNORMS_SCENARIO"
DEFAULT_SOURCE = "paris_call_2018"
#: strength of a dimension newly added to a text's scope (a typical commitment in the
#: shipped texts); the per-dimension sliders change it
NEW_DIMENSION_STRENGTH = 0.7
#: keyword arguments of the model that are not dotted overrides
MODEL_KEYS = ("source", "rng")
KIND_LABELS = {"state": "States", "firm": "Firms", "civil": "Civil society"}
KIND_PLURAL = {"state": "states", "firm": "firms", "civil": "civil society"}


@dataclass(frozen=True)
class Coefficient:
    """A behaviour slider: the dotted field under `behaviour.<kind>.` and its range."""

    field: str
    label: str
    high: float
    step: float = 0.01


#: behaviour sliders per kind: the utility terms of sim.decision, then how actors decide
COEFFICIENTS = tuple(
    Coefficient(term, label, high) for term, label, high in (
        ("align", "align: agreement with the text", 3.0),
        ("cost", "cost: what a binding text constrains", 3.0),
        ("peers", "peers: share of ties who signed", 2.0),
        ("leader", "leader: bloc leader's stance", 2.0),
        ("momentum", "momentum: legitimacy of the signers", 2.0),
        ("home", "home: home state's stance", 2.0),
        ("federated", "federated initiative member", 2.0),
        ("outreach", "outreach: campaign pressure", 2.0),
        ("rival", "rival: commitments to rival texts", 2.0),
        ("capacity", "capacity: diplomatic and cyber capacity", 2.0),
        ("regime", "regime: embeddedness in the cyber regime", 2.0),
        ("ties", "ties: ties to the sponsor", 2.0),
        ("cue", "cue: leaders of every group", 2.0),
    )
) + (
    Coefficient("threshold.mean", "threshold: mean resistance", 3.0),
    Coefficient("activation", "activation: share reconsidering a step", 0.5, 0.005),
)
assert [c.field for c in COEFFICIENTS[:len(TERMS)]] == list(TERMS)


def scenario_choices(extra: str | Path | None = None) -> dict[str, str]:
    """Scenario label -> file: the shipped scenarios, plus one named on the command line."""
    choices = {path.stem: str(path.resolve()) for path in sorted(SCENARIO_DIR.glob("*.yaml"))}
    if extra:
        path = str(find_scenario(extra).resolve())
        if path not in choices.values():
            choices = {path: path, **choices}
    return choices


def initial_source() -> str:
    """The scenario to open with: the command line's (via SCENARIO_ENV) or the baseline."""
    return str(find_scenario(os.environ.get(SCENARIO_ENV) or DEFAULT_SOURCE).resolve())


def source_of(spec: ScenarioSpec) -> str:
    """The scenario file a spec was loaded from, as an absolute path."""
    return str(find_scenario(spec.source).resolve())


@lru_cache(maxsize=32)
def _load(path: str, mtime_ns: int) -> ScenarioSpec:
    return load_scenario(path)


def file_spec(source: str) -> ScenarioSpec:
    """The scenario file as written (cached until the file changes)."""
    path = find_scenario(source)
    return _load(str(path), path.stat().st_mtime_ns)


def file_value(spec: ScenarioSpec, dotted: str) -> Any:
    """The value the scenario file gives a dotted path (None where it gives none)."""
    node: Any = spec.to_dict()
    for key in dotted.split("."):
        if isinstance(node, list):
            node = node[int(key)] if key.isdigit() and int(key) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            return None
    return node


def changed(spec: ScenarioSpec, overrides: dict[str, Any], key: str, value: Any) -> dict:
    """`overrides` with `key` set to `value`, or dropped where that is the file's value."""
    result = {k: v for k, v in overrides.items() if k != key}
    if value != file_value(spec, key):
        result[key] = copy.deepcopy(value)
    return result


def validate(source: str, overrides: dict[str, Any]) -> tuple[ScenarioSpec | None, str | None]:
    """(the scenario with these overrides, None) or (None, why it is not a valid scenario)."""
    try:
        spec = file_spec(source)
        return (with_overrides(spec, overrides) if overrides else spec), None
    except InputError as exc:
        return None, str(exc)


def model_parameters(source: str, seed: int | None, overrides: dict[str, Any]) -> dict:
    """The flat keyword arguments SolaraViz's Reset passes on to NormScenario and the model."""
    return {"source": source, "rng": seed, **overrides}


# --- what one proposal's controls show ------------------------------------------------


def scope(spec: ScenarioSpec, pid: str) -> list[str]:
    """Dimensions the text covers (nonzero content), in the scenario's order."""
    content = spec.proposals[pid].content
    return [d for d in spec.dimensions if content.get(d, 0.0) != 0.0]


def content_for(spec: ScenarioSpec, pid: str, dimensions: list[str],
                strengths: dict[str, float] | None = None) -> dict[str, float]:
    """The `content` mapping of a text covering `dimensions`.

    A dimension keeps the strength the text gives it (or `strengths`); a newly covered
    one enters at NEW_DIMENSION_STRENGTH.
    """
    current = spec.proposals[pid].content
    strengths = strengths or {}
    return {d: float(strengths.get(d, current.get(d) or NEW_DIMENSION_STRENGTH))
            for d in spec.dimensions if d in dimensions}


def open_to(kinds: list[str]) -> list[str]:
    """Kinds in the canonical order (so the same choice always gives the same override)."""
    return [k for k in KINDS if k in kinds]


def campaign_targets(base: ScenarioSpec, pid: str, campaign: str, weights: list[float],
                     extra_blocs: list[str]) -> list[dict]:
    """A campaign's target groups: the file's groups with new weights, plus whole blocs."""
    groups = copy.deepcopy(file_value(base, f"proposals.{pid}.outreach.{campaign}.targets") or [])
    for group, weight in zip(groups, weights, strict=False):
        group["weight"] = float(weight)
    groups += [{"select": {"kind": ["state"], "bloc": [bloc]}, "weight": 1.0}
               for bloc in extra_blocs]
    return groups


def target_weights(spec: ScenarioSpec, base: ScenarioSpec, pid: str, campaign: str
                   ) -> tuple[list[float], list[str]]:
    """(weights of the file's target groups, blocs added as groups) as `spec` has them."""
    n_file = len(base.proposals[pid].outreach[campaign].targets) \
        if campaign in base.proposals[pid].outreach else 0
    targets = spec.proposals[pid].outreach[campaign].targets
    extra = [t.select.bloc[0] for t in targets[n_file:] if t.select.bloc]
    return [t.weight for t in targets[:n_file]], extra


def describe_target(select: dict) -> str:
    """A selector in words: "states in francophonie", "firms, civil society based in eu"."""
    parts = []
    kinds = select.get("kind") or []
    parts.append(", ".join(KIND_PLURAL[k] for k in kinds) if kinds else "all actors")
    for key, words in (("iso3", ""), ("id", ""), ("member_of", "in"), ("bloc", "of bloc"),
                       ("sector", "in sector"), ("type", "of type"),
                       ("home_iso3", "based in"), ("home_member_of", "based in"),
                       ("home_bloc", "based in bloc")):
        values = select.get(key)
        if values:
            parts.append(f"{words} {', '.join(values)}".strip())
    if select.get("where") or select.get("home_where"):
        parts.append("meeting attribute conditions")
    if select.get("any") or select.get("not"):
        parts.append("(with further conditions)")
    text = " ".join(parts)
    return text if kinds or len(parts) > 1 else "everyone"


def describe_override(key: str, value: Any) -> str:
    """One override in words, for the list of what differs from the file."""
    parts = key.split(".")
    if key == "metadata.steps":
        return f"{value} steps"
    if parts[0] == "behaviour" and len(parts) >= 3:
        return f"{parts[1]} {'.'.join(parts[2:])} = {value:g}"
    if parts[0] == "behaviour":
        return f"{parts[1]} = {value:g}"
    if parts[0] == "proposals" and len(parts) >= 3:
        pid, field = parts[1], parts[2]
        if field == "open_to":
            return f"{pid} open to {', '.join(KIND_PLURAL[k] for k in value)}"
        if field == "content":
            return f"{pid} covers {len(value)} dimensions"
        if field == "bindingness":
            return f"{pid} bindingness {value:g}"
        if field == "outreach" and len(parts) >= 5:
            what = parts[4]
            if what == "targets":
                return f"{parts[3]} campaign: {len(value)} target groups"
            return f"{parts[3]} campaign {what} {value:g}"
    return f"{key} = {value}"
