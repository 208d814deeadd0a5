"""Writing results: atomic files, manifests with provenance, content hashes, folder locks.

Every file is written to a temporary name in the same directory and renamed into
place, so a crash never leaves a half-written table. Shards of a sweep are named by
the SHA-256 of their bytes (`addressed_file`), so each one can be checked against its
own name. Manifests record what produced the results: model version, package
versions, git revision, host and timings. A results folder that one process writes
is locked (`folder_lock`): a second writer is refused at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import socket
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.errors import InputError, problem
from sim.version import MODEL_VERSION

PACKAGES = ("cybernorms", "mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic")


@contextlib.contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside `path`; rename it onto `path` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


@dataclass
class Addressed:
    """A file being written under its content's name: `path` and `sha256` are set once
    the block that writes `tmp` has finished."""

    tmp: Path
    path: Path | None = None
    sha256: str | None = None


@contextlib.contextmanager
def addressed_file(folder: Path, suffix: str = ".parquet"):
    """Yield an Addressed; write to its `tmp`; it is renamed to part-<sha256>.<suffix>."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".part.", suffix=".tmp", dir=folder)
    os.close(handle)
    target = Addressed(Path(tmp))
    try:
        yield target
        target.sha256 = file_sha256(target.tmp)
        target.path = folder / f"part-{target.sha256[:32]}{suffix}"
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target.path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: Path, data) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def write_table(path: Path, frame: pd.DataFrame, writer: Callable | None = None) -> Path:
    """Parquet by default (by the suffix: .parquet, .csv)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if writer is not None:
            writer(frame, tmp)
        elif path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
    return path


def content_hash(*parts: object, length: int = 16) -> str:
    """Stable hex digest of JSON-serialisable parts."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def git_revision(directory: Path | None = None) -> str | None:
    """The checkout's commit (with "-dirty" if modified), or None outside git."""
    directory = directory or Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=directory, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("-dirty" if dirty.strip() else "")


def versions() -> dict[str, str | None]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def provenance() -> dict:
    """What produced a result: versions, git revision, host, time (UTC)."""
    return {
        "model_version": MODEL_VERSION,
        "versions": versions(),
        "git_revision": git_revision(),
        "host": platform.node(),
        "platform": platform.platform(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# --- locks -----------------------------------------------------------------------------

LOCK_NAME = ".lock"


@contextlib.contextmanager
def folder_lock(directory: Path, what: str = "results folder"):
    """Hold `directory`/.lock for the duration of a block; a second holder is refused at once.

    The lock is an exclusive flock on the file, which the kernel releases when its
    process ends however it ends (kill -9 included): a lock file left behind by a dead
    process is stale and simply taken over. The file names the holder (host, pid,
    since) for the message a second writer gets.
    """
    import fcntl

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_NAME
    while True:
        handle = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            holder = _holder(path)
            raise InputError(problem(directory, "--out", f"a {what} no other process is "
                                     f"writing: {_describe(holder)} is writing it")) from None
        try:  # the file may have been removed and re-created between open and flock
            same = os.fstat(handle).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(handle)
    mine = {"host": socket.gethostname(), "pid": os.getpid(),
            "since": datetime.now(UTC).isoformat(timespec="seconds")}
    os.ftruncate(handle, 0)
    os.write(handle, json.dumps(mine).encode())
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(handle)


def _holder(path: Path) -> dict:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _describe(holder: dict) -> str:
    if not holder:
        return "another process"
    return (f"process {holder.get('pid')} on {holder.get('host')} (since "
            f"{holder.get('since')})")
