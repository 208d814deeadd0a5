"""The page's building blocks: the Vue widgets, exact sliders, headline figures, error
boundaries and downloads with progress.

The Vue components take their data as JSON text: one string is cheap for reacton to
compare and pass on, where lists of hundreds of dicts are walked item by item.
"""

from __future__ import annotations

import html
import logging
import math
import threading
from collections.abc import Callable

import solara
from solara.components.input import use_change

log = logging.getLogger(__name__)


@solara.component_vue("chart.vue")
def Chart(chart_json: str, height: int = 200, titled: bool = True):
    """Panels of lines over time (see sim/dashboard/figures.py), under their title."""


@solara.component_vue("svg.vue")
def ActorView(geometry_json: str, state_json: str, selected: int = -1, note: str = "",
              event_select: Callable[[int], None] | None = None):
    """Actors as coloured shapes; clicking one selects it."""


@solara.component_vue("search.vue")
def ActorSearch(names_json: str, value: int, event_select: Callable[[int], None] | None = None):
    """Find an actor by name among thousands (filtered in the browser)."""


@solara.component_vue("address.vue")
def Address(query: str | None = None):
    """Keeps the browser's address equal to `query` (no reload, no history entry)."""


@solara.component_vue("download.vue")
def Download(filename: str = "", payload: bytes | None = None, serial: int = 0,
             mime_type: str = "application/octet-stream"):
    """Saves `payload` as `filename` in the browser whenever `serial` changes."""


def on_grid(value: float, low: float, step: float) -> float:
    """Where a slider on the grid low + k * step puts `value` (as Vuetify rounds it)."""
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    offset = math.fmod(low, step)
    return round(round((value - offset) / step) * step + offset, decimals + 2)


@solara.component
def ValueSlider(label: str, value: float, on_value: Callable[[float], None], low: float,
                high: float, step: float = 0.01, integer: bool = False, control: str = ""):
    """A slider with the exact value beside it, in a number field that takes exact values.

    The slider moves on a grid of `step`. A value off that grid (a calibrated 1.4127)
    is shown exactly in the field and left untouched: the slider reports a change only
    when the user moves it to another grid point, never its rounding of the value it
    was given, so opening a panel never changes the model. `control` (default: the
    label) names the slider in the page (attribute data-control; the field has
    data-exact), for tests and for anyone scripting the page.
    """
    name = control or label
    low, high = min(low, value), max(high, value)
    shown = on_grid(value, low, step)

    def from_slider(moved):
        moved = int(round(moved)) if integer else float(moved)
        if abs(moved - shown) < step / 2:  # where the slider already stands: no change
            return
        on_value(moved)

    with solara.Row(gap="6px", style={"align-items": "center", "margin-top": "6px"},
                    classes=["cn-control-label"]):
        solara.Text(label, style={"flex": "1 1 auto"})
        NumberField(value, on_value, integer=integer)
    solara.v.Slider(v_model=shown, min=low, max=high, step=step, dense=True, hide_details=True,
                    on_v_model=from_slider, class_="mt-0 pt-0",
                    attributes={"data-control": name})


def number_text(value: float, integer: bool = False) -> str:
    """A number as the field shows it: exact to ten significant digits (1.4127, 0.0302)."""
    return str(int(value)) if integer else f"{float(value):.10g}"


@solara.component
def NumberField(value: float, on_value: Callable[[float], None], integer: bool = False,
                label: str = "", width: str = "82px"):
    """A number field that shows `value` and reports a typed value when the user leaves
    the field or presses Enter (never the value it was given: a value changed elsewhere,
    by the slider beside it or by Play, simply shows)."""
    typed, set_typed = solara.use_state(None)  # what the user is typing, until committed

    def commit(text):
        set_typed(None)
        try:
            number = int(text) if integer else float(text)
        except (TypeError, ValueError):
            return  # not a number: the field shows the value again
        if math.isfinite(number) and number != value:
            on_value(number)

    field = solara.v.TextField(v_model=number_text(value, integer) if typed is None else typed,
                               on_v_model=set_typed, label=label, dense=True,
                               hide_details=True, class_="cn-exact",
                               style_=f"max-width: {width}; min-width: {width}")
    use_change(field, commit)
    return field


@solara.component
def Kpi(label: str, value: str, sub: str = ""):
    with solara.Div(classes=["cn-kpi"]):
        solara.Div(children=[label], classes=["cn-kpi-label"])
        solara.Div(children=[value], classes=["cn-kpi-value"])
        if sub:
            solara.Div(children=[sub], classes=["cn-kpi-sub"])


@solara.component
def Guarded(what: str, revision: object = None, children: list | None = None):
    """Draws `children`; if drawing them fails, says so here (and logs it) instead of
    replacing the page, and tries again at the next `revision` (the next step drawn)."""
    exception, clear = solara.use_exception()
    failed_at = solara.use_ref(None)
    if exception is not None and failed_at.current is None:
        failed_at.current = revision
        log.error("drawing %s failed", what, exc_info=exception)

    def retry():
        if exception is not None and failed_at.current != revision:
            failed_at.current = None
            clear()

    solara.use_effect(retry, [revision])
    if exception is not None:
        solara.Error(f"{what} could not be drawn ({type(exception).__name__}: {exception}); "
                     f"the run goes on and the next step tries again.", dense=True,
                     classes=["cn-failed"])
        return
    solara.Div(children=children or [])


@solara.component
def DownloadButton(label: str, filename: str, make: Callable[[], bytes], what: str = "",
                   mime_type: str = "application/octet-stream"):
    """A button that computes a file in the background, with progress, then saves it."""
    busy = solara.use_reactive(False)
    failure = solara.use_reactive(None)
    delivered = solara.use_reactive((0, None))

    def start():
        if busy.value:
            return
        busy.set(True)
        failure.set(None)

        def work():
            try:
                data = make()
            except Exception as exc:  # shown beside the button; the page goes on
                log.exception("preparing %s failed", filename)
                failure.set(f"{type(exc).__name__}: {exc}")
            else:
                delivered.set((delivered.value[0] + 1, data))
            finally:
                busy.set(False)

        threading.Thread(target=work, name=f"download {filename}", daemon=True).start()

    with solara.Div(style={"display": "inline-block"}):
        solara.Button(label, on_click=start, loading=busy.value, disabled=busy.value,
                      small=True, outlined=True, classes=["cn-download-button"],
                      attributes={"data-file": filename})
        Download(filename=filename, payload=delivered.value[1], serial=delivered.value[0],
                 mime_type=mime_type)
    if busy.value:
        solara.Text(f"Preparing {what or filename} ...", classes=["cn-muted", "cn-progress"])
    if failure.value:
        solara.Error(f"{filename}: {failure.value}", dense=True)


def escape(text: object) -> str:
    return html.escape(str(text))
