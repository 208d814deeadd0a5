"""The dashboard in a real browser: Debian's chromium, driven by Python playwright.

Every test is marked `browser`, which the default run deselects; run them with
``pytest -m browser`` after ``.ci/browser-setup`` (installs chromium and the dashboard's
front-end assets). They start ``python -m sim.dashboard`` (what users run) on a free
port, and block every request that does not go to that server, so they also show that
the page works offline. Each test saves a screenshot in tests/browser/ (1280 x 800, or
390 x 844 for the phone layout).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests

from sim.scenario.loading import load_scenario

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(__file__).parent / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ENABLE = "run .ci/browser-setup (installs Debian's chromium and the dashboard's assets)"
TIMEOUT_MS = 60_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BINDINGNESS = "proposals.paris_call.bindingness"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python -m sim.dashboard` on a free port; its URL."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}: {ENABLE}")
    from sim.dashboard import assets as dashboard_assets

    missing = dashboard_assets.missing_packages()
    if missing:
        pytest.skip(f"dashboard assets not installed ({', '.join(map(str, missing))}): {ENABLE}")
    port = _free_port()
    SCREENSHOTS.mkdir(exist_ok=True)
    log = (SCREENSHOTS / "server.log").open("w")
    views = tmp_path_factory.mktemp("views")
    process = subprocess.Popen([sys.executable, "-m", "sim.dashboard", "--port", str(port)],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
                                    "CYBERNORMS_VIEWS": str(views)})
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the dashboard exited with status {process.returncode}")
            try:
                if requests.get(url, timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            pytest.fail("the dashboard did not answer within 60 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(server, chromium, request):
    """open_page(viewport, address="") -> a page of a fresh browser context (a fresh
    model) with outside requests blocked and console errors collected; a screenshot
    of each page is saved when the test ends."""
    contexts = []

    def opener(viewport=DESKTOP, address: str = ""):
        context = chromium.new_context(viewport=viewport, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.errors, page.blocked = [], []
        page.on("console", lambda message: message.type == "error" and page.errors.append(
            message.text))
        page.on("pageerror", lambda error: page.errors.append(str(error)))

        def local_only(route):
            if route.request.url.startswith(server):
                route.continue_()
            else:
                page.blocked.append(route.request.url)
                route.abort()

        page.route("**/*", local_only)
        page.goto(server + address)
        page.locator(".cn-actors-svg").wait_for()
        page.locator(".cn-chart svg").first.wait_for()
        return page

    yield opener
    for n, context in enumerate(contexts):
        for page in context.pages:
            page.wait_for_timeout(600)  # let transitions (tables fading in) finish
            suffix = f"_{n + 1}" if n else ""
            page.screenshot(path=SCREENSHOTS / f"{request.node.name}{suffix}.png")
        context.close()


@pytest.fixture
def dashboard(open_page):
    return open_page()


def kpi(page, label: str) -> str:
    return page.locator(".cn-kpi", has_text=label).locator(".cn-kpi-value").inner_text()


def counters(page) -> dict[str, str]:
    labels = page.locator(".cn-kpi-label").all_inner_texts()
    return dict(zip(labels, page.locator(".cn-kpi-value").all_inner_texts(), strict=True))


def states_signed(page) -> int:
    return int(kpi(page, "States signed"))


def week(page) -> str:
    return page.locator(".v-app-bar .cn-step").inner_text()


def step(page, times: int = 1) -> None:
    """Click Step and wait until the page shows the new week."""
    for _ in range(times):
        shown = week(page)
        page.get_by_role("button", name="Step").click()
        page.wait_for_function(
            "w => document.querySelector('.v-app-bar .cn-step').innerText !== w", arg=shown)


def reset(page) -> None:
    """Click Reset and wait until the new model shows."""
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("() => document.querySelector('.v-app-bar .cn-step').innerText"
                           ".startsWith('Before the first step')")


def open_panel(page, title: str) -> None:
    panel = page.locator(".v-expansion-panel", has=page.locator(
        ".v-expansion-panel-header", has_text=title)).first
    if "v-expansion-panel--active" not in (panel.get_attribute("class") or ""):
        panel.locator(".v-expansion-panel-header").first.click()
    page.wait_for_timeout(300)


def choose(page, select: str, option: str) -> None:
    """Pick `option` in the Vuetify select `select` (a CSS selector)."""
    page.locator(select).click()
    page.locator(".menuable__content__active .v-list-item", has_text=option).filter(
        has_text=re.compile(f"^{re.escape(option)}$")).click()


def type_exact(page, label: str, value: str) -> None:
    """Type a value into the number field beside the slider labelled `label`."""
    field = page.locator(".cn-control-label", has_text=label).locator(".cn-exact input")
    field.fill(value)
    field.press("Enter")


def expected_counts(steps: int, **overrides) -> list[int]:
    """State, firm and civil-society signers of the baseline after `steps`, run here."""
    from sim.model import NormDiplomacyModel

    model = NormDiplomacyModel("paris_call_2018", **overrides)
    for _ in range(steps):
        model.step()
    return [int(model.world.signed[s, 0].sum()) for s in model.world.slices.values()]


def shown_counts(page) -> list[int]:
    return [int(kpi(page, f"{kind} signed").replace(",", ""))
            for kind in ("States", "Firms", "Civil society")]


def wait_for_counts(page, expected: list[int], timeout: float = 10.0) -> None:
    """Wait until the headline shows `expected`: the week in the app bar can change a
    moment before the headline's counters of the same week are drawn."""
    deadline = time.monotonic() + timeout
    while shown_counts(page) != expected:
        assert time.monotonic() < deadline, f"shown {shown_counts(page)}, expected {expected}"
        page.wait_for_timeout(50)


