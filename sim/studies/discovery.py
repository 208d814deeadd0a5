"""`cybernorms discover RESULTS`: where in parameter space does an outcome hold?

Scenario discovery (Bryant & Lempert 2010) on a finished sweep: every run is a case,
its design point's parameters are the inputs, and "the outcome holds" is a yes/no
label (`metric` at a time for a proposal, at or above a threshold, or at or below it
with `below`). PRIM (Friedman & Fisher 1999) peels the parameter box step by step,
trading coverage (the share of all cases of interest inside the box) for density (the
share of runs inside the box that are cases of interest); the trajectory of that
trade-off is the result, and one box on it is chosen: the densest with at least
`min_coverage`. A CART classification tree (Breiman et al. 1984) gives another
description: its leaves are boxes too. PRIM comes from the EMA Workbench (Kwakkel
2017), the maintained descendant of RAND's sdtoolkit; the tree is scikit-learn's.

Runs whose outcome is missing (e.g. a tipping step that never came) count as the
outcome not holding.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError, did_you_mean, problem
from sim.studies.results import SweepResult, load_results


@dataclass
class Discovery:
    """What `discover` found.

    Attributes:
        question: outcome, proposal, at, threshold, direction, runs and cases of interest.
        inputs: one row per run: the parameters PRIM and CART saw, and `holds`.
        trajectory: PRIM's peeling and pasting trajectory, one row per box: coverage,
            density, mass (share of runs inside) and restricted dimensions.
        chosen: the row of `trajectory` that `box` describes.
        box: the chosen PRIM box, one row per restricted parameter: its limits (a
            range, or the values kept) and PRIM's quasi-p-values.
        leaves: CART's leaves, one row per leaf: coverage, density, mass, the rule.
    """

    question: dict
    inputs: pd.DataFrame
    trajectory: pd.DataFrame
    chosen: int
    box: pd.DataFrame
    leaves: pd.DataFrame


def cases(result: SweepResult, outcome: str, *, at: str = "end", proposal: str | None = None,
          threshold: float, below: bool = False) -> tuple[pd.DataFrame, np.ndarray, str]:
    """(inputs per run, whether the outcome holds per run, proposal) from a sweep.

    Raises InputError naming the option when the outcome, time or proposal are not in
    the results, or the threshold does not split the runs.
    """
    where = result.directory
    metrics = result.metrics
    if metrics.empty:
        raise InputError(problem(where, "metrics", "a sweep with finished runs (resume it "
                                 "with `cybernorms sweep ... --resume`)"))
    names = sorted(metrics["metric"].unique())
    if outcome not in names:
        raise InputError(problem(where, "--outcome", "a metric kept by the sweep, e.g. "
                                 + ", ".join(names[:6]) + did_you_mean(outcome, names), outcome))
    proposals = sorted(p for p in metrics["proposal"].unique() if p != "*" and "|" not in p)
    if proposal is None:
        if len(proposals) != 1:
            raise InputError(problem(where, "--proposal", "one of " + ", ".join(proposals)
                                     + " (the sweep has several)"))
        proposal = proposals[0]
    elif proposal not in metrics["proposal"].unique():
        raise InputError(problem(where, "--proposal", "one of " + ", ".join(proposals)
                                 + did_you_mean(proposal, proposals), proposal))
    chosen = metrics[(metrics["metric"] == outcome) & (metrics["proposal"] == proposal)]
    times = sorted(chosen["at"].unique())
    if at not in times:
        raise InputError(problem(where, "--at", "a time the sweep reports " + outcome
                                 + " at: " + ", ".join(times), at))
    chosen = chosen[chosen["at"] == at]
    inputs = _inputs(result, chosen)
    values = chosen.set_index("run_id")["value"].reindex(inputs.index).to_numpy(float)
    with np.errstate(invalid="ignore"):
        holds = (values <= threshold) if below else (values >= threshold)
    if holds.all() or not holds.any():
        finite = values[np.isfinite(values)]
        span = f"{finite.min():g} to {finite.max():g}" if len(finite) else "missing"
        raise InputError(problem(where, "--threshold", f"a value that splits the runs "
                                 f"({outcome} ranges {span} over {len(values)} runs; the "
                                 f"outcome holds in {'all' if holds.all() else 'none'} of them)",
                                 threshold))
    return inputs.reset_index(drop=True), holds, proposal


def _inputs(result: SweepResult, chosen: pd.DataFrame) -> pd.DataFrame:
    """The varied parameters of each run's point (the point label if none varies)."""
    columns = [c for c in result.parameters if result.points[c].nunique(dropna=False) > 1]
    if not columns:
        columns = ["label"]
    points = result.points.set_index("point")[columns]
    runs = chosen[["run_id", "point"]].drop_duplicates("run_id").set_index("run_id")
    inputs = points.loc[runs["point"]].set_index(runs.index)
    inputs.columns = short_names(list(inputs.columns))
    for column in inputs.columns:
        values = inputs[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            inputs[column] = values.astype(str).astype("category")
        else:
            inputs[column] = values.astype(float)
    return inputs


def short_names(paths: list[str]) -> list[str]:
    """Dotted paths without the leading parts they all share (`proposals.p.content.x`,
    `proposals.p.bindingness` -> `content.x`, `bindingness`)."""
    parts = [p.split(".") for p in paths]
    shared = 0
    while all(len(p) > shared + 1 for p in parts) and len({p[shared] for p in parts}) == 1:
        shared += 1
    return [".".join(p[shared:]) for p in parts]


def _ema():
    """The EMA Workbench's PRIM (quietly: it warns about optional parts it lacks)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError:
        raise InputError(problem("discover", "PRIM", "the EMA Workbench installed (pip "
                                 "install 'cybernorms[discovery]', or in a checkout uv sync "
                                 "--extra discovery)")) from None
    return prim


def peel(inputs: pd.DataFrame, holds: np.ndarray, *, peel_alpha: float = 0.05,
         mass_min: float = 0.05):
    """PRIM's first box: (trajectory table, box limits per step, quasi-p-values, initial box)."""
    prim = _ema()
    with warnings.catch_warnings():  # the Workbench's own deprecation warnings
        warnings.simplefilter("ignore")
        finder = prim.Prim(inputs, holds.astype(bool), peel_alpha=peel_alpha,
                           paste_alpha=peel_alpha, mass_min=mass_min)
        box = finder.find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].copy()
    trajectory.insert(0, "box", range(len(trajectory)))
    trajectory["res_dim"] = trajectory["res_dim"].astype(int)
    return trajectory.reset_index(drop=True), box.box_lims, box.p_values, finder.box_init


