"""What the Export tab hands out: the run's files, as `cybernorms run --out` writes them,
and the page's figures.

"Download this run" writes the run's RunRecord with the library's own writer
(`sim.runs.record.write_runs`: every table the record has, the manifest and the
resolved scenario) into a temporary folder and zips that folder, so the files are the
ones `cybernorms run SOURCE --seed SEED --set ... --out DIR` writes for the same run.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from sim.dashboard.colouring import Colouring
from sim.dashboard.figures import bloc_chart, chart_figure, coverage_chart, signers_chart
from sim.dashboard.frames import Frame
from sim.dashboard.network_view import network_figure
from sim.dashboard.worldmap import map_figure
from sim.runs.record import RunRecord, write_runs


def run_stem(record: RunRecord, step: int) -> str:
    return f"{record.scenario.metadata.name}_seed{record.seed}_step{step}"


def run_archive(record: RunRecord, stem: str) -> bytes:
    """A zip of the folder `write_runs([record], ...)` writes, under `stem/`."""
    with tempfile.TemporaryDirectory(prefix="cybernorms-export-") as tmp:
        folder = write_runs([record], Path(tmp) / stem)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                archive.write(path, f"{stem}/{path.name}")
    return buffer.getvalue()


def figure_makers(frame: Frame, steps, totals: dict[str, int], sizes: dict[str, int], pid: str,
                  colouring: Colouring, when: str) -> dict[str, Callable[[], Figure]]:
    """Name -> function drawing that figure with matplotlib, as the page shows it."""
    world, spec = frame.world, frame.world.spec
    subtitle = f"{spec.metadata.name}, seed {world.seed}"
    return {
        "signatories by kind": lambda: chart_figure(signers_chart(steps, spec, totals), spec,
                                                    subtitle),
        "coverage of states and GDP": lambda: chart_figure(coverage_chart(steps, spec), spec,
                                                           subtitle),
        "state signatories by bloc": lambda: chart_figure(bloc_chart(steps, spec, sizes), spec,
                                                          subtitle),
        "world map": lambda: map_figure(world, colouring, f"{pid}, {when} · {subtitle}"),
        "influence network": lambda: network_figure(world, colouring,
                                                    f"{pid}, {when} · {subtitle}"),
    }
