"""Shared fixtures of the engine tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from tests.engine.support import areas
from warning.areas import AreaIndex


@pytest.fixture(scope="session")
def index() -> AreaIndex:
    """The shipped areas, loaded once."""
    return areas()


@pytest.fixture(autouse=True)
def _unconfigured_logging() -> Iterator[None]:
    """`main()` binds logging to this test's captured stderr; later tests must not write there."""
    yield
    structlog.reset_defaults()
