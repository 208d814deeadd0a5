"""The dashboard without a browser: controls, Reset, stepping, map, compare, assets, CLI.

The page is rendered with solara's test renderer (`solara.render`), which builds the
widgets in Python and lets tests click and set them; tests/test_browser.py checks what
a real browser shows. Helpers (controls, map, network, compare, asset installer) are
tested directly, without network access.
"""

from __future__ import annotations

import argparse
import io
import json
import tarfile
import time
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara

from sim.dashboard import app, controls
from sim.dashboard import assets as dashboard_assets
from sim.dashboard import server as dashboard
from sim.dashboard.compare import compare, outcome_differences
from sim.dashboard.figures import (
    SIGNED,
    chart_figure,
    coverage_chart,
    date_label,
    figure_bytes,
    signers_chart,
    status_codes,
)
from sim.dashboard.network_view import network_figure, network_view
from sim.dashboard.worldmap import map_figure, map_layout, path_polygons
from sim.model import NormDiplomacyModel
from sim.studies.comparison import mean_interval
from tests.conftest import TINY

BASELINE = "paris_call_2018"
BINDINGNESS = "proposals.paris_call.bindingness"


def render(model: NormDiplomacyModel):
    """The dashboard around `model` (in the app layout, so the sidebar is rendered too)."""
    reactive = solara.reactive(model)
    _, rc = solara.render(solara.AppLayout(children=[app.Dashboard(reactive)]),
                          handle_error=False)
    return reactive, rc


def kpis(rc) -> dict[str, str]:
    labels = [w.children[0] for w in rc.find(v.Html, class_="cn-kpi-label").widgets]
    values = [w.children[0] for w in rc.find(v.Html, class_="cn-kpi-value").widgets]
    return dict(zip(labels, values, strict=True))


def click(rc, label: str) -> None:
    """Click the one button showing `label` (beside an icon, if it has one)."""
    (button,) = [w for w in rc.find(v.Btn).widgets if label in w.children]
    button.click()


def slider(rc, control: str):
    return rc.find(v.Slider, attributes={"data-control": control}).widget


def actor_views(rc) -> list:
    """The map or network widgets (sim/dashboard/svg.vue) on the page."""
    return [w for w in rc.find(v.VuetifyTemplate).widgets if hasattr(w, "geometry_json")]


def texts(rc) -> str:
    return " ".join(str(w.children) for w in rc.find(v.Html).widgets)


# --- the page ---------------------------------------------------------------------------


def test_step_advances_the_model_the_date_and_the_counts(record_property):
    reactive, rc = render(NormDiplomacyModel(BASELINE))
    assert kpis(rc)["States signed"] == "0"
    assert "Before the first step" in texts(rc)
    click(rc, "Step")  # the launch round: the pre-negotiated signatures
    timings = []
    for _ in range(4):
        started = time.perf_counter()
        click(rc, "Step")
        timings.append(time.perf_counter() - started)
    model = reactive.value
    assert model.steps == 5
    states = int(model.world.signed[model.world.slices["state"], 0].sum())
    assert states > 20 and kpis(rc)["States signed"] == str(states)
    assert f"Week 5 of {model.last_step} · {date_label(model.date)}" in texts(rc)
    # responsiveness: the Python side of one step with the baseline (model step, charts,
    # map, inspector and the widget updates); reported, not asserted
    record_property("step_render_seconds", round(float(np.median(timings)), 3))
    print(f"\nbaseline step renders in {np.median(timings):.3f} s (median of 4)")


def test_a_control_takes_effect_when_reset_rebuilds_the_model():
    reactive, rc = render(NormDiplomacyModel(BASELINE))
    first = reactive.value
    slider(rc, BINDINGNESS).v_model = 0.8
    assert reactive.value is first  # nothing changes until Reset
    rc.find(v.Alert, children=["Press Reset to run with these settings."]).assert_single()
    rc.find(v.Chip, children=["paris_call bindingness 0.8"]).assert_single()
    click(rc, "Reset")
    model = reactive.value
    assert model is not first and model.steps == 0
    assert model.spec.proposals["paris_call"].bindingness == 0.8
    assert model.spec.metadata.name == BASELINE and model.seed == first.seed
    rc.find(v.Alert, children=["Press Reset to run with these settings."]).assert_empty()
    for _ in range(3):
        click(rc, "Step")
    binding = int(kpis(rc)["States signed"])
    baseline = NormDiplomacyModel(BASELINE)
    same = NormDiplomacyModel(BASELINE, rng=first.seed, **{BINDINGNESS: 0.8})
    for _ in range(3):
        baseline.step()
        same.step()
    assert binding == int(same.world.signed[same.world.slices["state"], 0].sum())
    assert binding < int(baseline.world.signed[baseline.world.slices["state"], 0].sum())
    # a second Reset keeps the scenario and the setting (Mesa rebuilds from the controls)
    click(rc, "Reset")
    assert reactive.value.spec.proposals["paris_call"].bindingness == 0.8


