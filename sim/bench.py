"""`cybernorms bench`: how fast the model is, measured as a user's runs do it.

Every ratio is measured in one process, the two sides alternating, so that a busy
machine slows both alike. Reported (all of it in one document with ``--json``):

- baseline: runs of the Paris Call baseline as `cybernorms run` does them (the world
  built from the seed, then 170 steps), median of `repeats`, split into build and
  steps; the same runs on the numpy kernel alone (``decision="numpy"``, alternating:
  what the compiled round, `sim.compiled`, saves); and the build of a world that runs
  share (common random numbers);
- mesa: agent-steps per second of the baseline against Mesa's BoltzmannWealth example
  with as many agents for as many steps (its own code, grid at one agent per cell);
- sizes: at each world size N (the baseline with its generated firms and civil society
  scaled), the kernel a run uses (compiled where numba is installed) against the
  per-agent Mesa loop (every agent computing its own utility in ``agents.shuffle_do``):
  decisions per second, their ratio and the largest difference between the two; the
  numpy kernel's decisions per second and whether it gives the same digits; and the
  seconds per step of a
  whole run (built afresh, every step, as a user's run), per actor and per tie;
- step_scaling: how the seconds per step grow from one size to the next;
- negotiation: one consultation round of the baseline's text over its 193 states and
  10,000 candidate texts (candidates built, scored in one batch, the best adopted);
- profile (``--profile``): the top costs of baseline runs;
- sweeps (``--sweeps``): sweeps of the baseline on each backend (serial, process
  pool, Dask local cluster) with the same workers: seconds, runs per second, the
  Dask/pool ratio (the median over pairs of a pool sweep followed by a Dask sweep, so
  each ratio is taken under one load), whether the results are identical; and the
  peak memory of process pool sweeps of growing size (each in its own process), with
  their ratio;
- scale (``--scale``): runs of 1,000,000 and 10,000,000 actors, each in its own
  process (its `actors` limit raised to its size): build, steps, total seconds and
  peak resident memory.

`step_cost_figure` draws the seconds per step against actors from a report (``--figure``).
"""

from __future__ import annotations

import cProfile
import json
import math
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sim import compiled
from sim.decision import reference_momentum, utility
from sim.model import NormDiplomacyModel, one_blas_thread
from sim.negotiation import hold_round, open_talks
from sim.runs.runner import resolve, run_spec
from sim.scenario.loading import find_scenario
from sim.scenario.spec import ScenarioSpec
from sim.world.cache import WorldCache

BASELINE = "paris_call_2018"
SIZES = (1_000, 10_000, 100_000)
SCALE_SIZES = (1_000_000, 10_000_000)
SCALE_FIRM_SHARE = 0.6  # of the generated actors at scale (the rest civil society)


def named_actors(spec: ScenarioSpec) -> int:
    """States and named firms and organisations: the actors a scaled world keeps."""
    from sim.data.roster import load_named, load_states

    return len(load_states(spec.world.states.roster, spec.base_dir)) + sum(
        len(load_named(kind, population.named, spec.base_dir))
        for kind, population in (("firm", spec.world.firms), ("civil", spec.world.civil))
        if population.named)


def scaled_spec(spec: ScenarioSpec, n_actors: int, firm_share: float | None = None
                ) -> ScenarioSpec:
    """The baseline with generated firms and civil society making `n_actors` in total,
    split as in the baseline (or `firm_share` firms)."""
    firms, civil = spec.world.firms.generated, spec.world.civil.generated
    room = max(n_actors - named_actors(spec), 0)
    share = firms / (firms + civil) if firm_share is None else firm_share
    new_firms = round(room * share)
    return resolve(spec, {"world.firms.generated": new_firms,
                          "world.civil.generated": room - new_firms})


