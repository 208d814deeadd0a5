"""Figures and files of the exploratory studies: scenario discovery and text design.

Discovery: PRIM's peeling trajectory (coverage against density, and both against the
peeling step) and the boxes as tables. Design: the Pareto front of ambition against
support, one panel per measure of ambition. Figures are greyscale (markers and fills
differ, not colours), with labelled axes, as PDF, SVG and PNG with a caption file;
tables as CSV, Markdown and LaTeX.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.outputs.plots import plt, save_figure
from sim.outputs.tables import to_markdown, write_tables
from sim.runs.store import provenance, write_json

MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


# --- scenario discovery ------------------------------------------------------------------

def _outcome_text(question: dict) -> str:
    return (f"{question['outcome']} {question['direction']} {question['threshold']:g} "
            f"({question['proposal']}, at {question['at']})")


def trajectory_figure(found):
    """Coverage against density along PRIM's trajectory, and both against the peeling step."""
    trajectory, chosen = found.trajectory, found.chosen
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    left.plot(trajectory["coverage"], trajectory["density"], color="0.75", linewidth=0.8,
              zorder=1)
    for i, (dims, group) in enumerate(trajectory.groupby("res_dim")):
        left.scatter(group["coverage"], group["density"], marker=MARKERS[i % len(MARKERS)],
                     s=18, facecolor="white" if i % 2 else "0.3", edgecolor="0.1",
                     linewidth=0.7, label=f"{dims} restricted", zorder=2)
    pick = trajectory.loc[chosen]
    left.scatter([pick["coverage"]], [pick["density"]], s=140, facecolor="none",
                 edgecolor="black", linewidth=1.4, zorder=3, label=f"chosen: box {chosen}")
    left.set_xlabel("coverage (share of cases of interest in the box)")
    left.set_ylabel("density (share of runs in the box\nwhere the outcome holds)")
    left.set_xlim(-0.02, 1.02)
    left.set_ylim(-0.02, 1.02)
    left.grid(True, color="0.9", linewidth=0.6)
    left.legend(fontsize=7, frameon=False, loc="lower left")
    step = trajectory["box"]
    for column, style in (("coverage", "-"), ("density", "--"), ("mass", ":")):
        right.plot(step, trajectory[column], color="black", linestyle=style, linewidth=1.3,
                   label=column)
    right.axvline(chosen, color="0.5", linewidth=0.8)
    right.set_xlabel("peeling and pasting step (box number)")
    right.set_ylabel("share (0-1)")
    right.set_ylim(-0.02, 1.02)
    right.grid(True, color="0.9", linewidth=0.6)
    right.legend(fontsize=7, frameon=False)
    fig.suptitle(f"PRIM: where {_outcome_text(found.question)}", fontsize=10)
    return fig


def format_discovery(found) -> str:
    """What a person reads: the question, the chosen PRIM box and CART's leaves."""
    q, pick = found.question, found.trajectory.loc[found.chosen]
    lines = [f"{q['runs']} runs of {q['directory']}; the outcome {_outcome_text(q)} holds "
             f"in {q['cases']} ({q['cases'] / q['runs']:.0%})", "",
             f"PRIM: {len(found.trajectory)} boxes on the peeling trajectory; box "
             f"{found.chosen} (the densest with coverage >= {q['min_coverage']:g}): coverage "
             f"{pick['coverage']:.2f}, density {pick['density']:.2f}, mass {pick['mass']:.2f}, "
             f"{int(pick['res_dim'])} restricted parameters", ""]
    box = found.box[["parameter", "limits", "qp_low", "qp_high"]].copy()
    for column in ("qp_low", "qp_high"):
        box[column] = box[column].map(lambda v: "" if pd.isna(v) else f"{v:.2g}")
    lines += [to_markdown(box) if len(box) else "(no parameter restricted)", "",
              "CART leaves (densest first):", ""]
    leaves = found.leaves.head(8).copy()
    for column in ("coverage", "density", "mass"):
        leaves[column] = leaves[column].map(lambda v: f"{v:.2f}")
    lines.append(to_markdown(leaves))
    return "\n".join(lines)


