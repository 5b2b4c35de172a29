"""Scenario files (`rules/tests/*.yaml`): the officials' rule tests and the drills.

A scenario is a story on a simulated clock: observations arrive at offsets
from `start` (replayed payloads parsed as fetched at that moment, or written
inline with the keys `warning feeds parse` prints), and expectations name the
state of (rule, area) pairs at offsets, or forbid firing for the whole story.
Loading resolves everything (payloads parsed, times absolute, area selectors
expanded) so that `warning rules test` and `warning drill` play the same data.
Every mistake is a `ConfigError` with `file:line:col`, all at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from warning.areas import AreaIndex
from warning.feeds import FEEDS, FeedContext, FeedError, observation_from_json
from warning.feeds.jsonio import ObservationJSONError
from warning.model import AlertState, ConfigError, Level, Observation, Problem, utc
from warning.rules.fields import parse_duration
from warning.rules.source import (
    At,
    Node,
    Sink,
    YamlSyntaxError,
    elements,
    entries,
    is_mapping,
    is_sequence,
    parse_yaml,
    plain,
    suggest,
    unknown_keys,
)
from warning.settings import FeedSettings

_E = TypeVar("_E", AlertState, Level)

_TOP = ("name", "start", "steps", "expect", "expect_none")
_STEP = ("at", "payload", "observations")
_PAYLOAD = ("source", "file")
_EXPECT = ("at", "rule", "areas", "level", "state")
_EXPECT_NONE = ("rule", "areas")


@dataclass(frozen=True, slots=True)
class Step:
    """Observations injected at `start + at` (`time`), from a payload or written inline."""

    at: timedelta
    time: datetime
    observations: tuple[Observation, ...]
    line: int
    source: str = ""  # the feed replayed, "" for inline observations


@dataclass(frozen=True, slots=True)
class Expectation:
    """At `at`, each area is in `state` (and `level`) for `rule`, or for some rule."""

    at: timedelta
    areas: tuple[str, ...]
    state: AlertState
    rule: str | None
    level: Level | None
    line: int


@dataclass(frozen=True, slots=True)
class Forbidden:
    """During the whole scenario `rule` (or any rule) never fires for these areas."""

    areas: tuple[str, ...]
    rule: str | None
    line: int


@dataclass(frozen=True, slots=True)
class Scenario:
    """A loaded scenario; `times()` are the offsets at which the engine evaluates."""

    path: Path
    name: str
    start: datetime
    steps: tuple[Step, ...]
    expect: tuple[Expectation, ...]
    expect_none: tuple[Forbidden, ...]

    def times(self) -> tuple[timedelta, ...]:
        """Every step offset and every expectation offset, in order, once each."""
        return tuple(sorted({s.at for s in self.steps} | {e.at for e in self.expect}))


@dataclass(frozen=True, slots=True)
class _Loader:
    """What loading one file needs: where problems go, the areas, the feed settings."""

    sink: Sink
    path: Path
    areas: AreaIndex
    feeds: Mapping[str, FeedSettings]


def scenario_files(paths: Sequence[Path]) -> list[Path]:
    """Files named and the `*.yaml` directly in directories named; ConfigError if missing."""
    found: list[Path] = []
    missing = [Problem(str(p), "no such file or directory") for p in paths if not p.exists()]
    if missing:
        raise ConfigError(missing)
    for path in paths:
        found += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return found


def load_scenarios(
    paths: Sequence[Path], areas: AreaIndex, feeds: Mapping[str, FeedSettings]
) -> list[Scenario]:
    """Every scenario of `paths`; one ConfigError with the problems of all files."""
    problems: list[Problem] = []
    scenarios: list[Scenario] = []
    for path in scenario_files(paths):
        try:
            scenarios.append(load_scenario(path, areas, feeds))
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems)
    return scenarios


def load_scenario(path: Path, areas: AreaIndex, feeds: Mapping[str, FeedSettings]) -> Scenario:
    """One scenario file, fully resolved; ConfigError with every problem at once."""
    sink = Sink(str(path))
    loader = _Loader(sink, path, areas, feeds)
    try:
        document = Node(parse_yaml(path.read_text(encoding="utf-8")), At(1, 1))
    except YamlSyntaxError as exc:
        raise ConfigError(Problem(str(path), str(exc), exc.at.line, exc.at.col)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(str(path), f"cannot read the scenario: {exc}")) from None
    scenario = _scenario(document, loader)
    if sink.problems or scenario is None:
        raise ConfigError(sorted(sink.problems, key=lambda p: (p.line or 0, p.col or 0)))
    return scenario


def _scenario(document: Node, loader: _Loader) -> Scenario | None:
    """The top-level mapping of a scenario file."""
    if not is_mapping(document.value):
        loader.sink.error(document.at, "a scenario is a mapping with name, steps and expect")
        return None
    unknown_keys(document, _TOP, loader.sink, "the scenario")
    keys = {key: value for key, _at, value in entries(document)}
    name = _text(keys.get("name"), "name", loader.sink, document.at)
    steps = _list(keys.get("steps"), "steps", loader.sink)
    expect = [_expectation(n, loader) for n in _list(keys.get("expect"), "expect", loader.sink)]
    nones = _list(keys.get("expect_none"), "expect_none", loader.sink)
    none = [_forbidden(n, loader) for n in nones]
    if not expect and not none:
        loader.sink.error(document.at, "a scenario needs `expect` or `expect_none` entries")
    start = _start(keys.get("start"), steps, loader)
    if start is None:
        return None
    resolved = tuple(s for s in (_step(n, start, loader) for n in steps) if s is not None)
    expectations = tuple(e for e in expect if e is not None)
    forbidden = tuple(f for f in none if f is not None)
    return Scenario(loader.path, name, start, resolved, expectations, forbidden)


def _list(node: Node | None, key: str, sink: Sink) -> list[Node]:
    """The items of an optional list."""
    if node is None:
        return []
    if not is_sequence(node.value):
        sink.error(node.at, f"`{key}` must be a list (one `- ` line per entry)")
        return []
    return elements(node)


def _text(node: Node | None, key: str, sink: Sink, at: At) -> str:
    """A required text value."""
    if node is None or not isinstance(plain(node.value), str) or not plain(node.value).strip():
        sink.error(node.at if node else at, f"`{key}` must be written, as text")
        return ""
    return str(plain(node.value)).strip()


def _mapping(node: Node, valid: Sequence[str], where: str, sink: Sink) -> dict[str, Node] | None:
    """A mapping entry's keys, after reporting unknown ones."""
    if not is_mapping(node.value):
        sink.error(node.at, f"each {where} is a mapping such as {{{', '.join(valid)}}}")
        return None
    unknown_keys(node, valid, sink, f"a {where}")
    return {key: value for key, _at, value in entries(node)}


