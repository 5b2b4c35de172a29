"""The console's operations without a browser: accounts, two-person rule, silences, status.

Everything runs on a real store and the shipped rules; the CLI is run as a
subprocess where the contract is the command line (`warning console user ...`).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses

from tests.support.paths import ROOT, free_port
from tests.support.pipeline import AFTER_PD1, BASE, PD1, make_rig, write_settings
from warning.cli.status import render_text
from warning.console import data
from warning.model import Observation, ObservationKind
from warning.operations import OperationError, OperatorSettings, accounts, approvals, silences
from warning.operations.actions import SendRequest
from warning.settings import Settings
from warning.store import console as db
from warning.store.console import Role
from warning.store.sqlite import Store
from warning.store.status import status_report

NOW = datetime(2026, 3, 10, 3, 20, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A deployment with the shipped rules and the test contacts; the daemon made its database."""
    found = write_settings(tmp_path)
    Store(found.state_path).close()  # operator actions never create a database
    return found


@pytest.fixture
def operator(settings: Settings) -> OperatorSettings:
    """The sections of that deployment which operator actions read."""
    return OperatorSettings.of(settings)


def _warning(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    assert settings.source is not None
    return subprocess.run(
        [sys.executable, "-m", "warning", "--config", str(settings.source), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_user_add_reads_the_password_from_stdin_and_stores_only_a_hash(settings: Settings) -> None:
    """`console user add NAME --role ROLE` with the password on stdin; argon2 hash, not the text."""
    done = _warning(
        settings,
        "console",
        "user",
        "add",
        "siti",
        "--role",
        "approver",
        stdin="kata-sandi-panjang\n",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = db.account(Store(settings.state_path), "siti")
    assert found is not None
    assert found.role is Role.APPROVER
    assert found.password_hash.startswith("$argon2id$")
    assert "kata-sandi-panjang" not in found.password_hash + done.stdout + done.stderr


def test_user_passwd_and_remove_end_the_old_password_and_the_account(settings: Settings) -> None:
    """passwd replaces the password (old one refused); remove deletes the account."""
    store = Store(settings.state_path)
    _warning(
        settings, "console", "user", "add", "budi", "--role", "operator", stdin="pertama-panjang\n"
    )
    assert (
        _warning(
            settings, "console", "user", "passwd", "budi", stdin="kedua-yang-panjang\n"
        ).returncode
        == 0
    )
    with pytest.raises(OperationError):
        accounts.login(
            store,
            settings.console,
            "budi",
            "pertama-panjang",
            address="a",
            previous_token=None,
            now=NOW,
        )
    assert accounts.login(
        store,
        settings.console,
        "budi",
        "kedua-yang-panjang",
        address="a",
        previous_token=None,
        now=NOW,
    )
    assert _warning(settings, "console", "user", "remove", "budi").returncode == 0
    assert db.account(store, "budi") is None
    refused = _warning(settings, "console", "user", "remove", "budi")
    assert refused.returncode == 1
    assert "no console user" in refused.stdout


def test_a_short_password_or_unknown_role_is_refused(settings: Settings) -> None:
    """Passwords under 10 characters and roles outside the four are refused with a reason."""
    short = _warning(
        settings, "console", "user", "add", "ani", "--role", "operator", stdin="pendek\n"
    )
    assert short.returncode == 1
    assert "at least 10" in short.stdout
    with pytest.raises(OperationError, match="unknown role"):
        accounts.add_user(
            Store(settings.state_path), "ani", "root", "cukup-panjang-sekali", who="t", now=NOW
        )


def _request(level: str = "siaga", siren: bool = False) -> SendRequest:
    return SendRequest("gunung-bahagia", level, "Banjir, menjauh dari sungai", siren=siren)


def test_a_manual_waspada_without_sirens_is_sent_at_once(operator: OperatorSettings) -> None:
    """Below SIAGA and without sirens no second operator is needed."""
    done = approvals.request_manual(operator, _request("waspada"), "ops1", NOW)
    assert done.change_id is not None
    assert done.approval_id is None


def test_a_manual_siaga_or_siren_waits_and_only_another_approver_may_approve(
    settings: Settings, operator: OperatorSettings
) -> None:
    """SIAGA (or sirens) waits; neither the requester nor a mere operator may approve it."""
    store = Store(settings.state_path)
    for request in (_request("siaga"), _request("waspada", siren=True)):
        assert approvals.needs_approval(request)
    done = approvals.request_manual(operator, _request("siaga"), "ops1", NOW)
    assert done.approval_id is not None
    rows = store.connection().execute("SELECT count(*) FROM outbox").fetchone()[0]
    assert rows == 0
    with pytest.raises(OperationError, match="cannot approve"):
        approvals.approve(operator, done.approval_id, "ops1", Role.ADMIN, NOW)
    with pytest.raises(OperationError, match="only an approver"):
        approvals.approve(operator, done.approval_id, "ops3", Role.OPERATOR, NOW)
    change_id = approvals.approve(operator, done.approval_id, "ops2", Role.APPROVER, NOW)
    assert change_id.startswith("manual-")
    assert store.connection().execute("SELECT count(*) FROM outbox").fetchone()[0] > 0
    with pytest.raises(OperationError, match="no pending"):
        approvals.approve(operator, done.approval_id, "ops4", Role.APPROVER, NOW)


def _quake(now: datetime) -> Observation:
    """A shallow M6.2 quake 30 km off Balikpapan: gempa-dekat fires."""
    return Observation(
        source="bmkg-autogempa",
        kind=ObservationKind.EARTHQUAKE,
        event_id="uji-gempa-1",
        time=now - timedelta(minutes=2),
        values={"magnitude": 6.2, "depth_km": 10.0, "tsunami_potential": False},
        lon=116.95,
        lat=-1.45,
    )


def _silence(
    operator: OperatorSettings,
    rule_id: str,
    reason: str,
    *,
    now: datetime = NOW,
    until: datetime | None = None,
) -> int:
    """`ops1` silences `rule_id` at `now` until `until` (an hour later unless given)."""
    end = until if until is not None else now + timedelta(hours=1)
    return silences.silence(operator, rule_id, until=end, reason=reason, who="ops1", now=now)


def test_a_silenced_rule_still_fires_but_notifies_nobody(
    settings: Settings, operator: OperatorSettings
) -> None:
    """While `gempa-dekat` is silenced its alert is in the state, with no outbox row."""
    rig = make_rig(settings)
    _silence(operator, "gempa-dekat", "uji sensor", until=NOW + timedelta(hours=2))
    rig.pipeline.inject([_quake(NOW)], NOW)
    assert any(rule == "gempa-dekat" for rule, _area in rig.firing())
    assert not [r for r in rig.outbox() if r["rule_id"] == "gempa-dekat"]


def test_the_same_quake_notifies_without_a_silence(settings: Settings) -> None:
    """The control case: without the silence the quake alert is planned."""
    rig = make_rig(settings)
    rig.pipeline.inject([_quake(NOW)], NOW)
    assert [r for r in rig.outbox() if r["rule_id"] == "gempa-dekat"]


@responses.activate
def test_a_silence_never_holds_back_a_bmkg_tsunami_relay(
    settings: Settings, operator: OperatorSettings
) -> None:
    """Silencing the tsunami rule leaves the InaTEWS SIAGA relay's SMS and sirens planned."""
    rig = make_rig(settings)
    rule = next(r for r in silences.rule_ids(operator) if r.startswith("tsunami"))
    _silence(
        operator,
        rule,
        "salah",
        now=AFTER_PD1 - timedelta(minutes=1),
        until=AFTER_PD1 + timedelta(hours=1),
    )
    responses.add(responses.GET, f"{BASE}/inatews", body=PD1.read_bytes())
    rig.pipeline.poll("inatews")
    assert [r for r in rig.outbox("sms") if r["rule_id"] == rule]


def test_silences_are_listed_by_warning_status_and_refused_without_a_reason(
    settings: Settings, operator: OperatorSettings
) -> None:
    """`warning status` shows the silence with its end and reason; an empty reason is refused."""
    with pytest.raises(OperationError, match="reason"):
        _silence(operator, "gempa-dekat", " ")
    with pytest.raises(OperationError, match="unknown rule"):
        _silence(operator, "tidak-ada", "r")
    now = datetime.now(UTC)
    _silence(operator, "gempa-dekat", "perawatan sensor", now=now)
    report = status_report(settings, now)
    assert [s["rule"] for s in report["silences"]] == ["gempa-dekat"]
    assert "silenced: gempa-dekat" in render_text(report)
    assert "perawatan sensor" in render_text(report)


def test_first_look_prints_an_admin_password_once_and_it_logs_in(settings: Settings) -> None:
    """`console --first-look` on a store without accounts creates `admin` and says so once."""
    port = free_port()
    config = Path(str(settings.source))
    config.write_text(config.read_text() + f'\n[console]\nlisten = "127.0.0.1:{port}"\n')
    command = [sys.executable, "-m", "warning", "--config", str(config), "console", "--first-look"]
    for expected in (True, False):
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
        finally:
            process.terminate()
            process.wait(20)
            if process.stdout is not None:
                process.stdout.close()
        assert first.startswith("first look: log in as admin") is expected
        if expected:
            password = first.rsplit(" ", 1)[1].strip()
    store = Store(settings.state_path)
    done = accounts.login(
        store, settings.console, "admin", password, address="a", previous_token=None, now=NOW
    )
    assert done.session.role is Role.ADMIN


def test_the_map_overlays_are_recent_nowcast_polygons_and_quake_epicentres(
    settings: Settings,
) -> None:
    """BMKG nowcast polygons and quake epicentres of the last hours are drawn, older ones not."""
    store = Store(settings.state_path)
    ring = ((116.8, -1.3), (116.9, -1.3), (116.9, -1.2), (116.8, -1.3))
    nowcast = Observation(
        source="bmkg-nowcast",
        kind=ObservationKind.WEATHER_WARNING,
        event_id="nowcast-1",
        time=NOW - timedelta(minutes=30),
        values={"severity": "Moderate"},
        polygons=(ring,),
    )
    old = dataclasses.replace(_quake(NOW - timedelta(hours=8)), event_id="uji-gempa-lama")
    with store.transaction() as tx:
        store.remember_observations(tx, [nowcast, _quake(NOW), old], NOW)
    drawn = data.overlays(store, NOW)
    assert [n["rings"][0][0] for n in drawn["nowcasts"]] == [[-1.3, 116.8]]
    assert [(q["lat"], q["lon"], q["magnitude"]) for q in drawn["quakes"]] == [(-1.45, 116.95, 6.2)]


def test_an_unknown_user_costs_a_verification_of_the_same_argon2_parameters() -> None:
    """The dummy hash an unknown name is checked against has the real hashes' parameters.

    It is written out rather than hashed at import, so it must not drift from what
    `PasswordHasher` uses: a cheaper one would tell an attacker which names exist.
    """
    assert not accounts._HASHER.check_needs_rehash(accounts._DUMMY_HASH)
    assert not accounts._verify(accounts._DUMMY_HASH, "any password at all")


def test_importing_the_command_line_hashes_no_password() -> None:
    """Importing `warning` leaves no transient peak of memory (argon2id takes 64 MiB).

    Every command and the daemon import the accounts module; a hash computed at
    import set the daemon's memory high-water mark 45 MB above what it keeps.
    """
    probe = (
        "import warning.cli.main\n"
        "status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
        "print(int(status['VmHWM'].split()[0]) - int(status['VmRSS'].split()[0]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert int(done.stdout) < 16 * 1024, f"peak {int(done.stdout) // 1024} MB above the RSS kept"
