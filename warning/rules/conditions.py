"""`when` / `clear_when` / `levels`: conditions checked against the rule's kind.

A condition is `{value: NAME, OP: operand}`, optionally `over` a window with an
`agg`; `all:` / `any:` nest, and a plain list means `all`.  Every value name is
checked against the kind, every operand against the value's type.
"""

from __future__ import annotations

from typing import Any

from warning.model import (
    Aggregation,
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    Expression,
    Level,
    LevelStep,
    Value,
)
from warning.rules import schema, templates
from warning.rules.fields import (
    INVALID,
    Context,
    Invalid,
    choice,
    ladder_step,
    positive_duration,
)
from warning.rules.source import (
    At,
    Node,
    describe,
    elements,
    entries,
    is_mapping,
    is_number,
    is_sequence,
    plain,
    suggest,
)

_OPERATORS = tuple(c.value for c in Comparison)
_CONDITION_WORDS = (*schema.CONDITION_KEYS, *_OPERATORS, *schema.COMBINATORS)
#: Spellings people try for an operator, and what we accept instead.
_OPERATOR_ALIASES = {"=": "==", "=>": ">=", "=<": "<=", "gte": ">=", "lte": "<=", "eq": "=="}
_MAX_DEPTH = 10
_EXAMPLE = '{value: magnitude, ">=": 6.0}'


def expression(node: Node, ctx: Context, depth: int = 0) -> Expression | Invalid:
    """Parse a condition, an `all:` / `any:` mapping or a plain list (meaning all)."""
    if depth > _MAX_DEPTH or not ctx.budget.spend():
        ctx.sink.error(node.at, "conditions nested too deeply or too many; simplify this rule")
        return INVALID
    value = node.value
    if is_sequence(value):
        return _combine(AllOf, node, ctx, depth)
    if not is_mapping(value):
        ctx.sink.error(
            node.at,
            f"expected a condition such as {_EXAMPLE}, or all:/any: with a list, "
            f"got {describe(value)}",
        )
        return INVALID
    combinators = [k for k in schema.COMBINATORS if k in value]
    if combinators:
        return _combinator(node, ctx, depth, combinators)
    return _condition(node, ctx)


def _combinator(node: Node, ctx: Context, depth: int, found: list[str]) -> Expression | Invalid:
    """`{all: [...]}` or `{any: [...]}`, alone in their mapping."""
    parts = entries(node)
    if len(parts) != 1:
        others = ", ".join(f'"{k}"' for k, _a, _v in parts if k != found[0])
        ctx.sink.error(
            node.at,
            f'"{found[0]}" must be the only key of its mapping (also found {others}); '
            "put the other conditions inside its list",
        )
        return INVALID
    _key, _at, inner = parts[0]
    cls = AllOf if found[0] == "all" else AnyOf
    if not is_sequence(inner.value):
        ctx.sink.error(inner.at, f'"{found[0]}" takes a list of conditions ("- " each)')
        return INVALID
    return _combine(cls, inner, ctx, depth)


def _combine(
    cls: type[AllOf | AnyOf], node: Node, ctx: Context, depth: int
) -> Expression | Invalid:
    """Parse every item of a list of conditions."""
    items = elements(node)
    if not items:
        ctx.sink.error(node.at, "empty list of conditions: add at least one condition")
        return INVALID
    parsed = [expression(item, ctx, depth + 1) for item in items]
    if any(isinstance(p, Invalid) for p in parsed):
        return INVALID
    return cls(tuple(p for p in parsed if not isinstance(p, Invalid)))


