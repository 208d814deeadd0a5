"""`cybernorms design SCENARIO`: search the space of a proposal's texts for support.

A text is what a sponsor writes: its scope (which dimensions it addresses), its
content on each (within bounds), its bindingness and who may sign (`open_to`). Other
dotted scenario paths may join the search as `parameters` (as in a sweep), so the
same search can later cover how a text is negotiated.

Support is the objective: a metric of the metrics table (`share_states`, `share_gdp`,
`joined_IND`, ...) or a weighted sum of several (`0.5*joined_IND + 0.5*joined_BRA`),
as the mean over replications at one time point. Constraints bound such means or the
ambition of the text (`joined_IND>=0.5`, `bindingness>=0.3`). Ambition has three
measures: breadth (dimensions addressed), bindingness, and distance from the text as
the scenario writes it (the sponsor's ideal): the mean absolute change of content per
dimension. The result is the Pareto front of support against the three.

Search: the text as written; its one-edit neighbours (each dimension put in or out
of scope, a few bindingness levels, each other `open_to`); a scrambled Sobol' sample
of the whole space; then `rounds` of edits of texts on the front so far. Every
stage is a sweep (sim.studies.sweep) of all texts so far on common random numbers,
so texts are compared on the same worlds, runs go to the process pool or Dask, and
a killed search resumes: earlier stages are reused by run id, and later stages are
drawn again from the same results and seeds.
"""

from __future__ import annotations

import itertools
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy.stats import qmc

from sim.errors import InputError, did_you_mean, problem
from sim.metrics import checkpoint_label
from sim.runs.runner import spec_for
from sim.runs.store import content_hash, write_text
from sim.scenario.loading import find_scenario, load_model_file
from sim.scenario.problems import problems_from
from sim.scenario.spec import KINDS, Kind, TimePoint
from sim.studies.backends import default_workers, duration
from sim.studies.experiment import Parameter, Point
from sim.studies.results import SweepResult
from sim.studies.sweep import pilot, sweep
from sim.version import MODEL_VERSION
from sim.world.build import build_world

AMBITION = ("breadth", "bindingness", "distance")
#: the command-line option of each design-file field, where the names differ
OPTIONS = {"constraints": "--constraint"}
#: metric families of the metrics table (sim/metrics.py), for checking names up front
FIXED_METRICS = ("share_states", "share_gdp", "polarisation", "opposers_state", "withdrawals",
                 "tipping_step", *(f"signers_{kind}" for kind in KINDS))
NUMBER = r"[0-9]*\.?[0-9]+(?:e-?[0-9]+)?"
NAME = r"[A-Za-z][A-Za-z0-9_]*"
TERM = rf"(?:{NUMBER}\*)?{NAME}"
CONSTRAINT = re.compile(rf"^\s*(?P<name>{NAME})\s*(?P<op>>=|<=)\s*(?P<value>-?{NUMBER})\s*$")


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class TextSpace(Spec):
    """What the sponsor may write. Content bounds are per dimension, in [-1, 1]."""

    content: dict[str, tuple[float, float]] | None = Field(
        None, description="dimension -> [low, high] content when addressed "
                          "(default: every dimension, [0.2, 1.0])")
    keep: list[str] = Field([], description="dimensions always addressed (red lines)")
    exclude: list[str] = Field([], description="dimensions never addressed")
    bindingness: tuple[float, float] = (0.0, 0.8)
    open_to: list[list[Kind]] | None = Field(
        None, description="who may sign: the choices (default: every set of kinds "
                          "holding the sponsor's kind)")

    @model_validator(mode="after")
    def _bounds(self):
        pairs = dict(self.content or {})
        pairs["bindingness"] = self.bindingness
        for name, (low, high) in pairs.items():
            top = 1.0
            bottom = 0.0 if name == "bindingness" else -1.0
            if not bottom <= low <= high <= top:
                raise ValueError(f"{name}: bounds [low, high] with {bottom:g} <= low <= "
                                 f"high <= {top:g}")
        return self