def test_inclusiveness_seed_and_steps_reach_the_model():
    reactive, rc = render(NormDiplomacyModel(BASELINE))
    rc.find(v.Checkbox, label="Firms").widget.v_model = False
    rc.find(v.ExpansionPanels).widget.v_model = [0, 3]  # open "Run length and seed"
    slider(rc, "metadata.steps").v_model = 20
    rc.find(v.TextField, label="Seed").widget.v_model = "7"
    click(rc, "Reset")
    model = reactive.value
    assert model.spec.proposals["paris_call"].open_to == ["state", "civil"]
    assert model.seed == 7 and model.last_step == 20
    click(rc, "Step")
    assert kpis(rc)["Firms signed"] == "-"


def test_an_invalid_setting_is_refused_with_the_reason():
    reactive, rc = render(NormDiplomacyModel(BASELINE))
    rc.find(v.Checkbox, label="States").widget.v_model = False  # the sponsor is a state
    message = rc.find(v.Alert, type="error").widget.children[0]
    assert "sponsor" in message
    click(rc, "Reset")
    assert "state" in reactive.value.spec.proposals["paris_call"].open_to


def test_picking_a_scenario_opens_it_with_its_description():
    reactive, rc = render(NormDiplomacyModel(BASELINE))
    rc.find(v.Select, label="Scenario").widget.v_model = "states_only"
    assert reactive.value.spec.metadata.name == "states_only"
    assert reactive.value.spec.metadata.description in texts(rc)
    assert kpis(rc)["Firms signed"] == "-"


def test_map_shows_every_state_and_a_click_opens_the_inspector():
    reactive, rc = render(NormDiplomacyModel(BASELINE))
    (map_widget,) = actor_views(rc)
    geometry = json.loads(map_widget.geometry_json)
    world = reactive.value.world
    rows = {shape["row"] for shape in geometry["shapes"]}
    assert rows == set(range(world.n_states))
    usa = world.index_of["USA"]
    map_widget.vue_select(usa)
    assert "United States" in texts(rc) and "Why: utility of signing" in texts(rc)


# --- helpers of the page ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def stepped():
    model = NormDiplomacyModel(BASELINE)
    for _ in range(12):
        model.step()
    return model


def test_world_map_draws_all_193_states(stepped):
    layout = map_layout(stepped.world)
    assert stepped.world.n_states == 193
    assert layout.rows == set(range(193))
    x, y, width, height = (float(v) for v in layout.view_box.split())
    for mx, my in layout.markers.values():
        assert x <= mx <= x + width and y <= my <= y + height
    iso3 = {stepped.world.ids[row] for row in layout.markers}
    assert {"QAT", "SSD", "TUV", "BRB"} <= iso3  # not in the outline set
    assert not set(layout.outlines) & {stepped.world.index_of[c] for c in ("QAT", "SSD")}


def test_svg_paths_become_polygons():
    (square,) = path_polygons("m10 10 l5 0 0 5 h-5 v-5z")
    np.testing.assert_allclose(square, [[10, 10], [15, 10], [15, 15], [10, 15], [10, 10]])
    (curve,) = path_polygons("M0 0c1 1 2 2 3 3s1 1 2 2L0 5")
    np.testing.assert_allclose(curve, [[0, 0], [3, 3], [5, 5], [0, 5]])


def test_network_view_holds_states_and_a_sample_and_is_computed_once(stepped):
    view = network_view(stepped.world)
    assert network_view(stepped.world) is view
    world = stepped.world
    assert set(range(world.n_states)) <= set(view.rows.tolist())
    assert view.shown["firm"][0] < view.shown["firm"][1]
    assert len(view.ties) and view.edges_path().startswith("M")


def test_status_codes_follow_the_world(stepped):
    codes = status_codes(stepped.world, 0)
    assert (codes == SIGNED).sum() == stepped.world.signed[:, 0].sum()


def test_figures_export_as_png_and_svg(stepped):
    steps = stepped.history.table()
    totals = {k: s.stop - s.start for k, s in stepped.world.slices.items()}
    for figure in (chart_figure(signers_chart(steps, stepped.spec, totals), stepped.spec),
                   chart_figure(coverage_chart(steps, stepped.spec), stepped.spec),
                   map_figure(stepped.world, 0, "map"), network_figure(stepped.world, 0)):
        assert figure_bytes(figure, "png").startswith(b"\x89PNG")
        assert b"<svg" in figure_bytes(figure, "svg")[:2000]