# --- loading, stepping, the speed of a step ---------------------------------------------------


def test_page_loads_offline_with_the_first_chart_above_the_fold(dashboard):
    assert week(dashboard).startswith("Before the first step")
    assert kpi(dashboard, "States signed") == "0"
    assert dashboard.locator(".cn-actors-svg path.cn-outline").count() > 150
    assert dashboard.locator(".cn-chart svg").count() >= 5
    box = dashboard.locator(".cn-chart").first.bounding_box()
    assert box["y"] + box["height"] <= DESKTOP["height"], box  # above the fold at 1280 x 800
    assert dashboard.locator(".v-navigation-drawer--open").count() == 1  # the sidebar, open
    assert dashboard.errors == [], dashboard.errors
    assert dashboard.blocked == [], f"the page asked for outside resources: {dashboard.blocked}"


REPAINT = """async () => {
  const label = document.querySelector('.v-app-bar .cn-step');
  const line = () => document.querySelector('.cn-signers-card polyline');
  const before = [label.innerText, line() && line().getAttribute('points')];
  const button = [...document.querySelectorAll('button')]
    .find(b => b.textContent.trim() === 'Step');
  return await new Promise(resolve => {
    const start = performance.now();
    const done = () => label.innerText !== before[0] && line()
      && line().getAttribute('points') !== before[1];
    const observer = new MutationObserver(() => {
      if (done()) {
        observer.disconnect();
        // two animation frames: the browser has painted the new step
        requestAnimationFrame(() => requestAnimationFrame(
          () => resolve((performance.now() - start) / 1000)));
      }
    });
    observer.observe(document.body, {childList: true, subtree: true, characterData: true,
                                     attributes: true});
    button.click();
  });
}"""


def test_step_changes_the_counts_and_repaints_within_a_fifth_of_a_second(dashboard,
                                                                         record_property):
    step(dashboard)  # the launch round: the pre-negotiated signatures
    dashboard.wait_for_function("() => document.querySelector('.cn-kpi-value').innerText "
                                "!== '0'")
    assert week(dashboard) == "Week 1 of 170 · 12 Nov 2018"
    assert states_signed(dashboard) > 20
    timings = [dashboard.evaluate(REPAINT) for _ in range(12)]
    assert week(dashboard).startswith("Week 13 of 170")
    wait_for_counts(dashboard, expected_counts(13))
    signed = dashboard.locator(".cn-legend", has_text="signed").first.inner_text()
    assert f"signed {states_signed(dashboard)}" in signed.replace("\n", " ")
    median, worst = statistics.median(timings), max(timings)
    record_property("click_to_repaint_median_seconds", round(median, 3))
    record_property("click_to_repaint_max_seconds", round(worst, 3))
    print(f"\nbrowser: click to repaint of a step {median:.3f} s median, {worst:.3f} s "
          f"slowest (12 steps, baseline)")
    assert median <= 0.2 * float(os.environ.get("CYBERNORMS_SLOW_MACHINE", "1")), timings
    assert dashboard.errors == []


