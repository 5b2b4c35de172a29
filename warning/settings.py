"""Settings from `warning.toml`: one schema, embedded defaults, every mistake at once.

The schema is the section dataclasses below: each field's default and its
`doc` metadata drive validation, the generated `systemd/warning.example.toml`
and the README reference.  The daemon runs with no file at all.  Secrets are
never settings values: they come from the environment, `*_file` keys or
systemd credentials (`$CREDENTIALS_DIRECTORY`), see `secret()`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warning.model import ConfigError, Problem

#: The checkout this package lives in; defaults point into it outside systemd.
CHECKOUT = Path(__file__).resolve().parent.parent
#: The unit's StateDirectory= and where its LoadCredential= lines read secrets.
SYSTEMD_STATE = Path("/var/lib/warning")
SYSTEMD_CREDENTIALS = Path("/etc/warning/credentials")


def _doc(text: str, default: str | float | bool) -> Any:
    """A dataclass field with an immutable default and its documentation."""
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True)
class StateSettings:
    """[state]: where alert states, the outbox and the audit log are kept."""

    path: str = _doc(
        "SQLite database file. Empty: $STATE_DIRECTORY/warning.db under systemd, "
        "else var/warning.db in the checkout.",
        "",
    )
    retention_days: int = _doc(
        "Delivered outbox rows older than this many days are pruned (alerts and the "
        "audit log never are).",
        90,
    )


@dataclass(frozen=True)
class RulesSettings:
    """[rules]: the officials' rule files."""

    directory: str = _doc(
        "Directory of rule files (*.yaml). Empty: $CONFIGURATION_DIRECTORY/rules under "
        "systemd, else rules/ in the checkout.",
        "",
    )


@dataclass(frozen=True)
class AreasSettings:
    """[areas]: the district polygons alerts are addressed to."""

    path: str = _doc(
        "GeoJSON of kelurahan and kecamatan. Empty: $CONFIGURATION_DIRECTORY/areas.geojson "
        "under systemd, else areas.geojson in the checkout.",
        "",
    )
    min_polygon_share: float = _doc(
        "A warning polygon (BMKG nowcast CAP) covers a kelurahan when it covers at least "
        "this share (0-1) of the kelurahan's area; a polygon grazing its edge does not. "
        "A CAP naming the kecamatan covers all its kelurahan regardless.",
        0.20,
    )


@dataclass(frozen=True)
class LogSettings:
    """[log]: structured logging on stderr."""

    level: str = _doc("Minimum level: debug, info, warning, error.", "info")
    format: str = _doc(
        "auto (console on a terminal, JSON lines otherwise), console or json.", "auto"
    )


@dataclass(frozen=True)
class HttpSettings:
    """[http]: the one network seam every feed goes through."""

    contact: str = _doc(
        "Contact (e-mail or URL) put into the User-Agent so feed operators can reach us.",
        "bpbd@balikpapan.go.id",
    )
    connect_timeout_s: float = _doc("Seconds to wait for a TCP/TLS connection.", 5.0)
    read_timeout_s: float = _doc("Seconds to wait between bytes of a response.", 15.0)
    total_timeout_s: float = _doc(
        "Longest one fetch may take, retries and their waits included: a server that "
        "trickles bytes is cut off here.",
        60.0,
    )
    max_bytes: int = _doc("Largest response body accepted, enforced while streaming.", 5_000_000)
    attempts: int = _doc("Attempts per fetch for transient errors (connection, 429, 5xx).", 3)
    backoff_s: float = _doc("First retry delay; doubles with jitter per attempt.", 1.0)
    max_backoff_s: float = _doc("Longest single wait between attempts, Retry-After included.", 30.0)


@dataclass(frozen=True)
class FeedSettings:
    """[feeds.<name>]: one polled feed. Feed-specific keys live in `options`."""

    name: str
    enabled: bool = True
    url: str = ""
    interval_s: float = 60.0
    max_age_s: float = 0.0
    options: Mapping[str, Any] = field(default_factory=dict)


#: Keys every [feeds.<name>] table accepts, with their documentation.
FEED_COMMON_DOCS: Mapping[str, str] = {
    "enabled": "Poll this feed.",
    "url": "Where to fetch it.",
    "interval_s": "Seconds between polls.",
    "max_age_s": "Observations older than this are ignored when polling (0: no limit).",
}


