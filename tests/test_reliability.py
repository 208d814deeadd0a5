"""Every bad input gets one message (issue 12): one test per cause found by an adversarial
user, each run in process through the command line (or the library function a user
calls), asserting exit status 2, the file or field named, no traceback, and no hang."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import refuse_folders_under, run_cli

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TINY = DATA / "tiny.yaml"
GRID = DATA / "experiments" / "grid.yaml"
BASELINE = ROOT / "scenarios" / "paris_call_2018.yaml"


def fails_cleanly(*argv, needles=(), seconds: float = 10.0) -> str:
    """Run the CLI: exit 2, one "error:" message containing every needle, no traceback,
    within `seconds`. Returns stderr."""
    started = time.perf_counter()
    code, out, err = run_cli(*argv)
    elapsed = time.perf_counter() - started
    assert code == 2, (code, out[-500:], err[-2000:])
    assert "Traceback" not in err and "Traceback" not in out
    assert ("\n" + err).count("\nerror: ") == 1, err  # one message (after any progress lines)
    for needle in needles:
        assert needle in err, (needle, err)
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    return err


def tiny_text() -> str:
    return TINY.read_text(encoding="utf-8")


def variant(tmp_path: Path, text: str, name: str = "variant.yaml") -> Path:
    """A scenario file beside tiny.yaml's data (so its tables resolve)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def extends_tiny(tmp_path: Path, body: str, name: str = "child.yaml") -> Path:
    return variant(tmp_path, f"extends: {TINY}\n{body}", name)


# --- 1. encodings ----------------------------------------------------------------------


def test_1_a_latin1_scenario_file_names_the_file_and_line(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(tiny_text().replace("Six fictitious", "Six fictitious \u00e9tats").encode(
        "latin-1"))
    fails_cleanly("validate", path, needles=(str(path), "line 4", "UTF-8"))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_1_utf16_and_bom_scenarios_are_read(tmp_path, encoding):
    """A byte-order mark says what the file is: such files load as UTF-8 ones do."""
    path = tmp_path / "marked.yaml"
    path.write_bytes(extends_tiny(tmp_path, "").read_text().encode(encoding))
    code, out, err = run_cli("validate", path)
    assert code == 0, err


def test_1_a_binary_file_is_not_text(tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"metadata:\n  name: x\x00\x01\x02\xff")
    fails_cleanly("validate", path, needles=(str(path),))


# --- 2. paths --------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["validate", "sce\x00nario.yaml"],
    ["validate", "x" * 300 + ".yaml"],
    ["run", "a/" + "b" * 256 + "/c.yaml"],
    ["sweep", "exp\x00eriment.yaml", "--dry-run"],
])
def test_2_nul_bytes_and_overlong_names_in_paths(argv):
    fails_cleanly(*argv, needles=("path",))


def test_2_overlong_name_inside_a_file(tmp_path):
    path = extends_tiny(tmp_path, "world:\n  firms:\n    named: " + "n" * 300 + ".csv\n")
    fails_cleanly("validate", path, needles=("world.firms.named",))


# --- 3. nesting ------------------------------------------------------------------------


def test_3_deep_nesting_in_a_file_is_refused_before_anything_is_built(tmp_path):
    path = extends_tiny(tmp_path, "description: " + "[" * 500 + "]" * 500 + "\n")
    fails_cleanly("validate", path, needles=(str(path), "nested", "limit `depth`"))


def test_3_deep_nesting_in_a_set_value():
    fails_cleanly("run", TINY, "--steps", 1, "--set",
                  "metadata.description=" + "[" * 1200 + "]" * 1200, needles=("--set",))


def test_3_deep_python_values_given_to_load_scenario():
    from sim.errors import InputError
    from sim.scenario.loading import load_scenario

    value: list = []
    for _ in range(600):
        value = [value]
    with pytest.raises(InputError, match="nested"):
        load_scenario(TINY, {"metadata.description": value})


# --- 4. big integers -------------------------------------------------------------------


