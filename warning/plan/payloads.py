"""Typed delivery payloads: what the planner writes into the outbox and a channel reads back.

`SirenCommand` is what a siren trigger's `command` says.  `CapAlert` is the
CAP channel's contract, written by the planner (rule changes), manual alerts
and operator cancels, stored as JSON in the outbox row, and read back by the
CAP writer and by a later cancel: one declaration with `to_json` /
`from_json` instead of dicts built in three places.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warning.model import Level, ObservationKind, SirenCommand, required_text, utc


def siren_payload(
    command: SirenCommand, duration_s: int, change_id: str, *, drill: bool
) -> dict[str, Any]:
    """A siren trigger's payload, which is exactly the body its controller receives."""
    return {
        "command": command.value,
        "duration_s": duration_s,
        "change_id": change_id,
        "drill": drill,
    }


class CapChange(enum.Enum):
    """The alert change a CAP payload reports (the payload's `transition`)."""

    FIRED = "fired"
    ESCALATED = "escalated"
    DEESCALATED = "deescalated"
    UPDATED = "updated"  # same level, a bulletin people act on changed (arrival, validity)
    REMINDER = "reminder"
    RESOLVED = "resolved"
    TIMED_OUT = "timed_out"
    CANCELLED_BY_OPERATOR = "cancelled_by_operator"

    @property
    def ends(self) -> bool:
        """True when the alert is over after this change."""
        return self in _ENDINGS


#: Where the area goes in a `description_form` (a placeholder no value can print).
AREA_SLOT = "{area}"

_ENDINGS = frozenset({CapChange.RESOLVED, CapChange.TIMED_OUT, CapChange.CANCELLED_BY_OPERATOR})


