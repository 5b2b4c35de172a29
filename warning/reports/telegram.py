"""The Telegram reporting bot: getUpdates long polling, one thread in the console process.

Runs only when a bot token is configured (`TELEGRAM_BOT_TOKEN`, `[telegram]
token_file` or the systemd credential); the Bot API base is `[telegram]
api_base`, so a local Bot API-compatible server stands in for tests.  Each
update is turned into a conversation event (`conversation.step`); a finished
conversation goes through the same `submit` as the web form (same checks,
limits, grouping and notices), its photo downloaded with a size cap first.
Flood control (429 with `retry_after`) and 5xx wait and try again; a wrong
token is logged once and stops the bot, never the console.  The token is part
of every Bot API URL, so no URL or network error text is ever logged.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
import structlog

from warning.areas import AreaIndex, load_areas
from warning.http import backoff_s, retry_after_s
from warning.model import ReportStatus
from warning.reports import RefusedError
from warning.reports.conversation import (
    Chat,
    Event,
    Keyboard,
    Located,
    Photographed,
    Pressed,
    Said,
    Say,
    category_buttons,
    step,
)
from warning.reports.intake import Draft
from warning.reports.submit import Sender, current_contacts, submit
from warning.reports.words import Prompt
from warning.settings import Settings, telegram_token
from warning.store import reports as db
from warning.store.sqlite import Store

log = structlog.get_logger()

#: Seconds a Bot API call may take beyond its long-poll wait.
CALL_TIMEOUT_S = 10.0


class TelegramError(Exception):
    """A failed Bot API call: `transient` ones are tried again after `retry_after` or a backoff."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


class BotApi:
    """The Bot API over HTTPS with timeouts on every call; errors classified, never the URL."""

    def __init__(self, base: str, token: str, session: requests.Session | None = None) -> None:
        self._base = base.rstrip("/")
        self._token = token
        self._session = session or requests.Session()

    def call(self, method: str, params: Mapping[str, Any], wait_s: float = 0.0) -> Any:
        """`method` with `params` (JSON); its `result`, or TelegramError."""
        url = f"{self._base}/bot{self._token}/{method}"
        try:
            reply = self._session.post(
                url, json=dict(params), timeout=(5.0, wait_s + CALL_TIMEOUT_S)
            )
        except requests.RequestException as exc:
            raise TelegramError(f"{method}: {type(exc).__name__}", transient=True) from None
        try:
            body = reply.json()
        except ValueError:
            body = {}
        if reply.status_code == 200 and isinstance(body, dict) and body.get("ok"):
            return body.get("result")
        raise _error(method, reply, body if isinstance(body, dict) else {})

    def download(self, file_path: str, max_bytes: int) -> bytes:
        """A file the Bot API keeps (`getFile`'s path), at most `max_bytes` + 1 bytes read."""
        url = f"{self._base}/file/bot{self._token}/{file_path}"
        try:
            with self._session.get(url, timeout=(5.0, CALL_TIMEOUT_S), stream=True) as reply:
                if reply.status_code != 200:
                    raise TelegramError(f"file: HTTP {reply.status_code}", transient=True)
                data = b""
                for chunk in reply.iter_content(64 * 1024):
                    data += chunk
                    if len(data) > max_bytes:
                        break
                return data
        except requests.RequestException as exc:
            raise TelegramError(f"file: {type(exc).__name__}", transient=True) from None


def _error(method: str, reply: requests.Response, body: Mapping[str, Any]) -> TelegramError:
    """What a refused call means: flood control and server trouble pass, the rest does not."""
    description = str(body.get("description", ""))[:200]
    message = f"{method}: HTTP {reply.status_code} {description}".strip()
    if reply.status_code == 429:
        parameters = body.get("parameters") or {}
        wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
        after = float(wait) if isinstance(wait, int | float) else None
        return TelegramError(
            message,
            transient=True,
            retry_after=after or retry_after_s(reply.headers.get("Retry-After")),
        )
    return TelegramError(message, transient=reply.status_code >= 500)


