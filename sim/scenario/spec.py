"""The scenario format: the typed sections of a validated `ScenarioSpec`.

A scenario says who exists (world), what they care about (dimensions, interests),
which proposals are on the table (content, bindingness, who may sign, sponsor,
outreach, UN votes), how actors decide (behaviour) and what happens when (events).
Every section is a pydantic model that forbids unknown keys; `sim.scenario.loading`
builds a spec from files and `sim.scenario.references` checks its cross-references.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    WithJsonSchema,
    model_validator,
)

from sim.data.roster import locate
from sim.scenario.timeline import Timeline

KINDS = ("state", "firm", "civil")
Kind = Literal["state", "firm", "civil"]
#: scenario fields that name data tables (a packaged name or a path)
DATA_PATHS = (("world", "states", "roster"), ("world", "firms", "named"),
              ("world", "civil", "named"))
TERMS = ("align", "cost", "peers", "leader", "momentum", "home", "federated", "outreach", "rival",
         "capacity", "regime", "ties", "cue")


# --- field types ---------------------------------------------------------------------


def _parse_time(value: Any) -> date | int:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("a date (YYYY-MM-DD) or a step number >= 1")


TimePoint = Annotated[
    Any,
    PlainValidator(_parse_time),
    PlainSerializer(lambda v: v.isoformat() if isinstance(v, date) else v, when_used="json"),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date"}, {"type": "integer", "minimum": 1}]}
    ),
]


def _as_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("a date (YYYY-MM-DD) that exists in the calendar") from None
    return value


def _as_whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)  # a range in a sweep gives 100.0 for a count
    return value


#: a count: an integer, or a float with nothing after the point (never true or '3')
Count = Annotated[int, BeforeValidator(_as_whole)]

#: a calendar date, written unquoted (YAML) or quoted
Day = Annotated[date, BeforeValidator(_as_date), WithJsonSchema({"type": "string",
                                                                  "format": "date"})]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Names = Annotated[
    list[str],
    BeforeValidator(_as_list),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]
Kinds = Annotated[
    list[Kind],
    BeforeValidator(_as_list),
    WithJsonSchema({"anyOf": [{"enum": list(KINDS)},
                              {"type": "array", "items": {"enum": list(KINDS)}}]}),
]
Unit = Annotated[float, Field(ge=0, le=1)]
Signed = Annotated[float, Field(ge=-1, le=1)]
NonNegative = Annotated[float, Field(ge=0)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]

#: attribute-linear form: {base: b, <attribute>: coefficient, member_of.<org>: coefficient}
LinearForm = dict[str, float]


class Spec(BaseModel):
    """Base of all scenario sections: unknown keys are errors, values are validated.

    Strict: a number field takes a number (an integer where it counts), not `true` or
    the text '0.5', which lax validation would turn into 1.0 and 0.5 silently.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True,
                              allow_inf_nan=False, strict=True)


# --- rules ---------------------------------------------------------------------------


class Range(Spec):
    """An attribute range; either bound may be omitted (inclusive bounds)."""

    min: float | None = None
    max: float | None = None


class Selector(Spec):
    """Picks actors. All given conditions must hold; lists mean "any of".

    `any` holds if one of its selectors holds, `not` if its selector does not.
    An empty selector ({}) picks everyone. `member_of` and `where` look at the actor
    itself; the `home_` forms look at its home state (a state's home is itself).
    """

    kind: Kinds | None = None
    id: Names | None = Field(None, description="actor ids: iso3 for states, slugs for named")
    iso3: Names | None = None
    member_of: Names | None = None
    bloc: Names | None = None
    sector: Names | None = None
    type: Names | None = None
    where: dict[str, Range] | None = None
    home_iso3: Names | None = None
    home_member_of: Names | None = None
    home_bloc: Names | None = None
    home_where: dict[str, Range] | None = None
    any: list[Selector] | None = None
    not_: Selector | None = Field(None, alias="not")


class Target(Spec):
    """A weighted group of outreach targets; weights of matching groups add up."""

    select: Selector
    weight: float = 1.0


# --- sections ------------------------------------------------------------------------


class Metadata(Spec):
    name: str
    description: str = ""
    start: Day
    unit: Literal["day", "week", "month"] = "week"
    steps: Count = Field(ge=1)
    seed: Count = Field(0, ge=0)


class Report(Spec):
    """What summaries and metrics single out: checkpoint times and named swing states."""

    checkpoints: list[TimePoint] = []
    swing_states: Names = []
    list_states: bool = Field(False, description="the run summary names the states that "
                              "join at the launch and by the end")


