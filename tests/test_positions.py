"""Positions that move (sim.positions): nothing at rate 0, bit for bit; socialisation and
persuasion by hand; trajectories of the recorded actors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from sim.model import NormDiplomacyModel
from sim.positions import move_positions, persuasion_pull, socialisation_pull
from sim.runs.runner import run_spec
from sim.scenario.loading import with_overrides


@pytest.mark.parametrize("among", ["signers", "peers"])
def test_rate_zero_changes_nothing_bit_for_bit(tiny_spec, among):
    plain = run_spec(tiny_spec, 11)
    still = run_spec(with_overrides(tiny_spec, {
        "positions.socialisation": {"rate": 0.0, "among": among},
        "positions.persuasion": {"rate": 0.0}, "positions.record": ["EEE", "AAA"]}), 11)
    for name in ("steps", "actors", "votes", "metrics"):
        assert getattr(plain, name).drop(columns="run_id").equals(
            getattr(still, name).drop(columns="run_id")), name
    first = still.trajectories[still.trajectories["step"] == 0]
    last = still.trajectories[still.trajectories["step"] == still.trajectories["step"].max()]
    assert np.array_equal(first["interest"].to_numpy(), last["interest"].to_numpy())


def small_world(tiny_spec):
    model = NormDiplomacyModel(tiny_spec, rng=2)
    world = model.world
    n = world.n_actors
    world.network = sparse.csr_matrix(([1.0, 3.0], ([0, 0], [1, 2])), shape=(n, n))
    world.signed[:] = False
    return world


def test_socialisation_by_hand(tiny_spec):
    """Actor 0 looks at 1 (tie 1) and 2 (tie 3); both signed `call` (scope: openness,
    restraint). Its target is (1 x_1 + 3 x_2) / 4 on the scope; it moves rate of the way
    once it has signed (`signers`), or while its peers sign (`peers`)."""
    world = small_world(tiny_spec)
    world.signed[[1, 2], 0] = True
    x = world.interests
    target = (x[1] + 3 * x[2]) / 4
    scope = world.content[0] != 0
    assert not socialisation_pull(world, 0.1, "signers")[0].any()  # 0 has not signed
    change = socialisation_pull(world, 0.1, "peers")
    np.testing.assert_allclose(change[0, scope], 0.1 * (target - x[0])[scope])
    assert not change[0, ~scope].any() and not change[1:].any()
    world.signed[0, 0] = True
    np.testing.assert_allclose(socialisation_pull(world, 0.1, "signers")[0], change[0])


def test_persuasion_by_hand(tiny_spec):
    spec = with_overrides(tiny_spec, {"positions.persuasion": {
        "rate": 0.5, "dimensions": {"call": ["openness"]}}})
    world = small_world(spec)
    world.outreach[:] = 0.0
    world.outreach[3, 0] = 0.4
    world.outreach[4, 0] = 4.0  # at most all the way
    d = world.dimensions.index("openness")
    x = world.interests.copy()
    change = persuasion_pull(world, spec.positions)
    assert change[3, d] == pytest.approx(0.2 * (world.content[0, d] - x[3, d]))
    assert change[4, d] == pytest.approx(world.content[0, d] - x[4, d])
    assert np.count_nonzero(change) <= 2
    assert move_positions(world, spec.positions)
    assert world.interests[4, d] == pytest.approx(world.content[0, d])
    assert world.static_cache is None  # the terms built on interests are recomputed


def test_socialisation_moves_signers_toward_each_other(tiny_spec):
    spec = with_overrides(tiny_spec, {"positions.socialisation.rate": 0.2,
                                      "positions.record": ["AAA", "CCC", "FFF"]})
    record = run_spec(spec, 3)
    moved = record.trajectories.pivot_table(index="step", columns=["actor_id", "dimension"],
                                            values="interest")
    assert (moved.iloc[-1] != moved.iloc[0]).any()
    assert record.trajectories["step"].min() == 0
    assert record.trajectories["interest"].between(-1, 1).all()