class Search(Spec):
    """How many texts, in which stages, with how many replications each."""

    samples: int = Field(160, ge=0, description="quasi-random texts over the whole space")
    neighbours: bool = Field(True, description="one-edit variants of the text as written")
    rounds: int = Field(2, ge=0, description="rounds of edits of texts on the front")
    per_round: int = Field(48, ge=1, description="new texts per round")
    replications: int = Field(20, ge=1)
    seed: int = Field(0, ge=0)


class DesignSpec(Spec):
    """A design file (experiments/design_*.yaml); command-line options override it."""

    name: str | None = Field(None, description="default: the scenario's name")
    proposal: str | None = None
    objective: str = "share_states"
    at: TimePoint | Literal["end"] = "end"
    constraints: list[str] = []
    track: list[str] = Field([], description="more metrics to report per text "
                                             "(e.g. joined_IND)")
    space: TextSpace = TextSpace()
    parameters: dict[str, Parameter] = Field(
        {}, description="other dotted scenario paths searched with the text")
    search: Search = Search()


@dataclass
class TextSearch:
    """A design checked against its scenario: what may be written and how support is read.

    Attributes:
        spec: the design as given; scenario: the scenario file; proposal: whose text.
        dimensions: the scenario's dimensions; bounds: content [low, high] of those a
            text may address; ideal: the content as written (0 = not addressed).
        reference: the text as written (content, bindingness, open_to, parameters).
        open_to: the choices of who may sign; objective: metric -> weight;
        constraints: (name, ">=" or "<=", value); track: more metrics to report.
        at_label: the metrics' `at` for the time point; constants: overrides every run
            shares (fewer steps, checkpoint, swing states); source: where it came from.
    """

    spec: DesignSpec
    scenario: Path
    proposal: str
    dimensions: list[str]
    bounds: dict[str, tuple[float, float]]
    ideal: dict[str, float]
    reference: dict[str, Any]
    open_to: list[list[str]]
    objective: dict[str, float]
    constraints: list[tuple[str, str, float]]
    track: list[str]
    at_label: str
    constants: dict[str, Any]
    source: str


# --- reading and checking --------------------------------------------------------------------

def load_design(path: str | Path | None, scenario: str | Path, **options) -> TextSearch:
    """A design from a file (or the defaults), with options from the command line.

    `options` are DesignSpec fields (`objective`, `at`, `constraints`, `proposal`) and
    Search fields (`samples`, `rounds`, `per_round`, `replications`, `seed`); None
    leaves the file's value. Raises InputError naming file (or option), field and
    expectation for anything the scenario does not have.
    """
    if path and not Path(path).is_file():
        raise InputError(problem(path, "--spec", "an existing design file (see "
                                 "experiments/design_paris_call_2018.yaml)"))
    spec = load_model_file(Path(path), DesignSpec) if path else DesignSpec()
    default = str(path) if path else "design defaults"
    top = {k: v for k, v in options.items() if v is not None and k in DesignSpec.model_fields}
    search = {k: v for k, v in options.items() if v is not None and k in Search.model_fields}
    given = {**{k: OPTIONS.get(k, f"--{k}") for k in top},
             **{f"search.{k}": f"--{k.replace('_', '-')}" for k in search}}
    try:
        spec = DesignSpec.model_validate({**spec.model_dump(), **top,
                                          "search": {**spec.search.model_dump(), **search}})
    except ValidationError as exc:
        raise InputError(problems_from(exc, given, default, DesignSpec)) from None
    origin = {k: (given[k], "") if k in given else (default, k) for k in DesignSpec.model_fields}
    scenario = find_scenario(scenario).resolve()
    base = spec_for(scenario)
    if spec.name is None:
        spec = spec.model_copy(update={"name": base.metadata.name})
    return _check(spec, scenario, base, origin, str(path) if path else "command line")


