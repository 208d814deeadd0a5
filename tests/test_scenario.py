"""Scenario files: parsing, extends/overrides, and every error path of sim.scenario,
sim.scenario.references and sim.data.roster (each error names file, dotted field, bad value and
expectation), plus the JSON Schema, round trips and timeline properties."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import limits
from sim.data.roster import FORBIDDEN_HINTS, load_states
from sim.errors import InputError
from sim.scenario.loading import (
    find_scenario,
    load_scenario,
    parse_assignment,
    set_path,
    shipped_scenarios,
    with_overrides,
)
from sim.scenario.schema import scenario_json_schema
from sim.scenario.spec import (
    KINDS,
    TERMS,
    KindBehaviour,
    Metadata,
    Proposal,
    ScenarioSpec,
    Selector,
)
from sim.scenario.timeline import Timeline

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
BAD = DATA / "bad"
TINY = DATA / "tiny.yaml"
BASELINE = ROOT / "scenarios" / "paris_call_2018.yaml"
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
PACKAGED = ROOT / "sim" / "data"

#: tiny.yaml as plain data, loaded once (load_scenario copies what it is given)
TINY_DATA = yaml.safe_load(TINY.read_text(encoding="utf-8"))


# --- helpers ---------------------------------------------------------------------------


def error_of(source, overrides=None, **kwargs) -> InputError:
    """The InputError that loading `source` raises (fails the test if none is raised)."""
    with pytest.raises(InputError) as info:
        load_scenario(source, overrides, **kwargs)
    return info.value


def only_problem(error: InputError):
    assert len(error.problems) == 1, str(error)
    return error.problems[0]


def write_yaml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def extends_baseline(path: Path, body: dict) -> Path:
    """Write a child of the baseline at `path`, with a relative `extends`."""
    return write_yaml(path, {"extends": os.path.relpath(BASELINE, path.parent), **body})


def same_file(reported: str, path: Path) -> bool:
    """Whether an error's file (printed relative to the cwd when inside it) is `path`."""
    return Path(reported).resolve() == Path(path).resolve()


def dig(data, dotted: str):
    for key in dotted.split("."):
        data = data[int(key)] if isinstance(data, list) else data[key]
    return data


