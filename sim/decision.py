"""The decision rule: utility of signing, as one vectorised kernel and as a plain reference.

Utility of actor i for proposal p, reading the world as it stands (synchronous update):

    U = a*align - g*cost + s*peers + l*leader + m*momentum + h*home
        + f*federated + o*outreach - r*rival

with coefficients (a, g, ...) of i's kind from the scenario's `behaviour`. Terms:

- align:     salience-weighted agreement of interests x[i] with content y[p] over
             the scope, sum_d s x y / sum_d s |y|, in [-1, 1]
- cost:      bindingness b[p] times how far the text's demands exceed what i would do
             anyway, weighted by salience: b * sum_{d in scope} s max(0, |y| - sign(y) x)
             (0 for a non-binding text; largest for salient dimensions i opposes)
- peers:     tie-weighted share of i's neighbours who signed, among those who may
- leader:    cohesion of i's bloc times the mean stance of its leaders (other than i):
             +1 signed, -1 opposes, 0 otherwise
- momentum:  legitimacy of the signer set: weight-share signed per kind, averaged
             with the scenario's legitimacy weights over the kinds that may sign
- home:      stance of the home state (+1 signed, -1 opposes), firms and civil only
- federated: 1 if i belongs to an initiative the proposal federates
- outreach:  the sponsor's current campaign pressure on i
- rival:     commitments to incompatible proposals, sum_q rivalry[p, q] signed[i, q]

`term_arrays` and `utility` compute all actors at once; `reference_terms`,
`utility_terms` and `reference_utility` compute one actor and one proposal in plain
Python. Tests hold the two to agreement within 1e-9.
"""

from __future__ import annotations

import math

import numpy as np

from sim.scenario.spec import TERMS
from sim.world.arrays import World, sparse_row
from sim.world.network import tie_sums


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def static_terms(world: World, chunk: int = 1 << 16) -> tuple[np.ndarray, np.ndarray]:
    """(align, cost), which change only when interests or salience do.

    Cached on the world; events and writes through agent views clear the cache
    (`World.interests_changed`).
    """
    if world.static_cache is None:
        x, s, y = world.interests, world.salience, world.content
        align = _safe_divide((s * x) @ y.T, s @ np.abs(y).T)
        burden = np.empty_like(align)
        for start in range(0, world.n_actors, chunk):  # (chunk, P, D) at a time, not (N, P, D)
            part = slice(start, start + chunk)
            # how far each text's demand exceeds what each actor would do anyway
            demanded = np.abs(y)[None] - np.sign(y)[None] * x[part, None, :]
            burden[part] = (s[part, None, :] * np.maximum(demanded, 0.0)
                            * (y != 0)[None]).sum(axis=2)
        world.static_cache = (align, world.bindingness * burden)
    return world.static_cache


def _stance(world: World, actors) -> np.ndarray:
    """(len(actors), P): +1 signed, -1 opposes, 0 otherwise."""
    return world.signed[actors].astype(float) - world.opposed[actors]


def _leader_term(world: World, rows: np.ndarray) -> np.ndarray:
    """Cohesion x mean stance of the bloc's leaders; a leader looks at the other leaders.

    For the actors `rows`, as (len(rows), P).
    """
    leaders, of_bloc, counts, leads = world.leader_layout
    totals = of_bloc @ _stance(world, leaders)  # (B, P) sums of -1, 0, 1: exact
    mean = np.zeros((len(counts) + 1, totals.shape[1]))  # last row: actors without a bloc
    mean[:-1] = world.cohesion[:, None] * totals / np.maximum(counts, 1)[:, None]
    out = mean[world.bloc[rows]]
    inside = np.flatnonzero(leads[rows] >= 0)  # leaders among rows, in their own bloc
    if len(inside):
        bloc = leads[rows[inside]]
        others = counts[bloc] - 1
        out[inside] = np.where(
            others[:, None] > 0,
            world.cohesion[bloc, None] * (totals[bloc] - _stance(world, rows[inside]))
            / np.maximum(others, 1)[:, None],
            0.0)
    return out


def momentum(world: World) -> np.ndarray:
    """(P,) legitimacy of each proposal's signer set."""
    shares = np.zeros((len(world.proposal_ids), 3))
    for k, rows in enumerate(world.slices.values()):
        total = world.kind_weight_total[k]
        if total > 0:
            shares[:, k] = world.weight[rows] @ world.signed[rows] / total
    return (shares * world.legitimacy).sum(axis=1)


