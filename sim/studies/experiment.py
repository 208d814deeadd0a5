"""Sweeps: an experiment file -> design points x replications -> runs streamed to disk.

An experiment (experiments/*.yaml) is data, as in NetLogo's BehaviorSpace: a base
scenario, parameters by dotted path (the same paths as `--set`), a design, the number
of replications, which metrics to keep and a guard on the number of runs.

Designs: `grid` (every combination of listed values or ranges), `points` (explicit
sub-experiments sharing `constants`), `lhs`, `sobol_sequence`, `halton` (seeded
quasi-random samples from scipy.stats.qmc over the parameters' distributions), and
for sensitivity analysis `saltelli` and `morris` (SALib's samplers; see
sim/studies/sensitivity.py for the analyses).

Seeds: replicate r of a point gets derive_seed(root, key, r), where key is a hash of
the point's overrides (or "" with `common_random_numbers: true`, so every point runs
on the same worlds). Keyed, not positional: a grown grid keeps its old seeds, and
`--resume` recognises finished runs by their run ids.

Storage (sim.studies.results): every finished task appends Parquet shards (runs, metrics,
optionally per-step series); the manifest records versions, git revision, spec
hash, timings and failures. A failed run is recorded and the sweep goes on.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from scipy.stats import qmc

from sim import limits
from sim.errors import InputError, problem
from sim.runs.runner import derive_seed, run_id, spec_for
from sim.runs.store import content_hash
from sim.scenario.loading import load_model_file

SAMPLED = ("lhs", "sobol_sequence", "halton")
SENSITIVITY = ("saltelli", "morris")


class Spec(BaseModel):
    """Strict, as scenarios are: `replications: true` or `samples: '8'` are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


#: [low, high], written as a YAML list
Pair = Annotated[tuple[float, float], BeforeValidator(lambda v: tuple(v) if isinstance(v, list)
                                                      else v)]


class Span(Spec):
    """A range of values: start, start + step, ... up to stop (inclusive when it lands)."""

    start: float
    stop: float
    step: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.stop < self.start:
            raise ValueError("a range with stop >= start")
        return self

    def count(self) -> float:
        """How many values, computed without making them (may be huge or inf)."""
        steps = (self.stop - self.start) / self.step
        return math.floor(steps + 1e-9) + 1 if math.isfinite(steps) else math.inf

    def values(self) -> list[float]:
        return [round(self.start + i * self.step, 12) for i in range(max(self.count(), 0))]


class Distribution(Spec):
    """Where sampled designs draw a parameter from (exactly one kind)."""

    uniform: Pair | None = None
    loguniform: Pair | None = None
    choice: list[Any] | None = None

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in ("uniform", "loguniform", "choice") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of uniform, loguniform, choice")
        low_high = self.uniform or self.loguniform
        if low_high is not None and not low_high[0] < low_high[1]:
            raise ValueError("bounds must be [low, high] with low < high")
        if self.loguniform is not None and self.loguniform[0] <= 0:
            raise ValueError("loguniform bounds must be positive")
        if self.choice is not None and not self.choice:
            raise ValueError("choice needs at least one value")
        return self

    def from_unit(self, u: np.ndarray) -> list:
        """Map uniform [0, 1) draws onto this distribution."""
        if self.uniform is not None:
            low, high = self.uniform
            return list(low + u * (high - low))
        if self.loguniform is not None:
            low, high = np.log(self.loguniform)
            return list(np.exp(low + u * (high - low)))
        index = np.minimum((u * len(self.choice)).astype(int), len(self.choice) - 1)
        return [self.choice[i] for i in index]

    @property
    def bounds(self) -> tuple[float, float]:
        if self.uniform is not None:
            return self.uniform
        if self.loguniform is not None:
            return self.loguniform
        raise ValueError("sensitivity designs need numeric (uniform) parameters")


class Parameter(Spec):
    """Values of one dotted path: a list, a range, or a distribution."""

    values: list[Any] | None = Field(None, min_length=1)
    range: Span | None = None
    distribution: Distribution | None = None
    labels: list[str] | None = Field(None, description="names for `values` in tables")

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in ("values", "range", "distribution") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of values, range, distribution")
        if self.labels is not None and (self.values is None or
                                        len(self.labels) != len(self.values)):
            raise ValueError("labels need `values` of the same length")
        return self

    def count(self) -> float:
        """How many grid values, computed without making them."""
        if self.values is not None:
            return len(self.values)
        if self.range is not None:
            return self.range.count()
        return len(self.distribution.choice or ())

    def grid(self) -> list:
        if self.values is not None:
            return list(self.values)
        if self.range is not None:
            return self.range.values()
        if self.distribution.choice is not None:
            return list(self.distribution.choice)
        raise ValueError("a grid needs values, a range or a choice")

    def sampler(self) -> Distribution:
        if self.distribution is not None:
            return self.distribution
        if self.range is not None:
            return Distribution(uniform=(self.range.start, self.range.stop))
        return Distribution(choice=list(self.values))

    def label(self, value: Any) -> Any:
        """How a value appears in result tables (its label, or JSON for non-scalars)."""
        if self.labels is not None:
            for candidate, label in zip(self.values, self.labels, strict=True):
                if candidate == value:
                    return label
        if isinstance(value, dict | list):
            return json.dumps(value, sort_keys=True)
        return value


