"""The shared vocabulary of every stage: frozen dataclasses and enums, no I/O.

Data flows one way: a feed adapter yields `Observation`s, the rule engine turns
them into `Transition`s of per-(rule, area) `AlertStatus`, the planner groups
notifiable ones into `AlertChange`s (or an operator or the daemon makes one, its
`ChangeKind` says who) with their `PlannedDelivery`s, the outbox keeps them and
hands each channel a `Delivery`.  Everything here is immutable so
that any stage can hand data to the next without defensive copies.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, TypeAlias

# Balikpapan lives in WITA; BMKG stamps its seismic products in WIB.
WITA = timezone(timedelta(hours=8), "WITA")
WIB = timezone(timedelta(hours=7), "WIB")

#: A value carried by an observation: numbers in SI units, flags, words or unknown.
Value: TypeAlias = float | int | str | bool | None

#: A polygon ring as (lon, lat) pairs, closed or not.
Ring: TypeAlias = tuple[tuple[float, float], ...]


class ConfigError(Exception):
    """A user's configuration (settings, areas, rules, contacts) is invalid.

    Carries every problem found, so the user can fix them all in one pass.
    """

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(path="", message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Severity(enum.Enum):
    """How bad a validation finding is: errors stop a load, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation finding, positioned as `path:line:col` when known."""

    path: str
    message: str
    line: int | None = None
    col: int | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        prefix = "" if self.severity is Severity.ERROR else "warning: "
        return f"{where}: {prefix}{self.message}" if where else f"{prefix}{self.message}"


class _Identified(enum.Enum):
    """An enum hashed by identity: its members are singletons compared by identity.

    Enum's own hash is a Python call on every dict or set lookup; the rule engine
    looks kinds, levels, states and aggregations up tens of thousands of times
    an evaluation, and an identity hash (in C) agrees with identity equality.
    """

    __hash__ = object.__hash__


class Level(_Identified):
    """BMKG / BNPB warning levels, ordered as in Indonesian practice."""

    WASPADA = "waspada"
    SIAGA = "siaga"
    AWAS = "awas"

    @property
    def rank(self) -> int:
        """1 for waspada, 2 for siaga, 3 for awas."""
        return _LEVEL_RANK[self]

    @property
    def word(self) -> str:
        """The word people see in messages: WASPADA, SIAGA, AWAS."""
        return self.value.upper()

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank >= other.rank


_LEVEL_RANK = {Level.WASPADA: 1, Level.SIAGA: 2, Level.AWAS: 3}


class ObservationKind(_Identified):
    """What an observation measures; rules read exactly one kind."""

    EARTHQUAKE = "earthquake"
    TSUNAMI_WARNING = "tsunami_warning"
    RAINFALL = "rainfall"
    WIND = "wind"
    SEA_LEVEL = "sea_level"
    WEATHER_WARNING = "weather_warning"
    # A forecast for one slot ahead (BMKG adm4 3-hour slots, Open-Meteo hours ahead):
    # never rain that fell, so it has its own kind and never feeds measured-rain rules.
    PRAKIRAAN = "prakiraan"
    # Residents' reports an operator verified (warning/reports/): never an unverified one.
    REPORT = "report"


class ReportCategory(enum.Enum):
    """What a resident reports (the ids of `POST /api/reports` and of rule conditions)."""

    BANJIR = "banjir"
    LONGSOR = "longsor"
    KEBAKARAN = "kebakaran"
    POHON_TUMBANG = "pohon-tumbang"
    GEMPA_TERASA = "gempa-terasa"
    AIR_LAUT = "air-laut"
    MENCURIGAKAN = "mencurigakan"
    LAINNYA = "lainnya"


class ReportStatus(enum.Enum):
    """Where a resident's report stands, in the words its status page shows."""

    RECEIVED = "diterima"
    VERIFIED = "diverifikasi"
    REJECTED = "ditolak"
    ACTED_ON = "ditindaklanjuti"


class Coverage(enum.Enum):
    """What an observation covers, which decides the kelurahan it reaches.

    POINT: `lon`/`lat` (an epicentre). POLYGON: `polygons`, reduced by the adapter
    to the kelurahan they cover a real share of (`area_ids`). AREAS: areas the source
    names (InaTEWS districts, BMKG adm4 codes, a tide gauge's coast), in `area_ids`.
    MODELLED: a model's value at a point chosen to stand for the one kelurahan in
    `area_ids` (Open-Meteo at each kelurahan's interior point).
    """

    POINT = "point"
    POLYGON = "polygon"
    AREAS = "areas"
    MODELLED = "modelled"


