"""NormDiplomacyModel: the schedule of cyber-norm diplomacy, one step at a time.

A step (a week in the baseline) is: scheduled events change actors; proposals due
are launched (the sponsor signs); outreach campaigns press their targets; sponsors
who negotiate consult and may revise their texts; actors decide (sign, withdraw, or
come to oppose); scheduled UN votes are held; positions move (if the scenario lets
them); the step is recorded. Decisions are synchronous: all read the world as it stood before anyone
decided this step, so the vectorised kernel and the per-agent rule agree exactly.
"""

from __future__ import annotations

import contextlib
import math
import threading
from pathlib import Path
from typing import Any, Literal

import mesa
import numpy as np
from mesa.experimental.scenarios import Scenario
from threadpoolctl import ThreadpoolController

from sim import compiled
from sim.agents import AGENT_CLASSES, ActorAgent
from sim.decision import (
    cue_term,
    leader_term,
    reference_momentum,
    term_arrays,
    utility,
    vote_band,
    vote_codes,
    vote_probabilities,
)
from sim.history import History, StepSeries
from sim.negotiation import hold_round, open_talks
from sim.positions import Trajectories, move_positions
from sim.scenario.loading import find_scenario, load_scenario, with_overrides
from sim.scenario.spec import TERMS, ScenarioSpec
from sim.world.arrays import World
from sim.world.build import build_world, seed_streams
from sim.world.rules import select

#: the scenario a model runs when none is given
DEFAULT_SCENARIO = "paris_call_2018"
VOTE_CODES = {1: "yes", 0: "abstain", -1: "no"}
#: the terms a second-stage voter reads from the first stage's votes
CUED = (TERMS.index("leader"), TERMS.index("cue"))


class OneBlasThread:
    """While the model computes, BLAS (numpy's matrix products) runs in one thread.

    A multi-threaded BLAS splits a long product (momentum: weights x signatures over
    every firm) into partial sums per thread and adds them in a different order, so a
    world with more than about 10,000 actors of a kind would give results that depend on
    the machine's number of cores. One thread gives the same digits everywhere (and
    sweep workers, one per core, do not oversubscribe the cores). Re-entrant, so that
    `run_model` pays for the switch once rather than every step.
    """

    def __init__(self):
        self._controller: ThreadpoolController | None = None
        self._local = threading.local()

    @contextlib.contextmanager
    def __call__(self):
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        if self._controller is None:
            self._controller = ThreadpoolController()
        with self._controller.limit(limits=1, user_api="blas"):
            self._local.depth = 1
            try:
                yield
            finally:
                self._local.depth = 0


#: use as ``with one_blas_thread(): ...`` around anything that computes a run
one_blas_thread = OneBlasThread()


def seed_from(rng: Any) -> int:
    """A reproducible integer seed from anything Mesa accepts as `rng`."""
    if isinstance(rng, bool):
        raise TypeError("rng must be an integer seed, a numpy Generator or None, not a bool")
    if isinstance(rng, int | np.integer):
        if rng < 0:
            raise ValueError(f"rng must be a non-negative integer seed, got {rng}")
        return int(rng)
    return int(np.random.default_rng(rng).integers(2**63 - 1))


class NormScenario(Scenario):
    """Mesa Scenario carrying a validated cybernorms scenario.

    Mesa's SolaraViz rebuilds models from flat keyword arguments: `source` (a file or
    a shipped scenario name) and dotted overrides (``proposals.paris_call.bindingness``)
    are exactly that. `spec` is the validated ScenarioSpec; `rng` is always an int.

    Attributes:
        source: scenario file path or shipped name.
        overrides: dotted path -> value, applied on top of the file.
        spec: the validated, resolved ScenarioSpec.
        rng_explicit: False when `rng` is the scenario file's default seed.
    """

    source: str = DEFAULT_SCENARIO

    def __init__(self, *, rng=None, spec: ScenarioSpec | None = None,
                 overrides: dict | None = None, **kwargs):
        dotted = {k: v for k, v in kwargs.items() if "." in k}
        flat = {k: v for k, v in kwargs.items() if "." not in k}
        overrides = {**(overrides or {}), **dotted}
        if spec is None:
            spec = load_scenario(find_scenario(flat.get("source", self.source)), overrides)
        elif overrides:
            spec = with_overrides(spec, overrides)
        seed = spec.metadata.seed if rng is None else seed_from(rng)
        super().__init__(rng=seed, **flat)
        self.__dict__["overrides"] = overrides
        self.__dict__["spec"] = spec
        # the scenario's own seed yields to an explicit model rng (SolaraViz passes rng
        # to the model and builds the scenario without one)
        self.__dict__["rng_explicit"] = rng is not None


