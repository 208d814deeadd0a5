"""The dashboard in a real browser: Debian's chromium, driven by Python playwright.

Every test is marked `browser`, which the default run deselects; run them with
``pytest -m browser`` after ``.ci/browser-setup`` (installs chromium and the dashboard's
front-end assets). They start ``python -m sim.dashboard`` (what users run) on a free
port, and block every request that does not go to that server, so they also show that
the page works offline. Each test saves a screenshot in tests/browser/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(__file__).parent / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ENABLE = "run .ci/browser-setup (installs Debian's chromium and the dashboard's assets)"
TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """`python -m sim.dashboard` on a free port; its URL."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}: {ENABLE}")
    from sim.dashboard import assets as dashboard_assets

    missing = dashboard_assets.missing_packages()
    if missing:
        pytest.skip(f"dashboard assets not installed ({', '.join(map(str, missing))}): {ENABLE}")
    port = _free_port()
    log = (SCREENSHOTS / "server.log").open("w") if SCREENSHOTS.is_dir() else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, "-m", "sim.dashboard", "--port", str(port)],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"})
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
def dashboard(server, chromium, request):
    """A fresh page (a fresh model) with outside requests blocked and errors collected."""
    context = chromium.new_context(viewport={"width": 1600, "height": 1250})
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
    page.goto(server)
    page.get_by_role("button", name="Step").wait_for()
    page.locator(".cn-actors-svg").wait_for()
    yield page
    page.wait_for_timeout(600)  # let transitions (tables fading in) finish
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png")
    context.close()


def kpi(page, label: str) -> str:
    return page.locator(".cn-kpi", has_text=label).locator(".cn-kpi-value").inner_text()


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


def test_page_loads_offline_without_console_errors(dashboard):
    assert week(dashboard).startswith("Before the first step")
    assert kpi(dashboard, "States signed") == "0"
    assert dashboard.locator(".cn-actors-svg path.cn-outline").count() > 150
    assert dashboard.locator(".cn-chart svg").count() >= 5
    assert dashboard.errors == [], dashboard.errors
    assert dashboard.blocked == [], f"the page asked for outside resources: {dashboard.blocked}"


def test_step_changes_the_counts_and_the_date(dashboard, record_property):
    started = time.perf_counter()
    step(dashboard)
    dashboard.wait_for_function("() => document.querySelector('.cn-kpi-value').innerText "
                                "!== '0'")
    first_step = time.perf_counter() - started
    assert week(dashboard) == "Week 1 of 170 · 12 Nov 2018"
    launched = states_signed(dashboard)
    assert launched > 20
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        step(dashboard)
        timings.append(time.perf_counter() - started)
    assert week(dashboard).startswith("Week 4 of 170")
    signed = dashboard.locator(".cn-legend", has_text="signed").first.inner_text()
    assert f"signed {states_signed(dashboard)}" in signed.replace("\n", " ")
    dashboard.get_by_role("button", name="▶").click()  # play ...
    dashboard.wait_for_function(
        "() => /Week ([89]|\\d\\d+) /.test(document.querySelector('.v-app-bar .cn-step')"
        ".innerText)")
    dashboard.get_by_role("button", name="❚❚").click()  # ... and pause
    dashboard.wait_for_timeout(500)  # a step already under way still shows
    paused = week(dashboard)
    dashboard.wait_for_timeout(800)
    assert week(dashboard) == paused
    record_property("browser_step_seconds", round(sorted(timings)[1], 3))
    print(f"\nbrowser: a step shows in {sorted(timings)[1]:.3f} s (median of 3; "
          f"first, with the launch round, {first_step:.3f} s)")
    assert dashboard.errors == []


def test_a_control_changes_the_outcome_after_reset(dashboard):
    step(dashboard, 3)
    before = states_signed(dashboard)
    thumb = dashboard.locator('[role="slider"][data-control="proposals.paris_call.bindingness"]')
    thumb.focus()
    dashboard.keyboard.press("End")  # bindingness 1: a treaty
    dashboard.get_by_text("Press Reset to run with these settings.").wait_for()
    assert dashboard.get_by_text("paris_call bindingness 1").is_visible()
    assert states_signed(dashboard) == before  # nothing changes before Reset
    reset(dashboard)
    dashboard.get_by_text("Press Reset to run with these settings.").wait_for(state="detached")
    assert kpi(dashboard, "States signed") == "0"
    step(dashboard, 3)
    assert states_signed(dashboard) < before
    dashboard.get_by_text("Firms", exact=True).click()  # who may sign: no longer firms
    reset(dashboard)
    step(dashboard)
    assert kpi(dashboard, "Firms signed") == "-"
    assert dashboard.errors == []


def test_hovering_and_clicking_an_actor_shows_it(dashboard):
    step(dashboard)
    country = dashboard.locator(".cn-actors-svg path.cn-outline").nth(40)
    country.hover()
    dashboard.locator(".cn-tooltip").wait_for()
    name = dashboard.locator(".cn-tooltip-name").inner_text()
    country.click()
    dashboard.locator(".cn-section", has_text="Why: utility of signing").wait_for()
    dashboard.wait_for_function("n => document.body.innerText.includes(n)", arg=name)
    dashboard.get_by_role("button", name="Network").click()
    # the network: states and a sample of firms and organisations (the map has 38 circles)
    dashboard.wait_for_function(
        "() => document.querySelectorAll('.cn-actors-svg path.cn-node').length > 300")
    assert dashboard.errors == []


def test_compare_mode_draws_both_scenarios(dashboard):
    dashboard.get_by_role("tab", name="Compare scenarios").click()
    dashboard.locator('[role="slider"][data-control="Replications (shared seeds)"]').focus()
    dashboard.keyboard.press("Home")  # 2 replications
    dashboard.get_by_role("button", name="Run comparison").click()
    dashboard.get_by_text("Outcome differences").wait_for(timeout=120_000)
    legend = dashboard.locator(".cn-chart-legend").first.inner_text()
    assert "current settings" in legend and "binding_treaty" in legend
    assert dashboard.locator(".cn-chart").first.locator("path.cn-band").count() >= 2
    assert dashboard.locator("table").last.inner_text().count("signatories") == 3
    assert dashboard.errors == []