def allowed_keys(model) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """A private copy of tiny.yaml and its two CSV tables."""
    for name in ("tiny.yaml", "tiny_states.csv", "tiny_firms.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


# --- loading the shipped and test scenarios --------------------------------------------


def test_baseline_loads_with_its_launch_at_step_one():
    """The Paris Call baseline is valid: 170 weekly steps from 2018-11-12, launch = step 1."""
    spec = load_scenario(BASELINE)
    assert spec.metadata.name == "paris_call_2018"
    assert (spec.metadata.start, spec.metadata.unit, spec.metadata.steps) == (
        dt.date(2018, 11, 12), "week", 170)
    assert list(spec.proposals) == ["paris_call"]
    call = spec.proposals["paris_call"]
    assert call.sponsor == "FRA"
    assert call.federates == ["tech_accord", "charter_of_trust"]
    assert spec.step_of(call.launch) == 1
    assert spec.timeline.date_of_step(170) == dt.date(2022, 2, 7)
    assert spec.source.endswith("paris_call_2018.yaml")
    assert spec.base_dir == BASELINE.parent


def test_tiny_loads_with_dates_and_steps_mixed():
    """tiny.yaml mixes dates and step numbers; both stay as written and map to steps."""
    spec = load_scenario(TINY)
    assert spec.metadata.name == "tiny"
    assert spec.report.checkpoints == [dt.date(2020, 1, 6), 5]
    assert [spec.step_of(c) for c in spec.report.checkpoints] == [1, 5]
    assert spec.proposals["call"].launch == 1
    assert spec.proposals["code"].launch == dt.date(2020, 2, 3)
    assert spec.step_of(spec.proposals["code"].launch) == 5
    assert spec.step_of(spec.proposals["code"].un_vote.at) == 9
    assert spec.step_of(spec.events["warming"].at) == 7
    assert spec.proposals["code"].open_to == ["state"]
    assert spec.proposals["call"].open_to == list(KINDS)  # the default


def test_baseline_runs_past_the_us_and_benin_joining():
    """DESIGN: 170 weekly steps from 2018-11-12 (the last one starts 2022-02-07), past the
    US joining (Nov 2021) and Benin (Jan 2022); every checkpoint lies inside the run."""
    spec = load_scenario(BASELINE)
    assert spec.metadata.steps == 170 and spec.metadata.unit == "week"
    assert spec.timeline.date_of_step(spec.metadata.steps) == dt.date(2022, 2, 7)
    assert spec.timeline.date_of_step(spec.metadata.steps) > dt.date(2022, 1, 31)
    assert all(spec.step_of(c) <= spec.metadata.steps for c in spec.report.checkpoints)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_loads(path):
    """Each file in scenarios/ validates, including its cross-references."""
    spec = load_scenario(path)
    assert spec.metadata.name == path.stem
    assert spec.proposals


def test_find_scenario_resolves_names_and_suggests_close_ones():
    """A bare shipped name resolves to its file; a near miss suggests the real name."""
    assert "paris_call_2018" in shipped_scenarios()
    assert find_scenario("paris_call_2018") == BASELINE
    assert find_scenario(TINY) == TINY
    error = pytest.raises(InputError, find_scenario, "paris_call_2019").value
    assert "did you mean 'paris_call_2018'?" in str(error)
    assert error.problems[0].file == "paris_call_2019"


# --- time fields: dates and steps -------------------------------------------------------

TIME_FIELDS = {
    "proposals.call.launch": lambda s: s.proposals["call"].launch,
    "proposals.code.un_vote.at": lambda s: s.proposals["code"].un_vote.at,
    "events.warming.at": lambda s: s.events["warming"].at,
    "proposals.call.outreach.push.start": lambda s: s.proposals["call"].outreach["push"].start,
    "proposals.call.outreach.push.end": lambda s: s.proposals["call"].outreach["push"].end,
    "report.checkpoints.1": lambda s: s.report.checkpoints[1],
}


@pytest.mark.parametrize("field", TIME_FIELDS)
@pytest.mark.parametrize("written", ["2020-02-03", dt.date(2020, 2, 3),
                                     dt.datetime(2020, 2, 3, 12, 30)], ids=["iso", "date", "dt"])
def test_time_field_accepts_a_date(field, written):
    """Every time field takes a date (ISO string, date or datetime) and maps it to a step."""
    spec = load_scenario(TINY, {field: written})
    value = TIME_FIELDS[field](spec)
    assert value == dt.date(2020, 2, 3)
    assert spec.step_of(value) == 5


@pytest.mark.parametrize("field", TIME_FIELDS)
def test_time_field_accepts_a_step_number(field):
    """Every time field takes a step number >= 1 as is."""
    spec = load_scenario(TINY, {field: 4})
    assert TIME_FIELDS[field](spec) == 4
    assert spec.step_of(4) == 4


@pytest.mark.parametrize("field", TIME_FIELDS)
@pytest.mark.parametrize("bad", [0, -3, "2020-02-30", "next tuesday", True, 2.5])
def test_time_field_rejects_bad_steps_and_dates(field, bad):
    """Step 0, negative steps, impossible dates, words, booleans and floats are errors
    naming the field and the bad value."""
    error = error_of(TINY, {field: bad})
    found = only_problem(error)
    assert found.field == field
    assert found.value == bad and type(found.value) is type(bad)
    assert found.file == f"override {field}"
    assert "date (YYYY-MM-DD) or a step number >= 1" in found.expected
    assert field in str(error) and repr(bad) in str(error)


def test_metadata_start_must_be_a_real_date():
    """metadata.start is a calendar date; an impossible one names the field."""
    found = only_problem(error_of(TINY, {"metadata.start": "2020-02-30"}))
    assert (found.field, found.value) == ("metadata.start", "2020-02-30")


def test_time_error_message_is_not_doubled():
    """The message of a bad time says 'expected' once."""
    error = error_of(TINY, {"proposals.call.launch": 0})
    assert "expected expected" not in str(error)


# --- extends: deep merge ----------------------------------------------------------------


def test_extends_child_overrides_one_nested_value_and_keeps_the_rest(tmp_path):
    """A few-line child changes exactly one nested value; everything else is the base's."""
    child = extends_baseline(tmp_path / "child.yaml",
                             {"proposals": {"paris_call": {"bindingness": 0.5}}})
    base, spec = load_scenario(BASELINE), load_scenario(child)
    assert spec.proposals["paris_call"].bindingness == 0.5
    expected = base.to_dict()
    expected["proposals"]["paris_call"]["bindingness"] = 0.5
    assert spec.to_dict() == expected
    assert spec.digest() != base.digest()
    assert spec.source.endswith("child.yaml")


def test_extends_lists_replace_rather_than_merge(tmp_path):
    """A list in the child replaces the base's list; sibling keys of the mapping stay."""
    child = extends_baseline(tmp_path / "child.yaml", {
        "report": {"swing_states": ["IND"]},
        "proposals": {"paris_call": {"federates": ["tech_accord"]}},
    })
    base, spec = load_scenario(BASELINE), load_scenario(child)
    assert spec.report.swing_states == ["IND"]
    assert spec.report.checkpoints == base.report.checkpoints
    assert spec.proposals["paris_call"].federates == ["tech_accord"]
    assert spec.proposals["paris_call"].content == base.proposals["paris_call"].content


def test_extends_null_deletes_a_key(tmp_path):
    """`null` in the child removes the base's key, so the field's default applies."""
    child = extends_baseline(tmp_path / "child.yaml", {
        "blocs": {"non_aligned": None},
        "proposals": {"paris_call": {"sponsor": None, "outreach": None}},
    })
    spec = load_scenario(child)
    assert list(spec.blocs) == ["eu", "eu_candidates", "us_led", "china_russia"]
    assert spec.proposals["paris_call"].sponsor is None
    assert spec.proposals["paris_call"].outreach == {}


def test_extends_null_on_a_required_key_is_reported_against_the_child(tmp_path):
    """Deleting a required field with null is an error naming the child file."""
    child = extends_baseline(tmp_path / "child.yaml", {"metadata": {"name": None}})
    found = only_problem(error_of(child))
    assert found.field == "metadata.name"
    assert Path(found.file).name == "child.yaml"
    assert "required" in found.expected


def test_extends_path_is_relative_to_the_child_file_not_the_cwd(tmp_path, monkeypatch):
    """`extends: ../base.yaml` resolves against the child's directory, whatever the cwd;
    a chain of three files merges all three."""
    extends_baseline(tmp_path / "a" / "base.yaml", {"metadata": {"steps": 50}})
    child = write_yaml(tmp_path / "a" / "b" / "child.yaml", {
        "extends": "../base.yaml",
        "metadata": {"name": "grandchild"},
    })
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    spec = load_scenario(child)
    assert spec.metadata.name == "grandchild"  # from the child
    assert spec.metadata.steps == 50  # from the middle file
    assert spec.metadata.start == dt.date(2018, 11, 12)  # from the baseline


def test_extends_cycle_is_an_error_naming_the_files():
    """a extends b extends a: one error naming both files and the extends field."""
    error = error_of(BAD / "cycle_a.yaml")
    found = only_problem(error)
    assert found.field == "extends"
    assert found.value == "cycle_a.yaml -> cycle_b.yaml -> cycle_a.yaml"
    assert "cycle" in found.expected
    assert "cycle_a.yaml" in str(error) and "cycle_b.yaml" in str(error)


def test_extends_itself_is_a_cycle(tmp_path):
    """A file extending itself is reported as a cycle, not a recursion error."""
    path = write_yaml(tmp_path / "self.yaml", {"extends": "self.yaml"})
    found = only_problem(error_of(path))
    assert (found.field, found.value) == ("extends", "self.yaml -> self.yaml")


def test_extends_missing_base_file_is_an_error_naming_it():
    """A base that does not exist is named in the error, at the `extends:` line of the
    file that names it, with the path it was looked for at."""
    found = only_problem(error_of(BAD / "missing_base.yaml"))
    assert same_file(found.file, BAD / "missing_base.yaml")
    assert (found.field, found.value) == ("extends", "no_such_base.yaml")
    assert "existing scenario file" in found.expected
    assert str(BAD / "no_such_base.yaml") in found.expected


def test_extends_must_be_a_file_name(tmp_path):
    """`extends: 5` is an error on the extends field."""
    path = write_yaml(tmp_path / "x.yaml", {"extends": 5})
    found = only_problem(error_of(path))
    assert (found.field, found.value) == ("extends", 5)


def test_extends_base_data_paths_resolve_against_the_base_file(tiny_dir):
    """A child in another folder can extend tiny.yaml, whose tables sit beside tiny.yaml."""
    child = write_yaml(tiny_dir / "kids" / "child.yaml", {
        "extends": "../tiny.yaml",
        "proposals": {"call": {"bindingness": 0.5}},
    })
    assert load_scenario(child).proposals["call"].bindingness == 0.5


def test_child_data_paths_resolve_against_the_child_file(tiny_dir):
    """Table paths written in the child itself resolve against the child's folder."""
    child = write_yaml(tiny_dir / "kids" / "child.yaml", {
        "extends": "../tiny.yaml",
        "world": {"states": {"roster": "../tiny_states.csv"},
                  "firms": {"named": "../tiny_firms.csv"}},
    })
    spec = load_scenario(child)
    assert spec.base_dir == tiny_dir / "kids"
    assert spec.proposals["call"].sponsor == "AAA"


# --- provenance: which file set the bad value ------------------------------------------


def test_bad_value_in_child_is_reported_against_the_child(tiny_dir):
    """A bad value written in the child names the child, the field and the value."""
    child = write_yaml(tiny_dir / "child.yaml", {
        "extends": "tiny.yaml", "proposals": {"call": {"bindingness": 1.7}}})
    error = error_of(child)
    found = only_problem(error)
    assert same_file(found.file, child)
    assert (found.field, found.value) == ("proposals.call.bindingness", 1.7)
    assert str(error).startswith(f"{found.file}: proposals.call.bindingness: got 1.7; expected ")


def test_bad_value_inherited_from_base_is_reported_against_the_base(tiny_dir):
    """A bad value the child merely inherits names the base file, not the child."""
    text = (tiny_dir / "tiny.yaml").read_text()
    assert text.count("bindingness: 0.1\n") == 1
    (tiny_dir / "base.yaml").write_text(text.replace("bindingness: 0.1\n", "bindingness: 1.7\n"))
    child = write_yaml(tiny_dir / "child.yaml", {
        "extends": "base.yaml", "proposals": {"call": {"label": "relabelled"}}})
    found = only_problem(error_of(child))
    assert same_file(found.file, tiny_dir / "base.yaml")
    assert (found.field, found.value) == ("proposals.call.bindingness", 1.7)


def test_bad_value_from_override_is_reported_against_the_override(tiny_dir):
    """A bad value given as an override names "override <path>", not the files."""
    child = write_yaml(tiny_dir / "child.yaml", {
        "extends": "tiny.yaml", "proposals": {"call": {"label": "relabelled"}}})
    found = only_problem(error_of(child, {"proposals.call.bindingness": 1.7}))
    assert found.file == "override proposals.call.bindingness"
    assert found.field == "proposals.call.bindingness"


def test_bad_reference_provenance_child_base_and_override(tiny_dir):
    """Cross-reference errors carry provenance too: child, inherited base, override."""
    child = write_yaml(tiny_dir / "child.yaml", {
        "extends": "tiny.yaml", "blocs": {"west": {"leaders": ["ZZZ"]}}})
    found = only_problem(error_of(child))
    assert same_file(found.file, child)
    assert (found.field, found.value) == ("blocs.west.leaders.0", "ZZZ")

    text = (tiny_dir / "tiny.yaml").read_text().replace("leaders: [FFF]", "leaders: [ZZZ]")
    (tiny_dir / "base.yaml").write_text(text)
    child2 = write_yaml(tiny_dir / "child2.yaml", {"extends": "base.yaml"})
    assert same_file(only_problem(error_of(child2)).file, tiny_dir / "base.yaml")

    found = only_problem(error_of(TINY, {"proposals.call.sponsor": "XXX"}))
    assert found.file == "override proposals.call.sponsor"


@pytest.mark.parametrize("how", ["child", "override"])
def test_object_level_error_names_who_set_the_bad_leaf(tiny_dir, how):
    """no_below > yes_above caused by a child's (or override's) no_below names that source."""
    if how == "child":
        source = write_yaml(tiny_dir / "child.yaml", {
            "extends": "tiny.yaml", "proposals": {"code": {"un_vote": {"no_below": 0.5}}}})
        expected, overrides = source, None
    else:
        source, overrides = tiny_dir / "tiny.yaml", {"proposals.code.un_vote.no_below": 0.5}
        expected = "override proposals.code.un_vote.no_below"
    found = only_problem(error_of(source, overrides))
    assert found.field == "proposals.code.un_vote"
    if how == "child":
        assert same_file(found.file, expected)
    else:
        assert found.file == expected


# --- unknown keys -----------------------------------------------------------------------

UNKNOWN_KEYS = [
    ({"propsals": {}}, "propsals", "proposals", ScenarioSpec),
    ({"metadata.nmae": "x"}, "metadata.nmae", "name", Metadata),
    ({"proposals.call.bindingnes": 0.5}, "proposals.call.bindingnes", "bindingness", Proposal),
    ({"behaviour.state.peer": 0.5}, "behaviour.state.peer", "peers", KindBehaviour),
    ({"blocs.west.members.membr_of": ["nato"]}, "blocs.west.members.membr_of", "member_of",
     Selector),
    ({"events.warming.select.not": {"isso3": ["FFF"]}}, "events.warming.select.not.isso3", "iso3",
     Selector),
]


@pytest.mark.parametrize(("overrides", "field", "meant", "model"), UNKNOWN_KEYS,
                         ids=[case[1] for case in UNKNOWN_KEYS])
def test_unknown_key_suggests_the_close_name_and_lists_allowed_keys(overrides, field, meant,
                                                                     model):
    """An unknown key at any depth is an error with a did-you-mean and the allowed keys."""
    error = error_of(TINY, overrides)
    found = only_problem(error)
    assert found.field == field
    assert found.value == field.rpartition(".")[2]
    assert f"did you mean {meant!r}?" in found.expected
    allowed = found.expected.partition("allowed here: ")[2].split(", ")
    assert allowed == allowed_keys(model)


def test_unknown_key_in_a_file_names_the_file():
    """The misspelt key in tests/data/bad/unknown_key.yaml is reported against that file."""
    error = error_of(BAD / "unknown_key.yaml")
    found = only_problem(error)
    assert Path(found.file).name == "unknown_key.yaml"
    assert found.field == "proposals.call.bindingnes"
    assert "did you mean 'bindingness'?" in str(error)


def test_unknown_key_without_a_close_match_has_no_suggestion():
    """A key unlike any allowed one lists the allowed keys but suggests nothing."""
    found = only_problem(error_of(TINY, {"metadata.zzzzzz": 1}))
    assert "did you mean" not in found.expected
    assert "allowed here: name, description, start, unit, steps, seed" in found.expected


# --- types and ranges --------------------------------------------------------------------

RANGE_CASES = {
    "bindingness": ({"proposals": {"call": {"bindingness": 1.7}}},
                    "proposals.call.bindingness", "got 1.7", "less than or equal to 1"),
    "cohesion": ({"blocs": {"west": {"cohesion": -0.1}}},
                 "blocs.west.cohesion", "got -0.1", "greater than or equal to 0"),
    "steps": ({"metadata": {"steps": 0}}, "metadata.steps", "got 0;",
              "greater than or equal to 1"),
    "unit": ({"metadata": {"unit": "fortnight"}}, "metadata.unit", "got 'fortnight'",
             "'day', 'week' or 'month'"),
    "content": ({"proposals": {"call": {"content": {"openness": 2}}}},
                "proposals.call.content.openness", "got 2;", "less than or equal to 1"),
    "activation": ({"behaviour": {"state": {"activation": 1.5}}},
                   "behaviour.state.activation", "got 1.5", "less than or equal to 1"),
    "change": ({"events": {"warming": {"at": 3, "select": {},
                                       "threshold": {"set": 1.0, "add": 0.5}}}},
               "events.warming.threshold", "'add': 0.5", "exactly one of set, add, scale"),
    "un_vote": ({"proposals": {"extra": {"content": {"openness": 0.5}, "un_vote": {
        "at": 3, "yes_above": -0.5, "no_below": 0.2}}}},
        "proposals.extra.un_vote", "'no_below': 0.2", "no_below must not exceed yes_above"),
}


@pytest.mark.parametrize("case", RANGE_CASES)
def test_type_and_range_errors_name_file_field_value_and_expectation(tiny_dir, case):
    """Out-of-range and ill-typed values written in a file: one problem naming all four."""
    body, field, shown, expectation = RANGE_CASES[case]
    child = write_yaml(tiny_dir / "child.yaml", {"extends": "tiny.yaml", **body})
    error = error_of(child)
    found = only_problem(error)
    message = str(error)
    assert same_file(found.file, child)
    assert found.field == field
    assert message.startswith(f"{found.file}: {field}: ")
    assert shown in message
    assert expectation in message


def test_change_with_none_of_set_add_scale_is_an_error():
    """An empty Change (threshold: {}) is rejected too."""
    found = only_problem(error_of(TINY, {"events.warming.threshold": {}}))
    assert found.field == "events.warming.threshold"
    assert "exactly one of set, add, scale" in found.expected


@pytest.mark.parametrize(("field", "value"), [
    ("metadata.steps", "ten"), ("metadata.steps", 2.5), ("metadata.seed", -1),
    ("proposals.call.open_to", ["state", "robot"]), ("world.firms.size.pareto_shape", 0),
    ("world.network.same_sector.degree", -1), ("proposals.call.rivals", {"code": 1.5}),
])
def test_more_type_errors_name_the_field(field, value):
    """Further ill-typed values: the problem's field starts with the dotted path."""
    found = only_problem(error_of(TINY, {field: value}))
    assert found.field.startswith(field)
    assert found.file == f"override {field}"


def test_identifier_keys_must_be_lower_snake_case():
    """Dimension and proposal ids are identifiers; 'Bad-Key' is refused."""
    found = only_problem(error_of(TINY, {"dimensions.Bad-Key": "x"}))
    assert found.field.startswith("dimensions.Bad-Key")
    assert found.value == "Bad-Key"


@pytest.mark.parametrize("value", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_non_finite_coefficients_are_rejected(value):
    """A NaN or infinite utility coefficient would poison every utility: reject it."""
    error_of(TINY, {"behaviour.state.align": value})


# --- cross-references -------------------------------------------------------------------

REFERENCE_CASES = {
    "content dimension": ({"proposals.call.content.opennes": 0.5},
                          "proposals.call.content.opennes", "opennes", "dimension", "openness"),
    "interest dimension": ({"world.states.interests.opennes": {"base": 0.1}},
                           "world.states.interests.opennes", "opennes", "dimension", "openness"),
    "event dimension": ({"events.warming.interests.restrain": {"add": 0.1}},
                        "events.warming.interests.restrain", "restrain", "dimension", "restraint"),
    "selector bloc": ({"events.warming.select.bloc": ["wset"]}, "events.warming.select.bloc.0",
                      "wset",
                      "a bloc from `blocs`", "west"),
    "home bloc": ({"proposals.call.outreach.push.targets.1.select.home_bloc": ["rset"]},
                  "proposals.call.outreach.push.targets.1.select.home_bloc.0", "rset",
                  "a bloc from `blocs`", "rest"),
    "member_of": ({"blocs.west.members.member_of": ["nat"]}, "blocs.west.members.member_of.0",
                  "nat", "a membership or initiative", "nato"),
    "selector iso3": ({"events.warming.select.iso3": ["FFX"]}, "events.warming.select.iso3.0",
                      "FFX",
                      "ISO3 code", "FFF"),
    "nested selector": ({"events.warming.select": {"any": [{"iso3": ["FFX"]}]}},
                        "events.warming.select.any.0.iso3.0", "FFX", "ISO3 code", "FFF"),
    "leaders": ({"blocs.west.leaders": ["ZZZ"]}, "blocs.west.leaders.0", "ZZZ", "ISO3 code",
                None),
    "swing_states": ({"report.swing_states": ["EEF"]}, "report.swing_states.0", "EEF",
                     "ISO3 code", "EEE"),
    "sponsor": ({"proposals.call.sponsor": "XXX"}, "proposals.call.sponsor", "XXX",
                "an actor id", None),
    "federates": ({"proposals.call.federates": ["acord"]}, "proposals.call.federates.0", "acord",
                  "an initiative", "accord"),
    "rivals unknown": ({"proposals.call.rivals": {"cod": 0.5}}, "proposals.call.rivals.cod",
                       "cod", "another proposal id", "code"),
    "rivals itself": ({"proposals.call.rivals": {"call": 0.5}}, "proposals.call.rivals.call",
                      "call", "another proposal id", None),
    "where": ({"events.warming.select.where": {"democrazy": {"min": 0.5}}},
              "events.warming.select.where.democrazy", "democrazy", "an actor attribute",
              "democracy"),
    "form attribute": ({"world.states.interests.openness": {"base": 0.1, "democrazy": 1.0}},
                       "world.states.interests.openness.democrazy", "democrazy",
                       "a state attribute", "democracy"),
    "form member_of": ({"world.states.interests.control": {"base": 0.8, "member_of.scoo": 0.2}},
                       "world.states.interests.control.member_of.scoo", "scoo", "a membership",
                       "sco"),
    "launch reach": ({"proposals.call.launch_reach": {"base": 0.5, "democrazy": 0.3}},
                     "proposals.call.launch_reach.democrazy", "democrazy", "a state attribute",
                     "democracy"),
    "network orgs": ({"world.network.shared_membership.orgs": ["natoo"]},
                     "world.network.shared_membership.orgs.0", "natoo", "a membership", "nato"),
    "named sector": ({"world.firms.categories": {"technology": {"share": 1.0}}},
                     "world.firms.categories", "telecom", "a category for every sector", None),
}


@pytest.mark.parametrize("case", REFERENCE_CASES)
def test_unknown_names_are_reference_errors(case):
    """Every name a scenario uses must exist; the error names field, value and a hint."""
    overrides, field, value, expectation, meant = REFERENCE_CASES[case]
    error = error_of(TINY, overrides)
    found = only_problem(error)
    assert (found.field, found.value) == (field, value)
    assert found.file == f"override {next(iter(overrides))}"
    assert expectation in found.expected
    if meant:
        assert f"did you mean {meant!r}?" in found.expected
    assert field in str(error) and repr(value) in str(error)


def test_named_sector_error_names_the_table():
    """A sector in the firms table without a scenario category names the CSV file."""
    error = error_of(TINY, {"world.firms.categories": {"technology": {"share": 1.0}}})
    assert "tiny_firms.csv" in str(error)


def test_several_reference_problems_are_reported_at_once():
    """All unknown names are collected into one InputError, one problem each."""
    error = error_of(TINY, {
        "proposals.call.sponsor": "XXX",
        "blocs.west.leaders": ["ZZZ"],
        "proposals.call.content.opennes": 0.5,
        "events.warming.select.bloc": ["nowhere"],
    })
    assert len(error.problems) == 4
    assert {p.field for p in error.problems} == {
        "proposals.call.sponsor", "blocs.west.leaders.0", "proposals.call.content.opennes",
        "events.warming.select.bloc.0"}
    assert str(error).startswith("4 problems:\n  ")


def test_several_type_problems_are_reported_at_once():
    """Type errors in different sections are also reported together."""
    error = error_of(TINY, {"proposals.call.bindingness": 1.7, "blocs.west.cohesion": -0.1,
                            "metadata.steps": 0})
    assert sorted(p.field for p in error.problems) == [
        "blocs.west.cohesion", "metadata.steps", "proposals.call.bindingness"]


def test_generated_actors_need_a_category():
    """Generating civil society with no categories is an error on that field."""
    found = only_problem(error_of(TINY, {"world.civil.categories": {}}))
    assert found.field == "world.civil.categories"
    assert "at least one category" in found.expected


def test_empty_content_is_an_error():
    """A proposal must cover at least one dimension."""
    found = only_problem(error_of(TINY, {"proposals.call.content": {}}))
    assert (found.field, found.value) == ("proposals.call.content", {})


def test_member_of_accepts_initiatives_and_where_accepts_named_attributes():
    """Valid references load: member_of an initiative; where on a named-table column."""
    spec = load_scenario(TINY, {
        "events.warming.select": {"member_of": ["accord"],
                                  "where": {"revenue_usd_bn_2018": {"min": 1}}},
    })
    assert spec.events["warming"].select.member_of == ["accord"]
    assert spec.events["warming"].select.where["revenue_usd_bn_2018"].min == 1


# --- overrides ---------------------------------------------------------------------------


def test_override_changes_one_value_and_nothing_else():
    """A dotted override sets the value; the rest of the resolved scenario is unchanged."""
    base = load_scenario(BASELINE)
    spec = load_scenario(BASELINE, {"proposals.paris_call.bindingness": 0.6})
    assert spec.proposals["paris_call"].bindingness == 0.6
    expected = base.to_dict()
    expected["proposals"]["paris_call"]["bindingness"] = 0.6
    assert spec.to_dict() == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("proposals.paris_call.open_to=[state,firm]", ("proposals.paris_call.open_to",
                                                  ["state", "firm"])),
    ("world.network.home={weight: 2, state_weight: 0.5}",
     ("world.network.home", {"weight": 2, "state_weight": 0.5})),
    ("metadata.description=", ("metadata.description", "")),
    (" proposals.x.bindingness = 0.6 ", ("proposals.x.bindingness", 0.6)),
    ("proposals.x.launch=2019-01-07", ("proposals.x.launch", dt.date(2019, 1, 7))),
    ("metadata.name=a=b", ("metadata.name", "a=b")),
    ("proposals.x.sponsor=null", ("proposals.x.sponsor", None)),
])
def test_parse_assignment_parses_the_value_as_yaml(text, expected):
    """PATH=VALUE: the value is YAML (lists, mappings, dates, null), empty gives ""."""
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["nonsense", "=0.6", "  =1", "a=[1,"])
def test_malformed_assignment_is_an_input_error(text):
    """No '=', no path, or an unparsable value: an InputError attributed to --set."""
    error = pytest.raises(InputError, parse_assignment, text).value
    assert error.problems[0].file == "--set"


