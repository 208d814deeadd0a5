"""Cross-reference checks of a scenario against itself and its data tables.

Types are checked by pydantic in sim.scenario; this module checks that every name a
scenario uses exists: dimensions, blocs, proposals, initiatives, country codes,
actor ids, attributes, memberships and categories. All problems are reported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sim.data.roster import CATEGORY_COLUMN, Table, load_named, load_states
from sim.errors import InputError, Problem, did_you_mean, os_problem, problem
from sim.scenario.spec import ScenarioSpec, Selector

#: attributes every actor has, usable in `where`
ACTOR_ATTRIBUTES = ("weight", "cyber_power")


@dataclass
class Names:
    """Every name a scenario may refer to."""

    dimensions: set[str]
    state_attributes: set[str]
    iso3: set[str]
    memberships: set[str]
    blocs: set[str]
    proposals: set[str]
    initiatives: set[str]
    actor_ids: set[str]
    attributes: set[str]
    firm_ids: set[str] = field(default_factory=set)
    categories: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Checker:
    names: Names
    source_of: Callable[[str], str]
    problems: list[Problem] = field(default_factory=list)

    def expect(self, path: str, value, allowed: Iterable[str], what: str) -> None:
        allowed = set(allowed)
        if value not in allowed:
            hint = did_you_mean(value, allowed)
            self.problems.append(problem(self.source_of(path), path, f"{what}{hint}", value))

    def each(self, path: str, values, allowed, what: str) -> None:
        for index, value in enumerate(values or ()):
            self.expect(f"{path}.{index}", value, allowed, what)

    def dimensions(self, path: str, keys) -> None:
        for key in keys:
            self.expect(f"{path}.{key}", key, self.names.dimensions,
                        "a dimension from `dimensions`")

    def form(self, path: str, form: dict, power: bool = True) -> None:
        """An attribute-linear form: base, state attributes, member_of.<org>.

        Interests and salience may also use `cyber_power` (computed before them).
        """
        for key in form:
            if key == "base" or (power and key == "cyber_power"):
                continue
            if key.startswith("member_of."):
                self.expect(f"{path}.{key}", key.removeprefix("member_of."),
                            self.names.memberships, "a membership (roster column)")
            else:
                self.expect(f"{path}.{key}", key, self.names.state_attributes,
                            "`base`, a state attribute or member_of.<org>")

    def selector(self, path: str, sel: Selector | None) -> None:
        if sel is None:
            return
        n = self.names
        member_names = n.memberships | n.initiatives
        self.each(f"{path}.id", sel.id, n.actor_ids, "an actor id (iso3 or a named actor's id)")
        self.each(f"{path}.iso3", sel.iso3, n.iso3, "an ISO3 code in the state roster")
        self.each(f"{path}.home_iso3", sel.home_iso3, n.iso3, "an ISO3 code in the state roster")
        self.each(f"{path}.member_of", sel.member_of, member_names,
                  "a membership or initiative")
        self.each(f"{path}.home_member_of", sel.home_member_of, n.memberships,
                  "a membership of states")
        self.each(f"{path}.bloc", sel.bloc, n.blocs, "a bloc from `blocs`")
        self.each(f"{path}.home_bloc", sel.home_bloc, n.blocs, "a bloc from `blocs`")
        self.each(f"{path}.sector", sel.sector, n.categories.get("firm", ()), "a firm sector")
        self.each(f"{path}.type", sel.type, n.categories.get("civil", ()), "a civil-society type")
        for key in sel.where or {}:
            self.expect(f"{path}.where.{key}", key, n.attributes, "an actor attribute")
        for key in sel.home_where or {}:
            self.expect(f"{path}.home_where.{key}", key, n.state_attributes, "a state attribute")
        for index, inner in enumerate(sel.any or ()):
            self.selector(f"{path}.any.{index}", inner)
        self.selector(f"{path}.not", sel.not_)


def _tables(spec: ScenarioSpec, source_of) -> tuple[Table, dict[str, Table]]:
    """Load the tables a scenario names; a missing file also names the scenario field."""

    def load(field: str, value: str, loader, *args):
        try:
            return loader(*args)
        except OSError as exc:  # e.g. a name over 255 bytes
            raise InputError(problem(source_of(field), field, "a table the system can open: "
                                     f"{os_problem(exc).expected}", value)) from None
        except InputError as exc:
            missing = [p for p in exc.problems if "existing" in p.expected]
            if not missing:
                raise
            raise InputError([problem(source_of(field), field, "an existing table: a packaged "
                                      f"name or a CSV path ({missing[0].file} not found)",
                                      value)]) from None

    roster = spec.world.states.roster
    states = load("world.states.roster", roster, load_states, roster, spec.base_dir)
    named = {}
    for kind, key in (("firm", "firms"), ("civil", "civil")):
        population = getattr(spec.world, key)
        if population.named:
            named[kind] = load(f"world.{key}.named", population.named, load_named, kind,
                               population.named, spec.base_dir)
    return states, named


def gather_names(spec: ScenarioSpec, states: Table, named: dict[str, Table]) -> Names:
    categories = {
        "firm": set(spec.world.firms.categories),
        "civil": set(spec.world.civil.categories),
    }
    actor_ids = set(states.distinct("iso3"))
    attributes = set(states.attributes) | set(ACTOR_ATTRIBUTES)
    memberships = set(states.memberships)
    for table in named.values():
        actor_ids |= table.slugs
        attributes |= set(table.attributes)
        memberships |= set(table.memberships)
    return Names(
        dimensions=set(spec.dimensions),
        state_attributes=set(states.attributes),
        iso3=set(states.distinct("iso3")),
        memberships=memberships,
        blocs=set(spec.blocs),
        proposals=set(spec.proposals),
        initiatives=set(spec.initiatives),
        actor_ids=actor_ids,
        attributes=attributes,
        categories=categories,
        firm_ids=set(named["firm"].slugs) if "firm" in named else set(),
    )


def check_references(spec: ScenarioSpec, source_of: Callable[[str], str]) -> None:
    """Raise one InputError listing every unknown name the scenario uses."""
    states, named = _tables(spec, source_of)
    names = gather_names(spec, states, named)
    check = Checker(names, source_of)
    world = spec.world

    check.each("report.swing_states", spec.report.swing_states, names.iso3, "an ISO3 code")
    check.expect("world.states.weight", world.states.weight, names.state_attributes,
                 "a state attribute")
    check.form("world.states.cyber_power", world.states.cyber_power, power=False)
    for section in ("capacity", "regime"):
        check.form(f"world.states.{section}", getattr(world.states, section))
    for section in ("interests", "salience"):
        forms = getattr(world.states, section)
        check.dimensions(f"world.states.{section}", forms)
        for dim, form in forms.items():
            check.form(f"world.states.{section}.{dim}", form)

    for kind, key in (("firm", "firms"), ("civil", "civil")):
        population = getattr(world, key)
        for attr in population.home_weight:
            check.expect(f"world.{key}.home_weight.{attr}", attr, names.state_attributes,
                         "a state attribute")
        for name, category in population.categories.items():
            check.dimensions(f"world.{key}.categories.{name}.interests", category.interests)
            check.dimensions(f"world.{key}.categories.{name}.salience", category.salience)
        if population.generated and not population.categories:
            check.problems.append(problem(source_of(f"world.{key}.categories"),
                                          f"world.{key}.categories",
                                          "at least one category to generate actors from"))
        if kind in named:
            column = CATEGORY_COLUMN[kind]
            for value in sorted(named[kind].distinct(column)):
                check.expect(f"world.{key}.categories", value, population.categories,
                             f"a category for every {column} in {named[kind].source}")
            for home in sorted(named[kind].distinct("home_iso3") - names.iso3):
                check.problems.append(problem(named[kind].source, "home_iso3",
                                              "an ISO3 code in the state roster", home))
    for tie in ("shared_membership", "regional"):
        check.each(f"world.network.{tie}.orgs", getattr(world.network, tie).orgs,
                   names.memberships, "a membership")

    for section in ("blocs", "groups"):
        for bloc_id, bloc in getattr(spec, section).items():
            check.selector(f"{section}.{bloc_id}.members", bloc.members)
            check.each(f"{section}.{bloc_id}.leaders", bloc.leaders, names.iso3, "an ISO3 code")

    for init_id, initiative in spec.initiatives.items():
        check.selector(f"initiatives.{init_id}.members", initiative.members)
        for index, uptake in enumerate(initiative.uptake):
            check.selector(f"initiatives.{init_id}.uptake.{index}.select", uptake.select)

    for pid, proposal in spec.proposals.items():
        path = f"proposals.{pid}"
        check.dimensions(f"{path}.content", proposal.content)
        check.form(f"{path}.ties", proposal.ties)
        check.form(f"{path}.launch_reach", proposal.launch_reach or {})
        if not proposal.content:
            check.problems.append(problem(source_of(f"{path}.content"), f"{path}.content",
                                          "at least one dimension the text covers", {}))
        check.each(f"{path}.federates", proposal.federates, names.initiatives,
                   "an initiative from `initiatives`")
        if proposal.sponsor is not None:
            check.expect(f"{path}.sponsor", proposal.sponsor, names.actor_ids,
                         "an actor id (iso3 or a named actor's id)")
            sponsor_kind = "state" if proposal.sponsor in names.iso3 else (
                "firm" if proposal.sponsor in names.firm_ids else "civil")
            if proposal.sponsor in names.actor_ids and sponsor_kind not in proposal.open_to:
                check.problems.append(problem(
                    source_of(f"{path}.sponsor"), f"{path}.sponsor",
                    f"a sponsor who may sign it ({sponsor_kind} is not in open_to "
                    f"{proposal.open_to})", proposal.sponsor))
        for other in proposal.rivals or {}:
            check.expect(f"{path}.rivals.{other}", other, names.proposals - {pid},
                         "another proposal id")
        for name, campaign in proposal.outreach.items():
            for t, target in enumerate(campaign.targets):
                check.selector(f"{path}.outreach.{name}.targets.{t}.select", target.select)
        if proposal.negotiation is not None:
            check_negotiation(check, f"{path}.negotiation", proposal)

    positions = spec.positions
    check.each("positions.record", positions.record, names.actor_ids,
               "an actor id (iso3 or a named actor's id)")
    for pid, dims in positions.persuasion.dimensions.items():
        check.expect(f"positions.persuasion.dimensions.{pid}", pid, names.proposals,
                     "a proposal id")
        check.each(f"positions.persuasion.dimensions.{pid}", dims, names.dimensions,
                   "a dimension from `dimensions`")

    for name, event in spec.events.items():
        check.selector(f"events.{name}.select", event.select)
        check.dimensions(f"events.{name}.interests", event.interests)
        check.dimensions(f"events.{name}.salience", event.salience)

    check_times(spec, check)
    if check.problems:
        raise InputError(check.problems)


def check_negotiation(check: Checker, path: str, proposal) -> None:
    """What a negotiation may change and never give up must be part of the scenario's text."""
    negotiation = proposal.negotiation
    check.selector(f"{path}.consult", negotiation.consult)
    check.dimensions(f"{path}.content", negotiation.content)
    in_text = [d for d, value in proposal.content.items() if value != 0]
    check.each(f"{path}.red_lines", negotiation.red_lines, in_text,
               "a dimension the text covers (in its `content`, not 0)")
    for dim, limits in negotiation.content.items():
        drafted = proposal.content.get(dim, 0.0)
        if dim in check.names.dimensions and not limits.min <= drafted <= limits.max:
            check.problems.append(problem(
                check.source_of(f"{path}.content.{dim}"), f"{path}.content.{dim}",
                f"limits that hold the drafted content {drafted}", limits.model_dump()))
    if negotiation.bindingness is not None:
        limits = negotiation.bindingness
        if not limits.min <= proposal.bindingness <= limits.max:
            check.problems.append(problem(
                check.source_of(f"{path}.bindingness"), f"{path}.bindingness",
                f"limits that hold the drafted bindingness {proposal.bindingness}",
                limits.model_dump()))


