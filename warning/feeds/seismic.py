"""Helpers the Indonesian seismic feeds share: WIB text times, hemispheres, tsunami wording.

Sources (see ../shared/FEEDS.md A1, A2):
- BMKG and InaTEWS stamp local text times in WIB (UTC+7) whatever the event's zone.
- Unsigned hemispheres: `0.14 LS` (south), `1.04 LU` (north), `133.02 BT` (east),
  `BB` (west; none seen in real payloads but part of the notation).
- The real tsunami wording is "Potensi tsunami untuk diteruskan pada masyarakat";
  "Tidak berpotensi tsunami" is the negative; felt reports say "Gempa ini
  dirasakan ...".  A substring test for "berpotensi tsunami" is wrong twice.
"""

from __future__ import annotations

import re
from datetime import datetime

from warning.feeds.base import ItemError, in_range, number, rounded
from warning.model import WIB, utc

#: Indonesian (and English, for safety) month abbreviations in `Tanggal`.
MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "mei": 5, "may": 5, "jun": 6, "jul": 7,
    "agu": 8, "agt": 8, "aug": 8, "sep": 9, "okt": 10, "oct": 10, "nov": 11, "des": 12,
    "dec": 12,
}  # fmt: skip

_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2}):(\d{2})\s*(WIB)?\s*$", re.I)
_HEMISPHERE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(LS|LU|BT|BB)\s*$", re.I)
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9,
          "X": 10, "XI": 11, "XII": 12}  # fmt: skip


def wib_clock(date: tuple[int, int, int], clock: str) -> datetime:
    """A WIB `hh:mm:ss [WIB]` on (year, month, day), as aware UTC."""
    match = _CLOCK.match(clock)
    if not match:
        raise ItemError(f"time {clock!r} is not hh:mm:ss WIB")
    hour, minute, second = (int(g) for g in match.groups()[:3])
    try:
        return utc(datetime(*date, hour, minute, second, tzinfo=WIB))
    except (ValueError, OverflowError) as exc:
        raise ItemError(f"impossible date or time: {exc}") from None


def tanggal(text: str) -> tuple[int, int, int]:
    """`13 Okt 2021` -> (2021, 10, 13)."""
    parts = text.split()
    if len(parts) != 3 or parts[1][:3].lower() not in MONTHS:
        raise ItemError(f"date {text!r} is not like '13 Okt 2021'")
    day, year = number(parts[0], "day"), number(parts[2], "year")
    return int(year), MONTHS[parts[1][:3].lower()], int(day)


def hemisphere(value: str) -> float:
    """`0.14 LS` -> -0.14, `133.02 BT` -> 133.02, `10.5 BB` -> -10.5."""
    match = _HEMISPHERE.match(value)
    if not match:
        raise ItemError(f"{value!r} is not like '0.14 LS' or '133.02 BT'")
    magnitude, side = float(match.group(1)), match.group(2).upper()
    return -magnitude if side in ("LS", "BB") else magnitude


def hemisphere_point(latitude: str, longitude: str) -> tuple[float, float]:
    """(lon, lat) from unsigned `Lintang` / `Bujur` texts."""
    lat = in_range(hemisphere(latitude), -90.0, 90.0, "latitude")
    lon = in_range(hemisphere(longitude), -180.0, 180.0, "longitude")
    return rounded(lon), rounded(lat)


def tsunami_potential(text: str | None) -> bool | None:
    """True for the real warning wording, False for "Tidak berpotensi", None otherwise."""
    if not text:
        return None
    lowered = text.lower()
    if "tidak" in lowered:
        return False
    if "potensi tsunami" in lowered:
        return True
    return None


def max_mmi(felt: str | None) -> int | None:
    """Highest MMI in `III Manado, II-III Ternate` (the upper end of ranges); None if none."""
    if not felt:
        return None
    found = [_ROMAN[token] for token in re.findall(r"\b[IVX]+\b", felt) if token in _ROMAN]
    return max(found) if found else None
