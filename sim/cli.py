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
import time
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

    loading = time.perf_counter()
    spec = resolve(args.scenario, _overrides(args.set), args.steps)
    load_s = time.perf_counter() - loading
    limits.check("runs", args.reps, "--reps", "", "a number of replicates")
    if args.reps == 1:
        seed = spec.metadata.seed if args.seed is None else args.seed
        records = [run_spec(spec, seed)]
    else:
        records = run_replicates(spec, args.reps, seed=args.seed)
    metrics = pd.concat([r.metrics for r in records], ignore_index=True)
    summary = summarise(metrics, spec,
                        texts=pd.concat([r.texts for r in records], ignore_index=True),
                        actors=pd.concat([r.actors for r in records], ignore_index=True))
    if args.out:
        write_runs(records, args.out, load_s=load_s)
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
    from sim.bench import SCALE_SIZES, format_report, run_benchmark, step_cost_figure

    scale = None if args.scale is None else tuple(args.scale or SCALE_SIZES)
    report = run_benchmark(sizes=args.sizes, repeats=args.repeats,
                           reference_cap=args.reference_cap, mesa_repeats=args.mesa_repeats,
                           profile=args.profile, sweeps=args.sweeps,
                           memory_runs=tuple(args.memory_runs), workers=args.workers,
                           scale=scale)
    print(strict_json(report) if args.json else format_report(report))
    if args.figure:
        step_cost_figure(report, args.figure)
    return 0


@command("calibrate")
def calibrate_command(args: argparse.Namespace) -> int:
    from sim.outputs.report import markdown_fit, write_calibration
    from sim.studies.calibration import calibrate

    try:
        result = calibrate(args.targets, backend=args.backend, workers=args.workers,
                           log=_stderr, folds=args.folds)
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
    fit = result["fit"]
    return 0 if fit.empty or fit["passed"].all() else 1  # the per-state fit is reported only


@command("validate-fit")
def validate_fit_command(args: argparse.Namespace) -> int:
    from sim.studies.calibration import validate_fit

    if args.ablation:
        from sim.outputs.tables import to_markdown
        from sim.runs.store import write_table
        from sim.studies.calibration import ablation_fit

        table = ablation_fit(args.targets, args.ablation, reps=args.reps, seed=args.seed,
                             backend=args.backend, workers=args.workers)
        columns = [c for c in ("point", "outcome", "group", "balanced_accuracy", "auc", "brier",
                               "accuracy", "abstainers_predicted") if c in table]
        print(to_markdown(table[table["group"] == "all"][columns].round(3)))
        if args.out:
            write_table(Path(args.out) / "ablation.csv", table)
            print(f"\nablation table written to {args.out}/")
        return 0
    reports = validate_fit(args.targets, reps=args.reps, seed=args.seed,
                           cross_validated=args.cross_validated, backend=args.backend,
                           workers=args.workers)
    return _show_fit(reports, args.out, f"Targets {args.targets}; {args.reps} runs, seeds "
                     f"derived from {args.seed}.", "per-state forecasts")


def _show_fit(reports, out: str | None, caption: str, forecasts: str) -> int:
    """Print per-state fit scores; with `out`, write the forecasts, scores and diagrams."""
    from sim.outputs.report import markdown_fit_scores, write_fit_reports

    print(markdown_fit_scores(reports))
    if out:
        write_fit_reports(reports, out, caption)
        print(f"{forecasts}, scores and reliability diagrams written to {out}/")
    return 0


@command("baseline")
def baseline_command(args: argparse.Namespace) -> int:
    from sim.studies.calibration import baseline_fit

    reports = baseline_fit(args.targets, penalty=args.penalty, model=args.model)
    return _show_fit(reports, args.out, f"Targets {args.targets}; logistic regression "
                     f"(C = {args.penalty}) in the targets file's folds.", "forecasts")


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