def test_chart_describes_what_the_model_recorded(stepped):
    steps = stepped.history.table()
    chart = coverage_chart(steps, stepped.spec)
    (line,) = chart["panels"][0]["lines"]
    assert line["x"] == list(range(1, 13))
    assert line["y"][-1] == pytest.approx(steps["share_states"].iloc[-1], abs=1e-4)
    assert chart["panels"][0]["hline"]["y"] == pytest.approx(1 / 3)


# --- controls -> overrides ---------------------------------------------------------------


def test_overrides_hold_only_what_differs_from_the_file():
    base = controls.file_spec(BASELINE)
    changed = controls.changed(base, {}, BINDINGNESS, 0.5)
    assert changed == {BINDINGNESS: 0.5}
    assert controls.changed(base, changed, BINDINGNESS, base.proposals["paris_call"]
                            .bindingness) == {}
    params = controls.model_parameters(controls.source_of(base), None, changed)
    model = NormDiplomacyModel(**{"scenario": controls.source_of(base), **{
        k: v for k, v in params.items() if k != "source"}})
    assert model.spec.proposals["paris_call"].bindingness == 0.5


def test_scope_and_targets_round_trip():
    base = controls.file_spec(BASELINE)
    covered = controls.scope(base, "paris_call")
    content = controls.content_for(base, "paris_call", [*covered[:2], "offensive_restraint"])
    assert content["offensive_restraint"] == controls.NEW_DIMENSION_STRENGTH
    assert content[covered[0]] == base.proposals["paris_call"].content[covered[0]]
    campaign = next(iter(base.proposals["paris_call"].outreach))
    n = len(base.proposals["paris_call"].outreach[campaign].targets)
    targets = controls.campaign_targets(base, "paris_call", campaign, [2.0] * n, ["non_aligned"])
    spec, problem = controls.validate(controls.source_of(base), {
        f"proposals.paris_call.outreach.{campaign}.targets": targets})
    assert problem is None
    weights, extra = controls.target_weights(spec, base, "paris_call", campaign)
    assert weights == [2.0] * n and extra == ["non_aligned"]
    assert controls.describe_target({"kind": ["state"], "member_of": ["francophonie"]}) == \
        "states in francophonie"
    assert controls.describe_target({}) == "everyone"


def test_an_invalid_override_is_explained():
    spec, problem = controls.validate(controls.initial_source(), {
        "proposals.paris_call.open_to": ["firm"]})
    assert spec is None and "sponsor" in problem


# --- compare mode ------------------------------------------------------------------------------


def test_paired_differences_and_their_interval():
    mean, low, high = mean_interval(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0 and low == pytest.approx(2 - 4.302653 / np.sqrt(3), rel=1e-5)
    assert np.isnan(mean_interval(np.array([1.0]))[1])

    def steps(values):
        return pd.DataFrame({"replicate": [0, 0, 1, 1], "step": [1, 2, 1, 2],
                             "proposal": "p", "signers_state": values,
                             "signers_firm": 0, "signers_civil": 0,
                             "share_states": 0.0, "share_gdp": 0.0})

    table = outcome_differences(steps([0, 10, 0, 20]), steps([0, 12, 0, 24]))
    row = table.set_index("outcome").loc["state signatories"]
    assert (row["mean_a"], row["mean_b"], row["difference"], row["pairs"]) == (15, 18, 3, 2)


def test_compare_runs_both_scenarios_on_the_same_seeds():
    spec = controls.file_spec(str(TINY))
    done = []
    result = compare(spec, spec, reps=2, root_seed=3, progress=done.append)
    assert done[-1] == 1.0 and len(result.seeds) == 2
    first, second = result.steps.values()
    pd.testing.assert_frame_equal(first, second)  # same scenario, same seeds: same runs
    assert (result.differences["difference"] == 0).all()
    assert result.labels == ("A: tiny", "B: tiny")


def test_compare_view_runs_from_the_page():
    reactive, rc = render(NormDiplomacyModel(BASELINE))
    rc.find(v.Tabs).widget.v_model = 2  # "Compare scenarios"
    rc.find(v.Select, label="Scenario B").widget.v_model = "states_only"
    slider(rc, "Replications (shared seeds)").v_model = 2
    click(rc, "Run comparison")
    deadline = time.time() + 60
    while "paired over 2 shared seeds" not in texts(rc) and time.time() < deadline:
        time.sleep(0.2)
    assert "paired over 2 shared seeds" in texts(rc)


# --- offline assets and the command line ---------------------------------------------------------


TEMPLATE = """
<link href="{{cdn}}/@widgetti/solara-vuetify-app@10.1.1/dist/main{{v}}.css" rel="stylesheet">
<script src="{{ cdn }}/requirejs@2.3.6/require.js"></script>
const a = `${this.getCdn()}/@widgetti/vue-grid-layout@2.3.13-alpha.2/dist/x.umd.js`;
'vega': `${this.getCdn()}/vega@5/build/vega.min.js`,
"""


def test_asset_packages_are_read_from_solara_templates():
    found = dashboard_assets.cdn_references(TEMPLATE)
    assert {str(p) for p in found} == {"@widgetti/solara-vuetify-app@10.1.1",
                                       "requirejs@2.3.6",
                                       "@widgetti/vue-grid-layout@2.3.13-alpha.2"}
    assert {str(p) for p in dashboard_assets.cdn_references(
        "/font-awesome@4.5.0/css/font-awesome.min.css")} == {"font-awesome@4.5.0"}
    installed = {p.name for p in dashboard_assets.required_packages()}
    assert {"@widgetti/solara-vuetify-app", "requirejs", "font-awesome"} <= installed
    assert "vega" not in installed  # a version range: left to the proxy


def _tarball(path: Path, name: str) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for member, data in (("package/package.json", json.dumps({"name": name})),
                             ("package/dist/main.js", "// js")):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data.encode()))
    return path