def test_4_integer_of_5000_digits_in_a_file(tmp_path):
    path = extends_tiny(tmp_path, "metadata:\n  seed: " + "7" * 5000 + "\n")
    fails_cleanly("validate", path, needles=(str(path), "integer of at most"))


def test_4_integer_of_5000_digits_in_a_set_value():
    fails_cleanly("run", TINY, "--set", "metadata.seed=" + "7" * 5000,
                  needles=("--set", "integer of at most"))


def test_4_integer_of_5000_digits_on_the_command_line():
    code, _, err = run_cli("run", TINY, "--seed", "7" * 5000)
    assert code == 2 and "Traceback" not in err and "--seed" in err


# --- 5. dates --------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ("metadata:\n  start: 2018-02-30\n", "metadata.start"),
    ("proposals:\n  call:\n    launch: 2018-11-12T25:61:00\n", "proposals.call.launch"),
    ("report:\n  checkpoints: [2020-13-01]\n", "report.checkpoints.0"),
], ids=["february_30", "hour_25", "month_13"])
def test_5_impossible_unquoted_dates_name_their_field(tmp_path, body, field):
    fails_cleanly("validate", extends_tiny(tmp_path, body), needles=(field, "date"))


# --- 6. alias bombs --------------------------------------------------------------------


def test_6_billion_laughs_stops_fast_without_quoting_the_value(tmp_path):
    lines = ['lol0: &l0 "lol"']
    for i in range(1, 10):
        lines.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    path = extends_tiny(tmp_path, "\n".join(lines).replace("lol", "x") + "\n")
    assert path.stat().st_size < 1000
    err = fails_cleanly("validate", path, needles=("limit `nodes`",), seconds=3)
    assert len(err) < 600


def test_6_a_message_about_a_huge_value_is_cheap_and_short():
    from sim.errors import problem

    value: list = ["x"] * 10
    for _ in range(40):
        value = [value] * 10  # 10^41 leaves, all shared
    started = time.perf_counter()
    text = str(problem("f.yaml", "a.b", "something else", value))
    assert time.perf_counter() - started < 0.1 and len(text) < 200


# --- 7. counts -------------------------------------------------------------------------


@pytest.mark.parametrize(("assignment", "limit"), [
    ("behaviour.launch_rounds=1000000000", "launch_rounds"),
    ("world.civil.generated=1000000000", "actors"),
    ("metadata.steps=100000000", "steps"),
    ("world.network.same_home.degree=1000000000", "ties"),
])
def test_7_counts_have_upper_bounds_checked_before_the_run(assignment, limit):
    err = fails_cleanly("run", TINY, "--set", assignment, needles=(f"limit `{limit}`",
                                                                   f"--limit {limit}="),
                        seconds=5)
    assert "got " in err


def test_7_validate_checks_the_bounds_too(tmp_path):
    path = extends_tiny(tmp_path, "world:\n  civil:\n    generated: 1000000000\n")
    fails_cleanly("validate", path, needles=("world.civil.generated", "limit `actors`"))


def test_7_a_user_who_means_it_raises_a_limit(tmp_path):
    """`--limit actors=N` raises the actor limit and the products that follow it."""
    path = extends_tiny(tmp_path, "world:\n  civil:\n    generated: 2000000\n")
    fails_cleanly("validate", path, needles=("limit `actors`",))
    code, out, err = run_cli("validate", path, "--limit", "actors=10_000_000")
    assert code == 0, err


def test_7_the_library_setting_raises_limits_for_a_block():
    from sim import limits
    from sim.errors import InputError
    from sim.scenario.loading import load_scenario

    big = {"world.firms.generated": 3_000_000}
    with pytest.raises(InputError, match="limit `actors`"):
        load_scenario(TINY, big)
    with limits.raised(actors=10_000_000):
        assert load_scenario(TINY, big).world.firms.generated == 3_000_000
    assert limits.current().actors == limits.Limits().actors


def test_7_a_bad_limit_option_is_one_message():
    fails_cleanly("validate", TINY, "--limit", "actros=5", needles=("actors",))
    fails_cleanly("validate", TINY, "--limit", "actors=lots", needles=("whole number",))


