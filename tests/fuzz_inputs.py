"""Generated bad (and good) inputs for every command, for tests/test_fuzz.py.

Each input class is a hypothesis strategy that draws a `Case`: the command line and
the files it reads (written to a fresh folder per example). `FUZZED` maps every
command of `sim.cli.COMMANDS` to its strategies and how many examples to draw:
adding a command to the fuzz suite is one strategy and one line there.

Inputs start from the project's own files (shipped scenarios, the tiny test world,
the test experiments, targets and observed tables) and are mutated the way users and
editors break files: values replaced by wrong types, huge or negative numbers,
impossible dates, keys dropped, renamed or duplicated, deep nesting, alias bombs,
other encodings, NUL bytes, truncation; paths with NUL bytes or overlong names.
Counts are mutated to small or absurd values, never to large valid ones, so that an
example that passes validation runs in seconds (a large valid run is not a hang).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SCENARIOS = ROOT / "scenarios"
EXPERIMENTS = DATA / "experiments"


@dataclass
class Case:
    """One example: argv and files to write in the example's folder ({dir} in either
    stands for that folder)."""

    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)  # name -> prepared fixture to copy

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        shown = {name: data[:300] for name, data in self.files.items()}
        return f"Case(argv={self.argv!r}, files={shown!r}, folders={self.folders!r})"


# --- the files mutations start from ------------------------------------------------------


def _absolute(data: dict, directory: Path) -> dict:
    """A file's data with `extends:`, `scenario:` and table paths made absolute, so the
    mutated copy can live in any folder."""
    data = copy.deepcopy(data)
    if isinstance(data.get("extends"), str):
        data["extends"] = str(directory / data["extends"])
    if isinstance(data.get("scenario"), str):
        data["scenario"] = str((directory / data["scenario"]).resolve())
    outcomes = data.get("outcomes")
    if isinstance(outcomes, dict) and isinstance(outcomes.get("file"), str):
        outcomes["file"] = str((directory / outcomes["file"]).resolve())
    world = data.get("world") or {}
    for section, key in (("states", "roster"), ("firms", "named"), ("civil", "named")):
        value = (world.get(section) or {}).get(key)
        if isinstance(value, str) and value.endswith(".csv"):
            world[section][key] = str(directory / value)
    return data


def _load(path: Path) -> dict:
    return _absolute(yaml.safe_load(path.read_text(encoding="utf-8")), path.parent)


SCENARIO_FILES = [DATA / "tiny.yaml", DATA / "minimal.yaml", *sorted(SCENARIOS.glob("*.yaml"))]
BASE_SCENARIOS = [_load(p) for p in SCENARIO_FILES]
#: scenarios that run fast enough to be run by the fuzz suite (the tiny world, or a
#: one-line variant of the baseline)
RUNNABLE = [_load(DATA / "tiny.yaml"), _load(DATA / "minimal.yaml"),
            _load(SCENARIOS / "states_only.yaml"), _load(SCENARIOS / "narrow_scope.yaml")]
BASE_EXPERIMENTS = [e for e in (_load(p) for p in sorted(EXPERIMENTS.glob("*.yaml")))
                    if "design" in e]  # experiments, not targets files
BASE_TARGETS = _load(EXPERIMENTS / "targets.yaml")
BASE_OUTCOMES = _load(EXPERIMENTS / "outcomes.yaml")
#: a design file for the tiny world (its `space` is the tiny world's dimensions)
BASE_DESIGN = {"name": "tiny_design", "proposal": "call", "objective": "share_states",
               "track": ["joined_EEE"], "space": {"content": {"openness": [0.2, 1.0],
                                                             "restraint": [0.0, 1.0]},
                                                 "bindingness": [0.0, 0.8]},
               "search": {"samples": 2, "neighbours": True, "rounds": 1, "per_round": 2,
                          "replications": 1, "seed": 3}}

# --- values that break fields ------------------------------------------------------------

HUGE_INTEGER = "9" * 5000
DEEP = "__deep__"
SMALL_NUMBERS = st.sampled_from([-1, 0, 1, 2, 3, 0.0, 0.5, 1.0, -0.5, 1.5])
ABSURD_NUMBERS = st.sampled_from([10**9, 10**12, -10**9, 1e300, -1e300, 10**29, 2**63,
                                  1e-300, 1e-7])
WRONG_TYPES = st.sampled_from([True, False, None, "", "x", "0.5", "true", "2018-02-30", [],
                               [1, 2], {}, {"a": 1}, "null", "~", ".nan", "-.inf"])
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
VALUES = st.one_of(SMALL_NUMBERS, ABSURD_NUMBERS, WRONG_TYPES, TEXT,
                   st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True))


def _paths(data, prefix=()) -> list[tuple]:
    """Every key path into nested mappings and lists, down to 20 levels (so that nesting
    mutations stay within what the generator itself can write)."""
    found = []
    if len(prefix) >= 20:
        return found
    if isinstance(data, dict):
        for key, value in data.items():
            found.append((*prefix, key))
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.append((*prefix, index))
            found += _paths(value, (*prefix, index))
    return found


def _parent(data, path: tuple):
    node = data
    for key in path[:-1]:
        node = node[key]
    return node


@st.composite
def mutated(draw, data: dict, rounds: int = 3) -> dict:
    """`data` with up to `rounds` structural or value mutations at drawn paths."""
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(0, rounds))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        node, key = _parent(data, path), path[-1]
        action = draw(st.sampled_from(["value", "value", "value", "delete", "typo", "extra",
                                       "nest"]))
        if action == "value":
            node[key] = draw(VALUES)
        elif action == "delete":
            del node[key]
        elif action == "typo" and isinstance(node, dict) and isinstance(key, str) and key:
            node[key[:-1] + draw(st.sampled_from(["", "x", "_", key[-1] * 2]))] = node.pop(key)
        elif action == "extra" and isinstance(node, dict):
            node[draw(st.sampled_from(["unknown", "extends", "metadata", "0", "proposal"]))] = \
                draw(VALUES)
        elif action == "nest":
            depth = draw(st.sampled_from([2, 30, 70, 500]))
            value: object = node[key]
            for _ in range(depth if depth < 100 else 0):
                value = [value]
            node[key] = value if depth < 100 else DEEP  # too deep to dump: written as text
    return data


@st.composite
def yaml_text(draw, data: dict, breaks: bool = True) -> bytes:
    """YAML text of `data`, then (with `breaks`) perhaps broken as text or bytes."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6)
    text = text.replace(DEEP, "[" * 500 + "]" * 500)
    if not breaks:
        return text.encode()
    how = draw(st.sampled_from(["none"] * 6 + ["duplicate", "bomb", "date", "truncate",
                                                "tab", "tag", "anchor", "bigint", "deep_flow"]))
    if how == "duplicate":
        lines = text.splitlines(keepends=True)
        top = [line for line in lines if line and not line[0].isspace()]
        text += draw(st.sampled_from(top)) if top else "a: 1\na: 2\n"
    elif how == "bomb":
        size = draw(st.sampled_from([3, 10]))
        bomb = ['b0: &b0 "lol"'] + [f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * size) + "]"
                                    for i in range(1, 12)]
        text = "\n".join(bomb) + "\n" + text
    elif how == "date":
        text = text.replace("2018-11-12", draw(st.sampled_from(
            ["2018-02-30", "2018-11-12T25:61:00", "0000-01-01", "9999-12-31", "2018-13-12"])))
        text = text.replace("2020-01-06", "2020-02-30")
    elif how == "truncate":
        text = text[: draw(st.integers(0, max(len(text) - 1, 0)))]
    elif how == "tab":
        text = text.replace("  ", "\t", 1)
    elif how == "tag":
        text = text.replace(": ", ": !!python/object/apply:os.system ['true'] #", 1) \
            if draw(st.booleans()) else text.replace(": 0.", ": !!int 0.", 1)
    elif how == "anchor":
        text = "x: &a [*a]\n" + text
    elif how == "bigint":
        text = text.replace(": 1\n", f": {HUGE_INTEGER}\n", 1) + f"zz: {HUGE_INTEGER}\n"
    elif how == "deep_flow":
        text += "deep: " + "[" * 1300 + "]" * 1300 + "\n"
    return draw(encoded(text))


