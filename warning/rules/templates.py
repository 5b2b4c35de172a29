"""Message templates: parsed, checked, and rendered on an event's facts.

Templates are data: they are split with `string.Formatter().parse` and never
evaluated.  `render` is the one place a template becomes text: numbers with
the Indonesian decimal comma, times in WITA, the area as people say it
("seluruh Balikpapan", a kecamatan's name, kelurahan names).  `warning rules
check` renders every message of a rule on sample facts of its kind (and the
widest text every placeholder can take) and refuses what a person could not
act on: a placeholder the event may leave empty, a `?`, or more than one SMS.
The plan stage renders real messages with the same function, so what the
check shows is what people read.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from warning.areas import AreaIndex
from warning.model import (
    WITA,
    EndReason,
    Level,
    ObservationKind,
    Problem,
    Rule,
    TransitionKind,
    Value,
)
from warning.rules import fields, schema
from warning.rules.fields import INVALID, Context, Invalid
from warning.rules.judge import threshold_values
from warning.rules.source import (
    At,
    Node,
    Sink,
    column_in,
    entries,
    is_mapping,
    suggest,
    unknown_keys,
)

# GSM 03.38 basic character set (one septet each) and its extension table (two).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

#: Text the renderer prints for a value the event did not carry (the check refuses it).
UNKNOWN = "?"

_ROMAN = ("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
#: Values printed as whole numbers, and values printed as roman MMI.
_WHOLE = frozenset({"distance_km", "depth_km", "bulletin", "period_s"})
_INTENSITY = frozenset({"mmi", "felt_mmi_balikpapan"})
_WHOLE_CITY = MappingProxyType({"id": "seluruh Balikpapan", "en": "all of Balikpapan"})
_AND = MappingProxyType({"id": "dan", "en": "and"})
_MORE = MappingProxyType({"id": "{n} kelurahan lain", "en": "{n} more kelurahan"})
_IN_KECAMATAN = MappingProxyType(
    {"id": "{n} kelurahan di {kecamatan}", "en": "{n} kelurahan in {kecamatan}"}
)
#: BMKG's standard wording of its tsunami verdict, for a report that gave only the flag.
_VERDICT: Mapping[Value, str] = MappingProxyType(
    {False: "Tidak berpotensi tsunami", True: "Berpotensi tsunami"}
)
#: What `{potensi}` says before BMKG has judged the quake (USGS reported it first).
_NO_VERDICT = MappingProxyType({"id": "belum ada info tsunami", "en": "no tsunami verdict yet"})
_FLAG = MappingProxyType({"id": ("tidak", "ya"), "en": ("no", "yes")})
#: Amounts people read as "120 mm", not "120,0 mm": one decimal only when there is one.
_AMOUNTS = frozenset({"precipitation_mm"})
#: `{period}`: how long an amount took, as people say it ("3 jam", "3 hari").
_PERIOD_UNITS: Mapping[str, tuple[tuple[int, str], ...]] = MappingProxyType(
    {
        "id": ((86400, "hari"), (3600, "jam"), (60, "menit")),
        "en": ((86400, "days"), (3600, "h"), (60, "min")),
    }
)


# ---------------------------------------------------------------------------
# Length


@dataclass(frozen=True, slots=True)
class SmsSize:
    """How long a text is as an SMS: units used, the one-segment limit, and why."""

    units: int
    limit: int
    non_gsm: str = ""  # characters that force UCS-2

    @property
    def fits(self) -> bool:
        """True when the text is one SMS segment."""
        return self.units <= self.limit


def sms_size(text: str) -> SmsSize:
    """GSM-7 septets (extension characters count 2); any other character makes it UCS-2.

    A UCS-2 SMS holds 70 characters (UTF-16 units: an emoji counts 2).
    """
    outside = "".join(dict.fromkeys(c for c in text if c not in GSM7_BASIC | GSM7_EXTENSION))
    if outside:
        units = len(text.encode("utf-16-le")) // 2
        return SmsSize(units, schema.UCS2_LIMIT, outside)
    return SmsSize(sum(2 if c in GSM7_EXTENSION else 1 for c in text), schema.SMS_LIMIT)


def sms_length(text: str) -> int:
    """SMS units `text` needs (see `sms_size`)."""
    return sms_size(text).units


# ---------------------------------------------------------------------------
# Rendering


@dataclass(frozen=True, slots=True)
class Facts:
    """What one message says about one alert change: level, where, when, the event's values."""

    level: Level
    area: str
    time: datetime | None = None
    values: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    end_reason: str = ""  # why an ending ended, in the message's language
    source: str = ""  # the feed whose figures the message gives (`{source}`)


