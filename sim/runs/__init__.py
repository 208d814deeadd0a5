"""(scenario, overrides, seed) -> RunRecord: one run, its tables and its files.

Modules: `run` (runs, replicates, seeds, run ids, batches for workers), `record`
(the RunRecord and its tables), `store` (atomic files, manifests, provenance).
Exports `run`, `run_spec`, `run_replicates`, `RunRecord`, `write_runs`.
"""

from sim.runs.record import RunRecord, write_runs
from sim.runs.runner import run, run_replicates, run_spec

__all__ = ["RunRecord", "run", "run_replicates", "run_spec", "write_runs"]