def test_play_at_no_pause_reaches_the_last_step_with_no_error(dashboard):
    type_exact(dashboard, "Pause between steps", "0")
    dashboard.wait_for_timeout(300)
    dashboard.get_by_role("button", name="▶").click()
    dashboard.get_by_text("Run finished").wait_for(timeout=120_000)
    assert week(dashboard).startswith("Week 170 of 170")
    assert dashboard.get_by_role("button", name="Step").is_disabled()
    wait_for_counts(dashboard, expected_counts(170))
    assert dashboard.locator(".cn-failed").count() == 0
    assert "Traceback" not in dashboard.locator("body").inner_text()
    assert dashboard.errors == [], dashboard.errors


def test_pause_stops_playing(dashboard):
    dashboard.get_by_role("button", name="▶").click()
    dashboard.wait_for_function(
        "() => /Week ([5-9]|\\d\\d+) /.test(document.querySelector('.v-app-bar .cn-step')"
        ".innerText)")
    dashboard.get_by_role("button", name="❚❚").click()
    dashboard.get_by_role("button", name="▶").wait_for()
    paused = week(dashboard)
    dashboard.wait_for_timeout(800)
    assert week(dashboard) == paused
    assert dashboard.errors == []


# --- controls ---------------------------------------------------------------------------------


def test_opening_every_panel_and_tab_creates_no_override(dashboard):
    for title in ("Text of paris_call", "Sponsor outreach", "Behaviour coefficients",
                  "Run length and seed"):
        open_panel(dashboard, title)
    open_panel(dashboard, "Strength of each commitment")
    for kind in ("firm", "civil", "state"):
        dashboard.locator(".v-btn-toggle button", has_text=kind).first.click()
        dashboard.wait_for_timeout(400)
    exact = dashboard.locator(".cn-control-label", has_text="align: agreement").locator(
        ".cn-exact input").input_value()
    calibrated = load_scenario(ROOT / "scenarios" / "paris_call_2018.yaml").behaviour.state.align
    assert exact == f"{calibrated:g}"  # the calibrated value, not the slider's grid point
    dashboard.wait_for_timeout(500)
    assert dashboard.locator(".cn-change").count() == 0
    assert dashboard.get_by_text("Settings as in the scenario file.").is_visible()
    step(dashboard, 2)
    reset(dashboard)  # (after a step, so that the wait sees the new model)
    step(dashboard, 20)
    wait_for_counts(dashboard, expected_counts(20))
    assert dashboard.errors == []


def test_a_control_changes_the_outcome_after_reset(dashboard):
    step(dashboard, 3)
    wait_for_counts(dashboard, expected_counts(3))
    before = states_signed(dashboard)
    thumb = dashboard.locator(f'[role="slider"][data-control="{BINDINGNESS}"]')
    thumb.focus()
    dashboard.keyboard.press("End")  # bindingness 1: a treaty
    dashboard.get_by_text("Press Reset to run with these settings.").wait_for()
    assert dashboard.get_by_text("paris_call bindingness 1").is_visible()
    assert states_signed(dashboard) == before  # nothing changes before Reset
    reset(dashboard)
    dashboard.get_by_text("Press Reset to run with these settings.").wait_for(state="detached")
    step(dashboard, 3)
    wait_for_counts(dashboard, expected_counts(3, **{BINDINGNESS: 1.0}))
    assert states_signed(dashboard) < before
    dashboard.get_by_text("Back to the file's settings").click()
    dashboard.get_by_text("Settings as in the scenario file.").wait_for()
    assert dashboard.errors == []


# --- the address ------------------------------------------------------------------------------


def test_a_reload_restores_scenario_overrides_and_week(dashboard):
    open_panel(dashboard, "Text of paris_call")
    type_exact(dashboard, "Bindingness", "0.35")
    dashboard.get_by_text("paris_call bindingness 0.35").wait_for()
    reset(dashboard)
    step(dashboard, 6)
    dashboard.wait_for_function("() => location.search.includes('week=6')")
    expected = expected_counts(6, **{BINDINGNESS: 0.35})
    wait_for_counts(dashboard, expected)
    address, shown = dashboard.url, counters(dashboard)
    assert "scenario=paris_call_2018" in address and "set=" in address and len(address) < 200
    dashboard.reload()
    dashboard.locator(".cn-actors-svg").wait_for()
    dashboard.wait_for_function("() => document.querySelector('.v-app-bar .cn-step')"
                                ".innerText.startsWith('Week 6 of')")
    wait_for_counts(dashboard, expected)
    assert counters(dashboard) == shown and dashboard.url == address
    assert dashboard.get_by_text("paris_call bindingness 0.35").is_visible()
    assert dashboard.errors == []


