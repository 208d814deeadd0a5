"""The `cybernorms` command line: thin layers over the library functions.

Each subcommand parses its arguments, calls one library function and prints. `main`
is the one error boundary: bad input (a file, a field, a value, a path, an unwritable
folder) ends with one message naming it and exit status 2; Ctrl-C ends a command
with 130 after it has kept what finished; anything else is a bug, shown with its
traceback and a line saying so (exit status 70).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sim import limits
from sim.errors import InputError, os_problem

EXIT_INPUT, EXIT_BUG, EXIT_INTERRUPTED = 2, 70, 130

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def register(function):
        COMMANDS[name] = function
        return function
    return register


def _overrides(assignments: Sequence[str]) -> dict:
    from sim.scenario.loading import parse_assignment

    return dict(parse_assignment(a) for a in assignments or ())


def strict_json(data) -> str:
    """JSON that strict parsers accept: undefined numbers (NaN, infinity) become null."""

    def plain(value):
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    return json.dumps(plain(data), indent=2, default=str, allow_nan=False)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


@command("run")
def run_command(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.outputs.summary import format_summary, summarise
    from sim.runs.record import write_runs
    from sim.runs.runner import resolve, run_replicates, run_spec

    spec = resolve(args.scenario, _overrides(args.set), args.steps)
    limits.check("runs", args.reps, "--reps", "", "a number of replicates")
    if args.reps == 1:
        seed = spec.metadata.seed if args.seed is None else args.seed
        records = [run_spec(spec, seed)]
    else:
        records = run_replicates(spec, args.reps, seed=args.seed)
    metrics = pd.concat([r.metrics for r in records], ignore_index=True)
    summary = summarise(metrics, spec)
    if args.out:
        write_runs(records, args.out)
        summary["out"] = str(args.out)
    if args.format == "json":
        print(strict_json(summary))
    else:
        print(format_summary(summary, spec))
        if args.out:
            print(f"\ntables written to {args.out}/")
    return 0


@command("validate")
def validate_command(args: argparse.Namespace) -> int:
    from sim.scenario.loading import load_scenario

    for path in args.files:
        load_scenario(path)
        print(f"ok  {path}")
    return 0


@command("schema")
def schema_command(args: argparse.Namespace) -> int:
    from sim.scenario.schema import scenario_json_schema

    print(strict_json(scenario_json_schema(partial=args.partial)))
    return 0


@command("bench")
def bench_command(args: argparse.Namespace) -> int:
    from sim.bench import format_report, run_benchmark

    report = run_benchmark(sizes=args.sizes, repeats=args.repeats, reference_cap=args.reference_cap)
    print(strict_json(report) if args.json else format_report(report))
    return 0


@command("calibrate")
def calibrate_command(args: argparse.Namespace) -> int:
    from sim.outputs.report import markdown_fit, write_calibration
    from sim.studies.calibration import calibrate

    try:
        result = calibrate(args.targets, backend=args.backend, workers=args.workers,
                           log=_stderr)
    except KeyboardInterrupt:
        print("\ninterrupted: calibration stopped; each stage's best loss so far is in the "
              "log above", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(markdown_fit(result))
    print("\nbest coefficients:")
    for name, value in result["best"].items():
        print(f"  {name}: {value}   (scenario now: {result['current'][name]})")
    if args.out:
        write_calibration(result, args.out)
        print(f"\nwritten to {args.out}/")
    return 0 if result["fit"]["passed"].all() else 1


@command("sweep")
def sweep_command(args: argparse.Namespace) -> int:
    from sim.studies.sweep import sweep

    if args.dry_run:
        from sim.studies.sweep import dry_run

        invalid = dry_run(args.spec, workers=args.workers, backend=args.backend)
        return EXIT_INPUT if invalid else 0
    out = args.out or Path("results") / Path(args.spec).stem
    try:
        manifest = sweep(args.spec, out, backend=args.backend, workers=args.workers,
                         scheduler=args.scheduler, resume=args.resume, load=False)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return 1 if manifest["runs_failed"] else 0


@command("compare")
def compare_command(args: argparse.Namespace) -> int:
    from sim.outputs.report import write_comparison
    from sim.outputs.tables import paper_table, to_markdown
    from sim.studies.comparison import HOLM_FAMILY, compare

    comparison = compare(args.scenarios, args.reps, seed=args.seed, steps=args.steps,
                         backend=args.backend, workers=args.workers, log=_stderr)
    ends = sorted({f"step {spec.metadata.steps} "
                   f"({spec.timeline.date_of_step(spec.metadata.steps)})"
                   for spec in comparison.specs})
    print(f"{len(comparison.labels)} scenarios x {args.reps} replications on shared seeds; "
          f"paired differences from {comparison.labels[0]}; p {HOLM_FAMILY}.\n"
          f"At the last step: {', '.join(ends)}\n")
    table = paper_table(comparison.table)
    main = table[table["Outcome"].isin(["signers_state", "signers_firm", "signers_civil",
                                        "share_gdp"])]
    print(to_markdown(main))
    if args.out:
        write_comparison(comparison, args.out)
        print(f"\ntables and figures written to {args.out}/")
    return 0


@command("report")
def report_command(args: argparse.Namespace) -> int:
    from sim.outputs.report import write_sweep_report
    from sim.studies.results import load_results

    result = load_results(args.directory)
    written = write_sweep_report(result, args.out)
    out = args.out or Path(args.directory) / "report"
    print(f"{len(written)} files written to {out}/")
    return 0


@command("sensitivity")
def sensitivity_command(args: argparse.Namespace) -> int:
    from sim.outputs.report import write_sensitivity
    from sim.outputs.tables import to_markdown
    from sim.studies.sensitivity import sensitivity

    if args.dry_run:
        from sim.studies.sensitivity import budget
        from sim.studies.sweep import dry_run

        plan = budget(args.spec)
        print(f"sensitivity ({plan['design']}): {plan['formula']} = {plan['runs']} runs "
              f"({plan['points']} points)")
        return EXIT_INPUT if dry_run(args.spec, workers=args.workers,
                                     backend=args.backend) else 0
    out = args.out or Path("results") / Path(args.spec).stem
    try:
        result = sensitivity(args.spec, out, backend=args.backend, workers=args.workers,
                             resume=args.resume)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    write_sensitivity(result, out)
    print(to_markdown(result.indices.round(3)))
    print(f"\nindices, table and figure written to {out}/")
    return 0


@command("score")
def score_command(args: argparse.Namespace) -> int:
    from sim.outputs.tables import to_markdown
    from sim.runs.store import write_table
    from sim.studies.score import score

    result = score(args.results, args.observed, encoding=args.encoding)
    print(to_markdown(result.summary.round(3)))
    if args.out:
        for name in ("summary", "signatures", "votes"):
            frame = getattr(result, name)
            if len(frame):
                write_table(Path(args.out) / f"score_{name}.csv", frame)
        print(f"\nper-actor tables written to {args.out}/")
    return 0


@command("replications")
def replications_command(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.outputs.plots import save_figure, sufficiency_curves
    from sim.outputs.tables import to_markdown, write_tables
    from sim.studies.comparison import replicate_runs, replication_sufficiency

    records = replicate_runs(args.scenario, args.reps, seed=args.seed, steps=args.steps,
                             backend=args.backend, workers=args.workers, log=_stderr)
    metrics = pd.concat([r.metrics for r in records], ignore_index=True)
    table = replication_sufficiency(metrics)
    print(to_markdown(table.round(4)))
    if args.out:
        out = Path(args.out)
        name = records[0].scenario.metadata.name
        caption = (f"95% CI half-width of the mean against replications, {name}, "
                   f"{args.reps} runs (seeds derived from {args.seed}).")
        write_tables(table.round(5), out / "sufficiency", caption, "tab:sufficiency")
        for proposal in table["proposal"].unique():
            save_figure(sufficiency_curves(table, proposal), out / f"sufficiency_{proposal}",
                        caption)
        print(f"\nwritten to {out}/")
    return 0


@command("dashboard")
def dashboard_command(args: argparse.Namespace) -> int:
    from sim.dashboard.server import main as dashboard_main

    return dashboard_main(args)


def _whole(minimum: int, what: str):
    """An argparse type: a whole number >= `minimum` (its message says why)."""

    def convert(text: str) -> int:
        try:
            value = int(text) if len(text) <= 30 else None
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"got {text[:40]!r}; expected {what}")
        return value

    convert.__name__ = what
    return convert


SEED = _whole(0, "a seed: a whole number from 0 to 2^63 - 1")
REPS = _whole(1, "a whole number >= 1")
REPS_FOR_INTERVALS = _whole(2, "a whole number >= 2 (an interval needs two runs)")
STEPS = _whole(1, "a whole number of steps >= 1")
WORKERS = _whole(1, "a whole number of worker processes >= 1")


def _seed(text: str) -> int:
    value = SEED(text)
    if value >= 2**63:
        raise argparse.ArgumentTypeError(f"got {text[:40]!r}; expected a seed below 2^63")
    return value


def _path(text: str) -> Path:
    """An argparse type: a path the operating system can take (no NUL, names <= 255 bytes)."""
    try:
        return limits.check_path(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _limit(text: str) -> dict:
    try:
        return limits.parse(text, "--limit")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class Parser(argparse.ArgumentParser):
    """Argument errors as one message, like every other input error (exit status 2)."""

    def error(self, message: str):
        self.exit(EXIT_INPUT, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="cybernorms",
        description="Agent-based model of cyber-norm diplomacy (Paris Call 2018 and variants).",
        epilog="Exit status: 0 done, 1 done with failed runs or missed targets, 2 bad input "
               "(one message names the file, field and expectation), 70 a bug (with a "
               "traceback), 130 interrupted (finished runs are kept).",
    )
    common = Parser(add_help=False)
    common.add_argument("--limit", action="append", type=_limit, metavar="NAME=N",
                        help="raise a limit on what inputs may ask for, e.g. actors=10000000 "
                             "(names: " + ", ".join(limits.NAMES) + "; see the README)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=Parser)

    def add(name: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kwargs)

    p = add("run", help="run a scenario and print a summary; --out writes tables")
    p.add_argument("scenario", type=_path,
                   help="scenario YAML file (or a shipped scenario name)")
    p.add_argument("--seed", type=_seed, help="integer seed (default: the scenario's)")
    p.add_argument("--reps", type=REPS, default=1, help="replicates (seeds derived from --seed)")
    p.add_argument("--steps", type=STEPS, help="number of steps (default: the scenario's)")
    p.add_argument("--set", action="append", metavar="PATH=VALUE",
                   help="override a scenario field, e.g. proposals.paris_call.bindingness=0.6")
    p.add_argument("--out", type=_path, help="directory for Parquet tables and manifest")
    p.add_argument("--format", choices=("table", "json"), default="table")

    p = add("validate", help="check scenario files; non-zero exit on the first bad one")
    p.add_argument("files", nargs="+", type=_path)

    p = add("schema", help="print the JSON Schema of scenario files")
    p.add_argument("--partial", action="store_true",
                   help="no required fields: for files that extend another")

    p = add("calibrate", help="fit behaviour coefficients to a dated targets file")
    p.add_argument("targets", type=_path,
                   help="targets YAML (see experiments/calibrate_paris_call_2018.yaml)")
    p.add_argument("--out", type=_path, help="directory for the fit table and best coefficients")
    p.add_argument("--backend", choices=("serial", "process"), default="process")
    p.add_argument("--workers", type=WORKERS, help="worker processes (default: all cores)")

    p = add("sweep", help="run an experiment's design points x replications")
    p.add_argument("spec", type=_path, help="experiment YAML (see experiments/)")
    p.add_argument("--out", type=_path, help="results directory (default: results/<name>)")
    p.add_argument("--backend", choices=("serial", "process", "dask"), default="process")
    p.add_argument("--workers", type=WORKERS, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", help="Dask scheduler address (default: a LocalCluster)")
    p.add_argument("--resume", action="store_true", help="skip runs already finished in --out")
    p.add_argument("--dry-run", action="store_true",
                   help="print the design, run count and estimate, and check every point")

    p = add("compare", help="compare scenarios on shared seeds (paired statistics)")
    p.add_argument("scenarios", nargs="+", type=_path,
                   help="scenario files; the first is the reference")
    p.add_argument("--reps", type=REPS_FOR_INTERVALS, default=30)
    p.add_argument("--seed", type=_seed, default=0, help="root seed of the shared replicates")
    p.add_argument("--steps", type=STEPS, help="number of steps (default: each scenario's)")
    p.add_argument("--out", type=_path, help="directory for tables (md, tex, csv) and figures")
    p.add_argument("--backend", choices=("serial", "process"), default="process")
    p.add_argument("--workers", type=WORKERS)

    p = add("report", help="figures and tables for a finished sweep")
    p.add_argument("directory", type=_path, help="the sweep's --out directory")
    p.add_argument("--out", type=_path, help="where to write (default: DIRECTORY/report)")

    p = add("sensitivity", help="Sobol or Morris indices for an experiment")
    p.add_argument("spec", type=_path, help="experiment YAML with design saltelli or morris")
    p.add_argument("--out", type=_path, help="results directory (default: results/<name>)")
    p.add_argument("--backend", choices=("serial", "process", "dask"), default="process")
    p.add_argument("--workers", type=WORKERS)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--dry-run", action="store_true",
                   help="print the run budget and estimate, and check every point")

    p = add("score", help="simulated per-actor outcomes against an observed table")
    p.add_argument("results", type=_path, help="the --out directory of `cybernorms run --reps N`")
    p.add_argument("--observed", required=True, type=_path,
                   help="CSV: actor, proposal, signed (0/1) [, by] or vote (yes/abstain/no)")
    p.add_argument("--encoding", default="utf-8",
                   help="text encoding of the CSV (default utf-8; e.g. latin-1, utf-16)")
    p.add_argument("--out", type=_path, help="directory for the per-actor tables")

    p = add("replications", help="CI half-width of outcomes against replications")
    p.add_argument("scenario", type=_path)
    p.add_argument("--reps", type=REPS_FOR_INTERVALS, default=100)
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--steps", type=STEPS)
    p.add_argument("--out", type=_path)
    p.add_argument("--backend", choices=("serial", "process"), default="process")
    p.add_argument("--workers", type=WORKERS)

    p = add("dashboard", help="the interactive Solara dashboard (127.0.0.1 by default)")
    from sim.dashboard.server import configure_parser

    configure_parser(p)

    p = add("bench", help="time the baseline and the kernel against the agent loop")
    p.add_argument("--json", action="store_true")
    p.add_argument("--sizes", type=REPS, nargs="+", default=[1_000, 10_000, 100_000])
    p.add_argument("--repeats", type=REPS, default=5, help="baseline runs (median reported)")
    p.add_argument("--reference-cap", type=REPS, default=None,
                   help="time the agent loop on at most this many agents (default: all)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status (argument errors included, as 2)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a bad argument (argparse printed why)
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    changes = {name: value for change in args.limit or () for name, value in change.items()}
    try:
        with limits.raised(**changes):
            return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # output piped into `head`
        return 0
    except OSError as exc:
        print(f"error: {os_problem(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        import traceback

        from sim.version import MODEL_VERSION

        traceback.print_exc()
        print(f"\nThis is a bug in cybernorms (model version {MODEL_VERSION}), not a problem "
              "with your input. Please report it to the cybernorms developers with the "
              "command you ran and the traceback above.", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
