"""`warning feeds list | parse | fetch`: thin handlers over the feed registry.

`parse` and `fetch` print one JSON observation per line (see
`warning.feeds.jsonio`); a payload that cannot be used prints its reason on
stderr and exits 1.  `parse` takes now as `fetched_at` and applies no maximum
age, since recorded payloads are old by nature.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import structlog

from warning.areas import AreaIndex, load_areas
from warning.feeds import FEEDS, Feed, FeedContext, FeedError, observation_to_json
from warning.http import HttpClient
from warning.model import ConfigError, Observation
from warning.settings import FeedSettings, Settings

EXIT_OK, EXIT_INVALID = 0, 1

log = structlog.get_logger()


def list_feeds(args: argparse.Namespace, settings: Settings) -> int:
    """`warning feeds list [--json]`."""
    for name, feed in FEEDS.items():
        row = _row(name, feed, settings.feeds[name])
        if args.json:
            sys.stdout.write(json.dumps(row) + "\n")
        else:
            kinds = ",".join(row["kinds"])
            sys.stdout.write(f"{name:<20} {kinds:<26} {row['interval_s']:>7g}s  {row['url']}\n")
    return EXIT_OK


def _row(name: str, feed: Feed, configured: FeedSettings) -> dict[str, Any]:
    """What `feeds list --json` prints for one feed, configured as `configured`."""
    return {
        "name": name,
        "kinds": [kind.value for kind in feed.kinds],
        "kind": feed.kinds[0].value,
        "interval_s": configured.interval_s,
        "url": configured.url,
        "enabled": configured.enabled,
        "description": feed.description,
    }


def parse_file(args: argparse.Namespace, settings: Settings) -> int:
    """`warning feeds parse SOURCE FILE`."""
    feed = _feed(args.source)
    if feed is None:
        return EXIT_INVALID
    try:
        payload = args.file.read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    return _emit(feed, payload, _context(feed, settings.feeds[feed.name], _areas(settings)))


def fetch_once(args: argparse.Namespace, settings: Settings) -> int:
    """`warning feeds fetch SOURCE`: one live fetch, printed like `parse`."""
    feed = _feed(args.source)
    if feed is None:
        return EXIT_INVALID
    context = _context(feed, settings.feeds[feed.name], _areas(settings), fetching=True)
    try:
        payload = feed.get(HttpClient(settings.http), context)
    except FeedError as exc:
        return _fail(exc.message)
    if payload is None:
        return _fail("the server says the feed is unchanged")
    return _emit(feed, payload, context)


def _feed(name: str) -> Feed | None:
    """The registry entry, or None after saying which names exist."""
    if name not in FEEDS:
        _fail(f'unknown feed "{name}" (valid: {", ".join(FEEDS)})')
        return None
    return FEEDS[name]


#: Loads the city's areas only when a feed needs them (None when they are unavailable).
AreasLoader = Callable[[], AreaIndex | None]


def _context(
    feed: Feed, configured: FeedSettings, areas: AreasLoader, *, fetching: bool = False
) -> FeedContext:
    """`fetched_at` now, the feed's settings, and the areas when the feed uses them."""
    wants_areas = feed.needs_areas or (fetching and feed.fetch is not None)
    # A saved file is old by nature: show what it holds (no freshness filter).
    return FeedContext(
        datetime.now(UTC), configured, areas() if wants_areas else None, fresh_only=fetching
    )


def _areas(settings: Settings) -> AreasLoader:
    """A loader of the configured areas, None (logged) when the file is missing or invalid."""
    return partial(_load_areas, settings.areas_path, settings.areas.min_polygon_share)


def _load_areas(path: Path, share: float) -> AreaIndex | None:
    """The areas at `path`, or None (logged) when the file is missing or invalid."""
    try:
        return load_areas(path, share)
    except ConfigError as exc:
        log.warning("feeds.areas_unavailable", reason=str(exc), path=str(path))
        return None


def _emit(feed: Feed, payload: bytes, context: FeedContext) -> int:
    """Parse and print one JSON line per observation; the reason and 1 on FeedError."""
    try:
        observations: list[Observation] = feed.parse(payload, context)
    except FeedError as exc:
        return _fail(exc.message)
    for obs in observations:
        sys.stdout.write(json.dumps(observation_to_json(obs), ensure_ascii=False) + "\n")
    return EXIT_OK


def _fail(reason: str) -> int:
    """The reason on stderr; exit 1."""
    sys.stderr.write(f"error: {reason}\n")
    return EXIT_INVALID
