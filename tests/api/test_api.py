"""``ilrs.api``: every wrapper called once on small inputs; its tables and datasets hold the same numbers as the
service result it wraps (run again through the service, as the CLI runs it), and its HTML shows the headline
figures with user text escaped."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import asdict, replace

import numpy as np
import pytest

from ilrs import api
from tests.api.conftest import REQUESTS, SPACE

MARKUP = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def twin(month):
    return api.twin(month)


def test_importing_the_api_loads_no_heavy_module():
    """``import ilrs.api`` stays cheap for a notebook: no pandas, xarray, planner, Dask or pydantic schema work."""
    code = (
        "import sys, ilrs.api; heavy = ('pandas', 'xarray', 'ortools', 'distributed', 'ilrs.services.plan', "
        "'ilrs.services.trade'); print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_twin_matches_the_service_run(month, twin):
    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import run_twin
    from ilrs.station.twin import shedding_events, to_dataset

    ref = run_twin(validated_scenario(month))
    assert twin.kpis == ref.kpis
    assert twin.verdict == ref.verdict
    ds, ref_ds = twin.to_xarray(), to_dataset(ref)
    for name in ref_ds.data_vars:
        np.testing.assert_array_equal(ds[name].values, ref_ds[name].values, err_msg=str(name))
    assert ds.attrs["Conventions"] == "CF-1.10" and ds["solar"].attrs["units"] == "W"
    df = twin.to_dataframe()
    assert len(df) == ref.kpis.steps == 744
    assert df.index[0] == np.datetime64("2034-07-01T00:00") and df.index[-1] == np.datetime64("2034-07-31T23:00")
    np.testing.assert_array_equal(df["solar"].to_numpy(), ref.series.solar_w)
    np.testing.assert_array_equal(df["load_shed_p1"].to_numpy(), ref.result.shed_w[0])
    np.testing.assert_array_equal(df["battery_energy"].to_numpy(), ref.result.stored_wh[1:])
    # energy bookkeeping read from the table alone: the KPI's generated energy is the sum of the hourly means
    assert df["generation"].sum() / 1e3 == pytest.approx(ref.kpis.generated_kwh, rel=1e-12)
    assert twin.shedding_events() == shedding_events(ref)
    assert len(twin.phases_dataframe()) == len(ref.verdict.phases)


def test_twin_html_shows_the_verdict_and_kpis_and_escapes_the_name(month, twin):
    page = twin._repr_html_()
    assert "SURVIVES" in page and "2034-07-01 .. 2034-08-01" in page
    assert f"{twin.kpis.generated_kwh:,.0f} kWh" in page and f"{twin.kpis.data_downlinked_gbit:,.0f} Gbit" in page
    assert f"{twin.kpis.min_state_of_charge:.1%}" in page
    marked = api.Twin(replace(twin.run, scenario=twin.run.scenario.model_copy(update={"name": MARKUP})))
    page = marked._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_site_matches_point_environment():
    s = api.site(-89.45, 222.69, "2030-01-01", "2030-01-03", "1h")
    ref = api.point_environment(-89.45, 222.69, "2030-01-01", "2030-01-03", 3600.0)
    assert s.result.summary() == ref.summary()
    df = s.to_dataframe()
    assert len(df) == ref.n_steps == 48
    np.testing.assert_array_equal(df["sun_disk_fraction"].to_numpy(), ref.series["sun_disk_fraction"])
    np.testing.assert_array_equal(df.index.to_numpy(), ref.series["time_utc"].astype("datetime64[ns]"))
    ds = s.to_xarray()
    np.testing.assert_array_equal(ds["sun_elevation_deg"].values, ref.series["sun_elevation_deg"])
    assert ds["sun_elevation_deg"].attrs["units"] == "degree"
    assert ds.attrs["longest_dark_hours"] == ref.longest_dark_hours
    # the visible fraction is the share of steps with any of the disk up: the table says the same
    assert (df["sun_disk_fraction"] > 0).mean() == pytest.approx(ref.sun_visible_fraction)
    page = s._repr_html_()
    assert f"{100 * ref.sun_visible_fraction:,.3f}" in page and f"{ref.longest_dark_hours:,.3f}" in page


def test_sizing_matches_the_service(month):
    from ilrs.services import twin as service
    from ilrs.services.scenarios import validated_scenario

    s = validated_scenario(month)
    # July 2034 at the ridge: the Sun never sets long enough to need the batteries (a factor of 0, NaN state of
    # charge); without the reactor the arrays need about 60 % of their area
    b = api.size_battery(month, protect=5)
    np.testing.assert_equal(b.as_dict(), asdict(service.size_battery(s, protect=5)))
    solar_only = s.model_copy(update={"elements": [e for e in s.elements if e.kind != "fission"]})
    a = api.size_arrays(solar_only, protect=5)
    assert a.result == service.size_arrays(solar_only, protect=5)
    assert 0.0 < a.result.scale < 1.0
    page = a._repr_html_()
    assert "arrays sizing" in page and f"{a.result.area_m2:,.3f}" in page and f"{a.result.scale:,.3f}" in page


def test_compare_lines_up_the_kpis(month, twin):
    c = api.compare(month, month)
    df = c.to_dataframe()
    assert list(df.columns)[-1] == "differs" and not df["differs"].any()
    assert df.loc["generated_kwh"].iloc[0] == twin.kpis.generated_kwh
    assert c.twins()[0].kpis == twin.kpis
    assert "generated_kwh" in c._repr_html_()


def test_compare_highlights_what_differs(month, twin):
    """Two scenarios that differ in one array's area: the rows that change are flagged, the others are not, and
    each column holds that scenario's own twin KPIs."""
    from ilrs.services.scenarios import validated_scenario

    base = validated_scenario(month)
    elements = [
        e.model_copy(update={"area_m2": e.area_m2 * 0.5}) if e.kind == "solar_array" else e for e in base.elements
    ]
    smaller = base.model_copy(update={"elements": elements, "name": "smaller-arrays"})
    c = api.compare(month, smaller)
    df = c.to_dataframe()
    other = api.twin(smaller)
    assert df.loc["generated_kwh"].iloc[0] == twin.kpis.generated_kwh
    assert df.loc["generated_kwh"].iloc[1] == other.kpis.generated_kwh < twin.kpis.generated_kwh
    assert df.loc["generated_kwh", "differs"]
    assert not df.loc["steps", "differs"] and not df.loc["years", "differs"]
    # per build-up phase, the margins of each scenario's own verdict; half the arrays: less energy margin
    for mine, theirs in zip(twin.verdict.phases, other.verdict.phases, strict=True):
        key = f"phase {mine.name}: energy_margin"
        assert df.loc[key].iloc[0] == mine.energy_margin and df.loc[key].iloc[1] == theirs.energy_margin
        assert theirs.energy_margin < mine.energy_margin and df.loc[key, "differs"]
        assert df.loc[f"phase {mine.name}: storage_margin"].iloc[1] == theirs.storage_margin


