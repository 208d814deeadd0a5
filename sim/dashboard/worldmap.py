"""World map of the UN member states for the dashboard, drawn offline.

Outlines come from the SVG that the installed `pygal-maps-world` package ships (keyed by
ISO 3166 alpha-2 code; read from disk, never fetched). Its paths are reduced to polygons
(curve end points only, which is invisible at dashboard size and a fifth of the bytes).
States the outline set lacks (small island states, Qatar, South Sudan) are drawn as
markers at the positions listed in ``sim/data/map_markers.csv``, projected with the
Robinson projection fitted to the outline set; states whose outline is too small to see
or click get a marker as well. Markers are nudged apart so that neighbours in the
Caribbean or the Pacific stay distinguishable.

The same geometry feeds the interactive SVG (`map_shapes`) and the matplotlib figure
used for PNG/SVG export (`map_figure`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.dashboard.colouring import Colouring
from sim.dashboard.figures import fit_legend
from sim.data.roster import load_states
from sim.world.arrays import World

MARKERS = Path(__file__).resolve().parents[1] / "data" / "map_markers.csv"
#: outlines that are not UN member states but complete the picture (drawn in grey, inert)
BACKGROUND = "#e6e8eb"
MARKER_RADIUS = 11.0  # map units (the map is about 2500 units wide)
#: an outline whose bounding box is smaller than this (map units) also gets a marker
TINY = 14.0

# Robinson projection fitted (least squares, 35 reference countries) to the outline set:
# x = X0 + KX * lon * A(lat), y = Y0 - KY * B(lat), A and B from Robinson's table.
X0, KX, Y0, KY = 1204.6, 7.635, 687.2, 702.3
_ROBINSON = np.array([  # latitude, A (length of the parallel), B (distance from equator)
    [0, 1.0, 0.0], [5, 0.9986, 0.062], [10, 0.9954, 0.124], [15, 0.99, 0.186],
    [20, 0.9822, 0.248], [25, 0.973, 0.31], [30, 0.96, 0.372], [35, 0.9427, 0.434],
    [40, 0.9216, 0.4958], [45, 0.8962, 0.5571], [50, 0.8679, 0.6176], [55, 0.835, 0.6769],
    [60, 0.7986, 0.7346], [65, 0.7597, 0.7903], [70, 0.7186, 0.8435], [75, 0.6732, 0.8936],
    [80, 0.6213, 0.9394], [85, 0.5722, 0.9761], [90, 0.5322, 1.0],
])

_TOKEN = re.compile(r"([a-zA-Z])|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_ARITY = {"m": 2, "l": 2, "c": 6, "s": 4, "q": 4, "t": 2, "h": 1, "v": 1}


def robinson(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Map units of longitude/latitude (degrees) on the outline set's projection."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    a = np.interp(np.abs(lat), _ROBINSON[:, 0], _ROBINSON[:, 1])
    b = np.sign(lat) * np.interp(np.abs(lat), _ROBINSON[:, 0], _ROBINSON[:, 2])
    return X0 + KX * lon * a, Y0 - KY * b


def path_polygons(d: str) -> list[np.ndarray]:
    """Polygons (end points of each segment) of an SVG path's `d` attribute."""
    items = [cmd or float(num) for cmd, num in _TOKEN.findall(d)]
    rings: list[list[tuple[float, float]]] = []
    x = y = 0.0
    start = (0.0, 0.0)
    command, i = "", 0
    while i < len(items):
        if isinstance(items[i], str):
            command = items[i]
            i += 1
            if command in "zZ":
                x, y = start
                continue
        lower = command.lower()
        args = items[i:i + _ARITY[lower]]
        i += _ARITY[lower]
        relative = command.islower() and bool(rings)
        if lower == "m":
            x, y = (x + args[0], y + args[1]) if relative else (args[0], args[1])
            start = (x, y)
            rings.append([(x, y)])
            command = "l" if command == "m" else "L"  # further pairs are line-tos
            continue
        if lower == "h":
            x = x + args[0] if relative else args[0]
        elif lower == "v":
            y = y + args[0] if relative else args[0]
        else:
            x, y = (x + args[-2], y + args[-1]) if relative else (args[-2], args[-1])
        rings[-1].append((x, y))
    return [np.array(ring) for ring in rings if len(ring) >= 3]


@cache
def outlines() -> dict[str, list[np.ndarray]]:
    """ISO2 code (upper case) -> polygons, from the installed pygal-maps-world SVG."""
    svg = resources.files("pygal_maps_world").joinpath("worldmap.svg").read_text()
    shapes: dict[str, list[np.ndarray]] = {}
    for match in re.finditer(r'<g class="(\w\w) country[^"]*">(.*?)</g>', svg, re.S):
        code = match.group(1).upper()
        if code == "AQ":  # Antarctica: no state, and a third of the height
            continue
        for d in re.findall(r'\sd="([^"]*)"', match.group(2)):
            shapes.setdefault(code, []).extend(path_polygons(d))
    return shapes


def _svg_path(polygons: list[np.ndarray]) -> str:
    """Compact path data: integer map units, relative moves, duplicate points dropped."""
    parts = []
    for polygon in polygons:
        q = np.round(polygon).astype(int)
        q = q[np.r_[True, np.any(np.diff(q, axis=0) != 0, axis=1)]]
        if len(q) < 3:
            continue
        steps = " ".join(f"{dx} {dy}" for dx, dy in np.diff(q, axis=0))
        parts.append(f"M{q[0, 0]} {q[0, 1]}l{steps}z")
    return "".join(parts)