class Bloc(Spec):
    """A bloc (each state has at most one) or a cue group (a state may be in many).

    Leaders are the listed states plus the `leaders_largest` members of largest weight
    (GDP in the baseline): a rule over attributes, never a list chosen for an outcome.
    """

    label: str = ""
    members: Selector
    leaders: Names = []
    leaders_largest: int = Field(0, ge=0)
    cohesion: Unit = 0.5


class StatesSpec(Spec):
    roster: str = "states_2018"
    weight: str = "gdp_usd_2018"
    cyber_power: LinearForm = {"cyber_capability": 1.0}
    interests: dict[str, LinearForm] = {}
    salience: dict[str, LinearForm] = {}
    capacity: LinearForm = Field({}, description="engagement capacity (the `capacity` term)")
    regime: LinearForm = Field({}, description="embeddedness in the existing cyber regime "
                               "(the `regime` term, times each proposal's `regime`)")


class Category(Spec):
    """A firm sector or civil-society type: population share and mean interests."""

    share: NonNegative = 1.0
    interests: dict[str, Signed] = {}
    salience: dict[str, Unit] = {}


class SizeDistribution(Spec):
    """Heavy-tailed sizes of generated actors: Pareto with this shape, minimum `scale`."""

    pareto_shape: float = Field(1.2, gt=0)
    scale: float = Field(1.0, gt=0)


class Population(Spec):
    """Firms or civil society: named actors from a table plus a generated population."""

    named: str | None = None
    generated: Count = Field(0, ge=0)
    home_weight: dict[str, float] = {"gdp_usd_2018": 1.0}
    categories: dict[str, Category] = {}
    spread: NonNegative = 0.2
    home_mix: Unit = 0.3
    size: SizeDistribution = SizeDistribution()


class ShareTie(Spec):
    weight: NonNegative = 0.0
    orgs: Names = []


class HomeTie(Spec):
    weight: NonNegative = 0.0
    state_weight: NonNegative = 0.0


class RandomTie(Spec):
    weight: NonNegative = 0.0
    degree: Count = Field(0, ge=0)


class Network(Spec):
    """Typed influence ties; each type has a weight (0 switches it off)."""

    same_bloc: NonNegative = 0.0
    same_subregion: NonNegative = 0.0
    shared_membership: ShareTie = ShareTie()
    regional: ShareTie = Field(ShareTie(), description="regional organisations: weight times "
                               "the number of listed ones two states share")
    home: HomeTie = HomeTie()
    same_sector: RandomTie = RandomTie()
    same_home: RandomTie = RandomTie()


class World(Spec):
    states: StatesSpec = StatesSpec()
    firms: Population = Population()
    civil: Population = Population()
    network: Network = Network()


class Uptake(Spec):
    """Members drawn at random among generated actors (world seed), e.g. small firms."""

    select: Selector
    probability: Unit


class Initiative(Spec):
    label: str = ""
    members: Selector | None = None
    uptake: list[Uptake] = []


class Campaign(Spec):
    """Sponsor outreach: effect = budget * weight(targets) * exp(-decay * steps since start).

    A campaign that `convenes` holds a forum at its start: every target reconsiders
    the proposal that step (as at a launch), not only the randomly activated.
    """

    start: TimePoint | None = None
    end: TimePoint | None = None
    budget: NonNegative = 1.0
    decay: NonNegative = 0.0
    targets: list[Target] = []
    convenes: bool = False


class UNVote(Spec):
    """A recorded General Assembly vote: yes above the abstention band, no below it.

    V is the utility counted over `terms` (default: all) plus noise. A vote expresses a
    position and bloc discipline more than a bandwagon, so a scenario may leave out
    peers and momentum, e.g. `terms: [align, cost, leader, rival]`, and `weights` scales
    a counted term in this vote only (default 1): bloc discipline in a recorded vote
    need not weigh what it weighs in signing a call. M, the cross-pressure, is the
    smaller of the pulls toward yes and toward no; the abstention band is
    [no_below - hedge M, yes_above + hedge M], so a state pulled hard both ways
    abstains. With `two_stage`, the sponsor and the leaders of blocs and cue groups vote
    first, and the others' leader and cue terms read those votes (+1 yes, 0 abstain,
    -1 no). The sponsor votes for its text; with `rival_sponsors_vote_no`, the sponsor
    of a declared rival (`rivals`, either side) votes against it.
    """

    at: TimePoint
    yes_above: float = 0.0
    no_below: float = -0.5
    hedge: NonNegative = 0.0
    two_stage: bool = False
    terms: list[Literal[TERMS]] = list(TERMS)
    weights: dict[Literal[TERMS], NonNegative] = {}
    rival_sponsors_vote_no: bool = False

    @model_validator(mode="after")
    def _ordered(self):
        if self.no_below > self.yes_above:
            raise ValueError("no_below must not exceed yes_above")
        uncounted = sorted(set(self.weights) - set(self.terms))
        if uncounted:
            raise ValueError(f"weights only on the counted terms {self.terms}, "
                             f"not on {uncounted}")
        return self


