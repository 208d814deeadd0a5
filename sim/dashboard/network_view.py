"""The influence network as the dashboard draws it: which actors, where, and which ties.

Thousands of actors do not fit a readable picture, so the view holds every state, the
named firms and organisations, and a fixed sample of the generated ones (drawn from
the world seed, so a world always shows the same sample). States are placed by a
force-directed layout (Fruchterman-Reingold) of their ties; firms and organisations
sit in a spiral around their home state, their strongest tie. The layout is computed
once per network and cached: stepping the model only recolours the nodes. Each node
draws its two strongest ties within the view, which keeps the picture legible, and the
largest states carry their ISO3 code.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.dashboard.colouring import Colouring
from sim.dashboard.figures import fit_legend
from sim.world.arrays import World

SAMPLE = 150  # generated firms, and generated organisations, drawn into the view
TIES_PER_NODE = 2
LABELLED = 14  # the largest states are labelled
WIDTH, HEIGHT = 1000.0, 660.0  # the drawing, in its own units
_CACHE: OrderedDict[str, NetworkView] = OrderedDict()
_CACHE_SIZE = 8


@dataclass(frozen=True)
class NetworkView:
    """Nodes (World rows) with positions and sizes, and the ties drawn between them.

    Attributes:
        rows: World row of each node; xy: (n, 2) positions within WIDTH x HEIGHT.
        radius: node radius in drawing units; kind: 0 state, 1 firm, 2 civil.
        ties: (m, 2) indices into `rows` of the ties drawn.
        shown: kind -> (nodes shown, actors of that kind).
    """

    rows: np.ndarray
    xy: np.ndarray
    radius: np.ndarray
    kind: np.ndarray
    ties: np.ndarray
    shown: dict[str, tuple[int, int]]

    def labelled(self) -> np.ndarray:
        """Indices (into `rows`) of the largest states, which carry a label."""
        states = np.flatnonzero(self.kind == 0)
        return states[np.argsort(-self.radius[states], kind="stable")[:LABELLED]]

    def edges_path(self) -> str:
        """The ties as one SVG path (drawn once; they never change colour)."""
        a, b = self.xy[self.ties[:, 0]], self.xy[self.ties[:, 1]]
        return "".join(f"M{x0:.0f} {y0:.0f}L{x1:.0f} {y1:.0f}"
                       for (x0, y0), (x1, y1) in zip(a, b, strict=True))


def sample_rows(world: World, sample: int = SAMPLE) -> np.ndarray:
    """States, named firms and organisations, and `sample` generated ones of each kind."""
    rng = np.random.default_rng([world.seed, 7])
    parts = [np.arange(world.slices["state"].start, world.slices["state"].stop)]
    for kind in ("firm", "civil"):
        rows = np.arange(world.slices[kind].start, world.slices[kind].stop)
        generated = rows[world.generated[rows]]
        parts.append(rows[~world.generated[rows]])
        if len(generated):
            parts.append(np.sort(rng.choice(generated, min(sample, len(generated)),
                                            replace=False)))
    return np.concatenate(parts)


def force_layout(weights: np.ndarray, rng: np.random.Generator,
                 iterations: int = 120) -> np.ndarray:
    """Fruchterman-Reingold positions (about the unit square) for symmetric tie weights."""
    n = len(weights)
    pos = rng.random((n, 2))
    if n < 2:
        return pos
    k = np.sqrt(1.0 / n)
    temperature = 0.1
    cooling = temperature / (iterations + 1)
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        distance = np.maximum(np.hypot(delta[..., 0], delta[..., 1]), 0.01)
        force = k * k / distance**2 - weights * distance / k
        displacement = np.einsum("ijk,ij->ik", delta, force)
        length = np.maximum(np.hypot(displacement[:, 0], displacement[:, 1]), 0.01)
        pos += displacement * (temperature / length)[:, None]
        temperature -= cooling
    return pos


def _key(world: World, rows: np.ndarray) -> str:
    digest = hashlib.sha1(rows.tobytes())
    for array in (world.network.indptr, world.network.indices, world.network.data):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def network_view(world: World) -> NetworkView:
    """The view of `world`'s network (cached per network: Reset with new behaviour is free)."""
    rows = sample_rows(world)
    key = _key(world, rows)
    if key not in _CACHE:
        _CACHE[key] = _build(world, rows)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return _CACHE[key]


