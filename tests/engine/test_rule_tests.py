"""`warning rules test`: scenario files, the simulated clock, and the PASS/FAIL report."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.rules import quake_rule, rain_rule, tsunami_rule
from warning.areas import AreaIndex
from warning.cli.main import main
from warning.model import ConfigError, TransitionKind
from warning.rules.scenario import Scenario, load_scenario, load_scenarios, scenario_files
from warning.rules.testing import play, report, run_scenario
from warning.settings import load_settings

FEEDS = load_settings(None).feeds
RULES = [quake_rule(), rain_rule(), tsunami_rule()]
QUAKE = (
    "{source: bmkg-autogempa, kind: earthquake, event_id: q1, time: '2026-03-10T00:00:00Z',"
    " lon: 116.9, lat: -1.3, values: {magnitude: 6.5, depth_km: 10}}"
)


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    """A scenario file in a temporary directory."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _scenario(tmp_path: Path, index: AreaIndex, text: str) -> Scenario:
    """Load a scenario written in the test."""
    return load_scenario(_write(tmp_path, text), index, FEEDS)


def _problems(tmp_path: Path, index: AreaIndex, text: str) -> list[str]:
    """The problems of a broken scenario, as printed."""
    with pytest.raises(ConfigError) as caught:
        _scenario(tmp_path, index, text)
    return [str(p) for p in caught.value.problems]


QUAKE_STORY = f"""\
name: quake
start: 2026-03-10T00:00:00Z
steps:
  - at: 0s
    observations:
      - {QUAKE}
  - at: 30m
    observations:
      - {QUAKE}
expect:
  - {{at: 0s, rule: gempa-kuat, areas: [manggar], level: waspada, state: firing}}
  - {{at: 1h, areas: [manggar], state: resolved}}
expect_none:
  - {{rule: tsunami, areas: all}}
"""


def test_a_scenario_meeting_its_expectations_passes(tmp_path: Path, index: AreaIndex) -> None:
    """Firing at 0s and resolved at 1h, as written."""
    outcome = run_scenario(_scenario(tmp_path, index, QUAKE_STORY), RULES, index)
    assert outcome.passed, outcome.failures


def test_play_evaluates_at_steps_and_expectation_times(tmp_path: Path, index: AreaIndex) -> None:
    """Ticks at 0s, 30m and 1h; the repeated quake makes no second transition."""
    ticks = list(play(_scenario(tmp_path, index, QUAKE_STORY), RULES, index))
    assert [t.offset for t in ticks] == [timedelta(0), timedelta(minutes=30), timedelta(hours=1)]
    fired = [t for t in ticks[0].transitions if t.area_id == "manggar"]
    assert [t.kind for t in fired] == [TransitionKind.FIRED]
    assert ticks[1].transitions == ()
    assert ticks[0].steps[0].observations[0].event_id == "q1"


def test_a_changed_expectation_fails_with_the_difference(tmp_path: Path, index: AreaIndex) -> None:
    """Expecting siaga where waspada fired names the file, line, area and both states."""
    text = QUAKE_STORY.replace("level: waspada", "level: siaga")
    outcome = run_scenario(_scenario(tmp_path, index, text), RULES, index)
    assert outcome.failures == (
        f"{tmp_path / 's.yaml'}:11: at 0s, gempa-kuat manggar: expected firing siaga, "
        "got firing waspada",
    )


def test_any_rule_expectations_list_what_was_found(tmp_path: Path, index: AreaIndex) -> None:
    """Without `rule`, a failure lists the active rules of the area."""
    text = QUAKE_STORY.replace(
        "{at: 1h, areas: [manggar], state: resolved}", "{at: 10m, areas: [manggar], state: pending}"
    )
    outcome = run_scenario(_scenario(tmp_path, index, text), RULES, index)
    assert outcome.failures[0].endswith(
        "at 10m, any rule manggar: expected pending, got gempa-kuat firing waspada"
    )


