"""The page's address: which scenario, overrides, seed and week it shows.

    /?scenario=paris_call_2018&seed=7&week=60&set=eNqrVipILCrJTM4sKF...

A reload restores the view, and a colleague opening the address gets the same run (the
same scenario, overrides and seed give the same numbers). Overrides travel as their
JSON, compressed (zlib) and base64url-encoded. A set longer than `MAX_SET` characters
is saved on the server as a view file named by its content hash, and the address names
that view instead (`view=<hash>`), so addresses stay short enough to paste anywhere.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from sim.runs.store import content_hash, write_json

#: encoded overrides longer than this go to a saved view (an address stays < ~1,000 chars)
MAX_SET = 800
VIEWS_ENV = "CYBERNORMS_VIEWS"
_VIEW_NAME = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class View:
    """What an address names.

    Attributes:
        scenario: the scenario's label in the dashboard's list (a shipped name, or the
            path of the file given on the command line).
        overrides: dotted path -> value; seed: the integer seed, or None for the file's.
        week: the week shown, or None for the latest.
    """

    scenario: str
    overrides: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    week: int | None = None


def views_dir() -> Path:
    """Where saved views live: $CYBERNORMS_VIEWS, else the user's cache directory."""
    if os.environ.get(VIEWS_ENV):
        return Path(os.environ[VIEWS_ENV])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "cybernorms" / "views"


def encode_overrides(overrides: dict[str, Any]) -> str:
    text = json.dumps(overrides, sort_keys=True, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def decode_overrides(token: str) -> dict[str, Any]:
    """The overrides of an encoded `set=` value (ValueError if it is not one)."""
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        value = json.loads(raw)
    except (binascii.Error, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the settings in the address could not be read ({exc})") from exc
    if not isinstance(value, dict):
        raise ValueError("the settings in the address are not a mapping of overrides")
    return value


def query_of(view: View, directory: Path | None = None) -> str:
    """The query string of `view` (saving its overrides as a view file if they are long)."""
    params: dict[str, str] = {"scenario": view.scenario}
    if view.overrides:
        token = encode_overrides(view.overrides)
        if len(token) > MAX_SET:
            params["view"] = save_view(view, directory)
        else:
            params["set"] = token
    if view.seed is not None and "view" not in params:
        params["seed"] = str(view.seed)
    if view.week is not None:
        params["week"] = str(view.week)
    return urlencode(params)


def save_view(view: View, directory: Path | None = None) -> str:
    """Save scenario, overrides and seed; return the name the address uses."""
    data = {"scenario": view.scenario, "overrides": view.overrides, "seed": view.seed}
    name = content_hash(data)
    path = (directory or views_dir()) / f"{name}.json"
    if not path.exists():
        write_json(path, data)
    return name


def view_of(query: str | None, scenarios: set[str], directory: Path | None = None
            ) -> tuple[View | None, str | None]:
    """(the view an address names, None) or (None, why it cannot be shown) or (None,
    None) for an address that names nothing. Only the dashboard's own scenarios open."""
    params = {key: values[-1] for key, values in parse_qs(query or "").items()}
    if not params.get("scenario"):
        return None, None
    try:
        if "view" in params:
            stored = _load_view(params["view"], directory)
            scenario, overrides, seed = stored["scenario"], stored["overrides"], stored["seed"]
        else:
            scenario = params["scenario"]
            overrides = decode_overrides(params["set"]) if params.get("set") else {}
            seed = int(params["seed"]) if params.get("seed") else None
        week = int(params["week"]) if params.get("week") else None
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"The address could not be read: {exc}."
    if scenario not in scenarios:
        return None, (f"The address names scenario {scenario!r}, which this dashboard does "
                      f"not offer (it offers {', '.join(sorted(scenarios))}).")
    if seed is not None and seed < 0 or week is not None and week < 0:
        return None, "The address gives a negative seed or week."
    return View(scenario, overrides, seed, week), None


def _load_view(name: str, directory: Path | None) -> dict:
    if not _VIEW_NAME.match(name):
        raise ValueError(f"{name!r} is not the name of a saved view")
    path = (directory or views_dir()) / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"the saved view {name} is not on this server ({path})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("overrides"), dict):
        raise ValueError(f"the saved view {path} is not a view")
    return data
