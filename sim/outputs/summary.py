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


def summarise(metrics: pd.DataFrame, spec: ScenarioSpec, *, texts: pd.DataFrame | None = None,
              actors: pd.DataFrame | None = None) -> dict:
    """Nested plain data: per proposal, per time point, per measure -> stats.

    With `texts`, each negotiated text as drafted and at the end (mean over runs), its
    revisions and the withdrawals they caused; with `actors` and `report.list_states`,
    the states that join at the launch and by the end (share of runs)."""
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
    if texts is not None and len(texts):
        result["texts"] = summarise_texts(texts, runs)
    if actors is not None and spec.report.list_states:
        result["joined"] = joined_states(actors, spec, runs)
    across = metrics[~metrics["proposal"].isin(list(spec.proposals))]
    result["across"] = {f"{proposal}:{metric}": _stats(group["value"]) for (proposal, metric), group
                        in across.groupby(["proposal", "metric"], sort=False)}
    return result


def summarise_texts(texts: pd.DataFrame, runs: int) -> dict:
    """Per negotiated proposal: each dimension drafted and at the end (mean over runs),
    rounds held and revising, withdrawals caused (per run)."""
    out = {}
    for pid, mine in texts.groupby("proposal", sort=False):
        last = mine[mine["round"] == mine.groupby("run_id")["round"].transform("max")]
        final = last.groupby("dimension", sort=False)[["drafted", "content"]].mean()
        held = mine[mine["round"] > 0].drop_duplicates(["run_id", "round"])
        revised = mine[(mine["round"] > 0) & (mine["content"] != mine["previous"])]
        out[pid] = {
            "text": {dim: {"drafted": float(row.drafted), "end": float(row.content)}
                     for dim, row in final.iterrows()},
            "rounds": len(held) / runs,
            "revisions": revised.drop_duplicates(["run_id", "round"]).shape[0] / runs,
            "withdrawals": float(held["withdrawals"].sum()) / runs,
        }
    return out


def joined_states(actors: pd.DataFrame, spec: ScenarioSpec, runs: int) -> dict:
    """Per proposal: iso3 -> share of runs in which the state signed at the launch, and
    in which it had signed at the end."""
    states = actors[actors["kind"] == "state"]
    out = {}
    for pid, proposal in spec.proposals.items():
        mine = states[states["proposal"] == pid]
        launch = spec.step_of(proposal.launch)
        at_launch = mine["signed_step"].eq(launch).fillna(False)
        out[pid] = {
            "at_launch": _shares(mine.loc[at_launch.astype(bool), "actor_id"], runs),
            "by_end": _shares(mine.loc[mine["signed"].astype(bool), "actor_id"], runs),
        }
    return out


def _shares(ids: pd.Series, runs: int) -> dict[str, float]:
    counts = ids.value_counts()
    return {str(iso3): counts[iso3] / runs for iso3 in sorted(counts.index)}


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
        lines += _text_lines(summary.get("texts", {}).get(pid), runs)
        lines += _joined_lines(summary.get("joined", {}).get(pid), runs)
    late = [str(c) for c in spec.report.checkpoints if spec.step_of(c) > spec.metadata.steps]
    if late:
        lines += ["", f"checkpoints after the last step (not reached): {', '.join(late)}"]
    if summary["across"]:
        lines += ["", "across proposals:"]
        lines += [f"  {key}: {_cell(s, 2, runs)}" for key, s in summary["across"].items()]
    return "\n".join(lines)


def _text_lines(text: dict | None, runs: int) -> list[str]:
    if not text:
        return []
    per = " per run" if runs > 1 else ""
    lines = [f"  negotiation: {text['rounds']:g} rounds, {text['revisions']:g} revising the "
             f"text, {text['withdrawals']:g} withdrawals over red lines{per}",
             "  text (drafted -> end" + (", mean over runs" if runs > 1 else "") + "): "
             + ", ".join(f"{dim} {v['drafted']:.2f}" + (f" -> {v['end']:.2f}"
                                                      if v["end"] != v["drafted"] else "")
                         for dim, v in text["text"].items())]
    return lines


def _joined_lines(joined: dict | None, runs: int) -> list[str]:
    if joined is None:
        return []

    def names(shares: dict[str, float]) -> str:
        if runs == 1:
            return ", ".join(shares) or "-"
        return ", ".join(f"{iso3} {share:.0%}" for iso3, share in shares.items()) or "-"

    return [f"  states joining at the launch ({len(joined['at_launch'])}"
            + (", share of runs" if runs > 1 else "") + f"): {names(joined['at_launch'])}",
            f"  states signed by the end ({len(joined['by_end'])}): {names(joined['by_end'])}"]
