"""Reading scenario files: YAML, `extends:` chains, dotted overrides, one validation.

`load_scenario` resolves ``extends:`` (deep merge; ``null`` deletes a key; ``replace:``
lists sections of the base the file replaces whole), applies
dotted overrides (``--set``), validates the types with pydantic and then checks every
cross-reference (dimension, bloc, proposal, initiative, country code, attribute).
Every error names the file, the dotted field, the bad value and what was expected,
with a did-you-mean for near misses. Files and `--set` values are read by one strict
reader (sim.scenario.reading), Python values given to `load_scenario` obey the same
limits, and the counts a scenario asks for (actors, steps, ties, work) are checked
against sim.limits before any world is built.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from sim import limits
from sim.data.roster import load_named, load_states
from sim.errors import InputError, boundary, did_you_mean, problem
from sim.scenario import reading
from sim.scenario.problems import problems_from, source_of
from sim.scenario.references import check_references
from sim.scenario.spec import DATA_PATHS, ScenarioSpec


def read_yaml(path: Path, what: str = "scenario file") -> dict:
    """Load one YAML mapping strictly and within limits; errors name file and line.

    Parsed files are cached by modification time (sweeps resolve one file many times).
    """
    path = limits.check_path(path, what)
    try:
        stat = path.stat() if path.is_file() else None
    except OSError:
        stat = None
    if stat is None:
        found = "a folder" if path.is_dir() else "nothing"
        raise InputError(problem(path, "", f"an existing {what} (found {found} there)"))
    return copy.deepcopy(_read_yaml(path.resolve(), stat.st_mtime_ns, stat.st_size, what,
                                    limits.current()))


@functools.lru_cache(maxsize=128)
def _read_yaml(path: Path, mtime_ns: int, size: int, what: str, bounds) -> dict:
    data = reading.read(path, what)
    if not isinstance(data, dict):
        # the text is not quoted: it may be any file (extends: /etc/passwd)
        raise InputError(problem(path, "", f"a {what}: a mapping of sections at the top "
                                 f"level (found {_kind_of(data)})"))
    return data


def _kind_of(data: Any) -> str:
    if data is None:
        return "an empty document"
    if isinstance(data, list):
        return "a list"
    return f"a single {type(data).__name__} value" if not isinstance(data, str) else "text"


def load_model_file[M: BaseModel](path: Path, model: type[M], what: str = "YAML file") -> M:
    """A YAML file validated into `model` (experiments, calibration targets)."""
    try:
        return model.model_validate(read_yaml(path, what))
    except ValidationError as exc:
        raise InputError(problems_from(exc, {}, str(path), model)) from None


def plain_data(value: Any, source: str, depth: int = 0, count: list | None = None) -> Any:
    """A plain copy of Python data given as a scenario or override, within the limits of
    files (depth, values, text and integer sizes); numpy scalars become Python numbers."""
    bounds = limits.current()
    count = count if count is not None else [0]
    count[0] += 1
    if count[0] > bounds.nodes:
        raise InputError(problem(source, "", f"at most {bounds.nodes:,} values (limit `nodes`)"))
    if depth > bounds.depth:
        raise InputError(problem(source, "", f"mappings and lists nested at most {bounds.depth} "
                                 "deep (limit `depth`)"))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Mapping):
        return {key: plain_data(item, source, depth + 1, count) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(item, source, depth + 1, count) for item in value]
    if isinstance(value, str) and len(value) > bounds.string_chars:
        raise InputError(problem(source, "", f"text of at most {bounds.string_chars:,} "
                                 "characters (limit `string_chars`)", value))
    if isinstance(value, int) and value.bit_length() > 3.33 * bounds.integer_digits:
        raise InputError(problem(source, "", f"an integer of at most {bounds.integer_digits} "
                                 "digits (limit `integer_digits`)", value))
    return value


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


#: resolved files (data after `extends:`, provenance, files read with their stamps), shared
#: by every load of the same file: a sweep resolves one file for each of its points
_RESOLVED: dict[tuple, tuple[dict, dict, tuple]] = {}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _resolved(path: Path) -> tuple[dict, dict]:
    """A file's data with its `extends:` chain merged, and where each field came from.

    The result is shared between calls (never mutate it: `_validate` copies what an
    override changes) and read again as soon as any file of the chain changes.
    """
    key = (path.resolve(), Path.cwd(), limits.current())
    cached = _RESOLVED.get(key)
    if cached is not None and all(_stamp(f) == stamp for f, stamp in cached[2]):
        return cached[0], cached[1]
    read: list[Path] = []
    data, provenance = _resolve_extends(path, (), read)
    provenance = {k: _relative(v) for k, v in provenance.items()}
    if len(_RESOLVED) >= 64:
        _RESOLVED.pop(next(iter(_RESOLVED)))
    _RESOLVED[key] = (data, provenance, tuple((f, _stamp(f)) for f in read))
    return data, provenance


def _resolve_extends(path: Path, chain: tuple[Path, ...], read: list[Path]) -> tuple[dict, dict]:
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise InputError(problem(chain[-1], "extends", "no cycle of extends", cycle))
    if len(chain) >= limits.current().depth:
        raise InputError(problem(chain[-1], "extends", f"a chain of at most "
                                 f"{limits.current().depth} files (limit `depth`)"))
    data = read_yaml(path)
    read.append(path)
    _anchor_data_paths(data, path.parent)
    provenance: dict[str, str] = {}
    parent = data.pop("extends", None)
    replaced = data.pop("replace", None) or []
    if parent is None:
        return deep_merge({}, data, provenance, str(path)), provenance
    if not isinstance(parent, str) or not parent.strip():
        raise InputError(problem(path, "extends", "a file name (text)", parent))
    base_path = path.parent / limits.check_path(parent, "scenario file")
    if not base_path.is_file():
        raise InputError(problem(path, "extends", f"an existing scenario file, relative to the "
                                 f"folder of this file (looked for {base_path})", parent))
    base, provenance = _resolve_extends(base_path, (*chain, path), read)
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


def set_path(data: dict, dotted: str, value: Any, source: str = "override") -> str | None:
    """Set `a.b.c` in nested data, creating mappings; list items by index (`x.targets.0`);
    `member_of.<org>` is one key (e.g. `world.states.regime.member_of.coe`).

    Returns the dotted path of the first mapping it had to create on the way (None if
    there was none), so that a typo in a path can be told from a new entry.
    """
    keys = path_keys(dotted) if isinstance(dotted, str) else []
    if not dotted or not keys or any(not k for k in keys) \
            or len(keys) > limits.current().depth:
        raise InputError(problem(source, str(dotted), "a dotted path such as "
                                 "proposals.x.bindingness"))
    node: Any = data
    created = None
    for depth, key in enumerate(keys[:-1]):
        if isinstance(node, list):
            node = node[_index(node, key, keys[: depth + 1], source)]
        else:
            if not isinstance(node.get(key), dict | list):
                if key not in node and created is None:  # a new entry (or a typo)
                    created = ".".join(keys[: depth + 1])
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
    return created


def _index(items: list, key: str, keys, source) -> int:
    if key.isascii() and key.isdigit() and len(key) < 10 and int(key) < len(items):
        return int(key)
    raise InputError(problem(source, ".".join(keys), f"a list index below {len(items)}", key))


def parse_assignment(text: str) -> tuple[str, Any]:
    """`path=value` from the command line; the value is read by the same strict reader
    (and within the same limits) as a scenario file."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise InputError(problem("--set", text, "PATH=VALUE, e.g. proposals.x.bindingness=0.6"))
    path = path.strip()
    if not raw.strip():
        return path, ""
    try:
        return path, reading.parse(raw, "--set")
    except InputError as exc:  # name the path, and where in the value it went wrong
        raise InputError([problem("--set", f"{path} ({p.field})" if p.field else path,
                                  p.expected, raw) for p in exc.problems]) from None



