"""Acknowledgement links as the planner writes them: signed, short, unguessable, never cut."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from warning.cli.main import main
from warning.model import ConfigError, Level
from warning.plan.acklinks import TOKEN_CHARS, AckLinks, ack_links, link_chars, with_link
from warning.plan.messages import SEGMENT, gsm7_units
from warning.settings import ConsoleSettings, Settings, load_settings, secret

NOW = datetime(2026, 3, 10, 3, 20, tzinfo=UTC)
LINKS = AckLinks(
    base="https://bpbd.test",
    key=b"kunci",
    valid=timedelta(hours=24),
    groups=frozenset({"officials", "rt-heads", "siskamling"}),
    level=Level.SIAGA,
)


def test_a_token_carries_at_least_64_bits_of_the_hmac() -> None:
    """12 base64url characters: 72 bits, decodable, the same for the same facts."""
    token = LINKS.token("+6281200000002", "chg-1", NOW)
    assert len(token) == TOKEN_CHARS
    assert len(base64.urlsafe_b64decode(token)) * 8 >= 64
    assert token == LINKS.token("+6281200000002", "chg-1", NOW)


def test_each_fact_and_the_key_change_the_token() -> None:
    """Another recipient, change, expiry or key signs differently; only the right token passes."""
    token = LINKS.token("+6281200000002", "chg-1", NOW)
    others = {
        LINKS.token("+6281200000003", "chg-1", NOW),
        LINKS.token("+6281200000002", "chg-2", NOW),
        LINKS.token("+6281200000002", "chg-1", NOW + timedelta(seconds=1)),
        AckLinks(LINKS.base, b"lain", LINKS.valid, LINKS.groups, LINKS.level).token(
            "+6281200000002", "chg-1", NOW
        ),
    }
    assert token not in others
    assert len(others) == 4
    assert LINKS.signed(token, "+6281200000002", "chg-1", NOW)
    assert not LINKS.signed(token, "+6281200000003", "chg-1", NOW)


def test_links_go_to_acknowledging_groups_for_warnings_from_siaga() -> None:
    """RT heads at SIAGA yes; the public, WASPADA and endings no."""
    assert LINKS.wants("rt-heads", Level.SIAGA, ending=False)
    assert LINKS.wants("officials", Level.AWAS, ending=False)
    assert not LINKS.wants("public", Level.AWAS, ending=False)
    assert not LINKS.wants("rt-heads", Level.WASPADA, ending=False)
    assert not LINKS.wants("rt-heads", Level.SIAGA, ending=True)


def test_a_long_text_is_cut_so_that_the_link_stays_whole_in_one_segment() -> None:
    """with_link keeps the whole link last and the SMS within 160 units."""
    url = LINKS.url(LINKS.token("+6281200000002", "chg-1", NOW))
    body = with_link("SIAGA TSUNAMI " * 20, url)
    assert body.endswith(" " + url)
    assert gsm7_units(body) == SEGMENT
    assert gsm7_units(with_link("SIAGA", url)) == len("SIAGA") + link_chars(LINKS.base)


def test_escalation_and_ack_settings_are_validated(tmp_path: Path) -> None:
    """A step without a group, a repeated group, a typo and a bad level are all reported."""
    path = tmp_path / "warning.toml"
    path.write_text(
        '[console]\nack_level = "merah"\n\n'
        '[[escalation]]\ngroup = "rt-heads"\nafter_minutes = 10\n\n'
        '[[escalation]]\ngroup = "rt-heads"\n\n'
        "[[escalation]]\nafter_minutes = 5\n\n"
        '[[escalation]]\ngroup = "camat"\nafter_mins = 5\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "console.ack_level must be waspada, siaga or awas" in text
    assert 'group "rt-heads" is already a step' in text
    assert "escalation[2] needs a group" in text
    assert 'unknown key "escalation[3].after_mins"' in text


def test_the_example_settings_show_the_escalation_chain() -> None:
    """The shipped sample documents [[escalation]] and the link settings."""
    text = (ROOT / "systemd" / "warning.example.toml").read_text()
    assert "# [[escalation]]" in text
    assert "ack_secret_file" in text


def test_an_unreadable_key_file_is_a_clear_configuration_error(tmp_path: Path) -> None:
    """A key file that is not there stops the start with its name, never a traceback."""
    missing = tmp_path / "tidak-ada.key"
    console = ConsoleSettings(public_url="https://bpbd.test", ack_secret_file=str(missing))
    with pytest.raises(ConfigError) as caught:
        ack_links(Settings(console=console), secret)
    assert f"cannot read console.ack_secret_file {missing}" in str(caught.value.problems[0])


def test_without_a_public_url_or_a_key_no_sms_carries_a_link(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Links are off by default; a key alone or a URL alone keeps them off."""
    monkeypatch.delenv("ACK_SECRET", raising=False)
    assert ack_links(Settings(), secret) is None
    assert ack_links(Settings(console=ConsoleSettings(public_url="https://x.id")), secret) is None
    monkeypatch.setenv("ACK_SECRET", "kunci")
    assert ack_links(Settings(), secret) is None
    found = ack_links(Settings(console=ConsoleSettings(public_url="https://x.id/")), secret)
    assert found is not None
    assert found.url("abc") == "https://x.id/a/abc"


def test_warning_check_says_when_a_chain_cannot_escalate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A chain without links, and a step whose group nobody is in, are warnings of `check`."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "phone,name,areas,group,language,drill\n+6281200000001,Pak RT,manggar,rt-heads,id,true\n"
    )
    path = tmp_path / "warning.toml"
    path.write_text(
        f'[contacts]\npath = "{contacts}"\n\n[[escalation]]\ngroup = "rt-heads"\n\n'
        '[[escalation]]\ngroup = "lurahh"\n'
    )
    code = main(["--config", str(path), "check"])
    out = capsys.readouterr().out
    assert code == 0
    assert "escalation needs acknowledgement links" in out
    assert 'escalation[1]: no contact is in group "lurahh"' in out
    assert 'group "rt-heads"' not in out
