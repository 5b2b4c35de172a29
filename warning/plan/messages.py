"""SMS texts: the rule's template in the recipient's language, kept to one GSM-7 segment.

Every message carries the level word, the areas and the action to take.  A
template that leaves one of them out gets it added (the level in front, the
areas and the action at the end), because no warning may go without them.

Shortening policy, applied in this order until the text fits 160 GSM-7 units:

1. the area list shrinks: "A, B dan 3 kelurahan lain" -> "A dan 4 kelurahan
   lain" -> "5 kelurahan";
2. the rest of the template (its own words and the values such as the
   magnitude or the event name) is trimmed from the middle of its longest
   piece, marked with "..";
3. as a last resort (only reachable with absurdly long area names) the text
   is cut at 160 units; the prefixes and the level word come first, so they stay.

Prefixes come before anything else: `LATIHAN: ` (en `DRILL: `) in a drill, then
`AMAN: ` (en `ALL CLEAR: `) when an alert ends.
"""

from __future__ import annotations

import contextlib
import string
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from warning.model import WITA, Level, ObservationKind, TransitionKind, Value

SEGMENT = 160
LANGUAGES = ("id", "en")

# GSM 03.38 basic character set (one unit each) and its extension table (two units).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

#: Characters outside GSM-7 that have a readable stand-in (others fold or become "?").
TRANSLITERATION: Mapping[str, str] = MappingProxyType(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00b0": " derajat ",
        "\u00b7": ".",
        "\u2022": "-",
        "\t": " ",
        "\u00a0": " ",
        "`": "'",
        "\u00b4": "'",
        "\u00d7": "x",
    }
)

#: Letters that stay themselves even though GSM-7 has them: Indonesian needs none,
#: and folding them keeps every text plain ASCII where a stand-in exists.
_ALWAYS_FOLD = frozenset("èéùìòÇØøÅåÆæßÉÄÖÑÜäöñüà¥£¤§¡¿")

PREFIX_DRILL = MappingProxyType({"id": "LATIHAN: ", "en": "DRILL: "})
PREFIX_ALL_CLEAR = MappingProxyType({"id": "AMAN: ", "en": "ALL CLEAR: "})
ENDING_KINDS = frozenset({TransitionKind.RESOLVED, TransitionKind.TIMED_OUT})

#: Kinds whose alerts relay BMKG's own warnings (the other kinds are the city's rules).
RELAYED_KINDS = frozenset({ObservationKind.TSUNAMI_WARNING, ObservationKind.WEATHER_WARNING})
#: The sentence that names BMKG as the source of a relayed warning in public texts (CAP).
BMKG_SOURCE: Mapping[str, str] = MappingProxyType(
    {
        "id": "Sumber: BMKG (Badan Meteorologi, Klimatologi, dan Geofisika).",
        "en": "Source: BMKG (Indonesian Agency for Meteorology, Climatology and Geophysics).",
    }
)


def with_source(text: str, kind: ObservationKind, language: str) -> str:
    """A relayed warning's text with BMKG named as its source (once)."""
    if kind not in RELAYED_KINDS or "BMKG" in text:
        return text
    return f"{text} {BMKG_SOURCE[language]}".strip()


#: Used when a rule has no template in either the recipient's language or Indonesian.
DEFAULT_TEMPLATES = MappingProxyType(
    {
        "id": "{level} {event} di {area}, {time_wita}. {action}",
        "en": "{level} {event} in {area}, {time_wita}. {action}",
    }
)

#: What people should do, by level; an ended alert says so instead.
ACTIONS: Mapping[str, Mapping[Level | None, str]] = MappingProxyType(
    {
        "id": MappingProxyType(
            {
                Level.WASPADA: "Pantau info resmi BPBD.",
                Level.SIAGA: "Siapkan evakuasi, ikuti arahan petugas.",
                Level.AWAS: "SEGERA evakuasi ke tempat aman.",
                None: "Bahaya telah berlalu, tetap waspada.",
            }
        ),
        "en": MappingProxyType(
            {
                Level.WASPADA: "Follow official BPBD updates.",
                Level.SIAGA: "Prepare to evacuate, follow officials.",
                Level.AWAS: "EVACUATE NOW to a safe place.",
                None: "The danger has passed, stay alert.",
            }
        ),
    }
)

