"""Persistence has one owner: SQL is executed only inside `warning/store/`."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.paths import ROOT
from warning.store.interface import StateStore
from warning.store.sqlite import Store

PACKAGE = ROOT / "warning"
EXECUTES = re.compile(r"\.(execute|executemany|executescript)\(")


def test_no_sql_is_executed_outside_the_store() -> None:
    """No `execute(` / `executemany(` / `executescript(` in warning/ outside warning/store/."""
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if PACKAGE / "store" not in path.parents
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if EXECUTES.search(line)
    ]
    assert offenders == []


def test_the_store_package_does_execute_sql() -> None:
    """The check above looks where SQL is: the store's modules match the pattern."""
    inside = [p for p in (PACKAGE / "store").rglob("*.py") if EXECUTES.search(p.read_text())]
    assert len(inside) >= 2


def test_the_sqlite_store_implements_the_store_interface(tmp_path: Path) -> None:
    """A second backend implements `StateStore`; the SQLite one already does."""
    assert isinstance(Store(tmp_path / "w.db"), StateStore)
