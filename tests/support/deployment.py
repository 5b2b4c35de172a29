"""A test deployment: `warning.toml`, contacts and rules in a temporary directory.

`write_config` points the enabled feeds at FeedServer paths (`/<feed name>`),
`[sms] api_base` at the TwilioServer, three `[[sirens]]` at the SirenServer,
`[state] path` and `[cap] directory` into the directory, and `[health] listen`
at a free local port; every other feed is disabled.  The contacts cover every
coastal kelurahan with officials, rt-heads, siskamling and public members
(fake numbers +6281200000xxx) plus inland contacts who must not hear about
the sea.  `Deployment.env` carries fake Twilio credentials, so the daemon uses
the real Twilio channel against the local server.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from tests.support.paths import AREAS_FILE, ROOT, free_port
from tests.support.peers.feed import FeedServer
from tests.support.peers.siren import SirenServer
from tests.support.peers.twilio import ACCOUNT_SID, AUTH_TOKEN, TwilioServer
from warning.model import ConfigError
from warning.plan.contacts import Contact
from warning.settings import load_settings

SIREN_TOKEN = "sirene-token-uji"

#: Coastal kelurahan of the shipped areas.geojson, by siren.
SIRENS: Mapping[str, tuple[str, ...]] = {
    "sirene-timur": ("manggar", "lamaru", "teritip", "manggar-baru"),
    "sirene-kota": ("klandasan-ulu", "klandasan-ilir", "prapatan", "damai", "damai-bahagia"),
    "sirene-barat": ("kariangau", "baru-tengah", "baru-ulu", "marga-sari", "karang-jati"),
}
SIRENS_SELATAN: tuple[str, ...] = ("sepinggan-raya",)
COASTAL: tuple[str, ...] = (*(k for ks in SIRENS.values() for k in ks), *SIRENS_SELATAN)
INLAND: tuple[str, ...] = ("gunung-bahagia", "batu-ampar", "karang-joang", "sumber-rejo")
GROUPS: tuple[str, ...] = ("officials", "rt-heads", "siskamling", "public")


@dataclass(frozen=True, slots=True)
class TestContact:
    """One row of the contacts CSV (`area`: kelurahan ids, `;`-separated as in the file)."""

    __test__ = False  # a row, not a test class, though pytest sees the name

    phone: str
    name: str
    area: str
    group: str
    language: str = "id"
    drill: bool = True

    @property
    def row(self) -> str:
        """The CSV line."""
        drill = str(self.drill).lower()
        return f"{self.phone},{self.name},{self.area},{self.group},{self.language},{drill}"

    def as_contact(self) -> Contact:
        """The contact as the planner reads it from the file."""
        areas = frozenset(self.area.split(";"))
        return Contact(self.phone, self.name, areas, self.group, self.language, self.drill)


def contacts() -> tuple[TestContact, ...]:
    """One contact per group per coastal kelurahan, then one official per inland kelurahan."""
    rows: list[TestContact] = []
    for area in COASTAL:
        for group in GROUPS:
            rows.append(_contact(len(rows) + 1, area, group))
    for area in INLAND:
        rows.append(_contact(len(rows) + 1, area, "officials"))
    return tuple(rows)


def contact_of(area: str, group: str, **changes: object) -> TestContact:
    """The deployment's contact of `group` in `area`, with `changes` (drill, language)."""
    found = next(c for c in contacts() if c.area == area and c.group == group)
    return replace(found, **changes)  # type: ignore[arg-type]


def extra_contact(n: int, area: str, group: str, **changes: object) -> TestContact:
    """The `n`-th contact (from 1) beyond the deployment's, numbered after them."""
    return replace(_contact(len(contacts()) + n, area, group), **changes)  # type: ignore[arg-type]


def planner_contacts() -> tuple[Contact, ...]:
    """The deployment's test contacts as the planner reads them."""
    return tuple(c.as_contact() for c in contacts())


def _contact(n: int, area: str, group: str) -> TestContact:
    return TestContact(f"+6281200000{n:03d}", f"Uji {group} {area}", area, group)


