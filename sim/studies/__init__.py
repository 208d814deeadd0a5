"""Many runs: experiments and designs, sweeps on backends, and what is learnt from them.

Modules: `experiment` (specs, designs), `sweep` (the runner), `backends` (serial,
process pool, Dask), `results` (shards), `comparison`, `calibration`, `sensitivity`, `score`.
Exports nothing at import time: `sim.sweep`, `sim.compare`, ... load these on first use.
"""