@st.composite
def encoded(draw, text: str) -> bytes:
    how = draw(st.sampled_from(["utf-8"] * 8 + ["latin-1", "utf-16", "utf-8-sig", "nul",
                                                "random"]))
    if how == "latin-1":
        return (text + "# caf\u00e9\n").encode("latin-1", errors="replace")
    if how == "nul":
        data = text.encode()
        cut = draw(st.integers(0, len(data)))
        return data[:cut] + b"\x00" + data[cut:]
    if how == "random":
        return draw(st.binary(min_size=1, max_size=400))
    return text.encode(how)


@st.composite
def scenario_bytes(draw, bases=BASE_SCENARIOS, rounds: int = 3, breaks: bool = True) -> bytes:
    return draw(yaml_text(draw(mutated(draw(st.sampled_from(bases)), rounds)), breaks))


# --- paths ---------------------------------------------------------------------------------

BAD_PATHS = st.sampled_from(["no_such.yaml", "a\x00b.yaml", "n" * 300 + ".yaml",
                             "d/" + "e" * 256 + "/f.yaml", "", " ", "/", ".", "..",
                             "/etc/passwd", "/dev/null", "/proc/self/status", "-"])


@st.composite
def file_argument(draw, name: str, content) -> tuple[str, dict]:
    """The path of a written file (usually), or a bad path."""
    if draw(st.integers(0, 9)) == 0:
        return draw(BAD_PATHS), {}
    return "{dir}/" + name, {name: draw(content)}


