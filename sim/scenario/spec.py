"""Scenario files: YAML -> a validated, typed `ScenarioSpec`.

A scenario says who exists (world), what they care about (dimensions, interests),
which proposals are on the table (content, bindingness, who may sign, sponsor,
outreach, UN votes), how actors decide (behaviour) and what happens when (events).

This module is the one validation point: `load_scenario` resolves ``extends:``
(deep merge; ``null`` deletes a key), applies dotted overrides, validates the types
with pydantic and then checks every cross-reference (dimension, bloc, proposal,
initiative, country code, attribute). Every error names the file, the dotted field,
the bad value and what was expected, with a did-you-mean for near misses.
"""

from __future__ import annotations

import copy
import difflib
import functools
import hashlib
import json
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from sim.errors import InputError, Problem, problem
from sim.roster import locate
from sim.timeline import UNITS, Timeline

KINDS = ("state", "firm", "civil")
Kind = Literal["state", "firm", "civil"]
#: scenario fields that name data tables (a packaged name or a path)
DATA_PATHS = (("world", "states", "roster"), ("world", "firms", "named"),
              ("world", "civil", "named"))
TERMS = ("align", "cost", "peers", "leader", "momentum", "home", "federated", "outreach", "rival")


# --- field types ---------------------------------------------------------------------


def _parse_time(value: Any) -> date | int:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("a date (YYYY-MM-DD) or a step number >= 1")


TimePoint = Annotated[
    Any,
    PlainValidator(_parse_time),
    PlainSerializer(lambda v: v.isoformat() if isinstance(v, date) else v, when_used="json"),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date"}, {"type": "integer", "minimum": 1}]}
    ),
]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Names = Annotated[
    list[str],
    BeforeValidator(_as_list),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]
Kinds = Annotated[
    list[Kind],
    BeforeValidator(_as_list),
    WithJsonSchema({"anyOf": [{"enum": list(KINDS)},
                              {"type": "array", "items": {"enum": list(KINDS)}}]}),
]
Unit = Annotated[float, Field(ge=0, le=1)]
Signed = Annotated[float, Field(ge=-1, le=1)]
NonNegative = Annotated[float, Field(ge=0)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]

#: attribute-linear form: {base: b, <attribute>: coefficient, member_of.<org>: coefficient}
LinearForm = dict[str, float]


