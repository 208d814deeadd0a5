"""Packaged facts: the state roster and the tables of named firms and civil society.

Tables are CSV files in sim/data (referred to by name, e.g. ``states_2018``) or paths
given in a scenario. Loading checks every cell, so a model never runs on a silently
broken table; the `provisional` column lists values that were estimated.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from sim import limits
from sim.errors import InputError, problem

#: 0/1 columns every state roster has: memberships (usable in `member_of`). A roster may
#: carry more (any further 0/1 column is a membership, any other a number), as the
#: packaged one does (regional organisations, ties to France; see SOURCES.md).
MEMBERSHIPS = (
    "eu", "nato", "oecd", "g7", "g20", "brics", "sco", "csto", "cis", "five_eyes",
    "african_union", "asean", "arab_league", "oas", "nam", "francophonie",
    "commonwealth", "budapest_convention", "us_mnna",
)  # fmt: skip

STATE_TEXT = ("iso3", "iso2", "name", "un_region", "un_subregion")
STATE_NUMBERS = (
    "gdp_usd_2018", "population_2018", "internet_pct_2018", "freedom_house_2018", "gci_2018",
)  # fmt: skip

#: Columns no input may carry: they are what the model is validated against.
# recorded UN votes of any session are outcomes, not inputs: voting agreement or
# coincidence scores are built from them
FORBIDDEN_HINTS = ("paris", "signed", "supporter", "vote", "a_res", "oewg", "gge",
                   "un_agreement", "coincidence")


def derived_state_attributes(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Attributes on a common [0, 1] scale, so interest forms have readable coefficients.

    democracy: Freedom House score / 100; internet: internet users / 100;
    economic_size: log10 GDP rescaled to [0, 1] over the roster; cyber_capability:
    the ITU GCI score; gdp_share and population_share: shares of the roster total.
    """
    log_gdp = np.log10(table["gdp_usd_2018"].to_numpy(float))
    gdp = table["gdp_usd_2018"].to_numpy(float)
    pop = table["population_2018"].to_numpy(float)
    return {
        "democracy": table["freedom_house_2018"].to_numpy(float) / 100.0,
        "internet": table["internet_pct_2018"].to_numpy(float) / 100.0,
        "economic_size": (log_gdp - log_gdp.min()) / (log_gdp.max() - log_gdp.min()),
        "cyber_capability": table["gci_2018"].to_numpy(float),
        "gdp_share": gdp / gdp.sum(),
        "population_share": pop / pop.sum(),
    }


@dataclass(frozen=True)
class Table:
    """A validated actor table.

    Attributes:
        source: where it was read from (for error messages and manifests).
        frame: the rows, in file order.
        numbers: numeric columns usable as actor attributes.
        memberships: 0/1 columns usable with `member_of`.
    """

    source: str
    frame: pd.DataFrame
    numbers: tuple[str, ...]
    memberships: tuple[str, ...] = ()
    derived: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def attributes(self) -> tuple[str, ...]:
        return self.numbers + tuple(self.derived)

    def attribute(self, name: str) -> np.ndarray:
        """A numeric column as floats (read-only; made once per table: every run of a
        sweep reads every column several times while building its world)."""
        if name in self.derived:
            return self.derived[name]
        return self.column(name)

    def column(self, name: str) -> np.ndarray:
        """Any numeric or membership column as read-only floats, made once per table."""
        cache = self.__dict__.setdefault("_columns", {})
        if name not in cache:
            values = self.frame[name].to_numpy(float, copy=True)
            values.setflags(write=False)
            cache[name] = values
        return cache[name]

    def distinct(self, column: str) -> frozenset:
        """The distinct values of a column, computed once per table (every scenario of a
        sweep checks its references against them)."""
        cache = self.__dict__.setdefault("_distinct", {})
        if column not in cache:
            cache[column] = frozenset(self.frame[column])
        return cache[column]

    @cached_property
    def slugs(self) -> frozenset[str]:
        """Actor ids of a named table's rows (computed once: every scenario of a sweep
        checks its references against them)."""
        return frozenset(slug(name) for name in self.frame["name"])


def locate(name_or_path: str, base_dir: Path | None = None) -> Path:
    """Resolve a packaged table name (``states_2018``) or a path relative to `base_dir`."""
    packaged = _packaged(name_or_path)
    if packaged is not None:
        return packaged
    path = Path(name_or_path)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


@lru_cache(maxsize=64)
def _packaged(name: str) -> Path | None:
    if "/" in name or name.endswith(".csv"):
        return None
    packaged = resources.files("sim") / "data" / f"{name}.csv"
    return Path(str(packaged)) if packaged.is_file() else None


