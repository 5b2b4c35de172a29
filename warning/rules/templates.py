"""Message templates: known placeholders only, and their worst-case SMS length.

Templates are data: they are split with `string.Formatter().parse` and never
evaluated.  The worst case puts the widest text in every placeholder and the
longest prefixes (drill and all-clear) in front, and counts GSM-7 characters.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType

from warning.model import Level
from warning.rules import fields, schema
from warning.rules.fields import INVALID, Context, Invalid
from warning.rules.source import (
    At,
    Node,
    Sink,
    column_in,
    entries,
    is_mapping,
    suggest,
    unknown_keys,
)

#: GSM 03.38 characters that take two septets (escape + character).
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

#: Widest kelurahan text when the areas are not known (Balikpapan's two longest names).
AREA_FALLBACK = schema.AREA_LIST_FORM.format(
    first="Gunung Samarinda Baru", second="Gunung Sari Ilir", rest=32
)


def placeholders(template: str) -> list[tuple[str, str, str | None]]:
    """(name, format spec, conversion) of every placeholder; ValueError on bad braces."""
    return [
        (name, spec or "", conv)
        for _text, name, spec, conv in string.Formatter().parse(template)
        if name is not None
    ]


def check(node: Node, allowed: Sequence[str], sink: Sink, language: str) -> bool:
    """Report unbalanced braces and unknown or formatted placeholders; True when clean."""
    template = str(node.value)
    try:
        found = placeholders(template)
    except ValueError:
        sink.error(
            node.at, f'message "{language}": unbalanced "{{" or "}}"; write {{{{ for a brace'
        )
        return False
    before = len(sink.problems)
    start = 0
    for name, spec, conv in found:
        start = max(template.find("{" + name, start), 0)
        at = column_in(node, start)
        start += 1
        if name not in allowed:
            near = suggest(name, allowed) if name else f" (valid: {', '.join(allowed)})"
            sink.error(at, f'message "{language}": unknown placeholder "{{{name}}}"{near}')
        elif spec or conv:
            sink.error(
                at,
                f'message "{language}": write "{{{name}}}" without ":" or "!": '
                "the renderer formats values itself",
            )
    return len(sink.problems) == before


def worst_case(template: str, widest: Mapping[str, str], prefix: str) -> str:
    """The template with the widest text in every placeholder, behind `prefix`."""
    parts = [prefix]
    for text, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(text)
        if name is not None:
            parts.append(widest.get(name, ""))
    return "".join(parts)


def sms_length(text: str) -> int:
    """GSM-7 characters `text` needs (extension characters count twice)."""
    return sum(2 if char in _GSM_EXTENDED else 1 for char in text)


def widest_area(names: Sequence[str]) -> str:
    """The longest area text the renderer can produce for these kelurahan."""
    if not names:
        return AREA_FALLBACK
    longest = sorted(names, key=len, reverse=True)
    forms = [longest[0]]
    if len(longest) == 2:
        forms.append(f"{longest[0]} dan {longest[1]}")
    if len(longest) > 2:
        forms.append(
            schema.AREA_LIST_FORM.format(first=longest[0], second=longest[1], rest=len(longest) - 2)
        )
    return max(forms, key=len)


def widest_values(levels: Sequence[Level], area_names: Sequence[str]) -> dict[str, str]:
    """Widest rendering of every placeholder for a rule with these levels and areas."""
    widest = {p.name: p.widest for p in schema.COMMON_PLACEHOLDERS}
    widest.update({v.name: v.widest for v in schema.VALUES if v.name != "level"})
    widest["level"] = max((lv.word for lv in levels), key=len, default="WASPADA")
    widest["area"] = widest_area(area_names)
    return widest


def length_warning(
    template: str, language: str, widest: Mapping[str, str], sink: Sink, at: At
) -> None:
    """Warn when the worst case of a template needs more than one SMS segment."""
    prefix = schema.WORST_PREFIX.get(language, schema.WORST_PREFIX["id"])
    text = worst_case(template, widest, prefix)
    length = sms_length(text)
    if length > schema.SMS_LIMIT:
        sink.warn(
            at,
            f'message "{language}" can reach {length} characters, more than one SMS '
            f"({schema.SMS_LIMIT}) with the longest level, area and numbers and the "
            f'"{prefix.strip()}" prefix; shorten it by {length - schema.SMS_LIMIT}',
        )


def messages(node: Node, ctx: Context) -> Mapping[str, str] | Invalid:
    """`message:` templates per language, `id` required, placeholders known for the kind."""
    if not is_mapping(node.value):
        ctx.sink.error(node.at, 'message takes templates per language: id: "...", en: "..."')
        return INVALID
    unknown_keys(node, schema.LANGUAGES, ctx.sink, "message (languages)")
    allowed = allowed_placeholders(ctx)
    found: dict[str, str] = {}
    for language, _at, value in entries_of(node):
        template = fields.text(value, ctx)
        if isinstance(template, str) and check(value, allowed, ctx.sink, language):
            found[language] = template
    if schema.LANGUAGES[0] not in found and schema.LANGUAGES[0] not in node.value:
        ctx.sink.error(node.at, 'message needs an "id" template (Bahasa Indonesia)')
    return MappingProxyType(found)


def entries_of(node: Node) -> Iterator[tuple[str, At, Node]]:
    """The (language, position, template node) entries of a known language."""
    return (entry for entry in entries(node) if entry[0] in schema.LANGUAGES)


def allowed_placeholders(ctx: Context) -> tuple[str, ...]:
    """Placeholders for the rule's kind (every value name when the kind is unknown)."""
    if ctx.kind is None:
        common = tuple(p.name for p in schema.COMMON_PLACEHOLDERS)
        return common + tuple(schema.VALUE_INDEX)
    return schema.placeholders_for(ctx.kind)
