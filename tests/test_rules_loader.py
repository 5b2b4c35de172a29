"""Rule files: good fixtures load cleanly, each bad fixture reports its mistake with line:col."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.paths import FIXTURES
from warning.areas import AreaIndex
from warning.model import (
    Action,
    Aggregation,
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    ConfigError,
    Level,
    LevelStep,
    ObservationKind,
    Rule,
    Severity,
)
from warning.rules import check_rules, load_rules, parse_duration, rule_files

RULES = FIXTURES / "rules"
E, W = Severity.ERROR, Severity.WARNING

#: bad fixture -> (line, col, severity, a fragment of the message that carries the fix).
BAD: dict[str, tuple[int, int, Severity, str]] = {
    "unknown-key": (3, 3, E, 'unknown key "desciption" in a rule (did you mean "description"?)'),
    "unknown-kind": (4, 9, E, 'unknown kind "earthqake" (did you mean "earthquake"?)'),
    "name-not-text": (2, 9, E, "expected text, got a list"),
    "bad-id": (1, 7, E, "must be lower-case letters, digits and dashes, e.g. contoh-gempa"),
    "missing-id": (1, 3, E, 'rule #1: missing required key "id"'),
    "missing-name": (1, 3, E, 'missing required key "name" (e.g. name:'),
    "missing-kind": (1, 3, E, 'missing required key "kind" (e.g. kind: rainfall)'),
    "missing-level": (1, 3, E, 'missing required key "level" (e.g. level: siaga) or "levels"'),
    "both-level-forms": (8, 5, E, 'write either "level" or "levels", not both'),
    "missing-message": (1, 3, E, 'missing required key "message" (e.g. message: {id:'),
    "message-without-id": (8, 5, E, 'message needs an "id" template (Bahasa Indonesia)'),
    "unknown-language": (9, 5, E, 'unknown key "fr" in message (languages) (valid: id, en)'),
    "unknown-placeholder": (
        8,
        26,
        E,
        'unknown placeholder "{magnitud}" (did you mean "magnitude"?)',
    ),
    "placeholder-of-other-kind": (8, 38, E, 'unknown placeholder "{precipitation_mm}"'),
    "placeholder-format-spec": (8, 26, E, 'write "{magnitude}" without ":" or "!"'),
    "unbalanced-brace": (8, 9, E, 'unbalanced "{" or "}"; write {{ for a brace'),
    "value-of-other-kind": (5, 17, E, 'value "precipitation_mm" is not carried by earthquake'),
    "distance-for-area-kind": (5, 17, E, 'value "distance_km" is not carried by rainfall'),
    "operand-not-number": (5, 34, E, '"magnitude" is a number; "enam" cannot be compared'),
    "operand-not-infinite": (5, 34, E, '"magnitude" is a number; inf cannot be compared'),
    "word-not-known": (5, 30, E, '"warning" is not a level (valid: waspada, siaga, awas, ended)'),
    "flag-ordered": (5, 42, E, '"tsunami_potential" is true/false: compare it with == or in'),
    "in-without-list": (5, 32, E, '"in" takes a non-empty list, e.g. [6.0]'),
    "two-operators": (5, 39, E, 'one operator per condition: move "<" into a second condition'),
    "no-operator": (5, 9, E, "a condition needs one operator: >=, >, <=, <, ==, in"),
    "misspelt-operator": (5, 28, E, 'unknown key "=>" in a condition (did you mean ">="?)'),
    "over-without-agg": (5, 9, E, "needs both over and agg: add agg: sum|max|min|mean|delta"),
    "unknown-agg": (5, 51, E, 'unknown agg "total" (valid: sum, max, min, mean, delta)'),
    "aggregate-of-word": (5, 42, E, '"severity" cannot be aggregated: remove over and agg'),
    "time-value-compared": (5, 32, E, '"expires" is for messages only and cannot be compared'),
    "combinator-with-sibling": (6, 5, E, '"all" must be the only key of its mapping'),
    "empty-all": (6, 10, E, "empty list of conditions: add at least one condition"),
    "condition-as-text": (5, 9, E, 'expected a condition such as {value: magnitude, ">=": 6.0}'),
    "duration-words": (7, 8, E, '"10 minutes" is not a duration: write a whole number and a unit'),
    "duration-without-unit": (7, 8, E, '(write "90s" for seconds)'),
    "duration-zero": (7, 17, E, "repeat_every must be longer than 0s"),
    "unknown-area": (7, 20, E, 'unknown area "manggr" (did you mean "manggar"?)'),
    "kelurahan-as-kecamatan": (7, 10, E, '"manggar" is a kelurahan: write "manggar" without'),
    "area-not-an-id": (7, 10, E, 'area "Manggar Baruu" is not an area id or selector'),
    "unknown-action": (7, 18, E, 'unknown action "sirene" (did you mean "siren"?)'),
    "siren-below-siaga": (7, 12, E, "or add allow_siren_below_siaga: true"),
    "recipient-typo": (7, 16, E, 'unknown recipient group "offcials" (did you mean "officials"?)'),
    "source-not-a-feed": (7, 26, E, 'source "BMKG Pusat" must be a feed name such as bmkg'),
    "levels-out-of-order": (
        8,
        7,
        E,
        "levels must rise from lowest to highest: waspada after siaga",
    ),
    "levels-step-unknown-key": (
        7,
        22,
        E,
        'unknown key "if" in a levels step (valid: level, when, message, update_message, '
        "end_message)",
    ),
    "step-message-misspelt": (
        8,
        7,
        E,
        'unknown key "mesage" in a levels step (did you mean "message"?)',
    ),
    "step-message-unknown-placeholder": (
        8,
        33,
        E,
        'message "id": unknown placeholder "{areaa}" (did you mean "area"?)',
    ),
    "step-message-too-long": (8, 21, E, 'message "id" at SIAGA can reach 206 characters'),
    "step-without-message": (1, 3, E, '"message" (e.g. message: {id: "{level}: Hujan sangat lebat'),
    "ladder-siren-below-siaga": (7, 12, E, "siren at level waspada: a siren means act now"),
    "unknown-level": (6, 10, E, 'unknown level "bahaya" (valid: waspada, siaga, awas)'),
    "flag-not-boolean": (7, 28, E, 'expected true or false, got "yes"'),
    "tsunami-expiry": (6, 17, E, "PD-4 bulletin (clear_when) or the 12 h safety timeout"),
    "forecast-siren": (7, 12, E, "a prakiraan (forecast) rule cannot use siren: forecasts never"),
    "forecast-to-residents": (7, 15, E, "cannot address rt-heads: forecasts go to officials only"),
    "forecast-to-everyone": (1, 3, E, "needs recipients: without them every group, residents too"),
    "window-too-long": (5, 41, E, "over: 30d is longer than the 7 days of history kept"),
    "mapping-not-list": (1, 1, E, "a rule file is a list of rules, got a mapping: start each rule"),
    "rule-not-mapping": (1, 3, E, "rule #1 must be a mapping of keys"),
    "yaml-syntax": (7, 11, E, "not valid YAML: mapping values are not allowed here"),
    "decimal-comma": (5, 61, E, 'numbers take a decimal point, write ">=": 40.5'),
    "message-unquoted": (7, 16, E, "must be in quotes, e.g. message: {id: "),
    "tab-indent": (5, 1, E, "a tab is not allowed here; indent with spaces"),
    "yaml-duplicate-key": (7, 3, E, 'found duplicate key "level"'),
    "duplicate-id-in-file": (9, 3, E, "id already used at tests/fixtures/rules/bad/duplicate-id"),
    "message-too-long": (8, 9, E, 'message "id" at SIAGA can reach 206 characters'),
    "no-description": (1, 3, W, "no description: say why this threshold and its source"),
    "empty-file": (1, 1, W, "the file holds no rules"),
}

#: Findings about the file as a whole carry no rule label.
_FILE_LEVEL = {
    "mapping-not-list",
    "yaml-syntax",
    "yaml-duplicate-key",
    "empty-file",
    "message-unquoted",
    "tab-indent",
}


def test_every_bad_fixture_is_in_the_table() -> None:
    """Each file in bad/ has its expected message, and each table entry has its file."""
    on_disk = {p.stem for p in (RULES / "bad").glob("*.yaml")}
    assert on_disk == set(BAD)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_fixture_reports_its_mistake_at_its_position(
    name: str, areas: AreaIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One problem per bad file, at the expected line:col, saying what to fix."""
    monkeypatch.chdir(FIXTURES.parent.parent)
    line, col, severity, fragment = BAD[name]
    path = Path("tests/fixtures/rules/bad") / f"{name}.yaml"
    [problem] = check_rules([path], areas)
    assert (problem.path, problem.line, problem.col) == (str(path), line, col)
    assert problem.severity is severity
    assert fragment in problem.message
    label = "rule #1" if name in ("missing-id", "rule-not-mapping") else 'rule "'
    assert name in _FILE_LEVEL or problem.message.startswith(label)


