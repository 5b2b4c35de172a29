"""`warning feeds list | parse | fetch` and the observation JSON format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses

from tests.support.feeds import utc
from tests.support.paths import FIXTURES
from warning.cli.main import main
from warning.feeds import FEEDS, observation_from_json, observation_to_json
from warning.feeds.jsonio import KEYS, ObservationJSONError
from warning.model import Basis, Coverage, Observation, ObservationKind

TAMBRAUW = FIXTURES / "bmkg-autogempa" / "bmkg_autogempa_20211013_tambrauw_m5.3.json"
INATEWS_BALIKPAPAN = FIXTURES / "inatews" / "synthetic_inatews_pd1_siaga_kaltim_balikpapan.json"
NOWCAST_BANTEN = FIXTURES / "bmkg-nowcast" / "bmkg_cap_nowcast_20260216_banten_hujan-lebat.xml"


def _lines(text: str) -> list[dict[str, object]]:
    """Each stdout line decoded as JSON."""
    return [json.loads(line) for line in text.splitlines()]


def _parsed_one(capsys: pytest.CaptureFixture[str], feed: str, path: Path) -> dict[str, object]:
    """The one observation `warning feeds parse FEED PATH` prints (it must exit 0)."""
    assert main(["feeds", "parse", feed, str(path)]) == 0
    [row] = _lines(capsys.readouterr().out)
    return row


def test_feeds_list_names_every_feed(capsys: pytest.CaptureFixture[str]) -> None:
    """`feeds list` prints a line per feed with its kind, interval and URL."""
    assert main(["feeds", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == list(FEEDS)
    assert "60s" in out[0]
    assert "https://data.bmkg.go.id/DataMKG/TEWS/autogempa.json" in out[0]


def test_feeds_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`feeds list --json` prints one object per feed with name, kind, interval and URL."""
    assert main(["feeds", "list", "--json"]) == 0
    rows = _lines(capsys.readouterr().out)
    usgs = next(r for r in rows if r["name"] == "usgs")
    assert usgs["kind"] == "earthquake"
    assert usgs["interval_s"] == 60.0
    assert str(usgs["url"]).startswith("https://earthquake.usgs.gov/")


def test_feeds_parse_prints_exactly_the_contract_keys(capsys: pytest.CaptureFixture[str]) -> None:
    """`feeds parse` prints one JSON object per observation with exactly the contract keys."""
    row = _parsed_one(capsys, "bmkg-autogempa", TAMBRAUW)
    assert list(row) == list(KEYS)
    assert row == {
        "source": "bmkg-autogempa",
        "kind": "earthquake",
        "event_id": "bmkg:20211013T030842Z:-0.1,133.0",
        "time": "2021-10-13T03:08:42Z",
        "lon": 133.02,
        "lat": -0.14,
        "area_ids": [],
        "values": {
            "magnitude": 5.3,
            "depth_km": 10.0,
            "tsunami_potential": False,
            "region": "99 km TimurLaut TAMBRAUW-PAPUABRT",
            "potensi": "Tidak berpotensi tsunami",
        },
        "exercise": False,
        "coverage": "point",
        "basis": "measured",
    }


def test_feeds_parse_unusable_payload_exits_1_with_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An HTML page given to `feeds parse` prints the reason on stderr and exits 1."""
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><html><body>503</body></html>")
    assert main(["feeds", "parse", "usgs", str(page)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "JSON" in captured.err


def test_feeds_parse_unknown_source_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown feed name is refused with the valid names."""
    assert main(["feeds", "parse", "bmkg", str(TAMBRAUW)]) == 1
    assert "bmkg-autogempa" in capsys.readouterr().err


@responses.activate
def test_feeds_fetch_prints_the_live_observations(capsys: pytest.CaptureFixture[str]) -> None:
    """`feeds fetch` GETs the feed's URL once and prints like `feeds parse`."""
    responses.get("https://data.bmkg.go.id/DataMKG/TEWS/autogempa.json", body=TAMBRAUW.read_bytes())
    assert main(["feeds", "fetch", "bmkg-autogempa"]) == 0
    [row] = _lines(capsys.readouterr().out)
    assert row["event_id"] == "bmkg:20211013T030842Z:-0.1,133.0"


