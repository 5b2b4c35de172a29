"""The rule-file schema: one table that drives validation and renders `docs/rules.md`.

Every key a rule may hold is a `Key` with its type, whether it is required,
its default, a description and an example.  The loader looks each written key
up here (unknown keys are errors), and `render_reference()` turns the same
data into the Markdown reference officials read, so the two cannot disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from warning.model import KIND_VALUES, Aggregation, Comparison, Level, ObservationKind


class FieldType(enum.Enum):
    """What a key's value must be; each has one parser in the loader."""

    SLUG = "slug"
    TEXT = "text"
    KIND = "kind"
    EXPRESSION = "conditions"
    SELECTORS = "area selectors"
    LEVEL = "level"
    LADDER = "level ladder"
    DURATION = "duration"
    ACTIONS = "actions"
    GROUPS = "recipient groups"
    MESSAGES = "message templates"
    FLAG = "true/false"
    SOURCES = "sources"


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a rule: its type, documentation and where it lands in `model.Rule`."""

    name: str
    type: FieldType
    description: str
    example: str
    required: bool = False
    default: str = ""
    field: str = ""

    @property
    def attribute(self) -> str:
        """The `model.Rule` attribute this key fills."""
        return self.field or self.name


RULE_KEYS: tuple[Key, ...] = (
    Key(
        "id",
        FieldType.SLUG,
        "Unique name of the rule across all files: lower-case letters, digits and dashes. "
        "Alerts, rule tests and logs refer to it; changing it starts the rule afresh.",
        "id: hujan-sangat-lebat-24j",
        required=True,
    ),
    Key(
        "name",
        FieldType.TEXT,
        "Short human name (Bahasa Indonesia is fine), shown to operators.",
        "name: Hujan sangat lebat 24 jam",
        required=True,
    ),
    Key(
        "description",
        FieldType.TEXT,
        "Why this threshold, and its source. A rule without one is a warning.",
        "description: BMKG 'sangat lebat' starts at 100 mm in 24 h.",
    ),
    Key(
        "kind",
        FieldType.KIND,
        "The observation kind the rule reads: "
        + ", ".join(k.value for k in ObservationKind)
        + ". It decides which values and placeholders the rule may use.",
        "kind: rainfall",
        required=True,
    ),
    Key(
        "when",
        FieldType.EXPRESSION,
        "Conditions on the observation's values. A condition is `{value: NAME, OP: operand}` "
        "with OP one of " + ", ".join(f"`{c.value}`" for c in Comparison) + "; add `over` and "
        "`agg` to fold the values seen per area in a time window. Combine with `all:` / `any:` "
        "(nestable); a plain list means `all`. Without `when` every observation of the kind fires.",
        'when:\n  all:\n    - {value: magnitude, ">=": 6.0}\n    - {value: depth_km, "<": 70}',
    ),
    Key(
        "areas",
        FieldType.SELECTORS,
        "Which kelurahan the rule watches: `all`, `coastal`, `kecamatan:<id>`, a kelurahan or "
        "kecamatan id, or a list of these. Observations only ever reach the areas they touch.",
        "areas: [coastal, kecamatan:balikpapan-timur]",
        default="all",
    ),
    Key(
        "level",
        FieldType.LEVEL,
        "The level the rule fires at: waspada, siaga or awas. Write `level` or `levels`.",
        "level: siaga",
    ),
    Key(
        "levels",
        FieldType.LADDER,
        "An escalation ladder instead of `level`: a list of `{level, when, message}` from "
        "lowest to highest; the highest step whose `when` holds gives the level (a step without "
        "`when` always holds). The rule's own `when` must hold first. One event or one series "
        "is one alert that escalates and de-escalates along the ladder and ends once, with one "
        "all-clear. A step may carry its own `message` (same form and checks as the rule's), "
        "used at that level and for the all-clear when the alert ends at that level; steps "
        "without one use the rule's `message`.",
        'levels:\n  - level: waspada\n    when: {value: level, "==": waspada}\n'
        '    message: {id: "{level} TSUNAMI di {area}. Jauhi pantai."}\n'
        '  - {level: siaga, when: {value: level, "==": siaga}}',
        field="levels",
    ),
    Key(
        "for",
        FieldType.DURATION,
        "How long the condition must keep holding before the rule fires (pending until then).",
        "for: 10m",
        default="0s",
        field="for_duration",
    ),
    Key(
        "keep_firing_for",
        FieldType.DURATION,
        "Keep firing this long after the condition stops holding (against flapping).",
        "keep_firing_for: 30m",
        default="0s",
    ),
    Key(
        "clear_when",
        FieldType.EXPRESSION,
        "Resolve only when these conditions hold, instead of as soon as `when` stops holding. "
        "For events (earthquake, tsunami_warning, weather_warning) a later revision or bulletin "
        "of the same event that no longer meets `when` then keeps the alert at its level until "
        "`clear_when` holds, the event ends (PD-4, CAP Cancel) or times out.",
        'clear_when: {value: level, "==": ended}',
    ),
    Key(
        "repeat_every",
        FieldType.DURATION,
        "Send a reminder this often while the rule keeps firing. Default: no reminders.",
        "repeat_every: 2h",
    ),
    Key(
        "expire_after",
        FieldType.DURATION,
        "End an instantaneous event (a quake) this long after the event's time. "
        "Default 1h for earthquakes; a quake alert then expires without any message (there "
        "is no all-clear for aftershocks). A weather warning ends at its own CAP `expires`; "
        "this only applies when the CAP has none. Not allowed for tsunami_warning: a tsunami "
        "warning ends only with its PD-4 bulletin or the engine's 12 h safety timeout.",
        "expire_after: 1h",
    ),
    Key(
        "public_sources",
        FieldType.SOURCES,
        "Which feeds may reach the public (sirens and every recipient group): feed names, "
        "or a family such as `bmkg` (every `bmkg-*` feed), or `any`. An event known only from "
        "another source (USGS before BMKG) goes to officials only, labelled with its source; "
        "when BMKG reports it, the public hears it once, with BMKG's figures. Default for "
        "earthquake, tsunami_warning and weather_warning: `[bmkg, inatews]` (BMKG is the "
        "authority); for measurements: `any`.",
        "public_sources: [bmkg, inatews]",
        default="[bmkg, inatews] for events, any for measurements",
    ),
    Key(
        "late_after",
        FieldType.DURATION,
        "An event whose time is older than this when the rule first sees it goes to officials "
        "only, marked late, never to sirens or the public (a restart after an outage must not "
        "send a 50-minute-old quake to everyone as if it had just happened). Default 15m for "
        "earthquakes; none for warnings in force (tsunami_warning until PD-4, weather_warning "
        "until its CAP `expires`), whose threat lies ahead however late they are seen.",
        "late_after: 15m",
        default="15m for earthquakes",
    ),
    Key(
        "actions",
        FieldType.ACTIONS,
        "What firing does: any of sms, siren, cap. A siren means 'act now': it sounds only at "
        "siaga and awas (`alert` and `attack`); at waspada a rule notifies by SMS and CAP only. "
        "A rule whose levels never reach siaga may not have a siren unless it says "
        "`allow_siren_below_siaga: true`; a ladder that starts at waspada and reaches siaga may. "
        "When an alert falls from siaga or awas to waspada, or ends, sirens get `all-clear`.",
        "actions: [sms, siren, cap]",
        default="[sms]",
    ),
    Key(
        "allow_siren_below_siaga",
        FieldType.FLAG,
        "Allow a siren for a waspada level (normally an error).",
        "allow_siren_below_siaga: true",
        default="false",
    ),
    Key(
        "recipients",
        FieldType.GROUPS,
        "Contact groups that get the SMS, e.g. officials, rt-heads, siskamling, public. "
        "Default: every group.",
        "recipients: [officials, rt-heads]",
        default="every group",
    ),
    Key(
        "message",
        FieldType.MESSAGES,
        "SMS text per language: `id` (Bahasa Indonesia) required, `en` optional. Use only the "
        "placeholders listed below, in braces; say what to do. The worst-case text (longest "
        "level, area list and numbers, with the drill and all-clear prefixes) should fit one "
        "160-character SMS, else `warning check` warns. Required, except in a `levels` rule "
        "whose every step has its own `message`.",
        'message:\n  id: "{level}: Hujan sangat lebat di {area}. Jauhi sungai."\n'
        '  en: "{level}: Very heavy rain in {area}. Keep away from rivers."',
        required=True,
        field="messages",
    ),
)

#: Rule keys by name.
RULE_KEY_INDEX: Mapping[str, Key] = MappingProxyType({k.name: k for k in RULE_KEYS})

#: Keys of one `levels:` step.
STEP_KEYS: tuple[str, ...] = ("level", "when", "message")

#: Languages a `message` may have; the first is required.
LANGUAGES: tuple[str, ...] = ("id", "en")

#: Keys of a condition besides its operator.
CONDITION_KEYS: tuple[str, ...] = ("value", "over", "agg")

#: Keys that combine conditions.
COMBINATORS: tuple[str, ...] = ("all", "any")

#: Contact groups every installation has; other slugs are allowed too.
STANDARD_GROUPS: tuple[str, ...] = ("officials", "rt-heads", "siskamling", "public")

#: Selectors that are not area ids.
SELECTOR_WORDS: tuple[str, ...] = ("all", "coastal")

#: Kinds whose observations have a point, so `distance_km` means something.
POINT_KINDS: frozenset[ObservationKind] = frozenset({ObservationKind.EARTHQUAKE})


class ValueType(enum.Enum):
    """What kind of operand a value compares with."""

    NUMBER = "number"
    FLAG = "true/false"
    WORD = "word"
    TEXT = "text"
    TIME = "time"


@dataclass(frozen=True, slots=True)
class ValueDoc:
    """One observation value: its type, meaning, allowed words and widest rendering."""

    name: str
    type: ValueType
    description: str
    widest: str
    kinds: frozenset[ObservationKind]
    choices: tuple[str, ...] = ()

    @property
    def comparable(self) -> bool:
        """Values that may appear in conditions (times are for messages only)."""
        return self.type is not ValueType.TIME


_K = ObservationKind
_QUAKES = frozenset({_K.EARTHQUAKE, _K.TSUNAMI_WARNING})

VALUES: tuple[ValueDoc, ...] = (
    ValueDoc("magnitude", ValueType.NUMBER, "Magnitude (M).", "10.0", _QUAKES),
    ValueDoc("depth_km", ValueType.NUMBER, "Hypocentre depth in km.", "800", _QUAKES),
    ValueDoc(
        "distance_km",
        ValueType.NUMBER,
        "Geodesic distance in km from the epicentre to the area's polygon (0 inside).",
        "20000",
        POINT_KINDS,
    ),
    ValueDoc(
        "tsunami_potential",
        ValueType.FLAG,
        "BMKG's own verdict that the quake may cause a tsunami.",
        "tidak",
        frozenset({_K.EARTHQUAKE}),
    ),
    ValueDoc(
        "mmi",
        ValueType.NUMBER,
        "Modified Mercalli intensity, when known.",
        "12.0",
        frozenset({_K.EARTHQUAKE}),
    ),
    ValueDoc(
        "region",
        ValueType.TEXT,
        "BMKG's description of where the quake was.",
        "Pusat gempa berada di laut 120 km Tenggara Kab. Penajam Paser Utara",
        _QUAKES,
    ),
    ValueDoc(
        "level",
        ValueType.WORD,
        "InaTEWS level for Balikpapan (absent when the bulletin does not name it); `ended` for "
        "the PD-4 bulletin.",
        "WASPADA",
        frozenset({_K.TSUNAMI_WARNING}),
        ("waspada", "siaga", "awas", "ended"),
    ),
    ValueDoc(
        "names_balikpapan",
        ValueType.FLAG,
        "True when the bulletin names Balikpapan in its warning zones.",
        "false",
        frozenset({_K.TSUNAMI_WARNING}),
    ),
    ValueDoc(
        "nearby_level",
        ValueType.WORD,
        "The highest InaTEWS level of the districts around Balikpapan (the feed's `nearby` "
        "setting: Penajam Paser Utara, Paser, Kutai Kartanegara, Samarinda, the Sulawesi coast "
        "across the strait); absent when none is named.",
        "WASPADA",
        frozenset({_K.TSUNAMI_WARNING}),
        ("waspada", "siaga", "awas"),
    ),
    ValueDoc(
        "nearby",
        ValueType.TEXT,
        "Those districts with their levels, highest first (two named, then 'dan N lain').",
        "Penajam Paser Utara SIAGA, Kutai Kartanegara SIAGA dan 6 lain",
        frozenset({_K.TSUNAMI_WARNING}),
    ),
    ValueDoc(
        "origin_time",
        ValueType.TIME,
        "The quake's origin time the bulletin states (messages only, shown in WITA).",
        "31-12-2099 23:59 WITA",
        frozenset({_K.TSUNAMI_WARNING}),
    ),
    ValueDoc(
        "bulletin",
        ValueType.NUMBER,
        "InaTEWS bulletin number, 1 to 4 (PD-4 ends the warning).",
        "4",
        frozenset({_K.TSUNAMI_WARNING}),
    ),
    ValueDoc(
        "epicenter_lon",
        ValueType.NUMBER,
        "Epicentre longitude.",
        "-180.00",
        frozenset({_K.TSUNAMI_WARNING}),
    ),
    ValueDoc(
        "epicenter_lat",
        ValueType.NUMBER,
        "Epicentre latitude.",
        "-90.00",
        frozenset({_K.TSUNAMI_WARNING}),
    ),
    ValueDoc(
        "precipitation_mm",
        ValueType.NUMBER,
        "Rain in mm during `period_s` (sum it `over` a window for accumulations).",
        "9999.9",
        frozenset({_K.RAINFALL}),
    ),
    ValueDoc(
        "period_s",
        ValueType.NUMBER,
        "Seconds the rain amount covers.",
        "86400",
        frozenset({_K.RAINFALL}),
    ),
    ValueDoc(
        "wind_speed_ms", ValueType.NUMBER, "Mean wind speed in m/s.", "99.9", frozenset({_K.WIND})
    ),
    ValueDoc("wind_gust_ms", ValueType.NUMBER, "Wind gust in m/s.", "99.9", frozenset({_K.WIND})),
    ValueDoc(
        "sea_level_m",
        ValueType.NUMBER,
        "Sea level in m above the observation's `datum`.",
        "-99.99",
        frozenset({_K.SEA_LEVEL}),
    ),
    ValueDoc(
        "datum",
        ValueType.TEXT,
        "What `sea_level_m` is measured from.",
        "MSL",
        frozenset({_K.SEA_LEVEL}),
    ),
    ValueDoc(
        "wave_height_m",
        ValueType.NUMBER,
        "Significant wave height in m.",
        "99.9",
        frozenset({_K.SEA_LEVEL}),
    ),
    ValueDoc(
        "severity",
        ValueType.WORD,
        "CAP severity of a BMKG warning.",
        "Moderate",
        frozenset({_K.WEATHER_WARNING}),
        ("Extreme", "Severe", "Moderate", "Minor", "Unknown"),
    ),
    ValueDoc(
        "urgency",
        ValueType.WORD,
        "CAP urgency.",
        "Immediate",
        frozenset({_K.WEATHER_WARNING}),
        ("Immediate", "Expected", "Future", "Past", "Unknown"),
    ),
    ValueDoc(
        "certainty",
        ValueType.WORD,
        "CAP certainty.",
        "Observed",
        frozenset({_K.WEATHER_WARNING}),
        ("Observed", "Likely", "Possible", "Unlikely", "Unknown"),
    ),
    ValueDoc(
        "msg_type",
        ValueType.WORD,
        "CAP message type.",
        "Update",
        frozenset({_K.WEATHER_WARNING}),
        ("Alert", "Update", "Cancel"),
    ),
    ValueDoc(
        "event",
        ValueType.TEXT,
        "CAP event name, e.g. 'Hujan Lebat dan Petir'.",
        "Hujan Lebat disertai Petir dan Angin Kencang",
        frozenset({_K.WEATHER_WARNING}),
    ),
    ValueDoc(
        "headline",
        ValueType.TEXT,
        "CAP headline.",
        "Hujan Lebat disertai Petir dan Angin Kencang di Kalimantan Timur",
        frozenset({_K.WEATHER_WARNING}),
    ),
    ValueDoc(
        "expires",
        ValueType.TIME,
        "When the BMKG warning expires (messages only, shown in WITA).",
        "31-12-2099 23:59 WITA",
        frozenset({_K.WEATHER_WARNING}),
    ),
)

#: Value documentation by name.
VALUE_INDEX: Mapping[str, ValueDoc] = MappingProxyType({v.name: v for v in VALUES})


@dataclass(frozen=True, slots=True)
class PlaceholderDoc:
    """A placeholder every template may use, whatever the kind."""

    name: str
    description: str
    widest: str


#: Longest area text the message renderer produces for several kelurahan.
AREA_LIST_FORM = "{first}, {second} dan {rest} kelurahan lain"

COMMON_PLACEHOLDERS: tuple[PlaceholderDoc, ...] = (
    PlaceholderDoc("level", "The level word: WASPADA, SIAGA or AWAS.", "WASPADA"),
    PlaceholderDoc(
        "area",
        "The affected kelurahan: one name, or 'Manggar, Lamaru dan 3 kelurahan lain'.",
        "",
    ),
    PlaceholderDoc("time_wita", "When it happened, in WITA.", "31-12-2099 23:59 WITA"),
    PlaceholderDoc(
        "event",
        "What happened: the CAP event of a BMKG warning, else the hazard's name.",
        "Hujan Lebat disertai Petir dan Angin Kencang",
    ),
    PlaceholderDoc(
        "action",
        "What firing does (sirene, SMS), in words.",
        "sirene dan SMS",
    ),
)

#: Prefixes the renderer may put before a message (drill, all-clear), per language.
WORST_PREFIX: Mapping[str, str] = MappingProxyType(
    {"id": "LATIHAN: AMAN: ", "en": "DRILL: ALL CLEAR: "}
)

#: Characters of one GSM-7 SMS segment.
SMS_LIMIT = 160

DURATION_UNITS: Mapping[str, int] = MappingProxyType({"s": 1, "m": 60, "h": 3600, "d": 86400})


def values_for(kind: ObservationKind) -> tuple[str, ...]:
    """Value names a rule of `kind` may test or print, sorted."""
    names = set(KIND_VALUES[kind])
    if kind in POINT_KINDS:
        names.add("distance_km")
    return tuple(sorted(names))


def placeholders_for(kind: ObservationKind) -> tuple[str, ...]:
    """Placeholders a template of a rule of `kind` may use."""
    common = [p.name for p in COMMON_PLACEHOLDERS]
    return tuple(common + [v for v in values_for(kind) if v not in common])


# ---------------------------------------------------------------------------
# The Markdown reference.

_INTRO = """\
# Rule files reference

