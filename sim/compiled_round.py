"""The compiled body of a decision round (see `sim.compiled`, which imports this
module on first use: importing numba takes a noticeable fraction of a second).

Each function mirrors a numpy one and adds in its order; `sim.compiled` says why.
"""

from __future__ import annotations

import math

import numba
import numpy as np

ALIGN, COST, PEERS, LEADER, MOMENTUM, HOME, FEDERATED, OUTREACH, RIVAL, CAPACITY, \
    REGIME, TIES, CUE = range(13)

jit = numba.njit(cache=True, nogil=True)

@jit
def _one(flag):
    """1.0 for True, 0.0 for False (a bool as numpy casts it)."""
    return 1.0 if flag else 0.0


@jit
def _shown(j, p, signed, opposed, considered, non_adoption):
    """What actor j shows on proposal p (`decision.Shown`)."""
    stance = _one(signed[j, p]) - _one(opposed[j, p])
    if non_adoption == 0.0:
        return stance
    declined = considered[j, p] and not signed[j, p] and not opposed[j, p]
    return stance - non_adoption * _one(declined)


@jit
def _leader_totals(leaders, bounds, n_props, signed, opposed, considered, non_adoption):
    """(groups, P): each group's leaders' signals added in order (`decision.in_order`)."""
    totals = np.zeros((len(bounds) - 1, n_props))
    for g in range(len(bounds) - 1):
        for p in range(n_props):
            for k in range(bounds[g], bounds[g + 1]):
                value = _shown(leaders[k], p, signed, opposed, considered, non_adoption)
                totals[g, p] = value if k == bounds[g] else totals[g, p] + value
    return totals


@jit
def utilities(rows, reads):
    """(len(rows), P) utilities of the actors `rows`, as `decision.utility` computes them,
    from `reads` (the tuple `sim.compiled.reads` makes of a world)."""
    (signed, opposed, considered, eligible, coefficients, align, cost, indptr, indices,
     data, peer_norm, bloc, cohesion, leaders, leader_bounds, leads, momentum, home, kind,
     federated, outreach, rivalry, capacity, embeddedness, regime, ties, group_member,
     group_cohesion, group_leaders, group_bounds, non_adoption) = reads
    n_props = signed.shape[1]
    n_groups = len(group_bounds) - 1
    bloc_totals = _leader_totals(leaders, leader_bounds, n_props, signed, opposed,
                                 considered, non_adoption)
    group_totals = _leader_totals(group_leaders, group_bounds, n_props, signed, opposed,
                                  considered, non_adoption)
    u = np.zeros((len(rows), n_props))
    for r in range(len(rows)):
        i = rows[r]
        c = coefficients[:, i]
        for p in range(n_props):
            # peers: tie-weighted share of neighbours who signed, among those who may
            tied = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                tied += data[k] * _one(signed[j, p] and eligible[j, p])
            peers = tied / peer_norm[i, p] if peer_norm[i, p] > 0 else 0.0
            leader = 0.0
            if c[LEADER] != 0.0:
                code = leads[i]
                if code >= 0:  # a leader inside its bloc looks at the other leaders
                    others = leader_bounds[code + 1] - leader_bounds[code] - 1
                    if others > 0:
                        own = _shown(i, p, signed, opposed, considered, non_adoption)
                        leader = (cohesion[code] * (bloc_totals[code, p] - own)
                                  / float(max(others, 1)))
                elif bloc[i] >= 0:
                    code = bloc[i]
                    count = leader_bounds[code + 1] - leader_bounds[code]
                    leader = cohesion[code] * bloc_totals[code, p] / float(max(count, 1))
            home_stance = 0.0
            if kind[i] != 0:
                h = home[i]
                home_stance = _one(signed[h, p]) - _one(opposed[h, p])
            rival = 0.0
            for q in range(n_props):
                rival += _one(signed[i, q]) * rivalry[p, q]
            cue = 0.0
            if c[CUE] != 0.0:
                total, counted = 0.0, 0
                for g in range(n_groups):
                    size = group_bounds[g + 1] - group_bounds[g]
                    if size == 0 or not group_member[i, g]:
                        continue
                    inside = False
                    for k in range(group_bounds[g], group_bounds[g + 1]):
                        inside = inside or group_leaders[k] == i
                    if not inside:
                        total += group_cohesion[g] * group_totals[g, p] / max(float(size), 1.0)
                        counted += 1
                    elif size > 1:  # a leader looks at its group's other leaders
                        own = _shown(i, p, signed, opposed, considered, non_adoption)
                        total += (group_cohesion[g] * (group_totals[g, p] - own)
                                  / max(float(size) - 1.0, 1.0))
                        counted += 1
                cue = total / float(max(counted, 1))
            value = 0.0  # the terms in the order of TERMS, as `decision.utility` adds them
            value += c[ALIGN] * align[i, p]
            value += c[COST] * cost[i, p]
            value += c[PEERS] * peers
            value += c[LEADER] * leader
            value += c[MOMENTUM] * momentum[p]
            value += c[HOME] * home_stance
            value += c[FEDERATED] * federated[i, p]
            value += c[OUTREACH] * outreach[i, p]
            value += c[RIVAL] * rival
            value += c[CAPACITY] * capacity[i]
            value += c[REGIME] * (embeddedness[i] * regime[p])
            value += c[TIES] * ties[i, p]
            value += c[CUE] * cue
            u[r, p] = value
    return u


@jit
def decide_rows(rows, considering, uniforms, temperature, step, reads, rule, written):
    """The actors `rows` weigh the proposals marked in `considering` (len(rows), P): every
    utility first (synchronous), then sign, withdraw or come to oppose, as
    `NormDiplomacyModel._apply_decisions` does; writes `written` in place."""
    threshold, hysteresis, sponsor = rule
    signed, opposed, considered, signed_step, withdrawn_step = written
    u = utilities(rows, reads)
    for r in range(len(rows)):
        i = rows[r]
        theta = threshold[i]
        for p in range(signed.shape[1]):
            if not considering[r, p]:
                continue
            x = uniforms[i, p]  # the logistic draw, as numpy makes it from its uniform
            noisy = u[r, p] + temperature * math.log(x / (1.0 - x))
            was = signed[i, p]
            joins = not was and noisy > theta
            leaves = was and noisy < theta - hysteresis[i] and i != sponsor[p]
            considered[i, p] = True
            if joins:
                signed[i, p] = True
                if signed_step[i, p] < 0:
                    signed_step[i, p] = step
                withdrawn_step[i, p] = -1
            elif leaves:
                signed[i, p] = False
                withdrawn_step[i, p] = step
            opposed[i, p] = not signed[i, p] and u[r, p] < -theta