def _check(spec: DesignSpec, scenario: Path, base, origin: dict, source: str) -> TextSearch:
    def where(field: str, sub: str = "") -> tuple[str, str]:
        file, name = origin[field]
        return (file, f"{name}{'.' if name and sub else ''}{sub}") if name else (file, "")

    proposals = list(base.proposals)
    proposal = spec.proposal or proposals[0]
    if proposal not in base.proposals:
        raise InputError(problem(*where("proposal"), "a proposal of the scenario: "
                                 + ", ".join(proposals) + did_you_mean(proposal, proposals),
                                 proposal))
    dimensions = list(base.dimensions)
    space = spec.space
    bounds = dict(space.content) if space.content is not None else {d: (0.2, 1.0)
                                                                     for d in dimensions}
    for field, names in (("content", list(bounds)), ("keep", space.keep),
                         ("exclude", space.exclude)):
        for name in names:
            if name not in base.dimensions:
                raise InputError(problem(*where("space", field), "a dimension of the scenario"
                                         + did_you_mean(name, dimensions), name))
    for name in space.keep:
        if name in space.exclude or name not in bounds:
            raise InputError(problem(*where("space", "keep"), "dimensions with content "
                                     "bounds that are not excluded", name))
    text = base.proposals[proposal]
    ideal = {d: float(text.content.get(d, 0.0)) for d in dimensions}
    sponsor_kind = _sponsor_kind(base, proposal)
    if space.open_to is not None:
        open_to = [sorted(set(c), key=KINDS.index) for c in space.open_to]
        for i, choice in enumerate(open_to):
            if sponsor_kind is not None and sponsor_kind not in choice:
                raise InputError(problem(*where("space", f"open_to.{i}"), f"kinds that include "
                                         f"the sponsor's ({sponsor_kind})", choice))
    else:
        open_to = [list(c) for r in range(1, 4) for c in itertools.combinations(KINDS, r)
                   if sponsor_kind is None or sponsor_kind in c]
    objective = parse_objective(spec.objective, where("objective"))
    constraints = [parse_constraint(c, where("constraints", str(i)))
                   for i, c in enumerate(spec.constraints)]
    states = _states(base)
    for name in objective:
        _check_metric(name, base, states, where("objective"))
    for i, (name, _, _) in enumerate(constraints):
        if name not in AMBITION:
            _check_metric(name, base, states, where("constraints", str(i)))
    for i, name in enumerate(spec.track):
        _check_metric(name, base, states, where("track", str(i)))
    needed = _needed(objective, constraints, spec.track)
    at_label = "end"
    constants: dict[str, Any] = {}
    if spec.at != "end":
        step = base.step_of(spec.at)
        if not 1 <= step <= base.metadata.steps:
            raise InputError(problem(*where("at"), f"a time within the run (steps 1 to "
                                     f"{base.metadata.steps}, {base.metadata.start} on)",
                                     str(spec.at)))
        at_label = checkpoint_label(base, spec.at)
        # the runs need go no further than the time point that is measured
        constants["metadata.steps"] = step
        constants["report.checkpoints"] = [spec.at]
    swing = [name.removeprefix("joined_") for name in needed if name.startswith("joined_")]
    if swing:
        constants["report.swing_states"] = list(dict.fromkeys([*base.report.swing_states,
                                                               *swing]))
    for name, parameter in spec.parameters.items():
        value = parameter.sampler().from_unit(np.array([0.5]))[0]
        try:
            spec_for(scenario, {**constants, name: _plain(value)})
        except InputError as exc:
            raise InputError(problem(source, f"parameters.{name}", "a dotted path of the "
                                     f"scenario that takes these values ({exc})")) from None
    reference = {"content": ideal, "bindingness": float(text.bindingness),
                 "open_to": sorted(text.open_to, key=KINDS.index),
                 "parameters": {name: _current(base, name) for name in spec.parameters}}
    return TextSearch(spec=spec, scenario=scenario, proposal=proposal, dimensions=dimensions,
                   bounds=bounds, ideal=ideal, reference=reference, open_to=open_to,
                   objective=objective, constraints=constraints, track=list(spec.track),
                   at_label=at_label,
                   constants=constants, source=source)


