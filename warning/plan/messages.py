"""Texts outside the rule messages: GSM-7 folding, one-segment cuts, area phrases.

Rule messages are the officials' own words, rendered by `rules.templates.render`
(the one renderer `warning rules check` also uses) and folded to GSM-7 here by
the planner; nothing is added to them but the drill prefix.  The helpers below
serve operational texts (corrections, manual alerts, health notices), which
have no template: `render_plain` folds and cuts them to one segment.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from warning.model import Level, ObservationKind
from warning.rules.schema import DRILL_PREFIX
from warning.rules.templates import GSM7_BASIC, GSM7_EXTENSION

SEGMENT = 160
LANGUAGES = ("id", "en")

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

PREFIX_DRILL = DRILL_PREFIX

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


#: What people should do at each level of an operator's manual alert (its CAP instruction).
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

_AND = MappingProxyType({"id": "dan", "en": "and"})
_MORE = MappingProxyType({"id": "{n} kelurahan lain", "en": "{n} more kelurahan"})
_ONLY_COUNT = MappingProxyType({"id": "{n} kelurahan", "en": "{n} kelurahan"})


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


#: The hazard a safety-timeout notice names (the kinds that can time out, and a fallback).
_HAZARD: Mapping[ObservationKind, str] = MappingProxyType(
    {
        ObservationKind.TSUNAMI_WARNING: "tsunami",
        ObservationKind.WEATHER_WARNING: "cuaca ekstrem",
        ObservationKind.EARTHQUAKE: "gempa",
    }
)


#: A safety timeout (no end bulletin from BMKG in time) to officials: never "aman" to anyone.
SAFETY_TIMEOUT_TEXT: Mapping[str, str] = MappingProxyType(
    {
        "id": "PETUGAS: {event} {level}: akhir resmi BMKG tidak diterima. Ditutup utk petugas"
        " saja, publik TIDAK diberi aman. Mohon keputusan operator segera.",
        "en": "OFFICIALS: {event} {level}: no end bulletin from BMKG. Closed for officials"
        " only, public NOT told all clear. Operator decision needed now.",
    }
)


def safety_timeout_sms(language: str, level: Level, kind: ObservationKind, *, drill: bool) -> str:
    """What officials are told when an alert timed out: BMKG's end was not received."""
    lang = _language(language)
    hazard = _HAZARD.get(kind, kind.value.replace("_", " ")).upper()
    text = SAFETY_TIMEOUT_TEXT[lang].format(event=hazard, level=level.word)
    return render_plain(PREFIX_DRILL[lang] + text if drill else text)


def _language(language: str) -> str:
    """The recipient's language when we speak it, else Indonesian."""
    return language if language in LANGUAGES else "id"
