"""Packaged facts: the 2018 state roster and named firms and organisations (CSV).

`roster` loads and checks the tables; SOURCES.md gives the source and year of every
column. No table holds an outcome the model is validated against.
"""