def test_campaign_matches_the_monte_carlo():
    from datetime import date

    from ilrs.campaign.montecarlo import simulate
    from ilrs.campaign.roadmap import scenario_roadmap
    from ilrs.services.scenarios import validated_scenario

    c = api.campaign(None, runs=400, seed=7, by="2034-12-31", workers=0)
    missions, _ = scenario_roadmap(validated_scenario(None))
    ref = simulate(missions, 400, 7, scheduler="local-sync")
    df = c.to_dataframe()
    for row in ref.summary(date(2034, 12, 31)):
        assert df.loc[row["capability"], "p_by_2034-12-31"] == row["p_by_2034-12-31"]
        assert df.loc[row["capability"], "p_ever"] == row["p_ever"]
    ds = c.to_xarray()
    assert float(ds["probability"].sel(capability="energy", time="2035-01-01")) == ref.probability_by(
        "energy", "2035-01-01"
    )
    assert c.buildup["timeline"][-1]["date"] == "2034-12-31"
    page = c._repr_html_()
    assert f"{df.loc['energy', 'p_by_2034-12-31']:,.3f}" in page and "400 runs" in page


def test_transfer_and_orbits():
    from ilrs.services.campaign import transfer_summary
    from ilrs.transport.halo import halo_family, nrho_9_2

    t = api.transfer(model="patched-conic")
    assert t.as_dict() == transfer_summary("2030-06-20T09:00", 4.75, model="patched-conic")
    assert f"{t['tli_dv_m_s']:,.3f}" in t._repr_html_()

    n = api.nrho()
    assert n.orbit.period_days == nrho_9_2().period_days
    legs = n.to_dataframe()
    for a in n.architectures:
        # the legs after the first (TLI) add up to the architecture's delta-v after TLI
        mine = legs[legs["architecture"] == a["architecture"]]
        assert list(mine["name"]) == [leg["name"] for leg in a["legs"]]
        assert mine["delta_v_m_s"].iloc[1:].sum() == pytest.approx(a["delta_v_after_tli_m_s"])
    assert f"{n.orbit.period_days:,.3f}" in n._repr_html_()

    h = api.halo(2, 6)
    ref = halo_family(2, 6, step=0.01)
    np.testing.assert_array_equal(h.to_dataframe()["period_days"].to_numpy(), ref.periods_days)
    np.testing.assert_array_equal(h.to_xarray()["jacobi"].values, ref.jacobi)
    assert h.to_xarray()["perilune_radius_km"].attrs["units"] == "km"
    assert "6" in h._repr_html_()

    r = api.frozen_relay(days=10.0)
    assert r["periapsis_alt_km"] == 200.0 and r["apoapsis_alt_km"] == 16000.0
    assert f"{r['e']:,.3f}" in r._repr_html_()

    lo = api.llo(days=1.0)
    assert lo["alt_km"] == 100.0 and lo["inc_lunar_equator_deg"] == 90.0
    assert f"{lo['kepler_period_min']:,.3f}" in lo._repr_html_()