def _build(world: World, rows: np.ndarray) -> NetworkView:
    kind = world.kind[rows].astype(np.int8)
    states = np.flatnonzero(kind == 0)
    sub = world.network[rows][:, rows]
    weights = (sub + sub.T).toarray()
    np.fill_diagonal(weights, 0.0)
    radius = np.full(len(rows), 3.5)
    gdp = world.attributes["gdp_usd_2018"][rows[states]]
    radius[states] = 4.0 + 24.0 * np.sqrt(gdp / np.nansum(gdp))
    xy = np.zeros((len(rows), 2))
    among = weights[np.ix_(states, states)]
    layout = force_layout(among / max(among.max(), 1e-9), np.random.default_rng([world.seed, 11]))
    span = np.maximum(layout.max(axis=0) - layout.min(axis=0), 1e-9)
    margin = 70.0
    xy[states] = (layout - layout.min(axis=0)) / span * [WIDTH - 2 * margin,
                                                          HEIGHT - 2 * margin] + margin
    _place_satellites(world, rows, xy, radius)
    strongest = np.argsort(-weights, axis=1)[:, :TIES_PER_NODE]
    pairs = {(min(i, j), max(i, j)) for i, row in enumerate(strongest) for j in row
             if weights[i, j] > 0}
    shown = {}
    for code, name in enumerate(("state", "firm", "civil")):
        total = world.slices[name].stop - world.slices[name].start
        shown[name] = (int((kind == code).sum()), int(total))
    return NetworkView(rows=rows, xy=xy, radius=radius, kind=kind,
                       ties=np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2),
                       shown=shown)


def _place_satellites(world: World, rows: np.ndarray, xy: np.ndarray,
                      radius: np.ndarray) -> None:
    """Firms and organisations in a sunflower spiral around their home state."""
    node_of = {int(row): i for i, row in enumerate(rows)}
    golden = np.pi * (3 - np.sqrt(5))
    satellites: dict[int, list[int]] = {}
    for i, row in enumerate(rows):
        if world.kind[row] != 0:
            satellites.setdefault(node_of[int(world.home[row])], []).append(i)
    for home, members in satellites.items():
        k = np.arange(len(members))
        distance = radius[home] + 6.0 + 7.5 * np.sqrt(k + 0.5)
        angle = k * golden
        xy[members] = xy[home] + np.c_[np.cos(angle), np.sin(angle)] * distance[:, None]


def network_figure(world: World, colouring: Colouring, title: str = "") -> Figure:
    """The drawn network coloured by `colouring`, for export (PNG, SVG, PDF)."""
    view = network_view(world)
    colours = np.array(colouring.fill(view.rows))
    fig = Figure(figsize=(9, 7.0), layout="constrained")
    ax = fig.add_subplot()
    segments = np.stack([view.xy[view.ties[:, 0]], view.xy[view.ties[:, 1]]], axis=1)
    ax.add_collection(LineCollection(segments, colors="#9aa5b1", linewidths=0.4, alpha=0.5))
    for code, marker in enumerate("os^"):
        mine = view.kind == code
        ax.scatter(view.xy[mine, 0], view.xy[mine, 1], s=(view.radius[mine] * 0.9) ** 2,
                   c=colours[mine], marker=marker, edgecolors="#4a5260", linewidths=0.4)
    for i in view.labelled():
        x, y = view.xy[i]
        ax.annotate(world.ids[view.rows[i]], (x, y + view.radius[i]), xytext=(0, -2),
                    textcoords="offset points", ha="center", va="top", fontsize=6.5,
                    fontweight="bold", color="#1f2933")
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(HEIGHT, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    everyone = np.arange(world.n_actors)
    handles = [Line2D([], [], marker="s", linestyle="", markersize=8, markerfacecolor=item["color"],
                      markeredgecolor="#999",
                      label=f"{item['label']}: {item['count']:,} ({item['shown']:,} shown)")
               for item in colouring.legend(everyone, view.rows)]
    handles += [Line2D([], [], marker=m, linestyle="", color="#4a5260", markerfacecolor="white",
                       label=f"{label} ({shown:,} of {total:,} shown)")
                for m, label, (shown, total) in zip("os^", ("states", "firms", "civil society"),
                                                   view.shown.values(), strict=True)]
    fit_legend(fig, handles, title=colouring.title, title_fontsize=8)
    if title:
        ax.set_title(title, fontsize=11, loc="left")
    return fig
