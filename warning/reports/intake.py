"""Validate a report as sent (web form, JSON or Telegram) before anything is stored (pure).

Text with markup is refused, not escaped: a report's words travel to the
operators' console, to CSV exports and to Telegram, each with its own escaping
rules; text without `<tag`, `javascript:` or control characters is inert in
all of them, and the reporter learns at once what to change (the console's
templates escape everything all the same).  Phones are E.164 in ASCII digits
(a local 08... number is written +628...): `\\d` would also take Arabic-Indic
or fullwidth digits, which reach an SMS gateway as something else.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from warning.areas import AreaIndex
from warning.model import AreaLevel, ReportCategory
from warning.plan.contacts import normalise_phone
from warning.reports import RefusedError
from warning.reports.words import Refusal

_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
#: Markup or script: an HTML/XML tag or comment opening, or a script URL.
_MARKUP = re.compile(r"<\s*[a-zA-Z/!?]|javascript\s*:|data\s*:\s*text/html", re.IGNORECASE)
_NEWLINES = frozenset("\n\t")


@dataclass(frozen=True, slots=True)
class Draft:
    """A report as sent: every field as text (or absent), the photo as bytes."""

    category: str = ""
    lon: object = None
    lat: object = None
    kelurahan: str = ""
    description: str = ""
    phone: str = ""
    photo: bytes | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """A report whose every field is valid: where it is, what, and how to call back."""

    category: ReportCategory
    kelurahan: str
    lon: float | None
    lat: float | None
    description: str
    phone: str | None


def check(draft: Draft, areas: AreaIndex, description_max: int) -> Checked:
    """The valid report, or RefusedError naming the first thing to fix."""
    category = _category(draft.category)
    kelurahan, lon, lat = _location(draft, areas)
    description = _description(draft.description, description_max)
    if not description and not draft.photo:
        raise RefusedError(Refusal.EMPTY)
    return Checked(category, kelurahan, lon, lat, description, _phone(draft.phone))


def _category(word: str) -> ReportCategory:
    """One of the category ids."""
    try:
        return ReportCategory(word.strip())
    except ValueError:
        raise RefusedError(
            Refusal.CATEGORY, choices=", ".join(c.value for c in ReportCategory)
        ) from None


def _location(draft: Draft, areas: AreaIndex) -> tuple[str, float | None, float | None]:
    """The kelurahan (from a GPS position inside the city, else the picker) and the position."""
    if _given(draft.lon) or _given(draft.lat):
        lon, lat = _number(draft.lon), _number(draft.lat)
        found = areas.locate(lon, lat).kelurahan
        if found is None:
            raise RefusedError(Refusal.OUTSIDE)
        return found.id, lon, lat
    chosen = draft.kelurahan.strip()
    if not chosen:
        raise RefusedError(Refusal.NO_LOCATION)
    if chosen not in areas or areas.get(chosen).level is not AreaLevel.KELURAHAN:
        raise RefusedError(Refusal.KELURAHAN)
    return chosen, None, None


def _given(value: object) -> bool:
    """A coordinate was sent (an empty form field is not one)."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def _number(value: object) -> float:
    """A finite coordinate within the globe's range (text from a form, a number from JSON)."""
    if isinstance(value, bool):
        raise RefusedError(Refusal.BAD_COORDINATES)
    try:
        number = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or abs(number) > 180:
        raise RefusedError(Refusal.BAD_COORDINATES)
    return number


def _description(text: str, limit: int) -> str:
    """Plain text within the limit: no markup, no control characters; spaces tidied."""
    cleaned = unicodedata.normalize("NFC", text).strip()
    if len(cleaned) > limit:
        raise RefusedError(Refusal.TOO_LONG, length=len(cleaned), limit=limit)
    if _MARKUP.search(cleaned):
        raise RefusedError(Refusal.MARKUP)
    if any(unicodedata.category(ch)[0] == "C" and ch not in _NEWLINES for ch in cleaned):
        raise RefusedError(Refusal.CONTROL)
    return "\n".join(" ".join(line.split()) for line in cleaned.splitlines()).strip()


def _phone(raw: str) -> str | None:
    """An E.164 number in ASCII digits (08... read as +628...), or None when left empty."""
    phone = normalise_phone(raw.strip())
    if not phone:
        return None
    if phone.startswith("0") and phone[1:].isascii():
        phone = "+62" + phone[1:]
    if not _E164.fullmatch(phone):
        raise RefusedError(Refusal.PHONE)
    return phone


def mask_phone(phone: str | None) -> str:
    """A phone as exports show it: country code and last two digits only."""
    if not phone:
        return ""
    return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]
