"""A cancel or a siren stop really stops: whatever was in flight, nothing of it comes after.

A SIAGA goes to 60 numbers and two sirens through the real Twilio and siren
peers; the first 8 SMS answers and the sirens' first answers stall past the
client's timeouts, so those rows are in flight (claimed) or waiting to be
retried when an operator runs `warning alert cancel` or `warning siren stop
all`.  The daemon's dispatcher keeps running meanwhile.  Afterwards no number
may receive the alert after its correction, and the last command every siren
received must be its all-clear.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.areas import city
from tests.support.builders import contact
from tests.support.operations import NOW, RULE, quake, write_config
from tests.support.peers import SirenServer, TwilioServer
from tests.support.peers.twilio import ACCOUNT_SID as SID
from warning.cli.main import main
from warning.delivery import build_channels
from warning.delivery.channel import ChannelSettings
from warning.delivery.dispatcher import Backoff, Dispatcher, worker_is_dead
from warning.plan.contacts import Contact
from warning.plan.planner import plan
from warning.rules.engine import evaluate
from warning.settings import Settings, load_settings, secret
from warning.store import outbox
from warning.store.sqlite import Store

PHONES = tuple(f"+62812{n:08d}" for n in range(60))
CONTACTS: tuple[Contact, ...] = tuple(contact(p, ["manggar"]) for p in PHONES)
SIRENS = ("sirene-manggar", "sirene-teritip")


@dataclass
class Rig:
    """A daemon's store and settings, its dispatcher sending in a thread, and the peers."""

    config: Path
    settings: Settings
    store: Store
    twilio: TwilioServer
    sirens: SirenServer


def _write_config(tmp_path: Path, twilio: TwilioServer, sirens: SirenServer) -> Path:
    """The operators' settings, SMS timing out after 0.5 s, two sirens acking within 0.5 s."""
    sirens_toml = "".join(
        f'[[sirens]]\nid = "{s}"\nurl = "{sirens.url_for("/" + s)}"\nareas = ["manggar"]\n'
        "ack_timeout_s = 0.5\n"
        for s in SIRENS
    )
    sms = "timeout_s = 0.5\nmax_per_second = 40\nconcurrency = 8\n"
    return write_config(tmp_path, twilio.url, extra=sms + sirens_toml)


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    """Peers up, a SIAGA for manggar enqueued, Twilio credentials in the environment."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t" * 32)
    with TwilioServer() as twilio, SirenServer() as sirens:
        config = _write_config(tmp_path, twilio, sirens)
        settings = load_settings(config)
        store = Store(settings.state_path)
        with store.transaction() as tx:
            transitions = evaluate([RULE], [quake(areas=("manggar",))], city(), {}, NOW)
            planned = plan(
                transitions, [RULE], CONTACTS, settings.sirens, city(), drill=False, now=NOW
            )
            store.apply_transitions(tx, transitions)
            outbox.enqueue(tx, planned)
        yield Rig(config, settings, store, twilio, sirens)


def _daemon(rig: Rig, stop: threading.Event) -> threading.Thread:
    """The running daemon's dispatcher: sends every due row until `stop`."""
    dispatcher = Dispatcher(
        rig.store,
        build_channels(ChannelSettings.of(rig.settings), city(), secret),
        rig.settings.sms,
        siren=rig.settings.siren,
        backoff=Backoff(base_s=0.05, cap_s=0.2),
    )

    def loop() -> None:
        while not stop.is_set():
            if not dispatcher.run_once():
                time.sleep(0.02)
        dispatcher.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def _operator(rig: Rig, *command: str) -> int:
    """An operator's command that leaves sending to the running daemon (--no-send)."""
    return main(["--config", str(rig.config), *command, "--actor", "operator-1", "--no-send"])


def _stalled_mid_broadcast(rig: Rig) -> None:
    """Stall the first 8 SMS past the 0.5 s timeout and every siren answer past its ack."""
    rig.twilio.stall_next(8, 1.5)
    rig.sirens.latency_s = 1.2


def _settle(rig: Rig, stop: threading.Event, thread: threading.Thread) -> None:
    """Peers answer again; let the daemon send until nothing is open, then stop it."""
    rig.sirens.latency_s = 0.0
    deadline = time.monotonic() + 30
    while outbox.open_count(rig.store) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # stalled requests still being answered arrive no later
    stop.set()
    thread.join(timeout=30)
    assert outbox.open_count(rig.store) == 0


def _bodies_per_phone(twilio: TwilioServer) -> dict[str, list[str]]:
    """Each number's received bodies in arrival order."""
    seen: dict[str, list[str]] = {}
    for request in twilio.messages():
        seen.setdefault(request.form["To"], []).append(request.form["Body"])
    return seen


def _alert_after_correction(bodies: list[str]) -> bool:
    """True when an alert text arrived after a correction (KOREKSI) to the same number."""
    corrected = False
    for body in bodies:
        if body.startswith("KOREKSI"):
            corrected = True
        elif corrected:
            return True
    return False


