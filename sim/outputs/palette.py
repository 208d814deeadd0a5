"""The colours of cybernorms: one definition for the paper figures and the dashboard.

Every colour means one thing within a figure, and every set below stays readable for
colour-blind readers and in greyscale:

- stance of an actor on a proposal (signed, not yet, opposed, withdrew, not
  eligible): Paul Tol's high-contrast scheme (dark blue, red, yellow) plus neutral
  greys, so the five stances differ in lightness as well as in hue. Red means
  "opposed" and nothing else.
- series (proposals, compared scenarios, kinds of actors): dark blue, ochre, teal,
  grey ..., each with its own dash pattern, so lines stay apart in greyscale.
- blocs: Paul Tol's "muted" scheme, reordered so that neighbours differ in lightness;
  no bloc is red.
- sequential scales (first signing date, signing probability): viridis, whose
  lightness rises monotonically.

Sources: P. Tol, "Colour schemes", SRON/EPS/TN/09-002 (2021); M. Okabe & K. Ito,
"Color universal design" (2008); viridis by S. van der Walt and N. Smith (matplotlib).
"""

from __future__ import annotations

#: stance codes, in the order sim.dashboard.figures.status_codes returns them
STANCES = ("not eligible", "not yet", "signed", "opposed", "withdrew")
STANCE_COLORS = ("#f7f7f7", "#cfd3d8", "#004488", "#bb5566", "#ddaa33")

#: lines of one chart: proposals, compared scenarios (A, B, ...), kinds of actors
SERIES_COLORS = ("#004488", "#ddaa33", "#009988", "#555555", "#66ccee", "#aa4499")
#: dash pattern of each series (on/off lengths in points; empty: solid)
SERIES_DASHES: tuple[tuple[float, ...], ...] = ((), (6, 3), (1.5, 2), (8, 3, 2, 3), (3, 3),
                                                (8, 2, 1.5, 2, 1.5, 2))

#: blocs in the order a scenario lists them; states in no bloc take NO_BLOC
BLOC_COLORS = ("#332288", "#ddcc77", "#44aa99", "#aa4499", "#88ccee", "#117733", "#999933",
               "#882255")
NO_BLOC = "#e4e4e4"

#: viridis at nine even steps: dark (low, early) to light (high, late)
SEQUENTIAL = ("#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962",
              "#addc30", "#fde725")

#: axes, grid and reference lines
INK = "#1f2933"
MUTED_INK = "#616e7c"
GRID = "#e9ecf0"
REFERENCE = "#7b8794"


def series_color(i: int) -> str:
    return SERIES_COLORS[i % len(SERIES_COLORS)]


def series_dash(i: int) -> tuple[float, ...]:
    return SERIES_DASHES[i % len(SERIES_DASHES)]


def bloc_color(i: int) -> str:
    return BLOC_COLORS[i % len(BLOC_COLORS)]


def sequential(fraction: float) -> str:
    """The sequential scale at `fraction` in [0, 1] (the nearest of its nine steps)."""
    fraction = min(max(float(fraction), 0.0), 1.0)
    return SEQUENTIAL[round(fraction * (len(SEQUENTIAL) - 1))]


def lightness(color: str) -> float:
    """CIE L* (0 black to 100 white) of a #rrggbb colour: what greyscale keeps of it."""
    channels = [int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    y = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 116 * y ** (1 / 3) - 16 if y > 216 / 24389 else y * 24389 / 27
