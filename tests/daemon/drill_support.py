"""Siren controllers that can refuse, and a drill test configuration (peers on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.peers.base import Recorded, Reply
from tests.support.peers.siren import SirenServer
from tests.support.peers.twilio import ACCOUNT_SID as SID

TOKEN = "d" * 32
TSUNAMI_DRILL = ROOT / "rules" / "tests" / "latihan-tsunami-siaga-balikpapan.yaml"
FLOOD_DRILL = ROOT / "rules" / "tests" / "latihan-banjir-balikpapan-utara.yaml"


class SirenControllers(SirenServer):
    """Siren controllers at `<url>/<siren id>`; those in `refusing` answer their status."""

    def __init__(self, refusing: Mapping[str, int] | None = None) -> None:
        super().__init__()
        self.refusing = dict(refusing or {})

    def respond(self, request: Recorded) -> Reply:
        """The refusal configured for this siren, else an acknowledgement."""
        status = self.refusing.get(request.path.strip("/"))
        if status is None:
            return super().respond(request)
        return Reply(status, b'{"error": "refused"}', (("Content-Type", "application/json"),))


@dataclass(frozen=True, slots=True)
class Person:
    """A row of the test contacts CSV."""

    phone: str
    areas: str
    drill: bool
    group: str = "officials"
    language: str = "id"


#: Coastal people (the tsunami drill reaches them) and one in the north (the flood drill).
PEOPLE = (
    Person("+6281100000001", "manggar", drill=True),
    Person("+6281100000002", "lamaru", drill=False),
    Person("+6281100000003", "klandasan-ilir", drill=True, group="rt-heads"),
    Person("+6281100000004", "prapatan", drill=False, group="rt-heads"),
    Person("+6281100000005", "graha-indah", drill=True),
    Person("+6281100000006", "karang-joang", drill=False, group="siskamling"),
)

#: Two coastal sirens and one inland (never triggered by a tsunami drill).
SIRENS = (
    ("sirene-manggar", "manggar lamaru"),
    ("sirene-klandasan", "klandasan-ilir klandasan-ulu"),
    ("sirene-graha-indah", "graha-indah"),
)


def drill_config(
    tmp_path: Path,
    twilio_url: str,
    siren_url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    people: Sequence[Person] = PEOPLE,
    siren_command: str = "test",
) -> Path:
    """A settings file sending SMS to `twilio_url` and sirens to `siren_url`; returns its path."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    contacts = tmp_path / "contacts.csv"
    rows = [
        f"{p.phone},Kontak {p.phone[-2:]},{p.areas},{p.group},{p.language},{str(p.drill).lower()}"
        for p in people
    ]
    contacts.write_text("phone,name,areas,group,language,drill\n" + "\n".join(rows) + "\n")
    sirens = "".join(
        f'\n[[sirens]]\nid = "{sid}"\nurl = "{siren_url}/{sid}"\n'
        f"areas = {json.dumps(areas.split())}\nack_timeout_s = 5\n"
        for sid, areas in SIRENS
    )
    config = tmp_path / "warning.toml"
    config.write_text(
        f'[state]\npath = "{tmp_path / "warning.db"}"\n'
        f'[cap]\ndirectory = "{tmp_path / "cap"}"\n'
        f'[contacts]\npath = "{contacts}"\n'
        f'[health]\nlisten = ""\n'
        f'[drill]\nsiren_command = "{siren_command}"\n'
        f'[sms]\napi_base = "{twilio_url}"\nfrom = "+6281199999999"\nattempts = 2\n'
        f"{sirens}"
    )
    return config