@command("design")
def design_command(args: argparse.Namespace) -> int:
    from sim.outputs.exploration import write_design
    from sim.outputs.tables import to_markdown
    from sim.studies.design import design, load_design, plan_counts

    at = int(args.at) if args.at and args.at.isdigit() else args.at
    study = load_design(args.spec, args.scenario, proposal=args.proposal,
                           objective=args.objective, at=at, constraints=args.constraint,
                           track=args.track,
                           samples=args.samples, rounds=args.rounds, per_round=args.per_round,
                           replications=args.replications, seed=args.seed)
    counts = plan_counts(study)
    if args.dry_run:
        print(f"design {study.spec.name}: {counts['texts']} texts of {study.proposal} "
              f"({counts['first_stage']} in the first stage) x {counts['replications']} "
              f"replications = {counts['runs']} runs; support {study.spec.objective} at "
              f"{study.at_label}")
        return 0
    out = args.out or Path("results") / f"design_{study.spec.name}"
    try:
        result = design(study, out, backend=args.backend, workers=args.workers,
                        scheduler=args.scheduler, resume=args.resume)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    write_design(result, out)
    plan, texts = result.plan, result.texts
    rate = f", {plan['runs_per_s']} runs/s" if plan["runs_per_s"] else ""
    print(f"{plan['texts']} texts x {plan['replications']} replications = {plan['runs']} runs "
          f"({plan['runs_computed']} computed in {plan['elapsed_s']:.0f} s{rate}); support: "
          f"{plan['objective']} at {plan['at']}"
          + (f"; constraints: {', '.join(plan['constraints'])}" if plan["constraints"] else ""))
    columns = ["text", "origin", "objective", "objective_ci", "versus_written",
               "versus_written_ci", *study.track, "breadth", "bindingness", "distance",
               "open_to", "scope"]
    front = texts[texts["front"]].sort_values("objective", ascending=False)
    shown = f"; the 20 with most support, all in {out}/front.md" if len(front) > 20 else ""
    print(f"\nPareto front of support against ambition ({len(front)} texts{shown}):\n")
    print(to_markdown(front[columns].head(20).round(3)))
    edits = texts[texts["origin"].isin(["as written", "one edit"])]
    print("\nthe text as written and its one-edit variants (differences paired on the "
          "same seeds):\n")
    print(to_markdown(edits[columns].round(3)))
    print(f"\ntables and figure written to {out}/")
    return 0


@command("discover")
def discover_command(args: argparse.Namespace) -> int:
    from sim.outputs.exploration import format_discovery, write_discovery
    from sim.studies.discovery import discover

    found = discover(args.results, args.outcome, at=args.at, proposal=args.proposal,
                     threshold=args.threshold, below=args.below,
                     min_coverage=args.min_coverage, peel_alpha=args.peel_alpha,
                     mass_min=args.mass_min)
    print(format_discovery(found))
    out = args.out or Path(args.results) / f"discovery_{args.outcome}"
    write_discovery(found, out)
    print(f"\nfigure and tables written to {out}/")
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


def _finite(text: str) -> float:
    """An argparse type: a finite number."""
    try:
        value = float(text) if len(text) <= 40 else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"got {text[:40]!r}; expected a finite number")
    return value