def event_of(update: Mapping[str, Any]) -> tuple[int, Event, str] | None:
    """(chat id, event, language) of an update the bot understands, else None."""
    query = update.get("callback_query")
    if isinstance(query, dict):
        chat = query.get("message", {}).get("chat", {}).get("id")
        language = str(query.get("from", {}).get("language_code", "id"))
        return (int(chat), Pressed(str(query.get("data", ""))), language) if chat else None
    message = update.get("message")
    if not isinstance(message, dict) or message.get("chat", {}).get("type") != "private":
        return None
    chat = int(message["chat"]["id"])
    language = str(message.get("from", {}).get("language_code", "id"))
    if isinstance(message.get("location"), dict):
        place = message["location"]
        return chat, Located(float(place["longitude"]), float(place["latitude"])), language
    if isinstance(message.get("photo"), list) and message["photo"]:
        largest = message["photo"][-1]
        return (
            chat,
            Photographed(str(largest["file_id"]), str(message.get("caption", ""))),
            language,
        )
    if isinstance(message.get("text"), str):
        return chat, Said(message["text"]), language
    return None


def _markup(say: Say, language: str) -> dict[str, Any] | None:
    """The Bot API reply_markup of a reply's keyboard."""
    if say.keyboard is Keyboard.CATEGORIES:
        return {"inline_keyboard": category_buttons(language)}
    if say.keyboard is Keyboard.LOCATION:
        button = {"text": Prompt.SHARE_LOCATION.text(language), "request_location": True}
        return {"keyboard": [[button]], "resize_keyboard": True, "one_time_keyboard": True}
    if say.keyboard is Keyboard.SKIP:
        return {
            "inline_keyboard": [[{"text": Prompt.SKIP.text(language), "callback_data": "lewati"}]]
        }
    if say.keyboard is Keyboard.REMOVE:
        return {"remove_keyboard": True}
    return None