@responses.activate
def test_feeds_fetch_failure_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A 404 from the feed prints the reason and exits 1."""
    responses.get("https://data.bmkg.go.id/DataMKG/TEWS/autogempa.json", status=404)
    assert main(["feeds", "fetch", "bmkg-autogempa"]) == 1
    assert "404" in capsys.readouterr().err


def test_observation_json_round_trips() -> None:
    """observation_from_json(observation_to_json(o)) == o for point and area observations."""
    quake = Observation("usgs", ObservationKind.EARTHQUAKE, "us1", utc(2026, 3, 10, 2),
                        {"magnitude": 6.1}, 116.9, -1.2)  # fmt: skip
    warning = Observation("inatews", ObservationKind.TSUNAMI_WARNING, "e", utc(2026, 3, 10, 3),
                          {"level": "siaga"}, area_ids=("manggar",), exercise=True)  # fmt: skip
    modelled = Observation("open-meteo", ObservationKind.RAINFALL, "om", utc(2026, 3, 10, 4),
                           {"precipitation_mm": 3.0, "period_s": 3600}, area_ids=("graha-indah",),
                           coverage=Coverage.MODELLED)  # fmt: skip
    forecast = Observation("bmkg-forecast", ObservationKind.PRAKIRAAN, "f", utc(2026, 3, 10, 6),
                           {"precipitation_mm": 150.0, "period_s": 10800, "lead_s": 21600},
                           area_ids=("gunung-sari-ulu",))  # fmt: skip
    for obs in (quake, warning, modelled, forecast):
        assert observation_from_json(observation_to_json(obs)) == obs
    assert observation_to_json(modelled)["coverage"] == "modelled"
    assert observation_to_json(forecast)["basis"] == "forecast"


def test_observation_json_infers_coverage_and_basis_when_left_out() -> None:
    """Scenarios written before coverage existed still read: it follows from the location."""
    base = {"source": "s", "event_id": "e", "time": "2026-03-10T02:00:00Z"}
    point = observation_from_json({**base, "kind": "earthquake", "lon": 116.9, "lat": -1.2})
    named = observation_from_json({**base, "kind": "prakiraan", "area_ids": ["manggar"]})
    assert (point.coverage, point.basis) == (Coverage.POINT, Basis.MEASURED)
    assert (named.coverage, named.basis) == (Coverage.AREAS, Basis.FORECAST)


def test_a_forecast_cannot_pose_as_a_measurement() -> None:
    """basis forecast on rainfall (or measured on prakiraan) is refused, naming the fix."""
    base = {"source": "s", "event_id": "e", "time": "2026-03-10T02:00:00Z"}
    with pytest.raises(ObservationJSONError, match="forecasts are kind prakiraan"):
        observation_from_json({**base, "kind": "rainfall", "basis": "forecast"})
    with pytest.raises(ValueError, match="forecasts are kind prakiraan"):
        Observation("s", ObservationKind.RAINFALL, "e", utc(2026, 3, 10), basis=Basis.FORECAST)


def test_observation_from_json_names_every_problem() -> None:
    """Unknown and missing keys are all reported in one error."""
    with pytest.raises(ObservationJSONError) as caught:
        observation_from_json({"sorce": "x", "kind": "earthquake", "time": "2026-03-10T02:00:00Z"})
    message = str(caught.value)
    assert 'unknown key "sorce"' in message
    assert 'missing key "source"' in message
    assert 'missing key "event_id"' in message


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"kind": "flood"}, "kind"),
        ({"time": "2026-03-10 02:00"}, "time zone"),
        ({"lon": 200}, "lon"),
        ({"area_ids": "manggar"}, "area_ids"),
        ({"exercise": "no"}, "exercise"),
        ({"coverage": "everywhere"}, "coverage 'everywhere' is not one of point, polygon"),
    ],
)
def test_observation_from_json_rejects_bad_fields(change: dict[str, object], words: str) -> None:
    """A wrong kind, a naive time, an out-of-range lon or mistyped fields are clear errors."""
    base = {"source": "s", "kind": "rainfall", "event_id": "e", "time": "2026-03-10T02:00:00Z"}
    with pytest.raises(ObservationJSONError, match=words):
        observation_from_json({**base, **change})


def test_feeds_parse_addresses_balikpapan_with_the_shipped_areas(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`feeds parse inatews` loads areas.geojson: a SIAGA for Balikpapan names all 34 kelurahan."""
    row = _parsed_one(capsys, "inatews", INATEWS_BALIKPAPAN)
    assert row["kind"] == "tsunami_warning"
    assert (row["lon"], row["lat"]) == (None, None)
    assert isinstance(row["area_ids"], list)
    assert len(row["area_ids"]) == 34
    assert row["values"] == {
        "level": "siaga",
        "bulletin": 1,
        "magnitude": 7.6,
        "depth_km": 15.0,
        "epicenter_lon": 118.45,
        "epicenter_lat": -2.1,
        "arrival_time": "2026-03-10T03:52:00Z",
        "origin_time": "2026-03-10T03:10:05+00:00",
        "region": "160 km Tenggara PENAJAM-PASER-UTARA-KALTIM",
        "names_balikpapan": True,
        "nearby_level": "awas",
        "nearby": "Mamuju AWAS, Penajam Paser Utara WASPADA",
    }
    assert row["coverage"] == "areas"


@responses.activate
def test_feeds_fetch_follows_an_xml_url(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """With url set to autogempa.xml, the XML variant is fetched, checked and parsed."""
    xml_url = "https://data.bmkg.go.id/DataMKG/TEWS/autogempa.xml"
    config = tmp_path / "warning.toml"
    config.write_text(f'[feeds.bmkg-autogempa]\nurl = "{xml_url}"\n')
    body = (FIXTURES / "bmkg-autogempa" / "bmkg_autogempa_20211004_ternate_m4.7.xml").read_bytes()
    responses.get(xml_url, body=body, content_type="text/xml")
    assert main(["--config", str(config), "feeds", "fetch", "bmkg-autogempa"]) == 0
    [row] = _lines(capsys.readouterr().out)
    assert row["time"] == "2021-10-04T10:59:19Z"


def test_feeds_parse_shows_a_recorded_cap_past_its_expiry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A recorded file is old by nature: `feeds parse` applies no freshness filter."""
    line = _parsed_one(capsys, "bmkg-nowcast", NOWCAST_BANTEN)
    assert line["event_id"] == "2.49.0.1.360.0.2026.02.16.16.36.004"
    assert line["area_ids"] == []
    assert line["values"]["expires"] == "2026-02-16T19:00:00Z"  # type: ignore[index]