class Basis(enum.Enum):
    """Whether a value is what happened (MEASURED, or a model's analysis of an hour
    already past) or what may happen (FORECAST: with `lead_s` and `period_s` values)."""

    MEASURED = "measured"
    FORECAST = "forecast"


#: The value names each kind carries (a contract with rule authors and templates).
KIND_VALUES: Mapping[ObservationKind, frozenset[str]] = MappingProxyType(
    {
        ObservationKind.EARTHQUAKE: frozenset(
            {
                "magnitude",
                "depth_km",
                "tsunami_potential",
                "potensi",
                "mmi",
                "felt",
                "felt_mmi_balikpapan",
                "region",
            }
        ),
        ObservationKind.TSUNAMI_WARNING: frozenset(
            {
                "level",
                "bulletin",
                "magnitude",
                "depth_km",
                "epicenter_lon",
                "epicenter_lat",
                "arrival_time",
                "origin_time",
                "region",
                "names_balikpapan",
                "nearby_level",
                "nearby",
            }
        ),
        ObservationKind.RAINFALL: frozenset({"precipitation_mm", "period_s"}),
        ObservationKind.WIND: frozenset({"wind_speed_ms", "wind_gust_ms"}),
        ObservationKind.SEA_LEVEL: frozenset({"sea_level_m", "datum", "wave_height_m"}),
        ObservationKind.WEATHER_WARNING: frozenset(
            {"severity", "urgency", "certainty", "event", "msg_type", "expires", "headline"}
        ),
        # A forecast slot: amounts over `period_s` seconds from `valid_from` to
        # `valid_until` (ISO UTC; `slot_wita` as people read it), issued `lead_s`
        # seconds before the slot starts.
        ObservationKind.PRAKIRAAN: frozenset(
            {
                "precipitation_mm",
                "period_s",
                "wind_speed_ms",
                "wind_gust_ms",
                "lead_s",
                "valid_from",
                "valid_until",
                "slot_wita",
            }
        ),
        # Verified residents' reports: one observation per verified report, in its
        # kelurahan; `count` is 1 for each distinct reporter of a group of duplicates
        # and 0 for a repeat from the same one, so a windowed sum counts reporters.
        ObservationKind.REPORT: frozenset({"category", "count"}),
    }
)


def utc(moment: datetime) -> datetime:
    """Return `moment` as aware UTC; naive datetimes are refused, never guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone")
    return moment.astimezone(UTC)


def required_text(
    mapping: Mapping[str, Any], key: str, refuse: Callable[[object], Exception]
) -> str:
    """The non-empty string at `key` of a JSON object, or `refuse(value)` raised.

    Stored payloads and observation files are read back with the same check;
    each reader says in its own words what was wrong.
    """
    value = mapping[key]
    if not isinstance(value, str) or not value:
        raise refuse(value)
    return value


def freeze_values(values: Mapping[str, Value]) -> Mapping[str, Value]:
    """An immutable copy of an observation's values."""
    return MappingProxyType(dict(values))


@dataclass(frozen=True, slots=True)
class Observation:
    """One normalised reading from one feed: aware UTC time, SI units, external ids.

    `coverage` says what it covers (see `Coverage`); left None it is inferred:
    polygons -> POLYGON, a point without `area_ids` -> POINT, else AREAS (a
    warning naming none of our areas names areas all the same).  A point observation
    reaches the kelurahan containing it; every other coverage reaches exactly
    its `area_ids` (a tide gauge keeps its station point for information).
    `basis` says whether it happened or is forecast; a forecast's `time` is when
    it was issued, its slot is in its values.
    """

    source: str
    kind: ObservationKind
    event_id: str
    time: datetime
    values: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    lon: float | None = None
    lat: float | None = None
    area_ids: tuple[str, ...] = ()
    polygons: tuple[Ring, ...] = ()
    exercise: bool = False
    origin: str = ""
    coverage: Coverage | None = None
    basis: Basis | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", utc(self.time))
        if self.coverage is None:
            point = self.lon is not None and self.lat is not None and not self.area_ids
            inferred = (
                Coverage.POLYGON if self.polygons else Coverage.POINT if point else Coverage.AREAS
            )
            object.__setattr__(self, "coverage", inferred)
        # Forecasts are their own kind, so no rule on measured rain ever reads one.
        forecast = Basis.FORECAST if self.kind is ObservationKind.PRAKIRAAN else Basis.MEASURED
        if self.basis is None:
            object.__setattr__(self, "basis", forecast)
        elif self.basis is not forecast:
            raise ValueError(
                f"a {self.kind.value} observation cannot be {self.basis.value}: "
                "forecasts are kind prakiraan, and only forecasts are"
            )
        if not isinstance(self.values, MappingProxyType):
            object.__setattr__(self, "values", freeze_values(self.values))
        object.__setattr__(self, "area_ids", tuple(self.area_ids))

    @property
    def is_point(self) -> bool:
        """True when the observation has a point location."""
        return self.lon is not None and self.lat is not None