def _needed(objective: dict, constraints: list, track: list[str]) -> list[str]:
    """The metrics a search reads: objective, constrained and tracked ones."""
    return list(dict.fromkeys([*objective, *(n for n, _, _ in constraints if n not in AMBITION),
                               *track]))


def _sponsor_kind(base, proposal: str) -> str | None:
    sponsor = base.proposals[proposal].sponsor
    if sponsor is None:
        return None
    world = build_world(base)
    return KINDS[int(world.kind[world.index_of[sponsor]])]


def _states(base) -> list[str]:
    from sim.data.roster import load_states

    return list(load_states(base.world.states.roster, base.base_dir).frame["iso3"])


def _current(base, dotted: str) -> Any:
    node: Any = base.to_dict()
    for key in dotted.split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def known_metrics(base, states: list[str]) -> list[str]:
    """Every metric name a run of `base` can report for a proposal."""
    return [*FIXED_METRICS, *(f"state_signers_{b}" for b in base.blocs),
            *(f"joined_{iso3}" for iso3 in states)]


def _check_metric(name: str, base, states: list[str], where: tuple[str, str]) -> None:
    names = known_metrics(base, states)
    if name not in names:
        raise InputError(problem(*where, "a metric of the metrics table (docs/ODD.md, "
                                 "Observation): share_states, share_gdp, signers_<kind>, "
                                 "state_signers_<bloc>, joined_<ISO3>, polarisation, "
                                 "tipping_step, ..." + did_you_mean(name, names), name))


def parse_objective(text: str, where: tuple[str, str] = ("--objective", "")) -> dict[str, float]:
    """`share_states` or `0.5*joined_IND + 0.5*joined_BRA` -> {metric: weight}."""
    compact = text.replace(" ", "") if isinstance(text, str) else ""
    if not re.fullmatch(rf"[+-]?{TERM}(?:[+-]{TERM})*", compact):
        raise InputError(problem(*where, "a metric or a weighted sum of metrics, e.g. "
                                 "share_states or 0.5*joined_IND + 0.5*joined_BRA", text))
    weights: dict[str, float] = {}
    for sign, coefficient, name in re.findall(rf"([+-]?)(?:({NUMBER})\*)?({NAME})", compact):
        weight = float(coefficient or 1.0) * (-1.0 if sign == "-" else 1.0)
        weights[name] = weights.get(name, 0.0) + weight
    return weights


def parse_constraint(text: str, where: tuple[str, str] = ("--constraint", "")
                     ) -> tuple[str, str, float]:
    """`joined_IND>=0.5` -> ("joined_IND", ">=", 0.5)."""
    match = CONSTRAINT.match(text) if isinstance(text, str) else None
    if match is None:
        raise InputError(problem(*where, "NAME>=VALUE or NAME<=VALUE, with NAME a metric "
                                 "(e.g. joined_IND>=0.5) or a measure of ambition "
                                 "(breadth, bindingness, distance)", text))
    return match["name"], match["op"], float(match["value"])


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# --- texts --------------------------------------------------------------------------------

def _text(study: TextSearch, content: dict[str, float], bindingness: float,
          open_to: list[str], parameters: dict[str, Any]) -> dict[str, Any]:
    content = {d: round(float(content.get(d, 0.0)), 3) for d in study.dimensions}
    return {"content": content, "bindingness": round(float(bindingness), 3),
            "open_to": list(open_to), "parameters": dict(parameters)}


