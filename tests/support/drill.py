"""Siren controllers that can refuse, and a drill test configuration (peers on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.support.deployment import (
    TestContact,
    contact_of,
    extra_contact,
    siren_tables,
    write_settings_file,
)
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


#: The drill contacts a tsunami drill texts (one official, one RT head on the coast) and
#: the one a flood drill in the north texts (beyond the deployment's inland contacts).
COAST_OFFICIAL = contact_of("manggar", "officials", drill=True)
COAST_RT = contact_of("klandasan-ilir", "rt-heads", drill=True)
NORTH = extra_contact(1, "graha-indah", "officials", drill=True)

#: Deployment contacts at the coast (the tsunami drill reaches them) and in the north
#: (the flood drill), drill=true or not.
PEOPLE = (
    COAST_OFFICIAL,
    contact_of("lamaru", "officials", drill=False),
    COAST_RT,
    contact_of("prapatan", "rt-heads", drill=False),
    NORTH,
    contact_of("karang-joang", "officials", drill=False),
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