class AreaLevel(enum.Enum):
    """Administrative level of an area: kelurahan are the unit of alerting."""

    KELURAHAN = "kelurahan"
    KECAMATAN = "kecamatan"


@dataclass(frozen=True, slots=True)
class Area:
    """A kelurahan or kecamatan of Kota Balikpapan (geometry lives in `areas.AreaIndex`)."""

    id: str
    name: str
    level: AreaLevel
    kemendagri_code: str
    coastal: bool
    kecamatan_id: str | None = None


class AlertState(_Identified):
    """Lifecycle of one (rule, area) pair, as in Prometheus alerting."""

    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    # Firing for officials only: the event is known only from a source that may not
    # reach the public (USGS before BMKG), or it was first seen late (see rules/engine.py).
    OFFICIALS = "officials"
    # An operator ended it (`warning alert cancel`): the cancelled event, or readings
    # up to the cancel, never start it again; see rules/engine.py.
    CANCELLED = "cancelled"


class TransitionKind(enum.Enum):
    """Why a (rule, area) changed; the notifiable ones reach people."""

    PENDING = "pending"
    FIRED = "fired"
    ESCALATED = "escalated"
    DEESCALATED = "deescalated"
    UPDATED = "updated"  # same level, but a new event or bulletin (a CAP Update)
    REMINDER = "reminder"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"  # pending never reached firing
    TIMED_OUT = "timed_out"  # a safety timeout ended it (tsunami without PD-4)
    # An instantaneous event (a quake) ran out its time: it ends without a word,
    # since there is no all-clear for aftershocks.
    EXPIRED = "expired"

    @property
    def notifies(self) -> bool:
        """True when people and sirens must hear about this change."""
        return self not in (
            TransitionKind.PENDING,
            TransitionKind.CANCELLED,
            TransitionKind.EXPIRED,
        )

    @property
    def ends(self) -> bool:
        """True when the change ends the alert."""
        return self in (TransitionKind.RESOLVED, TransitionKind.TIMED_OUT, TransitionKind.EXPIRED)


class EndReason(enum.Enum):
    """Why an alert ended, so that its ending message can say so."""

    ENDED_BY_SOURCE = "ended_by_source"  # BMKG ended the warning (InaTEWS PD-4)
    CANCELLED_BY_SOURCE = "cancelled_by_source"  # BMKG cancelled it (CAP Cancel)
    VALIDITY_OVER = "validity_over"  # the warning's own validity (CAP expires) passed
    SAFETY_TIMEOUT = "safety_timeout"  # no end bulletin in time (tsunami without PD-4)
    EXPIRED = "expired"  # the rule's time for an instantaneous event ran out
    NO_LONGER_NAMED = "no_longer_named"  # the latest bulletin no longer names the area
    NO_LONGER_MET = "no_longer_met"  # the latest report no longer meets the rule
    CLEARED = "cleared"  # the readings no longer meet the rule (or clear_when holds)


class Audience(enum.Enum):
    """Who a transition is for: everyone the rule addresses, or officials alone.

    BMKG is the authority for the public: an event known only from another
    source, or first seen late, reaches officials only (no siren, no public SMS).
    """

    PUBLIC = "public"
    OFFICIALS = "officials"


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What a message says about the event behind a transition, not about the alert.

    `time` is the event's own time (a quake's or tsunami's origin, a bulletin's
    or reading's time), never the moment the alert changed; `name` is the
    source's own name for it (CAP event, BMKG's region text); `bulletin` the
    bulletin label ("PD-2"); `late` marks an event first seen after the rule's
    freshness; `sources` every feed that reported the event, `source` the one
    whose figures are used.
    """

    time: datetime
    source: str = ""
    name: str = ""
    bulletin: str = ""
    late: bool = False
    sources: tuple[str, ...] = ()


class Action(enum.Enum):
    """What a rule does when it fires."""

    SMS = "sms"
    SIREN = "siren"
    CAP = "cap"


class FeedHealth(enum.Enum):
    """A feed's health from consecutive failures; failure is a state, not silence."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


