"""Who hears of a new resident's report, and the words they read (pure).

A new report is unverified: it goes to the duty officers (every report) and to
the contacts of the groups named for its category who cover its kelurahan
(`[reports] groups`, e.g. RT heads for floods, siskamling for suspicious
events), never to residents at large and never to a siren.  The notice names
the category, the place, the time and the tracking code; the reporter's own
words stay out of it: an SMS from the city must not carry a stranger's text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from warning.model import WITA, ChangeKind, PlannedDelivery, ReportCategory
from warning.plan.contacts import Contact
from warning.plan.messages import cut_units, render_plain
from warning.plan.planner import operator_sms

#: How a category reads in a notice (GSM-7, short: one SMS holds everything).
CATEGORY_WORDS: Mapping[ReportCategory, str] = MappingProxyType(
    {
        ReportCategory.BANJIR: "BANJIR",
        ReportCategory.LONGSOR: "TANAH LONGSOR",
        ReportCategory.KEBAKARAN: "KEBAKARAN",
        ReportCategory.POHON_TUMBANG: "POHON TUMBANG",
        ReportCategory.GEMPA_TERASA: "GEMPA TERASA",
        ReportCategory.AIR_LAUT: "AIR LAUT SURUT/NAIK TIBA-TIBA",
        ReportCategory.MENCURIGAKAN: "KEJADIAN MENCURIGAKAN",
        ReportCategory.LAINNYA: "KEJADIAN LAIN",
    }
)

NOTICE = (
    "LAPORAN WARGA {category} di {place} {time} WITA, kode {code}. BELUM diverifikasi: "
    "cek lokasi, jangan sebarkan. Verifikasi di konsol Pusdalops."
)


def notice_text(category: ReportCategory, place: str, code: str, made: datetime) -> str:
    """One SMS (GSM-7, 160) telling officials of a new, unverified report."""
    time = made.astimezone(WITA).strftime("%H.%M")
    text = NOTICE.format(category=CATEGORY_WORDS[category], place=place, time=time, code=code)
    return cut_units(render_plain(text), 160)


def notice_groups(
    category: ReportCategory, duty: Sequence[str], pairs: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(groups told wherever the report is, groups told when they cover its kelurahan)."""
    local = tuple(g for c, _, g in (p.partition(":") for p in pairs) if c == category.value)
    return tuple(duty), local


def notice_recipients(
    contacts: Sequence[Contact],
    category: ReportCategory,
    kelurahan: str,
    duty: Sequence[str],
    pairs: Sequence[str],
) -> list[str]:
    """Phones of the duty officers and of the category's groups covering the kelurahan."""
    everywhere, local = notice_groups(category, duty, pairs)
    # `public` can never be configured (settings refuse it); this keeps it out regardless.
    chosen = [
        c.phone
        for c in contacts
        if c.group != "public"
        and (c.group in everywhere or (c.group in local and kelurahan in c.areas))
    ]
    return list(dict.fromkeys(chosen))


def report_notice(
    code: str,
    category: ReportCategory,
    place: str,
    phones: Sequence[str],
    made: datetime,
) -> list[PlannedDelivery]:
    """The SMS of one new report, as deliveries of the change `laporan-<code>`."""
    body = notice_text(category, place, code, made)
    # One subject per report: a notice never supersedes another report's notice.
    return operator_sms(
        f"laporan-{code}", ChangeKind.REPORT, phones, body, subject=code, drill=False, now=made
    )
