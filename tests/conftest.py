"""Shared fixtures: the tiny six-state test world and the shipped baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import load_scenario

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]
TINY = DATA / "tiny.yaml"
BASELINE = ROOT / "scenarios" / "paris_call_2018.yaml"


@pytest.fixture(scope="session")
def tiny_spec():
    return load_scenario(TINY)


@pytest.fixture(scope="session")
def baseline_spec():
    return load_scenario(BASELINE)
