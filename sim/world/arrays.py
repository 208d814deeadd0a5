"""The World: every actor's state as numpy arrays (a struct of arrays).

Actors are stored in one order, states first, then firms (named, then generated),
then civil society (named, then generated), so each kind is a contiguous slice.
Static facts (who exists, interests, ties, proposals) are set by `sim.world.build`;
the dynamic state (signatures, opposition, outreach pressure) lives here too and is
changed only by the model. Mesa agents are views onto rows of these arrays.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
from scipy import sparse

from sim.scenario.spec import KINDS, ScenarioSpec


class Attributes(MutableMapping):
    """Actor attributes by name, each an (N,) float array, NaN where it does not apply.

    Tables give most attributes to one kind only (GDP to states, revenue to named
    firms); a column is assembled from its parts when first read, so a world of
    millions of generated actors does not hold thirty columns of NaN nobody reads.
    """

    def __init__(self, n: int, parts: list[tuple[slice, dict[str, np.ndarray]]]):
        self._n = n
        self._parts: dict[str, list[tuple[slice, np.ndarray]]] = {}
        for rows, columns in parts:
            for name, values in columns.items():
                self._parts.setdefault(name, []).append((rows, values))
        self._full: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._full:
            column = np.full(self._n, np.nan)
            for rows, values in self._parts[name]:
                column[rows] = values
            self._full[name] = column
        return self._full[name]

    def __setitem__(self, name: str, values: np.ndarray) -> None:
        self._full[name] = values
        self._parts.setdefault(name, [])

    def __delitem__(self, name: str) -> None:
        del self._parts[name]
        self._full.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def arrays(self) -> Iterator[np.ndarray]:
        """Every array held: the parts and the columns assembled so far."""
        for parts in self._parts.values():
            yield from (values for _, values in parts)
        yield from self._full.values()


class ActorIndex(Mapping):
    """Row of each actor id: named actors (states included) at once, and all of them
    the first time a generated actor's id is looked up (millions of ids are costly)."""

    def __init__(self, world: World):
        self._world = weakref.ref(world)  # not a cycle: the world goes when unused
        self._named = dict(zip(world.named_ids, np.flatnonzero(~world.generated).tolist(),
                               strict=True))
        self._everyone: dict[str, int] | None = None

    def __getitem__(self, actor_id: str) -> int:
        if actor_id in self._named:
            return self._named[actor_id]
        return self._all()[actor_id]

    def _all(self) -> dict[str, int]:
        if self._everyone is None:
            self._everyone = {actor_id: i for i, actor_id in enumerate(self._world().ids)}
        return self._everyone

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return self._world().n_actors


@dataclass(eq=False)
class Campaign:
    """One outreach campaign, resolved to steps and a per-actor target weight."""

    proposal: int
    start: int
    end: int | None
    budget: float
    decay: float
    target: np.ndarray
    convenes: bool = False

    @cached_property
    def targeted(self) -> np.ndarray:
        """Rows of the actors the campaign presses (target weight not 0)."""
        return np.flatnonzero(self.target)


@dataclass(eq=False)
class Vote:
    proposal: int
    step: int
    yes_above: float
    no_below: float
    terms: np.ndarray  # (T,) the weight of each utility term the vote counts, else 0
    hedge: float = 0.0
    two_stage: bool = False
    opponents: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # rows voting no


