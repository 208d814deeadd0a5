"""Scenario rules evaluated over actor arrays: selectors and attribute-linear forms.

Both are vectorised: a selector becomes a boolean mask over all actors, a linear form
a float array over states. They read a `World` (or anything with the same arrays).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.scenario.spec import KINDS, Range, Selector

if TYPE_CHECKING:
    from sim.world.arrays import World


def _in_range(values: np.ndarray, bounds: Range) -> np.ndarray:
    ok = ~np.isnan(values)
    if bounds.min is not None:
        ok &= values >= bounds.min
    if bounds.max is not None:
        ok &= values <= bounds.max
    return ok


def _where(world: World, conditions: dict[str, Range]) -> np.ndarray:
    mask = np.ones(world.n_actors, dtype=bool)
    for name, bounds in conditions.items():
        mask &= _in_range(world.attributes[name], bounds)
    return mask


def _member(world: World, names: list[str]) -> np.ndarray:
    columns = [world.membership_names.index(n) for n in names]
    return world.membership[:, columns].any(axis=1)


def _bloc_mask(world: World, blocs: list[str]) -> np.ndarray:
    codes = [world.bloc_ids.index(b) for b in blocs]
    return np.isin(world.bloc, codes)


def _state_mask(world: World, iso3: list[str]) -> np.ndarray:
    """The states with these codes (states come first and are all named: their ids are
    known without making those of millions of generated actors)."""
    mask = np.zeros(world.n_actors, dtype=bool)
    mask[:world.n_states] = np.isin(world.named_ids[:world.n_states], iso3)
    return mask


def select(world: World, selector: Selector | None) -> np.ndarray:
    """Boolean mask of the actors `selector` picks (None or {} picks everyone)."""
    mask = np.ones(world.n_actors, dtype=bool)
    if selector is None:
        return mask
    home = world.home
    if selector.kind is not None:
        mask &= np.isin(world.kind, [KINDS.index(k) for k in selector.kind])
    if selector.id is not None:
        mask &= np.isin(world.ids, selector.id)
    if selector.iso3 is not None:
        mask &= _state_mask(world, selector.iso3)
    if selector.member_of is not None:
        mask &= _member(world, selector.member_of)
    if selector.bloc is not None:
        mask &= _bloc_mask(world, selector.bloc)
    if selector.sector is not None:
        mask &= (world.kind == 1) & np.isin(world.category, selector.sector)
    if selector.type is not None:
        mask &= (world.kind == 2) & np.isin(world.category, selector.type)
    if selector.where is not None:
        mask &= _where(world, selector.where)
    if selector.home_iso3 is not None:
        mask &= _state_mask(world, selector.home_iso3)[home]
    if selector.home_member_of is not None:
        mask &= _member(world, selector.home_member_of)[home]
    if selector.home_bloc is not None:
        mask &= _bloc_mask(world, selector.home_bloc)[home]
    if selector.home_where is not None:
        mask &= _where(world, selector.home_where)[home]
    if selector.any is not None:
        picked = np.zeros(world.n_actors, dtype=bool)
        for inner in selector.any:
            picked |= select(world, inner)
        mask &= picked
    if selector.not_ is not None:
        mask &= ~select(world, selector.not_)
    return mask


def linear_form(form: dict[str, float], attributes: dict[str, np.ndarray],
                memberships: dict[str, np.ndarray], size: int) -> np.ndarray:
    """base + sum(coefficient * attribute) + sum(coefficient * member_of.<org>), unclipped."""
    value = np.full(size, float(form.get("base", 0.0)))
    for key, coefficient in form.items():
        if key == "base":
            continue
        if key.startswith("member_of."):
            value += coefficient * memberships[key.removeprefix("member_of.")]
        else:
            value += coefficient * attributes[key]
    return value