@dataclass
class Bot:
    """Every chat's conversation and the update offset (in memory: a restart begins anew)."""

    api: BotApi
    store: Store
    settings: Settings
    areas: AreaIndex
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __post_init__(self) -> None:
        self.chats: dict[int, Chat] = {}
        self.offset = 0

    def poll_once(self) -> int:
        """One getUpdates long poll; every update handled (one failing never stops the rest)."""
        wait = self.settings.telegram.poll_timeout_s
        params = {
            "offset": self.offset,
            "timeout": wait,
            "allowed_updates": ["message", "callback_query"],
        }
        updates = self.api.call("getUpdates", params, wait_s=wait)
        for update in updates if isinstance(updates, list) else []:
            self.offset = max(self.offset, int(update.get("update_id", 0)) + 1)
            try:
                self.handle(update)
            except TelegramError as exc:
                log.warning("telegram.reply_failed", error=str(exc))
            except Exception:
                log.exception("telegram.update_failed", update_id=update.get("update_id"))
        return len(updates) if isinstance(updates, list) else 0

    def handle(self, update: Mapping[str, Any]) -> None:
        """One update: answer a button press, step the conversation, submit when complete."""
        found = event_of(update)
        if found is None:
            return
        chat_id, event, language = found
        if isinstance(event, Pressed):
            self.api.call(
                "answerCallbackQuery", {"callback_query_id": update["callback_query"]["id"]}
            )
        if isinstance(event, Said) and event.text.strip().lower().startswith("/status"):
            self._status(chat_id, event.text, language)
            return
        turn = step(self.chats.get(chat_id), event, self.areas, "en" if language == "en" else "id")
        if turn.chat is None:
            self.chats.pop(chat_id, None)
        else:
            self.chats[chat_id] = turn.chat
        for say in turn.replies:
            self.send(chat_id, say, turn.chat.language if turn.chat else language)
        if turn.done is not None:
            self._submit(chat_id, turn.done)

    def send(self, chat_id: int, say: Say, language: str) -> None:
        """sendMessage with the reply's keyboard."""
        params: dict[str, Any] = {"chat_id": chat_id, "text": say.text}
        markup = _markup(say, language)
        if markup is not None:
            params["reply_markup"] = markup
        self.api.call("sendMessage", params)

    def _submit(self, chat_id: int, chat: Chat) -> None:
        """The finished conversation through `submit`; the code or the reason to the user."""
        reports = self.settings.reports
        try:
            photo = self._photo(chat.photo_id, reports.photo_max_bytes) if chat.photo_id else None
        except TelegramError as exc:
            # The photo could not be fetched: say so rather than keep a report without it.
            log.warning("telegram.photo_failed", error=str(exc))
            self.send(chat_id, Say(Prompt.BUSY.text(chat.language), Keyboard.REMOVE), chat.language)
            return
        try:
            draft = Draft(
                chat.category, chat.lon, chat.lat, chat.kelurahan, chat.description, "", photo
            )
            device = f"telegram:{chat_id}"
            receipt = submit(
                self.store,
                draft,
                Sender("telegram", device, device),
                areas=self.areas,
                contacts=current_contacts(self.settings, self.areas),
                settings=reports,
                now=self.clock(),
            )
        except RefusedError as exc:
            text = Prompt.REFUSED.text(chat.language).format(reason=exc.message(chat.language))
            self.send(chat_id, Say(text, Keyboard.REMOVE), chat.language)
            return
        link = f"{self.settings.console.public_url.rstrip('/')}/lapor/{receipt.code}"
        text = Prompt.RECEIVED.text(chat.language).format(code=receipt.code, link=link)
        self.send(chat_id, Say(text, Keyboard.REMOVE), chat.language)

    def _photo(self, file_id: str, max_bytes: int) -> bytes:
        """Download a photo the user sent (getFile, then the file), capped."""
        found = self.api.call("getFile", {"file_id": file_id})
        path = found.get("file_path") if isinstance(found, dict) else None
        if not path:
            raise TelegramError("getFile: no file_path", transient=False)
        return self.api.download(str(path), max_bytes)

    def _status(self, chat_id: int, text: str, language: str) -> None:
        """`/status CODE`: the report's status."""
        code = text.strip()[len("/status") :].strip().upper()
        found = db.find(self.store, code) if code.isalnum() else None
        if found is None:
            reply = Prompt.NO_SUCH_CODE.text(language)
        else:
            reply = Prompt.STATUS.text(language).format(
                code=code, status=_status_word(found.status)
            )
        self.send(chat_id, Say(reply), language)

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set; transient failures wait and retry, a permanent one ends."""
        failures = 0
        rng = random.Random()  # noqa: S311 - jitter, not secrecy
        while not stop.is_set():
            try:
                self.poll_once()
                failures = 0
            except TelegramError as exc:
                if not exc.transient:
                    log.error("telegram.stopped", error=str(exc))  # noqa: TRY400 - a refusal, not a bug
                    return
                failures += 1
                wait = exc.retry_after or backoff_s(failures, 1.0, 60.0, rng)
                if failures == 1:
                    log.warning("telegram.poll_failed", error=str(exc), retry_in_s=wait)
                stop.wait(wait)


def _status_word(status: ReportStatus) -> str:
    """The status as the status page words it (Bahasa Indonesia: the statuses' own names)."""
    return status.value


@dataclass
class Running:
    """A started bot thread."""

    thread: threading.Thread
    stop_event: threading.Event

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait a bounded time (a long poll ends on its own)."""
        self.stop_event.set()
        self.thread.join(timeout)


def start_bot(settings: Settings) -> Running | None:
    """Start the bot in a daemon thread when a token is configured; None otherwise."""
    token = telegram_token(settings.telegram)
    if not token:
        return None
    areas = load_areas(settings.areas_path, settings.areas.min_polygon_share)
    bot = Bot(
        BotApi(settings.telegram.api_base, token), Store(settings.state_path), settings, areas
    )
    stop = threading.Event()
    thread = threading.Thread(target=bot.run, args=(stop,), name="telegram-bot", daemon=True)
    thread.start()
    log.info("telegram.started", api_base=settings.telegram.api_base)
    return Running(thread, stop)