Generated from `warning/rules/schema.py` by `warning rules reference`; do not edit by hand.

A rule file (`rules/<hazard>.yaml`) is a list of rules; each rule starts with `- `.
`warning rules check` reports every mistake at once as `file:line:col: rule "<id>": message`.

```yaml
- id: gempa-kuat-dekat
  name: Gempa kuat dekat Balikpapan
  description: M6+ shallower than 70 km within 100 km can damage buildings (BMKG).
  kind: earthquake
  when:
    all:
      - {value: magnitude, ">=": 6.0}
      - {value: depth_km, "<": 70}
      - {value: distance_km, "<=": 100}
  areas: all
  level: siaga
  actions: [sms, siren]
  recipients: [officials, rt-heads, siskamling, public]
  message:
    id: "{level}: Gempa M{magnitude} di {area} {time_wita}. Jauhi bangunan rusak."
    en: "{level}: M{magnitude} quake at {area} {time_wita}. Keep away from damaged buildings."
```
"""


def _key_section(key: Key) -> str:
    """One rule key as a Markdown section."""
    facts = [f"type: {key.type.value}", "required" if key.required else "optional"]
    if key.default:
        facts.append(f"default: `{key.default}`")
    return (
        f"### `{key.name}`\n\n{key.description}\n\n*{'; '.join(facts)}*\n\n"
        f"```yaml\n{key.example}\n```\n"
    )


def _values_table() -> str:
    """Every value name with its kinds and type."""
    rows = ["| value | kinds | type | meaning |", "|---|---|---|---|"]
    for value in VALUES:
        kinds = ", ".join(sorted(k.value for k in value.kinds))
        words = f" One of: {', '.join(value.choices)}." if value.choices else ""
        rows.append(
            f"| `{value.name}` | {kinds} | {value.type.value} | {value.description}{words} |"
        )
    return "\n".join(rows) + "\n"


def _syntax_section() -> str:
    """Conditions, durations, selectors and placeholders."""
    aggs = ", ".join(f"`{a.value}`" for a in Aggregation)
    ops = ", ".join(f"`{c.value}`" for c in Comparison)
    common = "\n".join(f"- `{{{p.name}}}`: {p.description}" for p in COMMON_PLACEHOLDERS)
    return f"""\
