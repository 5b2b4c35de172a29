"""Absurd settings are refused by `warning check`, at file:line with the valid range.

Each of these printed "ok" and then stalled or crashed the daemon: a rate of
0 or NaN (every outbox job failed, deliveries pending forever), a rate of
0.001, a NaN poll interval, a siren test at 99:99, a negative body cap.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from warning.cli.main import main

ABSURD = {
    "max_per_second = 0": ("sms", "max_per_second = 0", "from 1 to 1000"),
    "max_per_second = nan": ("sms", "max_per_second = nan", "from 1 to 1000"),
    "max_per_second = 0.001": ("sms", "max_per_second = 0.001", "from 1 to 1000"),
    "interval_s = nan": ("feeds.inatews", "interval_s = nan", "from 1 to 86400"),
    "max_bytes = -1": ("http", "max_bytes = -1", "from 1024 to 1000000000"),
    "inf timeout": ("sms", "timeout_s = inf", "from 0.1 to 120"),
    'time = "99:99"': ("siren_test", 'time = "99:99"', "HH:MM (00:00-23:59)"),
}


@pytest.mark.parametrize("case", sorted(ABSURD))
def test_warning_check_refuses_an_absurd_setting_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """`warning check` exits 1 naming file:line, the key and its valid range."""
    table, line, valid = ABSURD[case]
    config = tmp_path / "warning.toml"
    config.write_text(f'# a site\n[log]\nlevel = "info"\n\n[{table}]\n{line}\n', encoding="utf-8")
    code = main(["--config", str(config), "check"])
    out = capsys.readouterr()
    said = out.out + out.err
    print(f"injected {line!r}; exit {code}: {said.strip().splitlines()[0] if said else ''}")
    assert code == 1
    assert f"{config}:6:" in said
    assert line.split(" =")[0] in said
    assert valid in said
