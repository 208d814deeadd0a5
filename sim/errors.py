"""User-facing input errors that always say where: file, field, value, expectation."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one input file."""

    file: str
    field: str
    value: object
    expected: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        shown = _show(self.value)
        got = f"got {shown}; " if shown is not None else ""
        return f"{where}: {got}expected {self.expected}"


_MISSING = object()


def _show(value: object) -> str | None:
    if value is _MISSING:
        return None
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class InputError(ValueError):
    """Bad input (scenario, sweep spec, data file, command-line value).

    Attributes:
        problems: every problem found, each naming file, field, value and expectation.
    """

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        lines = [str(p) for p in self.problems]
        head = lines[0] if len(lines) == 1 else f"{len(lines)} problems:\n  " + "\n  ".join(lines)
        super().__init__(head)


def problem(file, field: str, expected: str, value: object = _MISSING) -> Problem:
    """Build a Problem; omit `value` when there is no value to show (a missing field)."""
    return Problem(str(file), field, value, expected)


def did_you_mean(word: str, choices) -> str:
    """`` (did you mean 'x'?)`` for the closest of `choices`, or "" if none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
