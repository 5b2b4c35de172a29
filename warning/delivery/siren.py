"""Siren triggers: one attempt per delivery over HTTP or MQTT, or the log channel.

A siren delivery's payload is exactly the body a controller receives:
`{"command": ..., "duration_s": N, "change_id": "...", "drill": bool}`.  The
channel makes one attempt and classifies it; the outbox owns retries (it
re-claims RETRY rows with backoff), so nothing here sleeps and retries.

HTTP: POST the body as JSON, `Authorization: Bearer <token>` only when a token
is configured (`token_file`, the systemd credential `siren_<id>_token` or the
environment variable `SIREN_<ID>_TOKEN`).  2xx is an acknowledgement (its JSON
`id`, when present, becomes the provider id); 429, 5xx, timeouts and connection
errors are retried (honouring `Retry-After`); any other status is permanent.
MQTT: see `warning.delivery.siren_mqtt` for the acknowledgement format.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any, Protocol

import requests
import structlog

from warning import log
from warning.areas import AreaIndex
from warning.delivery.channel import (
    ChannelSettings,
    LogChannel,
    Outcome,
    SecretGetter,
    SendResult,
)
from warning.delivery.siren_mqtt import MqttBrokers, broker_address
from warning.http import retry_after_s
from warning.model import ChannelKind, ConfigError, Delivery, Problem, SirenCommand
from warning.settings import Settings, SirenSettings
from warning.settings import secret as settings_secret

logger = structlog.get_logger(__name__)


#: The keys of a siren body, in the order controllers document them.
BODY_KEYS = ("command", "duration_s", "change_id", "drill")

#: Seconds allowed to open a TCP connection to a controller.
CONNECT_TIMEOUT_S = 5.0


class SirenProtocol(enum.Enum):
    """How a controller is reached."""

    HTTP = "http"
    MQTT = "mqtt"


class SirenTrigger(Protocol):
    """One controller: sends a validated body once and classifies the outcome."""

    def trigger(self, body: Mapping[str, Any]) -> SendResult:
        """Attempt to trigger the siren; never raises for network trouble."""
        ...


def siren_body(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The controller body of a payload; ValueError naming what is wrong."""
    problem = _body_problem(payload)
    if problem:
        raise ValueError(problem)
    return {key: payload[key] for key in BODY_KEYS}


def _body_problem(payload: Mapping[str, Any]) -> str | None:
    """What is wrong with a siren payload, or None."""
    if set(payload) != set(BODY_KEYS):
        return f"siren payload keys must be {', '.join(BODY_KEYS)}"
    if payload["command"] not in {c.value for c in SirenCommand}:
        return f"unknown siren command {payload['command']!r}"
    duration = payload["duration_s"]
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        return "duration_s must be a positive whole number of seconds"
    if not isinstance(payload["change_id"], str) or not payload["change_id"]:
        return "change_id must be a non-empty string"
    if not isinstance(payload["drill"], bool):
        return "drill must be true or false"
    return None