def _spread(points: np.ndarray, distance: float, rounds: int = 60) -> np.ndarray:
    """Push markers apart until no two are closer than `distance` (or rounds run out)."""
    points = points.astype(float).copy()
    for _ in range(rounds):
        delta = points[:, None, :] - points[None, :, :]
        gap = np.hypot(delta[..., 0], delta[..., 1])
        np.fill_diagonal(gap, np.inf)
        overlap = np.clip(distance - gap, 0, None)
        if not overlap.any():
            break
        push = (delta / np.maximum(gap, 1e-6)[..., None] * overlap[..., None] / 2).sum(axis=1)
        points += push
    return points


@dataclass(frozen=True)
class MapLayout:
    """Geometry of one state roster: outlines and markers, each tied to a World row.

    Attributes:
        view_box: the SVG viewBox ("x y width height", map units).
        outlines: row -> compact SVG path (states with an outline).
        markers: row -> (x, y) (states without a visible outline).
        background: compact SVG path of non-member outlines (Taiwan, Greenland, ...).
        polygons: row -> polygons, for the matplotlib figure.
        unplaced: rows of states with neither outline nor known position (invented ones).
    """

    view_box: str
    outlines: dict[int, str]
    markers: dict[int, tuple[float, float]]
    background: str
    polygons: dict[int, list[np.ndarray]]
    background_polygons: list[np.ndarray]
    unplaced: list[int]

    @property
    def rows(self) -> set[int]:
        return set(self.outlines) | set(self.markers)


def map_layout(world: World) -> MapLayout:
    """The map of `world`'s state roster (cached per roster)."""
    roster = world.spec.world.states.roster
    return _layout(str(roster), world.spec.base_dir)


@cache
def _layout(roster: str, base_dir: Path | None) -> MapLayout:
    frame = load_states(roster, base_dir).frame
    iso2 = list(frame["iso2"].str.upper())
    shapes = outlines()
    table = pd.read_csv(MARKERS, comment="#", keep_default_na=False)
    # the Pacific east of the date line joins the other Pacific states on the right
    lon = np.where(table["lon"] < -160, table["lon"] + 360, table["lon"])
    positions = dict(zip(table["iso3"], zip(*robinson(lon, table["lat"]), strict=True),
                         strict=True))
    drawn = {row: shapes[code] for row, code in enumerate(iso2) if code in shapes}
    marker_rows, marker_points, unplaced = [], [], []
    for row, iso3 in enumerate(frame["iso3"]):
        if row in drawn:
            points = np.vstack(drawn[row])
            size = points.max(axis=0) - points.min(axis=0)
            if size.max() >= TINY:
                continue
            centre = (points.min(axis=0) + points.max(axis=0)) / 2
        elif iso3 in positions:
            centre = np.array(positions[iso3])
        else:  # a roster of invented or future states: listed beside the map instead
            unplaced.append(row)
            continue
        marker_rows.append(row)
        marker_points.append(centre)
    spread = _spread(np.array(marker_points).reshape(-1, 2), 2.2 * MARKER_RADIUS)
    markers = {row: (round(float(x), 1), round(float(y), 1))
               for row, (x, y) in zip(marker_rows, spread, strict=True)}
    others = [p for code, polygons in shapes.items() if code not in set(iso2) for p in polygons]
    every = np.vstack([np.vstack(p) for p in drawn.values()] + others + [spread])
    low, high = every.min(axis=0) - 2 * MARKER_RADIUS, every.max(axis=0) + 2 * MARKER_RADIUS
    view_box = f"{low[0]:.0f} {low[1]:.0f} {high[0] - low[0]:.0f} {high[1] - low[1]:.0f}"
    return MapLayout(
        view_box=view_box,
        outlines={row: _svg_path(polygons) for row, polygons in drawn.items()},
        markers=markers,
        background=_svg_path(others),
        polygons=drawn,
        background_polygons=others,
        unplaced=unplaced,
    )


def map_figure(world: World, colouring: Colouring, title: str = "") -> Figure:
    """The UN member states coloured by `colouring`, for export (PNG, SVG, PDF)."""
    layout = map_layout(world)
    colours = np.array(colouring.fill(np.arange(world.n_actors)))
    fig = Figure(figsize=(10, 5.6), layout="constrained")
    ax = fig.add_subplot()
    ax.add_collection(PolyCollection(layout.background_polygons, facecolors=BACKGROUND,
                                     edgecolors="white", linewidths=0.3))
    rows = list(layout.polygons)
    polygons = [p for row in rows for p in layout.polygons[row]]
    faces = [colours[row] for row in rows for _ in layout.polygons[row]]
    ax.add_collection(PolyCollection(polygons, facecolors=faces, edgecolors="white",
                                     linewidths=0.3))
    marker_rows = list(layout.markers)
    xy = np.array([layout.markers[row] for row in marker_rows]).reshape(-1, 2)
    ax.scatter(xy[:, 0], xy[:, 1], s=22, c=colours[marker_rows], edgecolors="#555",
               linewidths=0.5, zorder=3)
    x, y, width, height = (float(v) for v in layout.view_box.split())
    ax.set_xlim(x, x + width)
    ax.set_ylim(y + height, y)
    ax.set_aspect("equal")
    ax.axis("off")
    states = np.arange(world.slices["state"].start, world.slices["state"].stop)
    fit_legend(fig, [Patch(facecolor=item["color"], edgecolor="#999",
                           label=f"{item['label']} ({item['count']})")
                     for item in colouring.legend(states)],
               title=f"{colouring.title} (states)", title_fontsize=8)
    if title:
        ax.set_title(title, fontsize=11, loc="left")
    return fig