# --- input classes, one strategy per command -------------------------------------------------

SERIAL = ["--backend", "serial"]
STEPS = st.sampled_from(["1", "2", "5", "0", "-3", "x", "1.5", HUGE_INTEGER, "100000000"])
REPS = st.sampled_from(["2", "3", "1", "0", "-1", "x", HUGE_INTEGER, "1e9"])
SEEDS = st.sampled_from(["0", "7", "-1", "x", str(2**63), str(2**64), HUGE_INTEGER, "1e3"])
LIMITS = st.sampled_from([[], [], [], ["--limit", "actors=1"], ["--limit", "nodes=10"],
                          ["--limit", "actros=5"], ["--limit", "steps=-1"],
                          ["--limit", "depth=" + HUGE_INTEGER]])


@st.composite
def validate_case(draw) -> Case:
    path, files = draw(file_argument("scenario.yaml", scenario_bytes()))
    return Case(["validate", path, *draw(LIMITS)], files)


@st.composite
def run_case(draw) -> Case:
    """`run --steps 5` on runnable scenarios, their values mutated (many still validate)."""
    path, files = draw(file_argument("scenario.yaml", scenario_bytes(
        RUNNABLE, rounds=1, breaks=draw(st.integers(0, 3)) == 0)))
    extra = draw(st.sampled_from([[], ["--format", "json"], ["--reps", "2"], ["--seed", "3"],
                                  ["--out", "{dir}/out"], ["--out", "{dir}/a\x00b"],
                                  ["--seed", draw(SEEDS)]]))
    return Case(["run", path, "--steps", "5", *extra, *draw(LIMITS)], files)


SET_PATHS = st.sampled_from([
    "proposals.call.bindingness", "proposals.cal.bindingness", "behaviour.firm.peers",
    "behaviour.launch_rounds", "world.civil.generated", "world.firms.generated",
    "metadata.start", "metadata.steps", "metadata.seed", "report.checkpoints",
    "report.checkpoints.5", "report.checkpoints.x", "proposals.call.open_to",
    "proposals.call.content", "proposals.call", "proposals.new.content", "blocs",
    "world.network.same_home.degree", "events.warming.at", "a..b", ".", "x" * 300,
    "proposals.call.launch", "behaviour.state.threshold", "dimensions.openness"])