def _seconds(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _both(function) -> tuple[float, float]:
    """(wall, CPU) seconds of a call: CPU time is what a busy machine disturbs least."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def _median_time(function, repeats: int) -> float:
    return statistics.median(_seconds(function) for _ in range(repeats))


# --- the baseline and Mesa's example -----------------------------------------------------


def boltzmann_run(n_agents: int, steps: int, seed: int) -> None:
    """Mesa's BoltzmannWealth example, `n_agents` on a grid of one agent per cell."""
    from mesa.examples.basic.boltzmann_wealth_model.model import (
        BoltzmannScenario,
        BoltzmannWealth,
    )

    side = math.ceil(math.sqrt(n_agents))
    model = BoltzmannWealth(BoltzmannScenario(n=n_agents, width=side, height=side, rng=seed))
    for _ in range(steps):
        model.step()


def time_baseline(spec: ScenarioSpec, repeats: int, mesa_repeats: int) -> dict:
    """Baseline runs (fresh worlds, distinct seeds) alternating with Mesa's example."""
    steps = spec.metadata.steps
    model = NormDiplomacyModel(spec, rng=0)
    model.run_model()  # warm the data caches and imports
    n_actors = model.world.n_actors
    boltzmann_run(100, 2, 0)
    NormDiplomacyModel(spec, rng=0, decision="numpy").run_model()
    builds, runs, runs_cpu, boltzmann, boltzmann_cpu = [], [], [], [], []
    numpy_runs = []
    for r in range(max(repeats, mesa_repeats)):
        if r < repeats:
            started, cpu = time.perf_counter(), time.process_time()
            model = NormDiplomacyModel(spec, rng=1000 + r)
            built = time.perf_counter()
            model.run_model()
            builds.append(built - started)
            runs.append(time.perf_counter() - started)
            runs_cpu.append(time.process_time() - cpu)
            numpy_runs.append(_seconds(lambda r=r: NormDiplomacyModel(
                spec, rng=1000 + r, decision="numpy").run_model()))
        if r < mesa_repeats:
            wall, cpu = _both(lambda r=r: boltzmann_run(n_actors, steps, r))
            boltzmann.append(wall)
            boltzmann_cpu.append(cpu)
    world = model.world
    cache = WorldCache()
    for _ in range(2):  # kept from its second request
        cache.world(spec, 7)
    shared = _median_time(lambda: NormDiplomacyModel(spec, rng=7, world=cache.world(spec, 7)),
                          repeats)
    run_s, boltzmann_s = statistics.median(runs), statistics.median(boltzmann)
    run_cpu, boltzmann_cpu_s = statistics.median(runs_cpu), statistics.median(boltzmann_cpu)
    agent_steps = world.n_actors * steps
    return {
        "baseline": {
            "actors": world.n_actors, "states": world.n_states,
            "firms": int((world.kind == 1).sum()), "civil": int((world.kind == 2).sum()),
            "edges": int(world.network.nnz), "steps": steps, "runs": repeats,
            "median_s": run_s, "min_s": min(runs), "median_cpu_s": run_cpu,
            "build_median_s": statistics.median(builds),
            "steps_median_s": statistics.median(r - b for r, b in zip(runs, builds,
                                                                      strict=True)),
            "shared_world_build_median_s": shared,
            "compiled": compiled.available(),
            "numpy_median_s": statistics.median(numpy_runs),
            "numpy_over_compiled": statistics.median(numpy_runs) / run_s,
        },
        "mesa": {
            "model": "mesa.examples BoltzmannWealth", "agents": world.n_actors,
            "steps": steps, "runs": mesa_repeats, "median_s": boltzmann_s,
            "agent_steps_per_s": agent_steps / boltzmann_s,
            "baseline_agent_steps_per_s": agent_steps / run_s,
            "ratio": boltzmann_s / run_s,
            "median_cpu_s": boltzmann_cpu_s, "ratio_cpu": boltzmann_cpu_s / run_cpu,
        },
    }


# --- kernel against the per-agent loop, and whole runs, by size ------------------------


def time_size(spec: ScenarioSpec, reference_cap: int | None) -> dict:
    """At one world size: kernel vs per-agent loop, and the seconds per step of a run."""
    model = NormDiplomacyModel(spec, rng=1)
    for _ in range(3):  # past the launch round, so a realistic share has signed
        model.step()
    world = model.world
    n_props = len(world.proposal_ids)
    kernel_of = compiled.utility if compiled.available() else utility
    with one_blas_thread():
        kernel_s = _median_time(lambda: kernel_of(world), 7)
        kernel = kernel_of(world)
        numpy_s = _median_time(lambda: utility(world), 7)
        numpy_same = bool(np.array_equal(utility(world), kernel))

    agents = model.agents
    if reference_cap is not None and len(agents) > reference_cap:
        agents = agents.select(at_most=reference_cap)

    def reference_pass():
        model.step_momentum = [reference_momentum(world, p) for p in range(n_props)]
        agents.shuffle_do("consider")

    reference_s = _median_time(reference_pass, 3 if len(agents) <= 20_000 else 1)
    rows = np.array([agent.index for agent in agents])
    difference = float(np.abs(model.pending_utility[rows] - kernel[rows]).max())

    run = NormDiplomacyModel(spec, rng=2)  # a run as a user's: fresh, every step
    steps_s = _seconds(run.run_model)
    step_s = steps_s / spec.metadata.steps
    kernel_rate = world.n_actors * n_props / kernel_s
    reference_rate = len(agents) * n_props / reference_s
    return {
        "actors": world.n_actors,
        "proposals": n_props,
        "edges": int(world.network.nnz),
        "kernel": "compiled" if kernel_of is not utility else "numpy",
        "kernel_decisions_per_s": kernel_rate,
        "numpy_kernel_decisions_per_s": world.n_actors * n_props / numpy_s,
        "numpy_kernel_same_digits": numpy_same,
        "reference_decisions_per_s": reference_rate,
        "reference_agents_timed": len(agents),
        "speedup": kernel_rate / reference_rate,
        "max_abs_difference": difference,
        "run_steps": spec.metadata.steps,
        "step_s": step_s,
        "step_s_per_million_actors": step_s / world.n_actors * 1e6,
        "step_s_per_million_edges": step_s / max(world.network.nnz, 1) * 1e6,
    }


def time_negotiation(spec: ScenarioSpec, candidates: int = 10_000, repeats: int = 5) -> dict:
    """One consultation round of the baseline's first proposal: every state consulted,
    every dimension negotiable in [-1, 1] (a neighbourhood far above `candidates`)."""
    pid = next(iter(spec.proposals))
    block = {"consult": {"kind": "state"}, "candidates": candidates,
             "content": {dim: {"min": -1.0, "max": 1.0} for dim in spec.dimensions},
             "bindingness": {"min": 0.0, "max": 1.0}}
    model = NormDiplomacyModel(resolve(spec, {f"proposals.{pid}.negotiation": block}), rng=1)
    for _ in range(3):
        model.step()
    world = model.world
    (talks,) = open_talks(world)

    def one_round():
        with one_blas_thread():
            hold_round(world, talks, model.steps, model.seed, spec.behaviour.temperature)
        world.content[talks.proposal] = talks.ideal  # every round weighs the same text
        world.bindingness[talks.proposal] = talks.ideal_bindingness
        world.interests_changed()

    one_round()
    return {"consulted": int(talks.consulted.sum()), "candidates": talks.rounds[-1]["candidates"],
            "round_s": _median_time(one_round, repeats)}


def step_scaling(rows: list[dict]) -> list[dict]:
    rows = sorted(rows, key=lambda row: row["actors"])
    return [{"from": a["actors"], "to": b["actors"], "size_ratio": b["actors"] / a["actors"],
             "edge_ratio": b["edges"] / a["edges"], "time_ratio": b["step_s"] / a["step_s"]}
            for a, b in zip(rows, rows[1:], strict=False)]


# --- profile ------------------------------------------------------------------------------


def profile_baseline(spec: ScenarioSpec, runs: int = 5, top: int = 15) -> list[dict]:
    """The functions that cost most in `runs` baseline runs with a sweep's tables."""
    run_spec(spec, 0, tables=("metrics",), worlds=None)
    profiler = cProfile.Profile()
    profiler.enable()
    for seed in range(runs):
        run_spec(spec, 2000 + seed, tables=("metrics",), worlds=None)
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("tottime")
    rows = []
    for (path, line, name), (_, calls, own, cumulative, _) in stats.stats.items():
        rows.append({"function": f"{Path(path).name}:{line}({name})", "calls": calls,
                     "own_s": own / runs, "cumulative_s": cumulative / runs})
    rows.sort(key=lambda row: -row["own_s"])
    return rows[:top]


# --- sweeps and scale: in child processes ---------------------------------------------------


def _child(code: str, *arguments) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON line last."""
    done = subprocess.run([sys.executable, "-c", code, *map(str, arguments)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


#: the child's own peak resident memory (MiB): VmHWM belongs to the program's memory
#: map, while ru_maxrss keeps the parent's peak from before the exec (Linux)
_PEAK = """
def peak_mib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

_SWEEP_CHILD = """
import json, resource, sys, time
from sim.studies.sweep import sweep
""" + _PEAK + """
started = time.perf_counter()
sweep(sys.argv[1], sys.argv[2], backend=sys.argv[3], workers=int(sys.argv[4]), quiet=True,
      log=lambda line: None, load=False)
elapsed = time.perf_counter() - started
worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "sweeper_peak_rss_mib": peak_mib(),
                  "worker_peak_rss_mib": worker}))
"""

_SCALE_CHILD = """
import json, resource, sys, time
from sim import limits
from sim.bench import BASELINE, SCALE_FIRM_SHARE, scaled_spec
from sim.runs.runner import resolve, run_spec
""" + _PEAK + """
limits.configure(actors=max(limits.current().actors, int(sys.argv[1])))
spec = scaled_spec(resolve(BASELINE), int(sys.argv[1]), SCALE_FIRM_SHARE)
started = time.perf_counter()
record = run_spec(spec, 1, tables=("metrics",), worlds=None)
end = record.metrics.query("at == 'end' and metric.str.startswith('signers_')")
print(json.dumps({**record.timings, "total_s": time.perf_counter() - started,
                  "signers": dict(zip(end["proposal"] + "." + end["metric"], end["value"])),
                  "actors": int(sys.argv[1]), "steps": spec.metadata.steps,
                  "firms": spec.world.firms.generated, "civil": spec.world.civil.generated,
                  "peak_rss_gib": peak_mib() / 1024}))
"""


def _experiment(directory: Path, runs: int) -> Path:
    """An experiment of `runs` replications of the baseline (each its own world)."""
    path = directory / f"baseline_{runs}.yaml"
    path.write_text(json.dumps({
        "name": f"bench_baseline_{runs}", "scenario": str(find_scenario(BASELINE)),
        "design": "points", "points": {"baseline": {}}, "replications": runs, "seed": 1,
        "metrics": ["signers_", "share_"], "max_runs": max(runs, 1)}), encoding="utf-8")
    return path


def time_sweeps(runs: int, workers: int, memory_runs: tuple[int, ...],
                pairs: int = 2) -> dict:
    """Pool and Dask sweeps in turn (`pairs` of each: the ratio of a pair is measured
    under the same load), one serial sweep, then pool sweeps of growing size for their
    peak memory."""
    from sim.studies.results import load_results

    report: dict = {"runs": runs, "workers": workers, "backends": {}, "pairs": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        experiment = _experiment(tmp, runs)
        metrics = {}
        order = [*["process", "dask"] * max(1, pairs), "serial"]
        for turn, backend in enumerate(order):
            out = tmp / f"{backend}_{turn}"
            result = _child(_SWEEP_CHILD, experiment, out, backend, workers)
            if backend == "dask":
                pair = report["pairs"][-1]
                pair.update(dask_s=result["seconds"],
                            dask_over_pool=result["seconds"] / pair["process_s"])
            elif backend == "process":
                report["pairs"].append({"process_s": result["seconds"]})
            if backend not in report["backends"]:
                report["backends"][backend] = {**result, "runs_per_s": runs / result["seconds"]}
                frame = load_results(out).metrics
                metrics[backend] = frame.sort_values(["run_id", "proposal", "metric", "at"],
                                                     ignore_index=True)
            shutil.rmtree(out)
        first = metrics["process"]
        report["identical"] = all(first.equals(frame) for frame in metrics.values())
        report["dask_over_pool"] = statistics.median(p["dask_over_pool"]
                                                     for p in report["pairs"])
        pool_s = statistics.median(p["process_s"] for p in report["pairs"])
        report["pool_projected_10000_runs_s"] = pool_s / runs * 10_000
        report["memory"] = []
        for count in memory_runs:
            result = _child(_SWEEP_CHILD, _experiment(tmp, count), tmp / f"memory_{count}",
                            "process", workers)
            report["memory"].append({"runs": count, **result,
                                     "runs_per_s": count / result["seconds"]})
        if len(report["memory"]) > 1:
            low, high = report["memory"][0], report["memory"][-1]
            report["memory_ratio"] = max(
                high[k] / low[k] for k in ("sweeper_peak_rss_mib", "worker_peak_rss_mib"))
    return report


def time_scale(sizes: tuple[int, ...]) -> list[dict]:
    return [_child(_SCALE_CHILD, n) for n in sizes]


# --- the whole benchmark ----------------------------------------------------------------------


def run_benchmark(sizes=SIZES, repeats: int = 7, reference_cap: int | None = None, *,
                  mesa_repeats: int = 3, profile: bool = False, sweeps: int | None = None,
                  memory_runs: tuple[int, ...] = (500, 5_000), workers: int = 2,
                  scale: tuple[int, ...] | None = None) -> dict:
    spec = resolve(BASELINE)
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average": list(os.getloadavg())},
        **time_baseline(spec, repeats, mesa_repeats),
        "sizes": [time_size(scaled_spec(spec, n), reference_cap) for n in sizes],
        "reference_cap": reference_cap,
        "negotiation": time_negotiation(spec),
    }
    report["step_scaling"] = step_scaling(report["sizes"])
    if profile:
        report["profile"] = profile_baseline(spec)
    if sweeps:
        report["sweeps"] = time_sweeps(sweeps, workers, memory_runs)
    if scale:
        report["scale"] = time_scale(scale)
    return report


def format_report(report: dict) -> str:
    base, mesa = report["baseline"], report["mesa"]
    lines = [
        f"baseline: {base['actors']} actors ({base['states']} states, {base['firms']} firms, "
        f"{base['civil']} civil), {base['edges']} ties, {base['steps']} steps: median "
        f"{base['median_s']:.3f} s over {base['runs']} runs (min {base['min_s']:.3f} s, CPU "
        f"{base['median_cpu_s']:.3f} s); "
        f"world and model built in {base['build_median_s']:.4f} s, steps "
        f"{base['steps_median_s']:.3f} s; a shared world in "
        f"{base['shared_world_build_median_s']:.4f} s",
        f"the same runs on the numpy kernel alone: median {base['numpy_median_s']:.3f} s "
        f"({base['numpy_over_compiled']:.2f}x; the round is "
        f"{'compiled' if base['compiled'] else 'not compiled: numba is not installed'})",
        f"against Mesa's BoltzmannWealth, {mesa['agents']} agents x {mesa['steps']} steps "
        f"(median {mesa['median_s']:.2f} s): {mesa['ratio']:.0f}x the agent-steps per second "
        f"({mesa['baseline_agent_steps_per_s']:.3g} against {mesa['agent_steps_per_s']:.3g}); "
        f"in CPU time {mesa['ratio_cpu']:.0f}x",
        "",
        f"{'actors':>9} {'ties':>10} {'kernel dec/s':>13} {'agent-loop dec/s':>17} "
        f"{'speedup':>8} {'max |diff|':>10} {'s/step':>9} {'us/actor-step':>14}",
    ]
    for row in report["sizes"]:
        lines.append(
            f"{row['actors']:>9} {row['edges']:>10} {row['kernel_decisions_per_s']:>13.3g} "
            f"{row['reference_decisions_per_s']:>17.3g} {row['speedup']:>7.0f}x "
            f"{row['max_abs_difference']:>10.1e} {row['step_s']:>9.5f} "
            f"{row['step_s_per_million_actors']:>14.3f}")
    for row in report["sizes"]:
        lines.append(f"{row['actors']:>9} actors: the {row['kernel']} kernel; numpy's "
                     f"{row['numpy_kernel_decisions_per_s']:.3g} dec/s, the same digits: "
                     f"{row['numpy_kernel_same_digits']}")
    for scaling in report["step_scaling"]:
        lines.append(
            f"a step costs {scaling['time_ratio']:.1f}x from {scaling['from']} to "
            f"{scaling['to']} actors ({scaling['size_ratio']:.0f}x the actors, "
            f"{scaling['edge_ratio']:.1f}x the ties)")
    talks = report["negotiation"]
    lines.append(f"negotiation round: {talks['consulted']} states consulted on "
                 f"{talks['candidates']} candidate texts: median {talks['round_s']:.3f} s")
    if "profile" in report:
        lines += ["", "top costs of a baseline run (seconds per run):",
                  f"{'own':>8} {'cumulative':>10} {'calls':>7}  function"]
        lines += [f"{row['own_s']:>8.4f} {row['cumulative_s']:>10.4f} {row['calls']:>7}  "
                  f"{row['function']}" for row in report["profile"]]
    if "sweeps" in report:
        sweeps = report["sweeps"]
        lines += ["", f"sweeps of {sweeps['runs']} baseline runs on {sweeps['workers']} "
                      f"workers:"]
        for backend, row in sweeps["backends"].items():
            lines.append(f"  {backend:>8}: {row['seconds']:7.1f} s, {row['runs_per_s']:6.1f} "
                         f"runs/s, peak RSS {row['sweeper_peak_rss_mib']:.0f} MiB (sweeping), "
                         f"{row['worker_peak_rss_mib']:.0f} MiB (largest worker)")
        pairs = ", ".join(f"{p['dask_over_pool']:.2f}x" for p in sweeps["pairs"])
        lines.append(f"  Dask / pool: {sweeps['dask_over_pool']:.2f}x (median of the pairs "
                     f"{pairs}, each pool sweep followed by a Dask sweep); results identical "
                     f"on every backend: {sweeps['identical']}; 10,000 runs on the pool: "
                     f"about {sweeps['pool_projected_10000_runs_s'] / 60:.1f} min")
        for row in sweeps["memory"]:
            lines.append(f"  {row['runs']:>6} runs: {row['seconds']:7.1f} s, peak RSS "
                         f"{row['sweeper_peak_rss_mib']:.0f} MiB (sweeping), "
                         f"{row['worker_peak_rss_mib']:.0f} MiB (largest worker)")
        if "memory_ratio" in sweeps:
            lines.append(f"  peak memory, largest against smallest sweep: "
                         f"{sweeps['memory_ratio']:.2f}x")
    if "scale" in report:
        lines += ["", "at scale (one run each, its own process):"]
        for row in report["scale"]:
            lines.append(
                f"  {row['actors']:>10} actors x {row['steps']} steps: {row['total_s']:.1f} s "
                f"(build {row['build_s']:.1f} s, steps {row['steps_s']:.1f} s), peak RSS "
                f"{row['peak_rss_gib']:.2f} GiB")
    return "\n".join(lines)


def step_cost_figure(report: dict, stem: str | Path) -> list[Path]:
    """Seconds per step of whole runs against actors (log-log), with the line a cost
    linear in actors would follow from the world nearest 10,000 actors."""
    from sim.outputs.palette import GRID, REFERENCE, series_color
    from sim.outputs.plots import plt, save_figure

    points = sorted([(row["actors"], row["step_s"]) for row in report["sizes"]]
                    + [(row["actors"], row["steps_s"] / row["steps"])
                       for row in report.get("scale", [])])
    actors = np.array([a for a, _ in points], dtype=float)
    step_ms = np.array([s for _, s in points]) * 1e3
    base = int(np.argmin(np.abs(np.log(actors / 10_000))))
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    ax.plot(actors, step_ms[base] * actors / actors[base], color=REFERENCE,
            linestyle=(0, (6, 3)), linewidth=1.2,
            label=f"linear in actors (through {int(actors[base]):,})")
    ax.plot(actors, step_ms, color=series_color(0), marker="o", linewidth=1.6,
            label="measured (whole runs, one BLAS thread)")
    for i, (a, ms) in enumerate(zip(actors, step_ms, strict=True)):
        last = i == len(actors) - 1  # labelled to its left, inside the axes
        ax.annotate(f"{ms:.3g} ms", (a, ms), textcoords="offset points",
                    xytext=(-8, 6) if last else (8, -6), ha="right" if last else "left",
                    va="bottom" if last else "top", fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("actors in the world")
    ax.set_ylabel("time per step (ms, log scale)")
    ax.margins(x=0.08, y=0.12)
    ax.grid(True, which="major", color=GRID)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Cost of one step of a run, by world size", fontsize=10)
    fig.tight_layout()
    machine = report["machine"]
    caption = (f"Seconds per step of whole runs of the Paris Call baseline scaled to each size "
               f"(sizes: run time / steps; scale: steps only), {machine['cpus']} cores, load "
               f"average {machine['load_average'][0]:.1f} at the start. Produced by "
               f"`cybernorms bench{' --scale' if report.get('scale') else ''} --figure "
               f"{stem}`.")
    return save_figure(fig, stem, caption)
