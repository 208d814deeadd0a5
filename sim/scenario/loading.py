"""Reading scenario files: YAML, `extends:` chains, dotted overrides, one validation.

`load_scenario` resolves ``extends:`` (deep merge; ``null`` deletes a key; ``replace:``
lists sections of the base the file replaces whole), applies
dotted overrides (``--set``), validates the types with pydantic and then checks every
cross-reference (dimension, bloc, proposal, initiative, country code, attribute).
Every error names the file, the dotted field, the bad value and what was expected,
with a did-you-mean for near misses.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import InputError, did_you_mean, problem
from sim.scenario.problems import problems_from, source_of
from sim.scenario.references import check_references
from sim.scenario.spec import DATA_PATHS, ScenarioSpec

#: libyaml's safe loader where available (10x faster); both refuse python tags
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> dict:
    """Load one YAML mapping safely; syntax errors name file and line.

    Parsed files are cached by modification time (sweeps resolve one file many times).
    """
    if not path.is_file():
        raise InputError(problem(path, "", "an existing scenario file"))
    stat = path.stat()
    return copy.deepcopy(_read_yaml(path.resolve(), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=128)
def _read_yaml(path: Path, mtime_ns: int, size: int) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(problem(path, where, f"valid YAML ({exc.problem})")) from exc
    except yaml.YAMLError as exc:
        raise InputError(problem(path, "", f"valid YAML ({exc})")) from exc
    if not isinstance(data, dict):
        raise InputError(problem(path, "", "a mapping of sections at the top level", data))
    return data


def load_model_file[M: BaseModel](path: Path, model: type[M]) -> M:
    """A YAML file validated into `model` (experiments, calibration targets)."""
    try:
        return model.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise InputError(problems_from(exc, {}, str(path), model)) from None


def deep_merge(base: dict, override: Mapping, provenance: dict, source: str, prefix="") -> dict:
    """Merge `override` into a copy of `base`: mappings merge, the rest replaces, None deletes."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        path = f"{prefix}{key}"
        if value is None:
            merged.pop(key, None)
            provenance[path] = source
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value, provenance, source, f"{path}.")
        else:
            merged[key] = copy.deepcopy(value)
            provenance[path] = source
    return merged