@dataclass(frozen=True, slots=True)
class CapAlert:
    """One CAP payload: an alert change, its areas and its texts in every language."""

    change_id: str
    rule_id: str
    kind: ObservationKind
    change: CapChange
    level: Level
    area_ids: tuple[str, ...]
    sent: datetime
    expires: datetime | None
    drill: bool
    headline: Mapping[str, str]
    description: Mapping[str, str]
    instruction: Mapping[str, str]
    values: Mapping[str, Any] = field(default_factory=dict)
    event_id: str | None = None
    episodes: tuple[str, ...] = ()
    dedup_key: str = ""
    rule_name: str = ""
    previous_level: Level | None = None
    #: The kelurahan of each episode, so that the CAP writer can tell a partial
    #: ending (some kelurahan end, others stay warned) from the end of all.
    episode_areas: Mapping[str, str] = field(default_factory=dict)
    #: The description per language with `{area}` still open (AREA_SLOT), so that a
    #: narrowing Update restates the warning for the kelurahan still warned only.
    description_form: Mapping[str, str] = field(default_factory=dict)

    def description_for(self, where: Mapping[str, str]) -> dict[str, str]:
        """The description naming `where` (per language), else the written description."""
        if not self.description_form:
            return dict(self.description)
        return {
            lang: form.replace(AREA_SLOT, where.get(lang, where.get("id", "")))
            for lang, form in self.description_form.items()
        }

    def to_json(self) -> dict[str, Any]:
        """The outbox row's JSON payload."""
        return {
            "change_id": self.change_id,
            "dedup_key": self.dedup_key,
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "kind": self.kind.value,
            "transition": self.change.value,
            "level": self.level.value,
            "previous_level": self.previous_level.value if self.previous_level else None,
            "area_ids": list(self.area_ids),
            "sent": self.sent.isoformat(),
            "event_id": self.event_id,
            "values": dict(self.values),
            "drill": self.drill,
            "episodes": list(self.episodes),
            "episode_areas": dict(self.episode_areas),
            "description_form": dict(self.description_form),
            "headline": dict(self.headline),
            "description": dict(self.description),
            "instruction": dict(self.instruction),
            "expires": self.expires.isoformat() if self.expires else None,
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> CapAlert:
        """The CapAlert of a stored payload; ValueError naming the first thing wrong."""
        try:
            previous = payload.get("previous_level")
            change_id = _required_text(_renamed(payload), "change_id")
            return cls(
                change_id=change_id,
                rule_id=_required_text(payload, "rule_id"),
                kind=ObservationKind(payload["kind"]),
                change=CapChange(payload["transition"]),
                level=Level(payload["level"]),
                area_ids=tuple(str(a) for a in payload["area_ids"]),
                sent=_time(payload["sent"]),
                expires=_time(payload["expires"]) if payload.get("expires") else None,
                drill=bool(payload.get("drill", False)),
                headline=_texts(payload, "headline"),
                description=_texts(payload, "description"),
                instruction=_texts(payload, "instruction"),
                values=dict(payload.get("values") or {}),
                event_id=payload.get("event_id"),
                episodes=tuple(str(e) for e in payload.get("episodes") or [change_id]),
                dedup_key=str(payload.get("dedup_key") or ""),
                rule_name=str(payload.get("rule_name") or ""),
                previous_level=Level(previous) if previous else None,
                episode_areas={
                    str(e): str(a) for e, a in (payload.get("episode_areas") or {}).items()
                },
                description_form=_texts(payload, "description_form"),
            )
        except KeyError as exc:
            raise ValueError(f"CAP payload lacks or names unknown {exc}") from None
        except TypeError as exc:
            raise ValueError(f"CAP payload malformed: {exc}") from None


#: The key CAP journals written before the change id had its own name use for it.
_LEGACY_CHANGE_KEY = "alert_id"


def _renamed(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """`payload` with the change id under `change_id`, also when an older journal wrote it."""
    if "change_id" in payload or _LEGACY_CHANGE_KEY not in payload:
        return payload
    return {**payload, "change_id": payload[_LEGACY_CHANGE_KEY]}


def _required_text(payload: Mapping[str, Any], key: str) -> str:
    """A non-empty string field."""
    return required_text(
        payload, key, lambda _value: ValueError(f"CAP payload {key} must be a non-empty string")
    )


def _time(value: Any) -> datetime:
    """An aware ISO-8601 time."""
    return utc(datetime.fromisoformat(str(value)))


def _texts(payload: Mapping[str, Any], key: str) -> Mapping[str, str]:
    """A {language: text} field; languages without text are left out."""
    raw = payload.get(key) or {}
    if not isinstance(raw, Mapping):
        raise TypeError(f"{key} must map languages to text")
    return {lang: str(text) for lang, text in raw.items() if text}


@dataclass(frozen=True, slots=True)
class BroadcastPost:
    """One post to a Telegram chat, an ntfy topic or a webhook: an alert change in words.

    `text` is the whole post as people read it (Bahasa Indonesia, marked
    `LATIHAN` in a drill, naming the areas and saying what to do); the other
    fields are what a webhook receiver (radio, TV, mosque speakers) reads, in
    CAP's terms (`cap_fields`).
    """

    change_id: str
    rule_id: str
    change: CapChange
    level: Level | None  # None: a notice about the system, not an alert
    area_ids: tuple[str, ...]
    area_names: tuple[str, ...]
    headline: str
    text: str
    sent: datetime
    drill: bool
    audience: str = "public"

    def to_json(self) -> dict[str, Any]:
        """The outbox row's JSON payload."""
        return {
            "change_id": self.change_id,
            "rule_id": self.rule_id,
            "transition": self.change.value,
            "level": None if self.level is None else self.level.value,
            "area_ids": list(self.area_ids),
            "area_names": list(self.area_names),
            "headline": self.headline,
            "text": self.text,
            "sent": self.sent.isoformat(),
            "drill": self.drill,
            "audience": self.audience,
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> BroadcastPost:
        """The post of a stored payload; ValueError naming the first thing wrong."""
        try:
            return cls(
                change_id=_required_text(payload, "change_id"),
                rule_id=str(payload["rule_id"]),
                change=CapChange(payload["transition"]),
                level=None if payload["level"] is None else Level(payload["level"]),
                area_ids=tuple(str(a) for a in payload["area_ids"]),
                area_names=tuple(str(a) for a in payload["area_names"]),
                headline=str(payload["headline"]),
                text=_required_text(payload, "text"),
                sent=_time(payload["sent"]),
                drill=bool(payload["drill"]),
                audience=str(payload.get("audience") or "public"),
            )
        except KeyError as exc:
            raise ValueError(f"broadcast payload lacks {exc}") from None
        except TypeError as exc:
            raise ValueError(f"broadcast payload malformed: {exc}") from None

    def cap_fields(self) -> dict[str, Any]:
        """The webhook body: CAP's words for the change (status, msgType) and the post."""
        return {
            "identifier": self.change_id,
            "sent": self.sent.isoformat(),
            "status": "Exercise" if self.drill else "Actual",
            "msgType": _MSG_TYPE.get(self.change, "Update"),
            "event": self.rule_id,
            "transition": self.change.value,
            "level": None if self.level is None else self.level.value,
            "severity": "Unknown" if self.level is None else _SEVERITY[self.level],
            "headline": self.headline,
            "description": self.text,
            "areas": [
                {"id": i, "name": n} for i, n in zip(self.area_ids, self.area_names, strict=False)
            ],
            "audience": self.audience,
        }


#: CAP msgType of a change (everything else updates the alert it follows).
_MSG_TYPE = {CapChange.FIRED: "Alert", CapChange.CANCELLED_BY_OPERATOR: "Cancel"}
#: CAP severity of a level, as the CAP writer maps it.
_SEVERITY = {Level.WASPADA: "Moderate", Level.SIAGA: "Severe", Level.AWAS: "Extreme"}
