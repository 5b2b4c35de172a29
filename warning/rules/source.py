"""YAML with positions, and the collector that turns findings into positioned `Problem`s.

ruamel.yaml's round-trip loader remembers where every key and list item was
written; `Node` pairs a parsed value with that place so each finding can say
`file:line:col`.  Scalars are converted to plain Python types here so that no
ruamel subclass leaks into a `Rule`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from warning.model import Problem, Severity


@dataclass(frozen=True, slots=True)
class At:
    """A 1-based line and column in a file."""

    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Node:
    """A value as written, with where it starts."""

    value: Any
    at: At


@dataclass(frozen=True, slots=True)
class Sink:
    """Collects problems of one file; `label` (e.g. `rule "x"`) starts every message."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    label: str = ""

    def error(self, at: At, message: str) -> None:
        """Record an error at `at`."""
        self._add(at, message, Severity.ERROR)

    def warn(self, at: At, message: str) -> None:
        """Record a warning at `at`."""
        self._add(at, message, Severity.WARNING)

    def error_count(self) -> int:
        """How many errors the file has so far (to tell whether a parser found one)."""
        return sum(1 for p in self.problems if p.severity is Severity.ERROR)

    def labelled(self, label: str) -> Sink:
        """A sink into the same list whose messages start with `label`."""
        return Sink(self.path, self.problems, label)

    def _add(self, at: At, message: str, severity: Severity) -> None:
        text = f"{self.label}: {message}" if self.label else message
        self.problems.append(Problem(self.path, text, at.line, at.col, severity))


class YamlSyntaxError(Exception):
    """The text is not YAML; carries the best position known."""

    def __init__(self, message: str, at: At) -> None:
        super().__init__(message)
        self.at = at


def parse_yaml(text: str) -> Any:
    """Parse `text` with positions; raise `YamlSyntaxError` for anything that is not YAML."""
    try:
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True  # so positions inside quoted templates can be computed
        return yaml.load(text)
    except MarkedYAMLError as exc:
        raise YamlSyntaxError(_yaml_message(exc), _mark(exc)) from None
    except (YAMLError, ValueError, TypeError, RecursionError) as exc:
        # ruamel raises a few plain errors (bad escapes, odd tags) without a mark.
        raise YamlSyntaxError(f"not valid YAML: {exc}", At(1, 1)) from None


def _mark(exc: MarkedYAMLError) -> At:
    """Where ruamel says the problem is (its marks are 0-based)."""
    mark = exc.problem_mark or exc.context_mark
    return At(mark.line + 1, mark.column + 1) if mark is not None else At(1, 1)


def _yaml_message(exc: MarkedYAMLError) -> str:
    """A one-line description of a YAML syntax error."""
    parts = [p for p in (exc.context, exc.problem) if p]
    words = "; ".join(str(p).strip() for p in parts) or "syntax error"
    if "duplicate key" in words:
        return f"not valid YAML: {words}: keep one of them"
    if "mapping values are not allowed" in words:
        return (
            f"not valid YAML: {words}: a text with ': ' or starting with '{{' must be in "
            'quotes, e.g. message: {id: "{level}: Hujan lebat di {area}."}'
        )
    if "'\\t'" in words or "\t" in words:
        return f"not valid YAML: {words}: a tab is not allowed here; indent with spaces"
    return f"not valid YAML: {words} (check indentation, quotes and the ': ' after keys)"


def _position(getter: Any, key: Any, fallback: At) -> At:
    """A 1-based position from ruamel's line/col records, or `fallback`."""
    try:
        line, col = getter(key)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError):
        return fallback
    return At(int(line) + 1, int(col) + 1)


def entries(node: Node) -> list[tuple[str, At, Node]]:
    """(key as text, key position, value node) of a mapping node, in written order."""
    mapping = node.value
    lc = getattr(mapping, "lc", None)
    found = []
    for key, value in mapping.items():
        key_at = _position(getattr(lc, "key", None), key, node.at)
        value_at = _position(getattr(lc, "value", None), key, key_at)
        found.append((str(key), key_at, Node(value, value_at)))
    return found


def elements(node: Node) -> list[Node]:
    """The item nodes of a sequence node."""
    lc = getattr(node.value, "lc", None)
    return [
        Node(item, _position(getattr(lc, "item", None), index, node.at))
        for index, item in enumerate(node.value)
    ]


def is_mapping(value: Any) -> bool:
    """True for a YAML mapping."""
    return isinstance(value, dict)


def is_sequence(value: Any) -> bool:
    """True for a YAML list."""
    return isinstance(value, list)


def plain(value: Any) -> Any:
    """A ruamel scalar as a plain bool, int, float or str (other values unchanged)."""
    if isinstance(value, bool | ScalarBoolean):
        return bool(value)
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def is_number(value: Any) -> bool:
    """True for a finite int or float that is not a boolean."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def describe(value: Any) -> str:
    """How a user's value reads in a message."""
    value = plain(value)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_mapping(value):
        return "a mapping"
    if is_sequence(value):
        return "a list"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def suggest(word: str, valid: Iterable[str]) -> str:
    """` (did you mean "x"?)` for the closest valid word, else the list of valid words."""
    choices = list(valid)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f' (did you mean "{close[0]}"?)'
    return f" (valid: {', '.join(choices)})"


def unknown_keys(node: Node, valid: Sequence[str], sink: Sink, where: str) -> None:
    """Report every key of a mapping node that is not in `valid`."""
    for key, key_at, _value in entries(node):
        if key not in valid:
            sink.error(key_at, f'unknown key "{key}" in {where}{suggest(key, valid)}')


def column_in(node: Node, index: int) -> At:
    """Where character `index` of a one-line scalar is, or the scalar's start if unknown.

    Exact only for plain and quoted scalars on one line without escapes; block
    scalars and escaped text fall back to where the value starts.
    """
    text = node.value
    quoted = isinstance(text, DoubleQuotedScalarString | SingleQuotedScalarString)
    plain_text = type(text) is str
    if not (quoted or plain_text) or any(c in text for c in "\n\\\"'"):
        return node.at
    return At(node.at.line, node.at.col + index + (1 if quoted else 0))