def render(template: str, facts: Facts, language: str = "id", drill: bool = False) -> str:
    """The template filled with `facts`, behind the drill prefix; nothing else is added."""
    lang = language if language in schema.LANGUAGES else "id"
    parts = [schema.DRILL_PREFIX[lang] if drill else ""]
    for text, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(text)
        if name is not None:
            parts.append(placeholder_text(name, facts, lang))
    return "".join(parts)


def placeholder_text(name: str, facts: Facts, language: str) -> str:
    """One placeholder as people read it; `?` when the facts lack it."""
    if name == "level":
        return facts.level.word
    if name == "area":
        return facts.area
    if name == "time_wita":
        return format_time(facts.time, with_date=True) if facts.time else UNKNOWN
    if name == "end_reason":
        return facts.end_reason or UNKNOWN
    if name == schema.SOURCE_PLACEHOLDER.name:
        return source_text(facts.source)
    return value_text(name, facts.values, language)


def source_text(feed: str) -> str:
    """Who gave the figures, as officials know them: BMKG (its feeds, InaTEWS), USGS, ..."""
    if not feed:
        return UNKNOWN
    if feed.startswith(("bmkg", "inatews")):
        return "BMKG"
    return feed.split("-", 1)[0].upper()


def value_text(name: str, values: Mapping[str, Value], language: str) -> str:
    """A value placeholder: the derived ones (`{period}`, `{potensi}`), else the value itself."""
    if name == PERIOD:
        return period_text(values.get("period_s"), language)
    if name == "potensi":
        return verdict_text(values, language)
    return format_value(name, values.get(name), language)


def verdict_text(values: Mapping[str, Value], language: str = "id") -> str:
    """BMKG's tsunami verdict in BMKG's words, or that BMKG has not judged the quake yet.

    Only a report that judged (its flag is true or false) has a verdict: a felt
    report's "Gempa ini dirasakan untuk diteruskan pada masyarakat" is not one,
    and a USGS solution has none.
    """
    flag = values.get("tsunami_potential")
    if not isinstance(flag, bool):
        return _NO_VERDICT.get(language, _NO_VERDICT["id"])
    words = values.get("potensi")
    return words if isinstance(words, str) and words.strip() else _VERDICT[flag]


#: The placeholder that prints an amount's period (`period_s`) in words.
PERIOD = "period"


def period_text(seconds: Value, language: str = "id") -> str:
    """ "3 jam", "24 jam", "3 hari", "10 menit": whole days from 2 days, else hours, else minutes.

    An amount keeps its real period: a window's sum says the window it summed.
    """
    try:
        seconds = float(str(seconds)) if not isinstance(seconds, bool) and seconds else 0.0
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        return UNKNOWN
    units = _PERIOD_UNITS.get(language, _PERIOD_UNITS["id"])
    for size, word in units:
        if seconds % size == 0 and (size != 86400 or seconds >= 2 * size):
            return f"{round(seconds / size)} {word}"
    return f"{round(seconds)} {'detik' if language == 'id' else 's'}"


def format_value(name: str, value: Value, language: str = "id") -> str:
    """A value in the recipient's language: 5,6 (Indonesian decimal comma), III MMI, WITA."""
    doc = schema.VALUE_INDEX.get(name)
    if value is None or value == "":
        return UNKNOWN
    if doc is not None and doc.type is schema.ValueType.TIME:
        return _time_value(value, with_date=False)
    if isinstance(value, bool):
        return _FLAG.get(language, _FLAG["id"])[int(value)]
    if isinstance(value, int | float):
        return _number(name, value, language)
    return str(value)


def _number(name: str, value: float, language: str) -> str:
    """Whole km and counts, roman intensities, else one decimal with the language's mark."""
    if name in _INTENSITY and 0 < round(value) < len(_ROMAN):
        return _ROMAN[round(value)]
    if name in _WHOLE or (name in _AMOUNTS and round(value, 1) == round(value)):
        return str(round(value))
    text = f"{value:.2f}" if name == "sea_level_m" else f"{value:.1f}"
    return text.replace(".", ",") if language == "id" else text


