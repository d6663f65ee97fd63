"""The design-space file: bad input named (file, line, field) before any twin runs; grid and Latin hypercube."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from ilrs.errors import IlrsError
from ilrs.scenario.load import load_scenario
from ilrs.scenario.schema import Scenario
from ilrs.services.trade import load_study
from ilrs.trade.designs import apply_design, landed_mass_kg
from ilrs.trade.space import MassModel, grid, latin_hypercube, load_space
from ilrs.trade.toml_out import scenario_toml

HERE = Path(__file__).parent
STATION = HERE / "station-year.toml"
SMALL = HERE / "small.space.toml"

OBJECTIVES = """
[[objectives]]
metric = "landed_mass_kg"
sense = "min"
"""


def _space(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "space.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(IlrsError) as exc:
        load_study(STATION, _space(tmp_path, text))
    return str(exc.value)


def test_unknown_parameter_named_with_file_line_and_field(tmp_path):
    msg = _error(tmp_path, '[[parameters]]\nparameter = "mast_hieght_m"\nvalues = [1.0]\n' + OBJECTIVES)
    assert "space.toml" in msg and "line 2" in msg and "parameters[0].parameter" in msg
    assert "unknown parameter 'mast_hieght_m'" in msg and "mast_height_m" in msg


def test_empty_range_rejected(tmp_path):
    text = '[[parameters]]\nparameter = "battery_kwh"\nrange = { start = 5.0, stop = 1.0, step = 1.0 }\n'
    msg = _error(tmp_path, text + OBJECTIVES)
    assert "parameters[0]" in msg and "no values" in msg


def test_contradictory_constraints_rejected(tmp_path):
    text = (
        '[[parameters]]\nparameter = "battery_kwh"\nvalues = [100.0]\n'
        + OBJECTIVES
        + '[[constraints]]\nmetric = "min_state_of_charge"\nmin = 0.5\n'
        + '[[constraints]]\nmetric = "min_state_of_charge"\nmax = 0.3\n'
    )
    msg = _error(tmp_path, text)
    assert "contradict" in msg and "min_state_of_charge" in msg


def test_impossible_bound_rejected(tmp_path):
    text = '[[parameters]]\nparameter = "battery_kwh"\nvalues = [100.0]\n' + OBJECTIVES
    msg = _error(tmp_path, text + '[[constraints]]\nmetric = "loss_of_load_hours"\nmax = -1.0\n')
    assert "line" in msg and "constraints[0]" in msg and "below the lowest value" in msg


def test_site_outside_every_dem_rejected_before_any_work(tmp_path):
    text = '[[parameters]]\nparameter = "site"\nvalues = ["cr1", { lat_deg = -60.0, lon_deg = 10.0 }]\n' + OBJECTIVES
    msg = _error(tmp_path, text)
    assert "parameters[0] (site)" in msg and "outside every embedded south-pole DEM" in msg
    assert "-60.0000" in msg


def test_unknown_site_and_element_named(tmp_path):
    msg = _error(tmp_path, '[[parameters]]\nparameter = "site"\nvalues = ["nowhere"]\n' + OBJECTIVES)
    assert "unknown site 'nowhere'" in msg
    msg = _error(
        tmp_path, '[[parameters]]\nparameter = "battery_kwh"\nelements = ["nope"]\nvalues = [1.0]\n' + OBJECTIVES
    )
    assert "element 'nope' is not in the scenario" in msg


def test_grid_is_the_full_factorial_and_lhs_stratifies_each_axis():
    space = load_space(SMALL)
    designs = grid(space)
    assert len(designs) == space.size() == 3 * 2 * 2 * 2 * 3
    assert len({d.levels for d in designs}) == len(designs)
    n = 12
    lhs = latin_hypercube(space, n, seed=5)
    levels = np.array([d.levels for d in lhs])
    # before repeats are dropped every level of an axis with L levels is drawn n/L times; after, at most that
    for j, (_, values) in enumerate(space.dimensions()):
        counts = np.bincount(levels[:, j], minlength=len(values))
        assert counts.max() <= n // len(values) + 1
    assert [d.levels for d in latin_hypercube(space, n, seed=5)] == [d.levels for d in lhs]


def test_design_scenarios_round_trip_through_toml(tmp_path):
    base, space = load_study(STATION, SMALL)
    s = apply_design(base, space, (2, 1, 0, 1, 2))
    assert not any(e.kind in ("fission", "relay") for e in s.elements)
    assert next(e for e in s.elements if e.name == "battery").capacity_kwh == 300.0
    path = tmp_path / "d.toml"
    path.write_text(scenario_toml(s, "a design"), encoding="utf-8")
    again = load_scenario(path)
    assert again.model_dump() == s.model_dump()
    assert Scenario.model_validate(tomllib.loads(path.read_text())).model_dump() == s.model_dump()


def test_landed_mass_from_the_documented_rates():
    s = load_scenario(STATION)
    m = MassModel()
    # 60 m2 array on a 10 m mast, 300 kWh battery, 10 kWe reactor, one relay terminal
    expected = 60 * 3.0 + 10 * 15.0 + 300 * 6.7 + 10 * 150.0 + 25.0
    assert landed_mass_kg(s, m) == pytest.approx(expected, rel=1e-12)


def test_builtin_example_space_is_valid():
    from ilrs.scenario.load import builtin_scenarios

    base, space = load_study("ilrs-basic-2035", "trade-power-2035")
    assert base.name == "ilrs-basic-2035"
    assert 100 <= space.size() <= 500
    assert "trade-power-2035" not in builtin_scenarios()
    with pytest.raises(IlrsError, match="built-in spaces: report-power-2035, trade-power-2035"):
        load_study("ilrs-basic-2035", "no-such-space")


def test_distribution_levels_are_the_laws_equal_probability_medians(tmp_path):
    """A parameter given as a distribution stands for it by the quantiles at (i + 1/2)/n: checked against the
    textbook values (standard normal quantiles 0.5244 and 1.2816 at 0.7 and 0.9, Abramowitz & Stegun table
    26.1), a uniform's bin centres, a triangular's inverse CDF in closed form and the lognormal's median;
    and the grid carries them as levels."""
    from ilrs.trade.space import Distribution

    normal = Distribution(kind="normal", mean=10.0, sd=2.0, levels=5).values()
    z = np.array([-1.28155, -0.52440, 0.0, 0.52440, 1.28155])
    np.testing.assert_allclose(normal, 10.0 + 2.0 * z, atol=1e-4)
    assert Distribution(kind="uniform", low=0.0, high=10.0, levels=5).values() == [1.0, 3.0, 5.0, 7.0, 9.0]
    lo, mode, hi, n = 0.0, 2.0, 10.0, 4
    q = (np.arange(n) + 0.5) / n
    fc = (mode - lo) / (hi - lo)
    rising = lo + np.sqrt(q * (hi - lo) * (mode - lo))
    falling = hi - np.sqrt((1 - q) * (hi - lo) * (hi - mode))
    closed = np.where(q < fc, rising, falling)
    np.testing.assert_allclose(Distribution(kind="triangular", low=lo, mode=mode, high=hi, levels=n).values(), closed)
    assert Distribution(kind="lognormal", median=100.0, sigma=0.3, levels=3).values()[1] == pytest.approx(100.0)
    text = (
        '[[parameters]]\nparameter = "battery_kwh"\n'
        'distribution = { kind = "normal", mean = 600.0, sd = 100.0, levels = 3 }\n' + OBJECTIVES
    )
    _, space = load_study(STATION, _space(tmp_path, text))
    ((_, values),) = space.dimensions()
    np.testing.assert_allclose(values, [600 - 100 * 0.96742, 600.0, 600 + 100 * 0.96742], atol=1e-3)  # q = 1/6, 5/6
    assert len(grid(space)) == 3


@pytest.mark.parametrize(
    ("law", "needle"),
    [
        ('{ kind = "normal", mean = 600.0 }', "needs mean, sd; missing sd"),
        ('{ kind = "uniform", low = 5.0, high = 1.0 }', "low 5 must be below high 1"),
        ('{ kind = "uniform", low = 1.0, high = 5.0, sd = 1.0 }', "takes low, high, not sd"),
        ('{ kind = "normal", mean = 100.0, sd = 200.0 }', "battery_kwh must be positive"),
        ('{ kind = "weibull", low = 1.0 }', "kind"),
    ],
)
def test_bad_distribution_named_with_line(tmp_path, law, needle):
    text = f'[[parameters]]\nparameter = "battery_kwh"\ndistribution = {law}\n' + OBJECTIVES
    msg = _error(tmp_path, text)
    line = 1 if needle == "battery_kwh must be positive" else 3  # the whole parameter: its [[parameters]] line
    assert needle in msg and f"line {line}," in msg and "parameters[0]" in msg


def test_top_sites_expand_to_the_ranking(tmp_path):
    """`top = N` stands for the N best sites of the ranking: expanded (best first, with their rank) into the
    coordinates `rank_sites` gives on real maps (here a 96 km crop of the 240 m LOLA DEM around the pole,
    15 days at 6 h, so that the test stays small), a listed site kept once, and each design placed there."""
    from ilrs.services.data import pole_dem
    from ilrs.services.horizon_maps import HorizonMap, compute_horizon_map
    from ilrs.services.site_maps import SiteMaps, compute_site_maps, rank_sites

    dem = pole_dem().crop(568, 968, 568, 968)
    hmap = HorizonMap(dem, 2.0, compute_horizon_map(dem, 2.0, 360, far_dem=None))
    layers = compute_site_maps(hmap, (0, 400, 0, 400), "2025-01-01", "2025-01-16", 21600.0)
    maps = SiteMaps(dem, 2.0, "2025-01-01", "2025-01-16", 21600.0, 60, layers)
    asked: list[int] = []

    def ranking(base: Scenario, top: int):
        asked.append(top)
        return rank_sites(maps, top=top)

    expected = rank_sites(maps, top=3)
    first = {"lat": expected[0].lat_deg, "lon": expected[0].lon_deg}
    text = (
        '[[parameters]]\nparameter = "site"\n'
        f'values = [{{ top = 3 }}, {{ lat_deg = {first["lat"]!r}, lon_deg = {first["lon"]!r} }}, "cr1"]\n' + OBJECTIVES
    )
    base, space = load_study(STATION, _space(tmp_path, text), ranking=ranking)
    assert asked == [3]
    ((_, sites),) = space.dimensions()
    assert [(s.rank, s.lat_deg, s.lon_deg) for s in sites[:3]] == [(r.rank, r.lat_deg, r.lon_deg) for r in expected]
    assert len(sites) == 4 and sites[3].name == "cr1"  # the listed coordinates equal rank 1: kept once
    assert sites[1].label().startswith("rank 2 (")
    scenario = apply_design(base, space, (1,))
    assert (scenario.site.lat_deg, scenario.site.lon_deg) == (expected[1].lat_deg, expected[1].lon_deg)


def test_top_sites_without_a_ranking_refused_in_a_design():
    from ilrs.trade.space import Parameter

    p = Parameter(parameter="site", values=[{"top": 2}])
    assert p.levels()[0].label() == "top 2"
    with pytest.raises(ValueError, match="top = N or|give a site name"):
        Parameter(parameter="site", values=[{"top": 2, "name": "cr1"}])


def test_designs_sharing_an_element_vary_slowest(tmp_path):
    """The Evaluator's order: parameters that set the same element (here a battery's size and its arrival
    date) vary slowest, so that neighbouring designs share that element's definition; the array's area,
    alone on its element, varies fastest."""
    from ilrs.trade.designs import memo_order

    text = (
        """
[[parameters]]
parameter = "array_area_m2"
values = [40.0, 60.0]
[[parameters]]
parameter = "battery_kwh"
values = [200.0, 400.0, 800.0]
[[parameters]]
parameter = "arrival_shift_days"
elements = ["battery"]
values = [0.0, 30.0]
"""
        + OBJECTIVES
    )
    base, space = load_study(STATION, _space(tmp_path, text))
    key = memo_order(base, space)
    ordered = sorted((d.levels for d in grid(space)), key=key)
    assert [d[0] for d in ordered] == [0, 1] * 6  # the array's area alone cycles fastest
    assert [(d[1], d[2]) for d in ordered[::2]] == sorted({(d[1], d[2]) for d in ordered})
