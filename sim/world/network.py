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
Building costs O(edges) too, with no Python loop over actors (only over groups: blocs,
regions, sectors, home states), and 4-byte indices below 2^31 actors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from sim.scenario.spec import Network

if TYPE_CHECKING:
    from sim.world.arrays import World


def _sort_keys(labels: np.ndarray) -> np.ndarray:
    """Integers that sort as `labels` do (strings by their order; numbers unchanged):
    sorting millions of strings is slow, sorting their ranks is not."""
    if labels.dtype != object:
        return labels
    codes, uniques = pd.factorize(labels)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(np.asarray(uniques, dtype=object), kind="stable")] = np.arange(len(uniques))
    return rank[codes]


def _grouped(groups: np.ndarray, members: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`members` of groups of two or more, by group label (in label order, members in
    their order within a group; unlabelled, -1 or "", left out), with each member's
    group size and the position where its group starts."""
    labels = groups[members]
    labelled = labels != ("" if labels.dtype == object else -1)
    members, keys = members[labelled], _sort_keys(labels[labelled])
    order = np.argsort(keys, kind="stable")
    members, keys = members[order], keys[order]
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else []
    sizes = np.diff(np.r_[first, len(keys)]).astype(np.int64)
    pairs = sizes >= 2
    members, sizes = members[np.repeat(pairs, sizes)], sizes[pairs]
    return members, np.repeat(sizes, sizes), np.repeat(np.cumsum(sizes) - sizes, sizes)


def _pairs_within(groups: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs (i, j), i != j, of `members` sharing a group label (-1: none),
    group by group, row-major within a group."""
    members, size, start = _grouped(groups, members)
    rows = np.repeat(members, size)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(size) - size, size)
    cols = members[np.repeat(start, size) + within]
    off = rows != cols
    return rows[off], cols[off]


def _random_partners(groups: np.ndarray, members: np.ndarray, degree: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each member (all labelled: a home, a sector) draws `degree` partners (with
    replacement) from its group, never itself.

    One draw per (member, tie), groups in label order: the very draws of one call per
    group, without a loop over groups.
    """
    members, size, start = _grouped(groups, members)
    # an offset in [1, size) from each member's own position: never itself
    offsets = rng.integers(1, np.repeat(size, degree)).reshape(len(members), degree)
    position = np.arange(len(members)) - start
    partners = members[start[:, None] + (position[:, None] + offsets) % size[:, None]]
    return np.repeat(members, degree), partners.ravel()


class _Ties:
    """Typed ties collected in order, then summed into one CSR matrix.

    The order of entries is that of the calls to `add`, which fixes the order in which
    the weights of parallel ties are added (and so their sums, to the last bit).
    """

    def __init__(self, n: int):
        self.n = n
        self.index = np.int32 if n < 2**31 - 1 else np.int64
        self.pieces: list[tuple[np.ndarray, np.ndarray, float | np.ndarray]] = []

    def add(self, rows: np.ndarray, cols: np.ndarray, weight: float | np.ndarray) -> None:
        if len(rows):
            self.pieces.append((rows.astype(self.index, copy=False),
                                cols.astype(self.index, copy=False), weight))

    def matrix(self) -> sparse.csr_matrix:
        total = sum(len(rows) for rows, _, _ in self.pieces)
        if total == 0:
            return sparse.csr_matrix((self.n, self.n))
        rows = np.empty(total, self.index)
        cols = np.empty(total, self.index)
        data = np.empty(total)
        at = 0
        self.pieces.reverse()
        while self.pieces:  # free each piece once copied
            r, c, weight = self.pieces.pop()
            rows[at:at + len(r)], cols[at:at + len(r)], data[at:at + len(r)] = r, c, weight
            at += len(r)
        matrix = sparse.coo_matrix((data, (rows, cols)), shape=(self.n, self.n))
        del rows, cols, data
        matrix = matrix.tocsr()
        matrix.sum_duplicates()
        return matrix


def build_network(world: World, spec: Network, rng: np.random.Generator) -> sparse.csr_matrix:
    """Sum the typed ties into one (N x N) CSR matrix; row i holds whom i looks at."""
    n = world.n_actors
    states = np.flatnonzero(world.kind == 0)
    others = np.flatnonzero(world.kind != 0)
    firms = np.flatnonzero(world.kind == 1)
    ties = _Ties(n)

    def add(r, c, w):
        if w > 0:
            ties.add(r, c, float(w))

    add(*_pairs_within(world.bloc, states), spec.same_bloc)
    add(*_pairs_within(world.subregion, states), spec.same_subregion)

    for shared in (spec.shared_membership, spec.regional):
        if shared.weight > 0 and shared.orgs:
            columns = [world.membership_names.index(o) for o in shared.orgs]
            member = world.membership[np.ix_(states, columns)].astype(float)
            counts = member @ member.T
            np.fill_diagonal(counts, 0)
            i, j = np.nonzero(counts)
            ties.add(states[i], states[j], shared.weight * counts[i, j])

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
        ties.add(homes, others, spec.home.state_weight * share / kinds_at_home)

    for tie, groups, members in (
        (spec.same_sector, world.category, firms),
        (spec.same_home, world.home, others),
    ):
        if tie.weight > 0 and tie.degree > 0:
            r, c = _random_partners(groups, members.astype(ties.index), tie.degree, rng)
            add(r, c, tie.weight)  # symmetric: both look at each other
            add(c, r, tie.weight)

    return ties.matrix()


#: above this many ties, scipy's row slice and product beat gathering them with numpy
FEW_TIES = 50_000


def tie_sums(matrix: sparse.csr_matrix, rows: np.ndarray, values: np.ndarray,
             few: int = FEW_TIES) -> np.ndarray:
    """(matrix @ values)[rows], from the ties of `rows` only: O(their ties).

    Either way each row's products are added one by one, in stored order, from zero, as
    scipy's product does: the sums are the same to the last bit.
    """
    starts = matrix.indptr[rows]
    counts = matrix.indptr[rows + 1] - starts
    total = int(counts.sum())
    if total > matrix.nnz // 2:  # most of the matrix (a launch): the whole product
        return np.asarray(matrix @ values)[rows]
    if total > few:
        return np.asarray(matrix[rows] @ values)
    ends = np.cumsum(counts)
    edges = np.arange(total) + np.repeat(starts - ends + counts, counts)
    owner = np.repeat(np.arange(len(rows)), counts)
    weights, neighbours = matrix.data[edges], matrix.indices[edges]
    sums = np.empty((len(rows), values.shape[1]))
    for column in range(values.shape[1]):  # bincount adds its weights in order
        sums[:, column] = np.bincount(owner, weights * values[neighbours, column],
                                      minlength=len(rows))
    return sums
