"""A report by Telegram conversation, as a pure state machine: (chat, event) -> turn.

Category (buttons) -> location (a shared location, or a kelurahan typed by
name) -> photo (or skip) -> description -> a finished draft for `submit`.
`/lapor` or `/start` begins, `/batal` cancels at any step.  The bot's runner
(`telegram.py`) turns updates into events and sends the replies; nothing
here talks to the network or the store.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace

from warning.areas import AreaIndex
from warning.model import ReportCategory
from warning.reports.words import CATEGORY_NAMES, Prompt

START = frozenset({"/start", "/lapor", "lapor"})
CANCEL = frozenset({"/batal", "batal", "/cancel"})
SKIP = "lewati"


class Step(enum.Enum):
    """What the bot waits for next."""

    CATEGORY = "category"
    LOCATION = "location"
    PHOTO = "photo"
    DESCRIPTION = "description"


@dataclass(frozen=True, slots=True)
class Chat:
    """One conversation so far."""

    step: Step
    language: str = "id"
    category: str = ""
    lon: float | None = None
    lat: float | None = None
    kelurahan: str = ""
    photo_id: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Said:
    """The user wrote text."""

    text: str


@dataclass(frozen=True, slots=True)
class Pressed:
    """The user pressed an inline button."""

    data: str


@dataclass(frozen=True, slots=True)
class Located:
    """The user shared a location."""

    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Photographed:
    """The user sent a photo (its largest size's file id); a caption counts as description."""

    file_id: str
    caption: str = ""


Event = Said | Pressed | Located | Photographed


class Keyboard(enum.Enum):
    """What buttons go with a reply."""

    NONE = "none"
    CATEGORIES = "categories"
    LOCATION = "location"
    SKIP = "skip"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class Say:
    """One message to send."""

    text: str
    keyboard: Keyboard = Keyboard.NONE


@dataclass(frozen=True, slots=True)
class Turn:
    """The conversation after an event: its state (None: over), replies, a finished report."""

    chat: Chat | None
    replies: tuple[Say, ...] = ()
    done: Chat | None = None


def step(chat: Chat | None, event: Event, areas: AreaIndex, language: str = "id") -> Turn:
    """The next turn of the conversation."""
    words = event.text.strip().lower() if isinstance(event, Said) else ""
    if words in START or chat is None:
        begun = Chat(Step.CATEGORY, language)
        return Turn(begun, (Say(Prompt.CATEGORY.text(language), Keyboard.CATEGORIES),))
    if words in CANCEL:
        return Turn(None, (Say(Prompt.CANCELLED.text(chat.language), Keyboard.REMOVE),))
    if chat.step is Step.CATEGORY:
        return _category(chat, event)
    if chat.step is Step.LOCATION:
        return _location(chat, event, areas)
    if chat.step is Step.PHOTO:
        return _photo(chat, event)
    return _description(chat, event)


def _ask(chat: Chat, prompt: Prompt, keyboard: Keyboard = Keyboard.NONE) -> Turn:
    """Stay, or move on, and ask."""
    return Turn(chat, (Say(prompt.text(chat.language), keyboard),))


def _category(chat: Chat, event: Event) -> Turn:
    """A category button (or its id typed)."""
    chosen = event.data if isinstance(event, Pressed) else getattr(event, "text", "").strip()
    if chosen.lower() not in {c.value for c in ReportCategory}:
        return _ask(chat, Prompt.CATEGORY, Keyboard.CATEGORIES)
    moved = replace(chat, step=Step.LOCATION, category=chosen.lower())
    return _ask(moved, Prompt.LOCATION, Keyboard.LOCATION)


def _location(chat: Chat, event: Event, areas: AreaIndex) -> Turn:
    """A shared location, or a kelurahan typed by name."""
    if isinstance(event, Located):
        moved = replace(chat, step=Step.PHOTO, lon=event.lon, lat=event.lat)
        return _ask(moved, Prompt.PHOTO, Keyboard.SKIP)
    if isinstance(event, Said):
        found = kelurahan_named(event.text, areas)
        if found:
            return _ask(
                replace(chat, step=Step.PHOTO, kelurahan=found), Prompt.PHOTO, Keyboard.SKIP
            )
    return _ask(chat, Prompt.UNKNOWN_PLACE, Keyboard.LOCATION)


def _photo(chat: Chat, event: Event) -> Turn:
    """A photo (its caption may be the description), or skip."""
    if isinstance(event, Photographed):
        moved = replace(chat, step=Step.DESCRIPTION, photo_id=event.file_id)
        if event.caption.strip():
            return _finish(replace(moved, description=event.caption))
        return _ask(moved, Prompt.DESCRIPTION, Keyboard.REMOVE)
    skipped = isinstance(event, Pressed) and event.data == SKIP
    if skipped or (
        isinstance(event, Said) and event.text.strip().lower() in {SKIP, "/lewati", "skip"}
    ):
        return _ask(replace(chat, step=Step.DESCRIPTION), Prompt.DESCRIPTION, Keyboard.REMOVE)
    if isinstance(event, Said) and event.text.strip():
        # Words instead of a photo: that is the description.
        return _finish(replace(chat, description=event.text))
    return _ask(chat, Prompt.PHOTO, Keyboard.SKIP)


def _description(chat: Chat, event: Event) -> Turn:
    """The description ends the conversation."""
    if isinstance(event, Said) and event.text.strip():
        return _finish(replace(chat, description=event.text))
    return _ask(chat, Prompt.DESCRIPTION)


def _finish(chat: Chat) -> Turn:
    """The report is complete: the runner submits it and says how it went."""
    return Turn(None, (), chat)


def kelurahan_named(text: str, areas: AreaIndex) -> str:
    """The id of the kelurahan a person typed (any case, spaces or dashes), or ""."""
    key = _key(text.removeprefix("kelurahan").removeprefix("Kelurahan"))
    for area in areas.kelurahan:
        if key and key in (_key(area.name), _key(area.id)):
            return area.id
    return ""


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def category_buttons(language: str) -> list[list[dict[str, str]]]:
    """The inline keyboard of categories, two to a row."""
    index = 1 if language == "en" else 0
    buttons = [
        {"text": names[index], "callback_data": cid} for cid, names in CATEGORY_NAMES.items()
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