def test_plan_matches_the_service(month):
    from ilrs.services.plan import plan_rows, plan_scenario, requests_for
    from ilrs.services.scenarios import validated_scenario

    p = api.plan(month, REQUESTS, time_limit=2.0)
    s = validated_scenario(month)
    ref = plan_scenario(s, requests_for(s, REQUESTS), time_limit=2.0)
    df = p.to_dataframe()
    rows = plan_rows(ref)
    assert len(df) == len(rows) == p.summary["planned"]
    assert [(r["request"], r["occurrence"]) for r in rows] == list(zip(df["request"], df["occurrence"], strict=True))
    assert list(df["start"]) == [dt.datetime.fromisoformat(r["start"].rstrip("Z")) for r in rows]
    assert p.summary["value"] == ref.result.value
    assert p.summary["twin_check"]["ok"] and not p.summary["violations"]
    assert len(p.unplaced_dataframe()) == len(ref.result.unplaced_reasons())
    page = p._repr_html_()
    assert f"{p.summary['value']:,.3f}" in page and ">ok<" in page


def test_trade_matches_the_service(month):
    from ilrs.services.trade import run_trade

    t = api.trade(month, SPACE, workers=0)
    ref = run_trade(month, SPACE, "grid", workers=0)
    ds = t.to_xarray()
    assert ds.sizes["design"] == 4
    np.testing.assert_array_equal(ds["landed_mass_kg"].values, ref.metric("landed_mass_kg"))
    np.testing.assert_array_equal(ds["on_front"].values.astype(bool), ref.on_front)
    df = t.to_dataframe()
    assert list(df["param_battery_kwh"]) == [100.0, 100.0, 500.0, 500.0]
    assert [f["design"] for f in t.front()] == ref.front_order()
    page = t._repr_html_()
    assert "Pareto front" in page and f"{ref.metric('landed_mass_kg')[ref.front_order()[0]]:,.3f}" in page


def test_html_table_escapes_markup():
    page = api.html_table(MARKUP, [(MARKUP, MARKUP), ("x", 1.5)], note=MARKUP)
    assert "<script>" not in page and page.count("&lt;script&gt;") == 4
    assert "1.500" in page