def test_a_shared_address_shows_a_colleague_the_same_counters(open_page):
    mine = open_page()
    step(mine, 9)
    mine.wait_for_function("() => location.search.includes('week=9')")
    address = mine.url.split("/", 3)[3]
    theirs = open_page(DESKTOP, address)  # a second browser context: another session
    theirs.wait_for_function("() => document.querySelector('.v-app-bar .cn-step')"
                             ".innerText.startsWith('Week 9 of')")
    for page in (mine, theirs):
        wait_for_counts(page, expected_counts(9))
    assert counters(theirs) == counters(mine)
    assert mine.errors == [] and theirs.errors == []


# --- the week scrubber, the map, the network, the inspector -----------------------------------


def test_the_week_scrubber_looks_back_without_rerunning(dashboard):
    step(dashboard, 8)
    wait_for_counts(dashboard, expected_counts(8))
    now = counters(dashboard)
    type_exact(dashboard, "Week shown", "2")
    dashboard.get_by_text("Looking back at").wait_for()
    assert week(dashboard).startswith("Week 2 of 170")
    wait_for_counts(dashboard, expected_counts(2))
    assert dashboard.locator(".cn-cursor").count() >= 3  # the week marked on the charts
    dashboard.get_by_role("button", name="Latest").click()
    dashboard.wait_for_function("() => document.querySelector('.v-app-bar .cn-step')"
                                ".innerText.startsWith('Week 8 of')")
    wait_for_counts(dashboard, expected_counts(8))
    assert counters(dashboard) == now
    assert dashboard.errors == []


def test_charts_have_axis_titles_and_mark_the_anniversary_campaign(dashboard):
    chart = dashboard.locator(".cn-signers-card .cn-chart")
    assert chart.locator(".cn-axis-title", has_text="signatories (count)").count() == 3
    assert chart.locator(".cn-axis-title", has_text="date").count() == 3
    assert "anniversary forum" in chart.locator(".cn-mark text").first.text_content()
    assert dashboard.errors == []


def test_the_map_colours_by_bloc_and_by_signing_date(dashboard):
    step(dashboard, 2)
    choose(dashboard, ".cn-colour-by", "bloc")
    dashboard.locator(".cn-legend", has_text="European Union").wait_for()
    assert "China/Russia" in dashboard.locator(".cn-actors .cn-legend").inner_text()
    choose(dashboard, ".cn-colour-by", "first signing date")
    dashboard.locator(".cn-legend", has_text="from Nov 2018").wait_for()
    assert dashboard.errors == []


def test_hovering_and_clicking_an_actor_shows_it_with_plain_numbers(dashboard):
    step(dashboard)
    country = dashboard.locator(".cn-actors-svg path.cn-outline").nth(40)
    country.hover()
    dashboard.locator(".cn-tooltip").wait_for()
    name = dashboard.locator(".cn-tooltip-name").inner_text()
    country.click()
    dashboard.locator(".cn-section", has_text="Why: utility of signing").wait_for()
    dashboard.wait_for_function("n => document.body.innerText.includes(n)", arg=name)
    inspector = dashboard.locator(".cn-inspector")
    assert "-0.000" not in inspector.inner_text() and "e+" not in inspector.inner_text()
    assert "of world GDP" in inspector.inner_text()
    assert "tie-weighted share of signers" in dashboard.locator(
        ".cn-term[data-term='peers']").get_attribute("title")
    assert dashboard.errors == []


