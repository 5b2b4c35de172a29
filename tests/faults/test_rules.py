"""Malformed rule files: each rejected with its position; a reloaded daemon keeps going."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.pipeline import write_settings
from warning.daemon.schedule import Daemon
from warning.model import ConfigError
from warning.rules import load_rules

#: Fixtures that only warn (a rule set with them still loads), so they are no rejection test.
WARNING_ONLY = {"empty-file", "message-too-long", "no-description"}
BAD = [
    p
    for p in sorted((ROOT / "tests" / "fixtures" / "rules" / "bad").glob("*.yaml"))
    if p.stem not in WARNING_ONLY
][:30]


def test_there_are_thirty_malformed_rule_files() -> None:
    """The suite covers at least 30 different mistakes."""
    assert len(BAD) == 30


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Daemon:
    """An in-process daemon (not started) on a copy of the shipped rules."""
    directory = tmp_path_factory.mktemp("rules-daemon")
    rules = directory / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("tests"))
    return Daemon(write_settings(directory, {}, rules_dir=rules))


@pytest.mark.parametrize("bad", BAD, ids=[p.stem for p in BAD])
def test_a_malformed_rule_file_is_rejected_with_its_position(bad: Path, areas: object) -> None:
    """Loading the file alone raises ConfigError naming the file and a line."""
    with pytest.raises(ConfigError) as caught:
        load_rules([bad], areas)  # type: ignore[arg-type]
    problems = caught.value.problems
    print(f"injected {bad.name}; saw {[str(p) for p in problems]}")
    positioned = re.compile(re.escape(bad.name) + r":\d+")
    assert all(bad.name in str(p) for p in problems)
    assert any(positioned.search(str(p)) for p in problems) or not bad.read_text().strip()


@pytest.mark.parametrize("bad", BAD, ids=[p.stem for p in BAD])
def test_a_reload_with_a_malformed_file_keeps_the_last_good_rules(
    daemon: Daemon, bad: Path
) -> None:
    """Daemon.reload() returns False and the running configuration is the same object."""
    before = daemon.pipeline.config
    target = daemon.settings.rules_dir / "zz-bad.yaml"
    shutil.copy(bad, target)
    try:
        accepted = daemon.reload()
    finally:
        target.unlink()
    print(f"injected {bad.name} on reload; saw accepted={accepted}")
    assert not accepted
    assert daemon.pipeline.config is before
    assert len(before.rules) > 0


def test_a_rule_without_a_condition_is_refused_with_its_position(
    tmp_path: Path, areas: object
) -> None:
    """`areas: all`, AWAS and sirens with no `when`: an error at the rule, saying what to add."""
    path = tmp_path / "gempa-semua.yaml"
    path.write_text(
        "- id: gempa-semua\n"
        "  name: Semua gempa\n"
        "  description: forgot the threshold\n"
        "  kind: earthquake\n"
        "  areas: all\n"
        "  level: awas\n"
        "  actions: [siren, sms]\n"
        '  message: {id: "{level}: gempa di {area}. Keluar dari bangunan."}\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_rules([path], areas)  # type: ignore[arg-type]
    problems = [str(p) for p in caught.value.problems]
    print(f"injected a rule without when; saw {problems}")
    assert problems == [
        f'{path}:1:3: rule "gempa-semua": no condition: without "when" the rule fires on every '
        'observation of its kind; add one (e.g. when: {value: magnitude, ">=": 5.0})'
    ]


def test_a_rule_file_over_the_size_limit_is_refused_before_parsing(
    tmp_path: Path, areas: object
) -> None:
    """A 1.5 MB rule file is one error at line 1 (split it), found without reading the YAML."""
    rule = (ROOT / "rules" / "cuaca.yaml").read_text(encoding="utf-8")
    path = tmp_path / "besar.yaml"
    path.write_text(rule * (1_500_000 // len(rule) + 1), encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load_rules([path], areas)  # type: ignore[arg-type]
    took = time.monotonic() - started
    problems = [str(p) for p in caught.value.problems]
    print(f"injected a {path.stat().st_size} byte rule file; saw {problems} in {took:.3f} s")
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:1:1: ")
    assert "more than the 1,000,000" in problems[0]
    assert "split it" in problems[0]
    assert took < 0.5
