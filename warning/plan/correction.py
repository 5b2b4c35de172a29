"""The correction SMS of a cancelled alert: "KOREKSI: peringatan ... dibatalkan: <reason>".

One GSM-7 segment.  Shortening policy: the area list shrinks first (as in
warning messages), then the reason is cut from its end and marked "..";
the "KOREKSI:"/"CORRECTION:" word, the level and the areas always stay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from warning.model import Level, ObservationKind
from warning.plan.messages import (
    PREFIX_DRILL,
    SEGMENT,
    area_phrase,
    cut_units,
    gsm7_units,
    to_gsm7,
)

TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        "id": "KOREKSI: peringatan {what} di {areas} dibatalkan: ",
        "en": "CORRECTION: {what} warning for {areas} cancelled: ",
    }
)
#: The hazard a correction names (a rule's own texts name it in the official's words).
HAZARDS: Mapping[str, Mapping[ObservationKind, str]] = MappingProxyType(
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
                ObservationKind.REPORT: "laporan warga",
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
                ObservationKind.REPORT: "residents' report",
            }
        ),
    }
)
#: What the CAP Cancel tells people to do.
INSTRUCTIONS: Mapping[str, str] = MappingProxyType(
    {"id": "Abaikan peringatan sebelumnya.", "en": "Disregard the earlier warning."}
)
#: Room left for the reason before the area list is shortened.
MIN_REASON_UNITS = 24
_ELLIPSIS = ".."


def what(level: Level, kind: ObservationKind | None, language: str) -> str:
    """'tsunami SIAGA', or just 'SIAGA' when the hazard is not known."""
    lang = language if language in TEMPLATES else "id"
    return level.word if kind is None else f"{HAZARDS[lang][kind]} {level.word}"


def correction_sms(
    language: str,
    level: Level,
    kind: ObservationKind | None,
    area_names: Sequence[str],
    reason: str,
    *,
    drill: bool,
) -> str:
    """The correction text in `language` (Indonesian when not spoken), one segment."""
    lang = language if language in TEMPLATES else "id"
    prefix = PREFIX_DRILL[lang] if drill else ""
    head = ""
    for shown in (2, 1, 0):
        phrase = area_phrase(area_names, lang, shown)
        head = to_gsm7(prefix + TEMPLATES[lang].format(what=what(level, kind, lang), areas=phrase))
        if gsm7_units(head) + MIN_REASON_UNITS <= SEGMENT:
            break
    return cut_units(
        head + _shortened(to_gsm7(reason.strip()), SEGMENT - gsm7_units(head)), SEGMENT
    )


def _shortened(text: str, budget: int) -> str:
    """`text` within `budget` units, cut at its end with '..' when too long."""
    if gsm7_units(text) <= budget:
        return text
    return cut_units(text, max(budget - len(_ELLIPSIS), 0)).rstrip() + _ELLIPSIS
