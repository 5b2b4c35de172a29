"""A daemon's state as operators find it: a real engine episode, its deliveries sent.

The alert is made the way the pipeline makes one (engine.evaluate -> plan ->
apply_transitions + enqueue in one transaction) and its rows are sent through
the real channels in log mode (no Twilio credentials, no sirens configured,
CAP into a temporary directory), so outbox rows, CAP journals and states are
exactly what a cancel meets in production.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from tests.support.areas import city
from tests.support.builders import rule
from tests.support.deployment import contact_of, write_settings_file
from tests.support.paths import AREAS_FILE
from warning.delivery import build_channels
from warning.delivery.channel import ChannelSettings
from warning.delivery.dispatcher import Dispatcher
from warning.model import Action, Observation, ObservationKind, Transition
from warning.plan.contacts import Contact
from warning.plan.planner import plan
from warning.rules.engine import evaluate
from warning.settings import Settings, SirenSettings, load_settings
from warning.store import outbox
from warning.store.sqlite import Store

NOW = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
RULE = rule("gempa", actions=(Action.SMS, Action.SIREN, Action.CAP))
SIRENS = (
    SirenSettings(id="sirene-manggar", areas=("manggar",)),
    SirenSettings(id="sirene-kota", areas=("balikpapan-kota",)),
)
#: Four of the deployment's contacts (tests.support.deployment), none marked for drills.
PEOPLE = (
    contact_of("manggar", "officials", drill=False),
    contact_of("lamaru", "public", language="en", drill=False),
    # Balikpapan Kota: never hears of this alert.
    contact_of("prapatan", "public", drill=False),
    # Unsubscribed (`send_all` opts it out): its SMS fails.
    contact_of("manggar", "rt-heads", drill=False),
)
OFFICIAL, PUBLIC_EN, UNAFFECTED, OPTED_OUT = (p.phone for p in PEOPLE)
CONTACTS: tuple[Contact, ...] = tuple(p.as_contact() for p in PEOPLE)


def quake(event_id: str = "ev-1", areas: Sequence[str] = ("manggar", "lamaru")) -> Observation:
    """An earthquake report naming kelurahan."""
    return Observation(
        source="bmkg-autogempa",
        kind=ObservationKind.EARTHQUAKE,
        event_id=event_id,
        time=NOW,
        values={"magnitude": 6.1, "depth_km": 10.0},
        area_ids=tuple(areas),
    )


def write_config(tmp_path: Path, api_base: str = "http://127.0.0.1:9", extra: str = "") -> Path:
    """A settings file for the CLI: state, areas, contacts, CAP dir and SMS in tmp_path.

    `extra` continues the `[sms]` table (or adds tables after it).
    """
    (tmp_path / "rules").mkdir(exist_ok=True)
    tables: dict[str, dict[str, object]] = {
        "state": {"path": str(tmp_path / "state.db")},
        "areas": {"path": str(AREAS_FILE)},
        "rules": {"directory": str(tmp_path / "rules")},
        "cap": {"directory": str(tmp_path / "cap")},
        "sms": {"api_base": api_base, "from": "BPBD-BPN"},
    }
    config = write_settings_file(tmp_path, tables, PEOPLE, extra=extra)
    Store(tmp_path / "state.db").close()  # the daemon ran: commands never create a database
    return config


def settings_of(config: Path) -> Settings:
    """The settings the CLI would read."""
    return load_settings(config)


def fire(store: Store, observation: Observation, now: datetime = NOW) -> list[Transition]:
    """Evaluate and commit like the pipeline: states and deliveries in one transaction."""
    with store.transaction() as tx:
        states = store.load_states()
        transitions = evaluate([RULE], [observation], city(), states, now)
        planned = plan(transitions, [RULE], CONTACTS, SIRENS, city(), drill=False, now=now)
        store.apply_transitions(tx, transitions)
        outbox.enqueue(tx, planned)
    return transitions


def no_secrets(_env: str, _file: str = "", _credential: str = "") -> str | None:
    """No Twilio credentials, whatever the environment says: the log channel sends."""
    return None


def send_all(store: Store, settings: Settings) -> None:
    """Send every open row through the log-mode channels (the opted-out number fails)."""
    with store.transaction() as tx:
        outbox.opt_out(tx, OPTED_OUT, "21610", NOW)
    dispatcher = Dispatcher(
        store, build_channels(ChannelSettings.of(settings), city(), no_secrets), settings.sms
    )
    assert dispatcher.drain(30.0)
    dispatcher.close()