SET_VALUES = st.one_of(
    st.sampled_from(["0.6", "true", "'0.5'", "null", "[state, firm]", "{a: 1}", "2018-02-30",
                     "2020-01-06", "1000000000", HUGE_INTEGER, "[" * 1200 + "]" * 1200,
                     "&a [*a]", "!!python/object/apply:os.system [true]", "[1,", "-1",
                     "1e400", ".nan", "", "~", "\x00", "\t", "{", "2", "3"]),
    TEXT)


@st.composite
def set_case(draw) -> Case:
    """`run --set PATH=VALUE` (the value read as YAML) on the tiny world."""
    assignments = []
    for _ in range(draw(st.integers(1, 3))):
        path, value = draw(SET_PATHS), draw(SET_VALUES)
        assignments += ["--set", draw(st.sampled_from([f"{path}={value}", path,
                                                       f"={value}"]))
                        if draw(st.integers(0, 9)) == 0 else f"{path}={value}"]
    return Case(["run", str(DATA / "tiny.yaml"), "--steps", "2", *assignments])


@st.composite
def experiment_bytes(draw, bases=BASE_EXPERIMENTS) -> bytes:
    return draw(yaml_text(draw(mutated(draw(st.sampled_from(bases)), rounds=2))))


@st.composite
def sweep_dry_run_case(draw) -> Case:
    path, files = draw(file_argument("experiment.yaml", experiment_bytes()))
    return Case(["sweep", path, "--dry-run", *SERIAL, *draw(LIMITS)], files)


@st.composite
def sweep_case(draw) -> Case:
    """A real sweep of the small grid, into good, bad, locked or reused folders."""
    base = [e for e in BASE_EXPERIMENTS if e["name"] == "tiny_grid"]
    path, files = draw(file_argument("experiment.yaml", experiment_bytes(base)))
    out = draw(st.sampled_from(["{dir}/out", "{dir}/out", "{dir}/o\x00ut", "{dir}/" + "o" * 300,
                                "/proc/cybernorms", "{dir}/experiment.yaml"]))
    extra = draw(st.sampled_from([[], ["--resume"], ["--workers", "0"], ["--workers", "1"]]))
    return Case(["sweep", path, "--out", out, *SERIAL, *extra], files)


@st.composite
def sensitivity_case(draw) -> Case:
    """Mostly --dry-run; real runs with 4 samples (16 or 12 runs), to stay quick."""
    mode = draw(st.sampled_from([["--dry-run"]] * 4 + [["--out", "{dir}/out"]]))
    base = [{**e, "samples": 4} if mode[0] == "--out" else e for e in BASE_EXPERIMENTS
            if e["design"] in ("saltelli", "morris")]
    path, files = draw(file_argument("experiment.yaml", experiment_bytes(base)))
    return Case(["sensitivity", path, *mode, *SERIAL], files)


@st.composite
def targets_case(draw) -> Case:
    path, files = draw(file_argument("targets.yaml", yaml_text(draw(mutated(BASE_TARGETS,
                                                                            rounds=2)))))
    return Case(["calibrate", path, *SERIAL, *draw(st.sampled_from([[], ["--out",
                                                                         "{dir}/fit"]]))],
                files)


OBSERVED_ROWS = st.lists(st.tuples(
    st.sampled_from(["AAA", "BBB", "FFF", "acme_corp", "firm_0", "ZZZ", "", "aaa"]),
    st.sampled_from(["call", "code", "nope", ""]),
    st.sampled_from(["1", "0", "", "2", "yes", "-1", "1.0"]),
    st.sampled_from(["", "2020-01-06", "2020-02-17", "0001-01-01", "9999-12-31", "2020-02-30",
                     "x", "2019-12-31"]),
    st.sampled_from(["", "yes", "abstain", "no", "maybe"])), min_size=0, max_size=12)


