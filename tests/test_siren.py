"""Siren channel: one classified attempt per delivery over HTTP or a real MQTT broker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from structlog.testing import capture_logs

from tests.support.areas import city
from tests.support.paths import free_port
from tests.support.peers import SirenServer
from tests.support.peers.mqtt import SirenController, running_mosquitto
from warning.areas import AreaIndex
from warning.delivery.channel import ChannelSettings, Outcome, SendResult
from warning.delivery.dispatcher import Backoff, Dispatcher
from warning.delivery.siren import (
    LogSirenChannel,
    SirenChannel,
    siren_channel,
    siren_problems,
)
from warning.model import (
    ChangeKind,
    ChannelKind,
    ConfigError,
    Delivery,
    DeliveryStatus,
    SirenCommand,
)
from warning.plan.planner import operator_sirens
from warning.settings import CHECKOUT, Settings, SirenSettings, load_settings
from warning.store import outbox
from warning.store.sqlite import Store

URL = "http://10.0.0.21/api/siren"
BODY = {"command": "attack", "duration_s": 180, "change_id": "a-42", "drill": False}


def delivery(recipient: str = "manggar", **payload: Any) -> Delivery:
    """A siren delivery of BODY (fields overridden by `payload`)."""
    return Delivery(
        id=7,
        channel=ChannelKind.SIREN,
        recipient=recipient,
        change_id="a-42",
        payload={**BODY, **payload},
        priority=0,
        attempts=0,
        drill=False,
        dedup_key=f"a-42:siren:{recipient}",
    )


def no_secret(_env: str, _file: str, _credential: str) -> str | None:
    """A secrets getter that finds nothing."""
    return None


def http_channel(
    areas: AreaIndex, token_file: str = "", ack_timeout_s: float = 5.0
) -> SirenChannel:
    """A channel with one HTTP siren `manggar` at URL."""
    siren = SirenSettings(
        id="manggar",
        url=URL,
        areas=("manggar",),
        token_file=token_file,
        ack_timeout_s=ack_timeout_s,
    )
    channel = siren_channel(ChannelSettings(sirens=(siren,)), areas, no_secret)
    assert isinstance(channel, SirenChannel)
    return channel


@responses.activate
def test_http_posts_exactly_the_payload(areas: AreaIndex) -> None:
    """The controller receives the four keys of the payload as JSON, nothing else."""
    responses.post(URL, json={"id": "trig-1"})
    http_channel(areas).send(delivery())
    assert json.loads(responses.calls[0].request.body or b"") == BODY
    assert responses.calls[0].request.headers["Content-Type"] == "application/json"


@responses.activate
def test_http_sends_bearer_token_when_configured(areas: AreaIndex, tmp_path: Path) -> None:
    """A token_file puts `Authorization: Bearer <token>` on the request."""
    token = tmp_path / "token"
    token.write_text("s3cret-token\n", encoding="utf-8")
    responses.post(URL, json={})
    siren = SirenSettings(id="manggar", url=URL, areas=("manggar",), token_file=str(token))
    channel = siren_channel(ChannelSettings(sirens=(siren,)), areas)
    channel.send(delivery())
    assert responses.calls[0].request.headers["Authorization"] == "Bearer s3cret-token"


@responses.activate
def test_http_sends_no_authorization_without_token(areas: AreaIndex) -> None:
    """Controllers on a closed network get no Authorization header at all."""
    responses.post(URL, json={})
    http_channel(areas).send(delivery())
    assert "Authorization" not in responses.calls[0].request.headers


def test_token_comes_from_systemd_credential(
    areas: AreaIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without token_file the credential siren_<id>_token is used."""
    (tmp_path / "siren_manggar_token").write_text("from-credential", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    siren = SirenSettings(id="manggar", url=URL, areas=("manggar",))
    with responses.RequestsMock() as mocked:
        mocked.post(URL, json={})
        siren_channel(ChannelSettings(sirens=(siren,)), areas).send(delivery())
        assert mocked.calls[0].request.headers["Authorization"] == "Bearer from-credential"


@responses.activate
def test_http_2xx_is_acknowledged_with_controller_id(areas: AreaIndex) -> None:
    """A 2xx answer is SENT; the controller's JSON id becomes the provider id."""
    responses.post(URL, status=202, json={"id": "trig-9"})
    result = http_channel(areas).send(delivery())
    assert (result.outcome, result.provider_id) == (Outcome.SENT, "trig-9")


@responses.activate
def test_http_429_is_retried_after_retry_after(areas: AreaIndex) -> None:
    """429 is transient and carries the controller's Retry-After."""
    responses.post(URL, status=429, headers={"Retry-After": "30"})
    result = http_channel(areas).send(delivery())
    assert (result.outcome, result.retry_after_s, result.code) == (Outcome.RETRY, 30.0, "429")


@responses.activate
def test_http_500_is_retried(areas: AreaIndex) -> None:
    """A server error is transient."""
    responses.post(URL, status=500)
    result = http_channel(areas).send(delivery())
    assert (result.outcome, result.code) == (Outcome.RETRY, "500")


@responses.activate
def test_http_404_fails_permanently(areas: AreaIndex) -> None:
    """A 4xx other than 429 will not get better by retrying."""
    responses.post(URL, status=404)
    result = http_channel(areas).send(delivery())
    assert (result.outcome, result.code) == (Outcome.FAILED, "404")


@responses.activate
def test_http_timeout_is_retried(areas: AreaIndex) -> None:
    """A controller that does not answer in time is retried, never raised."""
    responses.post(URL, body=requests.ReadTimeout("read timed out"))
    result = http_channel(areas).send(delivery())
    assert (result.outcome, result.error) == (Outcome.RETRY, "siren controller timed out")


@responses.activate
def test_http_connection_error_is_retried(areas: AreaIndex) -> None:
    """An unreachable controller is transient."""
    responses.post(URL, body=requests.ConnectionError("no route to host"))
    result = http_channel(areas).send(delivery())
    assert result.outcome is Outcome.RETRY
    assert "siren unreachable" in (result.error or "")


@responses.activate
def test_http_request_has_explicit_timeout(areas: AreaIndex) -> None:
    """Every request carries a (connect, read) timeout bounded by ack_timeout_s."""
    responses.post(URL, json={})
    http_channel(areas, ack_timeout_s=3.0).send(delivery())
    assert responses.calls[0].request.req_kwargs["timeout"] == (3.0, 3.0)


def test_unknown_siren_fails(areas: AreaIndex) -> None:
    """A delivery for a siren no longer configured fails permanently."""
    result = http_channel(areas).send(delivery("lamaru"))
    assert (result.outcome, result.error) == (Outcome.FAILED, 'unknown siren "lamaru"')


def test_invalid_command_fails_without_request(areas: AreaIndex) -> None:
    """A payload with an unknown command is never sent."""
    with responses.RequestsMock() as mocked:
        result = http_channel(areas).send(delivery(command="boom"))
        assert len(mocked.calls) == 0
    assert result.outcome is Outcome.FAILED


def test_no_sirens_gives_log_channel(areas: AreaIndex) -> None:
    """Without [[sirens]] each trigger is logged as it would be sent, and reported sent."""
    channel = siren_channel(ChannelSettings(), areas)
    assert isinstance(channel, LogSirenChannel)
    with capture_logs() as logs:
        result = channel.send(delivery())
    assert (result.outcome, result.provider_id) == (Outcome.SENT, "log:1")
    assert logs[-1]["event"] == "siren.log_only"
    assert logs[-1]["body"] == BODY


def test_settings_problems_reported_at_once(areas: AreaIndex) -> None:
    """Missing url, topics and unknown areas are all named in one ConfigError."""
    sirens = (
        SirenSettings(id="a", url="", areas=("manggar",)),
        SirenSettings(id="b", protocol="mqtt", url="mqtt://broker", areas=("atlantis",)),
    )
    with pytest.raises(ConfigError) as caught:
        siren_channel(ChannelSettings(sirens=sirens), areas)
    text = str(caught.value)
    assert 'sirens[0] ("a"): http sirens need url' in text
    assert 'sirens[1] ("b"): mqtt sirens need topic' in text
    assert 'unknown area "atlantis"' in text


def test_mqtt_url_must_name_a_broker() -> None:
    """An http:// url on an MQTT siren is a configuration problem."""
    siren = SirenSettings(
        id="m", protocol="mqtt", url="http://x", topic="t", reply_topic="r", areas=("all",)
    )
    assert "mqtt://host" in str(siren_problems(Settings(sirens=(siren,)))[0])


# ---------------------------------------------------------------------------
# MQTT against a real mosquitto.


@pytest.fixture(scope="module")
def broker_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A mosquitto broker for this module's tests."""
    with running_mosquitto(tmp_path_factory.mktemp("mosquitto")) as port:
        yield port


@contextmanager
def mqtt_channel(
    areas: AreaIndex, port: int, *names: str, timeout_s: float = 3.0
) -> Iterator[SirenChannel]:
    """A channel with MQTT sirens `names` on the broker at `port`, closed afterwards."""
    sirens = tuple(
        SirenSettings(
            id=name,
            protocol="mqtt",
            url=f"mqtt://127.0.0.1:{port}",
            areas=("manggar",),
            topic=f"sirens/{name}/command",
            reply_topic=f"sirens/{name}/ack",
            ack_timeout_s=timeout_s,
        )
        for name in names
    )
    channel = siren_channel(ChannelSettings(sirens=sirens), areas, no_secret)
    assert isinstance(channel, SirenChannel)
    try:
        yield channel
    finally:
        channel.close()


@contextmanager
def controller(port: int, name: str, answer: str | None) -> Iterator[SirenController]:
    """A test controller for siren `name`, closed afterwards."""
    fake = SirenController(port, f"sirens/{name}/command", f"sirens/{name}/ack", answer)
    try:
        yield fake
    finally:
        fake.close()


def test_mqtt_acknowledged_trigger_is_sent(areas: AreaIndex, broker_port: int) -> None:
    """The controller gets the exact body with QoS 1 and its ok ack makes the row SENT."""
    with (
        mqtt_channel(areas, broker_port, "ack") as channel,
        controller(broker_port, "ack", "ok") as fake,
    ):
        result = channel.send(delivery("ack"))
    assert (result.outcome, result.provider_id) == (Outcome.SENT, "ack-1")
    assert fake.received == [BODY]


def test_mqtt_silent_controller_is_retried(areas: AreaIndex, broker_port: int) -> None:
    """No acknowledgement within ack_timeout_s: RETRY with "no acknowledgement"."""
    with (
        mqtt_channel(areas, broker_port, "mute", timeout_s=1.0) as channel,
        controller(broker_port, "mute", None) as fake,
    ):
        result = channel.send(delivery("mute"))
    assert (result.outcome, result.error) == (Outcome.RETRY, "no acknowledgement")
    assert fake.received == [BODY]


def test_mqtt_controller_error_is_retried(areas: AreaIndex, broker_port: int) -> None:
    """A controller that answers with a status other than ok has not sounded."""
    with (
        mqtt_channel(areas, broker_port, "broken") as channel,
        controller(broker_port, "broken", "error"),
    ):
        result = channel.send(delivery("broken"))
    assert (result.outcome, result.error) == (Outcome.RETRY, "siren answered error")


def test_mqtt_ack_for_another_alert_is_ignored(areas: AreaIndex, broker_port: int) -> None:
    """Only an ack naming this trigger's change_id confirms it."""
    with (
        mqtt_channel(areas, broker_port, "other", timeout_s=1.0) as channel,
        controller(broker_port, "other", "ok") as fake,
    ):
        fake.ack_change_id = "a-41"
        result = channel.send(delivery("other"))
    assert result.outcome is Outcome.RETRY


def test_mqtt_ack_from_firmware_before_the_rename_still_confirms(
    areas: AreaIndex, broker_port: int
) -> None:
    """A controller that echoes the change as `alert_id` (older firmware) still acknowledges."""
    with (
        mqtt_channel(areas, broker_port, "legacy") as channel,
        controller(broker_port, "legacy", "ok") as fake,
    ):
        fake.ack_key = "alert_id"
        result = channel.send(delivery("legacy"))
    assert result.outcome is Outcome.SENT


def test_mqtt_sirens_share_one_client_per_broker(areas: AreaIndex, broker_port: int) -> None:
    """Two sirens on one broker are both acknowledged through the same connection."""
    with (
        mqtt_channel(areas, broker_port, "east", "west") as channel,
        controller(broker_port, "east", "ok"),
        controller(broker_port, "west", "ok"),
    ):
        outcomes = [channel.send(delivery(name)).outcome for name in ("east", "west")]
    assert outcomes == [Outcome.SENT, Outcome.SENT]
    assert channel.broker_count == 1


def test_mqtt_unreachable_broker_is_retried(areas: AreaIndex) -> None:
    """A broker nobody answers for: RETRY, never an exception."""
    with mqtt_channel(areas, free_port(), "gone", timeout_s=0.5) as channel:
        result = channel.send(delivery("gone"))
    assert (result.outcome, result.error) == (Outcome.RETRY, "mqtt broker unreachable")


def test_mqtt_reconnects_after_broker_restart(areas: AreaIndex, tmp_path: Path) -> None:
    """The shared client reconnects by itself when the broker comes back."""
    port = free_port()
    with mqtt_channel(areas, port, "phoenix", timeout_s=5.0) as channel:
        with running_mosquitto(tmp_path, port), controller(port, "phoenix", "ok"):
            first = channel.send(delivery("phoenix"))
        with running_mosquitto(tmp_path, port), controller(port, "phoenix", "ok"):
            second = channel.send(delivery("phoenix"))
    assert (first.outcome, second.outcome) == (Outcome.SENT, Outcome.SENT)


def locked_siren(port: int, password_file: str = "", timeout_s: float = 3.0) -> SirenSettings:
    """An MQTT siren logging in as user `warning`."""
    return SirenSettings(
        id="locked",
        protocol="mqtt",
        url=f"mqtt://127.0.0.1:{port}",
        areas=("manggar",),
        topic="sirens/locked/command",
        reply_topic="sirens/locked/ack",
        username="warning",
        password_file=password_file,
        ack_timeout_s=timeout_s,
    )


def test_mqtt_logs_in_with_username_and_password_file(areas: AreaIndex, tmp_path: Path) -> None:
    """A broker that refuses anonymous clients accepts the siren's configured credentials."""
    password = tmp_path / "mqtt-password"
    password.write_text("hunter22\n", encoding="utf-8")
    user = ("warning", "hunter22")
    with running_mosquitto(tmp_path, user=user) as port:
        siren = locked_siren(port, str(password))
        channel = siren_channel(ChannelSettings(sirens=(siren,)), areas)
        fake = SirenController(port, siren.topic, siren.reply_topic, "ok", user=user)
        try:
            result = channel.send(delivery("locked"))
        finally:
            fake.close()
            channel.close()
    assert result.outcome is Outcome.SENT


def test_mqtt_refused_login_is_retried(areas: AreaIndex, tmp_path: Path) -> None:
    """A broker refusing our (missing) password is like an unreachable one: RETRY."""
    with running_mosquitto(tmp_path, user=("warning", "hunter22")) as port:
        siren = locked_siren(port, timeout_s=1.0)
        channel = siren_channel(ChannelSettings(sirens=(siren,)), areas, no_secret)
        try:
            result = channel.send(delivery("locked"))
        finally:
            channel.close()
    assert (result.outcome, result.error) == (Outcome.RETRY, "mqtt broker unreachable")


def test_closing_the_dispatcher_releases_siren_connections(tmp_path: Path) -> None:
    """Dispatcher.close() closes channels that hold connections (MQTT sirens), e.g. on reload."""
    closed: list[str] = []

    class HoldsConnections:
        kind = ChannelKind.SIREN

        def send(self, delivery: Delivery) -> SendResult:
            return SendResult(Outcome.SENT)

        def close(self) -> None:
            closed.append("siren")

    store = Store(tmp_path / "w.db")
    Dispatcher(store, {ChannelKind.SIREN: HoldsConnections()}, Settings().sms).close()
    assert closed == ["siren"]


def test_siren_retries_follow_the_siren_attempts_not_the_sms_ones(tmp_path: Path) -> None:
    """`[siren] attempts = 2` with `[sms] attempts = 5`: a failing controller is tried twice."""
    config = tmp_path / "warning.toml"
    with SirenServer(status=503) as server:
        config.write_text(
            f'[state]\npath = "{tmp_path / "w.db"}"\n'
            f'[areas]\npath = "{CHECKOUT / "areas.geojson"}"\n'
            "[sms]\nattempts = 5\n[siren]\nattempts = 2\n"
            f'[[sirens]]\nid = "manggar"\nurl = "{server.url_for("/manggar")}"\n'
            'areas = ["manggar"]\n',
            encoding="utf-8",
        )
        settings = load_settings(config)
        store = Store(settings.state_path)
        now = datetime.now(UTC)
        planned = operator_sirens(
            "chg-1", ChangeKind.SIREN_TEST, settings.sirens, SirenCommand.TEST, drill=True, now=now
        )
        with store.transaction() as tx:
            outbox.enqueue(tx, planned)
        channels = {ChannelKind.SIREN: siren_channel(ChannelSettings.of(settings), city())}
        dispatcher = Dispatcher(
            store, channels, settings.sms, siren=settings.siren, backoff=Backoff(0.01, 0.02)
        )
        dispatcher.drain(timeout=10)
        dispatcher.close()
        tried = len(server.commands("/manggar"))
    assert tried == 2
    assert outbox.rows(store)[0].status is DeliveryStatus.FAILED