class ExperimentSpec(Spec):
    name: str
    description: str = ""
    scenario: str
    design: Literal["grid", "points", "lhs", "sobol_sequence", "halton", "saltelli", "morris"]
    parameters: dict[str, Parameter] = {}
    constants: dict[str, Any] = {}
    points: dict[str, dict[str, Any]] = Field(
        {}, description="design `points`: label -> overrides of that sub-experiment")
    groups: dict[str, list[str]] | None = Field(
        None, description="sensitivity: group name -> parameters that move together")
    samples: int = Field(0, ge=0, description="sampled designs: points; saltelli/morris: N")
    levels: int = Field(4, ge=2, le=1000, description="morris: grid levels")
    replications: int = Field(1, ge=1)
    seed: int = Field(0, ge=0)
    common_random_numbers: bool = False
    metrics: list[str] | None = Field(None, description="metrics to keep (default: all)")
    keep_steps: bool = False
    batch: int | None = Field(None, ge=1, description="runs per task (default: automatic)")
    max_runs: int = Field(20_000, ge=1)

    def inconsistencies(self) -> list[tuple[str, Any, str]]:
        """(field, value, expectation) for every rule that spans several fields."""
        found = []
        if self.design == "points" and not self.points:
            found.append(("points", self.points, "named sub-experiments for design `points`"))
        if self.design != "points" and not self.parameters:
            found.append(("parameters", self.parameters,
                          f"at least one parameter for design `{self.design}`"))
        if self.design in SAMPLED + SENSITIVITY and self.samples < 1:
            found.append(("samples", self.samples, f"samples >= 1 for design `{self.design}`"))
        if self.design in SENSITIVITY:
            for name, parameter in self.parameters.items():
                if parameter.sampler().uniform is None:
                    found.append((f"parameters.{name}", "not uniform",
                                  f"distribution: {{uniform: [low, high]}} for design "
                                  f"`{self.design}` (SALib samples uniformly)"))
        if self.design == "grid":
            for name, parameter in self.parameters.items():
                if parameter.distribution is not None and parameter.distribution.choice is None:
                    found.append((f"parameters.{name}", "distribution",
                                  "values, a range or a choice for a grid"))
        if self.groups is not None:
            grouped = [p for members in self.groups.values() for p in members]
            for name in sorted(set(grouped) - set(self.parameters)):
                found.append(("groups", name, "a parameter named in `parameters`"))
            for name in sorted(set(self.parameters) - set(grouped)):
                found.append(("groups", name, "every parameter placed in a group"))
            for name in sorted({p for p in grouped if grouped.count(p) > 1}):
                found.append(("groups", name, "each parameter in exactly one group"))
        return found


class Point(BaseModel):
    """One design point: its overrides and how it shows in tables."""

    index: int
    label: str
    overrides: dict[str, Any]
    columns: dict[str, Any]

    @property
    def key(self) -> str:
        return content_hash(self.overrides)


class RunTask(BaseModel):
    """One run to do: which point, which replicate, which seed, which run id.

    `invalid` holds the error when the point's overrides do not make a valid scenario:
    such runs are recorded as failed without being run, and the sweep goes on.
    """

    point: int
    replicate: int
    seed: int
    run_id: str
    invalid: str | None = None


def load_experiment(path: str | Path) -> tuple[ExperimentSpec, Path]:
    """Read and validate an experiment file; the scenario path is relative to it.

    The run count is checked here, computed from the design, before any point exists.
    """
    path = Path(path)
    spec = load_model_file(path, ExperimentSpec, "experiment file")
    found = spec.inconsistencies()
    if found:
        raise InputError([problem(path, field, expected, value)
                          for field, value, expected in found])
    check_budget(spec, str(path))
    scenario = (path.parent / limits.check_path(spec.scenario, "scenario file")).resolve()
    if not scenario.is_file():
        raise InputError(problem(path, "scenario", "an existing scenario file, relative to the "
                                 f"experiment file (looked for {scenario})", spec.scenario))
    return spec, scenario


def point_count(spec: ExperimentSpec) -> float:
    """Design points, computed from the design alone (a float: it may be astronomical)."""
    if spec.design == "points":
        return len(spec.points)
    if spec.design == "grid":
        return math.prod(float(p.count()) for p in spec.parameters.values())
    if spec.design in SAMPLED:
        return spec.samples
    return spec.samples * (factors(spec) + (2 if spec.design == "saltelli" else 1))


def run_count(spec: ExperimentSpec) -> float:
    """Runs of the experiment: points x replications, computed before building either."""
    return point_count(spec) * spec.replications