def test_with_period_keeps_what_has_arrived():
    base = api.load("ilrs-basic-2035")
    s = api.with_period(base, start="2034-07-01", end="2034-08-01", step="1h")
    assert (s.start.isoformat(), s.end.isoformat(), s.step) == (
        "2034-07-01T00:00:00+00:00",
        "2034-08-01T00:00:00+00:00",
        "1h",
    )
    arrived = [e.name for e in base.elements if e.arrival < s.end]
    assert [e.name for e in s.elements] == arrived
    assert "ilrs5-radio-telescope" not in arrived  # lands in 2035
    assert all(e.arrival == s.start for e in s.elements)
    assert s.path == base.path
    with pytest.raises(api.IlrsError, match="cannot read the date"):
        api.with_period(base, start="July")
    with pytest.raises(api.IlrsError, match="before it starts"):
        api.with_period(base, start="2034-08-01", end="2034-07-01")


def test_mast_options_match_the_service(month):
    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import mast_options

    m = api.size_mast(month, [5.0, 10.0])
    ref = mast_options(validated_scenario(month), [5.0, 10.0])
    assert m.result == ref
    df = m.to_dataframe()
    assert list(df.index) == [5.0, 10.0]
    assert list(df["solar_kwh"]) == [o.solar_kwh for o in ref]
    assert f"{ref[1].solar_kwh:,.3f}" in m._repr_html_()


def test_launch_windows_and_descent():
    from ilrs.transport.descent import gravity_turn_descent
    from ilrs.transport.windows import month_span, scan_windows, summary

    w = api.launch_windows(month="2030-06", step_min=720, target=False)
    start, end = month_span("2030-06")
    ref = summary(scan_windows("wenchang", start, end, step_s=720 * 60.0, target=False))
    ref.pop("screen_s"), ref.pop("target_s")
    assert {k: v for k, v in w.summary.items() if k not in ("screen_s", "target_s")} == ref
    df = w.to_dataframe()
    assert len(df) == ref["feasible_launch_epochs"] > 0
    assert list(df["conic_tli_dv_m_s"]) == [d["conic_tli_dv_m_s"] for d in ref["departures"]]
    page = w._repr_html_()
    assert "Chang&#x27;e" in page and f"{min(df['conic_tli_dv_m_s']):,.3f}" in page

    d = api.descent(llo_alt_km=100.0)
    ref_d = gravity_turn_descent(100.0, 1.8, 311.0)
    assert d["total_dv_m_s"] == ref_d.total_dv_m_s and d["burn_time_s"] == ref_d.burn_time_s
    assert f"{ref_d.total_dv_m_s:,.3f}" in d._repr_html_()


def test_replan_after_a_failure(month):
    from ilrs.scenario.schema import ElementFailure
    from ilrs.services.plan import plan_scenario, replan_for, requests_for
    from ilrs.services.scenarios import validated_scenario

    p = api.plan(month, REQUESTS, time_limit=2.0)
    event = {"kind": "element_failure", "element": "ilrs1-array", "at": "2034-07-10"}
    r = p.replan(event, time_limit=2.0)
    s = validated_scenario(month)
    sp = plan_scenario(s, requests_for(s, REQUESTS), time_limit=2.0)
    ref = replan_for(
        sp, ElementFailure(kind="element_failure", element="ilrs1-array", at=dt.datetime(2034, 7, 10)), 2.0
    )
    assert (r.kept, r.moved, r.added, r.value_before, r.value_after, r.ok) == (
        ref.kept,
        ref.moved,
        ref.added,
        ref.value_before,
        ref.value_after,
        ref.ok,
    )
    with pytest.raises(api.IlrsError):
        p.replan({"kind": "element_failure", "element": "ilrs1-array", "at": "2030-01-01"})


