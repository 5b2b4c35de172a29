"""`warning rules check` and `warning check` over the rule files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.paths import FIXTURES, ROOT
from warning.cli.main import main

BAD = FIXTURES / "rules" / "bad"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the CLI in-process; return exit code and stdout."""
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_rules_check_defaults_to_the_shipped_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """With no PATH the configured rules directory is checked, and the shipped rules pass."""
    code, out = run(capsys, "rules", "check", "--lang", "en")
    assert code == 0
    assert out.splitlines() == ["ok: 18 rule(s) in 8 file(s) (0 warning(s))"]


def test_rules_check_prints_every_problem_then_a_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each problem on its own positioned line, the count last, exit 1.

    The three fixtures share the id "contoh", so the second and third add a duplicate each.
    """
    paths = [BAD / "unknown-kind.yaml", BAD / "recipient-typo.yaml", BAD / "no-description.yaml"]
    code, out = run(capsys, "rules", "check", "--lang", "en", *map(str, paths))
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith(f'{paths[0]}:4:9: rule "contoh": unknown kind "earthqake"')
    assert lines[1].startswith(f'{paths[1]}:7:16: rule "contoh": unknown recipient group')
    assert lines[-1] == "4 error(s), 1 warning(s)"


def test_rules_check_warnings_alone_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """A rule without a description is a warning: printed, but exit 0."""
    code, out = run(capsys, "rules", "check", "--lang", "en", str(BAD / "no-description.yaml"))
    assert code == 0
    assert "warning: rule" in out
    assert out.splitlines()[-1] == "ok: 1 rule(s) in 1 file(s) (1 warning(s))"


def test_rules_check_fails_on_a_message_longer_than_one_sms(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """More than one SMS (with the drill prefix and the widest values) is an error."""
    code, out = run(capsys, "rules", "check", "--lang", "en", str(BAD / "message-too-long.yaml"))
    assert code != 0
    assert "more than one SMS (160)" in out


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


@pytest.mark.parametrize(
    ("name", "line"),
    [
        (
            "decimal-comma",
            'decimal-comma.yaml:5:61: aturan "hujan-40": "40,5" terbaca sebagai dua kunci: '
            'angka desimal memakai titik, bukan koma; tulis ">=": 40.5',
        ),
        (
            "message-unquoted",
            "message-unquoted.yaml:7:16: YAML tidak sah (mapping values are not allowed here): "
            "teks yang memuat ': ' atau diawali '{' harus diapit tanda kutip",
        ),
        ("tab-indent", "tab-indent.yaml:5:1: YAML tidak sah ("),
        (
            "unknown-area",
            'unknown-area.yaml:7:20: aturan "contoh": wilayah "manggr" tidak dikenal '
            '(maksudnya "manggar"?)',
        ),
    ],
)
def test_rules_check_speaks_indonesian_by_default(
    capsys: pytest.CaptureFixture[str], name: str, line: str
) -> None:
    """Officials read Bahasa Indonesia first: file:line:col and the fix in their words."""
    code, out = run(capsys, "rules", "check", str(BAD / f"{name}.yaml"))
    assert code != 0
    assert line in out
    assert out.splitlines()[-1] == "1 kesalahan, 0 peringatan"


def test_rules_check_lang_en_speaks_english(capsys: pytest.CaptureFixture[str]) -> None:
    """`--lang en` keeps the English wording."""
    code, out = run(capsys, "rules", "check", "--lang", "en", str(BAD / "decimal-comma.yaml"))
    assert code != 0
    assert 'numbers take a decimal point, write ">=": 40.5' in out
    assert out.splitlines()[-1] == "1 error(s), 0 warning(s)"


#: English words that would show a message was left untranslated.
_ENGLISH = ("unknown", "must ", "expected", "missing", "write ", "not valid", "rule ", "did you")


@pytest.mark.parametrize("path", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bad_fixture_reads_in_indonesian(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    """Each mistake officials make is explained in Bahasa Indonesia, not left in English."""
    for line in _problem_lines(capsys, path):
        message = line.split(": ", 1)[1]
        for word in _ENGLISH:
            assert word not in message, line


def _problem_lines(capsys: pytest.CaptureFixture[str], path: Path) -> list[str]:
    """The problem lines of `warning rules check PATH` (the summary line dropped)."""
    _code, out = run(capsys, "rules", "check", str(path))
    return out.splitlines()[:-1]


def test_rules_check_show_prints_every_change_of_every_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--show` renders raise, update, end, expiry and drill texts of the shipped rules."""
    code, out = run(capsys, "rules", "check", "--show")
    assert code == 0
    assert "tsunami-pesisir SIAGA latihan id: LATIHAN: SIAGA TSUNAMI (BMKG) Balikpapan Timur" in out
    assert "gempa-dekat SIAGA berakhir: (tanpa SMS)" in out
    assert (
        "hujan-24-jam AWAS berakhir id: Hujan sangat lebat di seluruh Balikpapan sudah reda" in out
    )


def test_readme_message_examples_are_what_the_code_renders(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The README's three SMS examples are pasted from `warning rules check --show`."""
    _code, out = run(capsys, "rules", "check", "--show")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = [
        line
        for line in readme.splitlines()
        if line.startswith(("tsunami-pesisir SIAGA", "gempa-dirasakan", "hujan-24-jam"))
    ]
    assert len(examples) == 3
    for example in examples:
        assert example in out.splitlines()


#: A SIAGA message for RT heads that fits one SMS alone (124 units at its widest)...
_RT_RULE = (
    "- id: gempa-rt\n  name: Gempa untuk RT\n  description: Test rule.\n  kind: earthquake\n"
    '  when: {value: magnitude, ">=": 6.0}\n  areas: [manggar]\n  level: siaga\n'
    "  recipients: [%s]\n  message:\n"
    '    id: "{level}: Gempa M{magnitude} {time_wita}. Keluar dari bangunan, jauhi tiang listrik'
    ' dan bangunan retak. Tunggu info BPBD."\n'
)


def _check_rt_rule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, group: str, *, links: bool
) -> tuple[int, str, Path]:
    """`rules check` of the RT rule sent to `group`, links on (a 44-unit link) or off."""
    rules = tmp_path / "rt.yaml"
    rules.write_text(_RT_RULE % group)
    key = tmp_path / "ack.key"
    key.write_text("kunci")
    settings = tmp_path / "warning.toml"
    console = f'[console]\npublic_url = "https://peringatan.bpbd.test"\nack_secret_file = "{key}"\n'
    settings.write_text(console if links else "")
    code, out = run(capsys, "--config", str(settings), "rules", "check", "--lang", "en", str(rules))
    return code, out, rules


def test_rules_check_counts_the_acknowledgement_link_for_groups_that_acknowledge(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """...but not with the acknowledgement link after it: the RT heads' SIAGA is refused."""
    code, out, rules = _check_rt_rule(capsys, tmp_path, "rt-heads", links=True)
    assert code == 1
    assert f"{rules}:1:3:" in out
    assert "the acknowledgement link adds 44" in out


def test_rules_check_leaves_the_link_out_where_no_link_is_sent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The same text to residents (no link), or with links off, passes."""
    assert _check_rt_rule(capsys, tmp_path, "public", links=True)[0] == 0
    assert _check_rt_rule(capsys, tmp_path, "rt-heads", links=False)[0] == 0
