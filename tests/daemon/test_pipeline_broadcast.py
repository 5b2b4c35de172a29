"""The daemon's pipeline posts to the configured broadcast channels in its own transaction."""

from __future__ import annotations

import json
from pathlib import Path

import responses

from tests.support.pipeline import BASE, PD1, Rig, make_rig, write_settings
from warning.settings import load_settings

URL = f"{BASE}/inatews"
PUBLIC, OFFICIALS, BARAT = "@bpbd_balikpapan", "-1009999999999", "-1001111111111"


def _rig(tmp_path: Path) -> Rig:
    """The pipeline rig with a city-wide public channel, Balikpapan Barat's, and officials'."""
    settings = write_settings(tmp_path)
    assert settings.source is not None
    text = settings.source.read_text(encoding="utf-8")
    text += (
        f'\n[[telegram.channels]]\nchat_id = "{PUBLIC}"\nareas = ["all"]\n'
        f'\n[[telegram.channels]]\nchat_id = "{BARAT}"\nareas = ["balikpapan-barat"]\n'
        f'\n[[telegram.channels]]\nchat_id = "{OFFICIALS}"\nareas = ["all"]\n'
        'audience = "officials"\n'
    )
    settings.source.write_text(text, encoding="utf-8")
    return make_rig(load_settings(settings.source))


def _posts(rig: Rig) -> dict[str, dict[str, object]]:
    return {r["recipient"]: json.loads(r["payload_json"]) for r in rig.outbox("telegram")}


@responses.activate
def test_a_bmkg_siaga_is_posted_with_its_sms_in_one_commit(tmp_path: Path) -> None:
    """PD-1: the city's and officials' channels get one post each, beside the SMS and CAP."""
    rig = _rig(tmp_path)
    responses.add(responses.GET, URL, body=PD1.read_bytes())
    rig.pipeline.poll("inatews")
    posts = _posts(rig)
    assert set(posts) >= {PUBLIC, OFFICIALS}
    assert {r["change_id"] for r in rig.outbox("telegram")} <= {
        r["change_id"] for r in rig.outbox("sms")
    }
    assert all("SIAGA" in str(p["text"]) for p in posts.values())
    rig.pipeline.poll("inatews")  # the same bulletin again: nothing new
    assert len(rig.outbox("telegram")) == len(posts)


@responses.activate
def test_a_feed_going_down_is_posted_to_the_officials_channel_only(tmp_path: Path) -> None:
    """Three failures: officials hear by SMS and in their group; public channels hear nothing."""
    rig = _rig(tmp_path)
    for _ in range(3):
        responses.add(responses.GET, URL, body=b"down", status=503)
        rig.pipeline.poll("inatews")
    posts = _posts(rig)
    assert set(posts) == {OFFICIALS}
    assert "tidak tersedia" in str(posts[OFFICIALS]["text"])


@responses.activate
def test_a_drill_reaches_public_channels_only_when_it_is_for_everyone(tmp_path: Path) -> None:
    """`--drill`: the officials' group reads LATIHAN; `--drill-all`: the public channel too."""
    for drill_all, expected in ((False, {OFFICIALS}), (True, {PUBLIC, OFFICIALS})):
        directory = tmp_path / str(drill_all)
        directory.mkdir()
        rig = _rig(directory)
        rig.pipeline.drill, rig.pipeline.drill_all = True, drill_all
        responses.add(responses.GET, URL, body=PD1.read_bytes())
        rig.pipeline.poll("inatews")
        posts = _posts(rig)
        assert set(posts) - {BARAT} == expected
        assert all(str(p["text"]).startswith("LATIHAN: ") for p in posts.values())
