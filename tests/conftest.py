"""Shared fixtures: the real areas file, the shared data folder, a fresh store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from tests.support.areas import city
from tests.support.paths import ROOT
from warning.areas import AreaIndex
from warning.store.sqlite import Store


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Each test starts from structlog's defaults, whatever level a CLI test configured."""
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def areas() -> AreaIndex:
    """The shipped areas.geojson, loaded once."""
    return city()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (present on developer machines and in CI)."""
    path = ROOT.parent / "shared" / "data"
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must have shared/ beside the checkout")
        pytest.skip(f"{path} is not beside this checkout")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A migrated SQLite store in a temporary directory."""
    return Store(tmp_path / "warning.db")
