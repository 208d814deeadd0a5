"""Scenario -> World: draw who exists, their interests, ties and thresholds.

Static facts are drawn here from the world seed (one stream per concern, so a change
to one section leaves the other draws as they were); `reset_dynamics` then sets the
state before the first step. The arrays themselves are described in `sim.world.arrays`.

A World is built in two parts. Its *structure* (who exists, traits, memberships,
blocs, cue groups, ties, each actor's threshold draw) depends only on the scenario's
`world`, `dimensions`, `blocs`, `groups` and `initiatives` sections, their data tables
and the seed (`structure_key`); everything else (thresholds from the behaviour section,
proposals and the sponsor ties they name, campaigns, votes, coefficients, the dynamic
state) is set per run. Runs that differ
only in behaviour or proposals can therefore share one drawn structure
(`build_world(spec, seed, structure)`), with the same results as drawing it again.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass

import numpy as np

from sim.data.roster import (
    CATEGORY_COLUMN,
    SIZE_COLUMN,
    Table,
    load_named,
    load_states,
    locate,
    slug,
)
from sim.scenario.spec import KINDS, TERMS, Population, ScenarioSpec
from sim.world.arrays import Attributes, Campaign, Vote, World, reset_dynamics
from sim.world.network import build_network
from sim.world.rules import linear_form, select

#: the world stream of the launch lists, after the six of the structure (so that those
#: draw as they did); drawn per run, since the lists depend on the proposals
LAUNCH_STREAM = 6
#: how utility terms enter U: costs and rival commitments count against signing
TERM_SIGNS = np.array([-1.0 if t in ("cost", "rival") else 1.0 for t in TERMS])


def seed_streams(seed: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """Split a run's integer seed into (world, behaviour) seed sequences.

    Scenarios run with the same seed get the same world draws wherever their world
    sections agree (common random numbers), whatever their proposals or behaviour.
    """
    world, behaviour = np.random.SeedSequence(seed).spawn(2)
    return world, behaviour


def _generator(sequence: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(sequence))


@dataclass
class _Block:
    """Rows of one kind before they are stacked into the World."""

    ids: np.ndarray  # of the named actors (generated ones are numbered by the World)
    names: np.ndarray
    n_named: int
    home: np.ndarray
    category: np.ndarray
    codes: np.ndarray  # index of each actor's category among the population's categories
    size: np.ndarray
    attributes: dict[str, np.ndarray]  # table columns, of the named actors only
    flags: dict[str, np.ndarray]


def _population(kind: str, spec: Population, states: Table, base_dir,
                rng: np.random.Generator) -> _Block:
    """Named actors from their table, then `generated` more drawn from the scenario."""
    iso3 = np.array(states.frame["iso3"], dtype=object)
    row_of = {code: row for row, code in enumerate(iso3)}
    labels = list(spec.categories)
    ids, names, homes, categories, sizes, codes = [], [], [], [], [], []
    attributes: dict[str, np.ndarray] = {}
    flags: dict[str, np.ndarray] = {}
    n_named = 0
    if spec.named:
        table = load_named(kind, spec.named, base_dir)
        n_named = len(table)
        frame = table.frame
        ids.append(np.array([slug(n) for n in frame["name"]], dtype=object))
        names.append(np.array(frame["name"], dtype=object))
        homes.append(np.array([row_of[h] for h in frame["home_iso3"]], dtype=np.int64))
        named_categories = list(frame[CATEGORY_COLUMN[kind]])
        categories.append(np.array(named_categories, dtype=object))
        # the loader checked that the scenario has every category the table names
        codes.append(np.array([labels.index(c) for c in named_categories], dtype=np.int64))
        sizes.append(frame[SIZE_COLUMN[kind]].to_numpy(float))
        for column in table.numbers:
            attributes[column] = frame[column].to_numpy(float)
        for column in table.memberships:
            flags[column] = frame[column].to_numpy(bool)
    n_generated = spec.generated
    if n_generated:
        shares = np.array([spec.categories[c].share for c in labels], float)
        drawn = rng.choice(len(labels), size=n_generated, p=shares / shares.sum())
        propensity = np.ones(len(iso3))
        for attr, exponent in spec.home_weight.items():
            propensity *= np.power(np.maximum(states.attribute(attr), 1e-12), exponent)
        home = rng.choice(len(iso3), size=n_generated, p=propensity / propensity.sum())
        size = (rng.pareto(spec.size.pareto_shape, n_generated) + 1.0) * spec.size.scale
        homes.append(home.astype(np.int64))
        categories.append(np.array(labels, dtype=object)[drawn])
        codes.append(drawn.astype(np.int64))
        sizes.append(size)
    return _Block(
        ids=_stacked(ids, object),
        names=_stacked(names, object),
        n_named=n_named,
        home=_stacked(homes, np.int64),
        category=_stacked(categories, object),
        codes=_stacked(codes, np.int64),
        size=_stacked(sizes, float),
        attributes=attributes,
        flags=flags,
    )


def _stacked(pieces: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(pieces).astype(dtype, copy=False) if pieces else np.empty(0, dtype)


def _stack_flags(blocks: list[tuple[slice, dict[str, np.ndarray]]], n: int
                 ) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {}
    for rows, values in blocks:
        for name, column in values.items():
            columns.setdefault(name, np.zeros(n, dtype=bool))[rows] = column
    return columns


def structure_key(spec: ScenarioSpec, seed: int) -> str:
    """What a world's structure depends on: its sections of the scenario, the data
    tables they read (by file and modification time) and the seed."""
    sections = spec.model_dump(mode="json", by_alias=True,
                               include={"world", "dimensions", "blocs", "groups",
                                        "initiatives"})
    tables = [spec.world.states.roster, spec.world.firms.named, spec.world.civil.named]
    stamps = []
    for table in tables:
        path = locate(table, spec.base_dir) if table else None
        stat = path.stat() if path is not None and path.is_file() else None
        stamps.append([str(path), stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0])
    text = json.dumps([sections, stamps, int(seed)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def build_world(spec: ScenarioSpec, seed: int | None = None,
                structure: World | None = None) -> World:
    """Build the World of `spec` for integer `seed` (default: the scenario's seed).

    `structure`, if given, is a structure drawn by `draw_structure` for the same
    `structure_key`; it is shared, not changed: the run gets its own copies of what
    runs change (interests and salience, which events and agent views write).
    """
    seed = spec.metadata.seed if seed is None else int(seed)
    if structure is None:
        return furnish_world(draw_structure(spec, seed), spec, seed)
    world = copy.copy(structure)
    world.interests = structure.interests.copy()
    world.salience = structure.salience.copy()
    return furnish_world(world, spec, seed)


def furnish_world(world: World, spec: ScenarioSpec, seed: int) -> World:
    """Set the parts of one run on a structure that is the run's own: thresholds,
    proposals, behaviour coefficients and the state before the first step."""
    world.spec, world.seed, world.static_cache = spec, int(seed), None
    _set_thresholds(world)
    _set_proposals(world)
    _set_sponsor_ties(world)
    _consult_before_launch(world, _generator(seed_streams(seed)[0].spawn(LAUNCH_STREAM + 1)
                                             [LAUNCH_STREAM]))
    _set_behaviour(world)
    reset_dynamics(world)
    return world


def draw_structure(spec: ScenarioSpec, seed: int) -> World:
    """The part of a World drawn from the world seed: actors, traits, blocs, memberships,
    ties and each actor's threshold draw (see `structure_key` for what it depends on)."""
    world_seq, _ = seed_streams(seed)
    rng_firms, rng_civil, rng_thresholds, rng_initiatives, rng_network, rng_traits = (
        _generator(s) for s in world_seq.spawn(6)
    )
    states = load_states(spec.world.states.roster, spec.base_dir)
    firms = _population("firm", spec.world.firms, states, spec.base_dir, rng_firms)
    civil = _population("civil", spec.world.civil, states, spec.base_dir, rng_civil)

    n_states, n_firms, n_civil = len(states), len(firms.home), len(civil.home)
    n = n_states + n_firms + n_civil
    rows = {
        "state": slice(0, n_states),
        "firm": slice(n_states, n_states + n_firms),
        "civil": slice(n_states + n_firms, n),
    }
    state_rows = np.arange(n_states)
    home = np.r_[state_rows, firms.home, civil.home]
    frame = states.frame

    named = {kind: slice(rows[kind].start, rows[kind].start + block.n_named)
             for kind, block in (("firm", firms), ("civil", civil))}
    state_attributes = {name: states.attribute(name) for name in states.attributes}
    attributes = Attributes(n, [(rows["state"], state_attributes),
                                (named["firm"], firms.attributes),
                                (named["civil"], civil.attributes)])
    flags = _stack_flags(
        [(rows["state"], {m: frame[m].to_numpy(bool) for m in states.memberships}),
         (named["firm"], firms.flags), (named["civil"], civil.flags)], n,
    )
    membership_names = list(flags)
    world = World(
        spec=spec,
        seed=seed,
        kind=np.repeat(np.arange(3, dtype=np.int8), [n_states, n_firms, n_civil]),
        named_ids=np.concatenate([np.array(frame["iso3"], dtype=object), firms.ids,
                                  civil.ids]),
        named_names=np.concatenate([np.array(frame["name"], dtype=object), firms.names,
                                    civil.names]),
        home=home,
        category=np.r_[np.full(n_states, "", dtype=object), firms.category, civil.category],
        subregion=frame["un_subregion"].to_numpy(object)[home],
        attributes=attributes,
        generated=np.r_[np.zeros(n_states, bool),
                        np.arange(n_firms) >= firms.n_named,
                        np.arange(n_civil) >= civil.n_named],
        membership_names=membership_names,
        membership=np.column_stack([flags[m] for m in membership_names]),
        dimensions=list(spec.dimensions),
    )
    _assign_traits(world, states, firms, civil, rows, rng_traits)
    _assign_blocs(world)  # after traits: a bloc rule may use cyber_power or weight
    _assign_groups(world)
    _assign_dispositions(world, states)
    _draw_threshold_noise(world, rng_thresholds)
    _join_initiatives(world, rng_initiatives)
    world.network = build_network(world, spec.world.network, rng_network)
    world.kind_weight_total = np.array(
        [world.weight[world.slices[k]].sum() for k in KINDS], dtype=float
    )
    return world


def _assign_blocs(world: World) -> None:
    """First matching bloc wins (in file order); non-states take their home's bloc."""
    spec = world.spec
    world.bloc_ids = list(spec.blocs)
    world.bloc = np.full(world.n_actors, -1, dtype=np.int64)
    states = world.kind == 0
    for code, bloc in enumerate(spec.blocs.values()):
        world.bloc[states & (world.bloc == -1) & select(world, bloc.members)] = code
    world.bloc = world.bloc[world.home]
    world.leaders = [_leaders(world, bloc, world.bloc == code)
                     for code, bloc in enumerate(spec.blocs.values())]
    world.cohesion = np.array([bloc.cohesion for bloc in spec.blocs.values()], dtype=float)
    # leaders who belong to the bloc they lead (a leader may sit outside it)
    world.leaders_inside = [leaders[world.bloc[leaders] == code]
                            for code, leaders in enumerate(world.leaders)]


def _leaders(world: World, bloc, members: np.ndarray) -> np.ndarray:
    """The listed leaders, then the `leaders_largest` member states of largest weight."""
    listed = [world.index_of[iso3] for iso3 in bloc.leaders]
    if bloc.leaders_largest:
        states = np.flatnonzero(members & (world.kind == 0))
        # stable order: by weight descending, ties by row
        ranked = states[np.argsort(-world.weight[states], kind="stable")]
        listed += [int(i) for i in ranked[:bloc.leaders_largest]]
    return np.array(list(dict.fromkeys(listed)), dtype=np.int64)


def _assign_groups(world: World) -> None:
    """Cue groups: every group whose selector picks a state (non-states: their home's)."""
    groups = world.spec.groups
    world.group_ids = list(groups)
    states = world.kind == 0
    member = np.zeros((world.n_actors, len(groups)), dtype=bool)
    for g, group in enumerate(groups.values()):
        member[:, g] = states & select(world, group.members)
    world.group_member = member[world.home]
    world.group_leaders = [_leaders(world, group, member[:, g])
                           for g, group in enumerate(groups.values())]
    world.group_cohesion = np.array([g.cohesion for g in groups.values()], dtype=float)
    sizes = [len(leaders) for leaders in world.group_leaders]
    world.group_leader_rows = np.concatenate([np.zeros(0, np.int64), *world.group_leaders])
    world.group_of_leader = np.repeat(np.arange(len(groups)), sizes)
    world.group_bounds = np.r_[0, np.cumsum(sizes)].astype(np.int64)


def _state_form(world: World, states: Table, form: dict) -> np.ndarray:
    """An attribute-linear form over states (cyber power included), 0 for other actors."""
    value = np.zeros(world.n_actors)
    if form:
        value[world.slices["state"]] = linear_form(form, *_state_inputs(world, states),
                                                   len(states))
    return value


def _roster_inputs(states: Table) -> tuple[dict, dict]:
    """The roster's attributes and memberships, as attribute-linear forms read them."""
    return ({name: states.attribute(name) for name in states.attributes},
            {m: states.column(m) for m in states.memberships})


def _state_inputs(world: World, states: Table) -> tuple[dict, dict]:
    """The attributes (cyber power included) and memberships a state form reads."""
    attrs, members = _roster_inputs(states)
    attrs["cyber_power"] = world.cyber_power[world.slices["state"]]
    return attrs, members


def _assign_dispositions(world: World, states: Table) -> None:
    """Engagement capacity and regime embeddedness (of the world: part of the structure)."""
    spec = world.spec.world.states
    world.capacity = _state_form(world, states, spec.capacity)
    world.embeddedness = _state_form(world, states, spec.regime)


def _set_sponsor_ties(world: World) -> None:
    """How each proposal relates to the regime, and ties to each proposal's sponsor (of
    the proposals: set per run)."""
    spec = world.spec
    states = load_states(spec.world.states.roster, spec.base_dir)
    proposals = spec.proposals.values()
    world.regime = np.array([p.regime for p in proposals], dtype=float)
    world.ties = np.column_stack([_state_form(world, states, p.ties) for p in proposals]
                                 ).reshape(world.n_actors, len(proposals))
    world.tie_parts = [_form_parts(world, states, p.ties)
                       if p.un_vote is not None and p.un_vote.hedge > 0 else None
                       for p in proposals]


def _form_parts(world: World, states: Table, form: dict) -> np.ndarray:
    """(terms of the form, states): each term of an attribute-linear form by itself (the
    base, then coefficient x attribute), whose sum is the form: how a UN vote with a
    hedge sees pulls both ways inside one affinity (a Non-Aligned democracy)."""
    attrs, members = _state_inputs(world, states)
    parts = [linear_form({key: value}, attrs, members, len(states))
             for key, value in form.items()]
    return np.array(parts).reshape(len(parts), len(states))


def _assign_traits(world, states: Table, firms: _Block, civil: _Block, rows,
                   rng: np.random.Generator) -> None:
    """Cyber power, interests, salience and weight of every actor.

    States: attribute-linear forms (cyber power first, so interests may use it).
    Firms and civil society: their category's mean, mixed with the home state's
    interests by `home_mix`, plus Normal(0, spread) noise, clipped to range.
    """
    spec = world.spec
    dims = world.dimensions
    n, d = world.n_actors, len(dims)
    state_rows = rows["state"]
    attrs, members = _roster_inputs(states)
    size = len(states)
    power = np.zeros(n)
    power[state_rows] = np.clip(
        linear_form(spec.world.states.cyber_power, attrs, members, size), 0, 1
    )
    attrs["cyber_power"] = power[state_rows]

    x = np.zeros((n, d))
    s = np.zeros((n, d))
    for j, dim in enumerate(dims):
        if dim in spec.world.states.interests:
            x[state_rows, j] = linear_form(spec.world.states.interests[dim], attrs, members, size)
        if dim in spec.world.states.salience:
            s[state_rows, j] = linear_form(spec.world.states.salience[dim], attrs, members, size)
    x[state_rows] = np.clip(x[state_rows], -1, 1)
    s[state_rows] = np.clip(s[state_rows], 0, 1)

    for key, block, population in (("firm", firms, spec.world.firms),
                                   ("civil", civil, spec.world.civil)):
        if len(block.home) == 0:
            continue
        labels = list(population.categories)
        mean_x = np.array([[population.categories[c].interests.get(dim, 0.0) for dim in dims]
                           for c in labels]).reshape(len(labels), d)
        mean_s = np.array([[population.categories[c].salience.get(dim, 0.0) for dim in dims]
                           for c in labels]).reshape(len(labels), d)
        for out, mean, low in ((x, mean_x, -1.0), (s, mean_s, 0.0)):
            _mix_with_home(out, rows[key], mean, block, population, low, rng)
    world.interests, world.salience = x, s

    weight = np.zeros(n)
    weight[state_rows] = states.attribute(spec.world.states.weight)
    weight[rows["firm"]] = firms.size
    weight[rows["civil"]] = civil.size
    world.weight = weight
    world.cyber_power = power
    world.attributes["weight"] = weight
    world.attributes["cyber_power"] = power


def _mix_with_home(out: np.ndarray, rows: slice, means: np.ndarray, block: _Block,
                   population: Population, low: float, rng: np.random.Generator,
                   chunk: int = 1 << 16) -> None:
    """out[rows] = clip((1 - mix) * category mean + mix * home state's + N(0, spread)),

    In chunks of actors, so that millions of them need no (N, D) temporaries; the
    noise is drawn in the same order as in one piece, so the values are the same.
    """
    mix, spread = population.home_mix, population.spread
    for start in range(0, len(block.home), chunk):
        home, codes = block.home[start:start + chunk], block.codes[start:start + chunk]
        noise = rng.normal(0.0, spread, (len(home), out.shape[1]))
        out[rows][start:start + chunk] = np.clip(
            (1 - mix) * means[codes] + mix * out[home] + noise, low, 1)


def _draw_threshold_noise(world: World, rng: np.random.Generator) -> None:
    """Each actor's draw z ~ N(0, 1) of its threshold (kind by kind, in KINDS order)."""
    noise = np.empty(world.n_actors)
    for kind in KINDS:
        rows = world.slices[kind]
        noise[rows] = rng.standard_normal(rows.stop - rows.start)
    world.threshold_noise = noise


def _set_thresholds(world: World) -> None:
    """Heterogeneous resistance: theta = mean + power * cyber_power + sd * z."""
    threshold = np.empty(world.n_actors)
    for kind in KINDS:
        rule = getattr(world.spec.behaviour, kind).threshold
        rows = world.slices[kind]
        threshold[rows] = (rule.mean + rule.power * world.cyber_power[rows]
                           + rule.sd * world.threshold_noise[rows])
    world.threshold = threshold


def _join_initiatives(world: World, rng: np.random.Generator) -> None:
    """Members of existing initiatives: by selector, plus random uptake."""
    columns = []
    for initiative in world.spec.initiatives.values():
        member = np.zeros(world.n_actors, dtype=bool)
        if initiative.members is not None:
            member |= select(world, initiative.members)
        for uptake in initiative.uptake:
            eligible = select(world, uptake.select) & world.generated
            member |= eligible & (rng.random(world.n_actors) < uptake.probability)
        columns.append(member)
    if columns:
        world.membership = np.column_stack([world.membership, *columns])
        world.membership_names = world.membership_names + list(world.spec.initiatives)


def _content_rivalry(content: np.ndarray) -> np.ndarray:
    """Incompatibility of two texts: how far they point in opposite directions (0..1)."""
    norms = np.linalg.norm(content, axis=1)
    norms[norms == 0] = 1.0
    cosine = (content @ content.T) / np.outer(norms, norms)
    rivalry = np.clip(-cosine, 0.0, 1.0)
    np.fill_diagonal(rivalry, 0.0)
    return rivalry


def _set_proposals(world: World) -> None:
    spec = world.spec
    ids = list(spec.proposals)
    world.proposal_ids = ids
    n, p, d = world.n_actors, len(ids), len(world.dimensions)
    world.content = np.zeros((p, d))
    world.bindingness = np.zeros(p)
    world.eligible = np.zeros((n, p), dtype=bool)
    world.launch_step = np.zeros(p, dtype=np.int64)
    world.sponsor = np.full(p, -1, dtype=np.int64)
    world.federated = np.zeros((n, p))
    world.legitimacy = np.zeros((p, 3))
    world.campaigns = []
    world.votes_due = []
    for k, proposal in enumerate(spec.proposals.values()):
        for dim, value in proposal.content.items():
            world.content[k, world.dimensions.index(dim)] = value
        world.bindingness[k] = proposal.bindingness
        world.eligible[:, k] = np.isin(world.kind, [KINDS.index(t) for t in proposal.open_to])
        world.launch_step[k] = max(1, spec.step_of(proposal.launch))  # earlier: opens at step 1
        if proposal.sponsor is not None:
            world.sponsor[k] = world.index_of[proposal.sponsor]
        if proposal.federates:
            cols = [world.membership_names.index(f) for f in proposal.federates]
            world.federated[:, k] = world.membership[:, cols].any(axis=1)
        weights = np.array([spec.behaviour.legitimacy.get(kind, 0.0) for kind in KINDS])
        scale = weights.sum()
        weights *= [kind in proposal.open_to for kind in KINDS]
        if spec.behaviour.legitimacy_over == "eligible":
            scale = weights.sum()
        world.legitimacy[k] = weights / scale if scale > 0 else weights
        for campaign in proposal.outreach.values():
            target = np.zeros(n)
            for group in campaign.targets:
                target += group.weight * select(world, group.select)
            start = spec.step_of(campaign.start) if campaign.start is not None else None
            world.campaigns.append(Campaign(
                proposal=k,
                start=world.launch_step[k] if start is None else max(1, start),
                end=None if campaign.end is None else spec.step_of(campaign.end),
                budget=campaign.budget,
                decay=campaign.decay,
                target=target * world.eligible[:, k],
                convenes=campaign.convenes,
            ))
        if proposal.un_vote is not None:
            vote = proposal.un_vote
            counted = np.array([vote.weights.get(term, 1.0) if term in vote.terms else 0.0
                                for term in TERMS])
            world.votes_due.append(Vote(k, max(1, spec.step_of(vote.at)), vote.yes_above,
                                        vote.no_below, counted, vote.hedge, vote.two_stage))
    world.rivalry = _content_rivalry(world.content)
    declared = np.zeros((p, p), dtype=bool)
    for k, proposal in enumerate(spec.proposals.values()):
        for other, strength in (proposal.rivals or {}).items():
            q = ids.index(other)
            world.rivalry[k, q] = world.rivalry[q, k] = strength
            declared[k, q] = declared[q, k] = True
    for vote in world.votes_due:
        if spec.proposals[ids[vote.proposal]].un_vote.rival_sponsors_vote_no:
            # the states sponsoring a declared rival vote against it
            rows = world.sponsor[declared[vote.proposal]]
            rows = rows[rows >= 0]
            vote.opponents = np.unique(rows[world.kind[rows] == 0])
    # peers are shares of the neighbours who *could* sign: fixed for the run
    world.peer_norm = np.asarray(world.network @ world.eligible.astype(float))


def _consult_before_launch(world: World, rng: np.random.Generator) -> None:
    """Who is on each proposal's pre-negotiated launch list (weighs it in the launch round).

    A state is consulted with the chance `launch_reach` gives it (uniform draws compared
    with the clipped form, so a higher reach keeps every state reached at a lower one), a
    firm or civil-society organisation with its kind's share in `launch_reach_of` (all of
    them when not named); the sponsor always is. Drawn only for proposals with a reach,
    one draw per actor whatever the shares, so a share of 1 changes no other draw.
    """
    spec = world.spec
    world.launch_reach = np.ones((world.n_actors, len(world.proposal_ids)), dtype=bool)
    states = load_states(spec.world.states.roster, spec.base_dir)
    for k, proposal in enumerate(spec.proposals.values()):
        if proposal.launch_reach is None and not proposal.launch_reach_of:
            continue
        chance = np.ones(world.n_actors)  # a draw in [0, 1) is always below 1
        if proposal.launch_reach is not None:
            form = _state_form(world, states, proposal.launch_reach)[world.slices["state"]]
            chance[world.slices["state"]] = np.clip(form, 0.0, 1.0)
        for kind, share in proposal.launch_reach_of.items():
            chance[world.slices[kind]] = share
        consulted = rng.random(world.n_actors) < chance
        if world.sponsor[k] >= 0:
            consulted[world.sponsor[k]] = True
        world.launch_reach[:, k] = consulted


def _set_behaviour(world: World) -> None:
    """Per-actor coefficients (T, N) of the utility terms, activation and hysteresis."""
    behaviour = world.spec.behaviour
    kinds = [getattr(behaviour, k) for k in KINDS]
    per_kind = np.array([[getattr(b, term) for b in kinds] for term in TERMS])  # (T, 3)
    world.coefficients = per_kind[:, world.kind] * TERM_SIGNS[:, None]
    world.activation = np.array([b.activation for b in kinds])[world.kind]
    world.hysteresis = np.array([b.hysteresis for b in kinds])[world.kind]
    world.non_adoption = behaviour.non_adoption
