"""MQTT sirens: publish the trigger with QoS 1, then wait for the controller's answer.

The command is the siren body as JSON, published with QoS 1 to the siren's
`topic`.  The controller acknowledges on the siren's `reply_topic` with JSON:

    {"change_id": "<the body's change_id>", "status": "ok", "command": "alert", "id": "..."}

`change_id` (or `alert_id`, as controllers flashed before the rename send it) and
`status` are required; `status` is `ok` when the siren sounds
(or runs the test) and anything else (`error`, ...) when it cannot, with an
optional `error` text.  `command`, when present, must equal the command sent
(so an old "alert" ack never confirms an "attack"); `id`, when present, is
recorded as the provider id.  A trigger without an `ok` answer within
`ack_timeout_s` is retried by the outbox, so controllers must treat a repeated
(change_id, command) as one trigger.

One paho client per broker (host, port, TLS, user) is shared by every siren on
it, connected lazily, reconnecting by itself, subscribed to all their reply
topics; `MqttBrokers.close()` disconnects them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.enums import CallbackAPIVersion

from warning.delivery.channel import Outcome, SendResult
from warning.settings import SirenSettings

logger = structlog.get_logger(__name__)

#: Default ports of the two URL schemes.
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}

#: Seconds between paho's reconnection attempts, doubling up to the maximum.
RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 30

#: Keep-alive of the broker connection, seconds.
KEEPALIVE_S = 30


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where a siren's broker is and how we log in: sirens sharing one share a client."""

    host: str
    port: int
    tls: bool
    username: str


def broker_address(siren: SirenSettings) -> BrokerAddress:
    """The broker of an MQTT siren from its url (mqtt:// or mqtts://); ValueError if bad."""
    parts = urlsplit(siren.url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("mqtt sirens need url = mqtt://host[:port] or mqtts://host[:port]")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError(f"mqtt url has an invalid port: {siren.url}") from None
    return BrokerAddress(
        host=parts.hostname,
        port=port,
        tls=siren.tls or parts.scheme == "mqtts",
        username=siren.username,
    )


@dataclass(frozen=True, slots=True)
class Ack:
    """A controller's answer on its reply topic."""

    change_id: str
    status: str
    command: str | None = None
    id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the controller confirms the siren runs the command."""
        return self.status == "ok"


def parse_ack(raw: bytes) -> Ack | None:
    """The acknowledgement in a reply message, or None when it is not one."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    # Controllers flashed before the rename echo the change as `alert_id`: still an ack.
    change_id = document.get("change_id", document.get("alert_id"))
    status = document.get("status")
    if not isinstance(change_id, str) or not isinstance(status, str):
        return None
    return Ack(change_id, status, *(_text(document.get(k)) for k in ("command", "id", "error")))


def _text(value: Any) -> str | None:
    """A JSON value as text, None when absent."""
    return None if value is None else str(value)


@dataclass(slots=True)
class _Waiter:
    """A trigger waiting for its acknowledgement."""

    change_id: str
    command: str
    done: threading.Event = field(default_factory=threading.Event)
    ack: Ack | None = None

    def matches(self, ack: Ack) -> bool:
        """The answer is for this trigger."""
        return ack.change_id == self.change_id and ack.command in (None, self.command)


class MqttBroker:
    """One connected (reconnecting) paho client and the triggers waiting on it."""

    def __init__(self, address: BrokerAddress, password: str | None) -> None:
        self.address = address
        self._password = password
        self._reply_topics: set[str] = set()
        self._waiters: dict[str, list[_Waiter]] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._subscribe_mid: int | None = None
        self._client: mqtt.Client | None = None

    def add_reply_topic(self, topic: str) -> None:
        """Subscribe to `topic` on every (re)connection; call before the first request."""
        self._reply_topics.add(topic)

    def request(
        self, topic: str, reply_topic: str, body: Mapping[str, Any], timeout_s: float
    ) -> SendResult:
        """Publish `body` (QoS 1) and wait for its acknowledgement on `reply_topic`."""
        deadline = time.monotonic() + timeout_s
        client = self._started()
        if not self._ready.wait(timeout_s):
            return SendResult(Outcome.RETRY, error="mqtt broker unreachable")
        waiter = _Waiter(str(body["change_id"]), str(body["command"]))
        with self._lock:
            self._waiters.setdefault(reply_topic, []).append(waiter)
        try:
            return self._publish_and_wait(client, topic, body, waiter, deadline)
        finally:
            with self._lock:
                self._waiters[reply_topic].remove(waiter)

    def _publish_and_wait(
        self,
        client: mqtt.Client,
        topic: str,
        body: Mapping[str, Any],
        waiter: _Waiter,
        deadline: float,
    ) -> SendResult:
        """Publish, then wait until the deadline for the waiter's answer."""
        info = client.publish(topic, json.dumps(dict(body)), qos=1)
        try:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
        except (ValueError, RuntimeError) as exc:
            return SendResult(Outcome.RETRY, error=f"mqtt publish failed: {exc}")
        if not info.is_published():
            return SendResult(Outcome.RETRY, error="mqtt broker did not confirm the publish")
        if not waiter.done.wait(max(0.0, deadline - time.monotonic())) or waiter.ack is None:
            return SendResult(Outcome.RETRY, error="no acknowledgement")
        return _ack_result(waiter.ack, info.mid)

    def _started(self) -> mqtt.Client:
        """The client, created and connecting in its own thread on first use."""
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self) -> mqtt.Client:
        """A paho client that connects asynchronously and reconnects forever."""
        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        if self.address.username:
            client.username_pw_set(self.address.username, self._password)
        if self.address.tls:
            client.tls_set()
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.connect_async(self.address.host, self.address.port, KEEPALIVE_S)
        client.loop_start()
        return client

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        """Connected: subscribe to every reply topic before declaring the broker ready."""
        if reason.is_failure:
            logger.warning("siren.mqtt_refused", broker=self.address.host, reason=str(reason))
            return
        logger.info("siren.mqtt_connected", broker=self.address.host, port=self.address.port)
        _, mid = client.subscribe([(t, 1) for t in sorted(self._reply_topics)])
        with self._lock:
            self._subscribe_mid = mid

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, mid: int, _codes: Any, _props: Any
    ) -> None:
        """The reply topics are subscribed: acknowledgements can no longer be missed."""
        with self._lock:
            if mid == self._subscribe_mid:
                self._ready.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        """Lost the broker: requests wait for the reconnection (or time out)."""
        self._ready.clear()
        logger.warning("siren.mqtt_disconnected", broker=self.address.host, reason=str(reason))

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: Any) -> None:
        """Hand an acknowledgement to the trigger waiting for it."""
        ack = parse_ack(message.payload)
        if ack is None:
            logger.warning("siren.ack_unreadable", topic=message.topic)
            return
        with self._lock:
            for waiter in self._waiters.get(message.topic, []):
                if waiter.matches(ack) and not waiter.done.is_set():
                    waiter.ack = ack
                    waiter.done.set()

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()


