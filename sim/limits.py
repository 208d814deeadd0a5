"""Limits on what one input may ask for, checked before any work starts.

A scenario, experiment or data file could otherwise ask for more than the machine
has (a billion generated actors, a design of 10^30 points, a 500-deep nesting, a
small file whose aliases expand to gigabytes). Every such quantity has a limit here,
checked where the input is read, so a mistake ends with one message instead of a
hang or an exhausted machine. The defaults fit a workstation; a user who means it
raises a limit:

    cybernorms run big.yaml --limit actors=10000000 --limit steps=20000
    CYBERNORMS_LIMITS="actors=10000000" cybernorms sweep ...   (inherited by workers)

    >>> import sim.limits
    >>> sim.limits.configure(actors=10_000_000)

Reading a user's file goes through `read_file` (size limit, path checks, a message
that names the file instead of an OSError) and `decode` (UTF-8 or an explicit encoding,
naming the line of a bad byte).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError, problem

ENVIRONMENT = "CYBERNORMS_LIMITS"


@dataclass(frozen=True)
class Limits:
    """The limits in force (see the module docstring for how to raise them).

    Attributes:
        file_bytes: size of a scenario, experiment or targets file (YAML).
        table_bytes: size of a data table a user supplies (CSV).
        depth: nesting of mappings and lists in a YAML file or value.
        nodes: values in one YAML document once its aliases are expanded.
        string_chars: length of one text value.
        integer_digits: digits of one integer.
        actors: actors in one world (states, named and generated firms and civil society).
        actor_proposals: actors x proposals (the size of the decision arrays);
            unless set, 10 x `actors`.
        ties: influence ties drawn at random (non-state actors x degree); unless set,
            40 x `actors`.
        actor_steps: actors x proposals x (steps + launch rounds), the work of one run;
            unless set, 8,000 x `actors`.
        steps: steps of one run.
        launch_rounds: decision rounds at a proposal's launch.
        runs: runs of one experiment, replicate set or comparison (a plan of 200,000
            runs takes about 300 MB and a few seconds to make before the first run).
        rows: rows of one observed-outcomes table.
    """

    file_bytes: int = 16 * 2**20
    table_bytes: int = 256 * 2**20
    depth: int = 64
    nodes: int = 1_000_000
    string_chars: int = 100_000
    integer_digits: int = 30
    actors: int = 250_000
    actor_proposals: int | None = None
    ties: int | None = None
    actor_steps: int | None = None
    steps: int = 10_000
    launch_rounds: int = 100
    runs: int = 200_000
    rows: int = 5_000_000

    def value(self, name: str) -> int:
        """The limit `name` in force; the products follow `actors` unless set themselves."""
        own = getattr(self, name)
        return own if own is not None else _PER_ACTOR[name] * self.actors


#: products of actors whose limits follow the `actors` limit unless set (see Limits)
_PER_ACTOR = {"actor_proposals": 10, "ties": 40, "actor_steps": 8_000}


NAMES = tuple(f.name for f in dataclasses.fields(Limits))


def parse(text: str, source: str = ENVIRONMENT) -> dict[str, int]:
    """`name=value[,name=value]` -> {name: value}; values may be written 1e7 or 10_000_000."""
    changes = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or name not in NAMES:
            from sim.errors import did_you_mean

            raise InputError(problem(source, item, "NAME=VALUE with NAME one of "
                                     + ", ".join(NAMES) + did_you_mean(name, NAMES)))
        changes[name] = _count(raw.strip(), source, name)
    return changes


def _count(raw: str, source: str, name: str) -> int:
    expected = "a whole number >= 1 such as 10000000, 10_000_000 or 1e7"
    if len(raw) > 40:
        raise InputError(problem(source, name, expected, raw))
    try:
        value = float(raw.replace("_", "")) if "e" in raw.lower() else int(raw.replace("_", ""))
    except ValueError:
        raise InputError(problem(source, name, expected, raw)) from None
    if value != value or value < 1 or value > 2**62 or value != int(value):
        raise InputError(problem(source, name, expected, raw))
    return int(value)


_current = Limits(**parse(os.environ.get(ENVIRONMENT, "")))


def current() -> Limits:
    """The limits in force in this process."""
    return _current


def configure(limits: Limits | None = None, **changes: int) -> Limits:
    """Set the limits (a whole Limits, or some of them by name); returns the previous ones.

    The setting is also written to the environment, so worker processes started
    afterwards inherit it (tasks sent to running workers carry it themselves).
    """
    global _current
    previous = _current
    unknown = sorted(set(changes) - set(NAMES))
    if unknown:
        raise TypeError(f"unknown limits {unknown}; known: {', '.join(NAMES)}")
    _current = dataclasses.replace(limits or _current, **{k: int(v) for k, v in changes.items()})
    os.environ[ENVIRONMENT] = ",".join(f"{name}={getattr(_current, name)}" for name in NAMES
                                       if getattr(_current, name) != getattr(Limits(), name))
    if not os.environ[ENVIRONMENT]:
        del os.environ[ENVIRONMENT]
    return previous


@contextlib.contextmanager
def raised(**changes: int):
    """Limits changed for the duration of a block (then restored)."""
    previous = configure(**changes)
    try:
        yield _current
    finally:
        configure(previous)


def check(name: str, value: int, file: str, field: str, what: str = "") -> None:
    """Raise InputError if `value` exceeds the limit `name`, saying how to raise it."""
    limit = _current.value(name)
    if value > limit:
        raise InputError(problem(file, field, f"{what or 'a value'} of at most {limit:,} "
                                 f"(limit `{name}`; to go beyond it, pass --limit {name}=N "
                                 f"or call sim.limits.configure({name}=N))", value))


# --- user files ------------------------------------------------------------------------


def check_path(path: str | os.PathLike, what: str = "file") -> Path:
    """A path the operating system can take: no NUL byte, no name over 255 bytes."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if "\x00" in text:
        raise InputError(problem(text.replace("\x00", "\\0"), "",
                                 f"a {what} path without a NUL byte"))
    too_long = [part for part in Path(text).parts if len(os.fsencode(part)) > 255]
    if too_long or len(os.fsencode(text)) > 4096:
        raise InputError(problem(text[:60] + "...", "", f"a {what} path whose names are at "
                                 "most 255 bytes (and 4096 in all)"))
    return Path(text)