def test_parsed_assignments_apply_as_overrides():
    """Assignments parsed from the command line load: a list value and an empty string."""
    overrides = dict(parse_assignment(t) for t in (
        "proposals.paris_call.open_to=[state,firm]", "metadata.description="))
    spec = load_scenario(BASELINE, overrides)
    assert spec.proposals["paris_call"].open_to == ["state", "firm"]
    assert spec.metadata.description == ""


def test_override_with_null_deletes_the_key():
    """An override of None removes the key, so the default applies."""
    spec = load_scenario(TINY, {"proposals.call.sponsor": None})
    assert spec.proposals["call"].sponsor is None


def test_set_path_keeps_member_of_keys_of_linear_forms_whole():
    """Regression: `...control.member_of.sco` set a nested {member_of: {sco: ...}} before."""
    data = copy.deepcopy(TINY_DATA)
    set_path(data, "world.states.interests.control.member_of.sco", 0.7)
    assert data["world"]["states"]["interests"]["control"]["member_of.sco"] == 0.7
    spec = load_scenario(TINY, {"world.states.interests.control.member_of.sco": 0.7})
    assert spec.world.states.interests["control"]["member_of.sco"] == 0.7


def test_set_path_indexes_into_lists():
    """`...targets.0.weight` addresses the first target; load_scenario applies it."""
    data = copy.deepcopy(TINY_DATA)
    set_path(data, "proposals.call.outreach.push.targets.0.weight", 9)
    assert data["proposals"]["call"]["outreach"]["push"]["targets"][0]["weight"] == 9
    set_path(data, "events.warming.at", 9)
    assert data["events"]["warming"]["at"] == 9
    set_path(data, "world.network.home.weight", 3.0)
    assert data["world"]["network"]["home"] == {"weight": 3.0, "state_weight": 0.2}
    set_path(data, "brand.new.section", 1)
    assert data["brand"] == {"new": {"section": 1}}
    assert load_scenario(TINY, {"events.warming.at": 9}).events["warming"].at == 9