def _positive(text: str) -> float:
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"got {text[:40]!r}; expected a number > 0")
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
    p.add_argument("--folds", action="store_true",
                   help="also cross-validate the per-state fit in the targets file's folds "
                        "(one calibration per fold: takes folds x as long)")
    p.add_argument("--backend", choices=("serial", "process"), default="process")
    p.add_argument("--workers", type=WORKERS, help="worker processes (default: all cores)")

    p = add("validate-fit", help="per-state forecasts scored against the "
            "training outcomes of a targets file")
    p.add_argument("targets", type=_path, help="targets YAML with an `outcomes:` section")
    p.add_argument("--reps", type=REPS, default=40, help="runs behind each forecast")
    p.add_argument("--seed", type=_seed, default=0, help="root seed of the runs")
    p.add_argument("--cross-validated", type=_path, metavar="DIR",
                   help="also score the forecasts of `calibrate --folds` (its --out DIR)")
    p.add_argument("--ablation", type=_path, metavar="EXPERIMENT",
                   help="instead, score each point of a `points` experiment (e.g. "
                        "experiments/ablation_fit.yaml: one mechanism off per point)")
    p.add_argument("--out", type=_path, help="directory for forecasts, scores and figures")
    p.add_argument("--backend", choices=("serial", "process"), default="process")
    p.add_argument("--workers", type=WORKERS)

    p = add("baseline", help="cross-validated logistic regression on the same "
            "inputs and training states (the baseline to beat)")
    p.add_argument("targets", type=_path, help="targets YAML with an `outcomes:` section")
    p.add_argument("--penalty", type=_positive, default=1.0,
                   help="inverse L2 penalty C of the regression (default 1)")
    p.add_argument("--model", type=_path, metavar="DIR",
                   help="the model's cross-validated forecasts (`calibrate --folds --out DIR`)")
    p.add_argument("--out", type=_path, help="directory for forecasts, scores and figures")

    p = add("sweep", help="run an experiment's design points x replications")
    p.add_argument("spec", type=_path, help="experiment YAML (see experiments/)")
    p.add_argument("--out", type=_path, help="results directory (default: results/<name>)")
    p.add_argument("--backend", choices=("serial", "process", "dask"), default="process")
    p.add_argument("--workers", type=WORKERS, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", help="Dask scheduler address (tcp://host:port) or scheduler "
                   "file (.json); default: a local cluster")
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

    p = add("design", help="search a proposal's texts for support against ambition")
    p.add_argument("scenario", type=_path, help="scenario YAML file (or a shipped scenario name)")
    p.add_argument("--spec", type=_path, help="design file: the space of texts, objective, "
                   "constraints, search budget (see experiments/design_paris_call_2018.yaml)")
    p.add_argument("--proposal", help="the proposal whose text is searched (default: the first)")
    p.add_argument("--objective", help="support to maximise: a metric or a weighted sum, e.g. "
                   "share_states or '0.5*joined_IND + 0.5*joined_BRA'")
    p.add_argument("--constraint", action="append", metavar="NAME>=VALUE",
                   help="a bound on a mean metric or on ambition (breadth, bindingness, "
                   "distance), e.g. joined_IND>=0.5; repeatable")
    p.add_argument("--track", action="append", metavar="METRIC",
                   help="another metric to report per text, e.g. joined_IND; repeatable")
    p.add_argument("--at", help="time point of support: a date, a step or 'end'")
    p.add_argument("--samples", type=REPS, help="quasi-random texts in the first stage")
    p.add_argument("--rounds", type=_whole(0, "a whole number of rounds >= 0"),
                   help="rounds of edits of texts on the front")
    p.add_argument("--per-round", type=REPS, help="new texts per round")
    p.add_argument("--replications", type=REPS, help="runs per text (common random numbers)")
    p.add_argument("--seed", type=_seed, help="root seed")
    p.add_argument("--out", type=_path, help="results directory (default: results/design_<name>)")
    p.add_argument("--backend", choices=("serial", "process", "dask"), default="process")
    p.add_argument("--workers", type=WORKERS, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", help="Dask scheduler address (tcp://host:port) or scheduler "
                   "file (.json); default: a local cluster")
    p.add_argument("--resume", action="store_true", help="reuse runs already finished in --out")
    p.add_argument("--dry-run", action="store_true", help="print the run count only")

    p = add("discover", help="scenario discovery (PRIM, CART) on a sweep's results")
    p.add_argument("results", type=_path, help="a sweep's --out directory")
    p.add_argument("--outcome", required=True, help="a metric, e.g. joined_IND or share_gdp")
    p.add_argument("--threshold", required=True, type=_finite,
                   help="the outcome holds at or above this value (at or below with --below)")
    p.add_argument("--below", action="store_true", help="the outcome holds at or below")
    p.add_argument("--at", default="end", help="'end' or a checkpoint date (default: end)")
    p.add_argument("--proposal", help="the proposal (default: the only one)")
    p.add_argument("--min-coverage", type=_finite, default=0.5,
                   help="the chosen box is the densest with at least this coverage")
    p.add_argument("--peel-alpha", type=_finite, default=0.05, help="share peeled per PRIM step")
    p.add_argument("--mass-min", type=_finite, default=0.05,
                   help="smallest box (and CART leaf), as a share of runs")
    p.add_argument("--out", type=_path,
                   help="where to write (default: RESULTS/discovery_<outcome>)")

    p = add("dashboard", help="the interactive Solara dashboard (127.0.0.1 by default)")
    from sim.dashboard.server import configure_parser

    configure_parser(p)

    p = add("bench", help="time the baseline and the kernel against the agent loop")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--sizes", type=REPS, nargs="+", default=[1_000, 10_000, 100_000],
                   help="world sizes for the kernel and per-step figures")
    p.add_argument("--repeats", type=REPS, default=7, help="baseline runs (median reported)")
    p.add_argument("--mesa-repeats", type=REPS, default=3,
                   help="runs of Mesa's BoltzmannWealth (median)")
    p.add_argument("--reference-cap", type=REPS, default=None,
                   help="time the agent loop on at most this many agents (default: all)")
    p.add_argument("--profile", action="store_true",
                   help="also profile baseline runs and list the top costs")
    p.add_argument("--sweeps", type=REPS, nargs="?", const=1_000, default=None,
                   metavar="RUNS", help="also sweep RUNS baseline runs (default 1000) on each "
                   "backend, and sweeps of --memory-runs for peak memory")
    p.add_argument("--memory-runs", type=REPS, nargs="+", default=[500, 5_000])
    p.add_argument("--workers", type=WORKERS, default=2, help="workers of the sweeps")
    p.add_argument("--scale", type=REPS, nargs="*", default=None, metavar="ACTORS",
                   help="also run worlds of these sizes (default 1,000,000 and 10,000,000 "
                        "actors), each in its own process; the actors limit is raised to "
                        "each size for its run")
    p.add_argument("--figure", type=_path, metavar="STEM",
                   help="also draw seconds per step against actors (STEM.png, .svg, .pdf)")
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