def _condition(node: Node, ctx: Context) -> Condition | Invalid:
    """`{value: NAME, OP: operand, [over: D, agg: A]}`."""
    parts = {}
    ops: list[tuple[str, At, Node]] = []
    unknown = 0
    for key, key_at, value in entries(node):
        if key in _OPERATORS:
            ops.append((key, key_at, value))
        elif key in schema.CONDITION_KEYS:
            parts[key] = value
        elif ops and _decimal_comma(key, value):
            whole = plain(ops[-1][2].value)
            ctx.sink.error(
                ops[-1][2].at,
                f'"{whole},{key}" is read as two keys: numbers take a decimal point, '
                f'write "{ops[-1][0]}": {whole}.{key}',
            )
            unknown += 1
        else:
            hint = _OPERATOR_ALIASES.get(key)
            near = f' (did you mean "{hint}"?)' if hint else suggest(key, _CONDITION_WORDS)
            ctx.sink.error(key_at, f'unknown key "{key}" in a condition{near}')
            unknown += 1
    if "value" not in parts:
        ctx.sink.error(node.at, f'a condition needs "value: <name>", e.g. {_EXAMPLE}')
        return INVALID
    name = _value_name(parts["value"], ctx)
    op = _operator(node, ops, ctx, quiet=unknown > 0)
    window = _window(node, parts, ctx)
    if isinstance(name, Invalid) or isinstance(op, Invalid) or isinstance(window, Invalid):
        return INVALID
    comparison, operand_node = op
    aggregated = window[1] is not None
    operand = _operand(name, comparison, operand_node, ctx, aggregated)
    if isinstance(operand, Invalid) or not _window_fits(name, parts, window, ctx):
        return INVALID
    return Condition(name, comparison, operand, window[0], window[1])


def _decimal_comma(key: str, value: Node) -> bool:
    """True for the stray key `5` that `">=": 40,5` leaves in a `{...}` condition."""
    return key.isdigit() and value.value is None


def _value_name(node: Node, ctx: Context) -> str | Invalid:
    """A value name valid for the rule's kind (any known value when the kind is unknown)."""
    if ctx.kind is None:
        return choice(node, ctx, schema.VALUE_INDEX, "value")
    valid = schema.values_for(ctx.kind)
    name = plain(node.value)
    if isinstance(name, str) and name in valid:
        return name
    shown = name if isinstance(name, str) else describe(name)
    ctx.sink.error(
        node.at,
        f'value "{shown}" is not carried by {ctx.kind.value} observations'
        f"{suggest(str(shown), valid)}",
    )
    return INVALID


def _operator(node: Node, ops: list[tuple[str, At, Node]], ctx: Context, quiet: bool) -> Any:
    """The one operator of a condition and its operand node.

    `quiet`: a misspelt key was already reported, probably the operator itself.
    """
    if not ops and quiet:
        return INVALID
    if not ops:
        ctx.sink.error(
            node.at, f"a condition needs one operator: {', '.join(_OPERATORS)}, e.g. {_EXAMPLE}"
        )
        return INVALID
    for key, key_at, _value in ops[1:]:
        ctx.sink.error(
            key_at,
            f'one operator per condition: move "{key}" into a second condition under all:',
        )
    if len(ops) > 1:
        return INVALID
    key, _at, operand = ops[0]
    return Comparison(key), operand


def _window(node: Node, parts: dict[str, Node], ctx: Context) -> Any:
    """(over, agg): both given or neither."""
    if ("over" in parts) != ("agg" in parts):
        missing = "agg: sum|max|min|mean|delta" if "over" in parts else "over: <duration>"
        ctx.sink.error(node.at, f"a windowed condition needs both over and agg: add {missing}")
        return INVALID
    if "over" not in parts:
        return (None, None)
    over = positive_duration(parts["over"], ctx, "over")
    agg = choice(parts["agg"], ctx, (a.value for a in Aggregation), "agg")
    if isinstance(over, Invalid) or isinstance(agg, Invalid):
        return INVALID
    if over > schema.MAX_WINDOW:
        # The daemon keeps observations for the longest window: bounded memory.
        ctx.sink.error(
            parts["over"].at,
            f"over: {parts['over'].value} is longer than the {schema.MAX_WINDOW.days} days "
            f"of history kept; use at most over: {schema.MAX_WINDOW.days}d",
        )
        return INVALID
    return (over, Aggregation(agg))


def _window_fits(name: str, parts: dict[str, Node], window: Any, ctx: Context) -> bool:
    """Only measured numbers can be aggregated; a distance cannot."""
    if window[1] is None:
        return True
    doc = schema.VALUE_INDEX[name]
    if doc.type is schema.ValueType.NUMBER and name != "distance_km":
        return True
    ctx.sink.error(parts["agg"].at, f'"{name}" cannot be aggregated: remove over and agg')
    return False


def _operand(
    name: str, op: Any, node: Node, ctx: Context, aggregated: bool
) -> Value | tuple[Value, ...] | Invalid:
    """Check the operand against the value's type (a list of them for `in`)."""
    doc = schema.VALUE_INDEX[name]
    if not doc.comparable:
        ctx.sink.error(node.at, f'"{name}" is for messages only and cannot be compared')
        return INVALID
    if op is Comparison.IN:
        return _operand_list(doc, node, ctx, aggregated)
    if op is not Comparison.EQ and doc.type is not schema.ValueType.NUMBER:
        ctx.sink.error(node.at, f'"{name}" is {_article(doc)}: compare it with == or in')
        return INVALID
    return _single_operand(doc, node, ctx)


