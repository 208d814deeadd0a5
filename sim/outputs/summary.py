"""Readable summaries of runs: signers by kind and bloc at checkpoints, coverage, tipping.

With several runs each figure is the mean with the 2.5-97.5 percentile interval of
runs (the interval in which 95% of runs fall, not a confidence interval of the mean).
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd

from sim.data.roster import load_states
from sim.scenario.spec import KINDS, ScenarioSpec


def _stats(values: pd.Series) -> dict:
    values = values.dropna()
    if values.empty:
        return {"mean": math.nan, "low": math.nan, "high": math.nan, "runs": 0}
    return {
        "mean": float(values.mean()),
        "low": float(np.percentile(values, 2.5)),
        "high": float(np.percentile(values, 97.5)),
        "runs": int(values.size),
    }


def summarise(metrics: pd.DataFrame, spec: ScenarioSpec) -> dict:
    """Nested plain data: per proposal, per time point, per measure -> stats."""
    runs = metrics["run_id"].nunique()
    result = {
        "scenario": spec.metadata.name,
        "runs": runs,
        "seeds": sorted(int(s) for s in metrics["seed"].unique()),
        "first_date": spec.timeline.date_of_step(1).isoformat(),
        # the last day the run covers: the day before the step after the last one
        "last_date": (spec.timeline.date_of_step(spec.metadata.steps + 1)
                      - timedelta(days=1)).isoformat(),
        "steps": spec.metadata.steps,
        "proposals": {},
    }
    for pid in spec.proposals:
        mine = metrics[metrics["proposal"] == pid]
        points = {}
        for at in [*(a for a in mine["at"].unique() if a != "end"), "end"]:
            here = mine[mine["at"] == at]
            points[at] = {metric: _stats(group["value"])
                          for metric, group in here.groupby("metric", sort=False)}
        tipping = mine[mine["metric"] == "tipping_step"]["value"]
        points["end"]["tipping_step"] = _stats(tipping)
        points["end"]["tipping_reached"] = {"mean": float(tipping.notna().mean())
                                            if len(tipping) else 0.0}
        result["proposals"][pid] = points
    across = metrics[~metrics["proposal"].isin(list(spec.proposals))]
    result["across"] = {f"{proposal}:{metric}": _stats(group["value"]) for (proposal, metric), group
                        in across.groupby(["proposal", "metric"], sort=False)}
    return result


def _cell(stats: dict | None, digits: int = 0, runs: int = 1) -> str:
    if not stats or stats.get("mean") is None or math.isnan(stats["mean"]):
        return "-"
    fmt = f"{{:.{digits}f}}"
    text = fmt.format(stats["mean"])
    if runs > 1:
        text += f" [{fmt.format(stats['low'])}, {fmt.format(stats['high'])}]"
    return text


def format_summary(summary: dict, spec: ScenarioSpec) -> str:
    """The text `cybernorms run` prints."""
    runs = summary["runs"]
    lines = [
        f"{spec.metadata.name}: {summary['steps']} {spec.metadata.unit}ly steps, "
        f"{summary['first_date']} to {summary['last_date']}",
        f"runs: {runs}" + (" (mean [2.5%, 97.5%] over runs)" if runs > 1 else
                           f", seed {summary['seeds'][0]}"),
    ]
    blocs = list(spec.blocs)
    for pid, points in summary["proposals"].items():
        proposal = spec.proposals[pid]
        lines += ["", f"{pid}: {proposal.label or pid} (sponsor {proposal.sponsor or '-'}, "
                      f"open to {', '.join(proposal.open_to)}, bindingness {proposal.bindingness})"]
        digits = 1 if runs > 1 else 0
        header = ["at", *KINDS, "share_states", "share_gdp", *blocs]
        table = [header]
        for at, measures in points.items():
            row = [at]
            row += [_cell(measures.get(f"signers_{k}"), digits, runs) for k in KINDS]
            # three digits: 0.326 (63 of 193) must not read as a third next to "not reached"
            row += [_cell(measures.get(m), 3, runs) for m in ("share_states", "share_gdp")]
            row += [_cell(measures.get(f"state_signers_{b}"), digits, runs) for b in blocs]
            table.append(row)
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        lines += ["  " + "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True))
                  for r in table]
        end = points["end"]
        tip = end.get("tipping_step")
        states = len(load_states(spec.world.states.roster, spec.base_dir))
        what = f"tipping point (a third of states: {math.ceil(states / 3)} of {states})"
        if tip and tip["runs"] and runs == 1:
            step = int(tip["mean"])
            lines.append(f"  {what} reached at step {step} ({spec.timeline.date_of_step(step)})")
        elif tip and tip["runs"]:
            lines.append(f"  {what} reached in {tip['runs']} of {runs} runs "
                         f"({tip['runs'] / runs:.0%}), at step {_cell(tip, 1, runs)}")
        else:
            lines.append(f"  {what} not reached" + (f" in any of {runs} runs" if runs > 1
                                                    else ""))
        joined = [(m.removeprefix("joined_"), s["mean"]) for m, s in end.items()
                  if m.startswith("joined_")]
        if joined:
            lines.append("  swing states joined by the end: " + ", ".join(
                f"{iso3} {share:.0%}" if runs > 1 else f"{iso3} {'yes' if share else 'no'}"
                for iso3, share in joined))
        votes = [(m.removeprefix("vote_"), s) for m, s in end.items() if m.startswith("vote_")]
        if votes:
            lines.append("  UN vote: " + ", ".join(f"{label} {_cell(s, digits, runs)}"
                                                   for label, s in votes))
    late = [str(c) for c in spec.report.checkpoints if spec.step_of(c) > spec.metadata.steps]
    if late:
        lines += ["", f"checkpoints after the last step (not reached): {', '.join(late)}"]
    if summary["across"]:
        lines += ["", "across proposals:"]
        lines += [f"  {key}: {_cell(s, 2, runs)}" for key, s in summary["across"].items()]
    return "\n".join(lines)