def test_the_network_labels_its_largest_states_and_filters(dashboard):
    step(dashboard)
    dashboard.get_by_role("button", name="Network").click()
    dashboard.wait_for_function(
        "() => document.querySelectorAll('.cn-actors-svg path.cn-node').length > 300")
    labels = dashboard.locator(".cn-label").all_text_contents()
    assert {"USA", "CHN", "DEU"} <= set(labels)
    legend = dashboard.locator(".cn-actors .cn-legend").inner_text()
    assert "shown)" in legend
    dashboard.locator(".cn-network-kinds button", has_text="firm").click()
    dashboard.locator(".cn-network-kinds button", has_text="civil").click()
    dashboard.wait_for_function("() => document.querySelectorAll('.cn-dim').length > 300")
    assert dashboard.errors == []


# --- compare and export -----------------------------------------------------------------------


def test_a_comparison_survives_leaving_its_tab_and_exports_three_formats(dashboard):
    dashboard.get_by_role("tab", name="Compare scenarios").click()
    type_exact(dashboard, "Replications (shared seeds)", "2")
    dashboard.get_by_role("button", name="Run comparison").click()
    dashboard.locator(".cn-job-progress").wait_for()
    dashboard.get_by_role("tab", name="Live run").click()  # away while it runs, and back
    dashboard.locator(".cn-actors-svg").wait_for()
    dashboard.get_by_role("tab", name="Compare scenarios").click()
    dashboard.get_by_text("Outcome differences").wait_for(timeout=120_000)
    legend = dashboard.locator(".cn-chart-legend").first.inner_text()
    assert "current settings" in legend and "binding_treaty" in legend
    assert "current settings vs binding_treaty" in dashboard.locator(
        ".cn-chart-heading").first.inner_text()
    assert dashboard.locator(".cn-chart").first.locator("path.cn-band").count() >= 2
    for fmt in ("png", "svg", "pdf"):
        with dashboard.expect_download() as download:
            dashboard.locator(f'button[data-file="compare_paris_call_signatories.{fmt}"]').click()
        assert download.value.suggested_filename == f"compare_paris_call_signatories.{fmt}"
    assert dashboard.errors == []


def test_a_comparison_can_be_cancelled(dashboard):
    dashboard.get_by_role("tab", name="Compare scenarios").click()
    type_exact(dashboard, "Replications (shared seeds)", "40")
    dashboard.get_by_role("button", name="Run comparison").click()
    dashboard.locator(".cn-job-progress", has_text="left").wait_for(timeout=60_000)
    dashboard.get_by_role("button", name="Cancel").click()
    dashboard.get_by_text("Cancelled after").wait_for()
    assert dashboard.errors == []


def test_download_this_run_and_a_figure_with_progress(dashboard):
    step(dashboard, 4)
    dashboard.get_by_role("tab", name="Export").click()
    with dashboard.expect_download() as download:
        dashboard.get_by_role("button", name="Download this run (zip)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    names = {Path(name).name for name in archive.namelist()}
    assert {"steps.parquet", "actors.parquet", "votes.parquet", "metrics.parquet",
            "manifest.json", "scenario.yaml"} <= names
    with dashboard.expect_download() as download:
        dashboard.locator('button[data-file$="world_map.png"]').click()
        dashboard.locator(".cn-progress", has_text="Preparing the world map").wait_for()
    assert download.value.suggested_filename.endswith("_week4_world_map.png")
    assert dashboard.errors == []


# --- the phone --------------------------------------------------------------------------------


def test_a_phone_reaches_the_counters_and_the_map_and_can_open_the_sidebar(open_page):
    phone = open_page(PHONE)
    assert phone.locator(".v-navigation-drawer--open").count() == 0  # closed by default
    kpis = phone.locator(".cn-kpis").bounding_box()
    assert kpis["x"] >= 0 and kpis["x"] + kpis["width"] <= PHONE["width"] + 1
    phone.locator(".cn-actors-svg").scroll_into_view_if_needed()
    card = phone.locator(".cn-map-card").bounding_box()
    assert card["width"] >= PHONE["width"] * 0.9  # the map takes the whole width
    phone.locator(".cn-menu").click()  # the menu opens the sidebar ...
    phone.locator(".v-navigation-drawer--open").wait_for()
    phone.get_by_role("button", name="Step").click()
    phone.wait_for_function("() => document.querySelector('.v-app-bar .cn-step')"
                            ".innerText.startsWith('Week 1')")
    phone.get_by_role("button", name="Close").click()  # ... and it closes
    phone.locator(".v-navigation-drawer--open").wait_for(state="detached")
    assert int(kpi(phone, "States signed")) > 20
    assert phone.errors == [], phone.errors
