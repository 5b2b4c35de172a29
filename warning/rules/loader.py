"""Rule files -> validated `model.Rule`s, with every problem at once.

`check_rules` returns every error and warning of the given files (or
directories of `*.yaml`); `load_rules` returns the rules or raises one
`ConfigError` holding them all.  Each key is looked up in `schema.RULE_KEYS`
and parsed by the parser of its type, so the schema drives validation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import structlog

from warning.areas import AreaIndex
from warning.model import (
    Action,
    ConfigError,
    Level,
    LevelStep,
    ObservationKind,
    Problem,
    Rule,
    Severity,
    SourcePosition,
)
from warning.rules import conditions, fields, schema, templates
from warning.rules.fields import Context, Invalid
from warning.rules.schema import FieldType
from warning.rules.source import (
    At,
    Node,
    Sink,
    YamlSyntaxError,
    describe,
    elements,
    entries,
    is_mapping,
    is_sequence,
    parse_yaml,
    unknown_keys,
)

Parser = Callable[[Node, Context], Any]

#: The parser of each schema type: the schema decides which runs for which key.
PARSERS: Mapping[FieldType, Parser] = MappingProxyType(
    {
        FieldType.SLUG: fields.slug,
        FieldType.TEXT: fields.text,
        FieldType.KIND: fields.kind,
        FieldType.EXPRESSION: conditions.expression,
        FieldType.SELECTORS: fields.selectors,
        FieldType.LEVEL: fields.level,
        FieldType.LADDER: conditions.ladder,
        FieldType.DURATION: fields.duration,
        FieldType.ACTIONS: fields.actions,
        FieldType.GROUPS: fields.groups,
        FieldType.MESSAGES: templates.messages,
        FieldType.FLAG: fields.flag,
        FieldType.SOURCES: fields.sources,
    }
)

#: Durations that must be longer than zero when given.
_POSITIVE = frozenset({"repeat_every", "expire_after", "late_after"})

#: Earthquakes are instantaneous: they resolve this long after the event unless the rule says.
EARTHQUAKE_EXPIRY = timedelta(hours=1)


#: Largest rule file read. The shipped files are a few kB; checking 50 MB of YAML took
#: 22 s and 275 MB, so a file this big is a mistake (or an attack), refused before parsing.
MAX_FILE_BYTES = 1_000_000


def rule_files(paths: Sequence[Path], problems: list[Problem] | None = None) -> list[Path]:
    """Files named, and the `*.yaml` directly inside directories named (not `tests/`).

    A path that does not exist is a problem appended to `problems`.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.glob("*.yaml") if p.is_file())
        elif path.exists():
            found.append(path)
        elif problems is not None:
            problems.append(Problem(str(path), "no such file or directory"))
    return found


def check_rules(paths: Sequence[Path], areas: AreaIndex | None = None) -> list[Problem]:
    """Every error and warning in the rule files at `paths`; never raises."""
    return read_rules(paths, areas)[1]


def load_rules(paths: Sequence[Path], areas: AreaIndex | None = None) -> tuple[Rule, ...]:
    """The validated rules of `paths`; ConfigError with every problem if any is an error."""
    rules, problems = read_rules(paths, areas)
    if any(p.severity is Severity.ERROR for p in problems):
        raise ConfigError(problems)
    for problem in problems:
        structlog.get_logger().warning("rules.warning", problem=str(problem))
    return rules


def read_rules(
    paths: Sequence[Path], areas: AreaIndex | None = None
) -> tuple[tuple[Rule, ...], list[Problem]]:
    """The rules without errors and every problem of every file; never raises."""
    problems: list[Problem] = []
    outcomes: list[_Outcome] = []
    for path in rule_files(paths, problems):
        outcomes += _file(path, Sink(str(path), problems), areas)
    _duplicates(outcomes, problems)
    return tuple(o.rule for o in outcomes if o.rule is not None), problems


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One rule mapping: its id (if valid), where it starts, the rule if it had no error."""

    id: str | None
    position: SourcePosition
    rule: Rule | None


def _file(path: Path, sink: Sink, areas: AreaIndex | None) -> list[_Outcome]:
    """The rules of one file, problems into `sink`; a file over MAX_FILE_BYTES is not parsed."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            sink.error(At(1, 1), _too_big(size))
            return []
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        sink.error(At(1, 1), f"cannot read the file: {exc}")
        return []
    except YamlSyntaxError as exc:
        sink.error(exc.at, str(exc))
        return []
    return _document(Node(data, At(1, 1)), sink, areas)