def _time_value(value: Value, with_date: bool) -> str:
    """An ISO time value in WITA; the text as is when it is not one."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return str(value)
    return format_time(moment, with_date)


def format_time(moment: datetime, with_date: bool = True) -> str:
    """`30/11 10.15 WITA` (Indonesian time with a dot), or `10.15 WITA`."""
    local = moment.astimezone(WITA)
    clock = local.strftime("%H.%M WITA")
    return f"{local:%d/%m} {clock}" if with_date else clock


def area_text(area_ids: Sequence[str], areas: AreaIndex, language: str = "id") -> str:
    """Where, as people say it: the whole city, whole kecamatan by name, else kelurahan."""
    lang = language if language in schema.LANGUAGES else "id"
    chosen = set(area_ids)
    if chosen >= {a.id for a in areas.kelurahan}:
        return _WHOLE_CITY[lang]
    names: list[str] = []
    covered: set[str] = set()
    for kecamatan in areas.kecamatan:
        members = {a.id for a in areas.kelurahan if a.kecamatan_id == kecamatan.id}
        if members and members <= chosen:
            names.append(kecamatan.name)
            covered |= members
    rest = [areas.get(i) for i in area_ids if i not in covered and i in areas]
    kecamatan_id = rest[0].kecamatan_id if rest else None
    one = kecamatan_id is not None and kecamatan_id in areas
    if one and len(rest) > 3 and all(a.kecamatan_id == kecamatan_id for a in rest):
        # Many kelurahan of one kecamatan read as a count there, not two names and "lain".
        where = areas.get(str(kecamatan_id)).name
        return join_names([*names, _IN_KECAMATAN[lang].format(n=len(rest), kecamatan=where)], lang)
    return join_names(names + [a.name for a in rest], lang)


def join_names(names: Sequence[str], language: str = "id") -> str:
    """ "A", "A dan B", "A, B dan C", "A, B dan 3 kelurahan lain"."""
    lang = language if language in schema.LANGUAGES else "id"
    if len(names) <= 3:
        head = ", ".join(names[:-1])
        return f"{head} {_AND[lang]} {names[-1]}" if head else "".join(names)
    return f"{names[0]}, {names[1]} {_AND[lang]} {_MORE[lang].format(n=len(names) - 2)}"


# ---------------------------------------------------------------------------
# Checks


#: Widest kelurahan text when the areas are not known (Balikpapan's two longest names).
AREA_FALLBACK = schema.AREA_LIST_FORM.format(
    first="Gunung Samarinda Baru", second="Gunung Sari Ilir", rest=32
)


def placeholders(template: str) -> list[tuple[str, str, str | None]]:
    """(name, format spec, conversion) of every placeholder; ValueError on bad braces."""
    return [
        (name, spec or "", conv)
        for _text, name, spec, conv in string.Formatter().parse(template)
        if name is not None
    ]


def check(node: Node, allowed: Sequence[str], sink: Sink, language: str) -> bool:
    """Report unbalanced braces and unknown or formatted placeholders; True when clean."""
    template = str(node.value)
    try:
        found = placeholders(template)
    except ValueError:
        sink.error(
            node.at, f'message "{language}": unbalanced "{{" or "}}"; write {{{{ for a brace'
        )
        return False
    before = len(sink.problems)
    for name, spec, conv, at in _located(node, found):
        if name not in allowed:
            near = suggest(name, allowed) if name else f" (valid: {', '.join(allowed)})"
            sink.error(at, f'message "{language}": unknown placeholder "{{{name}}}"{near}')
        elif spec or conv:
            sink.error(
                at,
                f'message "{language}": write "{{{name}}}" without ":" or "!": '
                "the renderer formats values itself",
            )
    return len(sink.problems) == before


def _located(
    node: Node, found: Sequence[tuple[str, str, str | None]]
) -> Iterator[tuple[str, str, str | None, At]]:
    """Each placeholder with its position in the file."""
    template = str(node.value)
    start = 0
    for name, spec, conv in found:
        start = max(template.find("{" + name, start), 0)
        yield name, spec, conv, column_in(node, start)
        start += 1


def widest_area(names: Sequence[str]) -> str:
    """The longest area text the renderer can produce for these kelurahan."""
    if not names:
        return AREA_FALLBACK
    longest = sorted(names, key=len, reverse=True)
    forms = [longest[0]]
    if len(longest) >= 2:
        forms.append(join_names(longest[:2]))
    if len(longest) >= 3:
        forms.append(join_names(longest[:3]))
    if len(longest) > 3:
        forms.append(join_names(longest))
    return max(forms, key=len)


def sample_facts(
    kind: ObservationKind, level: Level, area: str, widest: bool, ending: bool = False
) -> Facts:
    """Realistic facts of `kind` (or the widest text of every value) to render a check on.

    An ending's facts say why it ended (the widest reason when `widest`); other
    changes have no reason, so `{end_reason}` outside an ending renders `?`.
    """
    values: dict[str, Value] = {}
    for name in schema.values_for(kind):
        doc = schema.VALUE_INDEX[name]
        values[name] = (
            doc.widest if widest and doc.type is not schema.ValueType.TIME else doc.sample
        )
        if widest and doc.type is schema.ValueType.FLAG:
            # A flag prints "tidak" at its longest, and a judged quake prints BMKG's words.
            values[name] = False
    moment = datetime(2026, 12, 31, 15, 59, tzinfo=WITA)
    reason = ""
    if ending:
        texts = [t for by_language in schema.END_REASONS.values() for t in by_language.values()]
        reason = max(texts, key=len) if widest else texts[0]
    source = "usgs" if widest else "bmkg-autogempa"
    return Facts(level, area, moment, values, reason, source)


@dataclass(frozen=True, slots=True)
class MessageUse:
    """One written `message`-like mapping and where the rule sends it."""

    key: str  # message, update_message or end_message
    node: Node
    templates: Mapping[str, str]
    levels: tuple[Level, ...]


def check_rendering(
    use: MessageUse,
    *,
    kind: ObservationKind,
    required: frozenset[str],
    area_names: Sequence[str],
    sink: Sink,
) -> None:
    """Render one message mapping at every level it serves, in every language, as a drill.

    Errors: a placeholder the kind may leave empty that the rule's `when` does not
    require, a `?` in the text, more than one SMS with the widest values.
    """
    positions = {lang: value for lang, _at, value in entries_of(use.node)}
    empty = schema.maybe_empty(kind) - required
    for language, template in use.templates.items():
        node = positions[language]
        label = f'{use.key} "{language}"'
        for name, _spec, _conv, at in _located(node, placeholders(template)):
            if name in empty:
                sink.error(
                    at,
                    f'{label}: "{{{name}}}" can be empty for {kind.value} (not every report '
                    f'has it): remove it, or require it in "when" '
                    f"(e.g. {schema.guard_example(name)})",
                )
        for level in use.levels:
            _check_level(
                template,
                ending=use.key == "end_message",
                language=language,
                label=label,
                level=level,
                kind=kind,
                area_names=area_names,
                at=node.at,
                sink=sink,
            )


def _check_level(
    template: str,
    *,
    ending: bool,
    language: str,
    label: str,
    level: Level,
    kind: ObservationKind,
    area_names: Sequence[str],
    at: At,
    sink: Sink,
) -> None:
    """The sample and the widest rendering of one template at one level."""
    sample_at = sample_facts(kind, level, "Manggar", widest=False, ending=ending)
    sample = render(template, sample_at, language)
    if UNKNOWN in sample and UNKNOWN not in template:
        sink.error(at, f'{label} renders "?" for a missing fact: {sample}')
    widest = sample_facts(kind, level, widest_area(area_names), widest=True, ending=ending)
    text = render(template, widest, language, drill=True)
    size = sms_size(text)
    if size.non_gsm:
        sink.error(
            at,
            f"{label}: {', '.join(repr(c) for c in size.non_gsm)} is not a GSM-7 character: "
            f"the SMS would be UCS-2 ({schema.UCS2_LIMIT} characters); write plain letters",
        )
    elif not size.fits:
        sink.error(
            at,
            f"{label} at {level.word} can reach {size.units} characters with the drill prefix "
            f"and the longest area and values, more than one SMS ({size.limit}); shorten it by "
            f"{size.units - size.limit}: {text}",
        )


def messages(node: Node, ctx: Context) -> Mapping[str, str] | Invalid:
    """`message:` templates per language, `id` required, placeholders known for the kind."""
    if not is_mapping(node.value):
        ctx.sink.error(node.at, 'message takes templates per language: id: "...", en: "..."')
        return INVALID
    unknown_keys(node, schema.LANGUAGES, ctx.sink, "message (languages)")
    allowed = allowed_placeholders(ctx)
    found: dict[str, str] = {}
    for language, _at, value in entries_of(node):
        template = fields.text(value, ctx)
        if isinstance(template, str) and check(value, allowed, ctx.sink, language):
            found[language] = template
    if schema.LANGUAGES[0] not in found and schema.LANGUAGES[0] not in node.value:
        ctx.sink.error(node.at, 'message needs an "id" template (Bahasa Indonesia)')
    return MappingProxyType(found)


def entries_of(node: Node) -> Iterator[tuple[str, At, Node]]:
    """The (language, position, template node) entries of a known language."""
    return (entry for entry in entries(node) if entry[0] in schema.LANGUAGES)


def allowed_placeholders(ctx: Context) -> tuple[str, ...]:
    """Placeholders for the rule's kind (every value name when the kind is unknown)."""
    if ctx.kind is None:
        common = tuple(p.name for p in schema.COMMON_PLACEHOLDERS)
        return common + tuple(schema.VALUE_INDEX)
    return schema.placeholders_for(ctx.kind)


