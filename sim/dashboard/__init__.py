"""The Solara dashboard: watch a scenario run, change it, compare two, export.

Modules: `server` (the `cybernorms dashboard` command), `app` (the page), `controls`,
`figures`, `network_view`, `worldmap`, `compare`, `assets` (offline front-end files), *.vue.
"""
