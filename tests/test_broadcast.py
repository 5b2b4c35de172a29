"""Broadcast channels: Telegram posts, ntfy topics and webhooks with the outbox's guarantees."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tests.support.areas import city
from tests.support.builders import NOW, contact, rule, transitions
from tests.support.deployment import settings_file, settings_refusal
from tests.support.peers import SirenServer, TelegramServer, TwilioServer, WebhookServer
from tests.support.peers.telegram import TOKEN
from warning.delivery import CHANNELS, build_channels
from warning.delivery.broadcast import SIGNATURE_HEADER, check_broadcasts
from warning.delivery.channel import ChannelSettings, LogChannel, Outcome, SecretGetter
from warning.delivery.dispatcher import Dispatcher
from warning.model import (
    Action,
    Audience,
    ChangeKind,
    ChannelKind,
    Delivery,
    DeliveryStatus,
    Level,
    Severity,
    TransitionKind,
)
from warning.plan.broadcast import (
    PRIORITY_BROADCAST,
    BroadcastTarget,
    broadcast_posts,
    officials_notice,
)
from warning.plan.payloads import BroadcastPost
from warning.plan.planner import plan
from warning.settings import (
    BroadcastKind,
    BroadcastSettings,
    Settings,
    SirenSettings,
    SmsSettings,
    TelegramSettings,
    load_settings,
)
from warning.store import outbox
from warning.store.sqlite import Store

SID = "AC" + "3" * 32
TWILIO_TOKEN = "t" * 32
PUBLIC_CHAT = "@bpbd_balikpapan"
TIMUR_CHAT = "-1001234567890"
OFFICIALS_CHAT = "-1009999999999"
ALERT_RULE = rule(actions=[Action.SMS, Action.CAP])


def _targets() -> list[BroadcastTarget]:
    """A city-wide public channel, a Balikpapan Timur channel, and the officials' group."""
    timur = frozenset(city().select("balikpapan-timur"))
    everywhere = frozenset(city().select("all"))
    return [
        BroadcastTarget(ChannelKind.TELEGRAM, PUBLIC_CHAT, everywhere, Audience.PUBLIC),
        BroadcastTarget(ChannelKind.TELEGRAM, TIMUR_CHAT, timur, Audience.PUBLIC),
        BroadcastTarget(ChannelKind.TELEGRAM, OFFICIALS_CHAT, everywhere, Audience.OFFICIALS),
    ]


def _posts(areas: Sequence[str], **kwargs: object) -> dict[str, BroadcastPost]:
    """Chat -> post of the transitions in `areas` (keyword arguments go to `transitions`)."""
    drill = bool(kwargs.get("drill", False))
    planned = broadcast_posts(
        transitions(areas, **kwargs),  # type: ignore[arg-type]
        [ALERT_RULE],
        _targets(),
        city(),
        drill=drill,
    )
    return {p.recipient: BroadcastPost.from_json(p.payload) for p in planned}


# -- settings and check -----------------------------------------------------------------


def test_destinations_are_read_from_telegram_ntfy_and_webhook_tables(tmp_path: Path) -> None:
    """Numeric chat ids are accepted as TOML integers; ntfy's address is its topic URL."""
    settings = load_settings(
        settings_file(
            tmp_path,
            '[telegram]\napi_base = "http://127.0.0.1:9"\n'
            '[[telegram.channels]]\nchat_id = -1001234567890\nareas = ["all"]\n'
            '[[telegram.channels]]\nchat_id = "@pejabat"\nareas = ["all"]\naudience = "officials"\n'
            '[[ntfy.topics]]\nurl = "https://ntfy.sh/"\ntopic = "bpn-timur"\n'
            'areas = ["balikpapan-timur"]\n'
            '[[webhooks]]\nurl = "https://radio.example/hook"\nareas = ["manggar"]\n',
        )
    )
    assert settings.telegram.api_base == "http://127.0.0.1:9"
    assert [(b.kind, b.address, b.audience) for b in settings.broadcasts] == [
        (BroadcastKind.TELEGRAM, "-1001234567890", "public"),
        (BroadcastKind.TELEGRAM, "@pejabat", "officials"),
        (BroadcastKind.NTFY, "https://ntfy.sh/bpn-timur", "public"),
        (BroadcastKind.WEBHOOK, "https://radio.example/hook", "public"),
    ]