# --- 8. experiment sizes ---------------------------------------------------------------


def experiment(tmp_path: Path, **changes) -> Path:
    spec = yaml.safe_load(GRID.read_text())
    spec["scenario"] = str(TINY)
    spec.update(changes)
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize("changes", [
    {"replications": 100_000_000},
    {"parameters": {"proposals.call.bindingness": {"range": {"start": 0, "stop": 1,
                                                             "step": 1e-7}}}},
    {"parameters": {"proposals.call.bindingness": {"range": {"start": 0, "stop": 1,
                                                             "step": 1e-300}}}},
    {"design": "lhs", "samples": 100_000_000, "parameters": {
        "proposals.call.bindingness": {"distribution": {"uniform": [0, 1]}}}},
])
def test_8_run_count_is_checked_before_any_point_is_built(tmp_path, changes):
    fails_cleanly("sweep", experiment(tmp_path, **changes), "--dry-run",
                  needles=("max_runs",), seconds=3)


def test_8_a_design_beyond_the_runs_limit_needs_the_limit_raised(tmp_path):
    path = experiment(tmp_path, replications=2_000_000, max_runs=10**12)
    fails_cleanly("sweep", path, "--dry-run", needles=("limit `runs`",), seconds=3)


@pytest.mark.parametrize("samples", [1e8, 1e30, "8", True])
def test_8_samples_must_be_a_whole_number(tmp_path, samples):
    path = experiment(tmp_path, design="saltelli", samples=samples, parameters={
        "proposals.call.bindingness": {"distribution": {"uniform": [0, 1]}}})
    fails_cleanly("sensitivity", path, "--dry-run", needles=("samples",), seconds=3)


# --- 9. dry runs -----------------------------------------------------------------------


def test_9_dry_run_reports_a_spec_whose_every_run_is_invalid(tmp_path):
    path = experiment(tmp_path, constants={"metadata.steps": -1})
    code, out, err = run_cli("sweep", path, "--dry-run")
    assert code == 2 and "Traceback" not in err
    assert "4 of 4 points are invalid" in out and "metadata.steps" in out


def test_9_dry_run_finds_a_misspelled_parameter_path(tmp_path):
    path = experiment(tmp_path, parameters={"proposals.call.bindingnes": {"values": [0.1]}})
    code, out, _ = run_cli("sweep", path, "--dry-run")
    assert code == 2 and "did you mean 'bindingness'" in out


def test_9_dry_run_of_a_valid_experiment_estimates_and_exits_0():
    code, out, _ = run_cli("sweep", GRID, "--dry-run", "--backend", "serial")
    assert code == 0
    assert "all 4 points are valid" in out and "12 runs at about" in out


def test_9_sensitivity_has_a_dry_run():
    code, out, err = run_cli("sensitivity", DATA / "experiments" / "saltelli.yaml", "--dry-run")
    assert code == 0, err
    assert "N x (factors + 2) x replications" in out and "points are valid" in out


# --- 10. score -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reliability") / "tiny"
    code, _, err = run_cli("run", TINY, "--reps", 3, "--out", out)
    assert code == 0, err
    return out


@pytest.mark.parametrize(("text", "needles"), [
    ("", ("empty",)),
    ('actor,proposal,signed\nAAA,"call,1\n', ("line",)),
    ("actor,proposal,signed\n", ("at least one row",)),
    ("actor,proposal,signed\nAAA,call,1\nBBB,call,0\nAAA,call,1\n", ("row 4", "row 2")),
    ("actor,proposal,signed,signed\nAAA,call,1,0\n", ("each column once", "signed")),
    ("actor,proposal,signed,by\nAAA,call,1,0001-01-01\n", ("row 2: by", "inside the run")),
    ("actor,proposal,signed,by\nAAA,call,1,9999-12-31\n", ("row 2: by", "inside the run")),
    ("actor,proposal,signed\nacme_corp,code,1\n", ("row 2: actor", "may sign code")),
    ("actor,proposal,signed\nAAA,call\n", ("line 2", "3 values")),
], ids=["empty", "unclosed_quote", "header_only", "duplicate_rows", "duplicate_columns",
        "year_1", "year_9999", "firm_on_states_only", "ragged"])
