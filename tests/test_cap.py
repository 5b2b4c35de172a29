"""CAP channel: schema-valid CAP 1.2 documents, references, polygons and the index feed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from lxml import etree
from shapely.geometry import Polygon

from tests.support.areas import city
from tests.support.builders import rule, transitions
from warning.areas import AreaIndex
from warning.cli import main as cli
from warning.delivery.cap import (
    ATOM_NS,
    INDEX_NAME,
    CapChannel,
    cap_channel,
    current_documents,
    load_schema,
)
from warning.delivery.cap_document import CAP_NS, cap_polygons, cap_time
from warning.delivery.channel import ChannelSettings, Outcome
from warning.model import Action, ChannelKind, Delivery, TransitionKind
from warning.plan.payloads import CapAlert
from warning.plan.planner import plan
from warning.settings import CapSettings, Settings

NS = {"cap": CAP_NS}
SENDER = "bpbd@balikpapan.go.id"
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 schema shipped in the package."""
    return load_schema()


@pytest.fixture
def channel(tmp_path: Path, areas: AreaIndex) -> CapChannel:
    """A CAP channel writing into a temporary directory, its clock at T0 + 1 minute."""
    return CapChannel(tmp_path, SENDER, areas, clock=lambda: T0 + timedelta(minutes=1))


def payload(transition: str = "fired", level: str = "siaga", **changes: Any) -> dict[str, Any]:
    """A CAP payload of a tsunami warning for Manggar, Lamaru and Kariangau."""
    base: dict[str, Any] = {
        "change_id": "tsunami-2026-11-27",
        "dedup_key": f"tsunami-2026-11-27:{transition}:{level}",
        "rule_id": "tsunami-bmkg",
        "rule_name": "Peringatan dini tsunami BMKG",
        "kind": "tsunami_warning",
        "transition": transition,
        "level": level,
        "previous_level": None,
        "area_ids": ["manggar", "lamaru", "kariangau"],
        "sent": T0.isoformat(),
        "event_id": "bmkg-20261127",
        "values": {"magnitude": 7.4, "depth_km": 10.0},
        "drill": False,
        "headline": {"id": "SIAGA tsunami: Manggar, Lamaru", "en": "Tsunami warning"},
        "description": {"id": "Gempa M7.4", "en": "M7.4 earthquake"},
        "instruction": {"id": "Segera menjauh dari pantai", "en": "Move away from the coast"},
        "expires": (T0 + timedelta(hours=6)).isoformat(),
    }
    return base | changes


def delivery(body: dict[str, Any], number: int = 1) -> Delivery:
    """The CAP delivery of a payload."""
    return Delivery(
        id=number,
        channel=ChannelKind.CAP,
        recipient="cap",
        change_id=body["change_id"],
        payload=body,
        priority=40,
        attempts=0,
        drill=body["drill"],
        dedup_key=body["dedup_key"],
    )


def publish(channel: CapChannel, tmp_path: Path, body: dict[str, Any]) -> etree._Element:
    """Send a payload and parse the document it produced."""
    result = channel.send(delivery(body))
    assert result.outcome is Outcome.SENT, result.error
    return etree.parse(str(tmp_path / f"{result.provider_id}.xml")).getroot()


def text(document: etree._Element, path: str) -> str:
    """The text of the first element at `path`."""
    return str(document.findtext(path, namespaces=NS))


def grading(info: etree._Element) -> list[str]:
    """category, responseType, urgency, severity and certainty of an info block."""
    fields = ("category", "responseType", "urgency", "severity", "certainty")
    return [text(info, f"cap:{f}") for f in fields]


def test_fired_document_validates(channel: CapChannel, tmp_path: Path, schema: Any) -> None:
    """A first warning is a schema-valid Actual Alert with Indonesian and English info."""
    document = publish(channel, tmp_path, payload())
    schema.assertValid(document)
    assert text(document, "cap:msgType") == "Alert"
    assert text(document, "cap:status") == "Actual"
    assert text(document, "cap:sender") == SENDER
    assert document.find("cap:references", NS) is None
    languages = [e.text for e in document.findall("cap:info/cap:language", NS)]
    assert languages == ["id-ID", "en-US"]