def overrides(study: TextSearch, text: dict[str, Any]) -> dict[str, Any]:
    """The dotted overrides that write `text` into the scenario (0 = not addressed)."""
    path = f"proposals.{study.proposal}"
    return {**study.constants,
            **{f"{path}.content.{d}": v for d, v in text["content"].items()},
            f"{path}.bindingness": text["bindingness"], f"{path}.open_to": text["open_to"],
            **text["parameters"]}


def text_key(study: TextSearch, text: dict[str, Any]) -> str:
    """A text's identity: the hash of the overrides that write it."""
    return content_hash(overrides(study, text))


def reference_text(study: TextSearch) -> dict[str, Any]:
    ref = study.reference
    return _text(study, ref["content"], ref["bindingness"], ref["open_to"], ref["parameters"])


def neighbours(study: TextSearch) -> list[dict[str, Any]]:
    """The text as written with one thing changed: each dimension put in scope (at the
    middle of its bounds) or out of it, bindingness at 0.2, 0.5 and 0.8 of its range,
    each other `open_to`; each distinct and different from the text as written."""
    ref = reference_text(study)
    space, texts = study.spec.space, []
    for d in study.dimensions:
        if d in space.keep or d in space.exclude:
            continue
        content = dict(ref["content"])
        if content[d] != 0:
            content[d] = 0.0
        elif d in study.bounds:
            content[d] = sum(study.bounds[d]) / 2
        else:
            continue
        texts.append({**ref, "content": content})
    low, high = space.bindingness
    for share in (0.2, 0.5, 0.8):
        texts.append({**ref, "bindingness": low + share * (high - low)})
    texts += [{**ref, "open_to": choice} for choice in study.open_to
              if choice != ref["open_to"]]
    seen, distinct = {text_key(study, ref)}, []
    for text in texts:
        text = _text(study, text["content"], text["bindingness"], text["open_to"],
                     text["parameters"])
        if text_key(study, text) not in seen:
            seen.add(text_key(study, text))
            distinct.append(text)
    return distinct