def read_file(path: str | os.PathLike, what: str = "file", limit: str = "file_bytes") -> bytes:
    """The bytes of a user's file, within the size limit; every failure names the file."""
    path = check_path(path, what)
    try:
        if not path.is_file():
            found = "a folder" if path.is_dir() else "nothing"
            raise InputError(problem(path, "", f"an existing {what} (found {found} there)"))
        size = path.stat().st_size
        check(limit, size, str(path), "", f"a {what} (bytes)")
        with path.open("rb") as handle:
            return handle.read(_current.value(limit) + 1)
    except OSError as exc:
        raise InputError(problem(path, "", f"a readable {what} ({exc.strerror or exc})")) from None


def decode(data: bytes, path: str | os.PathLike, encoding: str = "utf-8",
           what: str = "file", other: str = "") -> str:
    """Text of `data`: UTF-8 (a byte-order mark is dropped) unless told otherwise.

    A UTF-16 file is recognised by its byte-order mark; anything else that is not
    text in the encoding names the line and byte, so the user can re-save the file
    (or, where `other` says how, name its encoding).
    """
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except LookupError:
        raise InputError(problem("--encoding", "", "a known text encoding such as utf-8, "
                                 "latin-1 or utf-16", encoding)) from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        name = encoding.removesuffix("-sig")
        raise InputError(problem(path, f"line {line}", f"a {what} in {name} text (byte "
                                 f"0x{data[exc.start]:02x} at offset {exc.start} is not; "
                                 f"re-save it as UTF-8{other})")) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(problem(path, f"line {line}", f"a {what} of text (found a NUL "
                                 "character: is it a binary file?)"))
    return text


def read_csv(path: str | os.PathLike, what: str = "CSV file", encoding: str = "utf-8",
             other: str = ""):
    """A user's CSV table, checked whole: within the size and row limits, text in its
    encoding, quotes closed, a header naming each column once, at least one row, every
    row as long as the header. Every cell is text (no guessed types); blank lines are
    skipped. Returns a DataFrame whose row i is the i-th row below the header."""
    import csv
    import io

    import pandas as pd

    path = check_path(path, what)
    text = decode(read_file(path, what, "table_bytes"), path, encoding, what=what, other=other)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        records = [r for r in reader if r and (len(r) > 1 or r[0].strip())]
    except csv.Error as exc:
        raise InputError(problem(path, f"line {reader.line_num}", f"a {what} ({exc})")) \
            from None
    check("rows", len(records), str(path), "", f"a {what} of rows")
    if not header:
        raise InputError(problem(path, "", f"a {what} with a header line (the file is empty)"))
    header = [name.strip() for name in header]
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise InputError(problem(path, "header", "each column once", ", ".join(twice)))
    if not records:
        raise InputError(problem(path, "", "at least one row below the header"))
    ragged = sum(len(record) != len(header) for record in records)
    if ragged:
        line, found = _first_ragged(text, len(header))
        raise InputError(problem(path, f"line {line}", f"{len(header)} values as in the "
                                 f"header (found {found}"
                                 + (f"; and {ragged - 1} more lines like it)"
                                    if ragged > 1 else ")")))
    return pd.DataFrame(records, columns=header, dtype=str)


def _first_ragged(text: str, width: int) -> tuple[int, int]:
    """Line and length of the first record whose length differs from the header's."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    for record in reader:
        if record and (len(record) > 1 or record[0].strip()) and len(record) != width:
            return reader.line_num, len(record)
    return reader.line_num, width


__all__ = ["Limits", "NAMES", "check", "check_path", "configure", "current", "decode",
           "parse", "raised", "read_csv", "read_file"]
