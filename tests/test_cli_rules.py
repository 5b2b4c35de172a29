"""`warning rules check` and `warning check` over the rule files."""

from __future__ import annotations

from pathlib import Path

import pytest

from warning.cli.main import main

from .conftest import FIXTURES, ROOT

BAD = FIXTURES / "rules" / "bad"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the CLI in-process; return exit code and stdout."""
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_rules_check_defaults_to_the_shipped_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """With no PATH the configured rules directory is checked, and the shipped rules pass."""
    code, out = run(capsys, "rules", "check")
    assert code == 0
    assert out.splitlines() == ["ok: 10 rule(s) in 6 file(s) (0 warning(s))"]


def test_rules_check_prints_every_problem_then_a_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each problem on its own positioned line, the count last, exit 1.

    The three fixtures share the id "contoh", so the second and third add a duplicate each.
    """
    paths = [BAD / "unknown-kind.yaml", BAD / "recipient-typo.yaml", BAD / "no-description.yaml"]
    code, out = run(capsys, "rules", "check", *map(str, paths))
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith(f'{paths[0]}:4:9: rule "contoh": unknown kind "earthqake"')
    assert lines[1].startswith(f'{paths[1]}:7:16: rule "contoh": unknown recipient group')
    assert lines[-1] == "4 error(s), 1 warning(s)"


def test_rules_check_warnings_alone_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """A too-long message is a warning: printed, but exit 0."""
    code, out = run(capsys, "rules", "check", str(BAD / "message-too-long.yaml"))
    assert code == 0
    assert "warning: rule" in out
    assert out.splitlines()[-1] == "ok: 1 rule(s) in 1 file(s) (1 warning(s))"


def test_check_includes_the_rules(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`warning check` validates the configured rules directory too."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "a.yaml").write_text((BAD / "unknown-area.yaml").read_text())
    config = tmp_path / "warning.toml"
    config.write_text(
        f'[rules]\ndirectory = "{tmp_path / "rules"}"\n'
        f'[areas]\npath = "{ROOT / "areas.geojson"}"\n',
        encoding="utf-8",
    )
    code, out = run(capsys, "--config", str(config), "check")
    assert code == 1
    assert 'unknown area "manggr" (did you mean "manggar"?)' in out


def test_check_passes_on_the_shipped_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped rules are part of a clean `warning check`."""
    code, out = run(capsys, "check")
    assert code == 0
    assert "rules" in out.splitlines()[-1]


def test_rules_reference_prints_the_docs(capsys: pytest.CaptureFixture[str]) -> None:
    """`warning rules reference` prints docs/rules.md."""
    code, out = run(capsys, "rules", "reference")
    assert code == 0
    assert out == (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