def test_sent_has_wita_offset(channel: CapChannel, tmp_path: Path) -> None:
    """`sent` carries a numeric offset, never Z."""
    document = publish(channel, tmp_path, payload())
    assert text(document, "cap:sent") == "2026-11-27T10:00:00+08:00"


def test_tsunami_siaga_grading(channel: CapChannel, tmp_path: Path) -> None:
    """A tsunami at siaga: Geo, Evacuate, Immediate, Severe, Likely, level parameter."""
    info = publish(channel, tmp_path, payload()).find("cap:info", NS)
    assert info is not None
    assert grading(info) == ["Geo", "Evacuate", "Immediate", "Severe", "Likely"]
    parameters = {
        text(p, "cap:valueName"): text(p, "cap:value") for p in info.findall("cap:parameter", NS)
    }
    assert parameters["level"] == "siaga"
    assert parameters["magnitude"] == "7.4"


def test_rain_waspada_grading(channel: CapChannel, tmp_path: Path) -> None:
    """Rain at waspada: Met, Monitor, Expected, Moderate, Observed."""
    body = payload(level="waspada", kind="rainfall", change_id="hujan-1", dedup_key="hujan-1:f")
    info = publish(channel, tmp_path, body).find("cap:info", NS)
    assert info is not None
    assert grading(info) == ["Met", "Monitor", "Expected", "Moderate", "Observed"]


def test_escalation_updates_and_references(
    channel: CapChannel, tmp_path: Path, schema: Any
) -> None:
    """An escalation is an Update referencing the first message as sender,identifier,sent."""
    first = publish(channel, tmp_path, payload())
    later = T0 + timedelta(minutes=5)
    second = publish(channel, tmp_path, payload("escalated", "awas", sent=later.isoformat()))
    schema.assertValid(second)
    assert text(second, "cap:msgType") == "Update"
    expected = f"{SENDER},{text(first, 'cap:identifier')},2026-11-27T10:00:00+08:00"
    assert text(second, "cap:references") == expected
    assert text(second, "cap:info/cap:severity") == "Extreme"


def test_resolution_is_all_clear_update_referencing_all(
    channel: CapChannel, tmp_path: Path, schema: Any
) -> None:
    """A natural end is an Update with responseType AllClear referencing every earlier one."""
    ids = [
        text(publish(channel, tmp_path, payload(t, lv)), "cap:identifier")
        for t, lv in (("fired", "siaga"), ("escalated", "awas"))
    ]
    end = publish(channel, tmp_path, payload("resolved", "awas"))
    schema.assertValid(end)
    assert text(end, "cap:msgType") == "Update"
    assert text(end, "cap:info/cap:responseType") == "AllClear"
    assert text(end, "cap:info/cap:urgency") == "Past"
    references = text(end, "cap:references").split()
    assert [r.split(",")[1] for r in references] == ids


def test_operator_cancel_is_cancel(channel: CapChannel, tmp_path: Path, schema: Any) -> None:
    """An operator's cancel withdraws the alert: msgType Cancel with references."""
    publish(channel, tmp_path, payload())
    cancel = publish(channel, tmp_path, payload("cancelled_by_operator"))
    schema.assertValid(cancel)
    assert text(cancel, "cap:msgType") == "Cancel"
    assert text(cancel, "cap:references").count(",") == 2


def test_drill_is_exercise(channel: CapChannel, tmp_path: Path, schema: Any) -> None:
    """A drill document has status Exercise and is still schema-valid."""
    document = publish(channel, tmp_path, payload(drill=True))
    schema.assertValid(document)
    assert text(document, "cap:status") == "Exercise"