## Conditions

`{{value: NAME, OP: operand}}`, one operator per condition: {ops}.
Numbers compare with numbers, words with the words listed below, `in` takes a list.
Windowed: `{{value: precipitation_mm, over: 24h, agg: sum, ">=": 100}}` folds the values seen per
area during `over` with `agg`, one of {aggs} (`delta` is newest minus oldest: a sudden change).
`all:` and `any:` hold lists of conditions and nest; a plain list under `when` means `all`.

## Durations

A whole number and a unit: `90s`, `10m`, `2h`, `1d`; units may be chained: `1h30m`.

## Area selectors

`all` (every kelurahan), `coastal`, `kecamatan:<id>`, a kelurahan or kecamatan id
(a kecamatan stands for its kelurahan), or a list of these.

## Placeholders

Every template may use:

{common}

and the values of its kind in braces (`{{magnitude}}`, `{{precipitation_mm}}`, ...), plus
`{{distance_km}}` for point kinds ({", ".join(sorted(k.value for k in POINT_KINDS))}). No format
specifications or expressions: the renderer formats numbers itself.
Write `{{{{` for a literal brace.

## Values per kind

{_values_table()}"""


def render_reference() -> str:
    """The Markdown reference of the rule format, generated from this schema."""
    keys = "\n".join(_key_section(k) for k in RULE_KEYS)
    levels = ", ".join(level.value for level in Level)
    return (
        f"{_INTRO}\n## Rule keys\n\nLevels, lowest first: {levels}.\n\n{keys}\n{_syntax_section()}"
    )
