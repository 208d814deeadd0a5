"""Step and Play for the page: one step in flight at a time, drawn as fast as the page can.

Mesa's ModelController plays by stepping the model in a thread while the page may still
be drawing the previous step from the same arrays; at a short pause the two overlap and
a chart reads a history that is half-way through being recorded. Here the model is
stepped by one thread at a time (a lock), every step is recorded as a `Frame` (copies
of what changed, sim/dashboard/frames.py), and the page draws frames, never the live
model. While playing, a drawing thread draws the newest frame whenever the previous
drawing is done: frames that arrive meanwhile are skipped, not queued, so drawing keeps
up with the screen and never slows the model down, and a failed drawing is logged
without stopping the run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sim.dashboard.frames import Frame, Recording
from sim.model import NormDiplomacyModel
from sim.runs.record import RunRecord
from sim.runs.runner import record_of

log = logging.getLogger(__name__)

#: at most this many drawings per second while playing (the screen shows no more)
DRAWS_PER_SECOND = 20


class Player:
    """Runs one model for the page.

    Attributes:
        model: the model; recording: its frames; pause: seconds between steps when playing.
        step_seconds: how long the latest step took (model step and snapshot).
        error: the message of a step that failed (playing stops), else None.
    """

    def __init__(self, model: NormDiplomacyModel, draw: Callable[[Frame], None],
                 pause: float = 0.15):
        self.model = model
        self.recording = Recording(model)
        self.pause = pause
        self.step_seconds = 0.0
        self.error: str | None = None
        self._draw = draw
        self._stepping = threading.Lock()  # one step in flight
        self._playing = threading.Event()
        self._wake = threading.Event()  # a frame waits to be drawn, or playing stopped
        self._thread: threading.Thread | None = None

    @property
    def playing(self) -> bool:
        return self._playing.is_set()

    @property
    def finished(self) -> bool:
        return self.recording.latest.finished

    def advance(self) -> Frame | None:
        """Take one step and record it (None once the run is finished or a step failed)."""
        with self._stepping:
            if self.finished or self.error:
                return None
            started = time.perf_counter()
            try:
                self.model.step()
                frame = self.recording.capture()
            except Exception as exc:  # shown on the page; the page itself must survive
                log.exception("step %d of %r failed", self.model.steps, self.model)
                self.error = f"step {self.model.steps} failed: {type(exc).__name__}: {exc}"
                return None
            self.step_seconds = time.perf_counter() - started
            return frame

    def record(self) -> RunRecord:
        """The model's RunRecord as it stands (between steps)."""
        with self._stepping:
            return record_of(self.model)

    def step(self) -> None:
        """One step, drawn before returning (the Step button)."""
        if self.playing:
            return
        self.advance()
        self._safe_draw(self.recording.latest)

    def play(self) -> None:
        """Step until paused or finished, in a thread; draw in another."""
        if self.playing or self.finished:
            return
        self._playing.set()
        self._thread = threading.Thread(target=self._play, name="cybernorms-play", daemon=True)
        self._thread.start()

    def pause_playing(self) -> None:
        """Stop after the step in flight; returns once playing has stopped."""
        self._playing.clear()
        self._wake.set()
        self.wait()

    def wait(self, timeout: float | None = None) -> None:
        """Until playing has stopped and its last frame is drawn."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    close = pause_playing

    def _play(self) -> None:
        drawer = threading.Thread(target=self._draw_loop, name="cybernorms-draw", daemon=True)
        drawer.start()
        try:
            while self._playing.is_set():
                if self.advance() is None:
                    break
                self._wake.set()
                if self.pause > 0:
                    time.sleep(self.pause)
        finally:
            self._playing.clear()
            self._wake.set()
            drawer.join()

    def _draw_loop(self) -> None:
        """Draw the newest frame whenever one is waiting; once more when playing stops."""
        drawn = None
        while True:
            self._wake.wait()
            self._wake.clear()
            # first whether playing stopped, then the frame: the last frame is then drawn
            stopping = not self._playing.is_set()
            frame = self.recording.latest
            if frame is not drawn or stopping:
                started = time.perf_counter()
                self._safe_draw(frame)
                drawn = frame
                time.sleep(max(0.0, 1 / DRAWS_PER_SECOND - (time.perf_counter() - started)))
            if stopping:
                return

    def _safe_draw(self, frame: Frame) -> None:
        try:
            self._draw(frame)
        except Exception:  # a drawing that fails must not end the run
            log.exception("drawing step %d failed", frame.step)
