"""Long work for the page (a comparison over replications) in a background thread.

A job belongs to the dashboard, not to the tab that started it: switching tabs neither
stops it nor loses its result. It reports its progress (units of work done of the
total), estimates the time left from the pace so far, and can be cancelled between
units of work.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

RUNNING, DONE, CANCELLED, FAILED = "running", "done", "cancelled", "failed"


class Cancelled(Exception):
    """Raised inside a job's work when the user cancelled it."""


class Job:
    """`work(job)` run in a thread; it calls `job.advance()` after each unit of work.

    Attributes:
        label: what the job does; total: units of work; done: units finished.
        state: RUNNING, DONE, CANCELLED or FAILED; result (DONE); error (FAILED).
        started, finished: times (time.monotonic) of start and end.
    """

    def __init__(self, label: str, total: int, work: Callable[[Job], Any],
                 on_change: Callable[[], None] = lambda: None):
        self.label, self.total, self.done = label, max(int(total), 1), 0
        self.state, self.result, self.error = RUNNING, None, None
        self.started = time.monotonic()
        self.finished: float | None = None
        self._work, self._on_change = work, on_change
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job: {label}", daemon=True)

    def start(self) -> Job:
        self._thread.start()
        return self

    def advance(self, units: int = 1) -> None:
        """One more unit of work done; raises Cancelled if the user asked to stop."""
        self.done = min(self.done + units, self.total)
        self._changed()
        self.check()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def fraction(self) -> float:
        return self.done / self.total

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def remaining(self) -> float | None:
        """Seconds left at the pace so far (None before the first unit is done)."""
        if not self.done or self.state != RUNNING:
            return None
        return self.elapsed / self.done * (self.total - self.done)

    def _run(self) -> None:
        try:
            self.result = self._work(self)
            self.state = DONE
        except Cancelled:
            self.state = CANCELLED
        except Exception as exc:  # shown on the page; the dashboard goes on
            log.exception("%s failed", self.label)
            self.error = f"{type(exc).__name__}: {exc}"
            self.state = FAILED
        self.finished = time.monotonic()
        self._changed()

    def _changed(self) -> None:
        try:
            self._on_change()
        except Exception:  # a failed redraw must not stop the work
            log.exception("showing the progress of %s failed", self.label)


def duration(seconds: float) -> str:
    """12 s, 3 min 5 s."""
    seconds = max(0, round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60} s"
