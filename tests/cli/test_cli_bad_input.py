"""Bad or partial input says what it means (ilrs issue 12): a station without a battery or without a load prints
what is missing, never ``nan%``, ``+inf%`` or ``nanx``; a site named together with coordinates is refused; a
scenario without elements validates with a warning naming ``elements``."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from tests.clirunner import assert_ok, assert_user_error, invoke, output

HEAD = """name = "{name}"
start = 2034-07-01
end = 2034-08-01
step = "1h"

[site]
lat_deg = -89.4455
lon_deg = 222.69
"""
LOAD = """
[[elements]]
kind = "load"
name = "avionics"
arrival = {arrival}
power_kw = 1.0
priority = 1
"""
ARRAY = """
[[elements]]
kind = "solar_array"
name = "array"
arrival = 2034-07-01
area_m2 = 10.0
cell_efficiency = 0.30
mast_height_m = 10.0
"""
BATTERY = """
[[elements]]
kind = "battery"
name = "battery"
arrival = 2034-07-15
capacity_kwh = 20.0
max_charge_kw = 5.0
max_discharge_kw = 5.0
"""
#: A number that is not one, as Python formats it: nan%, +inf%, nanx, "nan %" (not "information", "finance")
NOT_A_NUMBER = re.compile(r"(?i)(?<![a-z])(nan|inf)(?=x|%|\s|$)")


def _write(tmp_path: Path, name: str, *parts: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(HEAD.format(name=name) + "".join(parts))
    return path


@pytest.fixture
def load_only(tmp_path) -> Path:
    """One critical load, nothing to power it: no battery, no generation."""
    return _write(tmp_path, "load-only", LOAD.format(arrival="2034-07-01"))


@pytest.fixture
def array_only(tmp_path) -> Path:
    """One solar array, nothing to power: no load, no battery."""
    return _write(tmp_path, "array-only", ARRAY)


def _after_headline(text: str) -> str:
    """The twin's text after the verdict's headline (the headline is Verdict.headline, in station/verdict.py)."""
    return text.split("Power budget per build-up phase", 1)[1]


def test_twin_text_says_no_battery_and_no_load(load_only, array_only):
    for path, needles in (
        (load_only, ["n/a (no battery)"]),
        (array_only, ["n/a (no battery)", "n/a (no load)"]),
    ):
        text = _after_headline(output(assert_ok(invoke("twin", path, "--quiet"))))
        assert not NOT_A_NUMBER.search(text), (path.name, NOT_A_NUMBER.findall(text), text)
        for needle in needles:
            assert needle in text, (path.name, needle, text)
        assert "(-: no load)" in text and "(-: no battery)" in text  # the phase table's legend for its "-"
        # the JSON keeps the missing figures as null, not a made-up number
        kpis = json.loads(assert_ok(invoke("twin", path, "--json")).stdout)
        assert kpis["min_state_of_charge"] is None
        assert (kpis["energy_margin"] is None) == (path == array_only)
        assert kpis["energy_margin"] is None or kpis["energy_margin"] == -1.0  # load-only: generation 0


def test_compare_text_says_no_battery_and_no_load(load_only, array_only):
    text = output(assert_ok(invoke("compare", load_only, array_only)))
    assert not NOT_A_NUMBER.search(text), (NOT_A_NUMBER.findall(text), text)
    assert "no battery" in text and "n/a (no load)" in text
    # both without a battery: the same, not highlighted as a difference
    both = json.loads(assert_ok(invoke("compare", load_only, array_only, "--json")).stdout)
    rows = {r["key"]: r for r in both["rows"]}
    assert rows["least_storage_margin"]["values"] == [None, None] and not rows["least_storage_margin"]["differs"]
    assert rows["min_state_of_charge"]["values"] == [None, None] and not rows["min_state_of_charge"]["differs"]


def test_least_storage_margin_skips_the_phases_without_a_battery(tmp_path):
    """An array alone from 1 July, a battery and a load from 15 July: the least storage margin is the second
    phase's (the first has no battery), whatever the order of the phases."""
    path = _write(tmp_path, "late-battery", ARRAY, BATTERY, LOAD.format(arrival="2034-07-15"))
    verdict = json.loads(assert_ok(invoke("twin", path, "--json")).stdout)["verdict"]
    first, second = verdict["phases"]
    assert first["storage_margin"] is None and second["storage_margin"] is not None
    rows = {r["key"]: r for r in json.loads(assert_ok(invoke("compare", path, path, "--json")).stdout)["rows"]}
    assert rows["least_storage_margin"]["values"] == [second["storage_margin"]] * 2