@boundary
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
        data = deep_merge({}, plain_data(source, name), provenance, name)
        data.pop("extends", None)
        data.pop("replace", None)
    else:
        path = Path(source)
        name = _relative(str(path))
        data, provenance = _resolved(path)
        base_dir = path.resolve().parent
    return _validate(data, dict(provenance), name, base_dir, overrides)


def with_overrides(spec: ScenarioSpec, overrides: Mapping[str, Any]) -> ScenarioSpec:
    """A copy of `spec` with dotted overrides applied and validated again."""
    return _validate(spec.to_dict(), {}, spec.source, spec.base_dir, overrides)


def _validate(data: dict, provenance: dict, name: str, base_dir: Path | None,
              overrides: Mapping[str, Any] | None) -> ScenarioSpec:
    """Apply `overrides` to `data` (which stays as it was: only the containers along each
    override's path are copied) and validate the result."""
    created: dict[str, str] = {}  # path an override created -> that override
    for dotted, value in (overrides or {}).items():
        source = f"override {dotted}"
        data = _copied_along(data, path_keys(dotted) if isinstance(dotted, str) else [])
        new = set_path(data, dotted, plain_data(value, source), source="override")
        if new is not None:
            created[new] = dotted
        provenance[dotted] = source
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        found = problems_from(exc, provenance, name)
        raise InputError(_typos(exc, created, data) or found) from None
    spec._source = name
    spec._base_dir = base_dir
    check_references(spec, lambda dotted: source_of(dotted, provenance, name))
    check_limits(spec, lambda dotted: source_of(dotted, provenance, name))
    return spec


