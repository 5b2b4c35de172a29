"""Contacts CSV: every bad row reported with its line; the CLI and `warning check`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from tests.support.areas import city
from tests.support.builders import NOW
from tests.support.paths import ROOT
from warning.cli.main import main
from warning.model import ConfigError, Severity
from warning.plan.contacts import load_contacts, parse_contacts
from warning.store import outbox
from warning.store.sqlite import Store

HEADER = "phone,name,areas,group,language,drill\n"


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """main() points structlog at this test's captured stderr; forget it afterwards."""
    yield
    structlog.reset_defaults()


def _parse(rows: str) -> tuple[list, list]:  # type: ignore[type-arg]
    return parse_contacts(HEADER + rows, city(), "contacts.csv")


def test_a_kecamatan_means_all_its_kelurahan() -> None:
    """`balikpapan-timur` expands to its kelurahan; `;` separates several."""
    contacts, problems = _parse(
        "+62 812-0000-0001,Camat,balikpapan-timur;kariangau,officials,id,true\n"
    )
    assert problems == []
    assert contacts[0].areas == {"manggar", "lamaru", "teritip", "manggar-baru", "kariangau"}
    assert contacts[0].phone == "+6281200000001"
    assert contacts[0].drill is True


def test_all_means_every_kelurahan() -> None:
    """`all` covers the whole city."""
    contacts, _ = _parse("+6281200000001,Pusdalops,all,officials,id,false\n")
    assert contacts[0].areas == {a.id for a in city().kelurahan}


def test_every_bad_row_is_reported_with_its_line() -> None:
    """Bad phone, unknown area, language and drill value: one problem each, right lines."""
    rows = (
        "0812-0000-0001,A,manggar,public,id,true\n"
        "+6281200000002,B,atlantis,public,id,true\n"
        "+6281200000003,C,manggar,public,fr,true\n"
        "+6281200000004,D,manggar,public,id,maybe\n"
        "+6281200000005,E,manggar,public,id,false\n"
    )
    contacts, problems = _parse(rows)
    assert [c.name for c in contacts] == ["E"]
    assert [(p.line, p.severity) for p in problems] == [(n, Severity.ERROR) for n in (2, 3, 4, 5)]
    assert "E.164" in problems[0].message
    assert 'unknown area "atlantis"' in problems[1].message
    assert str(problems[0]).startswith("contacts.csv:2: ")


def test_foreign_numbers_are_allowed_with_a_warning() -> None:
    """A valid non-Indonesian E.164 number loads, with a warning."""
    contacts, problems = _parse("+61412345678,Engineer,manggar,public,en,false\n")
    assert len(contacts) == 1
    assert problems[0].severity is Severity.WARNING


def test_duplicate_numbers_are_errors() -> None:
    """The same phone twice names the first line."""
    rows = "+6281200000001,A,manggar,public,id,true\n+6281200000001,B,lamaru,public,id,true\n"
    _, problems = _parse(rows)
    assert problems[0].line == 3
    assert "line 2" in problems[0].message


def test_a_missing_column_is_reported_on_the_header() -> None:
    """The header must hold the six columns."""
    _, problems = parse_contacts("phone,name,areas,group\n", city(), "c.csv")
    assert {p.message for p in problems} == {'missing column "language"', 'missing column "drill"'}


def test_load_raises_every_error_at_once(tmp_path: Path) -> None:
    """load_contacts refuses a file with errors, listing all of them."""
    path = tmp_path / "c.csv"
    path.write_text(
        HEADER + "x,A,manggar,public,id,true\n+6281200000002,B,nowhere,public,id,true\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_contacts(path, city())
    assert len(caught.value.problems) == 2


def test_the_example_file_is_valid() -> None:
    """systemd/contacts.example.csv loads with fake +62 812-0000 numbers."""
    contacts = load_contacts(ROOT / "systemd" / "contacts.example.csv", city())
    assert contacts
    assert all(c.phone.startswith("+628120000") for c in contacts)


def _config(tmp_path: Path, contacts: str | None) -> Path:
    config = tmp_path / "warning.toml"
    lines = [
        f'[state]\npath = "{tmp_path / "state.db"}"',
        f'[areas]\npath = "{ROOT / "areas.geojson"}"',
    ]
    if contacts is not None:
        lines.append(f'[contacts]\npath = "{contacts}"')
    config.write_text("\n".join(lines) + "\n")
    return config


def test_contacts_check_prints_each_problem_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`warning contacts check FILE` exits 1 and prints file:line: message."""
    bad = tmp_path / "c.csv"
    bad.write_text(
        HEADER + "+6281200000001,A,manggar,public,id,true\n12345,B,manggar,public,id,true\n"
    )
    assert main(["--config", str(_config(tmp_path, None)), "contacts", "check", str(bad)]) == 1
    assert f"{bad}:3: phone" in capsys.readouterr().out


def test_contacts_check_reports_opted_out_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A number on the opt-out list is a warning of the configured file's check."""
    good = tmp_path / "c.csv"
    good.write_text(HEADER + "+6281200000001,A,manggar,public,id,true\n")
    store = Store(tmp_path / "state.db")
    with store.transaction() as tx:
        outbox.opt_out(tx, "+6281200000001", "21610", NOW)
    assert main(["--config", str(_config(tmp_path, str(good))), "contacts", "check"]) == 0
    assert "unsubscribed" in capsys.readouterr().out


def test_warning_check_warns_without_contacts_and_fails_on_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No contacts configured: a warning. A configured file that is missing: an error."""
    assert main(["--config", str(_config(tmp_path, None)), "check"]) == 0
    assert "no contacts configured" in capsys.readouterr().out
    missing = str(tmp_path / "nope.csv")
    assert main(["--config", str(_config(tmp_path, missing)), "check"]) == 1
    assert "contacts file not found" in capsys.readouterr().out
