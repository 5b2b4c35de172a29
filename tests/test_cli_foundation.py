"""The `warning` command's foundation contract: version, areas, check, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from warning.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return exit code, stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_python_m_warning_prints_version() -> None:
    """`python -m warning --version` works like the console script."""
    done = subprocess.run(
        [sys.executable, "-m", "warning", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("warning ")


def test_areas_json_lists_forty(capsys: pytest.CaptureFixture[str]) -> None:
    """`warning areas --json` is an array of 40 objects with the published properties."""
    code, out, _ = run(capsys, "areas", "--json")
    assert code == 0
    data = json.loads(out)
    assert len(data) == 40
    assert {"id", "name", "level", "kemendagri_code", "coastal"} <= set(data[0])


def test_locate_accepts_negative_latitude(capsys: pytest.CaptureFixture[str]) -> None:
    """Negative coordinates work as plain arguments."""
    code, out, _ = run(capsys, "areas", "locate", "116.83", "-1.27", "--json")
    assert code == 0
    assert json.loads(out) == {"kelurahan": "telaga-sari", "kecamatan": "balikpapan-kota"}


def test_locate_at_sea_is_null(capsys: pytest.CaptureFixture[str]) -> None:
    """A point in Makassar Strait is in no area."""
    code, out, _ = run(capsys, "areas", "locate", "117.3", "-1.5", "--json")
    assert code == 0
    assert json.loads(out) == {"kelurahan": None, "kecamatan": None}


def test_distance_json_maps_every_area(capsys: pytest.CaptureFixture[str]) -> None:
    """`areas distance` maps all 40 ids to kilometres with one decimal."""
    code, out, _ = run(capsys, "areas", "distance", "116.83", "-1.27", "--json")
    assert code == 0
    data = json.loads(out)
    assert len(data) == 40
    assert data["telaga-sari"] == 0.0
    assert all(round(v, 1) == v for v in data.values())


def test_out_of_range_point_is_invalid_input(capsys: pytest.CaptureFixture[str]) -> None:
    """Latitude and longitude swapped far out of range is exit 1 with a reason."""
    code, out, _ = run(capsys, "areas", "locate", "-1.27", "116.83")
    assert code == 1
    assert "out of range" in out


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing argument is a usage error."""
    with pytest.raises(SystemExit) as caught:
        main(["areas", "locate"])
    assert caught.value.code == 2
    capsys.readouterr()


def test_check_passes_with_no_config(capsys: pytest.CaptureFixture[str]) -> None:
    """`warning check` with no settings file passes with a one-line summary."""
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert out.strip().splitlines()[-1].startswith("ok:")


def test_check_names_typo_and_intended_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A typo'd key is named together with the likely intended one, exit 1."""
    config = tmp_path / "warning.toml"
    config.write_text('[feeds.inatews]\nintervl_s = 30\n[cap]\nsendr = "x"\n', encoding="utf-8")
    code, out, _ = run(capsys, "--config", str(config), "check")
    assert code == 1
    assert 'unknown key "feeds.inatews.intervl_s" (did you mean "feeds.inatews.interval_s"?)' in out
    assert 'unknown key "cap.sendr" (did you mean "cap.sender"?)' in out


def test_broken_areas_file_gives_every_problem_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A broken areas file: all problems, exit 1, no traceback."""
    doc = json.loads((ROOT / "areas.geojson").read_text(encoding="utf-8"))
    doc["features"][7]["geometry"] = {"type": "Point", "coordinates": [116.8, -1.2]}
    doc["features"][9]["properties"]["kecamatan_id"] = "nowhere"
    broken = tmp_path / "areas.geojson"
    broken.write_text(json.dumps(doc), encoding="utf-8")
    config = tmp_path / "warning.toml"
    config.write_text(f'[areas]\npath = "{broken}"\n', encoding="utf-8")
    code, out, err = run(capsys, "--config", str(config), "areas")
    assert code == 1
    assert "feature 7" in out
    assert 'unknown kecamatan_id "nowhere"' in out
    assert "Traceback" not in out + err
    code, out, _ = run(capsys, "--config", str(config), "check")
    assert code == 1
    assert out.strip().splitlines()[-1].startswith("2 error(s)"), out
