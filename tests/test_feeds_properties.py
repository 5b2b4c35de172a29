"""Property tests: whatever the payload, an adapter returns observations or raises FeedError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.feeds import AREAS, context
from tests.support.paths import FIXTURES
from warning.feeds import FEEDS, FeedError
from warning.model import Observation

NAMES = sorted(FEEDS)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)


def _samples(feed: str) -> list[bytes]:
    """The feed's fixtures, the big CSV cut to its first 2 kB."""
    return [path.read_bytes()[:2048] if path.suffix == ".csv" else path.read_bytes()
            for path in sorted((FIXTURES / feed).glob("*")) if path.is_file()]  # fmt: skip


def _only_feed_errors(feed: str, payload: bytes) -> None:
    """Parse `payload`; anything raised must be a FeedError, anything returned observations."""
    ctx = context(feed, areas=AREAS)
    try:
        found = FEEDS[feed].parse(payload, ctx)
    except FeedError:
        return
    assert isinstance(found, list)
    assert all(isinstance(obs, Observation) for obs in found)


@pytest.mark.parametrize("feed", NAMES)
@PROPERTY
@given(payload=st.binary(max_size=400))
def test_random_bytes_only_raise_feed_error(feed: str, payload: bytes) -> None:
    """Arbitrary bytes never make an adapter raise anything but FeedError."""
    _only_feed_errors(feed, payload)


@pytest.mark.parametrize("feed", NAMES)
@PROPERTY
@given(value=json_values)
def test_random_json_shapes_only_raise_feed_error(feed: str, value: Any) -> None:
    """Any JSON document never makes an adapter raise anything but FeedError."""
    _only_feed_errors(feed, json.dumps(value).encode())


@pytest.mark.parametrize("feed", NAMES)
@PROPERTY
@given(data=st.data())
def test_mutated_real_payloads_only_raise_feed_error(feed: str, data: st.DataObject) -> None:
    """Recorded payloads with a slice replaced or cut off never raise anything but FeedError."""
    samples = _samples(feed) or [b"{}"]
    payload = data.draw(st.sampled_from(samples))
    start = data.draw(st.integers(0, len(payload)))
    end = data.draw(st.integers(start, min(len(payload), start + 40)))
    patch = data.draw(st.binary(max_size=20) | st.sampled_from([b"", b"null", b'"x"', b"-1", b","]))
    _only_feed_errors(feed, payload[:start] + patch + payload[end:])


def _replace_leaf(value: Any, path: list[int], new: Any) -> Any:
    """`value` with the leaf chosen by `path` (indices into containers) replaced by `new`."""
    if not path or not isinstance(value, dict | list) or not value:
        return new
    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
    key = keys[path[0] % len(keys)]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[key] = _replace_leaf(value[key], path[1:], new)
    return copy


def _json_samples(feed: str) -> list[Any]:
    """The feed's JSON fixtures, decoded."""
    decoded = []
    for payload in _samples(feed):
        try:
            decoded.append(json.loads(payload))
        except ValueError:
            continue
    return decoded


JSON_FEEDS = [name for name in NAMES if _json_samples(name)]


@pytest.mark.parametrize("feed", JSON_FEEDS)
@PROPERTY
@given(data=st.data())
def test_real_json_with_a_value_swapped_only_raises_feed_error(
    feed: str, data: st.DataObject
) -> None:
    """A recorded JSON payload with any one value replaced by any JSON never escapes FeedError."""
    sample = data.draw(st.sampled_from(_json_samples(feed)))
    path = data.draw(st.lists(st.integers(0, 50), min_size=1, max_size=6))
    mutated = _replace_leaf(sample, path, data.draw(json_values))
    _only_feed_errors(feed, json.dumps(mutated).encode())


def test_every_feed_has_a_fixture_directory() -> None:
    """Each registered feed has recorded or synthetic payloads under tests/fixtures."""
    missing = [name for name in NAMES if not (FIXTURES / name).is_dir()]
    assert missing == [], missing


def test_fixtures_path_is_inside_tests() -> None:
    """Fixtures live in tests/fixtures (copied, never read from the shared folder)."""
    assert Path(__file__).parent / "fixtures" == FIXTURES