def _too_big(size: int) -> str:
    """Why a rule file is refused before it is read."""
    return (
        f"the file has {size:,} bytes, more than the {MAX_FILE_BYTES:,} a rule file may have: "
        "split it into one file per hazard (rules/<hazard>.yaml)"
    )


def _document(node: Node, sink: Sink, areas: AreaIndex | None) -> list[_Outcome]:
    """A rule file's content: a list of rule mappings."""
    if node.value is None:
        sink.warn(node.at, "the file holds no rules")
        return []
    if not is_sequence(node.value):
        sink.error(
            node.at,
            f"a rule file is a list of rules, got {describe(node.value)}: "
            'start each rule with "- "',
        )
        return []
    return [_rule(item, index, sink, areas) for index, item in enumerate(elements(node), 1)]


@dataclass(frozen=True, slots=True)
class _Parsed:
    """The parsed keys of one rule, their nodes, and where the rule starts."""

    values: dict[str, Any]
    nodes: dict[str, Node]
    at: At
    ctx: Context

    def get(self, key: str) -> Any:
        """A parsed value, or None when absent or invalid."""
        value = self.values.get(key)
        return None if isinstance(value, Invalid) else value


def _rule(node: Node, index: int, sink: Sink, areas: AreaIndex | None) -> _Outcome:
    """Check one rule mapping; the rule when it has no error."""
    position = SourcePosition(sink.path, node.at.line, node.at.col)
    if not is_mapping(node.value):
        sink.error(node.at, f"rule #{index} must be a mapping of keys (id: ..., name: ...)")
        return _Outcome(None, position, None)
    nodes = {key: value for key, _at, value in entries(node)}
    label = _label(nodes.get("id"), index)
    ctx = Context(sink.labelled(label), areas=areas)
    before = len(sink.problems)
    unknown_keys(node, list(schema.RULE_KEY_INDEX), ctx.sink, "a rule")
    parsed = _parse_keys(nodes, node.at, ctx)
    _cross_checks(parsed)
    errors = [p for p in sink.problems[before:] if p.severity is Severity.ERROR]
    rule = None if errors else _build(parsed, position)
    return _Outcome(parsed.get("id"), position, rule)


def _label(id_node: Node | None, index: int) -> str:
    """`rule "<id>"` when the id reads as one, else `rule #<n>`."""
    if id_node is not None and isinstance(id_node.value, str) and id_node.value.strip():
        return f'rule "{id_node.value.strip()}"'
    return f"rule #{index}"


def _parse_keys(nodes: dict[str, Node], at: At, ctx: Context) -> _Parsed:
    """Parse every known key (kind first, since other keys depend on it)."""
    values: dict[str, Any] = {}
    if "kind" in nodes:
        values["kind"] = fields.kind(nodes["kind"], ctx)
    kind = values.get("kind")
    ctx = Context(ctx.sink, kind if isinstance(kind, ObservationKind) else None, ctx.areas)
    for key in schema.RULE_KEYS:
        if key.name in nodes and key.name != "kind":
            values[key.name] = _parse_key(key, nodes[key.name], ctx)
    return _Parsed(values, nodes, at, ctx)


def _parse_key(key: schema.Key, node: Node, ctx: Context) -> Any:
    """One key through its schema type's parser."""
    if key.name in _POSITIVE:
        return fields.positive_duration(node, ctx, key.name)
    return PARSERS[key.type](node, ctx)


def _cross_checks(parsed: _Parsed) -> None:
    """Checks that involve more than one key."""
    _required(parsed)
    _condition(parsed)
    _one_level_form(parsed)
    _siren_level(parsed)
    _tsunami_expiry(parsed)
    _forecast_audience(parsed)
    _message_checks(parsed)
    if "description" not in parsed.nodes:
        parsed.ctx.sink.warn(
            parsed.at, "no description: say why this threshold and its source (description: ...)"
        )


