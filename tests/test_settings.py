"""Settings: embedded defaults, typo'd keys named with the intended one, secrets kept out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.deployment import settings_file, settings_refusal
from tests.support.paths import ROOT
from warning.model import ConfigError
from warning.settings import example_toml, load_settings, secret


def test_no_file_gives_embedded_defaults() -> None:
    """The daemon runs with no settings file at all."""
    settings = load_settings(None)
    assert settings.feeds["inatews"].interval_s == 5
    assert settings.sms.api_base == "https://api.twilio.com"
    assert settings.health.listen == "127.0.0.1:9464"


def test_typo_names_key_and_intended_key(tmp_path: Path) -> None:
    """A typo must never silently disable a setting: it is named with its fix."""
    path = settings_file(tmp_path, "[sms]\nmax_per_secnd = 3\n")
    refusal = settings_refusal(path)
    assert 'unknown key "sms.max_per_secnd" (did you mean "sms.max_per_second"?)' in refusal


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    """Unknown sections, feeds, siren keys and wrong types all come back together."""
    path = settings_file(
        tmp_path,
        '[stat]\n[feeds.usgz]\n[sms]\nconcurrency = "many"\n[[sirens]]\nid = "s1"\nurll = "x"\n',
    )
    text = settings_refusal(path)
    assert '"stat" (did you mean "state"?)' in text
    assert '"feeds.usgz" (did you mean "feeds.usgs"?)' in text
    assert "sms.concurrency must be a whole number" in text
    assert '"sirens[0].urll" (did you mean "sirens[0].url"?)' in text


def test_overrides_apply(tmp_path: Path) -> None:
    """Values from the file replace defaults; `from` maps to the sender field."""
    path = settings_file(
        tmp_path,
        '[sms]\nfrom = "BPBD-BPN"\n[feeds.usgs]\ninterval_s = 120\n'
        '[[sirens]]\nid = "manggar"\nurl = "http://10.0.0.2/"\nareas = ["manggar"]\n',
    )
    settings = load_settings(path)
    assert settings.sms.from_ == "BPBD-BPN"
    assert settings.feeds["usgs"].interval_s == 120.0
    assert settings.sirens[0].areas == ("manggar",)


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    """Invalid TOML is a positioned ConfigError, never a traceback."""
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(settings_file(tmp_path, "[sms\n"))


def test_example_round_trips(tmp_path: Path) -> None:
    """The generated sample is itself a valid settings file."""
    settings = load_settings(settings_file(tmp_path, example_toml()))
    assert settings.feeds["big-tide"].options["station"] == "0020BLPP02"


def test_systemd_directories_decide_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under systemd the state and configuration directories are used."""
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/warning")
    monkeypatch.setenv("CONFIGURATION_DIRECTORY", "/etc/warning")
    settings = load_settings(None)
    assert settings.state_path == Path("/var/lib/warning/warning.db")
    assert settings.rules_dir == Path("/etc/warning/rules")


def test_secret_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A *_file setting wins over the credential directory, which wins over the env."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-env")
    assert secret("TWILIO_AUTH_TOKEN", "", "twilio_auth_token") == "from-env"
    (tmp_path / "twilio_auth_token").write_text("from-cred\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert secret("TWILIO_AUTH_TOKEN", "", "twilio_auth_token") == "from-cred"
    (tmp_path / "file").write_text("from-file")
    assert secret("TWILIO_AUTH_TOKEN", str(tmp_path / "file"), "twilio_auth_token") == "from-file"


def test_shipped_example_is_current() -> None:
    """systemd/warning.example.toml is the schema's current rendering."""
    shipped = ROOT / "systemd" / "warning.example.toml"
    assert shipped.read_text(encoding="utf-8") == example_toml()


def test_configuration_directory_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under systemd, $CONFIGURATION_DIRECTORY/warning.toml is used without --config."""
    settings_file(tmp_path, "[sms]\nmax_per_second = 42\n")
    monkeypatch.setenv("CONFIGURATION_DIRECTORY", str(tmp_path))
    assert load_settings(None).sms.max_per_second == 42.0


def test_polygon_share_is_a_fraction(tmp_path: Path) -> None:
    """[areas] min_polygon_share defaults to 0.20 and must lie in (0, 1]."""
    assert load_settings(None).areas.min_polygon_share == 0.2
    assert (
        load_settings(
            settings_file(tmp_path, "[areas]\nmin_polygon_share = 0.5\n")
        ).areas.min_polygon_share
        == 0.5
    )
    with pytest.raises(ConfigError, match=r"areas.min_polygon_share must be in \(0, 1\], not 20"):
        load_settings(settings_file(tmp_path, "[areas]\nmin_polygon_share = 20\n"))
