"""The Telegram bot against a local Bot API-compatible peer (tests/support/peers/telegram.py).

The bot is the real `Bot` over real HTTP to the peer, on a real store with
the test contacts: a conversation ends in the same `submit` as the web form.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from PIL import Image

from tests.support.peers.telegram import TOKEN, TelegramServer
from tests.support.pipeline import write_settings
from tests.support.reports import JAKARTA, MANGGAR, jpeg
from warning.areas import AreaIndex
from warning.model import ReportStatus
from warning.reports.telegram import Bot, BotApi, start_bot
from warning.settings import ReportsSettings, Settings, TelegramSettings
from warning.store import reports as db
from warning.store.sqlite import Store

CHAT = 5550001
#: Before every test report.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def peer() -> Iterator[TelegramServer]:
    """A running local Bot API."""
    with TelegramServer() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, peer: TelegramServer) -> Settings:
    """Test settings with `[telegram] api_base` at the peer and short long polls."""
    found = write_settings(tmp_path, feeds={})
    return dataclasses.replace(
        found, telegram=TelegramSettings(api_base=peer.url, poll_timeout_s=1)
    )


def make_bot(settings: Settings, areas: AreaIndex, token: str = TOKEN) -> Bot:
    """The bot on the settings' store."""
    return Bot(
        BotApi(settings.telegram.api_base, token), Store(settings.state_path), settings, areas
    )


@pytest.fixture
def bot_parts(
    settings: Settings, areas: AreaIndex, peer: TelegramServer
) -> tuple[Bot, TelegramServer]:
    """A bot and its peer."""
    return make_bot(settings, areas), peer


def talk(bot: Bot, peer: TelegramServer, *, replies: int) -> list[str]:
    """Poll until the bot has sent `replies` messages in all; their texts."""
    deadline = time.monotonic() + 10
    while len(peer.sent()) < replies and time.monotonic() < deadline:
        bot.poll_once()
    return [s.text for s in peer.sent()]