def choose(trajectory: pd.DataFrame, min_coverage: float) -> int:
    """The densest box with at least `min_coverage` (the most covering one if none has)."""
    enough = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    if enough.empty:
        return int(trajectory["coverage"].idxmax())
    best = enough["density"].max()
    return int(enough[enough["density"] >= best - 1e-12]["coverage"].idxmax())


def box_table(limits: pd.DataFrame, p_values: dict, initial: pd.DataFrame) -> pd.DataFrame:
    """The restricted parameters of one box: limits and quasi-p-values (low, high)."""
    rows = []
    for name in limits.columns:
        low, high = limits[name].iloc[0], limits[name].iloc[1]
        first, last = initial[name].iloc[0], initial[name].iloc[1]
        if isinstance(low, set):
            if low == first:
                continue
            kept = ", ".join(sorted(map(str, low)))
            dropped = ", ".join(sorted(map(str, first - low)))
            rows.append({"parameter": name, "limits": f"in {{{kept}}} (not {dropped})",
                         "low": math.nan, "high": math.nan,
                         "qp_low": _qp(p_values, name, 0), "qp_high": math.nan})
            continue
        if low == first and high == last:
            continue
        limits_text = f"= {low:.4g}" if low == high else f"{low:.4g} to {high:.4g}"
        rows.append({"parameter": name, "limits": limits_text,
                     "low": float(low), "high": float(high),
                     "qp_low": _qp(p_values, name, 0) if low != first else math.nan,
                     "qp_high": _qp(p_values, name, 1) if high != last else math.nan})
    return pd.DataFrame(rows, columns=["parameter", "limits", "low", "high", "qp_low",
                                       "qp_high"])


def _qp(p_values: dict, name: str, side: int) -> float:
    value = p_values.get(name, [math.nan, math.nan])[side]
    return math.nan if value is None or value == -1 else float(value)


