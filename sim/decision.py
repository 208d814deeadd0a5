"""The decision rule: utility of signing, as one vectorised kernel and as a plain reference.

Utility of actor i for proposal p, reading the world as it stands (synchronous update):

    U = a*align - g*cost + s*peers + l*leader + m*momentum + h*home
        + f*federated + o*outreach - r*rival + c*capacity + e*regime + t*ties + q*cue

with coefficients (a, g, ...) of i's kind from the scenario's `behaviour`. Terms:

- align:     salience-weighted agreement of interests x[i] with content y[p] over
             the scope, sum_d s x y / sum_d s |y|, in [-1, 1]
- cost:      bindingness b[p] times how far the text's demands exceed what i would do
             anyway, weighted by salience: b * sum_{d in scope} s max(0, |y| - sign(y) x)
             (0 for a non-binding text; largest for salient dimensions i opposes)
- peers:     tie-weighted share of i's neighbours who signed, among those who may
- leader:    cohesion of i's bloc times the mean signal of its leaders (other than i):
             +1 signed, -1 opposes, -non_adoption if it considered and did not sign
             (a visible stance), 0 otherwise
- momentum:  legitimacy of the signer set: weight-share signed per kind, averaged
             with the scenario's legitimacy weights over the kinds that may sign
- home:      stance of the home state (+1 signed, -1 opposes), firms and civil only
- federated: 1 if i belongs to an initiative the proposal federates
- outreach:  the sponsor's current campaign pressure on i
- rival:     commitments to incompatible proposals, sum_q rivalry[p, q] signed[i, q]
- capacity:  engagement capacity of i (an attribute-linear form over states): the cost
             of engaging with any call falls with diplomatic and cyber capacity
- regime:    embeddedness of i in the existing cyber regime times how the text relates
             to it (regime[p]: +1 builds on it, -1 would replace it)
- ties:      i's ties to the sponsor of p (an attribute-linear form per proposal)
- cue:       mean over the cue groups i belongs to of cohesion x the mean signal of the
             group's leaders (other than i), as for `leader`

`term_arrays` and `utility` compute all actors at once; `reference_terms`,
`utility_terms` and `reference_utility` compute one actor and one proposal in plain
Python. Tests hold the two to agreement within 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from scipy.special import expit

from sim.scenario.spec import TERMS
from sim.world.arrays import World, sparse_row
from sim.world.network import tie_sums

#: the terms that depend on a proposal's text (content and bindingness)
TEXT_TERMS = ("align", "cost")


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


#: actor x text x dimension cells per block of the direct burden (bounds its memory)
TEXT_BLOCK = 1 << 21
#: up to this many texts the burden is summed directly (the world's own proposals);
#: a larger batch (a negotiation round's candidates) goes by the values each dimension takes
DIRECT_TEXTS = 64


def text_terms(x: np.ndarray, s: np.ndarray, y: np.ndarray, bindingness: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """(align, cost) of the actors with interests `x` and salience `s` (A, D) for the texts
    `y` (C, D) of bindingness (C,), as (A, C) arrays: the proposals of a world, or the
    candidate texts of a negotiation round, in one computation."""
    align = _safe_divide((s * x) @ y.T, s @ np.abs(y).T)
    burden = _burden(x, s, y) if len(y) <= DIRECT_TEXTS else _burden_by_values(x, s, y)
    return align, bindingness * burden


def _demand(x: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """s max(0, |y| - sign(y) x) for y != 0 (0 elsewhere), broadcast: how far a text's
    demand exceeds what an actor would do anyway, weighted by salience."""
    return s * np.maximum(np.abs(y) - np.sign(y) * x, 0.0) * (y != 0)


def _burden(x: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(A, C) summed over dimensions cell by cell, texts and actors taken in blocks so
    that the (actors, texts, D) array stays small however large the world (the blocking
    does not change a digit: each cell is summed over its own D values)."""
    n_actors, n_dims = x.shape
    burden = np.empty((n_actors, y.shape[0]))
    texts_per = max(1, TEXT_BLOCK // max(1, n_actors * n_dims))
    actors_per = max(1, TEXT_BLOCK // max(1, min(texts_per, y.shape[0]) * n_dims))
    for first in range(0, y.shape[0], texts_per):
        texts = slice(first, first + texts_per)
        for start in range(0, n_actors, actors_per):
            part = slice(start, start + actors_per)
            burden[part, texts] = _demand(x[part, None, :], s[part, None, :],
                                          y[None, texts]).sum(axis=2)
    return burden


def _burden_by_values(x: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(A, C) as `_burden`, for many texts that share few values per dimension: each
    actor's demand for each distinct value (A, K), then a sparse (C, K) selection of one
    value per text and dimension, summed in one product."""
    tables, picks, offset = [], [], 0
    for d in range(y.shape[1]):
        values, index = np.unique(y[:, d], return_inverse=True)
        tables.append(_demand(x[:, d, None], s[:, d, None], values[None, :]))
        picks.append(index + offset)
        offset += len(values)
    n_texts, n_dims = y.shape
    select = sparse.csr_matrix(
        (np.ones(n_texts * n_dims), np.column_stack(picks).ravel(),
         np.arange(0, n_texts * n_dims + 1, n_dims)), shape=(n_texts, offset))
    return np.asarray((select @ np.hstack(tables).T).T)


def static_terms(world: World) -> tuple[np.ndarray, np.ndarray]:
    """(align, cost), which change only when interests, salience or texts do.

    Cached on the world; events, revisions of a text, moving positions and writes
    through agent views clear the cache (`World.interests_changed`).
    """
    if world.static_cache is None:
        world.static_cache = text_terms(world.interests, world.salience, world.content,
                                        world.bindingness)
    return world.static_cache


def text_utility(world: World, p: int, rows: np.ndarray, content: np.ndarray,
                 bindingness: np.ndarray) -> np.ndarray:
    """(len(rows), C): utility of signing proposal p for the actors `rows` if its text were
    each of the C candidate `content` rows (bindingness (C,)), everything else as it
    stands: the batched kernel of a negotiation round."""
    coefficients = world.coefficients[:, rows]
    rest = np.zeros(len(rows))
    shape = (len(rows), len(world.proposal_ids))
    for t, term in enumerate(_terms(world, rows, coefficients != 0)):
        if TERMS[t] not in TEXT_TERMS:
            rest += coefficients[t] * np.broadcast_to(term, shape)[:, p]
    align, cost = text_terms(world.interests[rows], world.salience[rows], content, bindingness)
    a, g = (coefficients[TERMS.index(term)][:, None] for term in TEXT_TERMS)
    return rest[:, None] + a * align + g * cost  # g carries the sign of cost (-1)


def _stance(world: World, actors) -> np.ndarray:
    """(len(actors), P): +1 signed, -1 opposes, 0 otherwise."""
    return world.signed[actors].astype(float) - world.opposed[actors]


class Shown:
    """What leaders show, (N, P) as indexed: +1 signed, -1 opposed, -non_adoption if
    considered and not signed, 0 otherwise. Computed only for the rows asked for
    (``shown[leaders]``): the leader and cue terms read a few leaders' rows, not an
    (N, P) array each step."""

    def __init__(self, world: World):
        self.world = world
        self.shape = world.signed.shape

    def __getitem__(self, actors) -> np.ndarray:
        world = self.world
        stance = _stance(world, actors)
        if not world.non_adoption:
            return stance
        signed, opposed = world.signed[actors], world.opposed[actors]
        return stance - world.non_adoption * (world.considered[actors] & ~signed & ~opposed)


def in_order(values: np.ndarray) -> np.ndarray:
    """Sum over the first axis, one row after another (numpy's `sum` may pair terms up):
    the order the compiled step adds them in, so both give the same digits."""
    if not len(values):
        return np.zeros(values.shape[1:])
    return np.cumsum(values, axis=0)[-1]


#: rows of the (rows, groups, P) cue values made at once (bounds the memory of a launch)
CUE_BLOCK = 1 << 16


def cue_term(world: World, stances: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mean over i's cue groups of cohesion x mean stance of the group's other leaders.

    For the actors `rows` (sorted indices), as (len(rows), P); groups where i is the only
    leader, or without leaders, do not count. Each group's leaders are summed in order,
    and each actor's groups are added group after group (`in_order`).
    """
    leaders, groups, bounds = world.group_leader_rows, world.group_of_leader, world.group_bounds
    if not len(world.group_ids) or not len(rows):
        return np.zeros((len(rows), stances.shape[1]))
    sizes = np.diff(bounds).astype(float)
    shown = stances[leaders]
    totals = np.stack([in_order(shown[a:b]) for a, b in zip(bounds[:-1], bounds[1:],
                                                            strict=True)])
    per_group = world.group_cohesion[:, None] * totals / np.maximum(sizes, 1)[:, None]
    # a leader inside its own group looks at the group's other leaders only
    where = np.minimum(np.searchsorted(rows, leaders), len(rows) - 1)
    present = (rows[where] == leaders) & world.group_member[leaders, groups]
    where, groups = where[present], groups[present]
    several = sizes[groups] > 1
    others = np.where(several[:, None],
                      world.group_cohesion[groups, None] * (totals[groups] - shown[present])
                      / np.maximum(sizes[groups] - 1, 1)[:, None], 0.0)
    out = np.empty((len(rows), stances.shape[1]))
    for start in range(0, len(rows), CUE_BLOCK):
        block = slice(start, start + CUE_BLOCK)
        member = world.group_member[rows[block]] & (sizes > 0)[None, :]
        values = np.where(member[:, :, None], per_group[None], 0.0)
        mine = (where >= start) & (where < start + CUE_BLOCK)
        values[where[mine] - start, groups[mine]] = others[mine]
        member[where[mine] - start, groups[mine]] = several[mine]
        counted = member.sum(axis=1)
        out[block] = in_order(values.swapaxes(0, 1)) / np.maximum(counted, 1)[:, None]
    return out


def leader_term(world: World, stances, rows: np.ndarray) -> np.ndarray:
    """Cohesion x mean stance of the bloc's leaders; a leader looks at the other leaders.

    For the actors `rows`, as (len(rows), P); `stances` is (N, P) or `Shown`.
    """
    leaders, bounds, counts, leads = world.leader_layout
    shown = stances[leaders]
    totals = np.zeros((len(counts), shown.shape[1]))
    for code, (first, last) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        # each bloc's leaders added in order (a signal of -non_adoption is not an
        # integer, so the order of additions counts)
        totals[code] = in_order(shown[first:last])
    mean = np.zeros((len(counts) + 1, shown.shape[1]))  # last row: actors without a bloc
    mean[:-1] = world.cohesion[:, None] * totals / np.maximum(counts, 1)[:, None]
    out = mean[world.bloc[rows]]
    inside = np.flatnonzero(leads[rows] >= 0)  # leaders among rows, in their own bloc
    if len(inside):
        bloc = leads[rows[inside]]
        others = counts[bloc] - 1
        out[inside] = np.where(
            others[:, None] > 0,
            world.cohesion[bloc, None] * (totals[bloc] - stances[rows[inside]])
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


def rival_term(world: World, pick) -> np.ndarray:
    """Commitments to incompatible proposals, added proposal after proposal."""
    signed = world.signed[pick]
    total = np.zeros(signed.shape)
    for q in range(signed.shape[1]):
        total += signed[:, q, None] * world.rivalry[:, q]
    return total


def _only(needed: np.ndarray | None, every: np.ndarray, term, *args) -> np.ndarray:
    """`term(world, stances, rows)` for the rows whose coefficient is not 0 (zeros
    elsewhere: they add nothing), so cues cost only for the actors who heed them."""
    if needed is None or needed.all():
        return term(*args, every)
    out = np.zeros((len(every), args[1].shape[1]))
    if needed.any():
        out[needed] = term(*args, every[needed])
    return out


def _terms(world: World, rows: np.ndarray | None, needed: np.ndarray | None = None):
    """Yield each term for the actors `rows` (None: all, without copies), as
    (actors, P) arrays or broadcastable ones, in the order of TERMS. `needed` (T, actors)
    marks the actors whose coefficient of a term is not 0: leader and cue terms are
    then computed only for them."""
    pick = slice(None) if rows is None else rows
    every = np.arange(world.n_actors) if rows is None else rows
    shown = Shown(world)
    heed = (lambda t: None) if needed is None else (lambda t: needed[TERMS.index(t)])
    align, cost = static_terms(world)
    yield align[pick]
    yield cost[pick]
    could_sign = (world.signed & world.eligible).astype(float)
    # the deciding actors' ties only: O(their ties), not O(all ties), each step
    peers = (np.asarray(world.network @ could_sign) if rows is None
             else tie_sums(world.network, rows, could_sign))
    yield _safe_divide(peers, world.peer_norm[pick])
    yield _only(heed("leader"), every, leader_term, world, shown)
    yield momentum(world)[None, :]
    yield _stance(world, world.home[pick]) * (world.kind[pick] != 0)[:, None]
    yield world.federated[pick]
    yield world.outreach[pick]
    yield rival_term(world, pick)
    yield world.capacity[pick][:, None]
    yield world.embeddedness[pick][:, None] * world.regime[None, :]
    yield world.ties[pick]
    yield _only(heed("cue"), every, cue_term, world, shown)


def term_arrays(world: World, rows: np.ndarray | None = None) -> np.ndarray:
    """(T, N, P) raw values of every term, in the order of TERMS (or (T, len(rows), P))."""
    shape = (world.n_actors if rows is None else len(rows), world.signed.shape[1])
    return np.stack([np.broadcast_to(term, shape) for term in _terms(world, rows)])


def utility(world: World, rows: np.ndarray | None = None) -> np.ndarray:
    """Utility of signing (coefficients applied): (N, P) for every actor, or
    (len(rows), P) for the sorted actor indices `rows` (the ones deciding this step)."""
    coefficients = world.coefficients if rows is None else world.coefficients[:, rows]
    total = np.zeros((coefficients.shape[1], world.signed.shape[1]))
    for coefficient, term in zip(coefficients, _terms(world, rows, coefficients != 0),
                                 strict=True):
        total += coefficient[:, None] * term
    return total


def vote_band(vote, contributions: np.ndarray, pulls: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(V, low, high) of a UN vote from the counted term contributions (T, voters).

    V is their sum; the abstention band [no_below, yes_above] widens on both sides by
    hedge x the cross-pressure, the smaller of the pulls toward yes and toward no: a
    state pulled hard both ways needs a clearer net pull to take a side, and otherwise
    abstains, while a state pulled one way only is not held back however hard it is
    pulled (model 0.3.0 widened the band by the sum of all pulls). `pulls` (K, voters),
    if given, are the pulls to weigh (the contributions with a term split into its
    parts, which sum to it); default: the contributions.
    """
    value = contributions.sum(axis=0)
    pulls = contributions if pulls is None else pulls
    toward_yes = np.clip(pulls, 0.0, None).sum(axis=0)
    toward_no = np.clip(-pulls, 0.0, None).sum(axis=0)
    pressure = np.minimum(toward_yes, toward_no)
    return value, vote.no_below - vote.hedge * pressure, vote.yes_above + vote.hedge * pressure


def vote_codes(value: np.ndarray, low: np.ndarray, high: np.ndarray,
               shock: np.ndarray) -> np.ndarray:
    """1 yes above the band, -1 no below it, 0 abstain, for V plus a noise `shock`."""
    cast = value + shock
    return np.where(cast > high, 1, np.where(cast < low, -1, 0)).astype(np.int8)


def vote_probabilities(value: np.ndarray, low: np.ndarray, high: np.ndarray,
                       temperature: float) -> np.ndarray:
    """(voters, 3) P(yes), P(abstain), P(no) under logistic noise of scale `temperature`."""
    if temperature > 0:
        yes = expit((value - high) / temperature)
        no = expit((low - value) / temperature)
    else:
        yes, no = (value > high).astype(float), (value < low).astype(float)
    return np.column_stack([yes, np.clip(1.0 - yes - no, 0.0, 1.0), no])


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


def reference_text_terms(x, s, y, bindingness: float) -> tuple[float, float]:
    """(align, cost) of one actor (interests x, salience s) for one text y, plainly."""
    agree = weight = burden = 0.0
    for d in range(len(y)):
        if y[d] == 0:
            continue
        agree += s[d] * x[d] * y[d]
        weight += s[d] * abs(y[d])
        demanded = abs(y[d]) - math.copysign(1.0, y[d]) * x[d]  # beyond what i would do
        burden += s[d] * max(0.0, demanded)
    return (agree / weight if weight > 0 else 0.0), bindingness * burden


def reference_terms(world: World, i: int, p: int, momentum: float | None = None,
                    text: tuple[np.ndarray, float] | None = None) -> dict[str, float]:
    """Raw term values for actor i and proposal p, computed plainly.

    `momentum` is the same for every actor; a per-agent loop passes the value it
    computed once this step (as a Mesa model computes a global once per step).
    `text` (content, bindingness) stands in for p's text: a negotiation's candidate.
    """
    y, bindingness = (world.content[p], world.bindingness[p]) if text is None else text
    align, cost = reference_text_terms(world.interests[i], world.salience[i], y, bindingness)

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

    def signal_of(j: int) -> float:
        declined = world.considered[j, p] and not world.signed[j, p] and not world.opposed[j, p]
        return stance_of(j) - (world.non_adoption if declined else 0.0)

    leader = 0.0
    code = world.bloc[i]
    if code >= 0:
        others = [j for j in world.leaders[code] if j != i]
        if others:
            leader = world.cohesion[code] * sum(signal_of(j) for j in others) / len(others)

    cues = []
    for g, leaders in enumerate(world.group_leaders):
        others = [j for j in leaders if j != i]
        if world.group_member[i, g] and others:
            cues.append(world.group_cohesion[g] * sum(signal_of(j) for j in others) / len(others))
    cue = sum(cues) / len(cues) if cues else 0.0

    home = stance_of(world.home[i]) if world.kind[i] != 0 else 0.0
    rival = sum(world.rivalry[p, q] for q in range(len(world.proposal_ids))
                if world.signed[i, q])
    return {
        "align": align,
        "cost": cost,
        "peers": peers,
        "leader": leader,
        "momentum": reference_momentum(world, p) if momentum is None else momentum,
        "home": home,
        "federated": float(world.federated[i, p]),
        "outreach": float(world.outreach[i, p]),
        "rival": rival,
        "capacity": float(world.capacity[i]),
        "regime": float(world.embeddedness[i] * world.regime[p]),
        "ties": float(world.ties[i, p]),
        "cue": cue,
    }


def utility_terms(world: World, i: int, p: int, momentum: float | None = None,
                  text: tuple[np.ndarray, float] | None = None) -> dict[str, float]:
    """Each term's contribution to U for actor i and proposal p (they sum to U)."""
    raw = reference_terms(world, i, p, momentum, text)
    return {term: float(world.coefficients[t, i]) * raw[term] for t, term in enumerate(TERMS)}


def reference_utility(world: World, i: int, p: int, momentum: float | None = None,
                      text: tuple[np.ndarray, float] | None = None) -> float:
    """U for actor i and proposal p (or p with the candidate `text`): the per-agent
    reference of `utility` and `text_utility`."""
    return math.fsum(utility_terms(world, i, p, momentum, text).values())
