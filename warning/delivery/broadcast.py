"""ntfy topics and generic webhooks: broadcast posts over plain HTTP, one attempt each.

Both read the same `BroadcastPost` the Telegram channel reads, and answer
like siren controllers do (`siren.classify_response`): 2xx sent, 429 and 5xx
retried with the outbox's backoff (Retry-After as its floor), anything else
permanent.  The outbox owns retries, so nothing here sleeps.

ntfy: the post is published as JSON to the server (`topic`, `title`,
`message`, `priority`, `tags`), with a bearer token when `token_file` (or the
systemd credential `ntfy_token`) is set.

Webhook: the body is `BroadcastPost.cap_fields()` as JSON (CAP's status,
msgType, severity, headline, description, areas), for radio, TV and
mosque-speaker integrations.  With `secret_file` the body is signed:
`X-Warning-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence

import requests

from warning import log
from warning.areas import AreaIndex, load_areas
from warning.delivery.channel import ChannelSettings, Outcome, SecretGetter, SendResult
from warning.delivery.siren import classify_response
from warning.delivery.telegram import CONNECT_TIMEOUT_S, bot_api
from warning.model import ChannelKind, ConfigError, Delivery, Level, Problem, Severity
from warning.plan.payloads import BroadcastPost
from warning.settings import BroadcastKind, BroadcastSettings, Settings
from warning.settings import secret as settings_secret

#: The webhook signature header.
SIGNATURE_HEADER = "X-Warning-Signature"
#: ntfy priorities (1 min .. 5 max): AWAS rings through do-not-disturb.
NTFY_PRIORITY: Mapping[Level, int] = {Level.WASPADA: 3, Level.SIAGA: 4, Level.AWAS: 5}


def signature(key: bytes, body: bytes) -> str:
    """The webhook signature header's value: `sha256=<hex>`."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class _Poster:
    """POST a body once to a destination and classify the answer (shared by both channels)."""

    def __init__(self, timeout_s: float, session: requests.Session, who: str) -> None:
        self._timeout = (min(CONNECT_TIMEOUT_S, timeout_s), timeout_s)
        self._session = session
        self._who = who

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        """One POST; network trouble is a RETRY whose text is masked."""
        try:
            response = self._session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", **headers},
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            return SendResult(Outcome.RETRY, error=f"{self._who} timed out")
        except requests.RequestException as exc:
            return SendResult(Outcome.RETRY, error=log.mask_text(f"{self._who} unreachable: {exc}"))
        return classify_response(response, self._who)


def _post_of(delivery: Delivery) -> BroadcastPost | SendResult:
    """The delivery's post, or the permanent failure of a malformed payload."""
    try:
        return BroadcastPost.from_json(delivery.payload)
    except ValueError as exc:
        return SendResult(Outcome.FAILED, error=f"invalid broadcast payload: {exc}")


class NtfyChannel:
    """Publishes to ntfy topics; a delivery's recipient is the topic's URL."""

    kind = ChannelKind.NTFY

    def __init__(self, tokens: Mapping[str, str], timeout_s: float) -> None:
        self._tokens = dict(tokens)
        self._poster = _Poster(timeout_s, requests.Session(), "ntfy server")

    def send(self, delivery: Delivery) -> SendResult:
        """Publish the post once as ntfy JSON."""
        post = _post_of(delivery)
        if isinstance(post, SendResult):
            return post
        server, _, topic = delivery.recipient.rpartition("/")
        body = {
            "topic": topic,
            "title": post.headline,
            "message": post.text,
            "priority": 2 if post.drill or post.level is None else NTFY_PRIORITY[post.level],
            "tags": ["warning"] if not post.change.ends else ["white_check_mark"],
        }
        token = self._tokens.get(delivery.recipient)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self._poster.post(server, json.dumps(body).encode(), headers)