@dataclass(frozen=True)
class FeedDefaults:
    """Embedded defaults of one feed, and the extra keys it accepts."""

    url: str
    interval_s: float
    max_age_s: float
    enabled: bool = True
    options: Mapping[str, tuple[Any, str]] = field(default_factory=dict)


#: Options of the Open-Meteo forecast feed: it asks for every kelurahan at once, at a
#: point inside each (computed from the areas file).
_OPEN_METEO_OPTIONS: Mapping[str, tuple[Any, str]] = {
    "forecast_days": (2, "Days of hourly forecast per request."),
}

#: The marine feed asks for each coastal kelurahan at a point at sea off its coast.
_OPEN_METEO_MARINE_OPTIONS: Mapping[str, tuple[Any, str]] = {
    **_OPEN_METEO_OPTIONS,
    "offshore_km": (
        3.0,
        "How far off each coastal kelurahan's coast its marine model point lies (km).",
    ),
}

#: Every feed the daemon knows, with its defaults. Feed-specific options are
#: `key: (default, doc)`; they are validated like any other key.
FEED_DEFAULTS: Mapping[str, FeedDefaults] = {
    "inatews": FeedDefaults(
        url="https://bmkg-content-inatews.storage.googleapis.com/datagempa.json",
        # Every 5 s: 12 requests a minute (BMKG asks for at most 60 per minute per IP) to
        # the Google Cloud Storage bucket BMKG publishes through, each a conditional GET of
        # a ~2 KB file; publish -> siren then waits 2.5 s on average for the poll.
        interval_s=5,
        max_age_s=6 * 3600,
        options={
            "province": ("KALTIM", "wzarea province that can mean Balikpapan (case-insensitive)."),
            "district_contains": (
                "BALIKPAPAN",
                "wzarea district text that means Balikpapan (case-insensitive substring).",
            ),
            "nearby": (
                [
                    "KALTIM PENAJAM-PASER-UTARA",
                    "KALTIM PASER",
                    "KALTIM KUTAI-KARTANEGARA",
                    "KALTIM SAMARINDA",
                    "SULBAR PASANGKAYU",
                    "SULBAR MAMUJU",
                    "SULBAR MAJENE",
                    "SULTENG DONGGALA",
                    "SULTENG PALU",
                ],
                "Districts around Balikpapan whose warnings officials hear about even when "
                "Balikpapan is not named: 'PROVINCE DISTRICT' (case-insensitive; the district "
                "text matches BMKG's as a substring, '-' and ' ' alike).",
            ),
        },
    ),
    "bmkg-autogempa": FeedDefaults(
        url="https://data.bmkg.go.id/DataMKG/TEWS/autogempa.json", interval_s=60, max_age_s=3600
    ),
    "bmkg-gempaterkini": FeedDefaults(
        url="https://data.bmkg.go.id/DataMKG/TEWS/gempaterkini.json", interval_s=60, max_age_s=3600
    ),
    "bmkg-gempadirasakan": FeedDefaults(
        url="https://data.bmkg.go.id/DataMKG/TEWS/gempadirasakan.json",
        interval_s=180,
        max_age_s=3600,
    ),
    "usgs": FeedDefaults(
        url="https://earthquake.usgs.gov/earthquakes/feed/v1.0/summary/4.5_day.geojson",
        interval_s=60,
        max_age_s=3600,
        options={
            "bbox": (
                [95.0, -11.0, 141.0, 6.0],
                "Only events inside [min_lon, min_lat, max_lon, max_lat] (default: Indonesia).",
            ),
        },
    ),
    "bmkg-nowcast": FeedDefaults(
        url="https://www.bmkg.go.id/alerts/nowcast/id/rss.xml",
        interval_s=300,
        max_age_s=0,
        options={
            "province": (
                "Kalimantan Timur",
                "Fetch only CAP documents whose RSS title or description names this province "
                "(case-insensitive; empty: all).",
            ),
            "allowed_hosts": (
                [],
                "Hosts the RSS may link CAP documents on; empty: the host of `url` only. "
                "A link elsewhere (127.0.0.1, a private range, 169.254.169.254) is refused.",
            ),
            "max_documents": (
                30,
                "CAP documents read per poll at most (the first listed); the rest are logged.",
            ),
            "max_bytes": (
                5_000_000,
                "Bytes of CAP documents held per poll at most; documents past it are logged.",
            ),
        },
    ),
    "bmkg-forecast": FeedDefaults(
        url="https://api.bmkg.go.id/publik/prakiraan-cuaca",
        interval_s=3600,
        max_age_s=0,
        options={
            "requests_per_minute": (
                50,
                "Requests spread to at most this many per minute (BMKG allows 60 per IP).",
            ),
        },
    ),
    "open-meteo": FeedDefaults(
        url="https://api.open-meteo.com/v1/forecast",
        interval_s=900,
        max_age_s=0,
        options=_OPEN_METEO_OPTIONS,
    ),
    "open-meteo-marine": FeedDefaults(
        url="https://marine-api.open-meteo.com/v1/marine",
        interval_s=3600,
        max_age_s=0,
        options=_OPEN_METEO_MARINE_OPTIONS,
    ),
    "big-tide": FeedDefaults(
        url="http://tides.big.go.id:8888/kacrut/0020BLPP02/temp.csv",
        interval_s=300,
        max_age_s=6 * 3600,
        options={
            "station": ("0020BLPP02", "BIG tide-gauge station code (0020BLPP02 = Balikpapan)."),
            "timezone": ("UTC", "Time zone of the CSV's timestamps: UTC, WIB or WITA."),
            "spike_tolerance_m": (
                0.1,
                "A sensor reading counts when it is within this many metres of the previous one.",
            ),
            "station_lon": (116.79, "Longitude of the gauge (approximate: Balikpapan harbour)."),
            "station_lat": (-1.27, "Latitude of the gauge (approximate: Balikpapan harbour)."),
            "areas": (
                [
                    "kariangau",
                    "baru-tengah",
                    "baru-ulu",
                    "marga-sari",
                    "karang-jati",
                    "prapatan",
                    "klandasan-ulu",
                    "klandasan-ilir",
                    "damai",
                ],
                "Kelurahan whose coast the gauge's readings stand for (ids or selectors). "
                "Default: the shore of Balikpapan bay and the harbour, from Kariangau to "
                "Klandasan; the open coast east of the city lies beyond what a bay gauge "
                "tells reliably.",
            ),
        },
    ),
}