def test_every_mistake_in_a_destination_is_reported_at_once(tmp_path: Path) -> None:
    """A typo, a wrong audience, no areas and no chat id: four problems, one run."""
    path = settings_file(
        tmp_path,
        '[[telegram.channels]]\nareaz = ["all"]\naudience = "everyone"\n'
        '[[webhooks]]\nurl = "https://radio.example/hook"\nareas = "manggar"\n',
    )
    text = settings_refusal(path)
    assert 'unknown key "telegram.channels[0].areaz" (did you mean' in text
    assert "telegram.channels[0].audience must be public or officials" in text
    assert "telegram.channels[0] needs chat_id" in text
    assert "webhooks[0].areas must be a list of strings" in text


def test_check_refuses_unknown_areas_and_warns_of_a_missing_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`warning check`: an unknown kelurahan is an error; chats without a token a warning."""
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    settings = load_settings(
        settings_file(
            tmp_path,
            '[[telegram.channels]]\nchat_id = "@bpn"\nareas = ["atlantis"]\n'
            '[[webhooks]]\nurl = "ftp://radio.example"\nareas = ["all"]\n',
        )
    )
    problems = check_broadcasts(settings)
    errors = [p.message for p in problems if p.severity is Severity.ERROR]
    warnings = [p.message for p in problems if p.severity is Severity.WARNING]
    assert any("atlantis" in m for m in errors)
    assert any("url must start with http://" in m for m in errors)
    assert len(warnings) == 1
    assert "TELEGRAM_BOT_TOKEN" in warnings[0]


# -- planning ---------------------------------------------------------------------------


def test_a_public_siaga_is_posted_once_to_each_channel_covering_its_areas() -> None:
    """Manggar (Balikpapan Timur): the city, Timur and officials' chats; Bahasa, what to do."""
    posts = _posts(["manggar", "lamaru"])
    assert set(posts) == {PUBLIC_CHAT, TIMUR_CHAT, OFFICIALS_CHAT}
    post = posts[PUBLIC_CHAT]
    assert post.text.startswith("SIAGA Gempa kuat: ")
    assert "Manggar" in post.text
    assert "Lamaru" in post.text
    assert "Keluar dari bangunan retak." in post.text
    assert post.level is Level.SIAGA
    assert not post.drill


def test_a_change_elsewhere_is_not_posted_to_a_kecamatan_channel() -> None:
    """Kariangau is in Balikpapan Barat: the Timur channel hears nothing."""
    assert set(_posts(["kariangau"])) == {PUBLIC_CHAT, OFFICIALS_CHAT}


def test_posts_go_after_sirens_and_before_every_sms() -> None:
    """The post's priority sits between the sirens' (0) and the officials' SMS (10)."""
    people = [contact("+6281200000002", ["manggar"], "officials")]
    planned = plan(transitions(["manggar"]), [ALERT_RULE], people, (), city(), drill=False, now=NOW)
    sms = min(p.priority for p in planned if p.channel is ChannelKind.SMS)
    assert 0 < PRIORITY_BROADCAST < sms


def test_a_drill_post_is_marked_latihan_first() -> None:
    """Drills read LATIHAN before anything else, in the text and the headline."""
    post = _posts(["manggar"], drill=True)[PUBLIC_CHAT]
    assert post.drill
    assert post.text.startswith("LATIHAN: SIAGA")
    assert post.headline.startswith("LATIHAN: ")


def test_an_all_clear_is_posted_in_the_rules_own_words() -> None:
    """The rule's end message reaches the channels that heard the warning."""
    post = _posts(["manggar"], kind=TransitionKind.RESOLVED)[TIMUR_CHAT]
    assert post.text.startswith("BERAKHIR Gempa kuat: Manggar")
    assert "Peringatan gempa untuk Manggar berakhir." in post.text
    assert post.change.ends