def _operand_list(
    doc: schema.ValueDoc, node: Node, ctx: Context, aggregated: bool
) -> tuple[Value, ...] | Invalid:
    """The operand of `in`: a non-empty list."""
    if aggregated:
        ctx.sink.error(node.at, "a windowed value is a number: compare it with >=, >, <=, < or ==")
        return INVALID
    if not is_sequence(node.value) or not node.value:
        ctx.sink.error(node.at, f'"in" takes a non-empty list, e.g. [{_sample(doc)}]')
        return INVALID
    items = [_single_operand(doc, item, ctx) for item in elements(node)]
    if any(isinstance(i, Invalid) for i in items):
        return INVALID
    return tuple(i for i in items if not isinstance(i, Invalid))


def _single_operand(doc: schema.ValueDoc, node: Node, ctx: Context) -> Value | Invalid:
    """One operand of the value's type; words are matched case-insensitively."""
    value = plain(node.value)
    if doc.type is schema.ValueType.NUMBER and is_number(value):
        return float(value) if isinstance(value, float) else int(value)
    if doc.type is schema.ValueType.FLAG and isinstance(value, bool):
        return value
    if doc.type is schema.ValueType.TEXT and isinstance(value, str):
        return value
    if doc.type is schema.ValueType.WORD and isinstance(value, str):
        return _word(doc, value, node, ctx)
    ctx.sink.error(
        node.at,
        f'"{doc.name}" is {_article(doc)}; {describe(value)} cannot be compared with it'
        f" (e.g. {_sample(doc)})",
    )
    return INVALID


def _word(doc: schema.ValueDoc, word: str, node: Node, ctx: Context) -> str | Invalid:
    """One of the value's words, in its canonical spelling."""
    for valid in doc.choices:
        if valid.casefold() == word.casefold():
            return valid
    ctx.sink.error(node.at, f'"{word}" is not a {doc.name}{suggest(word, doc.choices)}')
    return INVALID


def _article(doc: schema.ValueDoc) -> str:
    """'a number', 'true/false', 'a word' ..."""
    return doc.type.value if doc.type is schema.ValueType.FLAG else f"a {doc.type.value}"


def _sample(doc: schema.ValueDoc) -> str:
    """A valid operand for the value, as written in YAML."""
    samples = {schema.ValueType.NUMBER: "6.0", schema.ValueType.FLAG: "true"}
    if doc.choices:
        return doc.choices[0]
    return samples.get(doc.type, '"text"')


def ladder(node: Node, ctx: Context) -> tuple[LevelStep, ...] | Invalid:
    """`levels:` steps from lowest to highest, each level once."""
    if not is_sequence(node.value) or not node.value:
        ctx.sink.error(node.at, "levels takes a list of {level, when} steps, lowest first")
        return INVALID
    items = elements(node)
    steps = [ladder_step(item, ctx, expression, templates.messages) for item in items]
    if any(isinstance(s, Invalid) for s in steps):
        return INVALID
    valid = [s for s in steps if isinstance(s, LevelStep)]
    for prev, step, item in zip(valid, valid[1:], items[1:], strict=False):
        if step.level <= prev.level:
            ctx.sink.error(
                item.at,
                f"levels must rise from lowest to highest: {step.level.value} after "
                f"{prev.level.value}; order them {', '.join(lv.value for lv in Level)}",
            )
            return INVALID
    return tuple(valid)


def required_values(expression: Expression | None) -> frozenset[str]:
    """Values an observation must carry for `expression` to hold (so a message may print them).

    A condition needs its value; `all` needs every part's; `any` only what every
    branch needs.  Requiring BMKG's flag or felt intensity brings BMKG's words along.
    """
    if expression is None:
        return frozenset()
    if isinstance(expression, Condition):
        return frozenset({expression.field, *schema.BROUGHT.get(expression.field, ())})
    parts = [required_values(part) for part in expression.conditions]
    if isinstance(expression, AllOf):
        return frozenset().union(*parts)
    return frozenset.intersection(*parts) if parts else frozenset()