def _offset(node: Node | None, sink: Sink, at: At) -> timedelta | None:
    """`at:` written as a duration (`0s`, `90s`, `10m`, `2h`)."""
    if node is None:
        sink.error(at, "`at` is missing: write the offset from start, e.g. at: 10m")
        return None
    value = plain(node.value)
    try:
        if isinstance(value, str):
            return parse_duration(value)
    except ValueError:
        pass
    sink.error(node.at, f"`at: {value}` is not a duration; write e.g. 0s, 90s, 10m or 2h")
    return None


def moment(value: Any) -> datetime:
    """A time written as a YAML timestamp or a quoted ISO 8601 string with its zone."""
    if isinstance(value, datetime):
        value = value.isoformat()
    return utc(datetime.fromisoformat(str(value).strip()))


def _start(node: Node | None, steps: Sequence[Node], loader: _Loader) -> datetime | None:
    """`start`, or the time of the first observation when it is left out."""
    if node is not None:
        try:
            return moment(plain(node.value))
        except ValueError:
            loader.sink.error(
                node.at, "`start` must be a time with its zone, e.g. 2023-04-25T03:00:00Z"
            )
            return None
    times = [t for step in steps for t in _written_times(step, loader)]
    if not times:
        loader.sink.error(At(1, 1), "`start` is missing and no observation has a time to use")
        return None
    return min(times)


def _written_times(step: Node, loader: _Loader) -> list[datetime]:
    """Observation times a step carries before any clock is set (for a default start)."""
    if not is_mapping(step.value):
        return []
    keys = {key: value for key, _at, value in entries(step)}
    probe = datetime.now(UTC)  # like `warning feeds parse`: only to find the first time
    silent = _Loader(Sink(loader.sink.path), loader.path, loader.areas, loader.feeds)
    observations = _step_observations(keys, probe, silent, step.at)
    return [o.time for o in observations]


def _step(node: Node, start: datetime, loader: _Loader) -> Step | None:
    """One step: its offset and the observations it injects."""
    keys = _mapping(node, _STEP, "step", loader.sink)
    if keys is None:
        return None
    at = _offset(keys.get("at"), loader.sink, node.at)
    if at is None:
        return None
    if ("payload" in keys) == ("observations" in keys):
        loader.sink.error(node.at, "a step has either `payload` or `observations`, not both")
        return None
    observations = _step_observations(keys, start + at, loader, node.at)
    payload = _jsonable(keys["payload"].value) if "payload" in keys else {}
    source = str(payload.get("source", "")) if isinstance(payload, dict) else ""
    return Step(at, start + at, tuple(observations), node.at.line, source)