@pytest.mark.parametrize(("dotted", "field", "value"), [
    ("proposals.call.outreach.push.targets.3.weight", "proposals.call.outreach.push.targets.3",
     "3"),
    ("proposals.call.outreach.push.targets.first.weight",
     "proposals.call.outreach.push.targets.first", "first"),
    ("report.checkpoints.2", "report.checkpoints.2", "2"),
])
def test_set_path_bad_list_index_is_an_input_error(dotted, field, value):
    """An index past the end (or not a number) names the path and the list's length."""
    found = only_problem(error_of(TINY, {dotted: 9}))
    assert (found.file, found.field, found.value) == ("override", field, value)
    assert "a list index below" in found.expected


@pytest.mark.parametrize("dotted", ["", "a..b", ".a", "a."])
def test_set_path_rejects_empty_segments(dotted):
    """Empty paths and empty segments are InputErrors."""
    with pytest.raises(InputError):
        set_path({}, dotted, 1)


@pytest.mark.parametrize("dotted", ["report.swing_states.0.x", "report.checkpoints.0.x"])
def test_set_path_through_a_scalar_list_item_is_an_input_error(dotted):
    """Addressing inside a string/date list item must give an InputError, not a TypeError."""
    error_of(TINY, {dotted: 1})


def test_with_overrides_revalidates_a_copy():
    """with_overrides returns a changed copy and keeps the original and its source."""
    spec = load_scenario(TINY)
    changed = with_overrides(spec, {"proposals.call.bindingness": 0.9})
    assert changed.proposals["call"].bindingness == 0.9
    assert spec.proposals["call"].bindingness == 0.1
    assert changed.source == spec.source
    with pytest.raises(InputError, match="proposals.call.bindingness"):
        with_overrides(spec, {"proposals.call.bindingness": 9})


