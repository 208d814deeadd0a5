"""Shared fixtures: the tiny six-state test world and the shipped baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario.loading import load_scenario

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


def run_cli(*argv) -> tuple[int, str, str]:
    """Run `cybernorms ARGV...` in process: (exit status, stdout, stderr)."""
    import contextlib
    import io

    from sim.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def refuse_folders_under(monkeypatch, root: Path) -> None:
    """Make creating a folder under `root` fail as on a read-only disk (a stand-in for a
    user who may write anywhere, e.g. root in a container)."""
    import errno
    import os

    real_mkdir = os.mkdir

    def read_only(path, *args, **kwargs):
        if str(path).startswith(str(root)):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", read_only)