def _required(parsed: _Parsed) -> None:
    """Required keys, with an example of each (`message` may live in every ladder step)."""
    for key in schema.RULE_KEYS:
        if key.required and key.name not in parsed.nodes and not _covered(key, parsed):
            example = _one_line(key.example)
            steps = " or a message in every levels step" if _ladder_message(key, parsed) else ""
            parsed.ctx.sink.error(
                parsed.at, f'missing required key "{key.name}" (e.g. {example}){steps}'
            )


def _covered(key: schema.Key, parsed: _Parsed) -> bool:
    """True when a missing key is not needed: every ladder step has its own message.

    An invalid ladder (already reported) also counts, so one mistake is not reported twice.
    """
    if not _ladder_message(key, parsed):
        return False
    steps = parsed.get("levels")
    return not steps or all(step.messages for step in steps)


def _ladder_message(key: schema.Key, parsed: _Parsed) -> bool:
    """True for the `message` key of a rule written with a `levels` ladder."""
    return key.name == "message" and "levels" in parsed.nodes


def _one_line(example: str) -> str:
    """A schema example on one line: `message: {id: "..."}` for a nested one."""
    lines = example.splitlines()
    return lines[0] if len(lines) == 1 else f"{lines[0]} {{{lines[1].strip()}}}"


def _condition(parsed: _Parsed) -> None:
    """A rule must say when it fires: its `when`, or a ladder whose every step has one.

    Without one every observation of the kind fires: `areas: all`, AWAS and sirens
    on every quake BMKG lists is one forgotten line away.
    """
    if "when" in parsed.nodes:
        return
    steps = parsed.get("levels")
    if "levels" in parsed.nodes and (not steps or all(step.when is not None for step in steps)):
        return  # a ladder that gates itself, or one already reported as invalid
    parsed.ctx.sink.error(
        parsed.at,
        'no condition: without "when" the rule fires on every observation of its kind; '
        'add one (e.g. when: {value: magnitude, ">=": 5.0})',
    )


def _one_level_form(parsed: _Parsed) -> None:
    """Exactly one of `level` and `levels`."""
    sink = parsed.ctx.sink
    if "level" in parsed.nodes and "levels" in parsed.nodes:
        sink.error(parsed.nodes["levels"].at, 'write either "level" or "levels", not both')
    elif "level" not in parsed.nodes and "levels" not in parsed.nodes:
        sink.error(parsed.at, 'missing required key "level" (e.g. level: siaga) or "levels"')


def _levels(parsed: _Parsed) -> tuple[LevelStep, ...]:
    """The rule's ladder, from `level` or `levels` (empty when neither is valid)."""
    single = parsed.get("level")
    if isinstance(single, Level):
        return (LevelStep(single),)
    ladder = parsed.get("levels")
    return tuple(ladder) if ladder else ()


def _siren_level(parsed: _Parsed) -> None:
    """A siren means "act now": some level must be siaga or awas unless the rule allows lower.

    In a ladder the siren sounds only at its siaga and awas steps (lower steps
    notify by SMS and CAP), so a ladder that starts at waspada is fine.
    """
    steps = _levels(parsed)
    chosen = parsed.get("actions") or frozenset()
    if Action.SIREN not in chosen or not steps or parsed.get("allow_siren_below_siaga"):
        return
    highest = max(step.level for step in steps)
    if highest < Level.SIAGA:
        parsed.ctx.sink.error(
            parsed.nodes["actions"].at,
            f"siren at level {highest.value}: a siren means act now, so it needs siaga or awas; "
            "raise the level, remove siren, or add allow_siren_below_siaga: true",
        )


def _tsunami_expiry(parsed: _Parsed) -> None:
    """Tsunami warnings end with PD-4 or the engine's safety timeout, never by expiry."""
    if parsed.get("kind") is ObservationKind.TSUNAMI_WARNING and "expire_after" in parsed.nodes:
        parsed.ctx.sink.error(
            parsed.nodes["expire_after"].at,
            "a tsunami warning ends only with its PD-4 bulletin (clear_when) or the 12 h safety "
            "timeout: remove expire_after",
        )


#: Contact groups that speak to residents: a forecast never reaches them.
RESIDENT_GROUPS: tuple[str, ...] = ("public", "rt-heads", "siskamling")