def test_firing_a_forbidden_area_fails(tmp_path: Path, index: AreaIndex) -> None:
    """expect_none is checked at every tick of the scenario."""
    text = QUAKE_STORY.replace("{rule: tsunami, areas: all}", "{areas: [graha-indah]}")
    outcome = run_scenario(_scenario(tmp_path, index, text), RULES, index)
    assert (
        "gempa-kuat graha-indah: expected never to fire, got firing waspada" in outcome.failures[0]
    )


def test_an_unknown_rule_fails_the_scenario(tmp_path: Path, index: AreaIndex) -> None:
    """A rule id the rule files do not have is reported, not silently matched."""
    text = QUAKE_STORY.replace("rule: tsunami,", "rule: tsunamy,")
    outcome = run_scenario(_scenario(tmp_path, index, text), RULES, index)
    assert outcome.failures == (f'{tmp_path / "s.yaml"}:14: unknown rule "tsunamy"',)


def test_start_defaults_to_the_first_observation(tmp_path: Path, index: AreaIndex) -> None:
    """Without `start`, the earliest written observation time starts the clock."""
    text = f"""\
name: no start
steps:
  - at: 0s
    observations:
      - {{source: open-meteo, kind: rainfall, time: "2026-01-01T05:00:00Z",
         area_ids: [graha-indah], values: {{precipitation_mm: 120}}}}
  - at: 1h
    observations:
      - {QUAKE}
expect_none:
  - {{areas: [manggar]}}
"""
    scenario = _scenario(tmp_path, index, text)
    assert scenario.start.isoformat() == "2026-01-01T05:00:00+00:00"
    assert scenario.steps[1].time.hour == 6


def test_only_expect_none_is_enough(tmp_path: Path, index: AreaIndex) -> None:
    """A must-not-fire scenario needs no `expect`, and times may be YAML or quoted."""
    text = (
        'name: quiet\nstart: "2026-01-01T05:00:00+08:00"\nsteps: []\nexpect_none: [{areas: all}]\n'
    )
    outcome = run_scenario(_scenario(tmp_path, index, text), RULES, index)
    assert outcome.passed


def test_scenario_mistakes_are_reported_with_positions_all_at_once(
    tmp_path: Path, index: AreaIndex
) -> None:
    """Unknown keys (with a suggestion), bad durations, areas, states and feeds."""
    text = """\
name: broken
start: 2026-03-10T00:00:00Z
stpes: []
steps:
  - at: soon
    observations: []
  - at: 1m
    payload: {source: inatew, file: x.json}
  - at: 2m
    payload: {source: inatews, file: missing.json}
  - at: 3m
    observations:
      - {source: test, kind: rainfall, area_ids: [atlantis], values: {precipitation_mm: 1}}
      - {source: test, kind: rain}
expect:
  - {at: 0s, areas: [atlantis], state: firing}
  - {at: 0s, areas: [manggar], state: burning, level: high}
"""
    path = tmp_path / "s.yaml"
    problems = _problems(tmp_path, index, text)
    assert problems[0] == f'{path}:3:1: unknown key "stpes" in the scenario (did you mean "steps"?)'
    joined = "\n".join(problems)
    assert problems == sorted(problems, key=lambda p: int(p.split(":")[1]))
    assert f"{path}:5:9: `at: soon` is not a duration" in joined
    assert f'{path}:8:23: unknown feed "inatew" (did you mean "inatews"?)' in joined
    assert f"{path}:10:38: cannot read" in joined
    assert f'{path}:13:9: observation: unknown area "atlantis"' in joined
    assert f"{path}:14:9: observation: " in joined
    assert f'{path}:16:21: areas: unknown area "atlantis"' in joined
    assert f"{path}:17:39: `state` must be one of inactive, pending, firing, resolved" in joined
    assert f"{path}:17:55: `level` must be one of waspada, siaga, awas" in joined


