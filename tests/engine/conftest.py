"""Shared fixtures of the engine tests."""

from __future__ import annotations

import pytest

from tests.support.rules import areas
from warning.areas import AreaIndex


@pytest.fixture(scope="session")
def index() -> AreaIndex:
    """The shipped areas, loaded once."""
    return areas()