def test_10_malformed_observed_tables(tiny_results, tmp_path, text, needles):
    path = tmp_path / "observed.csv"
    path.write_text(text, encoding="utf-8")
    fails_cleanly("score", tiny_results, "--observed", path, needles=(str(path), *needles))


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "binary"])
def test_10_observed_tables_in_other_encodings(tiny_results, tmp_path, encoding):
    text = "actor,proposal,signed,note\nAAA,call,1,d\u00e9j\u00e0\n"
    path = tmp_path / "observed.csv"
    if encoding == "binary":
        path.write_bytes(b"\x00\x01\x02\xff\xfe" * 50)
        fails_cleanly("score", tiny_results, "--observed", path, needles=(str(path),))
        return
    path.write_bytes(text.encode(encoding))
    if encoding == "latin-1":
        fails_cleanly("score", tiny_results, "--observed", path, needles=("--encoding",
                                                                           "UTF-8"))
        code, _, err = run_cli("score", tiny_results, "--observed", path, "--encoding",
                               "latin-1")
    else:  # a byte-order mark says it is UTF-16
        code, _, err = run_cli("score", tiny_results, "--observed", path)
    assert code == 0, err


def test_10_score_of_200k_rows_takes_under_5_seconds(tmp_path_factory):
    """200,000 observed rows (2,000 firms x 100 dates) scored in under 5 s, and the
    vectorised probabilities equal a by-hand count for a sample of rows."""
    from sim.studies.score import score

    out = tmp_path_factory.mktemp("score200k") / "run"
    code, _, err = run_cli("run", TINY, "--reps", 2, "--out", out, "--set",
                           "world.firms.generated=2000", "--set", "metadata.steps=20")
    assert code == 0, err
    actors = pd.read_parquet(out / "actors.parquet")
    firms = sorted(actors.loc[actors["kind"] == "firm", "actor_id"].unique())[:2000]
    days = pd.date_range("2020-01-06", periods=100, freq="D").strftime("%Y-%m-%d")
    rows = pd.DataFrame([(f, "call", (i + j) % 2, d) for i, f in enumerate(firms)
                         for j, d in enumerate(days)],
                        columns=["actor", "proposal", "signed", "by"])
    path = out / "observed.csv"
    rows.to_csv(path, index=False)
    started = time.perf_counter()
    result = score(out, path)
    assert time.perf_counter() - started < 5.0
    assert len(result.signatures) == 200_000
    mine = actors[actors["proposal"] == "call"].set_index("actor_id")
    for row in result.signatures.sample(50, random_state=1).itertuples():
        step = (pd.Timestamp(row.by) - pd.Timestamp("2020-01-06")).days // 7 + 1
        first = mine.loc[[row.actor], "signed_step"]
        assert row.probability == sum(1 for s in first if not pd.isna(s) and s <= step) / 2


# --- 11. output folders ----------------------------------------------------------------


