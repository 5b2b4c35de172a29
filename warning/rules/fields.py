"""Parsers for the scalar and list keys of a rule: each returns a value or `INVALID`.

A parser records every problem of its key in the context's sink and returns
`INVALID` when the key cannot be used; the loader then skips building the rule
but keeps checking the rest, so one pass reports everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Final

from warning.areas import AreaIndex
from warning.model import Action, AreaLevel, Level, LevelStep, ObservationKind
from warning.rules import schema
from warning.rules.source import (
    Node,
    Sink,
    describe,
    elements,
    entries,
    is_mapping,
    is_sequence,
    plain,
    suggest,
    unknown_keys,
)


class Invalid:
    """Marks a value that could not be parsed (its problems are already recorded)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = Invalid()


@dataclass(frozen=True, slots=True)
class Budget:
    """Bounds the work one rule may cause (YAML aliases can multiply a small file)."""

    left: list[int] = field(default_factory=lambda: [2000])

    def spend(self) -> bool:
        """Use one unit; False once the budget is exhausted."""
        self.left[0] -= 1
        return self.left[0] >= 0


@dataclass(frozen=True, slots=True)
class Context:
    """What parsers of one rule need: where to report, its kind, the areas."""

    sink: Sink
    kind: ObservationKind | None = None
    areas: AreaIndex | None = None
    budget: Budget = field(default_factory=Budget)


_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_DURATION = re.compile(r"(?:\d+[smhd])+\Z")
_DURATION_PART = re.compile(r"(\d+)([smhd])")


def parse_duration(text: str) -> timedelta:
    """`90s`, `10m`, `2h`, `1d` or chained like `1h30m`; ValueError otherwise."""
    text = text.strip()
    if not _DURATION.match(text):
        raise ValueError(f'"{text}" is not a duration')
    seconds = sum(int(n) * schema.DURATION_UNITS[unit] for n, unit in _DURATION_PART.findall(text))
    return timedelta(seconds=seconds)


def duration(node: Node, ctx: Context) -> timedelta | Invalid:
    """A duration written with a unit."""
    value = plain(node.value)
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            pass
    hint = f' (write "{value}s" for seconds)' if isinstance(value, int) else ""
    ctx.sink.error(
        node.at,
        f"{describe(value)} is not a duration: write a whole number and a unit s, m, h or d, "
        f"e.g. 90s, 10m, 2h, 1d{hint}",
    )
    return INVALID


def positive_duration(node: Node, ctx: Context, key: str) -> timedelta | Invalid:
    """A duration that must be longer than zero."""
    value = duration(node, ctx)
    if isinstance(value, timedelta) and value <= timedelta(0):
        ctx.sink.error(node.at, f"{key} must be longer than 0s")
        return INVALID
    return value