def _ack_result(ack: Ack, mid: int) -> SendResult:
    """SENT for an `ok` answer; a controller that cannot sound is retried."""
    if ack.ok:
        return SendResult(Outcome.SENT, provider_id=ack.id or f"mqtt:{mid}")
    reason = f": {ack.error}" if ack.error else ""
    return SendResult(Outcome.RETRY, error=f"siren answered {ack.status}{reason}")


@dataclass(frozen=True, slots=True)
class MqttSiren:
    """One MQTT siren: its topics on a shared broker."""

    broker: MqttBroker
    topic: str
    reply_topic: str
    timeout_s: float

    def trigger(self, body: Mapping[str, Any]) -> SendResult:
        """Publish the body and wait for this siren's acknowledgement."""
        return self.broker.request(self.topic, self.reply_topic, body, self.timeout_s)


class MqttBrokers:
    """The broker clients of a siren channel, one per address."""

    def __init__(self) -> None:
        self._brokers: dict[BrokerAddress, MqttBroker] = {}

    def siren(self, siren: SirenSettings, password: str | None) -> MqttSiren:
        """The trigger of an MQTT siren, on its broker's shared client."""
        address = broker_address(siren)
        if address not in self._brokers:
            self._brokers[address] = MqttBroker(address, password)
        broker = self._brokers[address]
        broker.add_reply_topic(siren.reply_topic)
        return MqttSiren(broker, siren.topic, siren.reply_topic, siren.ack_timeout_s)

    def __len__(self) -> int:
        return len(self._brokers)

    def close(self) -> None:
        """Disconnect every broker."""
        for broker in self._brokers.values():
            broker.close()