@dataclass(frozen=True)
class SmsSettings:
    """[sms]: Twilio. Credentials come from TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN."""

    api_base: str = _doc(
        "Twilio REST base URL; a Twilio-compatible gateway or a test server can stand in.",
        "https://api.twilio.com",
    )
    account_sid_file: str = _doc("File holding the account SID (else TWILIO_ACCOUNT_SID).", "")
    auth_token_file: str = _doc(
        "File holding the auth token (else TWILIO_AUTH_TOKEN or the systemd credential "
        "twilio_auth_token).",
        "",
    )
    messaging_service_sid: str = _doc("Messaging Service SID used as the sender.", "")
    from_: str = _doc(
        "Sender: a number or a registered alphanumeric sender ID (key name `from`).", ""
    )
    validity_period_s: int = _doc(
        "ValidityPeriod: a warning that cannot arrive in time must not arrive late.", 600
    )
    max_per_second: float = _doc("Send rate cap; set it to your account's MPS limit.", 10.0)
    concurrency: int = _doc("Sending threads.", 32)
    timeout_s: float = _doc("HTTP timeout of one Twilio API call.", 10.0)
    attempts: int = _doc("Attempts for transient errors (429, 5xx, timeouts).", 5)


@dataclass(frozen=True)
class ContactsSettings:
    """[contacts]: who receives SMS (CSV: phone,name,areas,group,language,drill)."""

    path: str = _doc("Contacts CSV. Empty: no contacts (a warning in `warning check`).", "")


@dataclass(frozen=True)
class SirenSettings:
    """[[sirens]]: one siren controller and the kelurahan it covers."""

    id: str
    protocol: str = "http"
    url: str = ""
    areas: tuple[str, ...] = ()
    token_file: str = ""
    topic: str = ""
    reply_topic: str = ""
    username: str = ""
    password_file: str = ""
    tls: bool = False
    ack_timeout_s: float = 10.0
    duration_s: int = 180