H = "name: x\nstart: 2026-01-01T00:00:00Z\n"
N = "expect_none: [{areas: all}]\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nsteps: [\n", "not valid YAML"),
        ("- just a list\n", "a scenario is a mapping"),
        ("name: x\nstart: yesterday\nexpect_none: [{areas: all}]\n", "`start` must be a time"),
        ("name: x\nexpect_none: [{areas: all}]\n", "`start` is missing"),
        ("name: x\nstart: 2026-01-01T00:00:00Z\n", "needs `expect` or `expect_none`"),
        ("start: 2026-01-01T00:00:00Z\nexpect_none: [{areas: all}]\n", "`name` must be written"),
        (
            H + "steps: {at: 0s}\n" + N,
            "`steps` must be a list",
        ),
        (
            H + "steps: [at 0s]\n" + N,
            "each step is a mapping",
        ),
        (
            H + "steps: [{observations: []}]\n" + N,
            "`at` is missing",
        ),
        (
            H + "steps: [{at: 0s}]\n" + N,
            "either `payload` or `observations`",
        ),
        (
            H + "steps: [{at: 0s, observations: [1]}]\n" + N,
            "an observation is a mapping",
        ),
        (
            H + "steps: [{at: 0s, payload: inatews}]\n" + N,
            "each payload is a mapping",
        ),
        (
            H + "steps: [{at: 0s, payload: {source: inatews}}]\n" + N,
            "`file` must be written",
        ),
        ("name: x\nstart: 2026-01-01T00:00:00Z\nexpect_none: [{rule: r}]\n", "`areas` is missing"),
        (
            "name: x\nstart: 2026-01-01T00:00:00Z\nexpect_none: [all]\n",
            "each expect_none entry is a mapping",
        ),
        ("name: x\nstart: 2026-01-01T00:00:00Z\nexpect: [all]\n", "each expect entry is a mapping"),
    ],
)
def test_each_kind_of_mistake_is_named(
    tmp_path: Path, index: AreaIndex, text: str, expected: str
) -> None:
    """Every mistake says what is wrong in the official's terms."""
    assert expected in "\n".join(_problems(tmp_path, index, text))


def test_a_payload_the_adapter_refuses_is_a_positioned_problem(
    tmp_path: Path, index: AreaIndex
) -> None:
    """An HTML error page replayed as InaTEWS JSON is reported at its `file:`."""
    _write(tmp_path, "<html>503</html>", "bad.json")
    text = H + "steps:\n  - {at: 0s, payload: {source: inatews, file: bad.json}}\n" + N
    assert "inatews cannot use bad.json" in "\n".join(_problems(tmp_path, index, text))


def test_missing_paths_and_broken_files_are_collected(tmp_path: Path, index: AreaIndex) -> None:
    """load_scenarios reports every broken file at once; a missing path is named."""
    _write(tmp_path, "name: x\n", "a.yaml")
    _write(tmp_path, "- nope\n", "b.yaml")
    with pytest.raises(ConfigError) as caught:
        load_scenarios([tmp_path], index, FEEDS)
    assert {p.path for p in caught.value.problems} == {
        str(tmp_path / "a.yaml"),
        str(tmp_path / "b.yaml"),
    }
    with pytest.raises(ConfigError, match="no such file"):
        scenario_files([tmp_path / "nowhere"])
    assert load_scenarios([], index, FEEDS) == []


def test_report_ends_with_the_totals() -> None:
    """The last line is exactly `N passed, M failed`; any failure exits 1."""
    lines: list[str] = []
    assert report([], lines.append) == 0
    assert lines == ["0 passed, 0 failed\n"]


def test_shipped_scenarios_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """`warning rules test` passes on rules/tests/ against rules/."""
    assert main(["rules", "test"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"{len(out) - 1} passed, 0 failed"
    assert all(line.startswith("PASS ") for line in out[:-1])


def test_a_changed_threshold_fails_the_shipped_scenarios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Raising the 24 h siaga threshold to 120 mm fails the flood scenario, saying how."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "tests" / "fixtures", tmp_path / "tests" / "fixtures")
    hujan = tmp_path / "rules" / "hujan.yaml"
    hujan.write_text(hujan.read_text().replace('">=": 100}', '">=": 120}'))
    code = main(
        ["rules", "test", str(tmp_path / "rules" / "tests"), "--rules", str(tmp_path / "rules")]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL Heavy rain over Balikpapan Utara" in out
    assert "at 3h, hujan-24-jam graha-indah: expected firing siaga, got firing waspada" in out
    assert out.splitlines()[-1].endswith(" passed, 1 failed")