@pytest.mark.parametrize("path", sorted((RULES / "good").glob("*.yaml")), ids=lambda p: p.stem)
def test_good_fixture_has_no_problem(path: Path, areas: AreaIndex) -> None:
    """Good fixtures load without errors or warnings."""
    assert check_rules([path], areas) == []


def test_problem_renders_as_file_line_col_rule_message(areas: AreaIndex) -> None:
    """str(Problem) is the `file:line:col: rule "<id>": message` the officials read."""
    path = RULES / "bad" / "unknown-kind.yaml"
    [problem] = check_rules([path], areas)
    assert str(problem) == (
        f'{path}:4:9: rule "contoh": unknown kind "earthqake" (did you mean "earthquake"?)'
    )


def test_warning_renders_with_warning_prefix(areas: AreaIndex) -> None:
    """Warnings are marked as such and do not stop a load."""
    path = RULES / "bad" / "no-description.yaml"
    [problem] = check_rules([path], areas)
    assert str(problem).startswith(f"{path}:1:3: warning: rule")
    assert [r.id for r in load_rules([path], areas)] == ["contoh"]


def test_every_problem_of_a_file_comes_back_together(tmp_path: Path, areas: AreaIndex) -> None:
    """Several mistakes in several rules of one file are all reported in one pass."""
    path = tmp_path / "many.yaml"
    path.write_text(
        "- id: satu\n"
        "  name: Satu\n"
        "  description: x\n"
        "  kind: rainfal\n"
        "  level: siaga\n"
        "  for: 10 menit\n"
        '  message: {id: "{level} {areaa}"}\n'
        "- id: dua\n"
        "  name: Dua\n"
        "  description: x\n"
        "  kind: wind\n"
        '  when: {value: wind_speed, ">=": 10}\n'
        "  level: waspada\n"
        "  areas: [manggar, nowhere]\n"
        "  actions: [siren]\n"
        '  message: {id: "{level} {area}"}\n'
        '  end_message: {id: "Selesai di {area}"}\n'
        "  treshold: 3\n",
        encoding="utf-8",
    )
    found = {(p.line, p.col, p.message.split(":")[0]) for p in check_rules([path], areas)}
    assert found == {
        (1, 3, 'rule "satu"'),  # no condition
        (4, 9, 'rule "satu"'),
        (6, 8, 'rule "satu"'),
        (7, 26, 'rule "satu"'),
        (12, 17, 'rule "dua"'),
        (14, 20, 'rule "dua"'),
        (15, 12, 'rule "dua"'),
        (18, 3, 'rule "dua"'),
    }


