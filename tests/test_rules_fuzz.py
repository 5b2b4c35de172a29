"""No input makes the rule loader fail with anything but problems (or ConfigError)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from warning.model import ConfigError, Problem, Severity
from warning.rules import check_rules, load_rules

#: Words the loader reacts to, so random documents reach deep into validation.
_WORDS = st.sampled_from(
    [
        "id",
        "name",
        "kind",
        "when",
        "all",
        "any",
        "value",
        "over",
        "agg",
        "level",
        "levels",
        "areas",
        "actions",
        "message",
        "for",
        "clear_when",
        "recipients",
        "earthquake",
        "rainfall",
        "tsunami_warning",
        "magnitude",
        "distance_km",
        "level",
        ">=",
        "in",
        "==",
        "sum",
        "delta",
        "siaga",
        "waspada",
        "siren",
        "coastal",
        "kecamatan:x",
        "10m",
        "0s",
        "{level}",
        "{area",
        "}{",
        "id",
        "en",
        "allow_siren_below_siaga",
        "expire_after",
    ]
)
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12), _WORDS
)
_KEYS = st.one_of(_WORDS, st.text(max_size=8), st.integers())
_DOCS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=30,
)


def _dump(document: Any) -> str:
    """YAML text of a generated document."""
    out = io.StringIO()
    YAML(typ="safe").dump(document, out)
    return out.getvalue()


def _check(tmp_path: Path, text: str) -> None:
    """Both entry points on one text: problems, rules, or ConfigError, nothing else."""
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    problems = check_rules([path])
    assert all(isinstance(p, Problem) and p.message for p in problems)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        with pytest.raises(ConfigError):
            load_rules([path])
    else:
        load_rules([path])


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=st.lists(_DOCS, max_size=3) | _DOCS)
def test_random_documents_give_problems_not_exceptions(tmp_path: Path, document: Any) -> None:
    """Random YAML structures never raise anything but ConfigError."""
    _check(tmp_path, _dump(document))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(alphabet=st.sampled_from(list("- :{}[]\"'\n#&*!|>%@`,?abc12\t\\")), max_size=80)
)
def test_random_text_gives_problems_not_exceptions(tmp_path: Path, text: str) -> None:
    """Random characters (YAML syntax soup) never raise anything but ConfigError."""
    _check(tmp_path, text)


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    """Aliases that multiply conditions (3**11 here) are cut off with a problem, not a hang."""
    items = ["&c0 {value: magnitude, '>=': 1}"]
    items += [f"&c{i} {{all: [*c{i - 1}, *c{i - 1}, *c{i - 1}]}}" for i in range(1, 12)]
    path = tmp_path / "bomb.yaml"
    path.write_text(
        "- id: bom\n  name: B\n  description: d\n  kind: earthquake\n  level: siaga\n"
        "  message: {id: x}\n  when:\n    all:\n" + "".join(f"      - {i}\n" for i in items)
    )
    problems = check_rules([path])
    assert any("too deeply or too many" in p.message for p in problems)


def test_recursive_alias_is_a_problem(tmp_path: Path) -> None:
    """A list that contains itself is reported, not followed forever."""
    path = tmp_path / "loop.yaml"
    path.write_text(
        "- id: loop\n  name: L\n  description: d\n  kind: earthquake\n  level: siaga\n"
        "  message: {id: x}\n  when: &w\n    all: [*w]\n"
    )
    problems = check_rules([path])
    assert problems
    assert all(isinstance(p, Problem) for p in problems)