# --- YAML safety and syntax -------------------------------------------------------------


def test_python_object_tag_is_rejected_and_never_executed(capfd):
    """!!python/object/apply is refused by the safe loader: an InputError, nothing runs."""
    error = error_of(BAD / "python_tag.yaml")
    found = only_problem(error)
    assert Path(found.file).name == "python_tag.yaml"
    assert found.field == "line 2, column 11"
    assert "valid YAML" in found.expected
    assert "hi" not in capfd.readouterr().out


def test_python_object_tag_has_no_side_effect(tmp_path):
    """The same tag with a command that would create a file leaves no file behind."""
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f'metadata: !!python/object/apply:os.system ["touch {marker}"]\n')
    error_of(path)
    assert not marker.exists()


def test_yaml_syntax_error_names_the_line():
    """A YAML syntax error names the file and the line where the parser stopped."""
    found = only_problem(error_of(BAD / "syntax_error.yaml"))
    assert Path(found.file).name == "syntax_error.yaml"
    assert found.field.startswith("line 6, column ")
    assert "valid YAML" in found.expected


@pytest.mark.parametrize(("text", "value"), [("- metadata\n- proposals\n", None), ("", None),
                                              ("just a string\n", "just a string")])
def test_top_level_must_be_a_mapping(tmp_path, text, value):
    """A list, an empty file or a bare string at the top level is an error that says what
    was found but quotes none of it (the file may be any file: extends: /etc/passwd)."""
    path = tmp_path / "top.yaml"
    path.write_text(text)
    error = error_of(path)
    found = only_problem(error)
    assert "a mapping of sections at the top level" in found.expected
    assert "found " in found.expected
    assert "got " not in str(error)
    if value is not None:
        assert value not in str(error)
    list_error = only_problem(error_of(BAD / "top_level_list.yaml"))
    assert "metadata" not in str(list_error) and "found a list" in list_error.expected