def test_load_raises_config_error_with_every_problem(areas: AreaIndex) -> None:
    """load_rules raises one ConfigError carrying all problems of all files."""
    paths = [RULES / "bad" / "unknown-kind.yaml", RULES / "bad" / "unknown-area.yaml"]
    with pytest.raises(ConfigError) as caught:
        load_rules(paths, areas)
    messages = [(p.path, p.message.split(": ", 1)[1][:20]) for p in caught.value.problems]
    assert messages == [
        (str(paths[0]), 'unknown kind "earthq'),
        (str(paths[1]), 'unknown area "manggr'),
        (str(paths[1]), "id already used at /"),
    ]


def test_duplicate_ids_across_files_name_both_places(areas: AreaIndex) -> None:
    """The second use of an id points at itself and names the first."""
    first, second = RULES / "duplicate" / "first.yaml", RULES / "duplicate" / "second.yaml"
    [problem] = check_rules([RULES / "duplicate"], areas)
    assert (problem.path, problem.line, problem.col) == (str(second), 2, 3)
    assert f"id already used at {first}:1:3" in problem.message


def test_directory_means_its_yaml_files_not_tests(tmp_path: Path) -> None:
    """A directory stands for the *.yaml directly in it; rules/tests/ scenarios are not rules."""
    shutil.copy(RULES / "good" / "minimal.yaml", tmp_path / "a.yaml")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "scenario.yaml").write_text("name: not a rule\n")
    (tmp_path / "notes.txt").write_text("not yaml\n")
    assert rule_files([tmp_path]) == [tmp_path / "a.yaml"]
    assert check_rules([tmp_path]) == []