def tree_leaves(inputs: pd.DataFrame, holds: np.ndarray, *, mass_min: float = 0.05
                ) -> pd.DataFrame:
    """CART's leaves as boxes: coverage, density, mass and the rule, densest first.

    The tree is scikit-learn's, grown with at least `mass_min` of the runs in every leaf
    (as PRIM's smallest box). Leaves are read off the tree here rather than through the
    EMA Workbench's CART wrapper, which (3.0) shares one set of categories between
    all leaves and ignores the "equals" side of a categorical split.
    """
    from sklearn.tree import DecisionTreeClassifier

    nominal = [c for c in inputs.columns if isinstance(inputs[c].dtype, pd.CategoricalDtype)]
    features = pd.get_dummies(inputs, columns=nominal, prefix_sep="=", dtype=float)
    tree = DecisionTreeClassifier(min_samples_leaf=max(1, math.ceil(mass_min * len(inputs))),
                                  random_state=0)
    tree.fit(features.to_numpy(), holds.astype(int))
    leaf_of = tree.apply(features.to_numpy())
    structure = tree.tree_
    names = list(features.columns)
    rows = []

    def walk(node: int, rules: dict) -> None:
        if structure.children_left[node] == -1:
            inside = leaf_of == node
            rows.append({"leaf": node, "coverage": holds[inside].sum() / holds.sum(),
                         "density": holds[inside].mean(), "mass": inside.mean(),
                         "rule": "; ".join(_rule(name, rule) for name, rule in rules.items())
                         or "(all runs)"})
            return
        name, cut = names[structure.feature[node]], float(structure.threshold[node])
        for child, side in ((structure.children_left[node], "low"),
                            (structure.children_right[node], "high")):
            walk(child, _narrowed(rules, name, cut, side, inputs))

    walk(0, {})
    leaves = pd.DataFrame(rows)
    return leaves.sort_values(["density", "coverage"], ascending=False,
                              kind="stable").reset_index(drop=True)


def _narrowed(rules: dict, feature: str, cut: float, side: str, inputs: pd.DataFrame) -> dict:
    """`rules` with one more split: x <= cut (side "low") or x > cut ("high")."""
    rules = dict(rules)
    if feature in inputs.columns:  # a numeric parameter
        low, high = rules.get(feature, (-math.inf, math.inf))
        rules[feature] = (low, min(high, cut)) if side == "low" else (max(low, cut), high)
        return rules
    name, _, value = feature.partition("=")  # a dummy of a categorical parameter
    kept = set(rules.get(name, set(map(str, inputs[name].cat.categories))))
    rules[name] = kept - {value} if side == "low" else kept & {value}
    return rules


def _rule(name: str, rule) -> str:
    if isinstance(rule, set):
        return f"{name} in {{" + ", ".join(sorted(rule)) + "}"
    low, high = rule
    bounds = ([f"> {low:.4g}"] if math.isfinite(low) else []) + (
        [f"<= {high:.4g}"] if math.isfinite(high) else [])
    return f"{name} " + " and ".join(bounds)


def discover(results: str | Path | SweepResult, outcome: str, *, threshold: float,
             at: str = "end", proposal: str | None = None, below: bool = False,
             min_coverage: float = 0.5, peel_alpha: float = 0.05, mass_min: float = 0.05
             ) -> Discovery:
    """PRIM and CART on a sweep's runs: where does `outcome` reach `threshold`?

    Example:
        >>> found = discover("results/inclusiveness_x_scope", "joined_IND",
        ...                  at="2019-11-12", threshold=1)
        >>> found.box        # the chosen PRIM box: limits per restricted parameter
    """
    for name, value, low, high in (("--min-coverage", min_coverage, 0.0, 1.0),
                                   ("--peel-alpha", peel_alpha, 0.0, 0.5),
                                   ("--mass-min", mass_min, 0.0, 0.5)):
        if not (isinstance(value, int | float) and low < value <= high):
            raise InputError(problem(name, "", f"a number in ({low:g}, {high:g}]", value))
    if not (isinstance(threshold, int | float) and math.isfinite(threshold)):
        raise InputError(problem("--threshold", "", "a finite number", threshold))
    result = results if isinstance(results, SweepResult) else load_results(results)
    inputs, holds, proposal = cases(result, outcome, at=at, proposal=proposal,
                                    threshold=threshold, below=below)
    trajectory, limits, p_values, initial = peel(inputs, holds, peel_alpha=peel_alpha,
                                                 mass_min=mass_min)
    chosen = choose(trajectory, min_coverage)
    question = {"directory": str(result.directory), "outcome": outcome, "proposal": proposal,
                "at": at, "threshold": threshold, "direction": "<=" if below else ">=",
                "runs": len(holds), "cases": int(holds.sum()), "min_coverage": min_coverage,
                "peel_alpha": peel_alpha, "mass_min": mass_min}
    return Discovery(question=question, inputs=inputs.assign(holds=holds),
                     trajectory=trajectory, chosen=chosen,
                     box=box_table(limits[chosen], p_values[chosen], initial),
                     leaves=tree_leaves(inputs, holds, mass_min=mass_min))


__all__ = ["Discovery", "cases", "choose", "discover", "peel", "tree_leaves"]