@dataclass(eq=False)
class World:
    """All actors of one scenario and seed.

    Attributes:
        kind: (N,) 0 state, 1 firm, 2 civil (see KINDS); each kind is a contiguous slice.
        ids, names: (N,) actor ids (iso3 for states, slugs for named actors, kind_NNNN for
            generated ones) and display names, made when first read from `named_ids`
            and `named_names` (the non-generated rows) and the generated actors' kind,
            number, category and home; index_of: actor id -> row.
        home: (N,) index of the home state (a state's home is itself).
        category: (N,) sector of firms / type of civil society ("" for states).
        generated: (N,) True for actors drawn from the scenario (not states or named).
        subregion: (N,) UN subregion of the home state.
        bloc: (N,) index into `bloc_ids` (-1: no bloc); non-states take their home's bloc.
        attributes: name -> (N,) floats (NaN where an attribute does not apply).
        threshold_noise: (N,) each actor's N(0, 1) draw of its threshold.
        membership: (N, M) booleans over `membership_names` (organisations, initiatives).
        interests, salience: (N, D) over `dimensions`; weight, cyber_power, threshold: (N,).
        content: (P, D) proposal texts; bindingness (P,); eligible (N, P); launch_step (P,).
        launch_reach: (N, P) True for the actors on a proposal's pre-negotiated launch
            list, who weigh it in its launch round (everyone, unless `launch_reach` is set).
        network: (N, N) sparse influence ties; row i holds whom i looks at.
        group_ids, group_member, group_leaders, group_cohesion: cue groups (a state may
            be in several; non-states take their home's), (N, G) membership, leaders.
        capacity, embeddedness: (N,) engagement capacity and embeddedness in the existing
            cyber regime (states; 0 for others); regime (P,): how each text relates to
            that regime; ties (N, P): each state's ties to each proposal's sponsor;
            tie_parts: per proposal, the (terms, states) terms of its ties form, for a
            UN vote with a hedge (None otherwise).
        signed, opposed: (N, P) booleans; signed_step, withdrawn_step: (N, P), -1 if none.
        considered: (N, P) True once the actor has weighed the proposal (a leader who
            considered and did not sign sends a signal: `behaviour.non_adoption`).
        outreach: (N, P) outreach pressure this step; launched: (P,) booleans.
    """

    spec: ScenarioSpec
    seed: int
    kind: np.ndarray
    named_ids: np.ndarray
    named_names: np.ndarray
    home: np.ndarray
    category: np.ndarray
    subregion: np.ndarray
    attributes: Attributes
    generated: np.ndarray
    membership_names: list[str]
    membership: np.ndarray
    dimensions: list[str]
    # filled by build_world, in this order: blocs, traits, initiatives, ties, proposals
    bloc_ids: list[str] = field(default_factory=list)
    bloc: np.ndarray = None
    leaders: list[np.ndarray] = None
    leaders_inside: list[np.ndarray] = None
    cohesion: np.ndarray = None
    group_ids: list[str] = field(default_factory=list)
    group_member: np.ndarray = None
    group_leaders: list[np.ndarray] = None
    group_cohesion: np.ndarray = None
    group_leader_rows: np.ndarray = None  # every group's leaders, group after group
    group_of_leader: np.ndarray = None
    group_bounds: np.ndarray = None  # group g's leaders: group_leader_rows[b[g]:b[g+1]]
    interests: np.ndarray = None
    salience: np.ndarray = None
    weight: np.ndarray = None
    cyber_power: np.ndarray = None
    threshold_noise: np.ndarray = None
    threshold: np.ndarray = None
    capacity: np.ndarray = None
    embeddedness: np.ndarray = None
    network: sparse.csr_matrix = None
    proposal_ids: list[str] = None
    content: np.ndarray = None
    bindingness: np.ndarray = None
    eligible: np.ndarray = None
    launch_step: np.ndarray = None
    launch_reach: np.ndarray = None
    sponsor: np.ndarray = None
    federated: np.ndarray = None
    rivalry: np.ndarray = None
    regime: np.ndarray = None
    ties: np.ndarray = None
    tie_parts: list[np.ndarray | None] = None
    legitimacy: np.ndarray = None
    campaigns: list[Campaign] = None
    votes_due: list[Vote] = None
    peer_norm: np.ndarray = None
    kind_weight_total: np.ndarray = None
    coefficients: np.ndarray = None
    activation: np.ndarray = None
    hysteresis: np.ndarray = None
    non_adoption: float = 0.0
    # dynamic state (reset_dynamics)
    signed: np.ndarray = None
    opposed: np.ndarray = None
    considered: np.ndarray = None
    signed_step: np.ndarray = None
    withdrawn_step: np.ndarray = None
    outreach: np.ndarray = None
    launched: np.ndarray = None
    votes: np.ndarray = None
    static_cache: tuple | None = None  # decision.static_terms

    def __post_init__(self):
        self.n_actors = len(self.kind)
        self.slices = {
            k: slice(int(np.searchsorted(self.kind, i, "left")),
                     int(np.searchsorted(self.kind, i, "right")))
            for i, k in enumerate(KINDS)
        }
        self.index_of = ActorIndex(self)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s.stop - s.start} {k}" for k, s in self.slices.items())
        return (f"World({self.spec.metadata.name!r}, seed={self.seed}, {counts}, "
                f"{len(self.dimensions)} dimensions, proposals={self.proposal_ids})")

    def interests_changed(self) -> None:
        """Call after changing interests, salience or content: terms built on them are stale."""
        self.static_cache = None

    @cached_property
    def ids(self) -> np.ndarray:
        return self._labels(self.named_ids, lambda kind, number, width, rows: np.strings.add(
            f"{kind}_", np.strings.zfill(number, width)))

    @cached_property
    def names(self) -> np.ndarray:
        iso3 = self.named_ids[:self.n_states].astype(str)  # states come first, all named

        def generated_names(kind, number, width, rows):
            text = self.category[rows].astype(str)
            for part in (f" {kind} ", number, " (", iso3[self.home[rows]], ")"):
                text = np.strings.add(text, part)
            return text

        return self._labels(self.named_names, generated_names)

    def _labels(self, named: np.ndarray, generated) -> np.ndarray:
        """(N,) object array: `named` on the named rows, `generated(kind, numbers, width,
        rows)` on each kind's generated rows (numbered from 1, zero-padded to `width`)."""
        labels = np.empty(self.n_actors, dtype=object)
        labels[~self.generated] = named
        for kind, rows in self.slices.items():
            drawn = rows.start + np.flatnonzero(self.generated[rows])
            if len(drawn):
                number = np.arange(1, len(drawn) + 1).astype(str)
                labels[drawn] = generated(kind, number, len(str(len(drawn))),
                                          drawn).astype(object)
        return labels

    @cached_property
    def leader_layout(self) -> tuple[np.ndarray, ...]:
        """Bloc leaders for the kernel: (leaders bloc after bloc, bloc b's leaders at
        [bounds[b], bounds[b + 1]), leaders per bloc, and per actor the bloc it leads
        from inside, or -1)."""
        counts = np.array([len(group) for group in self.leaders], dtype=np.int64)
        leaders = np.concatenate([*self.leaders, np.empty(0, np.int64)]).astype(np.int64)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        leads = np.full(self.n_actors, -1, dtype=np.int16 if len(counts) < 2**15 else int)
        for code, inside in enumerate(self.leaders_inside):
            leads[inside] = code
        return leaders, bounds, counts, leads

    @property
    def n_states(self) -> int:
        return self.slices["state"].stop - self.slices["state"].start

    def date_of_step(self, step: int) -> date:
        return self.spec.timeline.date_of_step(step)


def reset_dynamics(world: World) -> None:
    """Nobody has signed, opposed or been reached yet."""
    n, p = world.n_actors, len(world.proposal_ids)
    world.signed = np.zeros((n, p), dtype=bool)
    world.opposed = np.zeros((n, p), dtype=bool)
    world.considered = np.zeros((n, p), dtype=bool)
    world.signed_step = np.full((n, p), -1, dtype=np.int64)
    world.withdrawn_step = np.full((n, p), -1, dtype=np.int64)
    world.outreach = np.zeros((n, p))
    world.launched = np.zeros(p, dtype=bool)
    world.votes = np.full((world.n_states, p), -2, dtype=np.int8)  # -2 not voted


def sparse_row(matrix: sparse.csr_matrix, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Neighbours of actor i and tie weights (for per-agent code)."""
    start, stop = matrix.indptr[i], matrix.indptr[i + 1]
    return matrix.indices[start:stop], matrix.data[start:stop]