def write_contacts(path: Path, people: Sequence[TestContact]) -> Path:
    """The contacts CSV of `people` at `path`."""
    lines = ["phone,name,areas,group,language,drill", *(p.row for p in people)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def table(header: str, values: Mapping[str, object]) -> str:
    """One TOML table (`[[x]]` for `header="[x]"`); values as JSON, which TOML reads alike here."""
    return "\n".join([f"[{header}]", *(f"{k} = {json.dumps(v)}" for k, v in values.items())])


def feed_tables(urls: Mapping[str, str], intervals: Mapping[str, float] | None = None) -> list[str]:
    """Every registered feed: those in `urls` enabled there (at `intervals`), the rest off."""
    from warning.feeds import FEEDS  # noqa: PLC0415 - keep peers importable alone

    tables = []
    for name in FEEDS:
        values: dict[str, object] = {"url": urls[name]} if name in urls else {"enabled": False}
        if name in urls and name in (intervals or {}):
            values["interval_s"] = (intervals or {})[name]
        tables.append(table(f"feeds.{name}", values))
    return tables


def siren_tables(
    sirens: Mapping[str, Sequence[str]], url: Callable[[str], str], **options: object
) -> list[str]:
    """One `[[sirens]]` per siren id (covering its kelurahan) at `url(id)`."""
    return [
        table("[sirens]", {"id": siren, "url": url(siren), "areas": list(areas), **options})
        for siren, areas in sirens.items()
    ]


def local_tables(directory: Path) -> dict[str, dict[str, object]]:
    """State and CAP in `directory`, the shipped rules and areas: a daemon that runs offline."""
    return {
        "state": {"path": str(directory / "w.db")},
        "cap": {"directory": str(directory / "cap")},
        "rules": {"directory": str(ROOT / "rules")},
        "areas": {"path": str(AREAS_FILE)},
    }


def write_settings_file(
    directory: Path,
    tables: Mapping[str, Mapping[str, object]],
    people: Sequence[TestContact],
    *,
    more: Sequence[str] = (),
    extra: str = "",
) -> Path:
    """The one settings writer: `warning.toml` and `contacts.csv` in `directory`.

    `[contacts] path`, `tables` in order, then `more` rendered tables (feeds,
    sirens), then `extra` as written: it may continue the last table.
    """
    directory.mkdir(parents=True, exist_ok=True)
    csv = write_contacts(directory / "contacts.csv", people)
    rendered = [table("contacts", {"path": str(csv)})]
    rendered += [table(name, values) for name, values in tables.items()]
    config = directory / "warning.toml"
    config.write_text("\n\n".join([*rendered, *more]) + "\n" + extra, encoding="utf-8")
    return config


@dataclass(frozen=True)
class Deployment:
    """What `write_config` wrote, and how to start `warning` on it."""

    directory: Path
    config: Path
    state: Path
    rules_dir: Path
    cap_dir: Path
    health_port: int
    contacts: tuple[TestContact, ...]
    sirens: Mapping[str, tuple[str, ...]]
    env: dict[str, str] = field(default_factory=dict)

    def command(self, *args: str) -> list[str]:
        """`python -m warning --config <toml> <args>`."""
        return [sys.executable, "-m", "warning", "--config", str(self.config), *args]

    @property
    def health_url(self) -> str:
        """Base URL of /healthz and /metrics."""
        return f"http://127.0.0.1:{self.health_port}"

    def phones(self, areas: Sequence[str], groups: Sequence[str] = GROUPS) -> set[str]:
        """The numbers of the contacts in `areas` and `groups`."""
        return {c.phone for c in self.contacts if c.area in areas and c.group in groups}


def write_config(
    directory: Path,
    *,
    feeds: FeedServer,
    twilio: TwilioServer,
    sirens: SirenServer,
    intervals: Mapping[str, float] | None = None,
    down_after_failures: int = 3,
    extra: str = "",
) -> Deployment:
    """Write the deployment; `intervals` names the enabled feeds (default: inatews every 1 s)."""
    intervals = intervals or {"inatews": 1.0}
    directory.mkdir(parents=True, exist_ok=True)
    rules_dir = directory / "rules"
    if not rules_dir.exists():
        shutil.copytree(ROOT / "rules", rules_dir, ignore=shutil.ignore_patterns("tests"))
    deployment = Deployment(
        directory=directory,
        config=directory / "warning.toml",
        state=directory / "warning.db",
        rules_dir=rules_dir,
        cap_dir=directory / "cap",
        health_port=free_port(),
        contacts=contacts(),
        sirens={**SIRENS, "sirene-selatan": SIRENS_SELATAN},
        env=environment(),
    )
    urls = {name: feeds.url_for(f"/{name}") for name in intervals}
    more = [
        *feed_tables(urls, intervals),
        *siren_tables(deployment.sirens, lambda s: sirens.url_for("/" + s), ack_timeout_s=2.0),
    ]
    tables = _tables(deployment, twilio, down_after_failures)
    write_settings_file(directory, tables, deployment.contacts, more=more, extra=extra)
    return deployment


def _tables(
    deployment: Deployment, twilio: TwilioServer, down_after: int
) -> dict[str, dict[str, object]]:
    """The deployment's settings tables other than feeds and sirens."""
    return {
        "state": {"path": str(deployment.state)},
        "rules": {"directory": str(deployment.rules_dir)},
        "areas": {"path": str(AREAS_FILE)},
        "log": {"level": "info", "format": "json"},
        "http": {"connect_timeout_s": 1.0, "read_timeout_s": 2.0, "attempts": 1, "backoff_s": 0.1},
        "sms": {
            "api_base": twilio.url,
            "from": "BPBD-BPN",
            "max_per_second": 50.0,
            "concurrency": 8,
            "timeout_s": 5.0,
        },
        "siren_test": {"enabled": False},
        "health": {
            "listen": f"127.0.0.1:{deployment.health_port}",
            "heartbeat_s": 1,
            "down_after_failures": down_after,
            "degraded_after_failures": 1,
        },
        "cap": {"directory": str(deployment.cap_dir)},
    }


def environment() -> dict[str, str]:
    """The process environment plus fake credentials and this checkout on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SIREN_", "ACK_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        SIREN_SIRENE_TIMUR_TOKEN=SIREN_TOKEN,
    )
    env.pop("CONFIGURATION_DIRECTORY", None)
    env.pop("STATE_DIRECTORY", None)
    return env


def settings_file(directory: Path, text: str) -> Path:
    """A `warning.toml` in `directory` holding exactly `text` (no contacts, no defaults)."""
    path = directory / "warning.toml"
    path.write_text(text, encoding="utf-8")
    return path


def settings_refusal(path: Path) -> str:
    """Every problem `load_settings` names in the file at `path`, which it must refuse."""
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return str(caught.value)