def test_installer_unpacks_where_the_proxy_looks_and_detects_it(tmp_path):
    package = dashboard_assets.Package("@scope/thing", "1.2.3")
    cdn = tmp_path / "cdn"
    assert dashboard_assets.missing_packages(cdn, [package]) == [package]
    (cdn / "@scope" / "thing@1.2.3" / "dist").mkdir(parents=True)  # what the proxy caches
    assert dashboard_assets.missing_packages(cdn, [package]) == [package]
    dashboard_assets.unpack(_tarball(tmp_path / "t.tgz", "thing"), cdn / str(package))
    assert (cdn / "@scope" / "thing@1.2.3" / "dist" / "main.js").is_file()
    assert dashboard_assets.missing_packages(cdn, [package]) == []


def test_install_fetches_only_what_is_missing(tmp_path, monkeypatch):
    fetched = []

    def fake_pack(package, directory, npm="npm"):
        fetched.append(str(package))
        return _tarball(directory / "p.tgz", package.name)

    monkeypatch.setattr(dashboard_assets, "npm_pack", fake_pack)
    monkeypatch.setattr(dashboard_assets.shutil, "which", lambda name: f"/bin/{name}")
    packages = [dashboard_assets.Package("a", "1.0.0"), dashboard_assets.Package("b", "2.0.0")]
    logged = []
    assert dashboard_assets.install(packages, tmp_path, log=logged.append) == packages
    assert dashboard_assets.install(packages, tmp_path, log=logged.append) == []
    assert fetched == ["a@1.0.0", "b@2.0.0"] and len(logged) == 2


def test_dashboard_command_says_how_to_install_missing_assets(tmp_path, monkeypatch, capsys):
    parser = dashboard.configure_parser(argparse.ArgumentParser())
    args = parser.parse_args([])
    assert (args.host, args.scenario, args.install_assets) == ("127.0.0.1", None, False)
    monkeypatch.setattr(dashboard, "_prepare_environment", lambda scenario: None)
    monkeypatch.setattr(dashboard_assets, "cache_dir", lambda: tmp_path)
    assert dashboard.main(parser.parse_args(["--check-assets"])) == 1
    assert dashboard.INSTALL_COMMAND in capsys.readouterr().out
    monkeypatch.setattr(dashboard_assets, "cdn_reachable", lambda timeout=3.0: False)
    assert dashboard.main(parser.parse_args([])) == 1  # offline: no blank page served
    assert dashboard.INSTALL_COMMAND in capsys.readouterr().err
    for package in dashboard_assets.required_packages():
        (tmp_path / str(package)).mkdir(parents=True)
        (tmp_path / str(package) / "package.json").write_text("{}")
    assert dashboard.main(parser.parse_args(["--check-assets"])) == 0
    assert dashboard.cli(["no_such_scenario"]) == 2


def test_a_scenario_file_outside_the_library_opens_and_is_listed():
    reactive, rc = render(NormDiplomacyModel(TINY))
    picker = rc.find(v.Select, label="Scenario").widget
    assert picker.v_model == str(TINY.resolve()) and "paris_call_2018" in picker.items
    click(rc, "Step")
    assert reactive.value.steps == 1
    (map_widget,) = actor_views(rc)
    assert "not on the map: Avalon" in map_widget.note  # invented states: listed instead
