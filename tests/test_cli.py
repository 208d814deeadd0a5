"""The `cybernorms` command line (sim.cli.main, in process): validate, schema, run, and
what `run --out` writes (tables, manifest, resolved scenario), reproducibly."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TINY = DATA / "tiny.yaml"
BASELINE = ROOT / "scenarios" / "paris_call_2018.yaml"
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
BAD_FILE = DATA / "bad" / "bindingness_high.yaml"

PER_RUN_TABLES = ("steps", "actors", "votes", "metrics")
GENERATED_ID = r"(firm|civil)_\d+"


def cli(capsys, *argv) -> tuple[int, str, str]:
    """Run the command line in process: (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def quiet_main(*argv) -> tuple[int, str]:
    """Run the command line without capsys (for module-scoped fixtures)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main([str(a) for a in argv])
    return code, buffer.getvalue()


def tables_in(directory: Path, names=PER_RUN_TABLES) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(directory / f"{name}.parquet") for name in names}


# --- validate ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*SHIPPED, TINY], ids=lambda p: p.stem)
def test_validate_good_scenario_exits_0(capsys, path):
    """`validate FILE` on every shipped scenario (and tiny) prints ok and exits 0."""
    code, out, err = cli(capsys, "validate", path)
    assert code == 0
    assert out == f"ok  {path}\n"
    assert err == ""


def test_validate_bad_file_exits_2_naming_file_and_field(capsys):
    """A bad file: exit 2, stderr starts with "error:" and names file, field, value."""
    code, out, err = cli(capsys, "validate", BAD_FILE)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert "bindingness_high.yaml" in err
    assert "proposals.call.bindingness" in err
    assert "got 1.7" in err


def test_validate_stops_at_the_first_bad_file(capsys):
    """With several files, files before the bad one are ok and later ones are not checked."""
    code, out, err = cli(capsys, "validate", TINY, BAD_FILE, BASELINE)
    assert code == 2
    assert out.splitlines() == [f"ok  {TINY}"]
    assert "paris_call_2018" not in out
    assert err.count("error:") == 1 and "bindingness_high.yaml" in err


@pytest.mark.parametrize("name", ["syntax_error", "python_tag", "top_level_list", "cycle_a",
                                  "missing_base", "unknown_key"])
def test_validate_each_bad_fixture_exits_2(capsys, name):
    """Every bad fixture gives exit 2 and a one-line-headed error, never a traceback."""
    code, _, err = cli(capsys, "validate", DATA / "bad" / f"{name}.yaml")
    assert code == 2
    assert err.startswith("error: ")
    assert "Traceback" not in err


def test_python_m_sim_validate_exits_0():
    """`python -m sim validate scenarios/paris_call_2018.yaml` works as a real process."""
    result = subprocess.run(
        [sys.executable, "-m", "sim", "validate", "scenarios/paris_call_2018.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok  scenarios/paris_call_2018.yaml"


# --- schema -----------------------------------------------------------------------------


def test_schema_prints_json_with_the_scenario_sections(capsys):
    """`schema` prints a JSON Schema whose properties include proposals."""
    code, out, _ = cli(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    assert "proposals" in schema["properties"]
    assert schema["$schema"].endswith("2020-12/schema")


# --- run --------------------------------------------------------------------------------


def test_run_prints_a_summary_with_the_proposal_ids(capsys):
    """`run tiny.yaml` prints the header and one block per proposal id."""
    code, out, err = cli(capsys, "run", TINY)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "tiny: 20 weekly steps, 2020-01-06 to 2020-05-24"
    assert lines[1] == "runs: 1, seed 7"
    assert any(line.startswith("call: An open call (sponsor AAA") for line in lines)
    assert any(line.startswith("code: A sovereignty code (sponsor BBB") for line in lines)


def test_run_json_format_parses(capsys):
    """`--format json` prints one JSON document with the proposals and the seed."""
    code, out, _ = cli(capsys, "run", TINY, "--format", "json")
    assert code == 0
    summary = json.loads(out)
    assert summary["scenario"] == "tiny"
    assert set(summary["proposals"]) == {"call", "code"}
    assert (summary["runs"], summary["seeds"], summary["steps"]) == (1, [7], 20)
    assert "end" in summary["proposals"]["call"]


def test_run_steps_option_shortens_the_run(capsys):
    """`--steps 5` runs five weekly steps."""
    code, out, _ = cli(capsys, "run", TINY, "--steps", "5", "--format", "json")
    assert code == 0
    summary = json.loads(out)
    assert summary["steps"] == 5
    assert summary["last_date"] == "2020-02-09"


def test_run_set_overrides_a_field(capsys):
    """`--set proposals.call.bindingness=0.9` is applied (shown in the summary)."""
    code, out, _ = cli(capsys, "run", TINY, "--set", "proposals.call.bindingness=0.9")
    assert code == 0
    assert "bindingness 0.9)" in out
    assert "bindingness 0.1)" not in out


@pytest.mark.parametrize(("args", "needle"), [
    (["--set", "nonsense"], "--set: nonsense"),
    (["--set", "proposals.call.bindingness=2"], "override proposals.call.bindingness"),
    (["--set", "proposals.call.bindingnes=0.5"], "did you mean 'bindingness'?"),
    (["--reps", "0"], "--reps"),
])
def test_run_bad_arguments_exit_2(capsys, args, needle):
    """Bad --set / --reps values: exit 2 with an "error:" line saying what is wrong."""
    code, out, err = cli(capsys, "run", TINY, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert needle in err


def test_run_unknown_scenario_name_suggests_a_shipped_one(capsys):
    """`run paris_call_2019` exits 2 and suggests paris_call_2018."""
    code, _, err = cli(capsys, "run", "paris_call_2019")
    assert code == 2
    assert err.startswith("error: paris_call_2019")
    assert "did you mean 'paris_call_2018'?" in err


# --- run --out: replicates --------------------------------------------------------------


@pytest.fixture(scope="module")
def replicates(tmp_path_factory):
    """`run tiny.yaml --reps 3 --seed 1 --out DIR`, run once for the tests below."""
    out = tmp_path_factory.mktemp("reps") / "out"
    code, stdout = quiet_main("run", TINY, "--reps", "3", "--seed", "1", "--out", out)
    assert code == 0
    return out, stdout


def test_replicates_write_every_table_and_manifest(replicates):
    """--out writes the run record's tables (texts and trajectories empty here),
    signing_probability, manifest.json and scenario.yaml."""
    out, stdout = replicates
    names = {p.name for p in out.iterdir()}
    assert names == {"steps.parquet", "actors.parquet", "votes.parquet", "metrics.parquet",
                     "texts.parquet", "trajectories.parquet",
                     "signing_probability.parquet", "manifest.json", "scenario.yaml"}
    assert f"tables written to {out}/" in stdout
    assert "runs: 3 (mean [2.5%, 97.5%] over runs)" in stdout


def test_replicates_leave_no_temporary_files(replicates):
    """Atomic writes leave no ".<name>.<random>.tmp" files behind."""
    out, _ = replicates
    assert [p.name for p in out.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"] == []


def test_replicate_tables_carry_run_id_and_three_distinct_seeds(replicates):
    """Every per-run table has run_id and seed first; the 3 replicates' seeds differ."""
    out, _ = replicates
    manifest = json.loads((out / "manifest.json").read_text())
    manifest_seeds = {run["seed"] for run in manifest["runs"]}
    manifest_ids = {run["run_id"] for run in manifest["runs"]}
    assert len(manifest_seeds) == 3 and len(manifest_ids) == 3
    for name, frame in tables_in(out).items():
        assert list(frame.columns[:2]) == ["run_id", "seed"], name
        assert frame["run_id"].notna().all() and frame["seed"].notna().all(), name
        assert set(frame["seed"]) == manifest_seeds, name
        assert set(frame["run_id"]) == manifest_ids, name
        pairs = frame[["run_id", "seed"]].drop_duplicates()
        assert len(pairs) == 3, name  # one seed per run id
    steps = tables_in(out)["steps"]
    assert steps.groupby("seed")["step"].max().tolist() == [20, 20, 20]


def test_replicate_results_differ_between_seeds(replicates):
    """The three replicates are not copies of one another."""
    out, _ = replicates
    actors = tables_in(out)["actors"]
    per_seed = [group.drop(columns=["run_id", "seed"]).reset_index(drop=True)
                for _, group in actors.groupby("seed")]
    assert not all(per_seed[0].equals(other) for other in per_seed[1:])


def test_signing_probability_averages_the_replicates(replicates):
    """signing_probability: for actors that exist in every run (states, named actors), one
    row per actor, proposal and checkpoint holding a share of the 3 runs."""
    out, _ = replicates
    frame = pd.read_parquet(out / "signing_probability.parquet")
    assert (frame["runs"] == 3).all()
    assert frame["probability"].between(0, 1).all()
    assert set(frame["at"]) == {"2020-01-06", "2020-02-03", "end"}
    fixed = frame[~frame["actor_id"].str.fullmatch(GENERATED_ID)]
    assert set(fixed["actor_id"]) >= {"AAA", "FFF", "acme_corp", "red_systems"}
    assert not fixed.duplicated(["actor_id", "proposal", "at"]).any()
    thirds = (fixed["probability"] * 3).round(9)
    assert (thirds == thirds.round()).all()
    actors = tables_in(out, ["actors"])["actors"]
    signed = actors[(actors["actor_id"] == "AAA") & (actors["proposal"] == "call")]["signed"]
    end = fixed[(fixed["actor_id"] == "AAA") & (fixed["proposal"] == "call")
                & (fixed["at"] == "end")]["probability"]
    assert end.tolist() == [signed.mean()]


def test_signing_probability_rows_match_their_run_count(replicates):
    """Every row's probability is a share of `runs` runs, one row per actor/proposal/at."""
    out, _ = replicates
    frame = pd.read_parquet(out / "signing_probability.parquet")
    assert not frame.duplicated(["actor_id", "proposal", "at"]).any()
    shares = (frame["probability"] * frame["runs"]).round(9)
    assert (shares == shares.round()).all()


def test_signing_probability_names_its_runs(replicates):
    """The aggregate over runs says how many runs it covers; the manifest lists their seeds."""
    out, _ = replicates
    frame = pd.read_parquet(out / "signing_probability.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(frame["runs"]) == {3}
    assert len({run["seed"] for run in manifest["runs"]}) == 3


def test_manifest_records_the_scenario_digest(replicates):
    """The manifest names the scenario, its digest and the package versions."""
    out, _ = replicates
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"] == "tiny"
    assert manifest["scenario_digest"] == load_scenario(TINY).digest()
    assert manifest["versions"]["pandas"] == pd.__version__
    assert manifest["model_version"]


def test_saved_scenario_yaml_reloads_to_the_same_digest(replicates):
    """scenario.yaml is the resolved scenario: reloaded against tiny's folder (where its
    relative tables are), it has the run's digest."""
    out, _ = replicates
    data = yaml.safe_load((out / "scenario.yaml").read_text())
    assert "extends" not in data
    assert load_scenario(data, base_dir=DATA).digest() == load_scenario(TINY).digest()


def test_saved_scenario_yaml_reloads_from_the_output_folder(replicates):
    """load_scenario(DIR/scenario.yaml) works as is and has the run's digest."""
    out, _ = replicates
    assert load_scenario(out / "scenario.yaml").digest() == load_scenario(TINY).digest()


def test_saved_baseline_scenario_reloads_by_path(capsys, tmp_path):
    """With packaged tables only, DIR/scenario.yaml reloads by path to the same digest."""
    code, _, err = cli(capsys, "run", BASELINE, "--steps", "2", "--out", tmp_path)
    assert code == 0, err
    expected = load_scenario(BASELINE, {"metadata.steps": 2}).digest()
    assert load_scenario(tmp_path / "scenario.yaml").digest() == expected
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["scenario_digest"] == expected


# --- determinism ------------------------------------------------------------------------


def test_same_seed_gives_identical_tables_and_another_seed_differs(capsys, tmp_path):
    """Two runs with --seed 5 write identical tables; --seed 6 gives different results."""
    runs = {}
    for label, seed in (("a", 5), ("b", 5), ("c", 6)):
        code, _, err = cli(capsys, "run", TINY, "--seed", seed, "--out", tmp_path / label)
        assert code == 0, err
        runs[label] = tables_in(tmp_path / label)
    for name in PER_RUN_TABLES:
        pd.testing.assert_frame_equal(runs["a"][name], runs["b"][name])
    assert (runs["a"]["steps"]["seed"] == 5).all()
    assert (runs["c"]["steps"]["seed"] == 6).all()
    differs = []
    for name in PER_RUN_TABLES:
        left = runs["a"][name].drop(columns=["run_id", "seed"])
        right = runs["c"][name].drop(columns=["run_id", "seed"])
        differs.append(not left.equals(right))
    assert any(differs)