def _last_commands(sirens: SirenServer) -> dict[str, str]:
    """The last command each siren received, and print each siren's sequence."""
    last: dict[str, str] = {}
    for siren in SIRENS:
        commands = [c["command"] for c in sirens.commands("/" + siren)]
        print(f"{siren} received {commands}")
        last[siren] = commands[-1]
    return last


def test_a_cancel_with_deliveries_in_flight_is_the_last_word(rig: Rig) -> None:
    """`alert cancel` while 8 SMS and sirens stall: no alert after any KOREKSI; all-clear last."""
    _stalled_mid_broadcast(rig)
    stop = threading.Event()
    thread = _daemon(rig, stop)
    rig.twilio.wait_for(12, timeout=20)
    rig.sirens.wait_for(2, timeout=20)
    episode = rig.store.load_states()[(RULE.id, "manggar")].alert_id
    assert _operator(rig, "alert", "cancel", episode, "--reason", "uji coba, bukan gempa") == 0
    _settle(rig, stop, thread)
    bodies = _bodies_per_phone(rig.twilio)
    wrong = [p for p, b in bodies.items() if _alert_after_correction(b)]
    alerted = [p for p, b in bodies.items() if not b[-1].startswith("KOREKSI")]
    print(
        f"injected 8 SMS stalls of 1.5 s (timeout 0.5 s) and siren answers of 1.2 s (ack 0.5 s);"
        f" cancel mid-broadcast: {len(bodies)} numbers reached, {len(wrong)} got the alert after"
        f" KOREKSI, {len(alerted)} left with the alert as the last word"
    )
    assert wrong == []
    assert alerted == []
    assert set(_last_commands(rig.sirens).values()) == {"all-clear"}


def test_a_siren_stop_with_alert_commands_in_flight_is_the_last_command(rig: Rig) -> None:
    """`siren stop all` while both sirens stall their alert answers: all-clear is last."""
    _stalled_mid_broadcast(rig)
    stop = threading.Event()
    thread = _daemon(rig, stop)
    rig.sirens.wait_for(2, timeout=20)
    assert _operator(rig, "siren", "stop", "all") == 0
    _settle(rig, stop, thread)
    last = _last_commands(rig.sirens)
    print(f"injected siren answers of 1.2 s (ack 0.5 s); siren stop all mid-alert: last {last}")
    assert set(last.values()) == {"all-clear"}


def test_the_all_clear_stays_last_across_lease_expiry_and_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A siren stalls the alert past a 0.5 s lease; the cancel commits; a restart sends: no alert.

    The siren covers Manggar and Lamaru, so its alert command also spoke of
    Lamaru, which the cancel of Manggar's episode leaves warned: the cancel does
    not supersede it.  Its sender's lease ran out and the sender died (an earlier
    boot's worker), so the restarted dispatcher takes the command up again.  The
    stored fence of the siren's all-clear keeps it from being sent after the
    cancel committed; before, the restart sent the alert again, then the all-clear.
    """
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t" * 32)
    with TwilioServer() as twilio, SirenServer(latency_s=2.0) as controller:
        siren = f'[[sirens]]\nid = "sirene-pantai"\nurl = "{controller.url_for("/p")}"\n'
        extra = siren + 'areas = ["manggar", "lamaru"]\nack_timeout_s = 5.0\n'
        config = write_config(tmp_path, twilio.url, extra=extra)
        settings = load_settings(config)
        store = Store(settings.state_path)
        with store.transaction() as tx:
            transitions = evaluate([RULE], [quake()], city(), {}, NOW)
            planned = plan(transitions, [RULE], (), settings.sirens, city(), drill=False, now=NOW)
            store.apply_transitions(tx, transitions)
            outbox.enqueue(tx, planned)
        channels = build_channels(ChannelSettings.of(settings), city(), secret)
        dead = Dispatcher(
            store, channels, settings.sms, lease_s=0.5, worker="dispatcher:earlier-boot:1:x"
        )
        first = threading.Thread(target=dead.run_once, daemon=True)
        first.start()
        controller.wait_for(1, timeout=10)
        time.sleep(0.6)  # the lease runs out while the controller still holds the alert
        episode = store.load_states()[(RULE.id, "manggar")].alert_id
        args = ["alert", "cancel", episode, "--reason", "uji coba, bukan gempa"]
        assert main(["--config", str(config), *args, "--actor", "op", "--no-send"]) == 0
        committed = time.monotonic()
        controller.latency_s = 0.0
        outbox.release_workers(store, worker_is_dead, now=time.time())  # the restart
        restarted = Dispatcher(
            store, build_channels(ChannelSettings.of(settings), city(), secret), settings.sms
        )
        assert restarted.drain(20.0)
        restarted.close()
        first.join(timeout=10)
        heard = controller.received()
    after = [_json_command(r.body) for r in heard if r.at > committed]
    print(f"injected a 2 s siren stall past a 0.5 s lease, cancel, restart; siren heard {after}")
    assert after == ["all-clear"]


def _json_command(body: bytes) -> str:
    """The command of a siren request body."""
    return str(json.loads(body)["command"])