class HttpSiren:
    """A controller reached by HTTP POST with an optional bearer token."""

    def __init__(
        self, url: str, token: str | None, timeout_s: float, session: requests.Session
    ) -> None:
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = (min(CONNECT_TIMEOUT_S, timeout_s), timeout_s)
        self._session = session

    def trigger(self, body: Mapping[str, Any]) -> SendResult:
        """POST the body once and classify the answer."""
        try:
            response = self._session.post(
                self._url,
                json=dict(body),
                headers=self._headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            return SendResult(Outcome.RETRY, error="siren controller timed out")
        except requests.RequestException as exc:
            return SendResult(Outcome.RETRY, error=log.mask_text(f"siren unreachable: {exc}"))
        return classify_response(response)


def classify_response(response: requests.Response, who: str = "siren controller") -> SendResult:
    """2xx acknowledged; 429 and 5xx transient; anything else permanent.

    Sirens, ntfy servers and webhook receivers answer alike; `who` names the
    peer in the error.
    """
    status = response.status_code
    if 200 <= status < 300:
        return SendResult(Outcome.SENT, provider_id=_response_id(response))
    error = f"{who} answered HTTP {status}"
    if status == 429 or status >= 500:
        wait = retry_after_s(response.headers.get("Retry-After"))
        return SendResult(Outcome.RETRY, error=error, retry_after_s=wait, code=str(status))
    return SendResult(Outcome.FAILED, error=error, code=str(status))


def _response_id(response: requests.Response) -> str | None:
    """The controller's `id` for this trigger, when its JSON answer carries one."""
    try:
        document = response.json()
    except ValueError:
        return None
    ident = document.get("id") if isinstance(document, dict) else None
    return str(ident) if ident not in (None, "") else None


class SirenChannel:
    """Sirens by id; each delivery's recipient names the controller to trigger."""

    kind = ChannelKind.SIREN

    def __init__(
        self, sirens: Mapping[str, SirenTrigger], brokers: MqttBrokers | None = None
    ) -> None:
        self._sirens = dict(sirens)
        self._brokers = brokers

    def send(self, delivery: Delivery) -> SendResult:
        """Trigger the delivery's siren once; unknown sirens and bad payloads fail."""
        siren = self._sirens.get(delivery.recipient)
        if siren is None:
            return _failed(delivery, f'unknown siren "{delivery.recipient}"')
        try:
            body = siren_body(delivery.payload)
        except ValueError as exc:
            return _failed(delivery, f"invalid siren payload: {exc}")
        result = siren.trigger(body)
        logger.info(
            "siren.triggered" if result.outcome is Outcome.SENT else "siren.not_acknowledged",
            siren=delivery.recipient,
            command=body["command"],
            change_id=body["change_id"],
            outcome=result.outcome.value,
            error=result.error,
        )
        return result

    @property
    def broker_count(self) -> int:
        """How many MQTT broker connections the channel keeps."""
        return len(self._brokers) if self._brokers is not None else 0

    def close(self) -> None:
        """Disconnect the MQTT brokers, if any (HTTP needs no goodbye)."""
        if self._brokers is not None:
            self._brokers.close()


def _failed(delivery: Delivery, reason: str) -> SendResult:
    """A permanent failure, logged."""
    logger.error("siren.failed", siren=delivery.recipient, reason=reason)
    return SendResult(Outcome.FAILED, error=reason)


class LogSirenChannel(LogChannel):
    """No siren configured: log each trigger as it would be sent.

    A `LogChannel`, so whatever asks "does this channel only log?" (an operator
    command, which must never call a logged command sent) gets one answer.
    """

    def __init__(self) -> None:
        super().__init__(ChannelKind.SIREN, "no [[sirens]] configured")

    def send(self, delivery: Delivery) -> SendResult:
        """Log the trigger and report it sent."""
        with self._lock:
            number = next(self._count)
        logger.info(
            "siren.log_only",
            siren=delivery.recipient,
            change_id=delivery.change_id,
            body=dict(delivery.payload),
        )
        return SendResult(Outcome.SENT, provider_id=f"log:{number}")


# ---------------------------------------------------------------------------
# Building the channel from settings.


def siren_problems(settings: Settings, areas: AreaIndex | None = None) -> list[Problem]:
    """Every problem of the [[sirens]] entries (areas are checked when given)."""
    return _problems(str(settings.source or "settings"), settings.sirens, areas)


def _problems(
    where: str, sirens: tuple[SirenSettings, ...], areas: AreaIndex | None
) -> list[Problem]:
    """Every problem of these siren entries, located at `where`."""
    problems: list[Problem] = []
    for index, siren in enumerate(sirens):
        label = f'sirens[{index}] ("{siren.id}")'
        problems += [Problem(where, f"{label}: {m}") for m in _siren_messages(siren, areas)]
    return problems


def _siren_messages(siren: SirenSettings, areas: AreaIndex | None) -> list[str]:
    """What is wrong with one siren entry."""
    messages: list[str] = []
    if siren.protocol == SirenProtocol.HTTP.value and not re.match(r"https?://", siren.url):
        messages.append("http sirens need url = http://... or https://...")
    if siren.protocol == SirenProtocol.MQTT.value:
        messages += _mqtt_messages(siren)
    if siren.ack_timeout_s <= 0 or siren.duration_s <= 0:
        messages.append("ack_timeout_s and duration_s must be above 0")
    if not siren.areas:
        messages.append("areas is empty: the siren would never sound")
    if areas is not None:
        messages += _area_messages(siren, areas)
    return messages


def _mqtt_messages(siren: SirenSettings) -> list[str]:
    """What an MQTT siren entry lacks."""
    messages = [f"mqtt sirens need {k}" for k in ("topic", "reply_topic") if not getattr(siren, k)]
    try:
        broker_address(siren)
    except ValueError as exc:
        messages.append(str(exc))
    return messages


def _area_messages(siren: SirenSettings, areas: AreaIndex) -> list[str]:
    """Unknown area selectors of a siren."""
    try:
        areas.select(siren.areas)
    except KeyError as exc:
        return [f"areas: {exc.args[0]}"]
    return []


def siren_channel(
    settings: ChannelSettings, areas: AreaIndex | None, secret: SecretGetter = settings_secret
) -> SirenChannel | LogSirenChannel:
    """The siren channel of the settings: the log channel when no siren is configured.

    ConfigError when an entry is invalid (areas are checked when given) or a
    secret file cannot be read.
    """
    if not settings.sirens:
        logger.warning("siren.log_only_mode", reason="no [[sirens]] configured")
        return LogSirenChannel()
    problems = _problems("[[sirens]]", settings.sirens, areas)
    if problems:
        raise ConfigError(problems)
    try:
        return _build_channel(settings.sirens, secret)
    except OSError as exc:
        raise ConfigError(f"siren secret unreadable: {exc}") from None


def _build_channel(sirens: tuple[SirenSettings, ...], secret: SecretGetter) -> SirenChannel:
    """One trigger per siren; MQTT sirens of one broker share its client."""
    session = requests.Session()
    brokers = MqttBrokers()
    triggers: dict[str, SirenTrigger] = {}
    for siren in sirens:
        if siren.protocol == SirenProtocol.MQTT.value:
            env, credential = _env_name(siren.id, "PASSWORD"), _credential(siren.id, "password")
            password = secret(env, siren.password_file, credential)
            triggers[siren.id] = brokers.siren(siren, password)
        else:
            env, credential = _env_name(siren.id, "TOKEN"), _credential(siren.id, "token")
            token = secret(env, siren.token_file, credential)
            triggers[siren.id] = HttpSiren(siren.url, token, siren.ack_timeout_s, session)
    return SirenChannel(triggers, brokers)


def _env_name(siren_id: str, what: str) -> str:
    """SIREN_<ID>_<WHAT>, the id upper-cased with other characters as underscores."""
    return f"SIREN_{re.sub(r'[^A-Z0-9]', '_', siren_id.upper())}_{what}"


def _credential(siren_id: str, what: str) -> str:
    """The systemd credential holding a siren's secret: siren_<id>_token or _password."""
    return f"siren_{siren_id}_{what}"