def sample(study: TextSearch, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` texts from a scrambled Sobol' sequence over the whole space.

    Per free dimension two coordinates: in scope or not (with probability one half) and
    the content within bounds; then bindingness, `open_to` and each extra parameter.
    """
    if count == 0:
        return []
    space = study.spec.space
    free = [d for d in study.dimensions if d in study.bounds and d not in space.exclude]
    names = list(study.spec.parameters)
    width = 2 * len(free) + 2 + len(names)
    engine = qmc.Sobol(d=width, scramble=True, seed=seed)
    unit = engine.random_base2(max(0, math.ceil(math.log2(count))))[:count]
    extra = {n: study.spec.parameters[n].sampler().from_unit(unit[:, 2 * len(free) + 2 + j])
             for j, n in enumerate(names)}
    texts = []
    for row, u in enumerate(unit):
        content = {}
        for j, d in enumerate(free):
            if d in space.keep or u[2 * j] < 0.5:
                low, high = study.bounds[d]
                content[d] = low + u[2 * j + 1] * (high - low)
        low, high = space.bindingness
        choice = study.open_to[min(int(u[-2 - len(names)] * len(study.open_to)),
                                      len(study.open_to) - 1)]
        texts.append(_text(study, content, low + u[2 * len(free)] * (high - low), choice,
                           {n: _plain(extra[n][row]) for n in names}))
    return texts


def edits(study: TextSearch, parents: list[dict[str, Any]], count: int, seed: int,
          seen: set[str]) -> list[dict[str, Any]]:
    """`count` new texts, each one or two random edits of a parent (taken in turn):
    a dimension in or out of scope, content moved by up to 0.2, bindingness by up to
    0.15, another `open_to`, another value of an extra parameter."""
    rng = np.random.default_rng(seed)
    space = study.spec.space
    togglable = [d for d in study.bounds if d not in space.keep and d not in space.exclude]
    names = list(study.spec.parameters)
    moves = ["scope", "content", "bindingness", "open_to", *(["parameter"] if names else [])]
    found: list[dict[str, Any]] = []
    for attempt in range(count * 20):
        if len(found) == count:
            break
        parent = parents[attempt % len(parents)]
        content = dict(parent["content"])
        bindingness, open_to = parent["bindingness"], parent["open_to"]
        parameters = dict(parent["parameters"])
        for move in rng.choice(moves, size=int(rng.integers(1, 3))):
            addressed = [d for d in content if content[d] != 0 and d in study.bounds]
            if move == "scope" and togglable:
                d = togglable[int(rng.integers(len(togglable)))]
                low, high = study.bounds[d]
                content[d] = 0.0 if content[d] != 0 else float(rng.uniform(low, high))
            elif move == "content" and addressed:
                d = addressed[int(rng.integers(len(addressed)))]
                low, high = study.bounds[d]
                content[d] = float(np.clip(content[d] + rng.uniform(-0.2, 0.2), low, high))
            elif move == "bindingness":
                low, high = space.bindingness
                bindingness = float(np.clip(bindingness + rng.uniform(-0.15, 0.15), low, high))
            elif move == "open_to" and len(study.open_to) > 1:
                others = [c for c in study.open_to if c != open_to]
                open_to = others[int(rng.integers(len(others)))]
            elif move == "parameter":
                name = names[int(rng.integers(len(names)))]
                drawn = study.spec.parameters[name].sampler().from_unit(rng.uniform(size=1))
                parameters[name] = _plain(drawn[0])
        text = _text(study, content, bindingness, open_to, parameters)
        key = text_key(study, text)
        if key not in seen:
            seen.add(key)
            found.append(text)
    return found


# --- measuring ------------------------------------------------------------------------------

def ambition(study: TextSearch, text: dict[str, Any]) -> dict[str, float]:
    """Breadth (dimensions addressed), bindingness, distance from the text as written."""
    content = text["content"]
    return {"breadth": float(sum(v != 0 for v in content.values())),
            "bindingness": float(text["bindingness"]),
            "distance": float(np.mean([abs(content[d] - study.ideal[d])
                                       for d in study.dimensions]))}


def pareto_front(support: np.ndarray, ambitions: np.ndarray) -> np.ndarray:
    """True for rows no other row dominates (at least as good in every column of
    [support, ambitions...], all to maximise, and better in one)."""
    values = np.column_stack([support, ambitions])
    front = np.ones(len(values), dtype=bool)
    for i, row in enumerate(values):
        if np.isnan(row).any():
            front[i] = False
            continue
        others = values[np.arange(len(values)) != i]
        dominated = (others >= row).all(axis=1) & (others > row).any(axis=1)
        front[i] = not dominated.any()
    return front


def score(study: TextSearch, texts: list[dict[str, Any]], origins: list[str],
          result: SweepResult) -> pd.DataFrame:
    """One row per text: its design, ambition, support (mean over replications, 95% CI,
    and the paired difference from the text as written, on the same seeds), the mean of
    every metric it needs or tracks, whether it meets the constraints, and whether it
    is on the Pareto front."""
    metrics = result.metrics
    mine = metrics[(metrics["proposal"] == study.proposal)
                   & (metrics["at"] == study.at_label)]
    wide = mine.pivot_table(index=["point", "seed"], columns="metric", values="value",
                            aggfunc="first")
    support = sum(weight * wide[name] for name, weight in study.objective.items())
    reference = support.loc[0] if 0 in support.index.get_level_values(0) else None
    shown = [c for c in ("share_states", "share_gdp", "signers_state", "signers_firm",
                         "signers_civil") if c in wide.columns]
    needed = _needed(study.objective, study.constraints, study.track)
    rows = []
    for index, (text, origin) in enumerate(zip(texts, origins, strict=True)):
        ran = index in support.index.get_level_values(0)
        mine_support = support.loc[index] if ran else pd.Series(dtype=float)
        change = (mine_support - reference).dropna() if ran and reference is not None else (
            pd.Series(dtype=float))
        row = {"text": index, "origin": origin,
               "scope": ", ".join(d for d, v in text["content"].items() if v != 0),
               **ambition(study, text), "open_to": "+".join(text["open_to"]),
               **{f"content.{d}": v for d, v in text["content"].items()},
               **text["parameters"], "runs": len(mine_support),
               "objective": _mean(mine_support), "objective_ci": _half_width(mine_support),
               "versus_written": _mean(change), "versus_written_ci": _half_width(change)}
        for name in dict.fromkeys([*shown, *needed]):
            row[name] = float(wide.loc[index, name].mean()) if ran else math.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    feasible = table["runs"] > 0
    for name, op, value in study.constraints:
        column = table[name]
        feasible &= (column >= value - 1e-12) if op == ">=" else (column <= value + 1e-12)
    table["feasible"] = feasible.to_numpy(bool)
    front = np.zeros(len(table), dtype=bool)
    if feasible.any():
        chosen = table[feasible]
        front[chosen.index] = pareto_front(
            chosen["objective"].to_numpy(float),
            np.column_stack([chosen["breadth"], chosen["bindingness"], -chosen["distance"]]))
    table["front"] = front
    return table


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else math.nan


def _half_width(values: pd.Series) -> float:
    """Half-width of the normal 95% interval of the mean."""
    return 1.96 * float(values.std(ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else (
        math.nan)


def _parents(table: pd.DataFrame, texts: list[dict[str, Any]], limit: int = 24) -> list[dict]:
    """Texts to edit next: the front, best support first (or the best texts if none is
    feasible yet)."""
    pool = table[table["front"]] if table["front"].any() else table
    pool = pool.sort_values(["objective", "distance"], ascending=[False, True], kind="stable")
    return [texts[i] for i in pool["text"].head(limit)]


# --- running ---------------------------------------------------------------------------------

@dataclass
class DesignResult:
    """A finished search.

    Attributes:
        texts: one row per text (see `score`), in the order they were drawn.
        reference: the row of the text as written.
        plan: what was run (counts, objective, time point, seeds, versions).
        sweep: the sweep of all texts (load_results of the output directory).
    """

    texts: pd.DataFrame
    reference: int
    plan: dict
    sweep: SweepResult


def plan_counts(study: TextSearch) -> dict[str, int]:
    search = study.spec.search
    first = 1 + (len(neighbours(study)) if search.neighbours else 0) + search.samples
    texts = first + search.rounds * search.per_round
    return {"first_stage": first, "texts": texts, "replications": search.replications,
            "runs": texts * search.replications}


def _experiment(study: TextSearch, texts: list[dict[str, Any]]) -> dict:
    """The sweep of `texts` as an experiment file (design `points`)."""
    table = [overrides(study, t) for t in texts]
    varied = {}
    for name in table[0]:
        values = []
        for row in table:
            if row[name] not in values:
                values.append(row[name])
        if name.endswith(".open_to"):
            varied[name] = {"values": values, "labels": ["+".join(v) for v in values]}
        elif name not in study.constants:
            varied[name] = {"values": values}
    search = study.spec.search
    return {
        "name": study.spec.name,
        "description": f"texts of {study.proposal} searched by `cybernorms design`",
        "scenario": str(study.scenario),
        "design": "points",
        "replications": search.replications,
        "seed": search.seed,
        "common_random_numbers": True,
        "parameters": varied,
        "points": {f"text{i:04d}": row for i, row in enumerate(table)},
        "metrics": ["signers_", "share_",
                    *_needed(study.objective, study.constraints, study.track)],
        "max_runs": len(texts) * search.replications,
    }


def design(study: TextSearch, out: str | Path, *, backend: str = "process",
           workers: int | None = None, scheduler: str | None = None, resume: bool = False,
           log=None, quiet: bool = False) -> DesignResult:
    """Run the search into `out`; every stage is a sweep of all texts so far."""
    log = log or (lambda line: print(line, file=sys.stderr))
    out = Path(out)
    search = study.spec.search
    counts = plan_counts(study)
    texts = [reference_text(study)]
    origins = ["as written"]
    if search.neighbours:
        found = neighbours(study)
        texts += found
        origins += ["one edit"] * len(found)
    seen = {text_key(study, t) for t in texts}
    for text in sample(study, search.samples, search.seed):
        if text_key(study, text) not in seen:
            seen.add(text_key(study, text))
            texts.append(text)
            origins.append("sampled")
    reference = Point(index=0, label="as written", overrides=overrides(study, texts[0]),
                      columns={})
    per_run, _ = pilot(study.scenario, reference, search.seed)
    parallel = 1 if backend == "serial" else (workers or default_workers())
    log(f"design {study.spec.name}: {counts['texts']} texts of {study.proposal} "
        f"({len(texts)} in the first stage, then {search.rounds} rounds of "
        f"{search.per_round}) x {search.replications} replications = {counts['runs']} runs; "
        f"about {per_run:.2f} s per run, estimated {duration(counts['runs'] * per_run / parallel)}"
        f" on {parallel} worker{'s' if parallel > 1 else ''} ({backend})")
    started = time.perf_counter()
    computed, table = 0, None
    for stage in range(search.rounds + 1):
        if table is not None:
            parents = _parents(table, texts)
            found = edits(study, parents, search.per_round,
                          search.seed * 1000 + stage, seen)
            texts += found
            origins += [f"round {stage}"] * len(found)
        path = write_text(out / "texts.yaml", yaml.safe_dump(_experiment(study, texts),
                                                             sort_keys=False))
        result = sweep(path, out, backend=backend, workers=workers, scheduler=scheduler,
                       resume=resume or stage > 0, log=log, quiet=quiet)
        computed += result.manifest.get("runs_computed", 0)
        table = score(study, texts, origins, result)
        best = table.loc[table["objective"].idxmax()] if table["objective"].notna().any() else None
        log(f"stage {stage}: {len(texts)} texts, {int(table['front'].sum())} on the front, "
            f"{int(table['feasible'].sum())} feasible"
            + (f"; best support {best['objective']:.3f} (text {int(best['text'])})"
               if best is not None else ""))
    elapsed = time.perf_counter() - started
    plan = {"name": study.spec.name, "scenario": str(study.scenario),
            "scenario_name": spec_for(study.scenario).metadata.name,
            "proposal": study.proposal, "objective": study.spec.objective,
            "objective_weights": study.objective,
            "constraints": [f"{n}{op}{v:g}" for n, op, v in study.constraints],
            "track": study.track,
            "at": study.at_label, "texts": len(texts), "replications": search.replications,
            "runs": len(texts) * search.replications, "runs_computed": computed,
            "seed": search.seed, "elapsed_s": round(elapsed, 3),
            "runs_per_s": round(computed / elapsed, 3) if elapsed > 0 and computed else None,
            "model_version": MODEL_VERSION, "source": study.source}
    return DesignResult(texts=table, reference=0, plan=plan, sweep=result)


def cheapest(table: pd.DataFrame, requirement: str) -> pd.Series | None:
    """The text closest to the one as written (least distance, then most support) that
    meets `requirement` (e.g. "joined_IND>=0.5"), or None."""
    name, op, value = parse_constraint(requirement, ("requirement", ""))
    if name not in table.columns:
        return None
    ok = table[(table[name] >= value) if op == ">=" else (table[name] <= value)]
    if ok.empty:
        return None
    return ok.sort_values(["distance", "objective"], ascending=[True, False],
                          kind="stable").iloc[0]


__all__ = ["DesignResult", "DesignSpec", "cheapest", "design", "load_design", "pareto_front",
           "parse_constraint", "parse_objective"]