def test_a_report_by_conversation_with_location_and_photo(
    bot_parts: tuple[Bot, TelegramServer],
) -> None:
    """Buttons, a shared location, a photo with EXIF, words: received with a code; photo clean."""
    bot, peer = bot_parts
    peer.push_text(CHAT, "/lapor")
    first = talk(bot, peer, replies=1)
    keyboard = peer.sent()[0].params["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for row in keyboard for b in row][:2] == ["banjir", "longsor"]
    assert first[0].startswith("Laporan darurat ke BPBD")
    peer.push_button(CHAT, "banjir")
    talk(bot, peer, replies=2)
    button = peer.sent()[1].params["reply_markup"]["keyboard"][0][0]
    assert button == {"text": "Kirim lokasi saya", "request_location": True}
    assert len(peer.sent("answerCallbackQuery")) == 1
    peer.push_location(CHAT, *MANGGAR)
    talk(bot, peer, replies=3)
    peer.push_photo(CHAT, jpeg((800, 600), make="SpyPhone", gps=True))
    talk(bot, peer, replies=4)
    peer.push_text(CHAT, "Air masuk rumah setinggi lutut")
    texts = talk(bot, peer, replies=5)
    assert texts[-1].startswith("Laporan diterima. Kode: ")
    code = texts[-1].split("Kode: ")[1][:6]
    kept = db.find(bot.store, code)
    assert kept is not None
    assert (kept.channel, kept.category.value, kept.kelurahan) == ("telegram", "banjir", "manggar")
    assert kept.status is ReportStatus.RECEIVED
    photo = db.photo(bot.store, code)
    assert photo is not None
    assert b"SpyPhone" not in photo.data
    assert not Image.open(io.BytesIO(photo.data)).getexif()


def test_a_kelurahan_typed_by_name_and_a_skipped_photo(
    bot_parts: tuple[Bot, TelegramServer],
) -> None:
    """`manggar baru` is Manggar Baru; `Lewati` skips the photo."""
    bot, peer = bot_parts
    for send in (
        lambda: peer.push_text(CHAT, "/start"),
        lambda: peer.push_button(CHAT, "pohon-tumbang"),
        lambda: peer.push_text(CHAT, "manggar baru"),
        lambda: peer.push_button(CHAT, "lewati"),
        lambda: peer.push_text(CHAT, "Pohon besar menutup jalan"),
    ):
        send()
        talk(bot, peer, replies=len(peer.sent()) + 1)
    code = peer.sent()[-1].text.split("Kode: ")[1][:6]
    kept = db.find(bot.store, code)
    assert kept is not None
    assert (kept.kelurahan, kept.has_photo) == ("manggar-baru", False)


def test_an_unknown_place_is_asked_again(bot_parts: tuple[Bot, TelegramServer]) -> None:
    """A typed place that is no kelurahan: asked again, nothing stored."""
    bot, peer = bot_parts
    peer.push_text(CHAT, "/lapor")
    peer.push_button(CHAT, "banjir")
    peer.push_text(CHAT, "Samarinda")
    texts = talk(bot, peer, replies=3)
    assert texts[-1].startswith("Kelurahan tidak dikenal.")
    assert db.queue(bot.store, EPOCH) == []


def test_a_location_outside_balikpapan_is_refused_with_the_reason(
    bot_parts: tuple[Bot, TelegramServer],
) -> None:
    """A location in Jakarta: the refusal says why; nothing stored."""
    bot, peer = bot_parts
    peer.push_text(CHAT, "/lapor")
    peer.push_button(CHAT, "kebakaran")
    peer.push_location(CHAT, *JAKARTA)
    peer.push_text(CHAT, "lewati")
    peer.push_text(CHAT, "Rumah terbakar")
    texts = talk(bot, peer, replies=5)
    assert texts[-1].startswith("Laporan belum bisa diterima: Lokasi di luar Kota Balikpapan.")
    assert db.queue(bot.store, EPOCH) == []  # type: ignore[arg-type]


def test_one_chat_is_rate_limited_like_one_device(
    settings: Settings, areas: AreaIndex, peer: TelegramServer
) -> None:
    """`device_per_hour` counts a Telegram chat as a device."""
    limited = dataclasses.replace(settings, reports=ReportsSettings(device_per_hour=1))
    bot = make_bot(limited, areas)
    for _ in range(2):
        peer.push_text(CHAT, "/lapor")
        peer.push_button(CHAT, "lainnya")
        peer.push_text(CHAT, "lamaru")
        peer.push_text(CHAT, "Kabel listrik putus di jalan")
        talk(bot, peer, replies=len(peer.sent()) + 4)
    texts = [s.text for s in peer.sent()]
    assert texts[3].startswith("Laporan diterima.")
    assert texts[-1].startswith("Laporan belum bisa diterima: Terlalu banyak laporan")


def test_status_by_code(bot_parts: tuple[Bot, TelegramServer]) -> None:
    """`/status CODE` answers the report's status; an unknown code says so."""
    bot, peer = bot_parts
    for text in ("/lapor", "kebakaran", "teritip", "Asap tebal"):
        peer.push_text(CHAT, text)
    code = talk(bot, peer, replies=4)[-1].split("Kode: ")[1][:6]
    peer.push_text(CHAT, f"/status {code.lower()}")
    peer.push_text(CHAT, "/status ZZZZZZ")
    texts = talk(bot, peer, replies=6)
    assert texts[-2:] == [f"Laporan {code}: diterima.", "Kode laporan tidak dikenal."]


def run_in_thread(bot: Bot) -> tuple[threading.Thread, threading.Event]:
    """`Bot.run` as the console runs it."""
    stop = threading.Event()
    thread = threading.Thread(target=bot.run, args=(stop,), daemon=True)
    thread.start()
    return thread, stop


@pytest.mark.parametrize(("status", "retry_after"), [(429, 1), (502, None)])
def test_flood_control_and_server_errors_wait_and_retry(
    bot_parts: tuple[Bot, TelegramServer], status: int, retry_after: int | None
) -> None:
    """429 waits `retry_after` seconds; 502 backs off; then the conversation goes on."""
    bot, peer = bot_parts
    peer.fail_next(2, status, retry_after)
    peer.push_text(CHAT, "/lapor")
    started = time.monotonic()
    thread, stop = run_in_thread(bot)
    try:
        assert len(peer.wait_sent(1, timeout=15)) == 1
    finally:
        stop.set()
        thread.join(10)
    polls = [r for r in peer.received("/bot") if r.path.endswith("/getUpdates")]
    assert len(polls) >= 3
    if retry_after:
        assert polls[2].at - polls[0].at >= 2 * retry_after - 0.1
    assert time.monotonic() - started < 15


def test_a_wrong_token_stops_the_bot_without_logging_the_token(
    settings: Settings, areas: AreaIndex, peer: TelegramServer
) -> None:
    """401: one log line, the loop ends, and no line holds the token."""
    bot = make_bot(settings, areas, token="999:salah-token-rahasia")
    with structlog.testing.capture_logs() as logs:
        thread, stop = run_in_thread(bot)
        thread.join(10)
    assert not thread.is_alive()
    stop.set()
    assert [e["event"] for e in logs] == ["telegram.stopped"]
    assert "salah-token-rahasia" not in repr(logs)


def test_no_token_means_no_bot(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without TELEGRAM_BOT_TOKEN or token_file the console runs without a bot."""
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(Path(settings.state_path).parent))
    assert start_bot(settings) is None


def test_a_token_file_starts_the_bot_that_answers(
    settings: Settings, peer: TelegramServer, tmp_path: Path
) -> None:
    """`[telegram] token_file`: the bot starts in a thread and answers /lapor; stop ends it."""
    token_file = tmp_path / "telegram-token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    chosen = dataclasses.replace(
        settings, telegram=dataclasses.replace(settings.telegram, token_file=str(token_file))
    )
    running = start_bot(chosen)
    assert running is not None
    try:
        peer.push_text(CHAT, "/lapor")
        assert len(peer.wait_sent(1, timeout=10)) == 1
    finally:
        running.stop()
    assert not running.thread.is_alive()


def test_a_photo_that_cannot_be_fetched_is_said_and_nothing_stored(
    bot_parts: tuple[Bot, TelegramServer],
) -> None:
    """getFile fails: the user hears the service is busy; no report without its photo."""
    bot, peer = bot_parts
    for text in ("/lapor", "banjir", "manggar"):
        peer.push_text(CHAT, text)
    talk(bot, peer, replies=3)
    missing = {"file_id": "hilang", "file_unique_id": "hilang", "width": 9, "height": 9}
    peer.push(CHAT, photo=[missing], caption="Air naik")
    texts = talk(bot, peer, replies=4)
    assert texts[-1].startswith("Layanan sedang sibuk.")
    assert db.queue(bot.store, EPOCH) == []
