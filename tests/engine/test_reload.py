"""A reload of edited rules keeps the states of rules that did not change."""

from __future__ import annotations

from dataclasses import replace

from tests.support.rules import quake_rule, rain_rule
from warning.model import AlertState, AlertStatus, SourcePosition
from warning.rules.engine import carry_over


def _states() -> dict[tuple[str, str], AlertStatus]:
    """One firing status for each of two rules."""
    return {
        ("gempa-kuat", "manggar"): AlertStatus("gempa-kuat", "manggar", AlertState.FIRING),
        ("hujan-24j", "graha-indah"): AlertStatus("hujan-24j", "graha-indah", AlertState.FIRING),
    }


def test_unchanged_rules_keep_their_states_even_when_moved() -> None:
    """A rule moved to another line of its file is the same rule."""
    old = [quake_rule(), rain_rule()]
    moved = replace(quake_rule(), position=SourcePosition("rules/gempa.yaml", 40, 3))
    assert carry_over(old, [moved, rain_rule()], _states()) == _states()


def test_edited_rules_lose_their_states() -> None:
    """A changed threshold starts afresh: its old episode is dropped."""
    edited = rain_rule(areas=("graha-indah", "karang-joang"))
    kept = carry_over([quake_rule(), rain_rule()], [quake_rule(), edited], _states())
    assert list(kept) == [("gempa-kuat", "manggar")]


def test_removed_rules_lose_their_states() -> None:
    """A rule deleted from the files leaves no state behind."""
    kept = carry_over([quake_rule(), rain_rule()], [rain_rule()], _states())
    assert list(kept) == [("hujan-24j", "graha-indah")]