def _terms(world: World, rows: np.ndarray | None):
    """Yield each term for the actors `rows` (None: all, without copies), as
    (actors, P) arrays or broadcastable ones, in the order of TERMS."""
    pick = slice(None) if rows is None else rows
    align, cost = static_terms(world)
    yield align[pick]
    yield cost[pick]
    could_sign = (world.signed & world.eligible).astype(float)
    # the deciding actors' ties only: O(their ties), not O(all ties), each step
    peers = (np.asarray(world.network @ could_sign) if rows is None
             else tie_sums(world.network, rows, could_sign))
    yield _safe_divide(peers, world.peer_norm[pick])
    yield _leader_term(world, np.arange(world.n_actors) if rows is None else rows)
    yield momentum(world)[None, :]
    yield _stance(world, world.home[pick]) * (world.kind[pick] != 0)[:, None]
    yield world.federated[pick]
    yield world.outreach[pick]
    yield world.signed[pick].astype(float) @ world.rivalry.T


def term_arrays(world: World, rows: np.ndarray | None = None) -> np.ndarray:
    """(T, N, P) raw values of every term, in the order of TERMS (or (T, len(rows), P))."""
    shape = (world.n_actors if rows is None else len(rows), world.signed.shape[1])
    return np.stack([np.broadcast_to(term, shape) for term in _terms(world, rows)])


def utility(world: World, rows: np.ndarray | None = None) -> np.ndarray:
    """Utility of signing (coefficients applied): (N, P) for every actor, or
    (len(rows), P) for the sorted actor indices `rows` (the ones deciding this step)."""
    coefficients = world.coefficients if rows is None else world.coefficients[:, rows]
    total = np.zeros((coefficients.shape[1], world.signed.shape[1]))
    for coefficient, term in zip(coefficients, _terms(world, rows), strict=True):
        total += coefficient[:, None] * term
    return total


# --- the same rule, one actor at a time ------------------------------------------------


def reference_momentum(world: World, p: int) -> float:
    """Legitimacy of proposal p's signer set, computed plainly (one number per step)."""
    legitimacy = 0.0
    for k, rows in enumerate(world.slices.values()):
        total = world.kind_weight_total[k]
        if total > 0:
            covered = sum(world.weight[j] for j in range(rows.start, rows.stop)
                          if world.signed[j, p])
            legitimacy += world.legitimacy[p, k] * covered / total
    return legitimacy


def reference_terms(world: World, i: int, p: int, momentum: float | None = None
                    ) -> dict[str, float]:
    """Raw term values for actor i and proposal p, computed plainly.

    `momentum` is the same for every actor; a per-agent loop passes the value it
    computed once this step (as a Mesa model computes a global once per step).
    """
    x, s, y = world.interests[i], world.salience[i], world.content[p]
    agree = weight = burden = 0.0
    for d in range(len(y)):
        if y[d] == 0:
            continue
        agree += s[d] * x[d] * y[d]
        weight += s[d] * abs(y[d])
        demanded = abs(y[d]) - math.copysign(1.0, y[d]) * x[d]  # beyond what i would do
        burden += s[d] * max(0.0, demanded)
    align = agree / weight if weight > 0 else 0.0

    neighbours, ties = sparse_row(world.network, i)
    signed_ties = could_ties = 0.0
    for j, tie in zip(neighbours, ties, strict=True):
        if world.eligible[j, p]:
            could_ties += tie
            if world.signed[j, p]:
                signed_ties += tie
    peers = signed_ties / could_ties if could_ties > 0 else 0.0

    def stance_of(j: int) -> float:
        return float(world.signed[j, p]) - float(world.opposed[j, p])

    leader = 0.0
    code = world.bloc[i]
    if code >= 0:
        others = [j for j in world.leaders[code] if j != i]
        if others:
            leader = world.cohesion[code] * sum(stance_of(j) for j in others) / len(others)

    home = stance_of(world.home[i]) if world.kind[i] != 0 else 0.0
    rival = sum(world.rivalry[p, q] for q in range(len(world.proposal_ids))
                if world.signed[i, q])
    return {
        "align": align,
        "cost": world.bindingness[p] * burden,
        "peers": peers,
        "leader": leader,
        "momentum": reference_momentum(world, p) if momentum is None else momentum,
        "home": home,
        "federated": float(world.federated[i, p]),
        "outreach": float(world.outreach[i, p]),
        "rival": rival,
    }


def utility_terms(world: World, i: int, p: int, momentum: float | None = None
                  ) -> dict[str, float]:
    """Each term's contribution to U for actor i and proposal p (they sum to U)."""
    raw = reference_terms(world, i, p, momentum)
    return {term: float(world.coefficients[t, i]) * raw[term] for t, term in enumerate(TERMS)}


def reference_utility(world: World, i: int, p: int, momentum: float | None = None) -> float:
    """U for actor i and proposal p: the per-agent reference of `utility`."""
    return math.fsum(utility_terms(world, i, p, momentum).values())