class WebhookChannel:
    """POSTs CAP-like JSON to receivers; a delivery's recipient is the receiver's URL."""

    kind = ChannelKind.WEBHOOK

    def __init__(self, keys: Mapping[str, bytes], timeout_s: float) -> None:
        self._keys = dict(keys)
        self._poster = _Poster(timeout_s, requests.Session(), "webhook receiver")

    def send(self, delivery: Delivery) -> SendResult:
        """POST the post's CAP fields once, signed when the receiver has a key."""
        post = _post_of(delivery)
        if isinstance(post, SendResult):
            return post
        body = json.dumps(post.cap_fields(), sort_keys=True).encode()
        key = self._keys.get(delivery.recipient)
        headers = {SIGNATURE_HEADER: signature(key, body)} if key else {}
        return self._poster.post(delivery.recipient, body, headers)


def _destinations(
    broadcasts: Sequence[BroadcastSettings], kind: BroadcastKind
) -> list[BroadcastSettings]:
    """The destinations of one kind."""
    return [b for b in broadcasts if b.kind is kind]


def _read(secret: SecretGetter, file_setting: str, credential: str, label: str) -> str | None:
    """A destination's secret; ConfigError naming the setting when its file cannot be read."""
    try:
        return secret("", file_setting, credential)
    except OSError as exc:
        raise ConfigError(Problem("[broadcast]", f"{label}: cannot read {exc.filename}")) from None


def ntfy_channel(
    settings: ChannelSettings, _areas: AreaIndex | None, secret: SecretGetter
) -> NtfyChannel:
    """The ntfy channel with each topic's token (ntfy.sh's public topics need none)."""
    tokens: dict[str, str] = {}
    for topic in _destinations(settings.broadcasts, BroadcastKind.NTFY):
        found = _read(secret, topic.token_file, "ntfy_token", f"ntfy topic {topic.address}")
        if found:
            tokens[topic.address] = found
    return NtfyChannel(tokens, settings.telegram.timeout_s)


def webhook_channel(
    settings: ChannelSettings, _areas: AreaIndex | None, secret: SecretGetter
) -> WebhookChannel:
    """The webhook channel with each receiver's HMAC key."""
    keys: dict[str, bytes] = {}
    for hook in _destinations(settings.broadcasts, BroadcastKind.WEBHOOK):
        if hook.secret_file:
            found = _read(secret, hook.secret_file, "", f"webhook {log.mask_text(hook.address)}")
            if found:
                keys[hook.address] = found.encode()
    return WebhookChannel(keys, settings.telegram.timeout_s)


def broadcast_problems(settings: Settings, areas: AreaIndex | None = None) -> list[Problem]:
    """Every problem of the broadcast destinations `warning check` reports (areas when given)."""
    problems: list[Problem] = []
    where = str(settings.source or "settings")
    for destination in settings.broadcasts:
        label = f"{destination.kind.value} {log.mask_text(destination.address)}"
        if destination.kind is not BroadcastKind.TELEGRAM and not destination.address.startswith(
            ("http://", "https://")
        ):
            problems.append(Problem(where, f"{label}: url must start with http:// or https://"))
        if areas is not None:
            try:
                areas.select(destination.areas)
            except KeyError as exc:
                problems.append(Problem(where, f"{label}: areas: {exc.args[0]}"))
    if not settings.telegram.api_base.startswith(("http://", "https://")):
        problems.append(Problem(where, "telegram.api_base must start with http:// or https://"))
    return problems


def check_broadcasts(settings: Settings) -> list[Problem]:
    """`warning check`: the destinations against the areas file, and the Telegram token.

    Telegram chats without a token are a warning: their posts would only be logged.
    """
    try:
        areas: AreaIndex | None = load_areas(settings.areas_path, settings.areas.min_polygon_share)
    except ConfigError:
        areas = None  # the areas check reports what is wrong with the file
    problems = broadcast_problems(settings, areas)
    try:
        api = bot_api(settings.telegram, settings_secret)
    except ConfigError as exc:
        return problems + list(exc.problems)
    if api is None and _destinations(settings.broadcasts, BroadcastKind.TELEGRAM):
        problems.append(
            Problem(
                str(settings.source or "settings"),
                "telegram channels are configured but no token is set (TELEGRAM_BOT_TOKEN, "
                "telegram.token_file or the credential telegram_bot_token): posts are only logged",
                severity=Severity.WARNING,
            )
        )
    return problems