#: Keys a [[sirens]] entry accepts, with their documentation.
SIREN_DOCS: Mapping[str, str] = {
    "id": "Unique siren id (used in logs and `warning siren stop`).",
    "protocol": "http or mqtt.",
    "url": "http: the controller's URL; mqtt: mqtt://host:port or mqtts://host:port.",
    "areas": "Kelurahan / kecamatan ids or selectors this siren covers.",
    "token_file": "http: file with a bearer token (or the systemd credential siren_<id>_token).",
    "topic": "mqtt: topic the command is published to (QoS 1).",
    "reply_topic": "mqtt: topic the controller acknowledges on.",
    "username": "mqtt: user name.",
    "password_file": "mqtt: file with the password.",
    "tls": "mqtt: use TLS.",
    "ack_timeout_s": "Seconds to wait for an acknowledgement.",
    "duration_s": "How long the siren sounds per command.",
}


@dataclass(frozen=True)
class SirenDeliverySettings:
    """[siren]: how the outbox retries siren commands (each controller is a [[sirens]] table)."""

    attempts: int = _doc("Attempts per siren command for transient errors (timeouts, 5xx).", 5)


@dataclass(frozen=True)
class SirenTestSettings:
    """[siren_test]: BMKG tests its sirens on the 26th; ours follow."""

    enabled: bool = _doc("Run the monthly siren test.", True)
    day: int = _doc("Day of the month.", 26)
    time: str = _doc("Local time (WITA), HH:MM.", "10:00")
    command: str = _doc("test (audible) or silent-test.", "silent-test")


@dataclass(frozen=True)
class DrillSettings:
    """[drill]: how drills reach people and sirens."""

    siren_command: str = _doc("test, silent-test or none: what sirens get in a drill.", "test")


@dataclass(frozen=True)
class HealthSettings:
    """[health]: /healthz and /metrics."""

    listen: str = _doc("host:port for /healthz and /metrics; empty disables.", "127.0.0.1:9464")
    heartbeat_s: float = _doc("Scheduler heartbeat interval (also the systemd watchdog ping).", 10)
    down_after_failures: int = _doc("Consecutive failures before a feed is `down`.", 5)
    degraded_after_failures: int = _doc("Consecutive failures before a feed is `degraded`.", 1)
    max_down_s: float = _doc("/healthz fails when a feed has been down this long.", 1800)
    max_delivery_wait_s: float = _doc(
        "/healthz fails while a live SMS has waited this long after a failed attempt "
        "(a provider outage).",
        120,
    )


@dataclass(frozen=True)
class CapSettings:
    """[cap]: CAP 1.2 documents and their index feed."""

    directory: str = _doc(
        "Where CAP documents are written. Empty: var/cap or $STATE_DIRECTORY/cap.", ""
    )
    sender: str = _doc("CAP <sender>.", "bpbd@balikpapan.go.id")
    sender_name: str = _doc(
        "CAP <senderName>: who issues the alerts, as people know them.", "BPBD Kota Balikpapan"
    )
    web: str = _doc(
        "CAP <web>: where people read more (e.g. the console's public map, <public_url>/peta).",
        "https://bpbd.balikpapan.go.id",
    )
    contact: str = _doc(
        "CAP <contact>: who to reach about an alert.",
        "Pusdalops BPBD Kota Balikpapan, telepon darurat 112",
    )
    expires_h: float = _doc(
        "Hours after it is sent that a document expires when its rule sets no expiry "
        "(aggregators require <expires> on every alert).",
        6.0,
    )


@dataclass(frozen=True)
class ConsoleSettings:
    """[console]: the operations-room web console (`warning console`), a separate process."""

    listen: str = _doc(
        "host:port the console serves on (put a TLS proxy in front of it).", "127.0.0.1:8080"
    )
    tile_url: str = _doc(
        "Optional map tile server, e.g. https://tile.example/{z}/{x}/{y}.png. Empty: "
        "polygons only (works without internet).",
        "",
    )
    public_url: str = _doc("The console's public base URL (links in CAP documents).", "")
    session_hours: float = _doc("Hours a login stays valid.", 12.0)
    login_attempts: int = _doc(
        "Wrong passwords allowed per user name within login_window_s (per client address: "
        "four times as many).",
        5,
    )
    login_window_s: float = _doc("Seconds over which wrong passwords are counted.", 900.0)


