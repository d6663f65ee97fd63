"""The written products of a study (table, page, scenario files) from a result whose metrics are a known
function of the design, so that no twin runs: what is written must say what the result says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ilrs.scenario.load import load_scenario
from ilrs.services.trade import load_study, summarise, write_results
from ilrs.trade.designs import Evaluation
from ilrs.trade.space import grid

HERE = Path(__file__).parent
SPACE = """
name = "sites"
[[parameters]]
parameter = "site"
values = ["cr1", { lat_deg = -88.74, lon_deg = 124.5 }]
[[parameters]]
parameter = "battery_kwh"
values = [100.0, 200.0, 300.0]
[[objectives]]
metric = "landed_mass_kg"
sense = "min"
[[objectives]]
metric = "science_data_gbit"
sense = "max"
[[constraints]]
metric = "critical_load_lost_h"
max = 0.0
"""


def _result(tmp_path):
    p = tmp_path / "sites.toml"
    p.write_text(SPACE)
    base, space = load_study(HERE / "station-year.toml", p)
    evals = []
    for d in grid(space):
        site, battery = d.levels
        m = {
            "landed_mass_kg": 100.0 * (battery + 1),
            "science_data_gbit": 10.0 * (battery + 1) + 5.0 * site,
            "critical_load_lost_h": 0.0 if battery > 0 else 12.0,
        }
        evals.append(Evaluation(d.levels, m))
    return summarise(base, space, "grid", "in process", tuple(evals), 2, 0.0)


def test_front_and_reasons_of_a_known_function(tmp_path):
    r = _result(tmp_path)
    # battery level 0 loses critical load; among the rest the second site returns more for the same mass
    assert [bool(f) for f in r.feasible] == [False, True, True, False, True, True]
    assert r.reasons[0] == "critical_load_lost_h = 12 > 0"
    assert list(np.flatnonzero(r.on_front)) == [4, 5]
    assert r.front_order() == [4, 5]


def test_table_and_scenario_files_say_what_the_result_says(tmp_path):
    r = _result(tmp_path)
    paths = write_results(r, tmp_path / "out")
    with xr.open_dataset(paths["table"], engine="h5netcdf") as ds:
        assert list(ds["param_site"].values) == ["cr1"] * 3 + ["-88.7400,124.5000"] * 3
        assert ds["param_battery_kwh"].attrs["units"] == "kWh"
        assert list(ds["on_front"].values) == [int(x) for x in r.on_front]
        assert ds["reason"].values[0] == "critical_load_lost_h = 12 > 0"
        assert ds["science_data_gbit"].attrs["units"] == "Gbit"
    first = load_scenario(paths["sites-1"])
    assert first.site.lat_deg == -88.74 and first.site.lon_deg == 124.5
    assert next(e for e in first.elements if e.name == "battery").capacity_kwh == 200.0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["designs.nc", "sites-1.toml", "sites-2.toml"]


def test_page_shows_front_and_sensitivity(tmp_path):
    from ilrs.reports.trade_page import trade_page

    html = trade_page(_result(tmp_path))
    assert "Pareto front" in html and "parcoords" in html
    assert "critical_load_lost_h" in html and "-88.7400,124.5000" in html
