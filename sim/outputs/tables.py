"""Tables for papers: formatted comparison tables, Markdown and LaTeX (booktabs).

Every table a command writes goes through `write_tables`: CSV, Markdown with its
caption, and LaTeX, side by side.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from sim.runs.store import write_table, write_text


def _fmt(value: float, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}f}"


def _p(value: float) -> str:
    if value is None or math.isnan(value):
        return ""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def paper_table(table: pd.DataFrame, at: str = "end") -> pd.DataFrame:
    """A compact, formatted table: one row per scenario and outcome at one time point."""
    rows = []
    for row in table[table["at"] == at].itertuples():
        digits = 2 if row.metric.startswith(("share", "polar", "joined")) else 1
        rows.append({
            "Proposal": row.proposal,
            "Outcome": row.metric,
            "Scenario": row.scenario,
            "Mean [95% CI]": f"{_fmt(row.mean, digits)} [{_fmt(row.ci_low, digits)}, "
                             f"{_fmt(row.ci_high, digits)}]",
            "90% of runs": f"{_fmt(row.p05, digits)}-{_fmt(row.p95, digits)}",
            "Difference [95% CI]": "" if math.isnan(getattr(row, "diff", math.nan)) else
            f"{_fmt(row.diff, digits)} [{_fmt(row.diff_low, digits)}, "
            f"{_fmt(row.diff_high, digits)}]",
            "d_z": _fmt(getattr(row, "d_z", math.nan), 2),
            "p (Holm)": _p(getattr(row, "p_holm", math.nan)),
        })
    return pd.DataFrame(rows)


def to_markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def to_latex(frame: pd.DataFrame, caption: str, label: str) -> str:
    """A booktabs table (no pandas Styler/jinja needed)."""
    def escape(text: str) -> str:
        for old, new in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"),
                         ("_", r"\_"), ("#", r"\#"), ("<", r"$<$")):
            text = text.replace(old, new)
        return text

    columns = "l" * 3 + "r" * (len(frame.columns) - 3)
    lines = [r"\begin{table}[ht]", r"\centering", rf"\caption{{{escape(caption)}}}",
             rf"\label{{{label}}}", rf"\begin{{tabular}}{{{columns}}}", r"\toprule",
             " & ".join(escape(str(c)) for c in frame.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(escape(str(v)) for v in row) + r" \\"
              for row in frame.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines)


def write_tables(frame: pd.DataFrame, stem: Path, caption: str, label: str) -> None:
    """`stem`.csv, .md (caption first) and .tex of one table."""
    write_table(stem.with_suffix(".csv"), frame)
    write_text(stem.with_suffix(".md"), f"{caption}\n\n{to_markdown(frame)}\n")
    write_text(stem.with_suffix(".tex"), to_latex(frame, caption, label) + "\n")