@dataclass(frozen=True)
class Settings:
    """Every setting, validated and defaulted. `source` is the file read, if any."""

    source: Path | None = None
    state: StateSettings = field(default_factory=StateSettings)
    rules: RulesSettings = field(default_factory=RulesSettings)
    areas: AreasSettings = field(default_factory=AreasSettings)
    log: LogSettings = field(default_factory=LogSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    feeds: Mapping[str, FeedSettings] = field(default_factory=dict)
    sms: SmsSettings = field(default_factory=SmsSettings)
    contacts: ContactsSettings = field(default_factory=ContactsSettings)
    siren: SirenDeliverySettings = field(default_factory=SirenDeliverySettings)
    sirens: tuple[SirenSettings, ...] = ()
    siren_test: SirenTestSettings = field(default_factory=SirenTestSettings)
    drill: DrillSettings = field(default_factory=DrillSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    cap: CapSettings = field(default_factory=CapSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)

    # Paths resolved against the environment (systemd directories) or the checkout.

    @property
    def state_path(self) -> Path:
        """The SQLite file."""
        systemd = SYSTEMD_STATE / "warning.db"
        # The installed daemon's database is the state to use when nothing names another:
        # an operator's shell has no $STATE_DIRECTORY, but must find what the daemon writes.
        fallback = SYSTEMD_STATE if systemd.is_file() else CHECKOUT / "var"
        return _resolve(self.state.path, "STATE_DIRECTORY", "warning.db", fallback)

    @property
    def rules_dir(self) -> Path:
        """The officials' rule files."""
        return _resolve(self.rules.directory, "CONFIGURATION_DIRECTORY", "rules", CHECKOUT)

    @property
    def areas_path(self) -> Path:
        """The areas GeoJSON (load it with `areas.min_polygon_share`)."""
        return _resolve(self.areas.path, "CONFIGURATION_DIRECTORY", "areas.geojson", CHECKOUT)

    @property
    def cap_dir(self) -> Path:
        """Where CAP documents go."""
        return _resolve(self.cap.directory, "STATE_DIRECTORY", "cap", CHECKOUT / "var")

    @property
    def contacts_path(self) -> Path | None:
        """The contacts CSV, or None when none is configured."""
        return Path(self.contacts.path) if self.contacts.path else None


def _resolve(value: str, env_dir: str, name: str, fallback: Path) -> Path:
    """An explicit setting, else the systemd directory, else the checkout."""
    if value:
        return Path(value)
    directory = os.environ.get(env_dir, "").split(":")[0]
    return Path(directory) / name if directory else fallback / name


# ---------------------------------------------------------------------------
# Loading and validation.

#: Simple sections: TOML table name -> dataclass.
SECTIONS: Mapping[str, type[Any]] = {
    "state": StateSettings,
    "rules": RulesSettings,
    "areas": AreasSettings,
    "log": LogSettings,
    "http": HttpSettings,
    "sms": SmsSettings,
    "contacts": ContactsSettings,
    "siren": SirenDeliverySettings,
    "siren_test": SirenTestSettings,
    "drill": DrillSettings,
    "health": HealthSettings,
    "cap": CapSettings,
    "console": ConsoleSettings,
}

#: TOML keys that are Python keywords.
_KEY_ALIASES = {"from": "from_"}


def toml_key(name: str) -> str:
    """The TOML spelling of a dataclass field name."""
    return {v: k for k, v in _KEY_ALIASES.items()}.get(name, name)


def default_settings_path() -> Path | None:
    """Under systemd, `$CONFIGURATION_DIRECTORY/warning.toml` when it exists."""
    directory = os.environ.get("CONFIGURATION_DIRECTORY", "").split(":")[0]
    candidate = Path(directory) / "warning.toml" if directory else None
    return candidate if candidate is not None and candidate.is_file() else None


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate `path` (None: embedded defaults); raise ConfigError with every problem."""
    path = path or default_settings_path()
    if path is None:
        return _build({}, None)
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(Problem(where, "settings file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(where, f"cannot read settings: {exc}")) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(Problem(where, f"not valid TOML: {exc}")) from None
    return _build(raw, path, path.read_text(encoding="utf-8"))


def _build(raw: Mapping[str, Any], path: Path | None, text: str = "") -> Settings:
    """Validate the parsed TOML and build `Settings`."""
    where = str(path) if path else "<defaults>"
    problems: list[Problem] = _limit_problems(raw, where, text)
    known = [*SECTIONS, "feeds", "sirens"]
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in known:
            problems.append(Problem(where, _unknown(name, known, "section")))
        elif name in SECTIONS:
            sections[name] = _section(where, name, SECTIONS[name], value, problems)
    feeds = _feeds(where, raw.get("feeds", {}), problems)
    sirens = _sirens(where, raw.get("sirens", []), problems)
    share = getattr(sections.get("areas"), "min_polygon_share", 0.2)
    if not 0.0 < share <= 1.0:
        problems.append(Problem(where, f"areas.min_polygon_share must be in (0, 1], not {share}"))
    if problems:
        raise ConfigError(problems)
    return Settings(source=path, feeds=feeds, sirens=sirens, **sections)


#: The valid range of every number (inclusive), by key; `*` stands for a feed or a siren.
#: A value outside stalls or crashes the daemon (a rate of 0 sends nothing, ever).
LIMITS: Mapping[str, tuple[float, float]] = {
    "state.retention_days": (1, 3650),
    "http.connect_timeout_s": (0.1, 120),
    "http.read_timeout_s": (0.1, 600),
    "http.max_bytes": (1024, 1_000_000_000),
    "http.attempts": (1, 20),
    "http.backoff_s": (0, 600),
    "http.max_backoff_s": (0, 3600),
    "sms.validity_period_s": (1, 36_000),
    "sms.max_per_second": (1, 1000),
    "sms.concurrency": (1, 256),
    "sms.timeout_s": (0.1, 120),
    "sms.attempts": (1, 100),
    "siren.attempts": (1, 100),
    "siren_test.day": (1, 28),
    "health.heartbeat_s": (1, 3600),
    "health.down_after_failures": (1, 10_000),
    "health.degraded_after_failures": (1, 10_000),
    "health.max_down_s": (1, 30 * 86_400),
    "health.max_delivery_wait_s": (1, 86_400),
    "feeds.*.interval_s": (1, 86_400),
    "feeds.*.max_age_s": (0, 365 * 86_400),
    "sirens.*.ack_timeout_s": (0.1, 300),
    "sirens.*.duration_s": (1, 3600),
}

#: Settings that are a time of day: HH:MM, 00:00 to 23:59.
TIMES = frozenset({"siren_test.time"})
_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")


def _limit_problems(raw: Mapping[str, Any], where: str, text: str) -> list[Problem]:
    """Every number outside its range and every malformed time, at file:line."""
    problems: list[Problem] = []
    for table, key, generic, value in _leaves(raw):
        here = _at(where, text, table, key)
        name = f"{table}.{key}"
        if generic in TIMES and isinstance(value, str) and not _HHMM.fullmatch(value):
            problems.append(
                Problem(here, f"{name} must be a time HH:MM (00:00-23:59), not {value!r}")
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        low, high = LIMITS.get(generic, (-math.inf, math.inf))
        if not math.isfinite(value) or not low <= value <= high:
            # NaN and infinities pass no comparison as they should: never a setting.
            valid = (
                f"from {_plain(low)} to {_plain(high)}" if generic in LIMITS else "a finite number"
            )
            problems.append(Problem(here, f"{name} must be {valid}, not {value!r}"))
    return problems


def _plain(number: float) -> str:
    """A bound as people write it: 1000000000, 0.1."""
    return str(int(number)) if float(number).is_integer() else str(number)


def _leaves(raw: Mapping[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """(TOML table, key, key with `*` for the feed or siren, value) of every setting."""
    for section, value in raw.items():
        if section == "feeds" and isinstance(value, dict):
            for feed, table in value.items():
                if isinstance(table, dict):
                    for key, item in table.items():
                        yield f"feeds.{feed}", key, f"feeds.*.{key}", item
        elif section == "sirens" and isinstance(value, list):
            for index, table in enumerate(value):
                if isinstance(table, dict):
                    for key, item in table.items():
                        yield f"sirens[{index}]", key, f"sirens.*.{key}", item
        elif isinstance(value, dict):
            for key, item in value.items():
                yield section, key, f"{section}.{key}", item


def _at(where: str, text: str, table: str, key: str) -> str:
    """`file:line` of `key` in `table` (the n-th [[sirens]] for `sirens[n]`), else the file."""
    name, _, index = table.partition("[")
    wanted = int(index.rstrip("]")) if index else 0
    current, seen = "", -1
    assignment = re.compile(rf"\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.fullmatch(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?", line)
        if header:
            current = header.group(1)
            seen += current == name
            continue
        if current == name and seen == wanted and assignment.match(line):
            return f"{where}:{number}"
    return where


def _unknown(key: str, valid: list[str], what: str = "key") -> str:
    """`unknown key "x" (did you mean "y"?)` with the closest valid spelling."""
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f' (did you mean "{close[0]}"?)' if close else f" (valid: {', '.join(sorted(valid))})"
    return f'unknown {what} "{key}"{hint}'


def _section(where: str, name: str, cls: type[Any], value: Any, problems: list[Problem]) -> Any:
    """Build one simple section dataclass, collecting problems."""
    if not isinstance(value, dict):
        problems.append(Problem(where, f"[{name}] must be a table"))
        return cls()
    hints = typing.get_type_hints(cls)
    fields = {toml_key(f.name): f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        if key not in fields:
            problems.append(
                Problem(where, _unknown(f"{name}.{key}", [f"{name}.{k}" for k in fields]))
            )
            continue
        checked = _check_type(f"{name}.{key}", item, hints[fields[key]], where, problems)
        if checked is not _INVALID:
            kwargs[fields[key]] = checked
    return cls(**kwargs)


_INVALID = object()


def _check_type(key: str, value: Any, hint: Any, where: str, problems: list[Problem]) -> Any:
    """Return `value` converted to `hint`, or `_INVALID` after recording a problem."""
    origin = typing.get_origin(hint)
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            return _INVALID  # `_limit_problems` reports it, at its line
        value = float(value) if ok else value
    elif hint is str:
        ok = isinstance(value, str)
    elif origin in (tuple, list):
        ok = isinstance(value, list)
        value = tuple(value) if ok and origin is tuple else value
    else:
        ok = True
    if not ok:
        problems.append(Problem(where, f"{key} must be {_type_word(hint)}, not {value!r}"))
        return _INVALID
    return value


def _type_word(hint: Any) -> str:
    """Human words for a type hint."""
    words = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "a string",
    }
    if hint in words:
        return words[hint]
    return "a list" if typing.get_origin(hint) in (tuple, list, types.GenericAlias) else str(hint)


def _feeds(where: str, raw: Any, problems: list[Problem]) -> Mapping[str, FeedSettings]:
    """Every known feed with defaults, overridden by [feeds.<name>] tables."""
    if not isinstance(raw, dict):
        problems.append(Problem(where, "[feeds] must hold tables [feeds.<name>]"))
        raw = {}
    for name in raw:
        if name not in FEED_DEFAULTS:
            problems.append(
                Problem(
                    where, _unknown(f"feeds.{name}", [f"feeds.{n}" for n in FEED_DEFAULTS], "feed")
                )
            )
    return {
        name: _feed(where, name, d, raw.get(name, {}), problems)
        for name, d in FEED_DEFAULTS.items()
    }


def _feed(
    where: str, name: str, defaults: FeedDefaults, raw: Any, problems: list[Problem]
) -> FeedSettings:
    """One feed's settings with its defaults and validated options."""
    common: dict[str, Any] = {
        "enabled": defaults.enabled,
        "url": defaults.url,
        "interval_s": float(defaults.interval_s),
        "max_age_s": float(defaults.max_age_s),
    }
    options = {key: default for key, (default, _) in defaults.options.items()}
    hints = typing.get_type_hints(FeedSettings)
    if not isinstance(raw, dict):
        problems.append(Problem(where, f"[feeds.{name}] must be a table"))
        raw = {}
    valid = [*common, *options]
    for key, value in raw.items():
        path = f"feeds.{name}.{key}"
        if key in common:
            checked = _check_type(path, value, hints[key], where, problems)
            common[key] = common[key] if checked is _INVALID else checked
        elif key in options:
            checked = _check_type(path, value, type(options[key]), where, problems)
            options[key] = options[key] if checked is _INVALID else checked
        else:
            problems.append(Problem(where, _unknown(path, [f"feeds.{name}.{k}" for k in valid])))
    return FeedSettings(name=name, options=options, **common)


def _sirens(where: str, raw: Any, problems: list[Problem]) -> tuple[SirenSettings, ...]:
    """The [[sirens]] array of tables."""
    if not isinstance(raw, list):
        problems.append(Problem(where, "sirens must be an array of tables [[sirens]]"))
        return ()
    hints = typing.get_type_hints(SirenSettings)
    sirens: list[SirenSettings] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        label = f"sirens[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            problems.append(Problem(where, f"{label} needs an id (a non-empty string)"))
            continue
        kwargs: dict[str, Any] = {}
        for key, value in item.items():
            if key not in SIREN_DOCS:
                problems.append(
                    Problem(where, _unknown(f"{label}.{key}", [f"{label}.{k}" for k in SIREN_DOCS]))
                )
                continue
            checked = _check_type(f"{label}.{key}", value, hints[key], where, problems)
            if checked is not _INVALID:
                kwargs[key] = checked
        if kwargs.get("protocol", "http") not in ("http", "mqtt"):
            problems.append(Problem(where, f"{label}.protocol must be http or mqtt"))
        if item["id"] in seen:
            problems.append(Problem(where, f'{label}: duplicate siren id "{item["id"]}"'))
        seen.add(item["id"])
        sirens.append(SirenSettings(**kwargs))
    return tuple(sirens)


# ---------------------------------------------------------------------------
# Secrets.


def secret(env: str, file_setting: str = "", credential: str = "") -> str | None:
    """A secret from a `*_file` setting, the systemd credential or the environment.

    Order: an explicit file wins, then `$CREDENTIALS_DIRECTORY/<credential>`,
    then `/etc/warning/credentials/<credential>` (where the unit's
    LoadCredential= reads them), then the environment variable. Returns None when none is set.
    """
    if file_setting:
        return Path(file_setting).read_text(encoding="utf-8").strip()
    # The daemon gets $CREDENTIALS_DIRECTORY from LoadCredential=; an operator's shell
    # (root) reads the same files where the unit loads them from.
    for directory in (os.environ.get("CREDENTIALS_DIRECTORY", ""), str(SYSTEMD_CREDENTIALS)):
        if credential and directory and (Path(directory) / credential).is_file():
            return (Path(directory) / credential).read_text(encoding="utf-8").strip()
    value = os.environ.get(env, "").strip()
    return value or None


# ---------------------------------------------------------------------------
# The commented sample, generated from the schema.


def example_toml() -> str:
    """A commented `warning.toml` with every key at its default."""
    lines = [
        "# warning.toml: every key with its default. Generated from warning/settings.py;",
        "# regenerate with `warning settings example > systemd/warning.example.toml`.",
        "# Secrets never go here: use TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN, *_file keys",
        "# or systemd credentials (LoadCredential=).",
    ]
    for name, cls in SECTIONS.items():
        lines += ["", f"# {cls.__doc__}", f"[{name}]"]
        for f in dataclasses.fields(cls):
            lines += [f"# {f.metadata['doc']}", f"{toml_key(f.name)} = {_toml_value(f.default)}"]
    for name, d in FEED_DEFAULTS.items():
        lines += ["", f"[feeds.{name}]"]
        values = {
            "enabled": d.enabled,
            "url": d.url,
            "interval_s": float(d.interval_s),
            "max_age_s": float(d.max_age_s),
        }
        for key, value in values.items():
            lines += [f"# {FEED_COMMON_DOCS[key]}", f"{key} = {_toml_value(value)}"]
        for key, (default, doc) in d.options.items():
            lines += [f"# {doc}", f"{key} = {_toml_value(default)}"]
    lines += ["", "# One [[sirens]] table per siren controller, for example:"]
    lines += ["# [[sirens]]"] + [f"# {key}: {doc}" for key, doc in SIREN_DOCS.items()]
    lines += [
        '# id = "sirene-manggar"',
        '# protocol = "http"',
        '# url = "http://10.0.0.21/api/siren"',
        '# areas = ["manggar", "lamaru"]',
    ]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    """A TOML literal for a default value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)