def test_a_safety_timeout_reaches_officials_and_never_the_public() -> None:
    """A timeout is no all-clear: only the officials' group hears BMKG's end was not received."""
    posts = _posts(["manggar"], kind=TransitionKind.TIMED_OUT)
    assert set(posts) == {OFFICIALS_CHAT}


def test_an_officials_only_rule_is_not_posted_to_public_channels() -> None:
    """A rule without CAP (what the public is not told) posts to officials only."""
    planned = broadcast_posts(
        transitions(["manggar"]), [rule(actions=[Action.SMS])], _targets(), city(), drill=False
    )
    assert [p.recipient for p in planned] == [OFFICIALS_CHAT]


def test_a_health_notice_goes_by_sms_and_to_officials_channels_only() -> None:
    """A feed down: one SMS per official and one officials' post, in one change."""
    planned = officials_notice(
        "feed-inatews-down-1",
        ChangeKind.FEED_HEALTH,
        ["+6281200000002"],
        "INFO SISTEM: sumber data inatews tidak tersedia sejak 01/03 10:30 WITA.",
        subject="inatews",
        targets=_targets(),
        areas=city(),
        drill=False,
        now=NOW,
    )
    assert sorted((p.channel.value, p.recipient) for p in planned) == [
        ("sms", "+6281200000002"),
        ("telegram", OFFICIALS_CHAT),
    ]
    assert len({p.change.id for p in planned}) == 1


def test_replaying_an_evaluation_posts_nothing_twice(tmp_path: Path) -> None:
    """The dedup key change:telegram:chat refuses a second copy."""
    store = Store(tmp_path / "state.db")
    planned = broadcast_posts(
        transitions(["manggar"]), [ALERT_RULE], _targets(), city(), drill=False
    )
    with store.transaction() as tx:
        assert outbox.enqueue(tx, planned) == 3
    with store.transaction() as tx:
        assert outbox.enqueue(tx, planned) == 0


# -- sending against local peers ----------------------------------------------------------


def _secret(token: str | None = TOKEN) -> SecretGetter:
    """Secrets from `*_file` settings, else as the environment would give them."""
    values = {
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TELEGRAM_BOT_TOKEN": token,
    }

    def secret(env: str, file: str, _credential: str) -> str | None:
        return Path(file).read_text(encoding="utf-8").strip() if file else values.get(env)

    return secret


