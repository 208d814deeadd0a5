"""Outcome measures of one run, in long form: (proposal, metric, at, value).

`at` is "end" (the last step) or the ISO date of a checkpoint from the scenario's
`report.checkpoints`. Measures:

- signers_<kind>, state_signers_<bloc>, share_states, share_gdp: counts and coverage;
- opposers_state: states that opposed (U < -theta) when they last considered it;
- joined_<ISO3>: 1 if that named swing state had signed (0 otherwise);
- polarisation: max minus min over blocs of the share of the bloc's states that signed;
- tipping_step: first step with at least ceil(N_states / 3) state signers
  (Finnemore & Sikkink's tipping point; NaN if never reached);
- withdrawals: signers who had withdrawn by the end;
- vote_yes, vote_abstain, vote_no: tallies of a proposal's UN vote;
- across proposals (proposal "*"): fragmentation, the effective number of proposals
  1 / sum_p share_p^2 over all signatures (and over state signatures:
  fragmentation_states); and for each pair "p|q", jaccard, the overlap of signer sets.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd


def tipping_step(state_signers: np.ndarray, steps: np.ndarray, n_states: int) -> float:
    """First step whose state-signer count reaches ceil(n_states / 3); NaN if none."""
    reached = np.flatnonzero(state_signers >= math.ceil(n_states / 3))
    return float(steps[reached[0]]) if len(reached) else math.nan


def effective_number(counts: np.ndarray) -> float:
    """1 / sum(share^2): 1 when one proposal has every signature, P when evenly split."""
    total = counts.sum()
    if total == 0:
        return math.nan
    shares = counts / total
    return float(1.0 / np.sum(shares**2))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else math.nan


def polarisation(state_signed: np.ndarray, bloc: np.ndarray, n_blocs: int) -> float:
    """Max minus min over (non-empty) blocs of their share of states that signed."""
    shares = [state_signed[bloc == b].mean() for b in range(n_blocs) if (bloc == b).any()]
    return float(max(shares) - min(shares)) if shares else math.nan


def checkpoint_label(spec, when) -> str:
    """How a checkpoint is named in tables: its ISO date (a step: the step's first day)."""
    return (spec.timeline.date_of_step(when) if isinstance(when, int) else when).isoformat()


def run_metrics(model, steps_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """All measures of a finished (or paused) model, one row each.

    `steps_table` is the model's history table, if the caller has built it already.
    """
    world, history, spec = model.world, model.history, model.spec
    steps_table = history.table() if steps_table is None else steps_table
    rows: list[tuple[str, str, str, float]] = []
    states = world.slices["state"]
    n_states = world.n_states
    state_bloc = world.bloc[states]
    swing = [(iso3, world.index_of[iso3]) for iso3 in spec.report.swing_states]
    gdp = world.attributes["gdp_usd_2018"][states]

    snapshots = {checkpoint_label(spec, when): history.signed_at[spec.step_of(when)]
                 for when in spec.report.checkpoints if spec.step_of(when) in history.signed_at}
    snapshots["end"] = world.signed

    for p, pid in enumerate(world.proposal_ids):
        for at, signed in snapshots.items():
            column = signed[:, p]
            for kind, rows_of_kind in world.slices.items():
                rows.append((pid, f"signers_{kind}", at, float(column[rows_of_kind].sum())))
            state_signed = column[states]
            rows.append((pid, "share_states", at, float(state_signed.mean())))
            rows.append((pid, "share_gdp", at, float(gdp @ state_signed / gdp.sum())))
            rows.append((pid, "polarisation", at,
                         polarisation(state_signed, state_bloc, len(world.bloc_ids))))
            for b, bloc in enumerate(world.bloc_ids):
                rows.append((pid, f"state_signers_{bloc}", at,
                             float(state_signed[state_bloc == b].sum())))
            for iso3, row in swing:
                rows.append((pid, f"joined_{iso3}", at, float(column[row])))
        rows.append((pid, "opposers_state", "end", float(world.opposed[states, p].sum())))
        rows.append((pid, "withdrawals", "end",
                     float(((world.withdrawn_step[:, p] >= 0) & ~world.signed[:, p]).sum())))
        if len(steps_table):
            mine = steps_table[steps_table["proposal"] == pid]
            rows.append((pid, "tipping_step", "end",
                         tipping_step(mine["signers_state"].to_numpy(),
                                      mine["step"].to_numpy(), n_states)))
        if any(vote.proposal == p for vote in world.votes_due):
            votes = world.votes[:, p]
            if (votes != -2).any():
                for code, label in ((1, "yes"), (0, "abstain"), (-1, "no")):
                    rows.append((pid, f"vote_{label}", "end", float((votes == code).sum())))

    if len(world.proposal_ids) > 1:
        counts = world.signed.sum(axis=0)
        rows.append(("*", "fragmentation", "end", effective_number(counts)))
        rows.append(("*", "fragmentation_states", "end",
                     effective_number(world.signed[states].sum(axis=0))))
        for p, q in combinations(range(len(world.proposal_ids)), 2):
            pair = f"{world.proposal_ids[p]}|{world.proposal_ids[q]}"
            rows.append((pair, "jaccard", "end", jaccard(world.signed[:, p], world.signed[:, q])))

    return pd.DataFrame(rows, columns=["proposal", "metric", "at", "value"])

