"""The `cybernorms` command line: thin layers over the library functions.

Each subcommand parses its arguments, calls one library function and prints. Bad
input ends with one message naming file, field and expectation, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sim.errors import InputError, problem

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def register(function):
        COMMANDS[name] = function
        return function
    return register


def _overrides(assignments: Sequence[str]) -> dict:
    from sim.scenario.loading import parse_assignment

    return dict(parse_assignment(a) for a in assignments or ())


@command("run")
def run_command(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.outputs.summary import format_summary, summarise
    from sim.runs.record import write_runs
    from sim.runs.runner import resolve, run_replicates, run_spec

    if args.reps < 1:
        raise InputError(problem("--reps", "", "a whole number >= 1", args.reps))
    spec = resolve(args.scenario, _overrides(args.set), args.steps)
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
        write_runs(records, args.out)
        summary["out"] = str(args.out)
    if args.format == "json":
        print(json.dumps(summary, indent=2, default=str))
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

    print(json.dumps(scenario_json_schema(partial=args.partial), indent=2))
    return 0


@command("bench")
def bench_command(args: argparse.Namespace) -> int:
    from sim.bench import format_report, run_benchmark

    report = run_benchmark(sizes=args.sizes, repeats=args.repeats, reference_cap=args.reference_cap)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


@command("calibrate")
def calibrate_command(args: argparse.Namespace) -> int:
    from sim.outputs.report import markdown_fit, write_calibration
    from sim.studies.calibration import calibrate

    result = calibrate(args.targets, backend=args.backend, workers=args.workers,
                       log=lambda line: print(line, file=sys.stderr), folds=args.folds)
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
    from sim.outputs.report import markdown_fit_scores, write_fit_reports
    from sim.studies.calibration import validate_fit

    if args.reps < 1:
        raise InputError(problem("--reps", "", "a whole number >= 1", args.reps))
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
    print(markdown_fit_scores(reports))
    if args.out:
        write_fit_reports(reports, args.out, f"Targets {args.targets}; {args.reps} runs, "
                          f"seeds derived from {args.seed}.")
        print(f"per-state forecasts, scores and reliability diagrams written to {args.out}/")
    return 0


@command("baseline")
def baseline_command(args: argparse.Namespace) -> int:
    from sim.outputs.report import markdown_fit_scores, write_fit_reports
    from sim.studies.calibration import baseline_fit

    if args.penalty <= 0:
        raise InputError(problem("--penalty", "", "a number > 0", args.penalty))
    reports = baseline_fit(args.targets, penalty=args.penalty, model=args.model)
    print(markdown_fit_scores(reports))
    if args.out:
        write_fit_reports(reports, args.out, f"Targets {args.targets}; logistic regression "
                          f"(C = {args.penalty}) in the targets file's folds.")
        print(f"forecasts, scores and reliability diagrams written to {args.out}/")
    return 0


@command("sweep")
def sweep_command(args: argparse.Namespace) -> int:
    from sim.studies.sweep import sweep

    if args.dry_run:
        from sim.studies.sweep import plan

        planned = plan(args.spec)
        spec = planned["spec"]
        print(f"{spec.name}: design {spec.design}, {len(planned['points'])} points x "
              f"{spec.replications} replications = {len(planned['tasks'])} runs "
              f"(max_runs {spec.max_runs})")
        for point in planned["points"][:10]:
            print(f"  {point.index:>5}  {point.label}")
        if len(planned["points"]) > 10:
            print(f"  ... and {len(planned['points']) - 10} more points")
        return 0
    out = args.out or Path("results") / Path(args.spec).stem
    try:
        manifest = sweep(args.spec, out, backend=args.backend, workers=args.workers,
                         scheduler=args.scheduler, resume=args.resume, load=False)
    except KeyboardInterrupt:
        return 130
    return 1 if manifest["runs_failed"] else 0


@command("compare")
def compare_command(args: argparse.Namespace) -> int:
    from sim.outputs.report import write_comparison
    from sim.outputs.tables import paper_table, to_markdown
    from sim.studies.comparison import compare

    comparison = compare(args.scenarios, args.reps, seed=args.seed, steps=args.steps,
                         backend=args.backend, workers=args.workers)
    print(f"{len(comparison.labels)} scenarios x {args.reps} replications on shared seeds; "
          f"differences from {comparison.labels[0]} (paired, Holm-adjusted)\n")
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

    out = args.out or Path("results") / Path(args.spec).stem
    try:
        result = sensitivity(args.spec, out, backend=args.backend, workers=args.workers,
                             resume=args.resume)
    except KeyboardInterrupt:
        return 130
    write_sensitivity(result, out)
    print(to_markdown(result.indices.round(3)))
    print(f"\nindices, table and figure written to {out}/")
    return 0


@command("score")
def score_command(args: argparse.Namespace) -> int:
    from sim.outputs.tables import to_markdown
    from sim.runs.store import write_table
    from sim.studies.score import score

    result = score(args.results, args.observed)
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
                             backend=args.backend, workers=args.workers)
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

    if args.workers is not None and args.workers < 1:
        raise InputError(problem("--workers", "", "a whole number >= 1", args.workers))
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
        return 130
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cybernorms",
        description="Agent-based model of cyber-norm diplomacy (Paris Call 2018 and variants).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run a scenario and print a summary; --out writes tables")
    p.add_argument("scenario", help="scenario YAML file (or a shipped scenario name)")
    p.add_argument("--seed", type=int, help="integer seed (default: the scenario's)")
    p.add_argument("--reps", type=int, default=1, help="replicates (seeds derived from --seed)")
    p.add_argument("--steps", type=int, help="number of steps (default: the scenario's)")
    p.add_argument("--set", action="append", metavar="PATH=VALUE",
                   help="override a scenario field, e.g. proposals.paris_call.bindingness=0.6")
    p.add_argument("--out", type=Path, help="directory for Parquet tables and manifest")
    p.add_argument("--format", choices=("table", "json"), default="table")

    p = sub.add_parser("validate", help="check scenario files; non-zero exit on the first bad one")
    p.add_argument("files", nargs="+")

    p = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    p.add_argument("--partial", action="store_true",
                   help="no required fields: for files that extend another")

    p = sub.add_parser("calibrate", help="fit behaviour coefficients to a dated targets file")
    p.add_argument("targets", help="targets YAML (see experiments/calibrate_paris_call_2018.yaml)")
    p.add_argument("--out", type=Path, help="directory for the fit table and best coefficients")
    p.add_argument("--folds", action="store_true",
                   help="also cross-validate the per-state fit in the targets file's folds "
                        "(one calibration per fold: takes folds x as long)")
    p.add_argument("--backend", choices=("serial", "process"), default="process")
    p.add_argument("--workers", type=int, help="worker processes (default: all cores)")

    p = sub.add_parser("validate-fit", help="per-state forecasts scored against the "
                       "training outcomes of a targets file")
    p.add_argument("targets", help="targets YAML with an `outcomes:` section")
    p.add_argument("--reps", type=int, default=40, help="runs behind each forecast")
    p.add_argument("--seed", type=int, default=0, help="root seed of the runs")
    p.add_argument("--cross-validated", type=Path, metavar="DIR",
                   help="also score the forecasts of `calibrate --folds` (its --out DIR)")
    p.add_argument("--ablation", type=Path, metavar="EXPERIMENT",
                   help="instead, score each point of a `points` experiment (e.g. "
                        "experiments/ablation_fit.yaml: one mechanism off per point)")
    p.add_argument("--out", type=Path, help="directory for forecasts, scores and figures")
    p.add_argument("--backend", choices=("serial", "process"), default="process")
    p.add_argument("--workers", type=int)

    p = sub.add_parser("baseline", help="cross-validated logistic regression on the same "
                       "inputs and training states (the baseline to beat)")
    p.add_argument("targets", help="targets YAML with an `outcomes:` section")
    p.add_argument("--penalty", type=float, default=1.0,
                   help="inverse L2 penalty C of the regression (default 1)")
    p.add_argument("--model", type=Path, metavar="DIR",
                   help="the model's cross-validated forecasts (`calibrate --folds --out DIR`)")
    p.add_argument("--out", type=Path, help="directory for forecasts, scores and figures")

    p = sub.add_parser("sweep", help="run an experiment's design points x replications")
    p.add_argument("spec", help="experiment YAML (see experiments/)")
    p.add_argument("--out", type=Path, help="results directory (default: results/<name>)")
    p.add_argument("--backend", choices=("serial", "process", "dask"), default="process")
    p.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", help="Dask scheduler address (default: a LocalCluster)")
    p.add_argument("--resume", action="store_true", help="skip runs already finished in --out")
    p.add_argument("--dry-run", action="store_true", help="print the design and run count only")

    p = sub.add_parser("compare", help="compare scenarios on shared seeds (paired statistics)")
    p.add_argument("scenarios", nargs="+", help="scenario files; the first is the reference")
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--seed", type=int, default=0, help="root seed of the shared replicates")
    p.add_argument("--steps", type=int, help="number of steps (default: each scenario's)")
    p.add_argument("--out", type=Path, help="directory for tables (md, tex, csv) and figures")
    p.add_argument("--backend", choices=("serial", "process"), default="process")
    p.add_argument("--workers", type=int)

    p = sub.add_parser("report", help="figures and tables for a finished sweep")
    p.add_argument("directory", help="the sweep's --out directory")
    p.add_argument("--out", type=Path, help="where to write (default: DIRECTORY/report)")

    p = sub.add_parser("sensitivity", help="Sobol or Morris indices for an experiment")
    p.add_argument("spec", help="experiment YAML with design saltelli or morris")
    p.add_argument("--out", type=Path, help="results directory (default: results/<name>)")
    p.add_argument("--backend", choices=("serial", "process", "dask"), default="process")
    p.add_argument("--workers", type=int)
    p.add_argument("--resume", action="store_true")

    p = sub.add_parser("score", help="simulated per-actor outcomes against an observed table")
    p.add_argument("results", help="the --out directory of `cybernorms run --reps N`")
    p.add_argument("--observed", required=True, type=Path,
                   help="CSV: actor, proposal, signed (0/1) [, by] or vote (yes/abstain/no)")
    p.add_argument("--out", type=Path, help="directory for the per-actor tables")

    p = sub.add_parser("replications", help="CI half-width of outcomes against replications")
    p.add_argument("scenario")
    p.add_argument("--reps", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int)
    p.add_argument("--out", type=Path)
    p.add_argument("--backend", choices=("serial", "process"), default="process")
    p.add_argument("--workers", type=int)

    p = sub.add_parser("design", help="search a proposal's texts for support against ambition")
    p.add_argument("scenario", help="scenario YAML file (or a shipped scenario name)")
    p.add_argument("--spec", type=Path, help="design file: the space of texts, objective, "
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
    p.add_argument("--samples", type=int, help="quasi-random texts in the first stage")
    p.add_argument("--rounds", type=int, help="rounds of edits of texts on the front")
    p.add_argument("--per-round", type=int, help="new texts per round")
    p.add_argument("--replications", type=int, help="runs per text (common random numbers)")
    p.add_argument("--seed", type=int, help="root seed")
    p.add_argument("--out", type=Path, help="results directory (default: results/design_<name>)")
    p.add_argument("--backend", choices=("serial", "process", "dask"), default="process")
    p.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", help="Dask scheduler address (default: a LocalCluster)")
    p.add_argument("--resume", action="store_true", help="reuse runs already finished in --out")
    p.add_argument("--dry-run", action="store_true", help="print the run count only")

    p = sub.add_parser("discover", help="scenario discovery (PRIM, CART) on a sweep's results")
    p.add_argument("results", help="a sweep's --out directory")
    p.add_argument("--outcome", required=True, help="a metric, e.g. joined_IND or share_gdp")
    p.add_argument("--threshold", required=True, type=float,
                   help="the outcome holds at or above this value (at or below with --below)")
    p.add_argument("--below", action="store_true", help="the outcome holds at or below")
    p.add_argument("--at", default="end", help="'end' or a checkpoint date (default: end)")
    p.add_argument("--proposal", help="the proposal (default: the only one)")
    p.add_argument("--min-coverage", type=float, default=0.5,
                   help="the chosen box is the densest with at least this coverage")
    p.add_argument("--peel-alpha", type=float, default=0.05, help="share peeled per PRIM step")
    p.add_argument("--mass-min", type=float, default=0.05,
                   help="smallest box (and CART leaf), as a share of runs")
    p.add_argument("--out", type=Path,
                   help="where to write (default: RESULTS/discovery_<outcome>)")

    p = sub.add_parser("dashboard", help="the interactive Solara dashboard (127.0.0.1 by default)")
    from sim.dashboard.server import configure_parser

    configure_parser(p)

    p = sub.add_parser("bench", help="time the baseline and the kernel against the agent loop")
    p.add_argument("--json", action="store_true")
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    p.add_argument("--repeats", type=int, default=5, help="baseline runs (median reported)")
    p.add_argument("--reference-cap", type=int, default=None,
                   help="time the agent loop on at most this many agents (default: all)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