def test_run_stages_match_the_pipeline(month, twin):
    from ilrs.services.pipeline import run_scenario
    from ilrs.services.scenarios import validated_scenario

    r = api.run(month, stages=("twin", "sizing"))
    ref = run_scenario(validated_scenario(month), stages=("twin", "sizing"))
    assert r.twin is not None and r.twin.kpis == ref.twin.kpis == twin.kpis
    assert r.result.array_sizing == ref.array_sizing
    assert r.plan is None and r.trade is None
    assert set(r.timings_dataframe().index) == set(ref.timings)
    page = r._repr_html_()
    assert "SURVIVES" in page and "run of ilrs-basic-2035" in page
    assert r.result.mast_options == ref.mast_options and "lowest mast tried that survives" in page


def test_site_maps_and_horizon_profile_as_xarray(pole_dem):
    """The maps and a point horizon as datasets: the same arrays on the DEM's own coordinates, with units."""
    from ilrs.api import horizon_profile
    from ilrs.services.site_maps import LAYERS, SiteMaps

    region = pole_dem.crop(700, 740, 710, 760)
    rng = np.random.default_rng(1)
    layers = {n: rng.random(region.shape).astype(np.float32) for n in LAYERS}
    maps = SiteMaps(region, 2.0, "2034-07-01", "2034-08-01", 3600.0, 744, layers)
    ds = maps.to_xarray()
    assert set(ds.data_vars) == set(LAYERS) and ds.sizes == {"y": 40, "x": 50}
    np.testing.assert_array_equal(ds["x"].values, region.x_coords())
    np.testing.assert_array_equal(ds["y"].values, region.y_coords())
    for n in LAYERS:
        np.testing.assert_array_equal(ds[n].values, layers[n])
    assert ds["longest_dark_hours"].attrs["units"] == "h" and ds["sun_visible_fraction"].attrs["units"] == "1"
    # the cell (row 3, col 7) of the DEM grid is where the dataset's coordinates put it
    assert ds["slope_deg"].sel(x=region.x_coords()[7], y=region.y_coords()[3]).item() == layers["slope_deg"][3, 7]

    p = horizon_profile(-89.45, 222.69, 2.0, n_azimuths=360)
    h = p.to_xarray()
    np.testing.assert_array_equal(h["elevation_deg"].values, p.elevation_deg)
    np.testing.assert_array_equal(h["azimuth_deg"].values, np.arange(360.0))
    assert float(h["elevation_deg"].sel(azimuth_deg=90.0)) == float(p.at(90.0)[()])
    assert h.attrs["height_m"] == 2.0 and h["distance_m"].attrs["units"] == "m"


def test_rank_sites_as_a_dataframe(pole_dem):
    """``api.rank_sites`` gives the service's ranking (the same RankedSite list, so existing code keeps working)
    with ``to_dataframe()``: one row per site indexed by rank, every field's value, units in ``attrs``."""
    from ilrs.services import site_maps as service
    from ilrs.services.site_maps import LAYERS, SiteMaps

    region = pole_dem.crop(650, 790, 650, 810)  # 140 x 160 cells of 240 m: room for sites 5 km apart
    rng = np.random.default_rng(7)
    layers = {n: rng.random(region.shape).astype(np.float32) for n in LAYERS}
    layers["slope_deg"] *= 20.0  # some cells above the 15 deg limit
    layers["never_lit"] = (layers["never_lit"] > 0.9).astype(np.float32)
    maps = SiteMaps(region, 2.0, "2034-07-01", "2034-08-01", 3600.0, 744, layers)
    ranked = api.rank_sites(maps, top=5)
    assert list(ranked) == service.rank_sites(maps, top=5) and len(ranked) == 5
    assert isinstance(ranked[0], api.RankedSite)
    df = ranked.to_dataframe()
    assert list(df.index) == [1, 2, 3, 4, 5] and df.index.name == "rank"
    for r in ranked:
        row = df.loc[r.rank]
        assert {k: row[k] for k in df.columns} == {k: v for k, v in asdict(r).items() if k != "rank"}
    assert df.attrs["units"]["longest_dark_hours"] == "h" and set(df.attrs["units"]) == set(df.columns) - {
        "nearest_named_site",
        "warnings",
    }
    assert (df["slope_deg"] <= 15.0).all()
    assert "<table>" in ranked._repr_html_() and api.RankedSites([]).to_dataframe().empty