def _copied_along(data: dict, keys: list[str]) -> dict:
    """A shallow copy of `data` whose containers on the path `keys` are copies too, so that
    setting that path changes nothing that `data` holds."""
    top = dict(data)
    node: Any = top
    for key in keys[:-1]:
        if isinstance(node, dict):
            index: Any = key
        elif isinstance(node, list) and key.isascii() and key.isdigit() and int(key) < len(node):
            index = int(key)
        else:
            break
        child = node.get(index) if isinstance(node, dict) else node[index]
        if not isinstance(child, dict | list):
            break
        node[index] = child = type(child)(child)
        node = child
    return top


def _typos(error: ValidationError, created: dict[str, str], data: dict) -> list:
    """An override that created a new entry lacking required fields (proposals.pariscall,
    not proposals.paris_call) is a typo more likely than a new entry: say which key was
    new, with the closest existing one."""
    missing = [".".join(map(str, e["loc"])) for e in error.errors() if e["type"] == "missing"]
    typos = []
    for new, dotted in created.items():
        if not any(m.startswith(f"{new}.") for m in missing):
            continue
        parent, _, key = new.rpartition(".")
        node: Any = data
        for part in parent.split(".") if parent else ():
            node = node.get(part, {}) if isinstance(node, dict) else {}
        existing = [k for k in node if k != key] if isinstance(node, dict) else []
        where = f"{parent} has" if parent else "a scenario has"
        typos.append(problem(f"override {dotted}", dotted, f"a path to an existing field: "
                             f"{where} no {key!r}" + did_you_mean(key, existing)
                             + (f" (it has: {', '.join(map(str, existing[:12]))})"
                                if existing else "")))
    return typos


def check_limits(spec: ScenarioSpec, source_of) -> None:
    """The counts a scenario asks for, against sim.limits (before a world is built)."""
    world = spec.world
    problems = []

    def within(name: str, value: int, field: str, what: str) -> None:
        try:
            limits.check(name, value, source_of(field), field, what)
        except InputError as exc:
            problems.extend(exc.problems)

    states = len(load_states(world.states.roster, spec.base_dir))
    named = sum(len(load_named(kind, population.named, spec.base_dir))
                for kind, population in (("firm", world.firms), ("civil", world.civil))
                if population.named)
    generated = world.firms.generated + world.civil.generated
    actors = states + named + generated
    field = "world.firms.generated" if world.firms.generated >= world.civil.generated \
        else "world.civil.generated"
    within("actors", actors, field, f"a world of {actors:,} actors; a number of actors")
    within("actor_proposals", actors * len(spec.proposals), "proposals",
           f"{actors:,} actors x {len(spec.proposals)} proposals; a product")
    network = world.network
    ties = (world.firms.generated + named) * network.same_sector.degree \
        + (named + generated) * network.same_home.degree
    within("ties", ties, "world.network", "non-state actors x degree of same_sector and "
           "same_home ties; a product")
    within("steps", spec.metadata.steps, "metadata.steps", "a number of steps")
    within("launch_rounds", spec.behaviour.launch_rounds, "behaviour.launch_rounds",
           "a number of launch rounds")
    work = actors * len(spec.proposals) * (spec.metadata.steps + spec.behaviour.launch_rounds)
    within("actor_steps", work, "metadata.steps", f"{actors:,} actors x "
           f"{len(spec.proposals)} proposals x (steps + launch rounds); a product")
    try:
        spec.timeline.date_of_step(spec.metadata.steps + 1)
    except (OverflowError, ValueError):
        problems.append(problem(source_of("metadata.steps"), "metadata.steps",
                                "a run that ends before the year 10000", spec.metadata.steps))
    if problems:
        raise InputError(problems)


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