def check_times(spec: ScenarioSpec, check: Checker) -> None:
    """Times that could never take effect: before the first step, or an end before a start.

    Launches and campaign starts before the first step are allowed (they open at step 1);
    times after the last step are allowed too (a longer run, e.g. `--steps`, reaches them).
    """
    start = spec.metadata.start.isoformat()

    def inside(path: str, when) -> None:
        if when is not None and spec.step_of(when) < 1:
            check.problems.append(problem(check.source_of(path), path,
                                          f"a time on or after the start ({start})", when))

    for index, when in enumerate(spec.report.checkpoints):
        inside(f"report.checkpoints.{index}", when)
    for name, event in spec.events.items():
        inside(f"events.{name}.at", event.at)
    for pid, proposal in spec.proposals.items():
        if proposal.un_vote is not None:
            inside(f"proposals.{pid}.un_vote.at", proposal.un_vote.at)
        if proposal.negotiation is not None:
            rounds = proposal.negotiation.rounds
            for index, when in enumerate(rounds.at):
                inside(f"proposals.{pid}.negotiation.rounds.at.{index}", when)
            inside(f"proposals.{pid}.negotiation.rounds.until", rounds.until)
        for name, campaign in proposal.outreach.items():
            path = f"proposals.{pid}.outreach.{name}"
            inside(f"{path}.end", campaign.end)
            begins = proposal.launch if campaign.start is None else campaign.start
            ends = None if campaign.end is None else spec.step_of(campaign.end)
            if ends is not None and 1 <= ends < spec.step_of(begins):
                check.problems.append(problem(check.source_of(f"{path}.end"), f"{path}.end",
                                              f"an end on or after the start ({begins})",
                                              campaign.end))