#: The changes `warning rules check --show` renders, with the message key each reads.
CHANGES: tuple[tuple[str, TransitionKind, bool], ...] = (
    ("naik", TransitionKind.FIRED, False),
    ("pembaruan", TransitionKind.UPDATED, False),
    ("berakhir", TransitionKind.RESOLVED, False),
    ("kedaluwarsa", TransitionKind.TIMED_OUT, False),
    ("latihan", TransitionKind.FIRED, True),
)


#: Why the sample endings of `--show` ended: BMKG's end, or the safety timeout.
_SAMPLE_REASONS: Mapping[TransitionKind, EndReason] = MappingProxyType(
    {
        TransitionKind.RESOLVED: EndReason.ENDED_BY_SOURCE,
        TransitionKind.TIMED_OUT: EndReason.SAFETY_TIMEOUT,
    }
)


def samples(rules: Sequence[Rule], areas: AreaIndex | None) -> Iterator[str]:
    """Every message of every rule at every level and change, rendered on sample facts."""
    for rule in rules:
        chosen = areas.select(list(rule.areas)) if areas is not None else ()
        for step in rule.levels:
            for change_name, change, drill in CHANGES:
                found = rule.templates_for(step.level, change)
                for language, template in found.items():
                    where = area_text(chosen, areas, language) if areas is not None else "Manggar"
                    facts = sample_facts(rule.kind, step.level, where, widest=False)
                    judged = threshold_values(rule, step.level)
                    facts = replace(facts, values={**facts.values, **judged})
                    reason = _SAMPLE_REASONS.get(change)
                    if reason is not None:
                        said = schema.END_REASONS[reason]
                        facts = replace(facts, end_reason=said.get(language, said["id"]))
                    text = render(template, facts, language, drill=drill)
                    yield f"{rule.id} {step.level.word} {change_name} {language}: {text}"
                if not found:
                    yield f"{rule.id} {step.level.word} {change_name}: (tanpa SMS)"