VALID_ROWS = st.lists(st.tuples(
    st.sampled_from(["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]), st.just("call"),
    st.sampled_from(["1", "0"]), st.sampled_from(["", "2020-01-13", "2020-02-17"]),
    st.just("")), min_size=1, max_size=8, unique_by=lambda row: (row[0], row[3]))


@st.composite
def observed_bytes(draw) -> bytes:
    if draw(st.integers(0, 3)) == 0:  # a table that is right, to score
        rows = draw(VALID_ROWS)
        return ("actor,proposal,signed,by\n" + "".join(f"{a},{p},{s},{b}\n"
                                                       for a, p, s, b, _ in rows)).encode()
    header = draw(st.sampled_from([["actor", "proposal", "signed", "by", "vote"],
                                   ["actor", "proposal", "signed"], ["actor", "proposal", "vote"],
                                   ["actor", "signed"], ["actor", "proposal", "signed", "signed"],
                                   []]))
    lines = [",".join(header)] if header else []
    for row in draw(OBSERVED_ROWS):
        cells = dict(zip(["actor", "proposal", "signed", "by", "vote"], row, strict=True))
        lines.append(",".join(cells.get(column, "") for column in header))
    text = "\n".join(lines) + ("\n" if lines else "")
    how = draw(st.sampled_from(["none"] * 5 + ["quote", "ragged", "empty"]))
    if how == "quote":
        text = text.replace(",", ',"', 1)
    elif how == "ragged":
        text += "AAA\n"
    elif how == "empty":
        text = ""
    return draw(encoded(text))


@st.composite
def score_case(draw) -> Case:
    path, files = draw(file_argument("observed.csv", observed_bytes()))
    results = draw(st.sampled_from(["{results}", "{results}", "{results}", "{dir}",
                                    "{dir}/none", "{sweep}"]))
    encoding = draw(st.sampled_from([[], [], ["--encoding", "latin-1"], ["--encoding", "nope"],
                                     ["--encoding", "utf-16"]]))
    return Case(["score", results, "--observed", path, *encoding], files)


SCENARIO_ARGUMENT = st.one_of(st.sampled_from([str(DATA / "tiny.yaml"), "tiny", "paris_call_2019",
                                               "states_only"]), BAD_PATHS)


@st.composite
def compare_case(draw) -> Case:
    path, files = draw(file_argument("scenario.yaml", scenario_bytes(
        RUNNABLE[:2], rounds=1, breaks=draw(st.booleans()))))
    others = draw(st.lists(SCENARIO_ARGUMENT, min_size=0, max_size=2))
    seed = draw(st.one_of(st.just("0"), SEEDS))
    return Case(["compare", path, *others, "--reps", draw(st.one_of(st.just("2"), REPS)),
                 "--steps", "3", "--seed", seed, *SERIAL], files)


@st.composite
def replications_case(draw) -> Case:
    path, files = draw(file_argument("scenario.yaml", scenario_bytes(
        RUNNABLE[:2], rounds=1, breaks=draw(st.booleans()))))
    out = draw(st.sampled_from([[], ["--out", "{dir}/reps"]]))
    reps = draw(st.one_of(st.just("3"), REPS))
    return Case(["replications", path, "--reps", reps, "--steps", "3", *out, *SERIAL], files)


@st.composite
def report_case(draw) -> Case:
    """`report` on a finished sweep folder, intact or damaged in a drawn way."""
    damage = draw(st.sampled_from(["none", "truncate", "empty", "delete", "manifest", "points",
                                   "garbage", "not_a_sweep"]))
    return Case(["report", "{sweep_copy}", "--out", "{dir}/report"],
                folders={"sweep_copy": damage})


@st.composite
def schema_case(draw) -> Case:
    return Case(["schema", *draw(st.sampled_from([[], ["--partial"], ["--nope"]]))])


@st.composite
def bench_case(draw) -> Case:
    sizes = draw(st.lists(st.sampled_from(["100", "0", "-5", "x", "1000000000", HUGE_INTEGER]),
                          min_size=1, max_size=2))
    return Case(["bench", "--sizes", *sizes, "--repeats", draw(st.sampled_from(["1", "0", "x"])),
                 *draw(st.sampled_from([[], ["--json"], ["--reference-cap", "50"]]))])


@st.composite
def dashboard_case(draw) -> Case:
    """The server itself is replaced by a stand-in (tests/test_fuzz.py): what is fuzzed is
    everything the command checks before it would start serving."""
    scenario = draw(st.one_of(st.just([]), SCENARIO_ARGUMENT.map(lambda s: [s])))
    port = draw(st.sampled_from([[], ["--port", "8799"], ["--port", "x"], ["--port", "-1"],
                                 ["--port", HUGE_INTEGER]]))
    return Case(["dashboard", *scenario, *port])


@st.composite
def fit_case(draw) -> Case:
    """`validate-fit` on a targets file with per-state outcomes (and a mutated outcomes
    table), a few runs per forecast."""
    if draw(st.integers(0, 3)) == 0:  # the file as it is, with valid options
        return Case(["validate-fit", "{dir}/targets.yaml", "--reps", "1", *SERIAL],
                    {"targets.yaml": yaml.safe_dump(BASE_OUTCOMES).encode()})
    targets = draw(mutated(BASE_OUTCOMES, rounds=2))
    files = {}
    if draw(st.booleans()) and isinstance(targets.get("outcomes"), dict):
        files["outcomes.csv"] = draw(encoded(_mutated_csv(draw, (DATA / "tiny_outcomes.csv")
                                                          .read_text())))
        targets["outcomes"]["file"] = "{dir}/outcomes.csv"
    path, more = draw(file_argument("targets.yaml", yaml_text(targets)))
    extra = draw(st.sampled_from([[], ["--cross-validated", "{dir}"], ["--out", "{dir}/fit"],
                                  ["--ablation", str(EXPERIMENTS / "ablation_fit.yaml")]]))
    reps = draw(st.sampled_from(["1", "2", "1", "2", "0", "x"]))
    seed = draw(st.sampled_from(["0", "5", "0", "5", "-1", HUGE_INTEGER]))
    return Case(["validate-fit", path, "--reps", reps, "--seed", seed, *extra, *SERIAL],
                {**files, **more})


def _mutated_csv(draw, text: str) -> str:
    lines = text.splitlines()
    how = draw(st.sampled_from(["none", "duplicate", "drop_column", "bad_date", "bad_vote",
                                "unknown_state", "empty", "header_only"]))
    if how == "duplicate":
        lines.append(lines[1])
    elif how == "drop_column":
        lines = [",".join(line.split(",")[:-1]) for line in lines]
    elif how == "bad_date":
        lines[1] = lines[1].replace("2020-01-06", "2020-02-30")
    elif how == "bad_vote":
        lines[2] = lines[2].replace("yes", "maybe")
    elif how == "unknown_state":
        lines.append("ZZZ,,yes")
    elif how == "empty":
        lines = []
    elif how == "header_only":
        lines = lines[:1]
    return "\n".join(lines) + "\n"


@st.composite
def baseline_case(draw) -> Case:
    if draw(st.integers(0, 3)) == 0:  # the file as it is
        return Case(["baseline", "{dir}/targets.yaml"],
                    {"targets.yaml": yaml.safe_dump(BASE_OUTCOMES).encode()})
    path, files = draw(file_argument("targets.yaml", yaml_text(draw(mutated(BASE_OUTCOMES,
                                                                            rounds=2)))))
    penalty = draw(st.sampled_from(["1", "0.1", "3", "1", "0", "-1", "x", "nan", "inf"]))
    extra = draw(st.sampled_from([[], ["--model", "{dir}"], ["--out", "{dir}/baseline"]]))
    return Case(["baseline", path, "--penalty", penalty, *extra], files)


@st.composite
def design_case(draw) -> Case:
    """`design` of the tiny world's call: mostly --dry-run; real searches of 2-4 texts."""
    files, spec = {}, []
    if draw(st.booleans()):
        spec_path, files = draw(file_argument("design.yaml", yaml_text(draw(mutated(
            BASE_DESIGN, rounds=2)))))
        spec = ["--spec", spec_path]
    options = []
    for flag, values in (("--objective", ["share_states", "share_state", "0.5*joined_EEE + "
                                          "0.5*share_gdp", "x*y", ""]),
                         ("--constraint", ["joined_EEE>=0.5", "share_states>0.5", "q>=1",
                                           "breadth<=2"]),
                         ("--at", ["end", "2020-02-03", "999", "0", "2020-02-30"]),
                         ("--proposal", ["call", "code", "nope"]),
                         ("--samples", ["2", "0", "x", HUGE_INTEGER]),
                         ("--rounds", ["0", "1", "-1"]),
                         ("--replications", ["1", "0", "1e9"])):
        if draw(st.integers(0, 3)) == 0:
            options += [flag, draw(st.sampled_from(values))]
    real = not spec and draw(st.integers(0, 3)) == 0
    mode = (["--samples", "2", "--rounds", "0", "--replications", "1", "--out", "{dir}/out"]
            if real else ["--dry-run"])
    scenario = draw(st.sampled_from([str(DATA / "tiny.yaml")] * 4 + [str(DATA / "minimal.yaml"),
                                                                     "no_such.yaml"]))
    return Case(["design", scenario, *spec, *options, *mode, *SERIAL], files)


@st.composite
def discover_case(draw) -> Case:
    results = draw(st.sampled_from(["{sweep}", "{sweep}", "{sweep}", "{results}", "{dir}"]))
    outcome = draw(st.sampled_from(["share_states", "signers_state", "joined_EEE", "nonsense",
                                    ""]))
    threshold = draw(st.sampled_from(["0.5", "3", "0", "x", "nan", "inf", "-1", "1e308"]))
    extra = []
    for flag, values in (("--at", ["end", "2020-01-06", "2030-01-01", "x"]),
                         ("--proposal", ["call", "code", "nope"]),
                         ("--min-coverage", ["0.5", "0", "1", "2", "-1", "nan"]),
                         ("--peel-alpha", ["0.05", "0", "0.5", "1", "-1"]),
                         ("--mass-min", ["0.05", "0", "1", "2"])):
        if draw(st.integers(0, 2)) == 0:
            extra += [flag, draw(st.sampled_from(values))]
    if draw(st.booleans()):
        extra.append("--below")
    return Case(["discover", results, "--outcome", outcome, "--threshold", threshold, *extra,
                 "--out", "{dir}/discovery"])


#: exit statuses that end an example cleanly: 0 done, 2 bad input; 1 where the command
#: finished its work and reports failed runs or missed targets (sweep, calibrate)
CLEAN = (0, 2)
FINISHED_WITH_FAILURES = (0, 1, 2)

#: command -> [(input class, strategy, examples, clean exit statuses)]; every command of
#: the CLI is here
FUZZED = {
    "validate": [("scenario files", validate_case(), 350, CLEAN)],
    "run": [("runs of files that validate", run_case(), 80, CLEAN),
            ("--set PATH=VALUE", set_case(), 200, CLEAN)],
    "sweep": [("experiment files (--dry-run)", sweep_dry_run_case(), 150, CLEAN),
              ("sweep output folders", sweep_case(), 20, FINISHED_WITH_FAILURES)],
    "sensitivity": [("sensitivity experiments", sensitivity_case(), 25, CLEAN)],
    "calibrate": [("targets files", targets_case(), 25, FINISHED_WITH_FAILURES)],
    "validate-fit": [("targets with per-state outcomes", fit_case(), 25, CLEAN)],
    "baseline": [("logistic baseline inputs", baseline_case(), 25, CLEAN)],
    "design": [("text searches", design_case(), 30, CLEAN)],
    "discover": [("scenario discovery options", discover_case(), 30, CLEAN)],
    "score": [("observed CSV files", score_case(), 150, CLEAN)],
    "compare": [("compared scenarios", compare_case(), 25, CLEAN)],
    "replications": [("replication counts", replications_case(), 25, CLEAN)],
    "report": [("damaged sweep folders", report_case(), 20, CLEAN)],
    "schema": [("schema options", schema_case(), 3, CLEAN)],
    "bench": [("benchmark sizes", bench_case(), 10, CLEAN)],
    "dashboard": [("dashboard arguments", dashboard_case(), 12, CLEAN)],
}