def test_missing_path_is_a_problem(tmp_path: Path) -> None:
    """A path that does not exist is reported, not raised."""
    [problem] = check_rules([tmp_path / "nope.yaml"])
    assert problem.message == "no such file or directory"


def test_undecodable_file_is_a_problem(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are a positioned problem, not a traceback."""
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"- id: caf\xe9\n")
    [problem] = check_rules([path])
    assert "cannot read the file" in problem.message


def test_without_areas_selectors_are_checked_for_form_only(tmp_path: Path) -> None:
    """With no areas index, any well-formed id passes (the areas check reports a broken file)."""
    path = tmp_path / "r.yaml"
    text = (RULES / "bad" / "unknown-area.yaml").read_text()
    path.write_text(text)
    assert check_rules([path], None) == []


def test_minimal_rule_gets_the_documented_defaults(areas: AreaIndex) -> None:
    """Defaults: all areas, SMS only, every group, earthquakes expire after 1 h."""
    [rule] = load_rules([RULES / "good" / "minimal.yaml"], areas)
    assert rule.kind is ObservationKind.EARTHQUAKE
    assert rule.levels == (LevelStep(Level.SIAGA),)
    assert rule.when == Condition("magnitude", Comparison.GE, 6.0)
    assert rule.areas == ("all",)
    assert rule.actions == frozenset({Action.SMS})
    assert rule.recipients == ()
    assert rule.expire_after == timedelta(hours=1)
    assert (rule.for_duration, rule.keep_firing_for, rule.repeat_every) == (
        timedelta(0),
        timedelta(0),
        None,
    )
    assert (rule.public_sources, rule.late_after) == (None, None)
    assert rule.position is not None
    assert (rule.position.line, rule.position.col) == (1, 3)


def test_public_sources_and_late_after_land_in_the_rule(tmp_path: Path, areas: AreaIndex) -> None:
    """Which sources may reach the public, and how old an event may be, as officials wrote it."""
    path = tmp_path / "gempa.yaml"
    path.write_text(
        (RULES / "good" / "minimal.yaml").read_text()
        + "  public_sources: [bmkg, usgs]\n  late_after: 20m\n"
    )
    [rule] = load_rules([path], areas)
    assert rule.public_sources == ("bmkg", "usgs")
    assert rule.late_after == timedelta(minutes=20)


def test_every_key_lands_in_the_rule(areas: AreaIndex) -> None:
    """The full fixture's keys all reach the model, nested conditions included."""
    [rule] = load_rules([RULES / "good" / "full.yaml"], areas)
    window = Condition("precipitation_mm", Comparison.GE, 50, timedelta(days=1), Aggregation.SUM)
    assert rule.when == AllOf(
        (
            window,
            AnyOf(
                (
                    Condition("period_s", Comparison.IN, (3600, 86400)),
                    Condition("precipitation_mm", Comparison.GT, 5),
                )
            ),
        )
    )
    assert [s.level for s in rule.levels] == [Level.WASPADA, Level.SIAGA]
    assert rule.areas == ("coastal", "kecamatan:balikpapan-utara", "manggar", "balikpapan-kota")
    assert rule.for_duration == timedelta(hours=1, minutes=30)
    assert rule.keep_firing_for == timedelta(minutes=30)
    assert rule.clear_when == Condition(
        "precipitation_mm", Comparison.LT, 1, timedelta(hours=6), Aggregation.MAX
    )
    assert (rule.repeat_every, rule.expire_after) == (timedelta(hours=6), timedelta(days=1))
    assert rule.actions == frozenset(Action)
    assert rule.allow_siren_below_siaga is True
    assert rule.recipients == ("officials", "lurah-staff")
    assert set(rule.messages) == {"id", "en"}


def test_words_are_stored_in_their_canonical_spelling(areas: AreaIndex) -> None:
    """CAP and InaTEWS words match case-insensitively and are kept as the schema spells them."""
    rules = load_rules([RULES / "good" / "weather.yaml", RULES / "good" / "tsunami.yaml"], areas)
    by_id = {r.id: r for r in rules}
    assert isinstance(by_id["cuaca"].when, AllOf)
    assert by_id["cuaca"].when.conditions[0] == Condition(
        "severity", Comparison.IN, ("Moderate", "Severe")
    )
    assert by_id["tsunami-relay"].when == Condition("level", Comparison.EQ, "siaga")
    assert by_id["gempa-berpotensi-tsunami"].recipients == ("officials",)


def test_rules_compare_equal_when_only_their_position_moved(tmp_path: Path) -> None:
    """A reload can tell an unchanged rule: equality ignores where it was written."""
    text = (RULES / "good" / "minimal.yaml").read_text()
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text("# moved down\n\n" + text.replace("contoh", "contoh"))
    [a] = load_rules([tmp_path / "a.yaml"])
    [b] = load_rules([tmp_path / "b.yaml"])
    assert a == b
    assert a.position != b.position


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("0s", 0)],
)
def test_durations_are_a_number_and_a_unit(text: str, seconds: int) -> None:
    """The duration syntax shared with rule tests: whole numbers with s, m, h or d."""
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["90", "1.5h", "10 minutes", "h", "", "-5m"])
def test_other_durations_are_refused(text: str) -> None:
    """Anything else is a ValueError for the caller to report."""
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_ladder_steps_carry_their_own_messages(areas: AreaIndex) -> None:
    """A step's `message` lands in its LevelStep; a rule without its own keeps none."""
    [rule] = load_rules([RULES / "good" / "ladder-messages.yaml"], areas)
    assert [s.level for s in rule.levels] == [Level.WASPADA, Level.SIAGA, Level.AWAS]
    assert dict(rule.levels[0].messages) == {
        "id": "{level} TSUNAMI untuk {area}. Jauhi pantai.",
        "en": "{level} TSUNAMI for {area}. Keep away from the beach.",
    }
    assert dict(rule.levels[2].messages) == {
        "id": "{level} TSUNAMI untuk {area}. EVAKUASI SEKARANG."
    }
    assert dict(rule.messages) == {}


