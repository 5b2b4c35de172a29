"""Residents' reports: intake (web and Telegram), verification, observations for the rules.

A report is refused whole or kept whole: `intake` validates every field (and
`photos` re-encodes the photo) before anything is written; `submit` checks the
rate limits, groups duplicates, keeps the report and enqueues its notice in one
transaction.  Operators verify or reject (`verify`, audited); only verified
reports become observations of kind `report` (`observe`) that the daemon feeds
to the rule engine like any feed's.  Nothing unverified reaches a siren or the
public.
"""

from __future__ import annotations

from warning.reports.words import Refusal

__all__ = ["RateLimitedError", "Refusal", "RefusedError", "ReportError"]


class RefusedError(Exception):
    """A report that cannot be accepted; `refusal` says why in the reporter's language."""

    def __init__(self, refusal: Refusal, **details: object) -> None:
        self.refusal = refusal
        self.details = details
        super().__init__(refusal.name.lower())

    def message(self, language: str = "id") -> str:
        """The reporter's answer in their language (Bahasa Indonesia by default)."""
        return self.refusal.text(language).format(**self.details)


class RateLimitedError(RefusedError):
    """Too many reports from one device, one address or for one kelurahan (HTTP 429)."""


class ReportError(Exception):
    """An operator's decision on a report that cannot be carried out, in their words."""