def _forecast_audience(parsed: _Parsed) -> None:
    """A rule on forecasts (kind prakiraan) warns officials ahead, never sirens or the public.

    A forecast may not come true: sounding sirens, publishing CAP or texting
    residents on one would spend their trust on rain that did not fall.
    """
    if parsed.get("kind") is not ObservationKind.PRAKIRAAN:
        return
    actions = parsed.get("actions") or frozenset()
    loud = sorted(a.value for a in actions if a in (Action.SIREN, Action.CAP))
    if loud:
        parsed.ctx.sink.error(
            parsed.nodes["actions"].at,
            f"a prakiraan (forecast) rule cannot use {' or '.join(loud)}: forecasts never "
            "sound sirens or reach the public; use actions: [sms] with recipients: [officials]",
        )
    recipients = parsed.get("recipients")
    if "recipients" not in parsed.nodes:
        parsed.ctx.sink.error(
            parsed.at,
            "a prakiraan (forecast) rule needs recipients: without them every group, "
            "residents too, would get it; add recipients: [officials]",
        )
    elif recipients and (residents := [g for g in recipients if g in RESIDENT_GROUPS]):
        parsed.ctx.sink.error(
            parsed.nodes["recipients"].at,
            f"a prakiraan (forecast) rule cannot address {', '.join(residents)}: forecasts go "
            "to officials only; use recipients: [officials]",
        )


def _message_checks(parsed: _Parsed) -> None:
    """Every message of the rule rendered at the levels it serves; endings are required.

    A rule that can end (every kind but earthquake, whose alerts expire silently)
    must say in `end_message` what ended, at the rule or in every ladder step.
    """
    kind = parsed.get("kind")
    if not isinstance(kind, ObservationKind):
        return
    names = fields.area_names(parsed.ctx.areas, parsed.get("areas") or ("all",))
    required = conditions.required_values(parsed.get("when"))
    for use, step_when in _message_uses(parsed):
        needed = required | conditions.required_values(step_when)
        templates.check_rendering(
            use, kind=kind, required=needed, area_names=names, sink=parsed.ctx.sink
        )
    steps = _levels(parsed)
    ends = bool(parsed.get("end_message")) or (
        "levels" in parsed.nodes and bool(steps) and all(s.end_messages for s in steps)
    )
    if kind is not ObservationKind.EARTHQUAKE and steps and not ends:
        parsed.ctx.sink.error(
            parsed.at,
            'missing "end_message": say what ended, without repeating the instruction '
            '(e.g. end_message: {id: "Peringatan ... di {area} berakhir."})',
        )


def _message_uses(parsed: _Parsed) -> Iterator[tuple[templates.MessageUse, Any]]:
    """Each written message mapping with the levels it serves and its step's `when`."""
    steps = _levels(parsed)
    items = elements(parsed.nodes["levels"]) if "levels" in parsed.nodes else []
    for key in schema.MESSAGE_KEYS:
        attribute = schema.RULE_KEY_INDEX[key].attribute
        own = [step.level for step in steps if not getattr(step, attribute)]
        if (written := parsed.get(key)) and own:
            yield templates.MessageUse(key, parsed.nodes[key], written, tuple(own)), None
        for step, item in zip(steps, items, strict=False):
            node = next((v for k, _at, v in entries(item) if k == key), None)
            if node is not None and getattr(step, attribute):
                use = templates.MessageUse(key, node, getattr(step, attribute), (step.level,))
                yield use, step.when


def _build(parsed: _Parsed, position: SourcePosition) -> Rule:
    """The `model.Rule` of a rule without errors."""
    kwargs = {
        schema.RULE_KEY_INDEX[name].attribute: value
        for name, value in parsed.values.items()
        if name not in ("level", "levels")
    }
    kwargs["levels"] = _levels(parsed)
    if parsed.get("kind") is ObservationKind.EARTHQUAKE:
        kwargs.setdefault("expire_after", EARTHQUAKE_EXPIRY)
    return Rule(**kwargs, position=position)


def _duplicates(outcomes: list[_Outcome], problems: list[Problem]) -> None:
    """Ids are unique across every file; the second use names the first."""
    first: dict[str, SourcePosition] = {}
    for outcome in outcomes:
        if outcome.id is None:
            continue
        earlier = first.setdefault(outcome.id, outcome.position)
        if earlier is outcome.position:
            continue
        where = outcome.position
        problems.append(
            Problem(
                where.path,
                f'rule "{outcome.id}": id already used at {earlier}; give each rule its own id',
                where.line,
                where.col,
            )
        )