class Limits(Spec):
    """Bounds within which the sponsor may move one dimension's content (inclusive)."""

    min: Signed = -1.0
    max: Signed = 1.0

    @model_validator(mode="after")
    def _ordered(self):
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class UnitLimits(Limits):
    """Bounds of bindingness, inside [0, 1]."""

    min: Unit = 0.0
    max: Unit = 1.0


class Rounds(Spec):
    """When the sponsor consults: `before_launch` rounds at the launch step, before the
    first signatures; rounds at the dates `at`; a round every `every` steps after the
    launch until `until` (or the last step)."""

    before_launch: int = Field(0, ge=0)
    at: list[TimePoint] = []
    every: int | None = Field(None, ge=1)
    until: TimePoint | None = None


class Weighing(Spec):
    """The sponsor's objective: support x (expected share of the consulted who would sign,
    counted by head or by weight) - distance x (mean distance of the text from its ideal,
    the text as drafted, over dimensions and bindingness)."""

    support: NonNegative = 1.0
    distance: NonNegative = 1.0
    count: Literal["actors", "weight"] = "actors"


class Negotiation(Spec):
    """Consultation and revision of a text (docs/ODD.md, "Negotiation").

    Each round the sponsor consults the actors `consult` picks, weighs candidate texts
    (moves of `step` on each dimension of `content` within its limits, out of the scope
    where the limits hold 0, into it where a dimension outside the text may be nonzero;
    bindingness likewise) and adopts the one that maximises `weigh`. It never moves a
    dimension of `red_lines` below the drafted commitment. A signer withdraws only if a
    revision moves, against its interest, a dimension whose salience for it exceeds
    `signer_red_line`, and it would no longer sign the revised text.
    """

    rounds: Rounds = Rounds()
    consult: Selector = Field(Selector(), description="whom the sponsor consults "
                              "(among those who may sign)")
    content: dict[str, Limits] = {}
    bindingness: UnitLimits | None = None
    red_lines: Names = []
    step: float = Field(0.1, gt=0, le=1)
    candidates: int = Field(2000, ge=1, description="at most this many texts per round "
                            "(drawn at random when the neighbourhood is larger)")
    weigh: Weighing = Weighing()
    signer_red_line: Unit = 0.6


class Socialisation(Spec):
    """Interests drift toward the tie-weighted mean position of the signers an actor is tied
    to, on each proposal's scope, by `rate` per step: once it has signed (`signers`), or
    while its peers sign (`peers`; Finnemore & Sikkink's internalisation)."""

    rate: Unit = 0.0
    among: Literal["signers", "peers"] = "signers"


class Persuasion(Spec):
    """A sponsor's campaign moves its targets' interests toward its text by `rate` x the
    campaign's pressure per step, on the dimensions named per proposal (default: the
    text's scope)."""

    rate: Unit = 0.0
    dimensions: dict[str, Names] = {}


class Positions(Spec):
    """Positions that move (both off at rate 0) and whose interests are recorded."""

    socialisation: Socialisation = Socialisation()
    persuasion: Persuasion = Persuasion()
    record: Names = Field([], description="actor ids whose interest trajectories are "
                          "recorded (the `trajectories` table)")

    @property
    def moving(self) -> bool:
        return self.socialisation.rate > 0 or self.persuasion.rate > 0


class Proposal(Spec):
    label: str = ""
    content: dict[str, Signed]
    bindingness: Unit = 0.0
    open_to: Kinds = list(KINDS)
    sponsor: str | None = None
    launch: TimePoint = 1
    federates: Names = []
    outreach: dict[Identifier, Campaign] = {}
    rivals: dict[str, Unit] | None = None
    un_vote: UNVote | None = None
    ties: LinearForm = Field({}, description="each state's ties to the sponsor (the `ties` "
                             "term): an attribute-linear form over state attributes")
    regime: Signed = Field(0.0, description="+1: the text builds on the existing cyber "
                           "regime; -1: it would replace it (the `regime` term)")
    launch_reach: LinearForm | None = Field(
        None, description="the pre-negotiated launch list: the chance (an attribute-linear "
        "form over state attributes, clipped to [0, 1]) that a state was consulted before "
        "the launch and so weighs the text in the launch round; the others come to it when "
        "they next reconsider. None: every actor is in the launch round")
    launch_reach_of: dict[Literal["firm", "civil"], Unit] = Field(
        {}, description="the share of firms and of civil-society organisations on the "
        "pre-negotiated launch list, e.g. {civil: 0.7}; a kind not named: all of them")
    negotiation: Negotiation | None = None


