"""User-facing input errors that always say where: file, field, value, expectation."""

from __future__ import annotations

import difflib
import errno
import functools
import reprlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one input file."""

    file: str
    field: str
    value: object
    expected: str

    def __str__(self) -> str:
        if self.file == f"override {self.field}":  # an override names itself once
            where = self.file
        else:
            where = f"{self.file}: {self.field}" if self.field else self.file
        shown = _show(self.value)
        got = f"got {shown}; " if shown is not None else ""
        return f"{where}: {got}expected {self.expected}"


_MISSING = object()


class _Short(reprlib.Repr):
    """A repr that looks at a bounded part of a value: a message about a value that
    expands to gigabytes (a YAML alias bomb) or an integer of 10^5 digits stays cheap."""

    def __init__(self):
        super().__init__(maxlevel=3, maxdict=4, maxlist=4, maxtuple=4, maxset=4,
                         maxstring=60, maxother=60)

    def repr_int(self, value, level):
        if value.bit_length() > 200:
            return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
        return super().repr_int(value, level)

    def repr_str(self, value, level):
        return super().repr_str(value[:200], level)


def short_repr(value: object, width: int = 80) -> str:
    """The start of a value's repr, at most `width` characters, at bounded cost."""
    text = _Short().repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def _show(value: object) -> str | None:
    if value is _MISSING:
        return None
    return short_repr(value)


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


#: what an OS error says about the path it names
_OS_EXPECTED = {
    errno.ENOENT: "an existing file or folder",
    errno.ENOTDIR: "a path through folders (a part of it is a file)",
    errno.EISDIR: "a file, not a folder",
    errno.EACCES: "a path this user may read and write",
    errno.EPERM: "a path this user may read and write",
    errno.EROFS: "a folder on a writable file system (this one is read-only)",
    errno.ENOSPC: "a folder on a disk with free space (this one is full)",
    errno.EDQUOT: "a folder within your disk quota (it is used up)",
    errno.ENAMETOOLONG: "names of at most 255 bytes",
    errno.EEXIST: "a path that does not exist yet",
}


def os_problem(exc: OSError) -> Problem:
    """An OS error as a Problem naming the path it concerns and what would work."""
    file = exc.filename if exc.filename is not None else "(a file)"
    expected = _OS_EXPECTED.get(exc.errno, "a usable path")
    return problem(str(file), "", f"{expected} ({exc.strerror or type(exc).__name__})")


def boundary(function):
    """Mark a library entry point: an OS error (a missing, unreadable or unwritable path, a
    full disk) leaves it as an InputError naming the path, as bad input does."""

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            raise InputError(os_problem(exc)) from None

    return guarded
