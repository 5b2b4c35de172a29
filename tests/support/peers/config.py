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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.paths import ROOT, free_port
from tests.support.peers.feed import FeedServer
from tests.support.peers.siren import SirenServer
from tests.support.peers.twilio import ACCOUNT_SID, AUTH_TOKEN, TwilioServer

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
    """One row of the contacts CSV."""

    phone: str
    name: str
    area: str
    group: str
    language: str = "id"
    drill: bool = True


def contacts() -> tuple[TestContact, ...]:
    """One contact per group per coastal kelurahan, then one official per inland kelurahan."""
    rows: list[TestContact] = []
    for area in COASTAL:
        for group in GROUPS:
            rows.append(_contact(len(rows) + 1, area, group))
    for area in INLAND:
        rows.append(_contact(len(rows) + 1, area, "officials"))
    return tuple(rows)


def _contact(n: int, area: str, group: str) -> TestContact:
    return TestContact(f"+6281200000{n:03d}", f"Uji {group} {area}", area, group)


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
    people = contacts()
    csv = directory / "contacts.csv"
    lines = ["phone,name,areas,group,language,drill"]
    lines += [
        f"{c.phone},{c.name},{c.area},{c.group},{c.language},{str(c.drill).lower()}" for c in people
    ]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    port = free_port()
    deployment = Deployment(
        directory=directory,
        config=directory / "warning.toml",
        state=directory / "warning.db",
        rules_dir=rules_dir,
        cap_dir=directory / "cap",
        health_port=port,
        contacts=people,
        sirens={**SIRENS, "sirene-selatan": SIRENS_SELATAN},
        env=_env(),
    )
    text = _toml(
        deployment,
        feeds=feeds,
        twilio=twilio,
        sirens=sirens,
        intervals=intervals,
        down_after=down_after_failures,
        csv=csv,
    )
    deployment.config.write_text(text + extra, encoding="utf-8")
    return deployment


def _toml(
    deployment: Deployment,
    *,
    feeds: FeedServer,
    twilio: TwilioServer,
    sirens: SirenServer,
    intervals: Mapping[str, float],
    down_after: int,
    csv: Path,
) -> str:
    """The settings file's text."""
    from warning.feeds import FEEDS  # noqa: PLC0415 - keep peers importable alone

    q = json.dumps  # a JSON string is a valid TOML basic string
    parts = [
        f"[state]\npath = {q(str(deployment.state))}",
        f"[rules]\ndirectory = {q(str(deployment.rules_dir))}",
        f"[areas]\npath = {q(str(ROOT / 'areas.geojson'))}",
        '[log]\nlevel = "info"\nformat = "json"',
        "[http]\nconnect_timeout_s = 1.0\nread_timeout_s = 2.0\nattempts = 1\nbackoff_s = 0.1",
        f'[sms]\napi_base = {q(twilio.url)}\nfrom = "BPBD-BPN"\n'
        "max_per_second = 50.0\nconcurrency = 8\ntimeout_s = 5.0",
        f"[contacts]\npath = {q(str(csv))}",
        "[siren_test]\nenabled = false",
        f'[health]\nlisten = "127.0.0.1:{deployment.health_port}"\nheartbeat_s = 1\n'
        f"down_after_failures = {down_after}\ndegraded_after_failures = 1",
        f"[cap]\ndirectory = {q(str(deployment.cap_dir))}",
    ]
    for name in FEEDS:
        if name in intervals:
            url = feeds.url_for(f"/{name}")
            parts.append(f"[feeds.{name}]\nurl = {q(url)}\ninterval_s = {intervals[name]}")
        else:
            parts.append(f"[feeds.{name}]\nenabled = false")
    for siren_id, areas in deployment.sirens.items():
        parts.append(
            f"[[sirens]]\nid = {q(siren_id)}\nurl = {q(sirens.url_for('/' + siren_id))}\n"
            f"areas = {json.dumps(list(areas))}\nack_timeout_s = 2.0"
        )
    return "\n\n".join(parts) + "\n"


def _env() -> dict[str, str]:
    """The process environment plus fake credentials and this checkout on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SIREN_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        SIREN_SIRENE_TIMUR_TOKEN=SIREN_TOKEN,
    )
    env.pop("CONFIGURATION_DIRECTORY", None)
    env.pop("STATE_DIRECTORY", None)
    return env
