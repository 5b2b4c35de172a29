"""BIG tide-gauge CSV: two sensors, time zone setting, spike filter."""

from __future__ import annotations

from dataclasses import replace

import pytest
from structlog.testing import capture_logs

from tests.support.feeds import AREAS, context, fixture, parse, utc
from warning.feeds import FEEDS, FeedError
from warning.model import Coverage, Observation, ObservationKind

CSV = fixture("big-tide", "big_tidegauge_temp-csv_unknown-station_20190311-20190328.csv")


def test_recorded_csv_parses_in_utc_by_default() -> None:
    """The second row agrees with the first: 2019-03-11 13:25 UTC, mean of 0.71 and 0.68."""
    found = parse("big-tide", CSV)
    first = found[0]
    assert first.source == "big-tide"
    assert first.kind is ObservationKind.SEA_LEVEL
    assert first.time == utc(2019, 3, 11, 13, 25)
    assert dict(first.values) == {"sea_level_m": 0.695, "datum": "gauge zero"}
    assert first.event_id == "big-tide:0020BLPP02:20190311T132500Z"
    assert (first.lon, first.lat) == (116.79, -1.27)
    assert len(found) > 9000
    assert all(-1.0 < o.values["sea_level_m"] < 4.0 for o in found)  # type: ignore[operator]


def test_timezone_setting_shifts_the_clock() -> None:
    """With timezone WITA, 13:25 in the file is 05:25 UTC."""
    assert parse("big-tide", CSV, timezone="WITA")[0].time == utc(2019, 3, 11, 5, 25)


def test_times_read_as_strptime_read_them_and_bad_ones_are_skipped_with_a_reason() -> None:
    """One-digit fields and extra blanks are read; an impossible or garbled time is skipped.

    The rows' times are read by a pattern, not `strptime` (half of parsing a file):
    what `%Y/%m/%d %H:%M:%S` accepted and refused is unchanged.
    """
    rows = (
        b"2019/3/11 13:23:0,0000.70,0000.68\n"
        b"2019/03/11   13:25:00,0000.71,0000.69\n"
        b"2019/02/30 13:27:00,0000.71,0000.69\n"
        b"2019/03/11 13:29:60,0000.71,0000.69\n"
        b"11/03/2019 13:31:00,0000.71,0000.69\n"
        b"2019/03/11T13:33:00,0000.71,0000.69\n"
    )
    with capture_logs() as logs:
        [obs] = parse("big-tide", rows)
    assert obs.time == utc(2019, 3, 11, 13, 25)
    reasons = [e["reason"] for e in logs if e["event"] == "feed.item_rejected"]
    assert len(reasons) == 4
    assert all("is not YYYY/MM/DD hh:mm:ss" in r for r in reasons)


def test_a_spike_on_one_sensor_uses_the_other() -> None:
    """A reading that jumps on one sensor counts only the sensor that agrees."""
    rows = b"2019/03/11 13:23:00,0000.70,0000.68\n2019/03/11 13:25:00,0009.70,0000.69\n"
    [obs] = parse("big-tide", rows)
    assert obs.values["sea_level_m"] == 0.69


def test_a_spike_on_both_sensors_is_rejected() -> None:
    """When no sensor agrees with its previous reading, the row is skipped with a reason."""
    rows = b"2019/03/11 13:23:00,0000.70,0000.68\n2019/03/11 13:25:00,0003.70,0003.68\n"
    with capture_logs() as logs:
        assert parse("big-tide", rows) == []
    assert [e["event"] for e in logs] == ["feed.item_rejected"]


def test_gauge_reaches_the_bay_kelurahan_it_stands_for() -> None:
    """The station lies in the bay, in no kelurahan: its readings reach the bay's shore.

    On main the point reached the kelurahan containing it: none.
    """
    [first, *_] = parse("big-tide", CSV, areas=AREAS)
    assert AREAS.locate(first.lon or 0.0, first.lat or 0.0).kelurahan is None
    assert first.coverage is Coverage.AREAS
    assert set(first.area_ids) == {
        "kariangau", "baru-tengah", "baru-ulu", "marga-sari", "karang-jati",
        "prapatan", "klandasan-ulu", "klandasan-ilir", "damai",
    }  # fmt: skip
    assert all(AREAS.get(a).coastal for a in first.area_ids)


def _with_areas(selectors: list[str]) -> list[Observation]:
    """Parse the recorded CSV with `[feeds.big-tide] areas = selectors`."""
    base = context("big-tide", areas=AREAS)
    settings = replace(base.settings, options={**base.settings.options, "areas": selectors})
    return FEEDS["big-tide"].parse(CSV, replace(base, settings=settings))


def test_gauge_areas_are_a_setting_with_selectors() -> None:
    """[feeds.big-tide] areas takes ids or selectors, e.g. kecamatan:balikpapan-barat."""
    [first, *_] = _with_areas(["kecamatan:balikpapan-barat"])
    assert first.area_ids == AREAS.select("balikpapan-barat")


def test_unknown_gauge_area_is_a_feed_error() -> None:
    """A misspelt kelurahan in the setting fails the poll with its name."""
    with pytest.raises(FeedError, match="kariangao"):
        _with_areas(["kariangao"])