class Spec(BaseModel):
    """Base of all scenario sections: unknown keys are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True,
                              allow_inf_nan=False)


# --- rules ---------------------------------------------------------------------------


class Range(Spec):
    """An attribute range; either bound may be omitted (inclusive bounds)."""

    min: float | None = None
    max: float | None = None


class Selector(Spec):
    """Picks actors. All given conditions must hold; lists mean "any of".

    `any` holds if one of its selectors holds, `not` if its selector does not.
    An empty selector ({}) picks everyone. `member_of` and `where` look at the actor
    itself; the `home_` forms look at its home state (a state's home is itself).
    """

    kind: Kinds | None = None
    id: Names | None = Field(None, description="actor ids: iso3 for states, slugs for named")
    iso3: Names | None = None
    member_of: Names | None = None
    bloc: Names | None = None
    sector: Names | None = None
    type: Names | None = None
    where: dict[str, Range] | None = None
    home_iso3: Names | None = None
    home_member_of: Names | None = None
    home_bloc: Names | None = None
    home_where: dict[str, Range] | None = None
    any: list[Selector] | None = None
    not_: Selector | None = Field(None, alias="not")


class Target(Spec):
    """A weighted group of outreach targets; weights of matching groups add up."""

    select: Selector
    weight: float = 1.0


# --- sections ------------------------------------------------------------------------


class Metadata(Spec):
    name: str
    description: str = ""
    start: date
    unit: Literal["day", "week", "month"] = "week"
    steps: int = Field(ge=1)
    seed: int = Field(0, ge=0)


class Report(Spec):
    """What summaries and metrics single out: checkpoint times and named swing states."""

    checkpoints: list[TimePoint] = []
    swing_states: Names = []


class Bloc(Spec):
    label: str = ""
    members: Selector
    leaders: Names = []
    cohesion: Unit = 0.5


class StatesSpec(Spec):
    roster: str = "states_2018"
    weight: str = "gdp_usd_2018"
    cyber_power: LinearForm = {"cyber_capability": 1.0}
    interests: dict[str, LinearForm] = {}
    salience: dict[str, LinearForm] = {}


class Category(Spec):
    """A firm sector or civil-society type: population share and mean interests."""

    share: NonNegative = 1.0
    interests: dict[str, Signed] = {}
    salience: dict[str, Unit] = {}


class SizeDistribution(Spec):
    """Heavy-tailed sizes of generated actors: Pareto with this shape, minimum `scale`."""

    pareto_shape: float = Field(1.2, gt=0)
    scale: float = Field(1.0, gt=0)


class Population(Spec):
    """Firms or civil society: named actors from a table plus a generated population."""

    named: str | None = None
    generated: int = Field(0, ge=0)
    home_weight: dict[str, float] = {"gdp_usd_2018": 1.0}
    categories: dict[str, Category] = {}
    spread: NonNegative = 0.2
    home_mix: Unit = 0.3
    size: SizeDistribution = SizeDistribution()


class ShareTie(Spec):
    weight: NonNegative = 0.0
    orgs: Names = []


class HomeTie(Spec):
    weight: NonNegative = 0.0
    state_weight: NonNegative = 0.0


class RandomTie(Spec):
    weight: NonNegative = 0.0
    degree: int = Field(0, ge=0)


class Network(Spec):
    """Typed influence ties; each type has a weight (0 switches it off)."""

    same_bloc: NonNegative = 0.0
    same_subregion: NonNegative = 0.0
    shared_membership: ShareTie = ShareTie()
    home: HomeTie = HomeTie()
    same_sector: RandomTie = RandomTie()
    same_home: RandomTie = RandomTie()


class World(Spec):
    states: StatesSpec = StatesSpec()
    firms: Population = Population()
    civil: Population = Population()
    network: Network = Network()


class Uptake(Spec):
    """Members drawn at random among generated actors (world seed), e.g. small firms."""

    select: Selector
    probability: Unit


class Initiative(Spec):
    label: str = ""
    members: Selector | None = None
    uptake: list[Uptake] = []


class Campaign(Spec):
    """Sponsor outreach: effect = budget * weight(targets) * exp(-decay * steps since start).

    A campaign that `convenes` holds a forum at its start: every target reconsiders
    the proposal that step (as at a launch), not only the randomly activated.
    """

    start: TimePoint | None = None
    end: TimePoint | None = None
    budget: NonNegative = 1.0
    decay: NonNegative = 0.0
    targets: list[Target] = []
    convenes: bool = False


class UNVote(Spec):
    """A recorded General Assembly vote: yes if V > yes_above, no if V < no_below.

    V is the utility counted over `terms` (default: all) plus noise. A vote expresses a
    position and bloc discipline more than a bandwagon, so a scenario may leave out
    peers and momentum, e.g. `terms: [align, cost, leader, rival]`.
    """

    at: TimePoint
    yes_above: float = 0.0
    no_below: float = -0.5
    terms: list[Literal[TERMS]] = list(TERMS)

    @model_validator(mode="after")
    def _ordered(self):
        if self.no_below > self.yes_above:
            raise ValueError("no_below must not exceed yes_above")
        return self


class Proposal(Spec):
    label: str = ""
    content: dict[str, Signed]
    bindingness: Unit = 0.0
    open_to: Kinds = list(KINDS)
    sponsor: str | None = None
    launch: TimePoint = 1
    federates: Names = []
    outreach: dict[Identifier, Campaign] = {}
    rivals: dict[str, Unit] | None = None
    un_vote: UNVote | None = None


class Threshold(Spec):
    """theta = mean + power * cyber_power + sd * z: great powers guard their autonomy."""

    mean: float = 0.5
    sd: NonNegative = 0.1
    power: float = 0.0


class KindBehaviour(Spec):
    """Coefficients of the utility terms for one kind of actor, and how it decides."""

    align: float = 1.0
    cost: float = 1.0
    peers: float = 0.0
    leader: float = 0.0
    momentum: float = 0.0
    home: float = 0.0
    federated: float = 0.0
    outreach: float = 0.0
    rival: float = 0.0
    threshold: Threshold = Threshold()
    hysteresis: NonNegative = 0.2
    activation: Unit = 0.05


class Behaviour(Spec):
    """How every kind decides; `legitimacy` weighs each kind's coverage in momentum.

    `legitimacy_over: eligible` measures a proposal's legitimacy among the kinds it is
    open to (weights renormalised over them: a states-only call signed by every state
    is fully legitimate); `all` measures it over the whole community (kinds that may
    not sign count as uncovered, so inclusion itself adds legitimacy).
    """

    temperature: NonNegative = 0.0
    launch_rounds: int = Field(1, ge=1)
    legitimacy: dict[Kind, NonNegative] = {"state": 1.0, "firm": 0.0, "civil": 0.0}
    legitimacy_over: Literal["eligible", "all"] = "eligible"
    state: KindBehaviour = KindBehaviour()
    firm: KindBehaviour = KindBehaviour()
    civil: KindBehaviour = KindBehaviour()


class Change(Spec):
    set: float | None = None
    add: float | None = None
    scale: float | None = None

    @model_validator(mode="after")
    def _one(self):
        if sum(v is not None for v in (self.set, self.add, self.scale)) != 1:
            raise ValueError("give exactly one of set, add, scale")
        return self


class Event(Spec):
    at: TimePoint
    description: str = ""
    select: Selector
    interests: dict[str, Change] = {}
    salience: dict[str, Change] = {}
    threshold: Change | None = None


class ScenarioSpec(Spec):
    """A whole scenario, validated. Build one with `load_scenario`."""

    extends: str | None = Field(None, description="a base scenario file, merged under this one")
    metadata: Metadata
    report: Report = Report()
    dimensions: dict[Identifier, str]
    blocs: dict[Identifier, Bloc] = {}
    world: World = World()
    initiatives: dict[Identifier, Initiative] = {}
    proposals: dict[Identifier, Proposal]
    behaviour: Behaviour = Behaviour()
    events: dict[Identifier, Event] = {}

    _source: str = PrivateAttr("<memory>")
    _base_dir: Path | None = PrivateAttr(None)

    @property
    def source(self) -> str:
        """The file this spec was loaded from (or "<memory>")."""
        return self._source

    @property
    def base_dir(self) -> Path | None:
        """Directory against which relative data paths in the spec are resolved."""
        return self._base_dir

    @property
    def timeline(self) -> Timeline:
        return Timeline(self.metadata.start, self.metadata.unit)

    def step_of(self, when: date | int) -> int:
        return self.timeline.step_of(when)

    def to_dict(self) -> dict:
        """Plain data (dates stay dates), as written to the resolved-scenario YAML."""
        data = self.model_dump(mode="python", by_alias=True, exclude={"extends"})
        return _plain(data)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def digest(self) -> str:
        """Content hash of the resolved scenario and of the data tables it reads.

        Tables enter by their content, not their path, so the same scenario and data
        give the same digest wherever they are, and a corrected table a new one.
        """
        data = self.model_dump(mode="json", by_alias=True, exclude={"extends"})
        for keys in DATA_PATHS:
            node = data
            for key in keys[:-1]:
                node = node[key]
            if node.get(keys[-1]):
                node[keys[-1]] = _file_digest(locate(node[keys[-1]], self.base_dir))
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _file_digest(path: Path) -> str:
    path = Path(path).resolve()
    stat = path.stat()
    return _file_digest_cached(path, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _file_digest_cached(path: Path, mtime_ns: int, size: int) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    return data


# --- reading files, extends, overrides -----------------------------------------------


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
    if parent is None:
        return deep_merge({}, data, provenance, str(path)), provenance
    if not isinstance(parent, str):
        raise InputError(problem(path, "extends", "a file name (string)", parent))
    base, provenance = _resolve_extends(path.parent / parent, (*chain, path))
    return deep_merge(base, data, provenance, str(path)), provenance


def set_path(data: dict, dotted: str, value: Any, source: str = "override") -> None:
    """Set `a.b.c` in nested data, creating mappings; list items by index (`x.targets.0`)."""
    keys = dotted.split(".")
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


# --- validation ----------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated / Optional to reach the model, list or dict type underneath."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else args[0]
        else:
            return annotation


def _field_names(loc: tuple, root: type[BaseModel]) -> list[str]:
    """Field names allowed at `loc` (a pydantic error location), for did-you-mean."""
    annotation: Any = root
    for key in loc:
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or n: f for n, f in annotation.model_fields.items()}
            if key not in fields:
                return []
            annotation = fields[key].annotation
        elif origin in (list, dict):
            annotation = typing.get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or n for n, f in annotation.model_fields.items()]
    return []


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _source_of(path: str, provenance: dict, default: str) -> str:
    """The file (or override) that last wrote `path`, a field below it, or its parent."""
    below = [source for key, source in provenance.items()
             if key == path or key.startswith(f"{path}.")]
    if below:
        return below[-1]  # provenance is in order of writing: base, child, overrides
    while path:
        path = path.rpartition(".")[0]
        if path in provenance:
            return provenance[path]
    return default


def problems_from(error: ValidationError, provenance: dict, default: str,
                  root: type[BaseModel] | None = None) -> list[Problem]:
    """Turn pydantic errors into Problems naming file, dotted field, value, expectation."""
    root = root or ScenarioSpec
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        dotted = ".".join(str(k) for k in loc)
        source = _source_of(dotted, provenance, default)
        if item["type"] == "extra_forbidden":
            allowed = _field_names(loc[:-1], root)
            expected = "no such key" + did_you_mean(loc[-1], allowed)
            if allowed:
                expected += f"; allowed here: {', '.join(allowed)}"
            problems.append(problem(source, dotted, expected, loc[-1]))
        elif item["type"] == "missing":
            problems.append(problem(source, dotted, "this required field to be present"))
        else:
            message = item["msg"].removeprefix("Value error, ")
            problems.append(problem(source, dotted, message[0].lower() + message[1:],
                                    item.get("input")))
    return problems


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
    from sim.references import check_references  # needs the data tables

    check_references(spec, lambda dotted: _source_of(dotted, provenance, name))
    return spec


#: where shipped scenarios live; a bare name such as "paris_call_2018" is looked up here
SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"


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


__all__ = [
    "KINDS",
    "TERMS",
    "UNITS",
    "ScenarioSpec",
    "Selector",
    "load_scenario",
    "parse_assignment",
    "scenario_json_schema",
]