def text(node: Node, ctx: Context) -> str | Invalid:
    """A non-empty string."""
    value = plain(node.value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    ctx.sink.error(node.at, f"expected text, got {describe(value)}; put words in quotes if unsure")
    return INVALID


def slug(node: Node, ctx: Context) -> str | Invalid:
    """A rule id: lower-case letters, digits and single dashes."""
    value = plain(node.value)
    if isinstance(value, str) and _SLUG.match(value):
        return value
    fixed = re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-") or "my-rule"
    ctx.sink.error(
        node.at,
        f"id {describe(value)} must be lower-case letters, digits and dashes, e.g. {fixed}",
    )
    return INVALID


def choice(node: Node, ctx: Context, valid: Iterable[str], what: str) -> str | Invalid:
    """One word out of `valid`."""
    words = list(valid)
    value = plain(node.value)
    if isinstance(value, str) and value in words:
        return value
    shown = value if isinstance(value, str) else describe(value)
    ctx.sink.error(node.at, f'unknown {what} "{shown}"{suggest(str(shown), words)}')
    return INVALID


def kind(node: Node, ctx: Context) -> ObservationKind | Invalid:
    """An observation kind."""
    word = choice(node, ctx, (k.value for k in ObservationKind), "kind")
    return ObservationKind(word) if isinstance(word, str) else INVALID


def level(node: Node, ctx: Context) -> Level | Invalid:
    """A level word in any case: `SIAGA` is what officials see in messages and write."""
    value = plain(node.value)
    if isinstance(value, str):
        node = Node(value.strip().lower(), node.at)
    word = choice(node, ctx, (lv.value for lv in Level), "level")
    return Level(word) if isinstance(word, str) else INVALID


def flag(node: Node, ctx: Context) -> bool | Invalid:
    """true or false."""
    value = plain(node.value)
    if isinstance(value, bool):
        return value
    ctx.sink.error(node.at, f"expected true or false, got {describe(value)}")
    return INVALID


def word_list(node: Node, ctx: Context, what: str) -> list[Node] | Invalid:
    """A non-empty list of words (a single word counts as a list of one)."""
    items = elements(node) if is_sequence(node.value) else [node]
    bad = [item for item in items if not isinstance(plain(item.value), str)]
    for item in bad:
        ctx.sink.error(item.at, f"expected a {what} word, got {describe(item.value)}")
    if not items:
        ctx.sink.error(node.at, f"list at least one {what}")
    return INVALID if bad or not items else items


def actions(node: Node, ctx: Context) -> frozenset[Action] | Invalid:
    """Any of sms, siren, cap."""
    items = word_list(node, ctx, "action")
    if isinstance(items, Invalid):
        return INVALID
    words = [choice(item, ctx, (a.value for a in Action), "action") for item in items]
    if any(isinstance(w, Invalid) for w in words):
        return INVALID
    return frozenset(Action(str(w)) for w in words)


def groups(node: Node, ctx: Context) -> tuple[str, ...] | Invalid:
    """Contact group slugs; a near miss of a standard group is an error."""
    return _slugs(node, ctx, "recipient group", _group_problem)


def _group_problem(word: str) -> str | None:
    """What is wrong with a recipient group word, or None."""
    near = suggest(word, schema.STANDARD_GROUPS)
    if word not in schema.STANDARD_GROUPS and "did you mean" in near:
        return f'unknown recipient group "{word}"{near}'
    if not _SLUG.match(word):
        return f'recipient group "{word}" must be lower-case with dashes'
    return None


def sources(node: Node, ctx: Context) -> tuple[str, ...] | Invalid:
    """Feed names or families (`bmkg` is every `bmkg-*` feed), or `any`, lower-case slugs."""
    return _slugs(node, ctx, "source", _source_problem)


def _source_problem(word: str) -> str | None:
    """What is wrong with a source word, or None."""
    if _SLUG.match(word):
        return None
    return f'source "{word}" must be a feed name such as bmkg, inatews or usgs'


def _slugs(
    node: Node, ctx: Context, what: str, problem: Callable[[str], str | None]
) -> tuple[str, ...] | Invalid:
    """A list of words, each checked by `problem`; every problem reported at its word."""
    items = word_list(node, ctx, what)
    if isinstance(items, Invalid):
        return INVALID
    found: list[str] = []
    before = len(ctx.sink.problems)
    for item in items:
        word = str(plain(item.value))
        message = problem(word)
        if message is not None:
            ctx.sink.error(item.at, message)
        found.append(word)
    return tuple(found) if len(ctx.sink.problems) == before else INVALID


def selectors(node: Node, ctx: Context) -> tuple[str, ...] | Invalid:
    """Area selectors, each checked against the areas when they are known."""
    items = word_list(node, ctx, "area")
    if isinstance(items, Invalid):
        return INVALID
    valid = [selector(item, ctx) for item in items]
    if any(isinstance(v, Invalid) for v in valid):
        return INVALID
    return tuple(str(v) for v in valid)


def selector(node: Node, ctx: Context) -> str | Invalid:
    """One selector: `all`, `coastal`, `kecamatan:<id>` or an area id."""
    word = str(plain(node.value)).strip()
    bare = word.removeprefix("kecamatan:")
    named = None if _SLUG.match(bare) else by_name(word, ctx.areas)
    if named is not None:
        return named
    if not _SLUG.match(bare):
        slugged = re.sub(r"[^a-z0-9]+", "-", bare.lower()).strip("-")
        ctx.sink.error(
            node.at,
            f'area "{word}" is not an area id or selector ({_SELECTORS}); '
            f'ids are written like "{slugged or "gunung-sari-ulu"}"',
        )
        return INVALID
    if ctx.areas is None:
        return word
    if word.startswith("kecamatan:") and bare in ctx.areas and bare in ctx.areas.select(bare):
        ctx.sink.error(node.at, f'"{bare}" is a kelurahan: write "{bare}" without "kecamatan:"')
        return INVALID
    try:
        ctx.areas.select(word)
    except KeyError:
        hint = suggest(word, area_words(ctx.areas))
        ctx.sink.error(node.at, f'unknown area "{word}"{hint}; see `warning areas` for ids')
        return INVALID
    return word


_SELECTORS = "all, coastal, kecamatan:<id>, a kelurahan or kecamatan id"


def by_name(word: str, areas: AreaIndex | None) -> str | None:
    """The id of the area whose map name reads `word` (any case, spaces or dashes)."""
    if areas is None:
        return None
    key = _name_key(word.removeprefix("kecamatan:"))
    found = [a.id for a in areas.areas if key in (_name_key(a.name), _name_key(a.id))]
    return found[0] if len(found) == 1 and found[0] != word else None


def _name_key(text: str) -> str:
    """A name as compared: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def area_words(areas: AreaIndex) -> list[str]:
    """Every selector the areas accept, for "did you mean" hints."""
    words = list(schema.SELECTOR_WORDS) + [a.id for a in areas.areas]
    words += [f"kecamatan:{a.id}" for a in areas.areas if a.level is AreaLevel.KECAMATAN]
    return words


def area_names(areas: AreaIndex | None, chosen: Iterable[str]) -> list[str]:
    """Names of the kelurahan the selectors stand for (empty when unknown)."""
    if areas is None:
        return []
    try:
        return areas.names(areas.select(list(chosen)))
    except KeyError:
        return []


def ladder_step(node: Node, ctx: Context, when: Any, message: Any) -> LevelStep | Invalid:
    """One `{level, when, message, ...}` step; `when` and `message` are their keys' parsers."""
    if not is_mapping(node.value):
        ctx.sink.error(
            node.at,
            f"a levels step must be a mapping like {{level: siaga, when: ...}}, "
            f"not {describe(node.value)}",
        )
        return INVALID
    unknown_keys(node, schema.STEP_KEYS, ctx.sink, "a levels step")
    parts = {key: value for key, _at, value in entries(node)}
    if "level" not in parts:
        ctx.sink.error(node.at, 'a levels step needs "level: waspada|siaga|awas"')
        return INVALID
    step_level = level(parts["level"], ctx)
    condition = when(parts["when"], ctx) if "when" in parts else None
    errors = ctx.sink.error_count()
    texts = {
        key: message(parts[key], ctx) if key in parts else MappingProxyType({})
        for key in schema.MESSAGE_KEYS
    }
    if isinstance(step_level, Invalid) or isinstance(condition, Invalid):
        return INVALID
    if any(isinstance(t, Invalid) for t in texts.values()) or ctx.sink.error_count() > errors:
        return INVALID
    return LevelStep(
        step_level,
        condition,
        texts["message"],
        texts["update_message"],
        texts["end_message"],
    )