def test_polygons_are_short_closed_lat_lon(channel: CapChannel, tmp_path: Path) -> None:
    """Every polygon has 4..100 lat,lon points, is closed, and lies in Balikpapan."""
    document = publish(channel, tmp_path, payload())
    polygons = [e.text or "" for e in document.findall("cap:info/cap:area/cap:polygon", NS)]
    assert len(polygons) >= 4  # three kelurahan, Kariangau in several parts, twice (id, en)
    for polygon in polygons:
        pairs = [tuple(map(float, p.split(","))) for p in polygon.split()]
        assert 4 <= len(pairs) <= 100
        assert pairs[0] == pairs[-1]
        assert all(-1.5 < lat < -1.0 and 116.7 < lon < 117.2 for lat, lon in pairs)


def test_long_ring_is_simplified_to_100_points(areas: AreaIndex) -> None:
    """Lamaru's 319-point boundary comes out with at most 100 points."""
    (polygon,) = cap_polygons(areas.geometry("lamaru"))
    assert 50 < len(polygon.split()) <= 100


def test_ring_is_closed_even_when_source_is_short() -> None:
    """A small square stays a closed five-point ring."""
    square = Polygon([(117.0, -1.2), (117.01, -1.2), (117.01, -1.21), (117.0, -1.21)])
    assert cap_polygons(square) == ["-1.2,117.0 -1.2,117.01 -1.21,117.01 -1.21,117.0 -1.2,117.0"]


def test_geocodes_name_kemendagri_codes(channel: CapChannel, tmp_path: Path) -> None:
    """Each kelurahan gets a KEMENDAGRI geocode; areaDesc names them."""
    area = publish(channel, tmp_path, payload()).find("cap:info/cap:area", NS)
    assert area is not None
    assert text(area, "cap:areaDesc") == "Manggar, Lamaru, Kariangau"
    codes = [
        (text(g, "cap:valueName"), text(g, "cap:value")) for g in area.findall("cap:geocode", NS)
    ]
    assert codes == [
        ("KEMENDAGRI", "64.71.01.1001"),
        ("KEMENDAGRI", "64.71.01.1002"),
        ("KEMENDAGRI", "64.71.02.1004"),
    ]


def test_resend_of_same_delivery_rewrites_same_file(channel: CapChannel, tmp_path: Path) -> None:
    """A re-send after a crash keeps identifier, sent and file; no second message appears."""
    first = channel.send(delivery(payload()))
    again = channel.send(delivery(payload(sent=(T0 + timedelta(minutes=3)).isoformat())))
    assert first.provider_id == again.provider_id
    assert len(list(tmp_path.glob("*.xml"))) == 1
    document = etree.parse(str(tmp_path / f"{again.provider_id}.xml")).getroot()
    assert text(document, "cap:sent") == "2026-11-27T10:00:00+08:00"


def test_identifiers_are_unique_per_message(channel: CapChannel, tmp_path: Path) -> None:
    """Each message of an alert has its own identifier, derived from sender and alert."""
    ids = {channel.send(delivery(payload(t))).provider_id for t in ("fired", "reminder")}
    assert ids == {
        "bpbd.balikpapan.go.id.tsunami-2026-11-27.1",
        "bpbd.balikpapan.go.id.tsunami-2026-11-27.2",
    }