#: The hazard named by {event} when a rule does not name one.
EVENTS: Mapping[str, Mapping[ObservationKind, str]] = MappingProxyType(
    {
        "id": MappingProxyType(
            {
                ObservationKind.EARTHQUAKE: "gempa",
                ObservationKind.TSUNAMI_WARNING: "tsunami",
                ObservationKind.RAINFALL: "hujan lebat",
                ObservationKind.WIND: "angin kencang",
                ObservationKind.SEA_LEVEL: "muka air laut",
                ObservationKind.WEATHER_WARNING: "cuaca ekstrem",
                ObservationKind.PRAKIRAAN: "prakiraan cuaca",
            }
        ),
        "en": MappingProxyType(
            {
                ObservationKind.EARTHQUAKE: "earthquake",
                ObservationKind.TSUNAMI_WARNING: "tsunami",
                ObservationKind.RAINFALL: "heavy rain",
                ObservationKind.WIND: "strong wind",
                ObservationKind.SEA_LEVEL: "sea level",
                ObservationKind.WEATHER_WARNING: "severe weather",
                ObservationKind.PRAKIRAAN: "weather forecast",
            }
        ),
    }
)

_AND = MappingProxyType({"id": "dan", "en": "and"})
_MORE = MappingProxyType({"id": "{n} kelurahan lain", "en": "{n} more kelurahan"})
_ONLY_COUNT = MappingProxyType({"id": "{n} kelurahan", "en": "{n} kelurahan"})
_PROTECTED = ("level", "area", "action")
_ELLIPSIS = ".."


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Everything a message says about one alert change, independent of language."""

    kind: ObservationKind
    transition: TransitionKind
    level: Level
    area_names: tuple[str, ...]
    time: datetime
    values: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    event: str = ""
    drill: bool = False


# ---------------------------------------------------------------------------
# GSM-7


def gsm7_units(text: str) -> int:
    """Length in GSM-7 septets: extension characters count twice."""
    return sum(2 if c in GSM7_EXTENSION else 1 for c in text)


def to_gsm7(text: str) -> str:
    """`text` with every character outside GSM-7 transliterated (or "?" when hopeless)."""
    return "".join(_gsm7_char(c) for c in text)


def _gsm7_char(char: str) -> str:
    """One character as GSM-7 text."""
    if char in TRANSLITERATION:
        return TRANSLITERATION[char]
    if char in GSM7_EXTENSION or (char in GSM7_BASIC and char not in _ALWAYS_FOLD):
        return char
    folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if folded and folded != char and all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in folded):
        return folded
    return char if char in GSM7_BASIC else "?"


def cut_units(text: str, limit: int) -> str:
    """The longest prefix of `text` that fits `limit` GSM-7 units."""
    total = 0
    for index, char in enumerate(text):
        total += gsm7_units(char)
        if total > limit:
            return text[:index]
    return text


def render_plain(text: str) -> str:
    """An operational text (no template) as one GSM-7 segment."""
    return cut_units(to_gsm7(text), SEGMENT)


# ---------------------------------------------------------------------------
# Areas


def area_phrase(names: Sequence[str], language: str, shown: int = 2) -> str:
    """Compact area names: "Manggar, Lamaru dan 3 kelurahan lain" (up to 3 named in full)."""
    lang = _language(language)
    names = list(names)
    if len(names) <= max(shown, 1) + 1 and shown > 0:
        return _join(names, lang)
    if shown <= 0:
        return _ONLY_COUNT[lang].format(n=len(names))
    more = _MORE[lang].format(n=len(names) - shown)
    return f"{', '.join(names[:shown])} {_AND[lang]} {more}"


def _join(names: Sequence[str], lang: str) -> str:
    """ "A", "A dan B", "A, B dan C"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {_AND[lang]} {names[-1]}"


def _area_variants(names: Sequence[str], language: str) -> list[str]:
    """Area phrases from the fullest to the most compact (the shortening steps)."""
    variants = [area_phrase(names, language, shown) for shown in (2, 1, 0)]
    return list(dict.fromkeys(variants))


# ---------------------------------------------------------------------------
# Rendering


def render(templates: Mapping[str, str], context: MessageContext, language: str) -> str:
    """The SMS for one recipient: prefixes, template, one GSM-7 segment (see module doc)."""
    lang = _language(language)
    if not templates.get(lang) and templates.get("id"):
        lang = "id"  # the whole message in Indonesian, not a mix
    template = templates.get(lang) or DEFAULT_TEMPLATES[lang]
    prefix = _prefix(context, lang)
    pieces: list[tuple[str, bool]] = []
    for area in _area_variants(context.area_names, lang):
        pieces = _pieces(template, context, lang, area)
        if _units(pieces) + gsm7_units(prefix) <= SEGMENT:
            break
    pieces = _trim(pieces, SEGMENT - gsm7_units(prefix))
    return cut_units(prefix + "".join(text for text, _ in pieces), SEGMENT)