def write_discovery(found, out: str | Path) -> list[Path]:
    """trajectory figure, trajectory/box/leaves tables and a manifest in `out`."""
    out = Path(out)
    q = found.question
    caption = (f"Scenario discovery on {q['runs']} runs of {q['directory']}: the outcome "
               f"{_outcome_text(q)} holds in {q['cases']} runs. PRIM (EMA Workbench; peel and "
               f"paste alpha {q['peel_alpha']:g}, smallest box {q['mass_min']:g} of the runs); "
               f"box {found.chosen} is the densest with coverage >= {q['min_coverage']:g}.")
    written = save_figure(trajectory_figure(found), out / "trajectory", caption)
    write_tables(found.trajectory.round(4), out / "trajectory", caption, "tab:trajectory")
    write_tables(found.box.round(6), out / "box", caption, "tab:box")
    write_tables(found.leaves.round(4), out / "leaves",
                 f"CART leaves (scikit-learn, smallest leaf {q['mass_min']:g} of the runs) for "
                 f"{_outcome_text(q)}.", "tab:leaves")
    written.append(write_json(out / "manifest.json", {**q, "chosen": found.chosen,
                                                      **provenance()}))
    return written


# --- text design --------------------------------------------------------------------------

AMBITION_LABELS = {
    "breadth": "scope breadth (dimensions addressed)",
    "bindingness": "bindingness (0-1)",
    "distance": "distance from the sponsor's text\n(mean |content change| per dimension)",
}


def front_figure(texts: pd.DataFrame, objective: str, reference: int | None):
    """Support against each measure of ambition; the Pareto front filled, others hollow."""
    fig, axes = plt.subplots(1, 3, figsize=(11, 4.0), layout="constrained", sharey=True)
    front = texts["front"].to_numpy(bool)
    for ax, (measure, label) in zip(axes, AMBITION_LABELS.items(), strict=True):
        ax.scatter(texts.loc[~front, measure], texts.loc[~front, "objective"], s=10,
                   facecolor="white", edgecolor="0.55", linewidth=0.6, label="other texts")
        ax.scatter(texts.loc[front, measure], texts.loc[front, "objective"], s=18,
                   facecolor="black", edgecolor="black", label="Pareto front (all measures)")
        best = _frontier(texts, measure)
        ax.step(best[measure], best["objective"], where="post" if measure == "distance"
                else "pre", color="black", linewidth=0.9, linestyle="--",
                label="best support at this ambition or more")
        if reference is not None:
            row = texts.loc[texts["text"] == reference]
            ax.scatter(row[measure], row["objective"], marker="*", s=160, facecolor="0.6",
                       edgecolor="black", linewidth=0.8, zorder=5, label="the text as written")
        ax.set_xlabel(label)
        ax.grid(True, color="0.9", linewidth=0.6)
    axes[0].xaxis.get_major_locator().set_params(integer=True)
    axes[0].set_ylabel(f"support: {objective}\n(mean over replications)")
    fig.legend(*axes[-1].get_legend_handles_labels(), loc="outside lower center", ncol=4,
               fontsize=8, frameon=False)
    return fig


def _frontier(texts: pd.DataFrame, measure: str) -> pd.DataFrame:
    """The best support reachable with at least (breadth, bindingness) or at most
    (distance) each value of one ambition measure: a staircase."""
    ascending = measure == "distance"
    ordered = texts.sort_values(measure, ascending=ascending, kind="stable")
    best = ordered["objective"].cummax()
    frame = pd.DataFrame({measure: ordered[measure].to_numpy(), "objective": best.to_numpy()})
    return frame.sort_values(measure, kind="stable")


def write_design(result, out: str | Path) -> list[Path]:
    """The front figure, the texts and front tables, and a manifest in `out`."""
    out = Path(out)
    plan = result.plan
    caption = (f"Texts of {plan['proposal']} searched by `cybernorms design` on "
               f"{plan['scenario_name']}: {plan['texts']} texts x {plan['replications']} "
               f"replications on common random numbers (root seed {plan['seed']}); support is "
               f"{plan['objective']} at {plan['at']}, the mean over replications. Filled: the "
               f"Pareto front of support against breadth, bindingness and distance from the "
               f"text as written (star). Model version {plan['model_version']}.")
    written = save_figure(front_figure(result.texts, plan["objective"], result.reference),
                          out / "front", caption)
    shown = result.texts.round(4)
    write_tables(shown, out / "texts", caption, "tab:texts")
    write_tables(shown[shown["front"]], out / "front", caption, "tab:front")
    written.append(write_json(out / "design.json", {**plan, **provenance()}))
    return written


__all__ = ["format_discovery", "front_figure", "trajectory_figure", "write_design",
           "write_discovery"]
