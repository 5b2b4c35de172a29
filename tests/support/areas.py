"""The city's areas as every test reads them: the shipped file, loaded once."""

from __future__ import annotations

from functools import cache

from tests.support.paths import AREAS_FILE
from warning.areas import AreaIndex, load_areas


@cache
def city() -> AreaIndex:
    """The shipped areas.geojson (an AreaIndex is read-only, so one load serves every test)."""
    return load_areas(AREAS_FILE)