class Threshold(Spec):
    """theta = mean + power * cyber_power + sd * z: great powers guard their autonomy."""

    mean: float = 0.5
    sd: NonNegative = 0.1
    power: float = 0.0


class KindBehaviour(Spec):
    """Coefficients of the utility terms for one kind of actor, and how it decides."""

    align: float = 1.0
    cost: float = 1.0
    peers: float = 0.0
    leader: float = 0.0
    momentum: float = 0.0
    home: float = 0.0
    federated: float = 0.0
    outreach: float = 0.0
    rival: float = 0.0
    capacity: float = 0.0
    regime: float = 0.0
    ties: float = 0.0
    cue: float = 0.0
    threshold: Threshold = Threshold()
    hysteresis: NonNegative = 0.2
    activation: Unit = 0.05


class Behaviour(Spec):
    """How every kind decides; `legitimacy` weighs each kind's coverage in momentum.

    `legitimacy_over: eligible` measures a proposal's legitimacy among the kinds it is
    open to (weights renormalised over them: a states-only call signed by every state
    is fully legitimate); `all` measures it over the whole community (kinds that may
    not sign count as uncovered, so inclusion itself adds legitimacy).
    """

    temperature: NonNegative = 0.0
    launch_rounds: Count = Field(1, ge=1)
    legitimacy: dict[Kind, NonNegative] = {"state": 1.0, "firm": 0.0, "civil": 0.0}
    legitimacy_over: Literal["eligible", "all"] = "eligible"
    non_adoption: Unit = Field(0.0, description="stance of a leader who considered a "
                               "proposal and did not sign (as a share of opposing's -1)")
    state: KindBehaviour = KindBehaviour()
    firm: KindBehaviour = KindBehaviour()
    civil: KindBehaviour = KindBehaviour()


class Change(Spec):
    set: float | None = None
    add: float | None = None
    scale: float | None = None

    @model_validator(mode="after")
    def _one(self):
        if sum(v is not None for v in (self.set, self.add, self.scale)) != 1:
            raise ValueError("give exactly one of set, add, scale")
        return self


class Event(Spec):
    at: TimePoint
    description: str = ""
    select: Selector
    interests: dict[str, Change] = {}
    salience: dict[str, Change] = {}
    threshold: Change | None = None


class ScenarioSpec(Spec):
    """A whole scenario, validated. Build one with `load_scenario`."""

    extends: str | None = Field(None, description="a base scenario file, merged under this one")
    replace: Names | None = Field(None, description="dotted sections of the base that this "
                                  "file replaces instead of merging into")
    metadata: Metadata
    report: Report = Report()
    dimensions: dict[Identifier, str]
    blocs: dict[Identifier, Bloc] = {}
    groups: dict[Identifier, Bloc] = Field({}, description="cue groups: a state looks at "
                                           "the leaders of every group it belongs to")
    world: World = World()
    initiatives: dict[Identifier, Initiative] = {}
    proposals: dict[Identifier, Proposal] = Field(min_length=1)
    behaviour: Behaviour = Behaviour()
    events: dict[Identifier, Event] = {}
    positions: Positions = Positions()

    _source: str = PrivateAttr("<memory>")
    _base_dir: Path | None = PrivateAttr(None)

    @property
    def source(self) -> str:
        """The file this spec was loaded from (or "<memory>")."""
        return self._source

    @property
    def base_dir(self) -> Path | None:
        """Directory against which relative data paths in the spec are resolved."""
        return self._base_dir

    @property
    def timeline(self) -> Timeline:
        return Timeline(self.metadata.start, self.metadata.unit)

    def step_of(self, when: date | int) -> int:
        return self.timeline.step_of(when)

    def to_dict(self) -> dict:
        """Plain data (dates stay dates), as written to the resolved-scenario YAML."""
        data = self.model_dump(mode="python", by_alias=True, exclude={"extends", "replace"})
        return _plain(data)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def digest(self) -> str:
        """Content hash of the resolved scenario and of the data tables it reads.

        Tables enter by their content, not their path, so the same scenario and data
        give the same digest wherever they are, and a corrected table a new one.
        """
        data = self.model_dump(mode="json", by_alias=True, exclude={"extends", "replace"})
        for keys in DATA_PATHS:
            node = data
            for key in keys[:-1]:
                node = node[key]
            if node.get(keys[-1]):
                node[keys[-1]] = _file_digest(locate(node[keys[-1]], self.base_dir))
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _file_digest(path: Path) -> str:
    path = Path(path).resolve()
    stat = path.stat()
    return _file_digest_cached(path, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _file_digest_cached(path: Path, mtime_ns: int, size: int) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    return data
