"""How the map and the network colour actors: by stance, bloc, signing date or probability.

A colouring gives every actor (World row) a category, and each category a label and a
colour from `sim.outputs.palette`, so any view can count its legend over the actors it
shows (the 193 states of the map; the whole population and the drawn sample of the
network). Signing dates and probabilities use the palette's sequential scale (viridis),
whose lightness rises with the value, so they read in greyscale too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.dashboard.figures import STATUS, STATUS_COLORS, status_codes
from sim.outputs.palette import NO_BLOC, SEQUENTIAL, STANCE_COLORS, bloc_color
from sim.world.arrays import World

STANCE, BLOC, SIGNING_DATE, PROBABILITY = ("stance", "bloc", "first signing date",
                                           "signing probability")
#: probability bins: 0-10%, 10-30%, ..., 90-100% (five steps of the sequential scale)
PROBABILITY_EDGES = (0.1, 0.3, 0.5, 0.7, 0.9)


@dataclass(frozen=True)
class Colouring:
    """A category per actor, and the label and colour of each category.

    Attributes:
        mode: STANCE, BLOC, SIGNING_DATE or PROBABILITY.
        title: what the colours show, for legends and figure titles.
        codes: (N,) category of every World row (index into labels and colors).
        labels, colors: per category.
        notes: (N,) optional per-actor text for tooltips ("" where none).
    """

    mode: str
    title: str
    codes: np.ndarray
    labels: tuple[str, ...]
    colors: tuple[str, ...]
    notes: np.ndarray | None = None

    def fill(self, rows: np.ndarray) -> list[str]:
        return np.array(self.colors)[self.codes[rows]].tolist()

    def legend(self, rows: np.ndarray, shown: np.ndarray | None = None) -> list[dict]:
        """Legend items with the count among `rows` (and among `shown`, if given)."""
        counts = np.bincount(self.codes[rows], minlength=len(self.labels))
        seen = None if shown is None else np.bincount(self.codes[shown],
                                                      minlength=len(self.labels))
        items = []
        for code, (label, color) in enumerate(zip(self.labels, self.colors, strict=True)):
            if counts[code] or self.mode in (SIGNING_DATE, PROBABILITY):
                item = {"label": label, "color": color, "count": int(counts[code])}
                if seen is not None:
                    item["shown"] = int(seen[code])
                items.append(item)
        return items


def by_stance(world: World, proposal: int) -> Colouring:
    pid = world.proposal_ids[proposal]
    return Colouring(STANCE, f"stance on {pid}", status_codes(world, proposal).astype(np.int64),
                     STATUS, STATUS_COLORS)


def by_bloc(world: World) -> Colouring:
    """Each actor by its bloc (a state's primary bloc; others take their home's)."""
    spec = world.spec
    labels = tuple(spec.blocs[b].label or b for b in world.bloc_ids) + ("no bloc",)
    colors = tuple(bloc_color(i) for i in range(len(world.bloc_ids))) + (NO_BLOC,)
    codes = np.where(world.bloc >= 0, world.bloc, len(world.bloc_ids)).astype(np.int64)
    return Colouring(BLOC, "bloc", codes, labels, colors,
                     notes=np.array([f"bloc: {labels[c]}" for c in codes], dtype=object))


def by_signing_date(world: World, proposal: int) -> Colouring:
    """When each actor first signed, on the sequential scale from launch (dark) to the last
    step (light); actors that have not signed and those not eligible stay grey."""
    first, last = int(world.launch_step[proposal]), world.spec.metadata.steps
    edges = np.linspace(max(first, 1), last + 1, len(SEQUENTIAL) + 1)
    signed_step = world.signed_step[:, proposal]
    signed = world.signed[:, proposal] & (signed_step >= 0)
    bins = np.clip(np.searchsorted(edges, signed_step, side="right") - 1, 0, len(SEQUENTIAL) - 1)
    stance = status_codes(world, proposal)
    codes = np.where(signed, bins, np.where(stance == 0, len(SEQUENTIAL) + 1, len(SEQUENTIAL)))
    labels = tuple(f"from {world.date_of_step(int(np.ceil(lo))):%b %Y}" for lo in edges[:-1])
    return Colouring(SIGNING_DATE, f"first signing date ({world.proposal_ids[proposal]})",
                     codes.astype(np.int64), labels + ("not signed", "not eligible"),
                     SEQUENTIAL + (STANCE_COLORS[1], STANCE_COLORS[0]))


def by_probability(world: World, probability: dict[str, float], label: str, runs: int
                   ) -> Colouring:
    """Share of `runs` replications in which each actor had signed by the end (by actor
    id), darker the likelier; actors drawn anew in every world (generated firms and
    organisations) have no probability."""
    values = np.array([probability.get(actor, np.nan) for actor in world.ids], dtype=float)
    known = ~np.isnan(values)
    codes = np.full(world.n_actors, len(PROBABILITY_EDGES) + 1, dtype=np.int64)
    codes[known] = np.searchsorted(PROBABILITY_EDGES, values[known], side="right")
    colors = tuple(SEQUENTIAL[::-1][i] for i in (0, 2, 3, 5, 6, 8))
    bounds = ("", *(f"{edge:.0%}" for edge in PROBABILITY_EDGES), "")
    labels = ("under 10%", *(f"{lo}-{hi}" for lo, hi in zip(bounds[1:-2], bounds[2:-1],
                                                            strict=True)), "90% or more")
    notes = np.array([f"signed in {v:.0%} of {runs} runs ({label})" if k else
                      "drawn anew in each run: no probability"
                      for v, k in zip(values, known, strict=True)], dtype=object)
    return Colouring(PROBABILITY, f"P(signed by the end): {label}, {runs} runs", codes,
                     (*labels, "no probability"), (*colors, STANCE_COLORS[0]), notes=notes)