def test_missing_scenario_file_is_an_input_error(tmp_path):
    """A scenario path that does not exist is an InputError naming it."""
    found = only_problem(error_of(tmp_path / "nope.yaml"))
    assert same_file(found.file, tmp_path / "nope.yaml")


# --- data tables ------------------------------------------------------------------------


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def set_cell(frame, key, row, column, value):
    frame.loc[frame[key] == row, column] = value
    return frame


TABLE_CASES = {
    "missing column": ("states", lambda f: f.drop(columns=["gci_2018"]),
                       "gci_2018", None, "this column to be present"),
    "blank cell": ("states", lambda f: set_cell(f, "iso3", "BBB", "name", ""),
                   "row BBB: name", "", "a value"),
    "non-numeric gdp": ("states", lambda f: set_cell(f, "iso3", "CCC", "gdp_usd_2018", "lots"),
                        "row CCC: gdp_usd_2018", "lots", "a finite number"),
    "nan gdp": ("states", lambda f: set_cell(f, "iso3", "CCC", "gdp_usd_2018", "nan"),
                "row CCC: gdp_usd_2018", "nan", "a finite number"),
    "negative gdp": ("states", lambda f: set_cell(f, "iso3", "CCC", "gdp_usd_2018", "-5"),
                     "row CCC: gdp_usd_2018", None, "a positive number"),
    "membership 2": ("states", lambda f: set_cell(f, "iso3", "DDD", "nato", "2"),
                     "row DDD: nato", "2", "0 or 1"),
    "duplicate iso3": ("states", lambda f: set_cell(f, "iso3", "BBB", "iso3", "AAA"),
                       "iso3", "AAA", "unique codes"),
    "provisional": ("states", lambda f: set_cell(f, "iso3", "AAA", "provisional",
                                                 "gci_2018;no_such_column"),
                    "row AAA: provisional", "no_such_column", "column names"),
    "forbidden": ("states", lambda f: f.assign(paris_call_signed="0"),
                  "paris_call_signed", None, "validation data"),
    "firm blank": ("firms", lambda f: set_cell(f, "name", "Blue Telecom",
                                               "revenue_usd_bn_2018", ""),
                   "row Blue Telecom: revenue_usd_bn_2018", "", "a value"),
    "firm revenue": ("firms", lambda f: set_cell(f, "name", "Blue Telecom",
                                                 "revenue_usd_bn_2018", "big"),
                     "row Blue Telecom: revenue_usd_bn_2018", "big", "a finite number"),
    "firm missing column": ("firms", lambda f: f.drop(columns=["sector"]),
                            "sector", None, "this column to be present"),
    "firm duplicate": ("firms", lambda f: set_cell(f, "name", "Blue Telecom", "name",
                                                   "Acme Corp"),
                       "name", "Acme Corp", "unique names"),
    "firm home": ("firms", lambda f: set_cell(f, "name", "Blue Telecom", "home_iso3", "ZZZ"),
                  "home_iso3", "ZZZ", "ISO3 code"),
    "firm provisional": ("firms", lambda f: set_cell(f, "name", "Acme Corp", "provisional",
                                                     "revenue"),
                         "row Acme Corp: provisional", "revenue", "column names"),
    "firm forbidden": ("firms", lambda f: f.assign(supporter="0"),
                       "supporter", None, "validation data"),
}
TABLE_FILES = {"states": "tiny_states.csv", "firms": "tiny_firms.csv"}