def _step_observations(
    keys: Mapping[str, Node], time: datetime, loader: _Loader, at: At
) -> list[Observation]:
    """A step's observations, from its payload or written inline."""
    if "payload" in keys:
        return _payload(keys["payload"], time, loader)
    if "observations" in keys:
        items = _list(keys["observations"], "observations", loader.sink)
        return [o for i, n in enumerate(items) if (o := _inline(n, time, at, i, loader))]
    return []


def _payload(node: Node, fetched_at: datetime, loader: _Loader) -> list[Observation]:
    """A recorded payload replayed through its feed adapter as fetched at `fetched_at`."""
    keys = _mapping(node, _PAYLOAD, "payload", loader.sink)
    if keys is None:
        return []
    source = _text(keys.get("source"), "source", loader.sink, node.at)
    file = _text(keys.get("file"), "file", loader.sink, node.at)
    if not source or not file:
        return []
    if source not in FEEDS:
        loader.sink.error(keys["source"].at, f'unknown feed "{source}"{suggest(source, FEEDS)}')
        return []
    path = (loader.path.parent / file).resolve()
    try:
        payload = path.read_bytes()
        context = FeedContext(fetched_at, loader.feeds[source], loader.areas)
        return FEEDS[source].parse(payload, context)
    except OSError as exc:
        loader.sink.error(keys["file"].at, f"cannot read {path}: {exc.strerror}")
    except FeedError as exc:
        loader.sink.error(keys["file"].at, f"{source} cannot use {file}: {exc}")
    return []


def _inline(node: Node, time: datetime, at: At, index: int, loader: _Loader) -> Observation | None:
    """An observation written inline; `time` defaults to the step's, `event_id` is made up."""
    if not is_mapping(node.value):
        loader.sink.error(node.at, "an observation is a mapping such as {source, kind, values}")
        return None
    data = {key: _jsonable(value.value) for key, _at, value in entries(node)}
    data.setdefault("time", time.isoformat())
    data.setdefault("event_id", f"{loader.path.stem}:{at.line}:{index + 1}")
    try:
        observation = observation_from_json(data)
    except ObservationJSONError as exc:
        loader.sink.error(node.at, f"observation: {exc}")
        return None
    unknown = [a for a in observation.area_ids if a not in loader.areas]
    for area_id in unknown:
        loader.sink.error(node.at, f'observation: unknown area "{area_id}"')
    return None if unknown else observation


def _jsonable(value: Any) -> Any:
    """YAML values as the JSON-like data `observation_from_json` reads."""
    if isinstance(value, datetime):
        return value.isoformat()
    if is_mapping(value):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if is_sequence(value):
        return [_jsonable(v) for v in value]
    return plain(value)


def _expectation(node: Node, loader: _Loader) -> Expectation | None:
    """One `expect` entry."""
    keys = _mapping(node, _EXPECT, "expect entry", loader.sink)
    if keys is None:
        return None
    at = _offset(keys.get("at"), loader.sink, node.at)
    areas = _areas(keys.get("areas"), loader, node.at)
    state = _enum(keys.get("state"), AlertState, "state", loader.sink, node.at)
    level = _enum(keys["level"], Level, "level", loader.sink, node.at) if "level" in keys else None
    rule = _text(keys["rule"], "rule", loader.sink, node.at) if "rule" in keys else None
    if at is None or not areas or state is None or ("level" in keys and level is None):
        return None
    return Expectation(at, areas, state, rule, level, node.at.line)


def _forbidden(node: Node, loader: _Loader) -> Forbidden | None:
    """One `expect_none` entry."""
    keys = _mapping(node, _EXPECT_NONE, "expect_none entry", loader.sink)
    if keys is None:
        return None
    areas = _areas(keys.get("areas"), loader, node.at)
    rule = _text(keys["rule"], "rule", loader.sink, node.at) if "rule" in keys else None
    return Forbidden(areas, rule, node.at.line) if areas else None


def _areas(node: Node | None, loader: _Loader, at: At) -> tuple[str, ...]:
    """Kelurahan ids of an area selector (a list, an id, `coastal`, `kecamatan:<id>`)."""
    if node is None:
        loader.sink.error(at, "`areas` is missing: list the kelurahan, e.g. areas: [manggar]")
        return ()
    selector = _jsonable(node.value)
    try:
        return loader.areas.select(selector if isinstance(selector, str) else list(selector))
    except (KeyError, TypeError) as exc:
        loader.sink.error(node.at, f"areas: {exc.args[0] if exc.args else exc}")
        return ()


def _enum(node: Node | None, enum: type[_E], key: str, sink: Sink, at: At) -> _E | None:
    """A word that must be one of an enum's values."""
    word = plain(node.value) if node is not None else None
    for member in enum:
        if member.value == word:
            return member
    valid = ", ".join(str(m.value) for m in enum)
    sink.error(node.at if node else at, f"`{key}` must be one of {valid}")
    return None