def design_points(spec: ExperimentSpec) -> list[Point]:
    """The design's points, in a fixed order (the order SALib analyses expect)."""
    found = spec.inconsistencies()
    if found:
        raise ValueError("; ".join(f"{field}: expected {expected}" for field, _, expected
                                   in found))
    names = list(spec.parameters)
    if spec.design == "points":
        rows = [(label, dict(overrides)) for label, overrides in spec.points.items()]
    elif spec.design == "grid":
        grids = [spec.parameters[n].grid() for n in names]
        rows = [(None, dict(zip(names, combo, strict=True))) for combo in itertools.product(*grids)]
    elif spec.design in SAMPLED:
        unit = _unit_sample(spec.design, len(names), spec.samples, spec.seed)
        columns = [spec.parameters[n].sampler().from_unit(unit[:, j]) for j, n in enumerate(names)]
        rows = [(None, {n: _plain(columns[j][i]) for j, n in enumerate(names)})
                for i in range(spec.samples)]
    else:
        matrix = sensitivity_sample(spec)
        rows = [(None, {n: float(v) for n, v in zip(names, row, strict=True)}) for row in matrix]
    points = []
    for index, (label, overrides) in enumerate(rows):
        merged = {**spec.constants, **overrides}
        columns = {n: spec.parameters[n].label(overrides[n]) for n in names if n in overrides}
        points.append(Point(index=index, label=label or _label(columns, index), overrides=merged,
                            columns=columns))
    return points


def _label(columns: dict, index: int) -> str:
    if not columns or len(columns) > 3:
        return f"p{index:05d}"
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in columns.items())


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _unit_sample(design: str, dims: int, count: int, seed: int) -> np.ndarray:
    if design == "lhs":
        engine = qmc.LatinHypercube(d=dims, seed=seed)
    elif design == "sobol_sequence":
        engine = qmc.Sobol(d=dims, scramble=True, seed=seed)
    else:
        engine = qmc.Halton(d=dims, scramble=True, seed=seed)
    if design == "sobol_sequence" and count & (count - 1):
        # Sobol' balance needs 2^m points; draw the next power and keep the first `count`
        return engine.random_base2(math.ceil(math.log2(count)))[:count]
    return engine.random(count)


def salib_problem(spec: ExperimentSpec) -> dict:
    names = list(spec.parameters)
    problem_ = {
        "num_vars": len(names),
        "names": names,
        "bounds": [list(spec.parameters[n].sampler().bounds) for n in names],
    }
    if spec.groups:
        owner = {p: g for g, members in spec.groups.items() for p in members}
        problem_["groups"] = [owner[n] for n in names]
    return problem_


def sensitivity_sample(spec: ExperimentSpec) -> np.ndarray:
    """SALib's Saltelli (Sobol') or Morris sample for the spec's parameters."""
    from SALib.sample import morris, sobol

    problem_ = salib_problem(spec)
    if spec.design == "saltelli":
        return sobol.sample(problem_, spec.samples, calc_second_order=False, seed=spec.seed)
    return morris.sample(problem_, spec.samples, num_levels=spec.levels, seed=spec.seed)


def factors(spec: ExperimentSpec) -> int:
    return len(spec.groups) if spec.groups else len(spec.parameters)


def run_tasks(spec: ExperimentSpec, scenario: Path, points: list[Point]) -> list[RunTask]:
    """Every (point, replicate) with its keyed seed and content-hashed run id."""
    tasks = []
    for point in points:
        try:
            resolved, invalid = spec_for(scenario, point.overrides), None
        except InputError as exc:
            resolved, invalid = None, str(exc)
        key = "" if spec.common_random_numbers else point.key
        digest = resolved.digest() if resolved is not None else None
        for replicate in range(spec.replications):
            seed = derive_seed(spec.seed, key, replicate)
            rid = (run_id(digest, seed) if digest is not None
                   else content_hash("invalid", point.key, seed))
            tasks.append(RunTask(point=point.index, replicate=replicate, seed=seed, run_id=rid,
                                 invalid=invalid))
    return tasks


def check_budget(spec: ExperimentSpec, path: str = "experiment") -> None:
    """The design's run count against `max_runs` and the `runs` limit (sim.limits)."""
    count = run_count(spec)
    shown = f"{int(count):,}" if count < 1e18 else f"{count:.3g}"
    what = (f"{shown} runs ({_count_formula(spec)})")
    if count > spec.max_runs:
        raise InputError(problem(path, "max_runs", f"at least {shown} to allow this design: "
                                 f"{what}; raise max_runs or shrink the design", spec.max_runs))
    limits.check("runs", math.ceil(count), path, "replications" if spec.replications > 1
                 else "design", f"a design of {what}; a number of runs")


def _count_formula(spec: ExperimentSpec) -> str:
    if spec.design == "grid":
        sizes = " x ".join(f"{p.count():.0f}" for p in spec.parameters.values())
        points = f"grid {sizes}"
    elif spec.design in SENSITIVITY:
        extra = 2 if spec.design == "saltelli" else 1
        points = f"samples {spec.samples} x (factors {factors(spec)} + {extra})"
    else:
        points = f"{point_count(spec):.0f} points"
    return f"{points} x {spec.replications} replications"


def spec_hash(spec: ExperimentSpec) -> str:
    return content_hash(spec.model_dump(mode="json"))

