"""A decision round, compiled: `decision.utility` for the deciding actors and
`NormDiplomacyModel._apply_decisions`, in one call per round.

Why: in an ordinary week a few percent of the actors decide, so the numpy kernel's cost
is its sixty-odd calls on small arrays, not its arithmetic. Compiled with numba, a round
is one call (`decide_rows`, for the deciders the model picks in numpy: the activated of
an ordinary week, or those in focus at a launch or forum). It reads the same arrays and
adds every sum in the order the numpy kernel adds it (ties in stored order, leaders one
after another, cue groups group after group, rival commitments proposal after proposal,
the terms in the order of TERMS), so the two give the same digits: tests hold them equal
bit for bit. The noise is drawn by numpy as before: the round takes the uniforms numpy's
logistic draw is made of (`logistic_from_uniforms`) and transforms only the deciders'.

Without numba (or with CYBERNORMS_COMPILED=0, or ``decision="numpy"``) the model runs
the numpy kernel: the same results, slower. UN votes, negotiation rounds, the forecast
model and every reading of the terms (inspector, diagnostics) use the numpy kernel.
"""

from __future__ import annotations

import os

import numpy as np

from sim.decision import momentum, static_terms
from sim.scenario.spec import TERMS
from sim.world.arrays import World

#: False when numba is missing or switched off (CYBERNORMS_COMPILED=0)
ENABLED = os.environ.get("CYBERNORMS_COMPILED", "1") != "0"

#: the order `sim.compiled_round` adds the terms in
if TERMS != ("align", "cost", "peers", "leader", "momentum", "home", "federated",
             "outreach", "rival", "capacity", "regime", "ties", "cue"):
    raise ImportError("sim.compiled reads the terms in an order TERMS no longer has")

_kernel = None  # `sim.compiled_round`, imported on first use


def available() -> bool:
    """Whether rounds are compiled (numba importable and not switched off)."""
    return ENABLED and _compiled() is not None


def _compiled():
    global _kernel, ENABLED
    if _kernel is None and ENABLED:
        try:
            import numba  # noqa: F401  (imported on first use: it costs ~0.4 s)
        except ImportError:
            ENABLED = False
            return None
        from sim import compiled_round
        _kernel = compiled_round
    return _kernel


def logistic_from_uniforms(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """The uniforms `rng.logistic(size=shape)` would transform, drawn from the same stream:
    numpy draws doubles in order and redraws a 0, so the zeros are dropped and the array
    topped up from the stream, as numpy does. log(u / (1 - u)) of these is the logistic
    draw to the last bit (tested)."""
    uniforms = rng.random(shape).ravel()
    while not uniforms.all():
        kept = uniforms[uniforms > 0]
        uniforms = np.concatenate([kept, rng.random(uniforms.size - kept.size)])
    return uniforms.reshape(shape)


def reads(world: World) -> tuple:
    """What the utilities read, as the compiled round takes it (a tuple, in its order)."""
    align, cost = static_terms(world)
    leaders, leader_bounds, _, leads = world.leader_layout
    network = world.network
    return (world.signed, world.opposed, world.considered, world.eligible,
            world.coefficients, align, cost, network.indptr, network.indices, network.data,
            world.peer_norm, world.bloc, world.cohesion, leaders, leader_bounds, leads,
            momentum(world), world.home, world.kind, world.federated, world.outreach,
            world.rivalry, world.capacity, world.embeddedness, world.regime, world.ties,
            world.group_member, world.group_cohesion, world.group_leader_rows,
            world.group_bounds, float(world.non_adoption))


def _rule(world: World) -> tuple:
    return world.threshold, world.hysteresis, world.sponsor


def _written(world: World) -> tuple:
    return (world.signed, world.opposed, world.considered, world.signed_step,
            world.withdrawn_step)


def utility(world: World, rows: np.ndarray | None = None) -> np.ndarray:
    """`decision.utility`, compiled: (N, P) or (len(rows), P), the same digits."""
    rows = np.arange(world.n_actors) if rows is None else np.asarray(rows, dtype=np.int64)
    return _compiled().utilities(rows, reads(world))


def decide_rows(world: World, rows: np.ndarray, considering: np.ndarray,
                uniforms: np.ndarray, temperature: float, step: int) -> None:
    """The actors `rows` weigh the proposals `considering` (len(rows), P) marks, and sign,
    withdraw or come to oppose, as `NormDiplomacyModel._apply_decisions` does; writes
    the world's dynamic arrays in place."""
    _compiled().decide_rows(rows.astype(np.int64), considering, uniforms,
                            float(temperature), int(step), reads(world), _rule(world),
                            _written(world))