# ---------------------------------------------------------------------------
# Rules: what officials write in rules/*.yaml, after validation.


class Comparison(enum.Enum):
    """Operators a rule condition may use."""

    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "=="
    IN = "in"


class Aggregation(_Identified):
    """How a windowed condition folds the values seen per area over `over`."""

    SUM = "sum"
    MAX = "max"
    MIN = "min"
    MEAN = "mean"
    DELTA = "delta"  # newest minus oldest in the window: a sudden sea-level change


@dataclass(frozen=True, slots=True)
class Condition:
    """`{value: field, OP: operand}`, optionally aggregated `over` a window per area.

    `field` is a value name of the rule's kind, or `distance_km` (geodesic
    distance from the observation's point to the area's polygon).
    """

    field: str
    op: Comparison
    operand: Value | tuple[Value, ...]
    over: timedelta | None = None
    agg: Aggregation | None = None


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every inner condition holds."""

    conditions: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one inner condition holds."""

    conditions: tuple[Expression, ...]


Expression: TypeAlias = Condition | AllOf | AnyOf


@dataclass(frozen=True, slots=True)
class LevelStep:
    """One rung of a rule's ladder: this level when `when` holds (None: always).

    `messages`, `update_messages` and `end_messages` are the step's own templates
    per language for raising, updating and ending (empty: the rule's).
    """

    level: Level
    when: Expression | None = None
    messages: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    update_messages: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    end_messages: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __hash__(self) -> int:
        return hash(
            (
                self.level,
                self.when,
                tuple(sorted(self.messages.items())),
                tuple(sorted(self.update_messages.items())),
                tuple(sorted(self.end_messages.items())),
            )
        )


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """Where something was written, for messages that say `file:line:col`."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One validated threshold rule of the officials.

    `levels` is ordered from lowest to highest; a rule written with a single
    `level:` has one step whose `when` is None.  `areas` keeps the selectors as
    written (resolved against the areas file by the engine), `recipients` the
    contact groups (empty: every group), `messages` one template per language.
    `public_sources` names the feeds whose events may reach the public (None:
    the kind's default, BMKG for events) and `late_after` how old an event may
    be when first seen and still reach the public (None: the kind's default).
    Two rules are equal when everything but their position is equal, which is
    how a reload knows a rule did not change.
    """

    id: str
    name: str
    kind: ObservationKind
    levels: tuple[LevelStep, ...]
    description: str = ""
    when: Expression | None = None
    areas: tuple[str, ...] = ("all",)
    for_duration: timedelta = timedelta(0)
    keep_firing_for: timedelta = timedelta(0)
    clear_when: Expression | None = None
    repeat_every: timedelta | None = None
    expire_after: timedelta | None = None
    actions: frozenset[Action] = frozenset({Action.SMS})
    recipients: tuple[str, ...] = ()
    messages: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    update_messages: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    end_messages: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    allow_siren_below_siaga: bool = False
    public_sources: tuple[str, ...] | None = None
    late_after: timedelta | None = None
    position: SourcePosition | None = field(default=None, compare=False)

    def __hash__(self) -> int:
        return hash((self.id, self.kind, self.levels))

    def templates_for(
        self, level: Level, change: TransitionKind = TransitionKind.FIRED
    ) -> Mapping[str, str]:
        """The templates the official wrote for this change at `level`, nothing invented.

        Raising (fired, escalated, de-escalated) reads `message`; an update or a
        reminder reads `update_message` (else `message`: the warning still stands);
        an ending reads `end_message` only, so an all-clear never repeats the
        warning's instruction (empty: the rule has no ending text, send none).
        A ladder step's own templates win over the rule's.
        """
        step = next((s for s in self.levels if s.level is level), None)
        if change in ENDING_CHANGES:
            return _own(step.end_messages if step else None, self.end_messages)
        if change in (TransitionKind.UPDATED, TransitionKind.REMINDER):
            update = _own(step.update_messages if step else None, self.update_messages)
            if update:
                return update
        return _own(step.messages if step else None, self.messages)


def _own(step: Mapping[str, str] | None, rule: Mapping[str, str]) -> Mapping[str, str]:
    """A step's templates when it has any, else the rule's."""
    return step if step else rule


#: Changes that end an alert: they read a rule's `end_message`.
ENDING_CHANGES = frozenset(
    {TransitionKind.RESOLVED, TransitionKind.TIMED_OUT, TransitionKind.CANCELLED}
)