def _settings(api_base: str, twilio: str = "http://127.0.0.1:9", **sms: object) -> Settings:
    base = {"api_base": twilio, "from_": "BPBD-BPN", "max_per_second": 1000.0, "attempts": 3}
    return Settings(
        sms=SmsSettings(**{**base, **sms}),  # type: ignore[arg-type]
        telegram=TelegramSettings(api_base=api_base, timeout_s=2.0),
        broadcasts=(BroadcastSettings(BroadcastKind.TELEGRAM, PUBLIC_CHAT, ("all",)),),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty state store."""
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


def _enqueue_posts(store: Store, areas: Sequence[str] = ("manggar",), targets=None) -> None:  # type: ignore[no-untyped-def]
    planned = broadcast_posts(
        transitions(areas), [ALERT_RULE], targets or _targets()[:1], city(), drill=False
    )
    with store.transaction() as tx:
        outbox.enqueue(tx, planned)


def _dispatcher(
    store: Store, settings: Settings, token: str | None = TOKEN, **kwargs: object
) -> Dispatcher:
    channels = build_channels(ChannelSettings.of(settings), city(), _secret(token))
    return Dispatcher(store, channels, settings.sms, **kwargs)  # type: ignore[arg-type]


def test_a_post_reaches_the_bot_api_with_the_chat_and_text(store: Store) -> None:
    """One sendMessage to the chat; the row is sent with chat:message_id as provider id."""
    _enqueue_posts(store)
    with TelegramServer() as bot:
        dispatcher = _dispatcher(store, _settings(bot.url))
        assert dispatcher.drain(timeout=10)
        dispatcher.close()
    [post] = bot.posts()
    assert post["chat_id"] == PUBLIC_CHAT
    assert post["text"].startswith("SIAGA Gempa kuat: Manggar")
    [row] = outbox.rows(store)
    assert (row.status, row.provider_id) == (DeliveryStatus.SENT, f"{PUBLIC_CHAT}:1")


@contextmanager
def _failing_bot(
    store: Store, count: int, status: int, retry_after: int | None = None
) -> Iterator[TelegramServer]:
    """A post for Manggar in the outbox, and a Bot API failing its next `count` calls."""
    _enqueue_posts(store)
    with TelegramServer() as bot:
        bot.fail_next(count, status, retry_after=retry_after)
        yield bot


def test_a_429_waits_at_least_telegrams_retry_after(store: Store) -> None:
    """`parameters.retry_after` = 30 s: the row is pending, due no sooner than 30 s on."""
    with _failing_bot(store, 1, 429, retry_after=30) as bot:
        clock = [NOW.timestamp() + 60]
        dispatcher = _dispatcher(store, _settings(bot.url), clock=lambda: clock[0])
        assert dispatcher.run_once() == 1
        [row] = outbox.rows(store)
        assert row.status is DeliveryStatus.PENDING
        due = outbox.next_due(store)
        assert due is not None
        assert due >= clock[0] + 30
        clock[0] = due
        assert dispatcher.run_once() == 1
        dispatcher.close()
    assert len(bot.posts()) == 1
    assert outbox.rows(store)[0].status is DeliveryStatus.SENT


def test_a_bot_api_outage_is_retried_until_it_ends(store: Store) -> None:
    """Three 502s (more than [sms] attempts = 3) within the validity: posted once, at last."""
    with _failing_bot(store, 3, 502) as bot:
        clock = [NOW.timestamp() + 60]
        dispatcher = _dispatcher(store, _settings(bot.url), clock=lambda: clock[0])
        for _ in range(4):
            dispatcher.run_once()
            clock[0] = (outbox.next_due(store) or clock[0]) + 0.01
        dispatcher.close()
    assert len(bot.posts()) == 1
    assert len(bot.received()) == 4
    assert outbox.rows(store)[0].status is DeliveryStatus.SENT


def test_a_refused_chat_fails_for_good_at_once(store: Store) -> None:
    """400 'chat not found' is permanent: one attempt, failed, with Telegram's description."""
    with _failing_bot(store, 1, 400) as bot:
        dispatcher = _dispatcher(store, _settings(bot.url))
        dispatcher.drain(timeout=5)
        dispatcher.close()
    [row] = outbox.rows(store)
    assert row.status is DeliveryStatus.FAILED
    assert "chat not found" in (row.last_error or "")
    assert len(bot.received()) == 1


def test_the_token_is_in_no_log_line_and_no_stored_error(store: Store) -> None:
    """The Bot API unreachable (its URL holds the token): errors and logs name no token."""
    _enqueue_posts(store)
    with TelegramServer() as gone:
        url = gone.url  # nothing listens there afterwards: connection refused, URL in the error
    with capture_logs() as logs:
        dispatcher = _dispatcher(store, _settings(url))
        dispatcher.run_once()
        dispatcher.close()
    [row] = outbox.rows(store)
    assert "unreachable" in (row.last_error or "")
    assert TOKEN not in (row.last_error or "")
    assert TOKEN.split(":")[1] not in json.dumps(logs, default=str)


def test_without_a_token_posts_are_only_logged(store: Store) -> None:
    """No TELEGRAM_BOT_TOKEN: the log channel stands in and says so once."""
    with capture_logs() as logs:
        channels = build_channels(
            ChannelSettings.of(_settings("http://127.0.0.1:9")), city(), _secret(None)
        )
    assert isinstance(channels[ChannelKind.TELEGRAM], LogChannel)
    assert [e["event"] for e in logs].count("telegram.log_only") == 1


def test_sirens_then_the_channel_post_then_the_sms_fan_out(store: Store) -> None:
    """One SIAGA, real peers: every siren answered before the post, the post before any SMS."""
    people = [contact(f"+62812000000{i:02d}", ["manggar"], "officials") for i in range(5)]
    rules = [rule(actions=[Action.SIREN, Action.SMS, Action.CAP])]
    with SirenServer() as sirens, TelegramServer() as bot, TwilioServer() as twilio:
        siren = SirenSettings(id="sirene-manggar", url=sirens.url_for("/s"), areas=("manggar",))
        settings = _settings(bot.url, twilio.url, concurrency=4)
        settings = Settings(
            sms=settings.sms,
            telegram=settings.telegram,
            broadcasts=settings.broadcasts,
            sirens=(siren,),
        )
        planned = plan(
            transitions(["manggar"]), rules, people, [siren], city(), drill=False, now=NOW
        )
        planned += broadcast_posts(
            transitions(["manggar"]), rules, _targets()[:1], city(), drill=False
        )
        with store.transaction() as tx:
            outbox.enqueue(tx, planned)
        dispatcher = _dispatcher(store, settings)
        assert dispatcher.drain(timeout=20)
        dispatcher.close()
    siren_done = max(r.at for r in sirens.received())
    [post] = [r for r in bot.received()]
    first_sms = min(r.at for r in twilio.messages())
    assert siren_done < post.at < first_sms
    assert len(twilio.accepted()) == 5


def test_a_crash_between_post_and_commit_reposts_only_what_was_in_flight(
    tmp_path: Path,
) -> None:
    """A sender dies after posting, before recording: after its lease only that post repeats."""
    store = Store(tmp_path / "state.db")
    chats = [
        BroadcastTarget(
            ChannelKind.TELEGRAM, f"-100{i:010d}", frozenset({"manggar"}), Audience.PUBLIC
        )
        for i in range(20)
    ]
    _enqueue_posts(store, targets=chats)
    with TelegramServer() as bot:
        settings = _settings(bot.url, concurrency=1, max_per_second=1.0)

        def crash(_delivery: object, _result: object) -> None:
            raise RuntimeError("killed between the post and its commit")

        clock = [NOW.timestamp() + 60]
        first = _dispatcher(store, settings, lease_s=4.0, observer=crash, clock=lambda: clock[0])
        assert first.batch_size() == 1
        assert first.run_once() == 1  # posted, never recorded: still claimed
        first.close()
        in_flight = sum(1 for r in outbox.rows(store) if r.status is DeliveryStatus.CLAIMED)
        clock[0] += 5  # the dead sender's lease has run out
        second = _dispatcher(store, settings, lease_s=4.0, clock=lambda: clock[0])
        for _ in range(25):
            second.run_once()
        second.close()
    per_chat = [p["chat_id"] for p in bot.posts()]
    assert set(per_chat) == {t.address for t in chats}
    assert len(per_chat) - len(chats) == in_flight == 1
    assert {r.status for r in outbox.rows(store)} == {DeliveryStatus.SENT}


# -- ntfy and webhooks ----------------------------------------------------------------------


def test_ntfy_publishes_json_to_the_topic_with_its_token(store: Store, tmp_path: Path) -> None:
    """The server gets topic, title, message and SIAGA's priority 4, with the bearer token."""
    token_file = tmp_path / "ntfy"
    token_file.write_text("tk_secret0000000000000000000000\n")
    with WebhookServer() as ntfy:
        topic = f"{ntfy.url}/bpn-timur"
        settings = Settings(
            sms=SmsSettings(max_per_second=1000.0, from_="BPBD-BPN"),
            broadcasts=(
                BroadcastSettings(BroadcastKind.NTFY, topic, ("all",), token_file=str(token_file)),
            ),
        )
        target = BroadcastTarget(ChannelKind.NTFY, topic, frozenset({"manggar"}), Audience.PUBLIC)
        _enqueue_posts(store, targets=[target])
        dispatcher = Dispatcher(
            store, build_channels(ChannelSettings.of(settings), city(), _secret()), settings.sms
        )
        assert dispatcher.drain(timeout=10)
        dispatcher.close()
    [request] = ntfy.received()
    body = json.loads(request.body)
    assert (request.path, body["topic"], body["priority"]) == ("/", "bpn-timur", 4)
    assert body["title"].startswith("SIAGA Gempa kuat")
    assert "Keluar dari bangunan retak." in body["message"]
    assert request.header("Authorization") == "Bearer tk_secret0000000000000000000000"


def test_a_webhook_gets_cap_fields_signed_with_its_key(store: Store, tmp_path: Path) -> None:
    """A drill: status Exercise, msgType Alert, areas named; the HMAC verifies over the body."""
    key_file = tmp_path / "hook.key"
    key_file.write_text("radio-shared-key\n")
    with WebhookServer() as receiver:
        url = receiver.url_for("/radio")
        settings = Settings(
            sms=SmsSettings(max_per_second=1000.0, from_="BPBD-BPN"),
            broadcasts=(
                BroadcastSettings(BroadcastKind.WEBHOOK, url, ("all",), secret_file=str(key_file)),
            ),
        )
        target = BroadcastTarget(ChannelKind.WEBHOOK, url, frozenset({"manggar"}), Audience.PUBLIC)
        planned = broadcast_posts(
            transitions(["manggar"], drill=True), [ALERT_RULE], [target], city(), drill=True
        )
        with store.transaction() as tx:
            outbox.enqueue(tx, planned)
        dispatcher = Dispatcher(
            store, build_channels(ChannelSettings.of(settings), city(), _secret()), settings.sms
        )
        assert dispatcher.drain(timeout=10)
        dispatcher.close()
    [request] = receiver.received()
    expected = "sha256=" + hmac.new(b"radio-shared-key", request.body, hashlib.sha256).hexdigest()
    assert request.header(SIGNATURE_HEADER) == expected
    body = json.loads(request.body)
    assert (body["status"], body["msgType"], body["severity"]) == ("Exercise", "Alert", "Severe")
    assert body["areas"] == [{"id": "manggar", "name": "Manggar"}]
    assert body["description"].startswith("LATIHAN: ")


def test_a_webhook_answering_503_is_retried_with_its_retry_after(store: Store) -> None:
    """503 with Retry-After: 20: pending, due no sooner than 20 s on."""
    with WebhookServer(status=503) as receiver:
        receiver.retry_after = "20"
        url = receiver.url_for("/tv")
        settings = Settings(
            sms=SmsSettings(max_per_second=1000.0, from_="BPBD-BPN"),
            broadcasts=(BroadcastSettings(BroadcastKind.WEBHOOK, url, ("all",)),),
        )
        target = BroadcastTarget(ChannelKind.WEBHOOK, url, frozenset({"manggar"}), Audience.PUBLIC)
        _enqueue_posts(store, targets=[target])
        now = NOW.timestamp() + 60
        dispatcher = Dispatcher(
            store,
            build_channels(ChannelSettings.of(settings), city(), _secret()),
            settings.sms,
            clock=lambda: now,
        )
        dispatcher.run_once()
        dispatcher.close()
    [row] = outbox.rows(store)
    due = outbox.next_due(store)
    assert row.status is DeliveryStatus.PENDING
    assert due is not None
    assert due >= now + 20


@pytest.mark.parametrize("kind", list(CHANNELS))
def test_every_registered_channel_answers_a_malformed_row_without_raising(
    kind: ChannelKind,
) -> None:
    """Conformance: each factory builds its kind; a bad payload is an outcome, not a crash."""
    settings = Settings(sms=SmsSettings(from_="BPBD-BPN"))
    channel = CHANNELS[kind](settings, city(), lambda _env, _file, _credential: None)
    assert channel.kind is kind
    row = Delivery(1, kind, "x", "chg-1", {"nonsense": True}, 5, 0, False, "chg-1:x")
    assert channel.send(row).outcome in set(Outcome)
