"""The influence network: typed, weighted ties between actors, as a sparse matrix.

Tie types (each with a scenario weight; 0 switches a type off):
- same_bloc, same_subregion: between states;
- shared_membership, regional: between states, weight times the number of listed
  organisations both belong to (regional: the regional organisations, peers at the grain
  where neighbours coordinate);
- home: a firm or civil-society actor looks at its home state (`weight`); the state
  looks at its domestic actors as one peer of total weight `state_weight`, split
  evenly between its firms and its civil society and, within each, by size or reach;
- same_sector: each firm to `degree` random firms of its sector (world seed);
- same_home: each non-state actor to `degree` random non-state actors of its home state.

Weights of parallel ties add. Cost of the peers term is O(edges): ties within blocs
and regions are among the 193 states only, and non-state ties have bounded degree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from sim.scenario.spec import Network

if TYPE_CHECKING:
    from sim.world.arrays import World


def _pairs_within(groups: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs (i, j), i != j, of `members` sharing a group label (-1: none)."""
    rows, cols = [], []
    for label in np.unique(groups[members]):
        if label == -1 or label == "":
            continue
        group = members[groups[members] == label]
        i, j = np.meshgrid(group, group, indexing="ij")
        off = i != j
        rows.append(i[off])
        cols.append(j[off])
    if not rows:
        return np.empty(0, int), np.empty(0, int)
    return np.concatenate(rows), np.concatenate(cols)


def _random_partners(groups: np.ndarray, members: np.ndarray, degree: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each member draws `degree` partners (with replacement) from its group, never itself."""
    rows, cols = [], []
    labels = groups[members]
    order = np.argsort(labels, kind="stable")
    sorted_members, sorted_labels = members[order], labels[order]
    bounds = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1], True])
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        group = sorted_members[start:stop]
        size = len(group)
        if size < 2:
            continue
        # draw an offset in [1, size) from each member's own position: never itself
        offsets = rng.integers(1, size, size=(size, degree))
        partners = group[(np.arange(size)[:, None] + offsets) % size]
        rows.append(np.repeat(group, degree))
        cols.append(partners.ravel())
    if not rows:
        return np.empty(0, int), np.empty(0, int)
    return np.concatenate(rows), np.concatenate(cols)


def build_network(world: World, spec: Network, rng: np.random.Generator) -> sparse.csr_matrix:
    """Sum the typed ties into one (N x N) CSR matrix; row i holds whom i looks at."""
    n = world.n_actors
    states = np.flatnonzero(world.kind == 0)
    others = np.flatnonzero(world.kind != 0)
    firms = np.flatnonzero(world.kind == 1)
    rows, cols, weights = [], [], []

    def add(r, c, w):
        if w > 0 and len(r):
            rows.append(r)
            cols.append(c)
            weights.append(np.full(len(r), float(w)))

    add(*_pairs_within(world.bloc, states), spec.same_bloc)
    add(*_pairs_within(world.subregion, states), spec.same_subregion)

    for shared in (spec.shared_membership, spec.regional):
        if shared.weight > 0 and shared.orgs:
            columns = [world.membership_names.index(o) for o in shared.orgs]
            member = world.membership[np.ix_(states, columns)].astype(float)
            counts = member @ member.T
            np.fill_diagonal(counts, 0)
            i, j = np.nonzero(counts)
            rows.append(states[i])
            cols.append(states[j])
            weights.append(shared.weight * counts[i, j])

    add(others, world.home[others], spec.home.weight)
    if spec.home.state_weight > 0 and len(others):
        # a state looks at its domestic actors as one peer of weight state_weight: half
        # to its firms, half to its civil society (all of it where only one kind is
        # present), each actor by its share of its kind's weight at home (size or reach:
        # units differ between kinds, so shares are taken within a kind)
        homes, kinds = world.home[others], world.kind[others].astype(np.int64)
        group = homes * 3 + kinds
        total = np.bincount(group, weights=world.weight[others], minlength=3 * n)
        share = np.divide(world.weight[others], total[group], out=np.zeros(len(others)),
                          where=total[group] > 0)
        present = (total.reshape(n, 3)[:, 1:] > 0).sum(axis=1)
        kinds_at_home = np.maximum(present, 1)[homes]
        rows.append(homes)
        cols.append(others)
        weights.append(spec.home.state_weight * share / kinds_at_home)

    for tie, groups, members in (
        (spec.same_sector, world.category, firms),
        (spec.same_home, world.home, others),
    ):
        if tie.weight > 0 and tie.degree > 0:
            r, c = _random_partners(groups, members, tie.degree, rng)
            add(np.r_[r, c], np.r_[c, r], tie.weight)  # symmetric: both look at each other

    if not rows:
        return sparse.csr_matrix((n, n))
    matrix = sparse.coo_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    ).tocsr()
    matrix.sum_duplicates()
    return matrix
