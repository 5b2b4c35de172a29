"""The schema is the documentation: it drives validation and renders docs/rules.md."""

from __future__ import annotations

from tests.support.paths import ROOT
from warning.model import KIND_VALUES, Rule
from warning.rules import schema
from warning.rules.loader import PARSERS


def test_docs_rules_md_is_up_to_date() -> None:
    """docs/rules.md is exactly what the schema renders (`warning rules reference`)."""
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == schema.render_reference()


def test_docs_aturan_md_is_the_same_schema_in_bahasa_indonesia() -> None:
    """docs/aturan.md is what `warning rules reference --lang id` renders, every key in it."""
    text = (ROOT / "docs" / "aturan.md").read_text(encoding="utf-8")
    assert text == schema.render_reference("id")
    for key in schema.RULE_KEYS:
        assert f"### `{key.name}`\n\n{key.description_id}" in text


def test_every_key_type_has_a_parser() -> None:
    """Each schema type is validated by one parser, so no key goes unchecked."""
    assert set(PARSERS) == set(schema.FieldType)


def test_every_key_fills_a_rule_attribute() -> None:
    """Every documented key lands in model.Rule (level/levels both fill `levels`)."""
    attributes = set(Rule.__dataclass_fields__)
    assert {k.attribute for k in schema.RULE_KEYS if k.name != "level"} <= attributes


def test_reference_documents_every_key_and_value() -> None:
    """The rendered reference names every rule key and every value name."""
    text = schema.render_reference()
    assert all(f"### `{k.name}`" in text for k in schema.RULE_KEYS)
    assert all(f"| `{v.name}` |" in text for v in schema.VALUES)


def test_value_docs_agree_with_the_model() -> None:
    """The documented values per kind are the model's KIND_VALUES (plus distance_km)."""
    for kind, names in KIND_VALUES.items():
        documented = {v.name for v in schema.VALUES if kind in v.kinds}
        assert documented - {"distance_km"} == set(names)


def test_distance_is_only_for_point_kinds() -> None:
    """distance_km exists where observations have a point, and nowhere else."""
    for kind in KIND_VALUES:
        assert ("distance_km" in schema.values_for(kind)) == (kind in schema.POINT_KINDS)