def test_11_a_read_only_out_folder_is_one_message(tmp_path, monkeypatch):
    """A folder this user may not write (or, for a user who may write anywhere, a stand-in
    that refuses to create anything there, as a read-only disk does)."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o500)
    if _writable(folder):
        refuse_folders_under(monkeypatch, folder)
    try:
        fails_cleanly("sweep", GRID, "--out", folder / "out", "--backend", "serial",
                      needles=(str(folder),))
        fails_cleanly("run", TINY, "--out", folder / "run", needles=(str(folder),))
    finally:
        folder.chmod(0o700)


def _writable(folder: Path) -> bool:
    try:
        (folder / "probe").write_text("x")
    except OSError:
        return False
    (folder / "probe").unlink()
    return True


def test_11_a_full_disk_ends_the_sweep_with_a_message_and_status_failed(tmp_path,
                                                                        monkeypatch):
    import errno

    import sim.studies.results as results

    real, written = results.pq.write_table, []

    def fills_up(table, where, **options):
        if len(written) >= 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(where))
        written.append(where)
        return real(table, where, **options)

    monkeypatch.setattr(results.pq, "write_table", fills_up)
    out = tmp_path / "out"
    fails_cleanly("sweep", experiment(tmp_path, batch=1), "--out", out, "--backend", "serial",
                  needles=("disk with free space", str(out)))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "No space left" in manifest["reason"]


def test_11_report_on_a_corrupt_shard_names_it_and_says_how_to_recover(tmp_path):
    out = tmp_path / "out"
    assert run_cli("sweep", GRID, "--out", out, "--backend", "serial")[0] == 0
    shard = next((out / "metrics").glob("part-*.parquet"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    fails_cleanly("report", out, needles=(shard.name, "--resume"))


# --- 12. silent data loss --------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncate", "overwrite", "empty", "delete"])
def test_12_resume_detects_damaged_shards_and_recomputes_their_runs(tmp_path, damage):
    from sim.studies.results import load_results

    reference = tmp_path / "reference"
    assert run_cli("sweep", GRID, "--out", reference, "--backend", "serial")[0] == 0
    out = tmp_path / "out"
    assert run_cli("sweep", GRID, "--out", out, "--backend", "serial")[0] == 0
    shard = next((out / "metrics").glob("part-*.parquet"))
    if damage == "truncate":
        shard.write_bytes(shard.read_bytes()[:-100])
    elif damage == "overwrite":
        other = pd.read_parquet(shard).head(3)
        other.to_parquet(shard)
    elif damage == "empty":
        shard.write_bytes(b"")
    else:
        shard.unlink()
    code, _, err = run_cli("sweep", GRID, "--out", out, "--resume", "--backend", "serial")
    assert code == 0, err
    assert "damaged or missing" in err and "12 to run" in err
    expected, got = load_results(reference), load_results(out)
    pd.testing.assert_frame_equal(got.metrics, expected.metrics)
    assert got.manifest["status"] == "complete"


# --- 13. locks -------------------------------------------------------------------------


def test_13_a_second_sweep_into_a_locked_folder_is_refused_at_once(tmp_path):
    from sim.runs.store import folder_lock

    out = tmp_path / "out"
    with folder_lock(out):
        fails_cleanly("sweep", GRID, "--out", out, "--backend", "serial",
                      needles=("is writing it", "process"), seconds=3)
    assert run_cli("sweep", GRID, "--out", out, "--backend", "serial")[0] == 0
    assert not (out / ".lock").exists()


# --- 14. duplicate keys ----------------------------------------------------------------


def test_14_duplicate_keys_name_both_lines(tmp_path):
    path = variant(tmp_path, f"extends: {TINY}\nmetadata:\n  name: a\nextends: {BASELINE}\n")
    fails_cleanly("validate", path, needles=("line 1", "line 4", "extends"))


# --- 15. no coercion -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "'0.5'", '"0.5"', "no"])
def test_15_booleans_and_text_are_not_numbers(value):
    fails_cleanly("run", TINY, "--steps", 1, "--set", f"behaviour.firm.peers={value}",
                  needles=("behaviour.firm.peers", "a number"))


def test_15_counts_are_whole_numbers():
    fails_cleanly("run", TINY, "--set", "metadata.steps=2.5", needles=("whole number",))
    fails_cleanly("run", TINY, "--set", "metadata.steps=true", needles=("whole number",))


# --- 16. strict JSON -------------------------------------------------------------------


def test_16_json_output_has_null_not_nan():
    """No state signs, so the tipping step is undefined: null, not a bare NaN."""
    code, out, _ = run_cli("run", TINY, "--steps", 2, "--format", "json", "--set",
                           "behaviour.state.threshold.mean=5")
    assert code == 0

    def refuse(constant):
        raise AssertionError(f"bare {constant} in JSON output")

    summary = json.loads(out, parse_constant=refuse)
    assert summary["proposals"]["call"]["end"]["tipping_step"]["mean"] is None


# --- 17. other files are never quoted --------------------------------------------------


def test_17_extending_a_file_that_is_not_a_scenario_quotes_none_of_it(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon\n")
    path = variant(tmp_path, f"extends: {secret}\n", "leaks.yaml")
    err = fails_cleanly("validate", path, needles=(str(secret), "mapping of sections"))
    assert "root" not in err.replace(str(tmp_path), "")


# --- 18. a bug stays visible -----------------------------------------------------------


def test_an_unforeseen_exception_is_a_bug_with_its_traceback(monkeypatch):
    import sim.cli

    def broken(args):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setitem(sim.cli.COMMANDS, "validate", broken)
    code, _, err = run_cli("validate", TINY)
    assert code == 70
    assert "Traceback" in err and "something nobody foresaw" in err
    assert "This is a bug in cybernorms" in err


def test_18_the_dashboard_stops_quietly_on_ctrl_c(monkeypatch):
    import click
    import solara.__main__

    import sim.dashboard.server as server

    def interrupted(*args, **kwargs):
        raise click.exceptions.Abort()

    monkeypatch.setattr(server, "assets_ready", lambda: True)
    monkeypatch.setattr(solara.__main__.run, "main", interrupted)
    code, out, err = run_cli("dashboard")
    assert code == 0 and "Traceback" not in err and "stopped" in err


# --- 19. newcomer commands -------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["run", TINY, "--seed", "-1"],
    ["compare", TINY, TINY, "--reps", "0"],
    ["compare", TINY, TINY, "--reps", "1"],
    ["replications", TINY, "--reps", "0"],
    ["replications", TINY, "--reps", "1"],
    ["run", TINY, "--workers", "2"],
])
def test_19_bad_counts_are_one_message(argv):
    fails_cleanly(*argv)


def test_19_replications_with_two_runs_writes_its_table(tmp_path):
    code, out, err = run_cli("replications", TINY, "--reps", 2, "--steps", 3, "--out",
                             tmp_path / "reps", "--backend", "serial")
    assert code == 0, err
    assert (tmp_path / "reps" / "sufficiency.csv").is_file()
    assert "2 runs at about" in err


def test_19_the_library_refuses_bad_counts_too():
    from sim.errors import InputError
    from sim.studies.comparison import compare, replicate_runs

    with pytest.raises(InputError, match="reps"):
        compare([TINY, TINY], 1)
    with pytest.raises(InputError, match="reps"):
        replicate_runs(TINY, 0)


# --- 20. messages that point the right way ---------------------------------------------


def test_20_a_typo_in_a_set_path_suggests_the_existing_key():
    fails_cleanly("run", BASELINE, "--set", "proposals.pariscall.bindingness=0.6",
                  needles=("proposals has no 'pariscall'", "did you mean 'paris_call'"))


def test_20_an_extends_that_does_not_resolve_names_the_extends_line(tmp_path):
    path = variant(tmp_path, "extends: ../nowhere/base.yaml\n", "lost.yaml")
    fails_cleanly("validate", path, needles=("lost.yaml: extends", "'../nowhere/base.yaml'",
                                             "looked for"))


def test_20_a_missing_experiment_file_is_called_an_experiment_file():
    fails_cleanly("sweep", "experiments/nope.yaml", needles=("experiment file",))


# --- 21. output that says what it means ------------------------------------------------


def test_21_one_run_says_at_which_step_not_in_what_share_of_runs(tmp_path):
    reached = extends_tiny(tmp_path, "")
    code, out, _ = run_cli("run", reached)
    assert code == 0
    line = next(line for line in out.splitlines() if "tipping point" in line)
    assert "%" not in line and ("reached at step" in line or "not reached" in line)
    assert "a third of states: 2 of 6" in line


def test_21_shares_have_three_digits_beside_the_tipping_line():
    code, out, _ = run_cli("run", BASELINE, "--steps", 1)
    assert code == 0
    row = next(line for line in out.splitlines() if line.strip().startswith("2018-11-12"))
    assert any(len(cell.split(".")[-1]) == 3 for cell in row.split() if "." in cell)


def test_21_holm_adjusts_each_outcome_and_time_point_separately():
    """Three scenarios that differ clearly from the first in every outcome: a difference
    whose CI excludes 0 is never reported with a Holm-adjusted p of 1."""
    import numpy as np

    from sim.studies.comparison import comparison_table

    rng = np.random.default_rng(0)
    rows = []
    for metric in ("signers_state", "signers_firm", "signers_civil", "share_gdp"):
        for at in ("2020-01-06", "2020-02-03", "end"):
            for k, label in enumerate(["a", "b", "c", "d"]):
                for replicate in range(10):
                    rows.append({"proposal": "call", "metric": metric, "at": at,
                                 "scenario": label, "replicate": replicate,
                                 "value": 10 + 0.8 * k + rng.normal(0, 1)})
    table = comparison_table(pd.DataFrame(rows), ["a", "b", "c", "d"])
    excludes = table[(table["diff_low"] > 0) | (table["diff_high"] < 0)]
    assert len(excludes) > 10
    assert (excludes["p_holm"] < 0.2).all()


def test_21_compare_says_at_which_step_and_which_family_is_adjusted():
    code, out, err = run_cli("compare", TINY, TINY, "--reps", 2, "--steps", 3, "--backend",
                             "serial")
    assert code == 0, err
    assert "At the last step: step 3 (2020-01-20)" in out
    assert "within each outcome and time point" in out
    assert "2 scenarios x 2 replications: 4 runs at about" in err


def test_21_json_and_table_agree_on_nan_free_output():
    code, out, _ = run_cli("run", TINY, "--reps", 2, "--steps", 2, "--format", "json")
    assert code == 0
    assert not any(isinstance(v, float) and math.isnan(v) for v in _leaves(json.loads(out)))


def _leaves(data):
    if isinstance(data, dict):
        for value in data.values():
            yield from _leaves(value)
    elif isinstance(data, list):
        for value in data:
            yield from _leaves(value)
    else:
        yield data


# --- found by a generator outside the project ------------------------------------------


def test_a_scenario_whose_only_proposal_is_deleted_is_refused(tmp_path):
    """`proposals: {paris_call: null}` deletes the only proposal: an error, not a crash."""
    path = variant(tmp_path, f"extends: {BASELINE}\nproposals:\n  paris_call:\n")
    fails_cleanly("validate", path, needles=("proposals", "at least one entry"))


def test_the_smallest_scenario_runs_compares_and_replicates(tmp_path):
    """No blocs and no signer at all: every command that draws or tabulates still works."""
    minimal = DATA / "minimal.yaml"
    for argv in (["run", minimal, "--reps", 2, "--format", "json"],
                 ["compare", minimal, minimal, "--reps", 2, "--out", tmp_path / "compare",
                  "--backend", "serial"],
                 ["replications", minimal, "--reps", 3, "--out", tmp_path / "reps",
                  "--backend", "serial"]):
        code, _, err = run_cli(*argv)
        assert code == 0, err


@pytest.mark.parametrize("content", [b"", b"iso3,call_since,code_vote\n", b"\xff\xfe\x00\x01",
                                     b'iso3,call_since\nAAA,"2020\n'],
                         ids=["empty", "header_only", "binary", "unclosed_quote"])
def test_a_broken_outcomes_table_is_one_message(tmp_path, content):
    """Found by the fuzz suite: the per-state outcomes of a targets file went to pandas
    unchecked (an empty file was a traceback); they are read as score's tables are."""
    targets = yaml.safe_load((DATA / "experiments" / "outcomes.yaml").read_text())
    targets["scenario"] = str(TINY)
    targets["outcomes"]["file"] = str(tmp_path / "outcomes.csv")
    (tmp_path / "outcomes.csv").write_bytes(content)
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(targets))
    fails_cleanly("validate-fit", path, "--reps", 1, "--backend", "serial",
                  needles=("outcomes.csv",))
    fails_cleanly("baseline", path, needles=("outcomes.csv",))