def _anchor_data_paths(data: dict, directory: Path) -> None:
    """Make relative table paths absolute, against the file that wrote them.

    A base file's tables then resolve wherever the child lives, and a saved
    resolved scenario reloads from any folder. Packaged names stay names.
    """
    for keys in DATA_PATHS:
        node = data
        for key in keys[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        value = node.get(keys[-1]) if isinstance(node, dict) else None
        is_path = isinstance(value, str) and ("/" in value or value.endswith(".csv"))
        if is_path and not Path(value).is_absolute():
            node[keys[-1]] = str((directory / value).resolve())


def _resolve_extends(path: Path, chain: tuple[Path, ...]) -> tuple[dict, dict]:
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise InputError(problem(chain[-1], "extends", "no cycle of extends", cycle))
    data = read_yaml(path)
    _anchor_data_paths(data, path.parent)
    provenance: dict[str, str] = {}
    parent = data.pop("extends", None)
    replaced = data.pop("replace", None) or []
    if parent is None:
        return deep_merge({}, data, provenance, str(path)), provenance
    if not isinstance(parent, str):
        raise InputError(problem(path, "extends", "a file name (string)", parent))
    base, provenance = _resolve_extends(path.parent / parent, (*chain, path))
    for index, dotted in enumerate(_as_names(replaced, path)):
        _drop_path(base, dotted, path, f"replace.{index}")
    return deep_merge(base, data, provenance, str(path)), provenance


def _as_names(value: Any, path: Path) -> list[str]:
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(problem(path, "replace", "a list of dotted sections of the base, "
                                 "e.g. [dimensions, world.states.interests]", value))
    return value


def _drop_path(data: dict, dotted: str, path: Path, field: str) -> None:
    """Remove a section of the base, so the child's version replaces it whole."""
    keys = path_keys(dotted)
    node: Any = data
    for key in keys[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict) or keys[-1] not in node:
        raise InputError(problem(path, field, "a section of the base scenario", dotted))
    del node[keys[-1]]


def path_keys(dotted: str) -> list[str]:
    """The keys of a dotted path; `member_of.<org>` (a key of a linear form) stays one key."""
    keys: list[str] = []
    for key in dotted.split("."):
        if keys and keys[-1] == "member_of":
            keys[-1] = f"member_of.{key}"
        else:
            keys.append(key)
    return keys


def set_path(data: dict, dotted: str, value: Any, source: str = "override") -> None:
    """Set `a.b.c` in nested data, creating mappings; list items by index (`x.targets.0`);
    `member_of.<org>` is one key (e.g. `world.states.regime.member_of.coe`)."""
    keys = path_keys(dotted)
    if not dotted or any(not k for k in keys):
        raise InputError(problem(source, dotted, "a dotted path such as proposals.x.bindingness"))
    node: Any = data
    for depth, key in enumerate(keys[:-1]):
        if isinstance(node, list):
            node = node[_index(node, key, keys[: depth + 1], source)]
        else:
            if not isinstance(node.get(key), dict | list):
                node[key] = {}
            node = node[key]
        if not isinstance(node, dict | list):
            reached = ".".join(keys[: depth + 1])
            raise InputError(problem(source, dotted, f"a path into mappings or lists, but "
                                     f"{reached} holds a single value", node))
    last = keys[-1]
    if isinstance(node, list):
        node[_index(node, last, keys, source)] = value
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value


def _index(items: list, key: str, keys, source) -> int:
    if key.isdigit() and int(key) < len(items):
        return int(key)
    raise InputError(problem(source, ".".join(keys), f"a list index below {len(items)}", key))


def parse_assignment(text: str) -> tuple[str, Any]:
    """`path=value` from the command line; the value is parsed as YAML."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise InputError(problem("--set", text, "PATH=VALUE, e.g. proposals.x.bindingness=0.6"))
    try:
        return path.strip(), yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise InputError(problem("--set", path.strip(), "a YAML value", raw)) from exc



def load_scenario(
    source: str | Path | Mapping,
    overrides: Mapping[str, Any] | None = None,
    *,
    base_dir: Path | None = None,
) -> ScenarioSpec:
    """Load, merge, override and validate a scenario.

    Args:
        source: a YAML file path, or a mapping with the same structure.
        overrides: dotted paths to values, e.g. ``{"proposals.paris_call.bindingness": 0.6}``.
        base_dir: for a mapping, the directory relative data paths are resolved against.

    Raises:
        InputError: naming file, field, bad value and what was expected.

    Example:
        >>> spec = load_scenario("scenarios/paris_call_2018.yaml",
        ...                      {"proposals.paris_call.open_to": ["state"]})
    """
    provenance: dict[str, str] = {}
    if isinstance(source, Mapping):
        name = "<memory>"
        data = deep_merge({}, source, provenance, name)
        data.pop("extends", None)
        data.pop("replace", None)
    else:
        path = Path(source)
        name = _relative(str(path))
        data, provenance = _resolve_extends(path, ())
        provenance = {k: _relative(v) for k, v in provenance.items()}
        base_dir = path.resolve().parent
    return _validate(data, provenance, name, base_dir, overrides)


def with_overrides(spec: ScenarioSpec, overrides: Mapping[str, Any]) -> ScenarioSpec:
    """A copy of `spec` with dotted overrides applied and validated again."""
    return _validate(spec.to_dict(), {}, spec.source, spec.base_dir, overrides)


def _validate(data: dict, provenance: dict, name: str, base_dir: Path | None,
              overrides: Mapping[str, Any] | None) -> ScenarioSpec:
    for dotted, value in (overrides or {}).items():
        set_path(data, dotted, copy.deepcopy(value), source="override")
        provenance[dotted] = f"override {dotted}"
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, provenance, name)) from None
    spec._source = name
    spec._base_dir = base_dir
    check_references(spec, lambda dotted: source_of(dotted, provenance, name))
    return spec


#: where shipped scenarios live; a bare name such as "paris_call_2018" is looked up here
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def shipped_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def find_scenario(name_or_path: str | Path) -> Path:
    """A scenario file path, or the shipped scenario of that name."""
    path = Path(name_or_path)
    if path.is_file() or path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return path
    candidate = SCENARIO_DIR / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    names = shipped_scenarios()
    raise InputError(problem(name_or_path, "", "a scenario file or a shipped scenario name"
                             + did_you_mean(str(name_or_path), names)
                             + f" (shipped: {', '.join(names)})"))


def _relative(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path
