"""Siren controllers that can refuse, and a drill test configuration (peers on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.support.deployment import TestContact, siren_tables, write_settings_file
from tests.support.paths import ROOT
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


def person(
    phone: str, areas: str, drill: bool, group: str = "officials", language: str = "id"
) -> TestContact:
    """A test contact of the drill deployment (named after its number)."""
    return TestContact(phone, f"Kontak {phone[-2:]}", areas, group, language, drill)


#: Coastal people (the tsunami drill reaches them) and one in the north (the flood drill).
PEOPLE = (
    person("+6281100000001", "manggar", drill=True),
    person("+6281100000002", "lamaru", drill=False),
    person("+6281100000003", "klandasan-ilir", drill=True, group="rt-heads"),
    person("+6281100000004", "prapatan", drill=False, group="rt-heads"),
    person("+6281100000005", "graha-indah", drill=True),
    person("+6281100000006", "karang-joang", drill=False, group="siskamling"),
)

#: Two coastal sirens and one inland (never triggered by a tsunami drill).
SIRENS = {
    "sirene-manggar": ("manggar", "lamaru"),
    "sirene-klandasan": ("klandasan-ilir", "klandasan-ulu"),
    "sirene-graha-indah": ("graha-indah",),
}


def drill_config(
    tmp_path: Path,
    twilio_url: str,
    siren_url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    people: Sequence[TestContact] = PEOPLE,
    siren_command: str = "test",
) -> Path:
    """A settings file sending SMS to `twilio_url` and sirens to `siren_url`; returns its path."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    tables: dict[str, dict[str, object]] = {
        "state": {"path": str(tmp_path / "warning.db")},
        "cap": {"directory": str(tmp_path / "cap")},
        "health": {"listen": ""},
        "drill": {"siren_command": siren_command},
        "sms": {"api_base": twilio_url, "from": "+6281199999999", "attempts": 2},
    }
    sirens = siren_tables(SIRENS, lambda s: f"{siren_url}/{s}", ack_timeout_s=5)
    return write_settings_file(tmp_path, tables, people, more=sirens)