# ---------------------------------------------------------------------------
# Room for an acknowledgement link


def link_problems(
    rules: Sequence[Rule],
    areas: AreaIndex | None,
    *,
    link_units: int,
    groups: Collection[str],
    lowest: Level,
) -> list[Problem]:
    """Warnings that, with the acknowledgement link after them, would be more than one SMS.

    Only the SMS that carry a link count it: those of a rule addressing an
    acknowledging group (or everyone), raising or updating at `lowest` or above.
    The daemon cuts such a text to keep the link whole: the check says so first.
    """
    problems = []
    for rule in rules:
        if rule.recipients and not set(rule.recipients) & set(groups):
            continue
        area = widest_area(fields.area_names(areas, rule.areas or ("all",)))
        for step in rule.levels:
            if step.level < lowest:
                continue
            for change in (TransitionKind.FIRED, TransitionKind.UPDATED):
                for language, template in rule.templates_for(step.level, change).items():
                    facts = sample_facts(rule.kind, step.level, area, widest=True)
                    units = sms_size(render(template, facts, language, drill=True)).units
                    if units + link_units > schema.SMS_LIMIT:
                        problems.append(
                            _link_problem(rule, step.level, language, units, link_units)
                        )
    return list(dict.fromkeys(problems))


def _link_problem(rule: Rule, level: Level, language: str, units: int, link_units: int) -> Problem:
    """One message too long for its acknowledgement link, at the rule's position."""
    where = rule.position
    over = units + link_units - schema.SMS_LIMIT
    message = (
        f'rule "{rule.id}": message "{language}" at {level.word} can reach {units} characters '
        f"with the drill prefix, and the acknowledgement link adds {link_units}: more than one "
        f"SMS ({schema.SMS_LIMIT}); shorten it by {over}"
    )
    if where is None:
        return Problem("", message)
    return Problem(where.path, message, where.line, where.col)