class NormDiplomacyModel(mesa.Model):
    """Who signs cyber-norm proposals, and when.

    Args:
        scenario: a scenario file, a shipped scenario name, a ScenarioSpec, or a
            NormScenario; default: the Paris Call 2018 baseline.
        rng: integer seed (default: the scenario's `metadata.seed`); a Generator or
            SeedSequence is turned into an integer seed first.
        decision: "kernel" (vectorised; each decision round compiled with numba where
            it is installed, `sim.compiled`), "numpy" (the vectorised kernel only) or
            "reference" (each agent computes its own utility in a Mesa
            ``shuffle_do`` loop). The same results, at different speeds.
        world: a World already built for this scenario and seed (as
            `sim.world.cache.WorldCache.world` gives); default: built here.
        **overrides: dotted paths into the scenario, e.g.
            ``**{"proposals.paris_call.bindingness": 0.5}``.

    Attributes:
        spec: the validated scenario; world: the actor arrays; actors: agents by row.
        history: per-step tallies; datacollector: Mesa model-level series.
        seed: the integer seed of this run.

    The Mesa agents (`actors`, `agents`, `agents_by_type`) are built on first use:
    a run that only steps and observes never pays for a million Python objects,
    while SolaraViz, `mesa.batch_run`, the dashboard's inspector and
    ``decision="reference"`` see ordinary agents (unique ids follow World rows).

    Example:
        >>> model = NormDiplomacyModel("scenarios/paris_call_2018.yaml", rng=1)
        >>> model.run_model()
        >>> model.history.table().tail(1)
    """

    #: whether decision rounds may run compiled; a subclass that watches every round
    #: through `utilities` sets it False (the compiled round does not call it)
    compiled_rounds: bool = True

    def __init__(
        self,
        scenario: str | Path | ScenarioSpec | NormScenario | None = None,
        *,
        rng: Any = None,
        decision: Literal["kernel", "numpy", "reference"] = "kernel",
        world: World | None = None,
        **overrides: Any,
    ):
        super().__init__(scenario=self._norm_scenario(scenario, rng, overrides))
        if decision not in ("kernel", "numpy", "reference"):
            raise ValueError(
                f"decision must be 'kernel', 'numpy' or 'reference', got {decision!r}")
        self.decision = decision
        self.spec: ScenarioSpec = self.scenario.spec
        self.seed: int = self.scenario.rng
        self.last_step = self.spec.metadata.steps
        with one_blas_thread():
            self.world = build_world(self.spec, self.seed) if world is None else world
        self.behaviour_rng = np.random.Generator(np.random.PCG64(seed_streams(self.seed)[1]))
        self._actors: list[ActorAgent] | None = None
        self._pressed: list[tuple[np.ndarray, int]] = []  # outreach written last step
        self.pending_utility = np.zeros(self.world.signed.shape)
        self._events = [(self.spec.step_of(e.at), e) for e in self.spec.events.values()]
        checkpoints = [self.spec.step_of(t) for t in self.spec.report.checkpoints]
        self.history = History(self.world, checkpoints)
        self.talks = open_talks(self.world)
        self.trajectories = Trajectories(self.world, self.spec.positions)
        self.trajectories.record(0)
        self.datacollector = StepSeries(self.history)

    @staticmethod
    def _norm_scenario(scenario, rng, overrides) -> NormScenario:
        if isinstance(scenario, NormScenario):
            if rng is not None and scenario.rng_explicit and seed_from(rng) != scenario.rng:
                raise ValueError("rng and scenario.rng must be the same")
            if not overrides and (rng is None or scenario.rng == seed_from(rng)):
                return scenario
            return NormScenario(rng=scenario.rng if rng is None else rng, spec=scenario.spec,
                                overrides=overrides, source=scenario.source)
        if isinstance(scenario, ScenarioSpec):
            source = scenario.source if scenario.source != "<memory>" else DEFAULT_SCENARIO
            return NormScenario(rng=rng, spec=scenario, overrides=overrides, source=source)
        source = DEFAULT_SCENARIO if scenario is None else str(scenario)
        return NormScenario(rng=rng, source=source, overrides=overrides)

    @property
    def actors(self) -> list[ActorAgent]:
        """The agents in World row order (built now if nothing has asked for them yet)."""
        self._build_agents()
        return self._actors

    @property
    def agents(self):
        """Mesa's AgentSet of every actor (built on first use)."""
        self._build_agents()
        return super().agents

    @property
    def agents_by_type(self):
        self._build_agents()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        self._build_agents()
        return super().agent_types

    def _build_agents(self) -> None:
        # `...` while Mesa's own __init__ runs, before there is a world to view
        if getattr(self, "_actors", ...) is None:
            self._actors = [AGENT_CLASSES[kind](self, row)
                            for row, kind in enumerate(self.world.kind)]

    @property
    def date(self):
        """Calendar date of the current step (its first day)."""
        return self.world.date_of_step(max(self.steps, 1))

    def run_model(self) -> None:
        """Step to the scenario's last step."""
        with one_blas_thread():
            super().run_model()

    def step(self) -> None:
        """One step of diplomacy."""
        with one_blas_thread():
            self.apply_events()
            self.launch_proposals()
            self.run_outreach()
            self.negotiate()
            self.decide()
            self.hold_votes()
            self.move_positions()
            self.history.record(self.steps)
            self.trajectories.record(self.steps)
        if self.steps >= self.last_step:
            self.running = False

    # --- the phases of a step ----------------------------------------------------------

    def apply_events(self) -> None:
        """Scheduled changes to interests, salience or thresholds of selected actors."""
        world = self.world
        for when, event in self._events:
            if when != self.steps:
                continue
            rows = np.flatnonzero(select(world, event.select))
            for section, array, low in (("interests", world.interests, -1.0),
                                        ("salience", world.salience, 0.0)):
                for dim, change in getattr(event, section).items():
                    column = world.dimensions.index(dim)
                    array[rows, column] = np.clip(_changed(array[rows, column], change), low, 1.0)
            if event.threshold is not None:
                world.threshold[rows] = _changed(world.threshold[rows], event.threshold)
            world.interests_changed()

    def launch_proposals(self) -> None:
        """Proposals due this step open for signature; their sponsors sign first."""
        world = self.world
        due = (world.launch_step <= self.steps) & ~world.launched
        for p in np.flatnonzero(due):
            world.launched[p] = True
            sponsor = world.sponsor[p]
            if sponsor >= 0:
                world.signed[sponsor, p] = True
                world.signed_step[sponsor, p] = self.steps

    def run_outreach(self) -> None:
        """Current pressure of each campaign: budget x target weight x decay since start.

        Only the targets are touched (after resetting those of the step before), so a
        campaign aimed at a few states costs a few states, however large the world.
        """
        world = self.world
        for rows, proposal in self._pressed:
            world.outreach[rows, proposal] = 0.0
        self._pressed = []
        for campaign in world.campaigns:
            running = campaign.start <= self.steps and (
                campaign.end is None or self.steps <= campaign.end)
            if running and world.launched[campaign.proposal]:
                elapsed = self.steps - campaign.start
                strength = campaign.budget * math.exp(-campaign.decay * elapsed)
                rows = campaign.targeted
                world.outreach[rows, campaign.proposal] += strength * campaign.target[rows]
                self._pressed.append((rows, campaign.proposal))

    def negotiate(self) -> None:
        """Sponsors hold the consultation rounds due this step and may revise their texts."""
        for talks in self.talks:
            if self.world.launched[talks.proposal]:
                for _ in range(talks.schedule.get(self.steps, 0)):
                    hold_round(self.world, talks, self.steps, self.seed,
                               self.spec.behaviour.temperature)

    def move_positions(self) -> None:
        """Socialisation and persuasion move interests (nothing runs at rate 0)."""
        if self.spec.positions.moving:
            move_positions(self.world, self.spec.positions)

    def utilities(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Utilities now of the actors `rows` (default all): by the kernel, or by every
        agent in turn (the per-agent reference)."""
        if self.decision != "reference":
            return utility(self.world, rows)
        self.step_momentum = [reference_momentum(self.world, p)
                              for p in range(len(self.world.proposal_ids))]
        self.agents.shuffle_do("consider")
        return self.pending_utility.copy() if rows is None else self.pending_utility[rows]

    def focus(self) -> np.ndarray | None:
        """(N, P): who must consider what this step, besides the randomly activated;
        None when nobody is (most steps).

        At a proposal's launch, everyone on its launch list (the pre-negotiated
        signatures: every actor unless the proposal sets `launch_reach`), and every target
        of a campaign that convenes a forum at its start.
        """
        world = self.world
        launching = world.launch_step == self.steps
        forums = [c for c in world.campaigns if c.convenes and c.start == self.steps]
        if not launching.any() and not forums:
            return None
        focus = np.zeros(world.signed.shape, dtype=bool)
        focus[:, launching] = world.launch_reach[:, launching]
        for campaign in forums:
            focus[:, campaign.proposal] |= campaign.target > 0
        return focus if focus.any() else None

    def decide(self) -> None:
        """Activated actors sign when U + noise > theta and withdraw below theta - h.

        Actors in focus (launch, forum) consider in `launch_rounds` synchronous rounds,
        so some follow those who moved in the round before, within the same step.
        """
        world = self.world
        focus = self.focus()
        rounds = self.spec.behaviour.launch_rounds if focus is not None else 1
        temperature = self.spec.behaviour.temperature
        fast = self.decision == "kernel" and self.compiled_rounds and compiled.available()
        for round_ in range(rounds):
            draws = self.behaviour_rng.random(world.n_actors)
            if fast:  # compiled (`sim.compiled`): the same draws and digits, fewer calls
                uniforms = compiled.logistic_from_uniforms(self.behaviour_rng,
                                                           world.signed.shape)
            else:
                noise = self.behaviour_rng.logistic(size=world.signed.shape)
            activated = draws < world.activation
            if focus is None:  # most weeks: only the activated, no (N, P) masks
                rows = np.flatnonzero(activated)
                considering = world.eligible[rows] & world.launched
            else:
                wanted = focus if round_ else focus | activated[:, None]
                considering = wanted & world.eligible & world.launched
                rows = np.arange(world.n_actors)
            # only the actors who decide now need a utility (a few percent most weeks)
            deciding = considering.any(axis=1)
            rows, considering = rows[deciding], considering[deciding]
            if not len(rows):
                continue
            if fast:
                compiled.decide_rows(world, rows, considering, uniforms, temperature,
                                     self.steps)
            else:
                self._apply_decisions(rows, self.utilities(rows), noise[rows], considering)

    def _apply_decisions(self, rows: np.ndarray, u: np.ndarray, noise: np.ndarray,
                         considering: np.ndarray):
        """Sign, withdraw or come to oppose, for the deciding actors `rows` at once."""
        world = self.world
        theta = world.threshold[rows, None]
        signed = world.signed[rows]
        value = u + self.spec.behaviour.temperature * noise
        joins = considering & ~signed & (value > theta)
        leaves = considering & signed & (value < theta - world.hysteresis[rows, None])
        leaves &= rows[:, None] != world.sponsor[None, :]  # sponsors stand by their text
        world.considered[rows] |= considering
        if joins.any() or leaves.any():  # most deciders of most weeks stay as they were
            signed = (signed | joins) & ~leaves
            first = joins & (world.signed_step[rows] < 0)
            world.signed[rows] = signed
            world.signed_step[rows] = np.where(first, self.steps, world.signed_step[rows])
            world.withdrawn_step[rows] = np.where(joins, -1, np.where(
                leaves, self.steps, world.withdrawn_step[rows]))
        world.opposed[rows] = np.where(considering, ~signed & (u < -theta),
                                       world.opposed[rows])

    def hold_votes(self) -> None:
        """UN votes due this step: every state votes yes, abstain or no.

        In a two-stage vote the sponsor and the leaders of blocs and cue groups vote
        first; the other states then read those votes (+1 yes, 0 abstain, -1 no) in
        their leader and cue terms, in place of signatures.
        """
        world = self.world
        due = [vote for vote in world.votes_due if vote.step == self.steps]
        if not due:
            return
        states = np.arange(world.slices["state"].stop)
        terms = term_arrays(world, states)  # (T, S, P)
        coefficients = world.coefficients[:, states]
        noise = self.behaviour_rng.logistic(size=terms.shape[1:])
        for vote in due:
            p = vote.proposal
            counted = coefficients * vote.terms[:, None]
            contributions = counted * terms[:, :, p]
            if not vote.two_stage:
                world.votes[:, p] = self.cast_votes(vote, contributions, noise[:, p], states)
                continue
            first = np.isin(states, np.r_[world.sponsor[p], *world.leaders,
                                          *world.group_leaders].astype(np.int64))
            world.votes[first, p] = self.cast_votes(vote, contributions[:, first],
                                                    noise[first, p], states[first])
            shown = np.zeros(world.signed.shape)
            shown[states[first], p] = world.votes[first, p]
            later = states[~first]
            for t, term in zip(CUED, (leader_term, cue_term), strict=True):
                contributions[t, ~first] = counted[t, ~first] * term(world, shown, later)[:, p]
            world.votes[~first, p] = self.cast_votes(vote, contributions[:, ~first],
                                                     noise[~first, p], later)

    def cast_votes(self, vote, contributions: np.ndarray, noise: np.ndarray,
                   voters: np.ndarray) -> np.ndarray:
        """Votes of the states `voters` from their counted term contributions (T, voters)."""
        value, low, high = self.vote_band(vote, contributions, voters)
        return vote_codes(value, low, high, self.spec.behaviour.temperature * noise)

    def vote_probabilities(self, vote, contributions: np.ndarray,
                           voters: np.ndarray) -> np.ndarray:
        """(voters, 3) chances of yes, abstain and no behind `cast_votes`."""
        return vote_probabilities(*self.vote_band(vote, contributions, voters),
                                  self.spec.behaviour.temperature)

    def vote_band(self, vote, contributions: np.ndarray, voters: np.ndarray):
        """The vote's band, its cross-pressure weighing the affinity with the sponsor
        (`ties`) term by term: NAM membership and democracy pull apart inside it. The
        sponsor of the resolution votes for its own text, as it stands by it when
        signing: its band is below any pull; a sponsor of a rival text
        (`rival_sponsors_vote_no`) votes against it: its band is above any pull."""
        if vote.hedge == 0:
            value, low, high = vote_band(vote, contributions)
        else:
            t = TERMS.index("ties")
            counted = self.world.coefficients[t, voters] * vote.terms[t]
            parts = self.world.tie_parts[vote.proposal][:, voters] * counted
            pulls = np.concatenate([np.delete(contributions, t, axis=0), parts])
            value, low, high = vote_band(vote, contributions, pulls)
        sponsor = voters == self.world.sponsor[vote.proposal]
        if sponsor.any():
            low, high = np.where(sponsor, -np.inf, low), np.where(sponsor, -np.inf, high)
        against = np.isin(voters, vote.opponents)
        if against.any():
            low, high = np.where(against, np.inf, low), np.where(against, np.inf, high)
        return value, low, high

    def __repr__(self) -> str:
        return (f"NormDiplomacyModel({self.spec.metadata.name!r}, seed={self.seed}, "
                f"step={self.steps}/{self.last_step})")


def _changed(values: np.ndarray, change) -> np.ndarray:
    if change.set is not None:
        return np.full_like(values, change.set)
    if change.add is not None:
        return values + change.add
    return values * change.scale
