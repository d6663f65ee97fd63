"""Scenario files: the built-in default loads; every bad input is one clear error naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from ilrs.errors import IlrsError
from ilrs.scenario.load import BUILTIN_DIR, load_scenario
from ilrs.scenario.reference import reference_markdown
from ilrs.services.scenarios import validated_scenario
from tests.clirunner import assert_ok, assert_user_error, invoke

DEFAULT = (BUILTIN_DIR / "ilrs-basic-2035.toml").read_text()


def test_default_scenario_is_valid_and_sourced():
    s = validated_scenario(None)
    assert s.name == "ilrs-basic-2035"
    kinds = {e.kind for e in s.elements}
    assert {"solar_array", "battery", "fission", "dte", "relay", "payload", "storage"} <= kinds
    assert all(e.source for e in s.elements)  # every figure says where it comes from
    fission = [e for e in s.elements if e.kind == "fission"][0]
    assert fission.power_kw == 40.0 and 2033 <= fission.arrival.year <= 2035


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    return p


#: The [analysis] table's step: the built-in scenario's first line that sets a step of one hour
ANALYSIS_STEP = 'step = "1h"'


def _line_of(text: str) -> int:
    """The line (from 1) of the built-in scenario's first line holding ``text``."""
    return next(i for i, line in enumerate(DEFAULT.splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    "old, new, needles",
    [
        (
            "capacity_kwh = 500.0",
            "capacity_kwh = -5.0",
            [f"line {_line_of('capacity_kwh = 500.0')}", "elements[4].capacity_kwh", "greater than 0", "-5.0"],
        ),
        ('kind = "fission"', 'kind = "warp_core"', ["elements[12]", "unknown element kind", "warp_core"]),
        ("arrival = 2035-06-01", "arrival = 2040-06-01", ["ilrs5-radio-telescope", "outside the run"]),
        ('step = "10m"', 'step = "fortnightly"', ["line 12", "field step", "fortnightly"]),
        # the site analysis's maps need a step that resolves the Sun's ~12 deg of azimuth a day at the pole
        (ANALYSIS_STEP, 'step = "30d"', [f"line {_line_of(ANALYSIS_STEP)}", "field analysis.step", "'30d'", "24 h"]),
        (
            "cell_efficiency = 0.30\nmast_height_m = 10.0",
            'cell_efficiency = "high"\nmast_height_m = 10.0',
            ["elements[3].cell_efficiency", "valid number", "high"],
        ),
        ("area_m2 = 8.0", "area_m2 = 8.0\ncolour = 3", ["elements[0].colour", "Extra inputs"]),
        ("end = 2036-01-01", "end = 2027-01-01", ["not after start"]),
        ("frequency_hz = 8.46e9", "frequency_hz = 30.0e9", ["elements[9]", "receiver frequency mismatch", "relay"]),
        ("frequency_hz = 8.475e9", "frequency_hz = 5.0e9", ["elements[8]", "receiver frequency mismatch", "ground"]),
    ],
)
def test_bad_scenarios_name_line_field_and_value(tmp_path, old, new, needles):
    assert old in DEFAULT
    path = _write(tmp_path, DEFAULT.replace(old, new, 1))
    with pytest.raises(IlrsError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg
    for needle in needles:
        assert needle in msg, (needle, msg)


def test_toml_syntax_error_names_the_line(tmp_path):
    path = _write(tmp_path, DEFAULT.replace('name = "ce8-array"', 'name = "ce8-array'))
    line = _line_of('name = "ce8-array"')  # tomllib names the line where the string runs into the newline
    with pytest.raises(IlrsError, match=rf"not valid TOML.*line {line}"):
        load_scenario(path)


def test_site_outside_every_dem(tmp_path):
    path = _write(tmp_path, DEFAULT.replace("lat_deg = -89.4455", "lat_deg = 10.0"))
    with pytest.raises(IlrsError, match="outside every embedded south-pole DEM"):
        validated_scenario(path)


def test_unknown_ground_station(tmp_path):
    path = _write(
        tmp_path,
        DEFAULT.replace("rx_system_noise_k = 20.0", 'rx_system_noise_k = 20.0\nstations = ["kashi", "goldstone"]'),
    )
    with pytest.raises(IlrsError, match="goldstone"):
        load_scenario(path)


def test_cli_validate_and_show(tmp_path):
    ok = assert_ok(invoke("scenario", "validate", "ilrs-basic-2035"))
    assert "15 elements" in ok.stderr
    bad = _write(tmp_path, DEFAULT.replace("capacity_kwh = 500.0", "capacity_kwh = -1"))
    assert_user_error(invoke("scenario", "validate", bad), "bad.toml", "capacity_kwh")


def test_reference_document_is_current():
    """docs/scenario.md is generated from the schema; regenerate it when the schema changes."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "scenario.md"
    assert doc.read_text() == reference_markdown(), "run: python -m ilrs.scenario.reference > docs/scenario.md"


def test_roadmap_in_the_scenario(tmp_path):
    """The default scenario's [[missions]] become the campaign's roadmap; an element cannot arrive before its
    mission lands; a mission heavier than its launcher is refused naming the mission and field; a user-added
    vehicle is accepted."""
    from ilrs.campaign.roadmap import scenario_roadmap as roadmap_of

    s = validated_scenario(None)
    missions, _ = roadmap_of(s)
    assert [m.name for m in missions][:2] == ["Chang'e 7", "Chang'e 8"]
    early = _write(tmp_path, DEFAULT.replace("arrival = 2029-02-01", "arrival = 2029-01-05", 1))
    with pytest.raises(IlrsError, match="before its mission"):
        load_scenario(early)
    heavy = tmp_path / "heavy.toml"
    heavy.write_text(DEFAULT.replace("mass_kg = 8200.0", "mass_kg = 9500.0", 1))
    with pytest.raises(IlrsError, match="Chang'e 7"):
        validated_scenario(heavy)
    added = tmp_path / "added.toml"
    added.write_text(
        DEFAULT.replace('vehicle = "cz-5"', 'vehicle = "big-one"', 1)
        + ('\n[[vehicles]]\nkey = "big-one"\nname = "Big One"\ntli_capacity_kg = 20000.0\nsource = "test"\n')
    )
    assert validated_scenario(added).vehicles[0].key == "big-one"


def test_arrival_defaults_to_the_mission_landing(tmp_path):
    """An element with a mission and no arrival arrives at launch + transit of that mission (Chang'e 8:
    2029-01-01 + 30 d = 2029-01-31)."""
    path = _write(tmp_path, DEFAULT.replace("arrival = 2029-02-01\n", "", 1))
    s = load_scenario(path)
    assert s.elements[0].arrival.date().isoformat() == "2029-01-31"


def test_analysis_step_of_a_day_is_the_longest_accepted(tmp_path):
    """One day is accepted (the Sun's azimuth turns ~12 deg in it at the pole); a second more is refused."""
    assert load_scenario(_write(tmp_path, DEFAULT.replace(ANALYSIS_STEP, 'step = "1d"', 1))).analysis.step == "1d"
    with pytest.raises(IlrsError, match="field analysis.step"):
        load_scenario(_write(tmp_path, DEFAULT.replace(ANALYSIS_STEP, 'step = "86401"', 1)))