def test_templates_for_a_level_are_its_steps_else_the_rules() -> None:
    """templates_for picks the step's own templates, and falls back to the rule's."""
    own = {"id": "{level} SIAGA di {area}."}
    rule = Rule(
        id="r",
        name="r",
        kind=ObservationKind.TSUNAMI_WARNING,
        levels=(LevelStep(Level.WASPADA), LevelStep(Level.SIAGA, messages=own)),
        messages={"id": "{level} umum di {area}."},
    )
    assert rule.templates_for(Level.SIAGA) == own
    assert rule.templates_for(Level.WASPADA) == {"id": "{level} umum di {area}."}
    assert rule.templates_for(Level.AWAS) == {"id": "{level} umum di {area}."}


def test_a_ladder_with_a_siren_may_start_below_siaga(tmp_path: Path, areas: AreaIndex) -> None:
    """The siren sounds at the ladder's siaga step only, so a waspada step is no error."""
    path = tmp_path / "hujan.yaml"
    path.write_text(
        "- id: hujan\n  name: Hujan\n  description: Test.\n  kind: rainfall\n"
        "  levels:\n"
        '    - {level: waspada, when: {value: precipitation_mm, ">=": 50}}\n'
        '    - {level: siaga, when: {value: precipitation_mm, ">=": 100}}\n'
        "  actions: [siren, sms]\n"
        '  message: {id: "{level}: Hujan lebat di {area}."}\n'
        '  end_message: {id: "Hujan lebat di {area} reda."}\n'
    )
    assert check_rules([path], areas) == []


def test_officials_write_area_names_as_on_the_map_and_levels_in_any_case(areas: AreaIndex) -> None:
    """`Gunung Sari Ulu`, `gunung sari ilir` and `SIAGA` load as ids and the level."""
    [rule] = load_rules([RULES / "good" / "officials-spelling.yaml"], areas)
    assert rule.areas == ("gunung-sari-ulu", "gunung-sari-ilir", "balikpapan-tengah")
    assert [step.level for step in rule.levels] == [Level.SIAGA]