def _read(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(problem(path, "", f"an existing {what} CSV file (or a packaged name)"))
    text = limits.decode(limits.read_file(path, f"{what} CSV file", "table_bytes"), path,
                         what=f"{what} CSV file")
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(problem(path, "", f"a readable CSV file ({exc})")) from exc


def _require(frame, path, columns) -> list:
    return [
        problem(path, column, "this column to be present")
        for column in columns
        if column not in frame.columns
    ]


def _check_cells(frame: pd.DataFrame, path: Path, key: str, numbers, flags) -> list:
    """Every cell filled and numeric where it must be; flags are 0/1."""
    issues = []
    for column in frame.columns:
        if column == "provisional":
            continue
        blank = frame[column].str.strip() == ""
        for row in frame.index[blank][:3]:
            issues.append(problem(path, f"row {frame.at[row, key]}: {column}", "a value", ""))
    for column in numbers:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(float)) & (frame[column].str.strip() != "").to_numpy()
        for row in frame.index[bad][:3]:
            issues.append(
                problem(path, f"row {frame.at[row, key]}: {column}", "a finite number",
                        frame.at[row, column])
            )
    for column in flags:
        bad = ~frame[column].isin(["0", "1"])
        for row in frame.index[bad][:3]:
            issues.append(
                problem(path, f"row {frame.at[row, key]}: {column}", "0 or 1",
                        frame.at[row, column])
            )
    if "provisional" in frame.columns:
        for row in frame.index:
            for flagged in filter(None, frame.at[row, "provisional"].split(";")):
                if flagged.strip() not in frame.columns:
                    issues.append(
                        problem(
                            path,
                            f"row {frame.at[row, key]}: provisional",
                            "a ;-separated list of column names",
                            flagged,
                        )
                    )
    return issues


def _check_forbidden(frame, path) -> list:
    return [
        problem(path, column, "no column that encodes signatures or UN votes (validation data)")
        for column in frame.columns
        if any(hint in column.lower() for hint in FORBIDDEN_HINTS)
    ]


def _numeric(frame: pd.DataFrame, columns) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        frame[column] = pd.to_numeric(frame[column])
    return frame


def _stamp(path: Path) -> tuple[Path, int, int]:
    """A cache key that changes when the file does (path, modification time, size)."""
    stat = path.stat() if path.is_file() else None
    return (path, stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)


@lru_cache(maxsize=32)
def _load_states(path: Path, mtime_ns: int = 0, size: int = 0) -> Table:
    frame = _read(path, "state roster")
    issues = _require(frame, path, STATE_TEXT + STATE_NUMBERS + MEMBERSHIPS) + _check_forbidden(
        frame, path
    )
    if issues:
        raise InputError(issues)
    # further columns are optional facts: 0/1 columns are memberships, the rest numbers
    extra = [c for c in frame.columns
             if c not in STATE_TEXT + STATE_NUMBERS + MEMBERSHIPS + ("provisional",)]
    flags = MEMBERSHIPS + tuple(c for c in extra if frame[c].isin(["0", "1"]).all())
    numbers = STATE_NUMBERS + tuple(c for c in extra if c not in flags)
    issues = _check_cells(frame, path, "iso3", numbers, flags)
    for column in ("iso3", "iso2"):
        for code in frame[column][frame[column].duplicated()]:
            issues.append(problem(path, column, "unique codes", code))
    if issues:
        raise InputError(issues)
    frame = _numeric(frame, numbers + flags)
    for column in ("gdp_usd_2018", "population_2018"):
        for iso3 in frame.loc[frame[column] <= 0, "iso3"]:
            issues.append(problem(path, f"row {iso3}: {column}", "a positive number"))
    if issues:
        raise InputError(issues)
    return Table(
        source=str(path),
        frame=frame.reset_index(drop=True),
        numbers=numbers + flags,
        memberships=flags,
        derived=derived_state_attributes(frame),
    )


def load_states(name_or_path: str = "states_2018", base_dir: Path | None = None) -> Table:
    """The validated state roster (cached per file)."""
    return _load_states(*_stamp(locate(name_or_path, base_dir).resolve()))


#: Required columns of named-actor tables, by kind; the category column names the
#: sector (firms) or type (civil society).
NAMED_COLUMNS = {
    "firm": ("name", "home_iso3", "sector", "revenue_usd_bn_2018"),
    "civil": ("name", "home_iso3", "type", "reach"),
}
CATEGORY_COLUMN = {"firm": "sector", "civil": "type"}
SIZE_COLUMN = {"firm": "revenue_usd_bn_2018", "civil": "reach"}


@lru_cache(maxsize=32)
def _load_named(path: Path, mtime_ns: int, size: int, kind: str) -> Table:
    frame = _read(path, f"named {kind} table")
    required = NAMED_COLUMNS[kind]
    issues = _require(frame, path, required) + _check_forbidden(frame, path)
    if issues:
        raise InputError(issues)
    text = set(required[:3]) | {"provisional"}
    numbers = tuple(c for c in frame.columns if c not in text)
    flags = tuple(c for c in numbers if frame[c].isin(["0", "1"]).all())
    issues = _check_cells(frame, path, "name", numbers, flags)
    for name in frame["name"][frame["name"].duplicated()]:
        issues.append(problem(path, "name", "unique names", name))
    if issues:
        raise InputError(issues)
    return Table(source=str(path), frame=_numeric(frame, numbers).reset_index(drop=True),
                 numbers=numbers, memberships=flags)


def load_named(kind: str, name_or_path: str, base_dir: Path | None = None) -> Table:
    """A validated table of named firms or civil-society organisations (cached)."""
    return _load_named(*_stamp(locate(name_or_path, base_dir).resolve()), kind)


def slug(name: str) -> str:
    """Actor id of a named firm or organisation: lower case, words joined by "_"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
