"""`cybernorms sensitivity SPEC`: Sobol' or Morris indices of outcomes, via SALib.

The experiment's design is `saltelli` (Sobol' first-order and total indices, no
second order: N x (factors + 2) points) or `morris` (elementary effects: N x
(factors + 1) points); factors may be groups of parameters that move together.
The sweep runs like any other (streamed, resumable); the outcome of a point is the
mean over its replications, in the sample's order, as SALib's analyses expect.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError, boundary, problem
from sim.studies.experiment import (
    SENSITIVITY,
    ExperimentSpec,
    factors,
    load_experiment,
    salib_problem,
    sensitivity_sample,
)
from sim.studies.results import SweepResult, load_results
from sim.studies.sweep import sweep

OUTCOMES = ("signers_state", "signers_firm", "signers_civil", "share_gdp")


def budget(path: str | Path) -> dict:
    spec, _ = load_experiment(path)
    if spec.design not in SENSITIVITY:
        raise InputError(problem(path, "design", "saltelli or morris for a sensitivity "
                                 "analysis", spec.design))
    per_sample = factors(spec) + (2 if spec.design == "saltelli" else 1)
    points = len(sensitivity_sample(spec))
    return {"design": spec.design, "N": spec.samples, "factors": factors(spec),
            "points": points, "replications": spec.replications,
            "runs": points * spec.replications,
            "formula": f"N x (factors + {per_sample - factors(spec)}) x replications = "
                       f"{spec.samples} x {per_sample} x {spec.replications}"}


def point_outcomes(result: SweepResult, metric: str, proposal: str, at: str = "end"
                   ) -> np.ndarray:
    """Mean outcome per design point, in point order (NaN where no run finished)."""
    frame = result.metrics[(result.metrics["metric"] == metric) &
                           (result.metrics["proposal"] == proposal) &
                           (result.metrics["at"] == at)]
    means = frame.groupby("point")["value"].mean()
    return means.reindex(range(len(result.points))).to_numpy(float)


def analyse(result: SweepResult, spec, outcomes=OUTCOMES, proposal: str | None = None
            ) -> pd.DataFrame:
    """Indices per outcome and factor, with 95% confidence intervals."""
    from SALib.analyze import morris, sobol

    problem_ = salib_problem(spec)
    sample = sensitivity_sample(spec)
    proposal = proposal or next(p for p in result.metrics["proposal"].unique()
                                if p != "*" and "|" not in p)
    rows = []
    for metric in outcomes:
        y = point_outcomes(result, metric, proposal)
        if np.isnan(y).any():
            raise RuntimeError(f"{metric}: {int(np.isnan(y).sum())} points have no finished "
                               "run; resume the sweep before analysing")
        if spec.design == "saltelli":
            indices = sobol.analyze(problem_, y, calc_second_order=False, conf_level=0.95,
                                    seed=spec.seed)
            names = _factor_names(problem_)
            for i, name in enumerate(names):
                rows.append({"metric": metric, "factor": name,
                             "S1": indices["S1"][i], "S1_conf": indices["S1_conf"][i],
                             "ST": indices["ST"][i], "ST_conf": indices["ST_conf"][i]})
        else:
            indices = morris.analyze(problem_, sample, y, conf_level=0.95,
                                     num_levels=spec.levels, seed=spec.seed)
            for i, name in enumerate(indices["names"]):
                rows.append({"metric": metric, "factor": name,
                             "mu_star": indices["mu_star"][i],
                             "mu_star_conf": indices["mu_star_conf"][i],
                             "sigma": indices["sigma"][i]})
    return pd.DataFrame(rows)


def _factor_names(problem_: dict) -> list[str]:
    groups = problem_.get("groups")
    return list(dict.fromkeys(groups)) if groups else list(problem_["names"])


@dataclass
class SensitivityResult:
    """Indices of a finished sensitivity sweep, with what produced them.

    Attributes:
        indices: one row per outcome and factor, with 95% confidence intervals.
        experiment: the experiment spec; budget: the run budget (see `budget`).
        sweep: the sweep's results (manifest, points, metrics).
    """

    indices: pd.DataFrame
    experiment: ExperimentSpec
    budget: dict
    sweep: SweepResult


@boundary
def sensitivity(path: str | Path, out: str | Path, *, backend: str = "process",
                workers: int | None = None, resume: bool = False, log=None
                ) -> SensitivityResult:
    """Run the experiment's sweep into `out` and analyse it (SALib)."""
    log = log or (lambda line: print(line, file=sys.stderr))
    plan = budget(path)
    log(f"sensitivity ({plan['design']}): {plan['formula']} = {plan['runs']} runs "
        f"({plan['points']} points)")
    spec, _ = load_experiment(path)
    result = sweep(path, out, backend=backend, workers=workers, resume=resume, log=log)
    return SensitivityResult(analyse(result, spec), spec, plan, result)


def load_indices(directory: str | Path) -> pd.DataFrame:
    return pd.read_csv(Path(directory) / "indices.csv")


__all__ = ["analyse", "budget", "load_indices", "load_results", "sensitivity"]