def test_size_mast_text_says_no_battery(array_only):
    text = output(assert_ok(invoke("size", "mast", array_only, "--heights", "10")))
    assert not NOT_A_NUMBER.search(text), text
    assert "no battery" in text


def test_site_point_refuses_a_site_with_coordinates():
    """--site cr1 with --lat/--lon used to print CR1's figures and ignore the coordinates."""
    text = assert_user_error(
        invoke("site", "point", "--site", "cr1", "--lat", "-89.5748", "--lon", "213.7086"), "--site", "--lat"
    )
    assert "--lon" in text and "cr1" in text
    assert_user_error(invoke("site", "point", "--site", "cr1", "--lon", "213.7086"), "--site", "--lon")


def test_validate_warns_of_a_scenario_without_elements(tmp_path):
    path = _write(tmp_path, "my-station")
    r = assert_ok(invoke("scenario", "validate", path))
    text = output(r)
    assert "ok: my-station: 0 elements" in text
    warning = next(line for line in text.splitlines() if line.startswith("warning:"))
    assert "elements" in warning and "ilrs twin" in warning and "ilrs run" in warning and "refuse" in warning
    assert str(path) in text.replace("\n", "")
    v = json.loads(assert_ok(invoke("scenario", "validate", path, "--json")).stdout)
    assert v["ok"] and v["elements"] == 0 and len(v["warnings"]) == 1 and "elements" in v["warnings"][0]
    # what the warning announces: the twin refuses it, naming the field
    assert_user_error(invoke("twin", path, "--quiet"), "elements")
    # a scenario with elements gets no warning
    full = assert_ok(invoke("scenario", "validate", "ilrs-basic-2035"))
    assert "warning" not in output(full)
    assert json.loads(assert_ok(invoke("scenario", "validate", "ilrs-basic-2035", "--json")).stdout)["warnings"] == []


def test_not_a_number_pattern():
    """The pattern above catches what Python prints for NaN and infinity in the formats the tables use."""
    for value in (math.nan, math.inf, -math.inf):
        for fmt in ("{:.1%}", "{:+.1%}", "{:.1f}x", "{:.0f} %"):
            assert NOT_A_NUMBER.search(fmt.format(value)), fmt.format(value)
    assert not NOT_A_NUMBER.search("information, finance, 12.5%, 2.0x, n/a (no load)")


def test_sizing_without_a_critical_load_is_refused(array_only):
    """An array and nothing to power: any area keeps the (absent) critical load, so sizing is refused with the
    field named instead of a meaningless factor."""
    assert_user_error(invoke("size", "arrays", array_only), "elements", "no priority 1-2 load")


def test_sampling_options_are_refused_on_the_tiled_path(tmp_path, pole_dem):
    """--dem maps every step with one observer height: --windows and a different --earth-height are refused, by
    name, before any computation."""
    from ilrs.iotools.geotiff import write_geotiff

    dem = tmp_path / "crop.tif"
    write_geotiff(dem, pole_dem.crop(700, 764, 700, 764))
    for command in ("rank", "map"):
        extra = ["--out", tmp_path / command] if command == "map" else ["--work-dir", tmp_path / command]
        assert_user_error(invoke("site", command, "--dem", dem, "--windows", 12, *extra), "--windows")
        assert_user_error(invoke("site", command, "--dem", dem, "--earth-height", 5, *extra), "--earth-height")


def test_run_skips_sizing_without_a_critical_load_but_keeps_the_masts(array_only):
    """Nothing to keep: no battery or array sizing (any size would do), while the mast options still run."""
    from ilrs.services.pipeline import run_scenario
    from ilrs.services.scenarios import validated_scenario

    p = run_scenario(validated_scenario(array_only), stages=("twin", "sizing"))
    assert p.battery_sizing is None and p.array_sizing is None
    assert len(p.mast_options) == 5
