"""Results -> what a paper shows: figures, tables and printed summaries.

Modules: `plots` (matplotlib figures), `tables` (Markdown, LaTeX, CSV), `report`
(the files written for comparisons, sweeps, calibrations, sensitivity), `summary`.
"""