@pytest.mark.parametrize("case", TABLE_CASES)
def test_bad_data_table_is_an_error_naming_csv_row_and_column(tiny_dir, case):
    """A broken CSV table: the error names the CSV file, the row id and the column."""
    table, edit, field, value, expectation = TABLE_CASES[case]
    csv = tiny_dir / TABLE_FILES[table]
    edit(read_table(csv)).to_csv(csv, index=False)
    error = error_of(tiny_dir / "tiny.yaml")
    assert any(p.field == field for p in error.problems), str(error)
    found = next(p for p in error.problems if p.field == field)
    assert Path(found.file).name == csv.name
    assert expectation in found.expected
    if value is not None:
        assert found.value == value
    assert csv.name in str(error) and field in str(error)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_infinite_number_in_table_is_an_error(tiny_dir):
    """A GDP of 'inf' must be refused, not silently turn gdp_share into NaN."""
    csv = tiny_dir / "tiny_states.csv"
    set_cell(read_table(csv), "iso3", "CCC", "gdp_usd_2018", "inf").to_csv(csv, index=False)
    error_of(tiny_dir / "tiny.yaml")


def test_missing_table_error_names_the_scenario_field():
    """A roster that does not exist names world.states.roster as well as the path."""
    error = error_of(TINY, {"world.states.roster": "no_such_roster.csv"})
    assert "world.states.roster" in str(error)


def test_missing_table_is_an_input_error_naming_the_path():
    """A roster path that does not exist is an InputError naming the path."""
    found = only_problem(error_of(TINY, {"world.states.roster": "no_such_roster.csv"}))
    assert found.field == "world.states.roster"
    assert str(DATA / "no_such_roster.csv") in found.expected
    assert "existing table" in found.expected


# --- the packaged roster (hard rule: no validation data as input) -----------------------


def test_packaged_state_roster_is_complete():
    """states_2018.csv: 193 UN members, unique codes, every cell filled (bar provisional),
    every `provisional` entry a real column."""
    frame = read_table(PACKAGED / "states_2018.csv")
    assert len(frame) == 193
    assert frame["iso3"].is_unique and frame["iso2"].is_unique
    filled = frame.drop(columns=["provisional"])
    assert not (filled.apply(lambda c: c.str.strip()) == "").any().any()
    flagged = {name.strip() for cell in frame["provisional"] for name in cell.split(";") if name}
    assert flagged, "some values are expected to be marked provisional"
    assert flagged <= set(frame.columns)
    assert len(load_states()) == 193


@pytest.mark.parametrize("table", ["states_2018", "firms_2018", "civil_2018"])
def test_packaged_tables_carry_no_validation_data(table):
    """No packaged table has a column about signatures, supporters or votes."""
    columns = read_table(PACKAGED / f"{table}.csv").columns
    bad = [c for c in columns if any(h in c.lower() for h in ("paris", "signed", "supporter",
                                                                "vote"))]
    assert bad == []
    assert {"paris", "signed", "supporter", "vote"} <= set(FORBIDDEN_HINTS)


# --- JSON Schema ------------------------------------------------------------------------


def iso_dates(data):
    if isinstance(data, dict):
        return {k: iso_dates(v) for k, v in data.items()}
    if isinstance(data, list):
        return [iso_dates(v) for v in data]
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_json_schema_is_draft_2020_12(validator):
    """The schema declares and satisfies draft 2020-12, with the top-level sections."""
    schema = scenario_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"metadata", "proposals", "dimensions"} <= set(schema["properties"])
    assert set(schema["required"]) == {"metadata", "dimensions", "proposals"}


@pytest.mark.parametrize("path", [*SHIPPED, TINY], ids=lambda p: p.stem)
def test_resolved_scenarios_validate_against_the_schema(validator, path):
    """The resolved form of each shipped scenario (and tiny) satisfies the schema."""
    data = load_scenario(path).model_dump(mode="json", by_alias=True, exclude={"extends"})
    assert [e.message for e in validator.iter_errors(data)] == []


def test_shipped_scenario_files_validate_against_the_schema(validator):
    """Each shipped file as written (dates as ISO strings) satisfies the schema: the full
    one for a complete file, the partial one (no required fields) for a variant."""
    jsonschema = pytest.importorskip("jsonschema")
    partial = jsonschema.Draft202012Validator(scenario_json_schema(partial=True))
    for path in SHIPPED:
        data = iso_dates(yaml.safe_load(path.read_text(encoding="utf-8")))
        check = partial if "extends" in data else validator
        assert [e.message for e in check.iter_errors(data)] == [], path.name
    assert "required" not in json.dumps(scenario_json_schema(partial=True))
    bad = {"extends": "x.yaml", "proposals": {"p": {"bindingness": "high"}}}
    assert list(partial.iter_errors(bad))


@pytest.mark.parametrize(("field", "value"), [
    ("proposals.call.bindingness", "high"), ("proposals.call.bindingness", 1.7),
    ("proposals.call.launch", 0), ("proposals.call.bindingnes", 0.1),
    ("metadata.unit", "fortnight"),
])
def test_invalid_document_fails_schema_validation(validator, field, value):
    """Documents the loader rejects are rejected by the schema as well."""
    data = load_scenario(TINY).model_dump(mode="json", by_alias=True, exclude={"extends"})
    set_path(data, field, value)
    errors = list(validator.iter_errors(data))
    assert errors
    with pytest.raises(InputError):
        load_scenario(data, base_dir=DATA)


# --- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [BASELINE, TINY], ids=lambda p: p.stem)
def test_to_dict_and_to_yaml_round_trip_to_the_same_digest(path):
    """to_dict() and to_yaml() reload (with base_dir) to a spec with the same digest."""
    spec = load_scenario(path)
    again = load_scenario(spec.to_dict(), base_dir=path.parent)
    assert again.digest() == spec.digest()
    assert again.to_dict() == spec.to_dict()
    reloaded = load_scenario(yaml.safe_load(spec.to_yaml()), base_dir=path.parent)
    assert reloaded.digest() == spec.digest()
    assert "extends" not in spec.to_dict()