def _language(language: str) -> str:
    """The recipient's language when we speak it, else Indonesian."""
    return language if language in LANGUAGES else "id"


def _prefix(context: MessageContext, lang: str) -> str:
    """`LATIHAN: ` and/or `AMAN: `, drill first."""
    prefix = PREFIX_DRILL[lang] if context.drill else ""
    if context.transition in ENDING_KINDS:
        prefix += PREFIX_ALL_CLEAR[lang]
    return prefix


def _fields(context: MessageContext, lang: str, area: str) -> dict[str, str]:
    """Placeholder values as GSM-7 text; the protected ones are level, area and action."""
    ending = context.transition in ENDING_KINDS
    values = {k: _value_text(v) for k, v in context.values.items()}
    return {
        **values,
        "level": context.level.word,
        "area": area,
        "action": ACTIONS[lang][None if ending else context.level],
        "event": context.event or EVENTS[lang][context.kind],
        "time_wita": context.time.astimezone(WITA).strftime("%d/%m %H:%M WITA"),
    }


def _value_text(value: Value) -> str:
    """A value as people read it: numbers without noise, None as "?"."""
    if value is None:
        return "?"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) < 1e6 else f"{value:.3g}"
    return str(value)


def _pieces(template: str, context: MessageContext, lang: str, area: str) -> list[tuple[str, bool]]:
    """The rendered template as (text, protected) pieces, missing essentials added."""
    fields = {k: to_gsm7(v) for k, v in _fields(context, lang, area).items()}
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        parsed = list(string.Formatter().parse(DEFAULT_TEMPLATES[lang]))
    pieces: list[tuple[str, bool]] = []
    used: set[str] = set()
    for literal, name, spec, _conversion in parsed:
        pieces.append((to_gsm7(literal), False))
        if name is not None:
            used.add(name)
            pieces.append(_placeholder(name, spec or "", context, fields))
    return _add_missing(pieces, used, fields)


def _placeholder(
    name: str, spec: str, context: MessageContext, fields: Mapping[str, str]
) -> tuple[str, bool]:
    """One placeholder's text; a numeric format spec applies to numeric values only."""
    raw = context.values.get(name)
    text = fields.get(name, "?")
    if spec and isinstance(raw, int | float) and not isinstance(raw, bool):
        with contextlib.suppress(ValueError):
            text = to_gsm7(format(raw, spec))
    return (text, name in _PROTECTED)


def _add_missing(
    pieces: list[tuple[str, bool]], used: set[str], fields: Mapping[str, str]
) -> list[tuple[str, bool]]:
    """Put in the level (front), area and action (end) when the template left them out."""
    if "level" not in used:
        pieces = [(fields["level"], True), (" ", False), *pieces]
    for name in ("area", "action"):
        if name not in used:
            pieces += [(" ", False), (fields[name], True)]
    return pieces


def _units(pieces: Sequence[tuple[str, bool]]) -> int:
    """GSM-7 units of all pieces."""
    return sum(gsm7_units(text) for text, _ in pieces)


def _trim(pieces: list[tuple[str, bool]], budget: int) -> list[tuple[str, bool]]:
    """Trim unprotected pieces, longest first, from their middle, until `budget` fits."""
    pieces = list(pieces)
    while _units(pieces) > budget:
        free = [(gsm7_units(t), i) for i, (t, keep) in enumerate(pieces) if not keep and t]
        if not free:
            break
        size, index = max(free)
        excess = _units(pieces) - budget
        pieces[index] = (_cut_middle(pieces[index][0], size - excess), False)
    return pieces


def _cut_middle(text: str, keep: int) -> str:
    """`text` shortened to at most `keep` units by removing its middle, marked with "..".

    Texts too short to hold the marker vanish entirely.
    """
    room = keep - len(_ELLIPSIS)
    if room <= 1:
        return ""
    head = cut_units(text, (room + 1) // 2)
    tail_room = room - gsm7_units(head)
    tail = cut_units(text[::-1], tail_room)[::-1] if tail_room > 0 else ""
    return head.rstrip() + _ELLIPSIS + tail.lstrip()