# ---------------------------------------------------------------------------
# Alerts: the engine's per-(rule, area) state and its changes.


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """The remembered state of one (rule, area) pair; persisted by `state.py`.

    `alert_id` names one episode from pending/firing to resolution, so that
    every message about it (CAP Update/Cancel, correction SMS) can refer to it.
    `fingerprint` identifies the observations last evaluated, so an identical
    repeat of an event makes no transition.  `drill` statuses are kept apart
    from live ones.
    """

    rule_id: str
    area_id: str
    state: AlertState = AlertState.INACTIVE
    level: Level | None = None
    alert_id: str = ""
    since: datetime | None = None
    active_since: datetime | None = None
    last_true: datetime | None = None
    last_notified: datetime | None = None
    event_id: str | None = None
    fingerprint: str = ""
    values: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    drill: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """The (rule id, area id) this status belongs to."""
        return (self.rule_id, self.area_id)


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of one (rule, area) decided by the engine at `time`.

    `status` is the state after the change; `previous_level` the level before
    (None when it was not firing).  Only kinds with `kind.notifies` reach people,
    and only officials when `audience` says so.  `facts` describe the event
    (its own time, name, bulletin, source, late marker); `end_reason` says why
    an ending change ended the alert.
    """

    kind: TransitionKind
    status: AlertStatus
    time: datetime
    previous_level: Level | None = None
    reason: str = ""
    audience: Audience = Audience.PUBLIC
    facts: EventFacts | None = None
    end_reason: EndReason | None = None

    @property
    def rule_id(self) -> str:
        """Rule that changed."""
        return self.status.rule_id

    @property
    def area_id(self) -> str:
        """Kelurahan that changed."""
        return self.status.area_id

    @property
    def level(self) -> Level | None:
        """Level after the change (for a resolution: the level that ended)."""
        return self.status.level or self.previous_level


# ---------------------------------------------------------------------------
# Changes and deliveries: what the planner decides, the outbox keeps and channels send.
# They live here because plan/, store/ and delivery/ all speak of them and none of
# those may import another that stands to its right (DESIGN's stage table).

#: Transition kinds after which an alert is over (all-clear).
ENDING_KINDS = frozenset({TransitionKind.RESOLVED, TransitionKind.TIMED_OUT})


class ChannelKind(enum.Enum):
    """How a delivery reaches people: a siren, an SMS, a CAP document, a broadcast post."""

    SIREN = "siren"
    SMS = "sms"
    CAP = "cap"
    TELEGRAM = "telegram"
    NTFY = "ntfy"
    WEBHOOK = "webhook"


#: Broadcast channels: one post reaches everyone following a chat, topic or receiver.
BROADCAST_KINDS = (ChannelKind.TELEGRAM, ChannelKind.NTFY, ChannelKind.WEBHOOK)
#: What leaves first, before any SMS: sirens say "act now", one post reaches a whole chat.
FIRST_OUT_KINDS = frozenset({ChannelKind.SIREN, *BROADCAST_KINDS})


class DeliveryStatus(enum.Enum):
    """Lifecycle of one outbox row."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"


class ChangeKind(enum.Enum):
    """Who decided an alert change: a rule, an operator, or the daemon about itself.

    A newer change of the same `scope` supersedes the unsent rows of older ones.
    """

    RULE = "rule"  # a rule's transitions over its areas
    CANCEL = "cancel"  # an operator's correction of a rule's or a manual alert
    MANUAL = "manual"  # an operator's own alert (subject: its id)
    FEED_HEALTH = "feed-health"  # a feed went down or recovered (subject: the feed)
    SIREN_REPORT = "siren-report"  # a siren did not respond (subject: the siren)
    SIREN_TEST = "siren-test"  # the monthly siren test
    SIREN_STOP = "siren-stop"  # an operator silenced sirens
    CONTACTS = "contacts"  # bad rows of the contacts file, told to officials
    SEND_TEST = "send-test"  # `warning outbox send-test` (subject: the phone)
    DELIVERY_HEALTH = "delivery-health"  # a provider outage began or ended (subject: channel)
    REPORT = "report"  # a resident's new report, told to duty officers (subject: its code)

    def scope(self, about: str) -> str:
        """The stored scope of a change about `about` (its rule id or its subject).

        The text is what the outbox stored in `rule_id` before kinds existed, so
        rows written by an older daemon are superseded by newer ones alike.
        """
        if self in (ChangeKind.RULE, ChangeKind.CANCEL, ChangeKind.MANUAL):
            return about
        prefix = _SCOPE_PREFIX.get(self)
        return self.value if prefix is None else f"{prefix}:{about}"