def test_to_yaml_file_of_baseline_reloads_by_path(tmp_path):
    """The baseline (packaged tables only) written as YAML reloads from a file anywhere."""
    spec = load_scenario(BASELINE)
    path = tmp_path / "resolved.yaml"
    path.write_text(spec.to_yaml(), encoding="utf-8")
    assert load_scenario(path).digest() == spec.digest()


def test_round_trip_keeps_aliases_and_nested_selectors():
    """`not` (an alias) and `any` survive to_dict/reload; the digest depends on content."""
    spec = load_scenario(TINY, {"events.warming.select": {"not": {"iso3": ["AAA"]},
                                                    "any": [{"bloc": ["west"]}]}})
    data = spec.to_dict()
    assert data["events"]["warming"]["select"]["not"]["iso3"] == ["AAA"]
    again = load_scenario(data, base_dir=DATA)
    assert again.digest() == spec.digest()
    assert again.digest() != load_scenario(TINY).digest()


def test_digest_ignores_where_the_scenario_came_from(tiny_dir):
    """The same content loaded from two places has the same digest."""
    assert load_scenario(tiny_dir / "tiny.yaml").digest() == load_scenario(TINY).digest()


# --- property-based ---------------------------------------------------------------------

FLOAT_RANGES = (
    [(f"behaviour.{k}.{t}", -10.0, 10.0, False) for k in KINDS for t in TERMS]
    + [(f"behaviour.{k}.activation", 0.0, 1.0, True) for k in KINDS]
    + [(f"behaviour.{k}.hysteresis", 0.0, None, True) for k in KINDS]
    + [(f"behaviour.{k}.threshold.sd", 0.0, None, True) for k in KINDS]
    + [
        ("proposals.call.bindingness", 0.0, 1.0, True),
        ("proposals.code.bindingness", 0.0, 1.0, True),
        ("proposals.call.content.openness", -1.0, 1.0, True),
        ("blocs.east.cohesion", 0.0, 1.0, True),
        ("proposals.call.launch_reach_of.civil", 0.0, 1.0, True),
        ("proposals.call.launch_reach_of.firm", 0.0, 1.0, True),
        ("behaviour.temperature", 0.0, None, True),
        ("world.firms.spread", 0.0, None, True),
        ("world.firms.home_mix", 0.0, 1.0, True),
        ("world.network.same_bloc", 0.0, None, True),
        ("world.network.same_subregion", 0.0, None, True),
        ("world.network.shared_membership.weight", 0.0, None, True),
        ("world.network.home.weight", 0.0, None, True),
        ("world.network.home.state_weight", 0.0, None, True),
        ("world.network.same_sector.weight", 0.0, None, True),
        ("world.network.same_home.weight", 0.0, None, True),
    ]
)
BOUNDED = [entry for entry in FLOAT_RANGES if entry[3]]
INT_MINIMUMS = [("metadata.steps", 1), ("metadata.seed", 0), ("behaviour.launch_rounds", 1),
                ("world.network.same_sector.degree", 0), ("world.firms.generated", 0)]


@st.composite
def valid_override(draw):
    if draw(st.booleans()):
        field, low = draw(st.sampled_from(INT_MINIMUMS))
        high = {"metadata.steps": limits.current().steps,
                "behaviour.launch_rounds": limits.current().launch_rounds}.get(field, 10_000)
        return field, draw(st.integers(low, min(low + 10_000, high)))
    field, low, high, _ = draw(st.sampled_from(FLOAT_RANGES))
    high = 1e6 if high is None else high
    return field, draw(st.floats(low, high, allow_nan=False, allow_infinity=False))


@st.composite
def invalid_override(draw):
    if draw(st.booleans()):
        field, low = draw(st.sampled_from(INT_MINIMUMS))
        return field, draw(st.integers(-10_000, low - 1))
    field, low, high, _ = draw(st.sampled_from(BOUNDED))
    sides = [st.floats(-1e6, low, exclude_max=True)]
    if high is not None:
        sides.append(st.floats(high, 1e6, exclude_min=True))
    return field, draw(st.one_of(sides))


@settings(max_examples=50, deadline=None)
@given(valid_override())
def test_property_in_range_numeric_overrides_load(override):
    """Any in-range value of a numeric field loads and is stored exactly."""
    field, value = override
    spec = load_scenario(TINY_DATA, {field: value}, base_dir=DATA)
    assert dig(spec.model_dump(by_alias=True), field) == value


@settings(max_examples=50, deadline=None)
@given(invalid_override())
def test_property_out_of_range_numeric_overrides_fail_naming_the_path(override):
    """Any out-of-range value is an InputError whose message holds the dotted path."""
    field, value = override
    with pytest.raises(InputError) as info:
        load_scenario(TINY_DATA, {field: value}, base_dir=DATA)
    assert field in str(info.value)
    assert [p.field for p in info.value.problems] == [field]
    assert info.value.problems[0].file == f"override {field}"


@settings(max_examples=50, deadline=None)
@given(unit=st.sampled_from(["day", "week", "month"]),
       start=st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)),
       offset=st.integers(0, 20_000))
def test_property_step_of_brackets_the_date(unit, start, offset):
    """For d >= start: date_of_step(step_of(d)) <= d < date_of_step(step_of(d) + 1)."""
    line = Timeline(start, unit)
    day = start + dt.timedelta(days=offset)
    step = line.step_of(day)
    assert step >= 1
    assert line.date_of_step(step) <= day < line.date_of_step(step + 1)


@settings(max_examples=50, deadline=None)
@given(unit=st.sampled_from(["day", "week", "month"]),
       start=st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)),
       step=st.integers(1, 1_000))
def test_property_step_of_inverts_date_of_step(unit, start, step):
    """step_of(date_of_step(k)) == k for every k >= 1, and earlier dates are steps <= 0."""
    line = Timeline(start, unit)
    assert line.step_of(line.date_of_step(step)) == step
    assert line.step_of(start - dt.timedelta(days=1)) <= 0


def test_timeline_month_end_clamps_and_rejects_bad_input():
    """Monthly steps from 31 January clamp to month ends; bad units and booleans fail."""
    line = Timeline(dt.date(2020, 1, 31), "month")
    assert [line.date_of_step(k) for k in (1, 2, 3)] == [
        dt.date(2020, 1, 31), dt.date(2020, 2, 29), dt.date(2020, 3, 31)]
    assert line.step_of(dt.date(2020, 3, 30)) == 2
    with pytest.raises(ValueError, match="fortnight"):
        Timeline(dt.date(2020, 1, 1), "fortnight")
    with pytest.raises(TypeError):
        line.step_of(True)
