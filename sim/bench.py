"""`cybernorms bench`: how fast the model is, measured in one process.

Reports (imports excluded):
- the baseline run: model construction (world build included) plus all steps,
  median of `repeats` runs;
- agent-decisions per second (actors x proposals evaluated) of the vectorised
  kernel and of the idiomatic Mesa per-agent loop (``agents.shuffle_do`` with each
  agent calling `reference_utility`), and their ratio, at each world size N;
- seconds per model step at each N (kernel), to check that cost grows linearly;
- one negotiation round of the baseline's text over its 193 states and 10,000
  candidate texts (candidates built, scored in one batch, the best adopted).

Worlds of size N are the baseline scenario with its generated firms and civil
society scaled to reach N actors (in the baseline's proportions).
"""

from __future__ import annotations

import os
import platform
import statistics
import time

from sim.decision import reference_momentum, utility
from sim.model import NormDiplomacyModel
from sim.negotiation import hold_round, open_talks
from sim.runs.runner import resolve
from sim.scenario.spec import ScenarioSpec

BASELINE = "paris_call_2018"


def scaled_spec(spec: ScenarioSpec, n_actors: int) -> ScenarioSpec:
    """The baseline with generated firms and civil society scaled to `n_actors` in total."""
    from sim.data.roster import load_named, load_states

    named = len(load_states(spec.world.states.roster, spec.base_dir)) + sum(
        len(load_named(kind, population.named, spec.base_dir))
        for kind, population in (("firm", spec.world.firms), ("civil", spec.world.civil))
        if population.named)
    firms, civil = spec.world.firms.generated, spec.world.civil.generated
    room = max(n_actors - named, 0)
    firm_share = firms / (firms + civil)
    new_firms = round(room * firm_share)
    return resolve(spec, {"world.firms.generated": new_firms,
                          "world.civil.generated": room - new_firms})


def _median_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_baseline(spec: ScenarioSpec, repeats: int) -> dict:
    def one_run():
        NormDiplomacyModel(spec, rng=spec.metadata.seed).run_model()

    one_run()  # warm caches (data tables, numpy)
    times = [_median_time(one_run, 1) for _ in range(repeats)]
    model = NormDiplomacyModel(spec)
    return {
        "actors": model.world.n_actors,
        "states": model.world.n_states,
        "firms": int((model.world.kind == 1).sum()),
        "civil": int((model.world.kind == 2).sum()),
        "steps": spec.metadata.steps,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "runs": repeats,
    }


def time_size(spec: ScenarioSpec, reference_cap: int | None) -> dict:
    """Kernel vs per-agent loop, and seconds per step, for one world size."""
    model = NormDiplomacyModel(spec, rng=1)
    for _ in range(3):  # past the launch round, so a realistic share has signed
        model.step()
    world = model.world
    decisions = world.n_actors * len(world.proposal_ids)
    kernel_s = _median_time(lambda: utility(world), 7)

    agents = model.agents
    if reference_cap is not None and len(agents) > reference_cap:
        agents = agents.select(at_most=reference_cap)
    timed = len(agents) * len(world.proposal_ids)

    def reference_pass():
        model.step_momentum = [reference_momentum(world, p)
                               for p in range(len(world.proposal_ids))]
        agents.shuffle_do("consider")

    reference_s = _median_time(reference_pass, 3 if len(agents) <= 20_000 else 1)
    step_s = _median_time(model.step, 5)
    kernel_rate = decisions / kernel_s
    reference_rate = timed / reference_s
    return {
        "actors": world.n_actors,
        "proposals": len(world.proposal_ids),
        "edges": int(world.network.nnz),
        "kernel_decisions_per_s": kernel_rate,
        "reference_decisions_per_s": reference_rate,
        "reference_agents_timed": len(agents),
        "speedup": kernel_rate / reference_rate,
        "step_s": step_s,
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
        hold_round(world, talks, model.steps, model.seed, spec.behaviour.temperature)
        world.content[talks.proposal] = talks.ideal  # every round weighs the same text
        world.bindingness[talks.proposal] = talks.ideal_bindingness
        world.interests_changed()

    one_round()
    return {"consulted": int(talks.consulted.sum()), "candidates": talks.rounds[-1]["candidates"],
            "round_s": _median_time(one_round, repeats)}


def run_benchmark(sizes=(1_000, 10_000, 100_000), repeats: int = 5,
                  reference_cap: int | None = None) -> dict:
    spec = resolve(BASELINE)
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "baseline": time_baseline(spec, repeats),
        "sizes": [time_size(scaled_spec(spec, n), reference_cap) for n in sizes],
        "reference_cap": reference_cap,
        "negotiation": time_negotiation(spec),
    }
    rows = sorted(report["sizes"], key=lambda row: row["actors"])
    report["step_scaling"] = [
        {"from": a["actors"], "to": b["actors"], "size_ratio": b["actors"] / a["actors"],
         "time_ratio": b["step_s"] / a["step_s"]}
        for a, b in zip(rows, rows[1:], strict=False)
    ]
    return report


def format_report(report: dict) -> str:
    base = report["baseline"]
    lines = [
        f"baseline: {base['actors']} actors ({base['states']} states, {base['firms']} firms, "
        f"{base['civil']} civil), {base['steps']} steps: median {base['median_s']:.3f} s "
        f"over {base['runs']} runs (min {base['min_s']:.3f} s), world build included",
        "",
        f"{'actors':>8} {'edges':>9} {'kernel dec/s':>14} {'agent-loop dec/s':>17} "
        f"{'speedup':>8} {'s/step':>9}",
    ]
    for row in report["sizes"]:
        lines.append(
            f"{row['actors']:>8} {row['edges']:>9} {row['kernel_decisions_per_s']:>14.3g} "
            f"{row['reference_decisions_per_s']:>17.3g} {row['speedup']:>7.0f}x "
            f"{row['step_s']:>9.4f}")
    talks = report["negotiation"]
    lines.append(f"negotiation round: {talks['consulted']} states consulted on "
                 f"{talks['candidates']} candidate texts: median {talks['round_s']:.3f} s")
    for scaling in report["step_scaling"]:
        lines.append(
            f"step time grows {scaling['time_ratio']:.1f}x from {scaling['from']} to "
            f"{scaling['to']} actors ({scaling['size_ratio']:.1f}x more actors)")
    return "\n".join(lines)