_SCOPE_PREFIX = {
    ChangeKind.FEED_HEALTH: "feed",
    ChangeKind.SIREN_REPORT: "siren",
    ChangeKind.SEND_TEST: "send-test",
    ChangeKind.DELIVERY_HEALTH: "outage",
    ChangeKind.REPORT: "laporan",
}


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One notifiable change over some areas: a rule's, or one no rule decided.

    A rule's change groups its transitions to one level in one evaluation;
    `rule_id` is empty for the others, which say what they are about in
    `origin` and `subject`.  `level` is None when the change has none (a
    feed-health notice, a siren test).
    """

    id: str
    rule_id: str
    kind: TransitionKind
    level: Level | None
    previous_level: Level | None
    area_ids: tuple[str, ...]
    time: datetime
    drill: bool
    transitions: tuple[Transition, ...]
    audience: Audience = Audience.PUBLIC
    origin: ChangeKind = ChangeKind.RULE
    subject: str = ""

    @property
    def ending(self) -> bool:
        """True when the change ends the alert (all-clear)."""
        return self.kind in ENDING_KINDS

    @property
    def alert_level(self) -> Level:
        """The level warned of: every rule, manual and cancel change has one."""
        if self.level is None:
            raise ValueError(f"change {self.id} ({self.origin.value}) warns of no level")
        return self.level

    @property
    def scope(self) -> str:
        """What newer changes supersede older ones of (stored as the rows' `rule_id`)."""
        return self.origin.scope(self.rule_id or self.subject)


#: The contacts group of BPBD and city officials: health notices, officials-only
#: alerts and the first tier of every fan-out are theirs.
OFFICIALS_GROUP = "officials"


@dataclass(frozen=True, slots=True)
class Contact:
    """One recipient: `areas` are kelurahan ids, `line` where the row was written."""

    phone: str
    name: str
    areas: frozenset[str]
    group: str
    language: str
    drill: bool
    line: int = 0


def dedup_key(change_id: str, channel: ChannelKind, recipient: str) -> str:
    """The outbox's unique key of one delivery."""
    return f"{change_id}:{channel.value}:{recipient}"


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """A delivery the outbox should hold: one recipient of one change on one channel."""

    change: AlertChange
    channel: ChannelKind
    recipient: str
    area_ids: tuple[str, ...]
    payload: Mapping[str, Any]
    priority: int
    #: What the delivery is about when not just its change: an SMS about an event
    #: carries the person's (event, change) topic, so a second rule's message about
    #: the same event change, even after a restart or reload, finds its key taken.
    topic: str = ""

    @property
    def change_id(self) -> str:
        """The change this delivery belongs to."""
        return self.change.id

    @property
    def drill(self) -> bool:
        """True for drill deliveries."""
        return self.change.drill

    @property
    def dedup_key(self) -> str:
        """Unique per change (or event topic) x channel x recipient: no second copy ever."""
        return dedup_key(self.topic or self.change.id, self.channel, self.recipient)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row handed to a channel.

    `recipient` is an E.164 phone (sms), a siren id (siren) or "cap" (cap);
    `priority` orders sending, lower first: 0 sirens, 10 officials,
    20 rt-heads and siskamling, 30 other groups, 40 CAP.
    """

    id: int
    channel: ChannelKind
    recipient: str
    change_id: str
    payload: Mapping[str, Any]
    priority: int
    attempts: int
    drill: bool
    dedup_key: str
    enqueued_at: datetime | None = None  # when the alert change was committed (latency)


class SirenCommand(enum.Enum):
    """What a controller is told to do: siaga alert, awas attack, all-clear, drills."""

    ALERT = "alert"
    ATTACK = "attack"
    ALL_CLEAR = "all-clear"
    TEST = "test"
    SILENT_TEST = "silent-test"


@dataclass(frozen=True, slots=True)
class EscalationJudged:
    """What the escalation job knows about one (change, kelurahan), read from the store."""

    change_id: str
    rule_id: str
    level: Level
    drill: bool
    changed_at: datetime
    area_id: str
    #: The highest step notified (0: the rule's own SMS) and when.
    step: int
    step_at: datetime
    acknowledged: bool
    #: (contact group, failed) of each linked SMS about the change in the kelurahan.
    reached: tuple[tuple[str, bool], ...]