def feed_links(tmp_path: Path) -> list[str]:
    """The document links of the index feed."""
    feed = etree.parse(str(tmp_path / INDEX_NAME)).getroot()
    return [str(e.get("href")) for e in feed.iterfind(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}link")]


def test_index_lists_latest_current_document(channel: CapChannel, tmp_path: Path) -> None:
    """The feed lists each alert's latest message; superseded ones are left out."""
    channel.send(delivery(payload()))
    update = channel.send(delivery(payload("escalated", "awas")))
    assert feed_links(tmp_path) == [f"{update.provider_id}.xml"]


def test_index_drops_ended_alerts(channel: CapChannel, tmp_path: Path) -> None:
    """After the all-clear the alert is no longer current."""
    channel.send(delivery(payload()))
    channel.send(delivery(payload("resolved")))
    assert feed_links(tmp_path) == []


def change(change_id: str, transition: str, episodes: list[str], level: str = "siaga") -> Any:
    """A payload of one alert change (its own id) over some alert episodes."""
    return payload(
        transition, level, change_id=change_id, dedup_key=f"{change_id}:cap:cap", episodes=episodes
    )


def test_changes_thread_through_shared_episodes(channel: CapChannel, tmp_path: Path) -> None:
    """Changes with their own ids are Updates of the earlier messages about the same episodes."""
    first = channel.send(delivery(change("chg-1", "fired", ["e-manggar"])))
    second = channel.send(delivery(change("chg-2", "fired", ["e-lamaru"])))
    both = publish(channel, tmp_path, change("chg-3", "escalated", ["e-manggar", "e-lamaru"]))
    assert text(both, "cap:msgType") == "Update"
    referenced = [r.split(",")[1] for r in text(both, "cap:references").split()]
    assert sorted(referenced) == sorted([str(first.provider_id), str(second.provider_id)])


def test_expired_documents_are_not_current(channel: CapChannel, tmp_path: Path) -> None:
    """A document past its expires time leaves the current list."""
    channel.send(delivery(payload()))
    assert len(current_documents(tmp_path, T0 + timedelta(hours=5))) == 1
    assert current_documents(tmp_path, T0 + timedelta(hours=7)) == []


def test_bad_payload_fails_permanently(channel: CapChannel) -> None:
    """An unknown area or transition can never succeed: FAILED with the reason."""
    result = channel.send(delivery(payload(area_ids=["atlantis"])))
    assert result.outcome is Outcome.FAILED
    assert "atlantis" in (result.error or "")


def test_unwritable_directory_is_retried(tmp_path: Path, areas: AreaIndex) -> None:
    """A directory that cannot be written is a transient problem."""
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = CapChannel(blocker / "cap", SENDER, areas).send(delivery(payload()))
    assert result.outcome is Outcome.RETRY


def test_cap_time_is_wita_with_offset() -> None:
    """CAP times are WITA with +08:00 and whole seconds."""
    assert cap_time(datetime(2026, 1, 1, 0, 0, 0, 500, tzinfo=UTC)) == "2026-01-01T08:00:00+08:00"


@pytest.fixture
def cli_logging() -> Iterator[None]:
    """The CLI points structlog at the captured stderr; put it back afterwards."""
    yield
    structlog.reset_defaults()


@pytest.mark.usefixtures("cli_logging")
def test_cap_list_json(
    tmp_path: Path, areas: AreaIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """`warning cap list --json` prints the current documents with their key fields.

    A document whose rule sets no expiry expires `[cap] expires_h` (6 h) after it was sent.
    """
    sent = datetime.now(UTC).replace(microsecond=0)
    settings = Settings(cap=CapSettings(directory=str(tmp_path)))
    cap_channel(ChannelSettings.of(settings), areas).send(
        delivery(payload(expires=None, sent=sent.isoformat()))
    )
    capsys.readouterr()  # the channel's log line, before the CLI configures logging to stderr
    config = tmp_path / "warning.toml"
    config.write_text(f'[cap]\ndirectory = "{tmp_path}"\n', encoding="utf-8")
    assert cli.main(["--config", str(config), "cap", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed == {
        "identifier": "bpbd.balikpapan.go.id.tsunami-2026-11-27.1",
        "msgType": "Alert",
        "status": "Actual",
        "event": "Peringatan dini tsunami",
        "areas": ["Manggar", "Lamaru", "Kariangau"],
        "sent": cap_time(sent),
        "expires": cap_time(sent + timedelta(hours=6)),
    }


@pytest.mark.usefixtures("cli_logging")
def test_cap_list_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without documents the text listing says so."""
    config = tmp_path / "warning.toml"
    config.write_text(f'[cap]\ndirectory = "{tmp_path}"\n', encoding="utf-8")
    assert cli.main(["--config", str(config), "cap", "list"]) == 0
    assert capsys.readouterr().out == "no current CAP documents\n"


def test_factory_loads_areas_when_not_given(tmp_path: Path) -> None:
    """The registry may pass no areas: the configured areas file is loaded."""
    settings = Settings(cap=CapSettings(directory=str(tmp_path)))
    result = cap_channel(ChannelSettings.of(settings), None).send(delivery(payload()))
    assert result.outcome is Outcome.SENT


#: A safety timeout publishes nothing: it must never read as an all-clear (issue 16, case 5).
_PUBLISHED = [k for k in TransitionKind if k.notifies and k is not TransitionKind.TIMED_OUT]


@pytest.mark.parametrize("kind", _PUBLISHED)
def test_every_change_the_planner_makes_is_written_and_valid(
    kind: TransitionKind, channel: CapChannel, tmp_path: Path, schema: Any
) -> None:
    """Each notifying TransitionKind, planned by the real planner, gives a valid CAP document.

    A same-level bulletin (UPDATED) used to fail: CapChange had no `updated`.
    """
    publish(channel, tmp_path, _planned_cap(TransitionKind.FIRED, T0))
    document = publish(channel, tmp_path, _planned_cap(kind, T0 + timedelta(minutes=10)))
    schema.assertValid(document)
    assert text(document, "cap:msgType") == "Update"


def test_an_operator_cancel_of_everything_is_a_cancel(
    channel: CapChannel, tmp_path: Path, schema: Any
) -> None:
    """The cancel payload of every warned kelurahan withdraws the message: msgType Cancel."""
    publish(channel, tmp_path, _episodes("chg-1", "fired", ["manggar", "lamaru"]))
    cancel = _episodes("cancel-1", "cancelled_by_operator", ["manggar", "lamaru"])
    document = publish(channel, tmp_path, cancel)
    schema.assertValid(document)
    assert text(document, "cap:msgType") == "Cancel"
    assert feed_links(tmp_path) == []


@pytest.mark.parametrize("ending", ["resolved", "cancelled_by_operator"])
def test_a_partial_ending_narrows_the_warning_instead_of_ending_it(
    ending: str, channel: CapChannel, tmp_path: Path, schema: Any
) -> None:
    """Manggar ends (or is cancelled), Lamaru stays warned: an Update for Lamaru alone.

    It references the combined message, keeps the warning's grading (not AllClear,
    not Cancel), and is the one current document; Lamaru's own end then closes all.
    """
    combined = publish(channel, tmp_path, _episodes("chg-1", "fired", ["manggar", "lamaru"]))
    partial = publish(channel, tmp_path, _episodes("chg-2", ending, ["manggar"]))
    schema.assertValid(partial)
    assert text(partial, "cap:msgType") == "Update"
    assert text(combined, "cap:identifier") in text(partial, "cap:references")
    info = partial.find("cap:info", NS)
    assert text(info, "cap:responseType") == "Evacuate"
    assert text(info, "cap:area/cap:areaDesc") == "Lamaru"
    assert feed_links(tmp_path) == [f"{text(partial, 'cap:identifier')}.xml"]
    last = publish(channel, tmp_path, _episodes("chg-3", "resolved", ["lamaru"]))
    assert text(last, "cap:msgType") == "Update"
    assert text(last.find("cap:info", NS), "cap:responseType") == "AllClear"
    assert feed_links(tmp_path) == []


def _episodes(change_id: str, transition: str, kelurahan: list[str]) -> dict[str, Any]:
    """A payload of one change over one episode per kelurahan (`ep-<kelurahan>`)."""
    episodes = {f"ep-{k}": k for k in kelurahan}
    return payload(
        transition,
        change_id=change_id,
        dedup_key=f"{change_id}:cap:cap",
        area_ids=kelurahan,
        episodes=sorted(episodes),
        episode_areas=episodes,
    )


def _planned_cap(kind: TransitionKind, at: datetime) -> dict[str, Any]:
    """The CAP payload the planner writes for a rule's change of `kind` in Manggar at `at`."""
    changes = transitions(["manggar"], kind=kind, at=at)
    [cap] = plan(changes, [rule(actions=[Action.CAP])], (), (), city(), drill=False, now=at)
    return dict(cap.payload)


def test_every_info_names_the_publisher_its_web_contact_and_an_expiry(
    tmp_path: Path, areas: AreaIndex, schema: Any
) -> None:
    """Aggregators' fields: senderName, web, contact and expires, even without a rule expiry."""
    settings = Settings(cap=CapSettings(directory=str(tmp_path)))
    document = publish(
        cap_channel(ChannelSettings.of(settings), areas), tmp_path, payload(expires=None)
    )
    schema.assertValid(document)
    infos = document.findall("cap:info", NS)
    assert len(infos) == 2
    for info in infos:
        assert text(info, "cap:senderName") == "BPBD Kota Balikpapan"
        assert text(info, "cap:web") == settings.cap.web
        assert "112" in text(info, "cap:contact")
        assert text(info, "cap:expires") == "2026-11-27T16:00:00+08:00"


def test_each_parameter_name_appears_once(channel: CapChannel, tmp_path: Path) -> None:
    """A bulletin's own `level` value does not repeat the `level` parameter (it is ours)."""
    values = {"level": "SIAGA", "magnitude": 7.4, "rule_id": "x"}
    info = publish(channel, tmp_path, payload(values=values)).find("cap:info", NS)
    assert info is not None
    names = [text(p, "cap:valueName") for p in info.findall("cap:parameter", NS)]
    assert len(names) == len(set(names))
    assert names[:2] == ["level", "rule_id"]
    levels = [
        text(p, "cap:value")
        for p in info.findall("cap:parameter", NS)
        if text(p, "cap:valueName") == "level"
    ]
    assert levels == ["siaga"]


def test_a_journal_entry_written_before_the_change_id_rename_still_reads() -> None:
    """CAP journals on disk name the change `alert_id` when written before the rename."""
    current = payload()
    legacy = {("alert_id" if k == "change_id" else k): v for k, v in current.items()}
    assert CapAlert.from_json(legacy) == CapAlert.from_json(current)
    assert CapAlert.from_json(legacy).change_id == "tsunami-2026-11-27"


def test_a_narrowing_update_describes_only_the_kelurahan_still_warned(
    channel: CapChannel, tmp_path: Path, schema: Any
) -> None:
    """Manggar ends, Lamaru stays at SIAGA: the Update's description names Lamaru, not Manggar.

    The planner's warning for "Manggar dan Lamaru" is restated for Lamaru alone:
    areaDesc and description both say what is now true.
    """
    fired = transitions(["manggar", "lamaru"], at=T0)
    warning_rule = rule(actions=[Action.CAP])
    [cap] = plan(fired, [warning_rule], (), (), city(), drill=False, now=T0)
    publish(channel, tmp_path, dict(cap.payload))
    later = T0 + timedelta(minutes=10)
    ended = transitions(["manggar"], kind=TransitionKind.RESOLVED, at=later)
    [end] = plan(ended, [warning_rule], (), (), city(), drill=False, now=later)
    partial = publish(channel, tmp_path, dict(end.payload))
    schema.assertValid(partial)
    info = partial.find("cap:info", NS)
    assert text(info, "cap:area/cap:areaDesc") == "Lamaru"
    description = text(info, "cap:description")
    assert description.startswith("SIAGA GEMPA M6,1")
    assert "di Lamaru." in description
    assert "Manggar" not in description
