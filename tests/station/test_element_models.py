"""Element models the audit of issue 12 found untested, against hand computations and brute-force references:
the array's ageing (cells, dust per year, dust per later landing at the site), its rows over its height and the
string layout under partial shading, the battery's calendar fade, and the relay terminal's trunk to Earth (its
cap, the terminal's share, and whether the Moon hides the Earth from the relay)."""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.constants import AU_M, MOON_RADIUS_M
from ilrs.scenario import schema as sc
from ilrs.station import elements as el
from ilrs.station.environment import DECK_HEIGHT_M, RelayGeometry, SiteEnvironment
from ilrs.station.twin import build_inputs, environment_heights, landing_times

J2000 = np.datetime64("2000-01-01T12:00:00", "s")
G = 1361.0  # W/m2 at 1 AU (Kopp & Lean 2011): the synthetic environments put the Sun at 1 AU
SUN_EL_DEG = 1.5  # a typical polar Sun elevation


def _env(
    utc: np.ndarray,
    horizons: dict[float, float],
    *,
    relays: dict[str, RelayGeometry] | None = None,
    earth_el_deg: float = 5.0,
) -> SiteEnvironment:
    """A site with the Sun fixed at 1.5 deg elevation due north, 1 AU away, and a flat horizon per observer height
    (``horizons``: height [m] -> horizon elevation [deg])."""
    n = utc.size
    et = (utc.astype("datetime64[s]") - J2000).astype(float)
    return SiteEnvironment(
        et=et,
        utc=utc,
        step_s=float(et[1] - et[0]),
        lat_deg=-89.45,
        lon_deg=222.69,
        sun_az_rad=np.zeros(n),
        sun_el_rad=np.full(n, np.radians(SUN_EL_DEG)),
        sun_distance_m=np.full(n, AU_M),
        earth_az_rad=np.zeros(n),
        earth_el_rad=np.full(n, np.radians(earth_el_deg)),
        horizons_deg={float(h): np.full(360, float(v)) for h, v in horizons.items()},
        relays=relays or {},
    )


def _ctx(env: SiteEnvironment, years=0.0, landings=0, on=True) -> el.ElementContext:
    n = env.et.size
    return el.ElementContext(
        env=env,
        on=np.broadcast_to(np.asarray(on, dtype=bool), (n,)).copy(),
        years=np.broadcast_to(np.asarray(years, dtype=float), (n,)).copy(),
        sun_radius_rad=np.full(n, np.radians(0.2666)),  # the Sun's angular radius at 1 AU
        irradiance_w_m2=np.full(n, G),
        sun_fraction_ground=np.ones(n),
        terrain_temperature_k=np.full(n, 220.0),
        landings_before=np.broadcast_to(np.asarray(landings, dtype=np.int64), (n,)).copy(),
    )


def _array(**kw) -> sc.SolarArray:
    base = {
        "kind": "solar_array",
        "name": "a",
        "arrival": "2030-01-01",
        "area_m2": 10.0,
        "cell_efficiency": 0.30,
        "mast_height_m": 10.0,
        # no temperature coefficient: the output is then linear in every loss, so ratios are exact by hand (the
        # cell temperature's own dependence on the output is tested in test_station_physics)
        "temperature_coefficient_per_k": 0.0,
    }
    return sc.SolarArray.model_validate(base | kw)


def _full_sun_bus_w(a: sc.SolarArray) -> float:
    """Bus power of an unaged, unshaded array by hand: area x efficiency x packing x G x cos(e) x MPPT x harness."""
    cos_e = np.cos(np.radians(SUN_EL_DEG))
    return a.area_m2 * a.cell_efficiency * a.packing_factor * G * cos_e * a.mppt_efficiency * (1 - a.harness_loss)


# ---- array ageing: cells and dust per year, dust per landing ------------------------------------------------


def test_array_ageing_per_year_and_per_landing_by_hand():
    """10 m2 at 30 %, 0.5 %/yr cell degradation, 1 %/yr settling dust and 2 % per later landing: after 4 years and
    3 landings the output is 0.995^4 x 0.99^4 x 0.98^3 = 0.8862 of new (compounded, as each year's or plume's
    dust covers a fraction of what is still clean). Exact to rounding: the model is linear in the ageing here."""
    a = _array(degradation_per_year=0.005, dust_loss_per_year=0.01, dust_loss_per_landing=0.02)
    env = _env(
        np.arange("2030-01-01", "2030-01-06", dtype="datetime64[D]").astype("datetime64[s]"),
        {9: -5, 9.5: -5, 10: -5, 10.5: -5, 11: -5},
    )
    years = np.array([0.0, 1.0, 4.0, 4.0, 0.0])
    landings = np.array([0, 0, 0, 3, 3])
    p = el.solar_array(a, _ctx(env, years, landings)).solar_w
    new = _full_sun_bus_w(a)
    hand = np.array([1.0, 0.995 * 0.99, (0.995 * 0.99) ** 4, (0.995 * 0.99) ** 4 * 0.98**3, 0.98**3])
    np.testing.assert_allclose(p, new * hand, rtol=1e-12)
    assert p[3] / new == pytest.approx(0.8862, abs=5e-5)  # the figure in the docstring, to its 4 digits


def test_dust_warms_the_cells_by_hand():
    """Dust on the cover glass stops light from reaching the cells but does not send it back to space: the panel
    still absorbs it (regolith is dark, albedo ~0.1) and the power the cells no longer convert stays as heat. So
    10 % dust takes 10 % off the cells' output *and* warms them, costing a little more than 10 % with the real
    temperature coefficient. By hand: the one-node balance of test_station_physics (both faces at emittance
    0.85, half their view on 220 K terrain) solved by fixed point with and without the dust."""
    a = _array(temperature_coefficient_per_k=-0.0025, dust_loss_per_landing=0.10, dust_loss_per_year=0.0)
    env = _env(
        np.arange("2030-01-01", "2030-01-03", dtype="datetime64[D]").astype("datetime64[s]"),
        {9: -5, 9.5: -5, 10: -5, 10.5: -5, 11: -5},
    )
    p = el.solar_array(a, _ctx(env, 0.0, np.array([0, 1]))).solar_w
    sigma = 5.670374419e-8
    g = G * np.cos(np.radians(SUN_EL_DEG))
    out = []
    for clean in (1.0, 0.9):
        q = 0.30 * 0.85 * g * clean
        for _ in range(50):
            t = ((0.91 * g - q + 1.7 * 0.5 * sigma * 220.0**4) / (1.7 * sigma)) ** 0.25
            q = 0.30 * 0.85 * g * clean * (1 - 0.0025 * (t - 301.15))
        out.append((q, t))
    (q0, t0), (q1, t1) = out
    assert 1.0 < t1 - t0 < 4.0  # a ~2 K warmer panel
    # three fixed-point passes in the model: converged to ~1e-5 of the output (test_station_physics)
    assert p[1] / p[0] == pytest.approx(q1 / q0, rel=1e-4)
    assert p[1] / p[0] < 0.9


SCENARIO = """
name = "ageing"
start = 2030-01-01
end = 2032-01-01
step = "1h"

[site]
lat_deg = -89.4455
lon_deg = 222.69

[[elements]]
kind = "solar_array"
name = "array"
arrival = 2030-03-01
area_m2 = 10.0
cell_efficiency = 0.30
mast_height_m = 10.0
vertical_extent_m = 0.0
temperature_coefficient_per_k = 0.0
degradation_per_year = 0.005
dust_loss_per_year = 0.01
dust_loss_per_landing = 0.02

[[elements]]
kind = "battery"
name = "battery"
arrival = 2030-06-01
capacity_kwh = 100.0
max_charge_kw = 10.0
max_discharge_kw = 10.0
calendar_fade_per_year = 0.03

[[elements]]
kind = "load"
name = "base"
arrival = 2030-01-01
power_kw = 0.1
priority = 1
{missions}
"""

# (name, launch, transit days, lands)
MISSIONS = [
    ("before", "2029-12-01", 5.0, True),  # lands before the array: its dust is already there when it arrives
    ("own", "2030-02-27", 2.0, True),  # brings the array (lands 2030-03-01): its own plume is not counted
    ("orbiter", "2030-04-01", 5.0, False),  # stays in orbit: no plume
    ("second", "2030-08-20", 4.5, True),  # lands 2030-08-24 12:00
    ("third", "2031-05-01", 10.0, True),
    ("same-day", "2031-05-11", 0.0, True),  # lands the same day as the third
]


def _mission_toml(name: str, launch: str, transit: float, lands: bool) -> str:
    return (
        f'\n[[missions]]\nname = "{name}"\nvehicle = "cz-5"\nlaunch = {launch}\nmass_kg = 1000.0\n'
        f"transit_days = {transit}\nlands = {'true' if lands else 'false'}\n"
    )


@pytest.fixture(scope="module")
def ageing_scenario(tmp_path_factory):
    from ilrs.services.scenarios import validated_scenario

    text = SCENARIO.replace("{missions}", "".join(_mission_toml(*m) for m in MISSIONS))
    path = tmp_path_factory.mktemp("ageing") / "ageing.toml"
    path.write_text(text)
    return validated_scenario(path)


def test_landing_times_are_launch_plus_transit_of_landers_only(ageing_scenario):
    hand = [
        "2029-12-06T00:00:00",
        "2030-03-01T00:00:00",
        "2030-08-24T12:00:00",
        "2031-05-11T00:00:00",
        "2031-05-11T00:00:00",
    ]
    assert [str(t) for t in landing_times(ageing_scenario)] == hand


def test_twin_array_and_battery_age_as_counted_by_hand(ageing_scenario):
    """Through :func:`build_inputs` on a 6-hour grid: the array's output at each step against a brute-force count
    of the landings after the array's own (landed at or before the step, after its arrival; orbiters excluded)
    and its age in Julian years; the battery's capacity fades 3 %/yr of its nameplate from its arrival."""
    s = ageing_scenario
    utc = np.arange("2030-01-01", "2032-01-01", np.timedelta64(6, "h"), dtype="datetime64[s]")
    env = _env(utc, {0.0: -5.0, DECK_HEIGHT_M: -5.0, 10.0: -5.0})
    assert set(environment_heights(s)) <= set(env.horizons_deg)
    series = build_inputs(s, env)

    arrival = np.datetime64("2030-03-01T00:00:00")
    lands = [
        np.datetime64(launch) + np.timedelta64(int(transit * 86400), "s")
        for _, launch, transit, landed in MISSIONS
        if landed
    ]
    array = s.elements[0]
    new = _full_sun_bus_w(array)
    hand = np.zeros(utc.size)
    for i, t in enumerate(utc):
        if t < arrival:
            continue
        n = sum(1 for x in lands if arrival < x <= t)
        years = (t - arrival) / np.timedelta64(1, "s") / (365.25 * 86400)
        hand[i] = new * (0.995 * 0.99) ** years * 0.98**n
    np.testing.assert_allclose(series.solar_w, hand, rtol=1e-12, atol=1e-9)
    # after the last landing: 3 plumes counted (second, third, same-day)
    assert series.solar_w[-1] / (
        new * (0.995 * 0.99) ** ((utc[-1] - arrival) / np.timedelta64(1, "s") / 31557600)
    ) == pytest.approx(0.98**3)

    b_arrival = np.datetime64("2030-06-01T00:00:00")
    b_years = np.where(utc >= b_arrival, (utc - b_arrival) / np.timedelta64(1, "s") / 31557600, 0.0)
    cap_hand = np.where(utc >= b_arrival, 100e3 * (1 - 0.03 * b_years), 0.0)
    np.testing.assert_allclose(series.battery_capacity_wh, cap_hand, rtol=1e-12)
    assert series.battery_added_wh.sum() == pytest.approx(100e3)  # brought full (initial_soc 1) on arrival


# ---- the array's rows over its height and its string layout ------------------------------------------------


def test_array_rows_span_its_height():
    """Five rows, evenly from the bottom edge to the top edge of the panel (centre on the mast height); a
    point-like array (no extent) has one; rows that would be below ground are at the ground."""
    assert el.array_sample_heights(_array(vertical_extent_m=2.0)) == (9.0, 9.5, 10.0, 10.5, 11.0)
    assert el.array_sample_heights(_array(vertical_extent_m=0.0)) == (10.0,)
    assert el.array_sample_heights(_array(mast_height_m=0.5, vertical_extent_m=2.0)) == (0.0, 0.0, 0.5, 1.0, 1.5)
    heights = el.array_sample_heights(_array(mast_height_m=7.0, vertical_extent_m=3.0))
    assert heights[0] == pytest.approx(5.5) and heights[-1] == pytest.approx(8.5)
    assert np.mean(heights) == pytest.approx(7.0)


@pytest.mark.parametrize(
    ("shaded_horizon_deg", "row_fraction"),
    [
        (5.0, 0.0),  # the Sun's disk (1.5 deg up, radius 0.27 deg) wholly behind a 5 deg horizon
        (SUN_EL_DEG, 0.5),  # a horizon through the Sun's centre hides exactly half its disk
    ],
)
def test_partly_shaded_array_by_string_layout(shaded_horizon_deg, row_fraction):
    """The two lower rows of a 2 m panel (9 and 9.5 m) see the Sun behind the terrain, the three upper ones in
    full. Strings along rows each make their row's power: (2 x f + 3) / 5 of the unshaded output. Strings up the
    panel run every row's cells in series, the current of the most shaded cell (no bypass diodes): f of it."""
    horizons = {9.0: shaded_horizon_deg, 9.5: shaded_horizon_deg, 10.0: -5.0, 10.5: -5.0, 11.0: -5.0}
    env = _env(np.arange("2030-01-01", "2030-01-03", dtype="datetime64[D]").astype("datetime64[s]"), horizons)
    full = _full_sun_bus_w(_array())
    rows = el.solar_array(_array(string_layout="horizontal"), _ctx(env)).solar_w
    up = el.solar_array(_array(string_layout="vertical"), _ctx(env)).solar_w
    # the horizon through the disk's centre is a chord through it: half the disk to ~1e-6 (the kernel's
    # quadrature over the disk's edge)
    np.testing.assert_allclose(rows, full * (2 * row_fraction + 3) / 5, rtol=1e-5)
    np.testing.assert_allclose(up, full * row_fraction, rtol=1e-5, atol=1e-6 * full)
    # unshaded, both layouts give the full output
    lit = _env(env.utc, dict.fromkeys(horizons, -5.0))
    for layout in ("horizontal", "vertical"):
        assert el.solar_array(_array(string_layout=layout), _ctx(lit)).solar_w == pytest.approx(full, rel=1e-12)


# ---- the battery's calendar fade ------------------------------------------------------------------------


def test_battery_calendar_fade_by_hand():
    """100 kWh fading 2 %/yr of its nameplate: 98 kWh after a year, 80 after ten, none left after 50 (never
    negative); nothing before it arrives; it brings its initial charge once, at arrival."""
    env = _env(np.arange("2030-01-01", "2030-01-07", dtype="datetime64[D]").astype("datetime64[s]"), {0: -5})
    b = sc.Battery.model_validate(
        {
            "kind": "battery",
            "name": "b",
            "arrival": "2030-01-02",
            "capacity_kwh": 100.0,
            "max_charge_kw": 5.0,
            "max_discharge_kw": 6.0,
            "calendar_fade_per_year": 0.02,
            "initial_soc": 0.7,
        }
    )
    on = np.array([False, True, True, True, True, True])
    years = np.array([0.0, 0.0, 1.0, 10.0, 50.0, 60.0])
    share = el.battery(b, _ctx(env, years, 0, on)).battery
    assert share is not None
    np.testing.assert_allclose(share.capacity_wh, [0.0, 100e3, 98e3, 80e3, 0.0, 0.0], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(share.added_wh, [0.0, 70e3, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(share.max_charge_w, [0.0] + [5e3] * 5)
    np.testing.assert_allclose(share.max_discharge_w, [0.0] + [6e3] * 5)
    assert share.cycle_fade == b.cycle_fade


# ---- the relay terminal: does the relay see the Earth, its trunk cap and share -------------------------------


def _enu(az, el_, r):
    return np.stack([r * np.cos(el_) * np.sin(az), r * np.cos(el_) * np.cos(az), r * np.sin(el_)], axis=-1)


def test_relay_sees_earth_by_hand():
    """A relay 10,000 km straight above the site sees the Moon as a disk of asin(1737.4 / 11737.4) = 8.51 deg
    radius straight down: an Earth 10 deg below the site's horizon is in view, one 85 deg below is hidden, one
    80 deg below is clear of the limb at -81.5 deg (the relay's 10,000 km offset moves the Earth's direction by
    under 0.3 deg at that angle: 1,740 km across over 384,400 km)."""
    up = np.radians(90.0)
    geo = RelayGeometry(np.zeros(4), np.full(4, up), np.full(4, 10_000e3))
    earth_el = np.radians([-10.0, -85.0, -80.0, 30.0])
    got = el.relay_sees_earth(geo, np.zeros(4), earth_el)
    assert got.tolist() == [True, False, True, True]


def test_relay_sees_earth_against_brute_force_sampling():
    """Random relays (0-90 deg up, 100-20,000 km away) and Earth directions: the closed form against sampling
    the relay-to-Earth segment every ~0.4 km (in a Moon-centred frame) for a point inside the Moon. Cases whose
    ray grazes the limb within 5 km are left out: the sampling resolves the ray's depth to ~0.01 km there, so
    5 km is far beyond both methods' error."""
    rng = np.random.default_rng(12)
    n = 400
    geo = RelayGeometry(
        rng.uniform(0, 2 * np.pi, n), np.radians(rng.uniform(0.0, 90.0, n)), rng.uniform(100e3, 20_000e3, n)
    )
    e_az, e_el = rng.uniform(0, 2 * np.pi, n), np.radians(rng.uniform(-90.0, 90.0, n))
    got = el.relay_sees_earth(geo, e_az, e_el)
    site = np.array([0.0, 0.0, MOON_RADIUS_M])  # the site on the Moon's surface, Moon-centred east-north-up axes
    relay = site + _enu(geo.az_rad, geo.el_rad, geo.range_m)
    earth = site + _enu(e_az, e_el, 384_400e3)
    s = np.linspace(0.0, 1.0, 1_000_001)
    kept = 0
    for i in range(n):
        # only the first ~20,000 km of the segment can pass the Moon from a relay within 20,000 km of the site
        pts = relay[i] + np.outer(s[:50_001], earth[i] - relay[i])
        depth = np.sqrt((pts**2).sum(axis=1)).min() - MOON_RADIUS_M
        if abs(depth) < 5e3:
            continue
        kept += 1
        assert bool(got[i]) == (depth > 0.0), (i, depth)
    assert kept > 0.9 * n
    assert 0 < (~got).sum() < n  # both outcomes occur


def _relay(**kw) -> sc.RelayTerminal:
    base = {
        "kind": "relay",
        "name": "r",
        "arrival": "2030-01-01",
        "frequency_hz": 8.46e9,
        "tx_power_w": 20.0,
        "antenna_diameter_m": 0.6,
        "antenna_height_m": 10.0,
        "rx_system_noise_k": 290.0,
        "relay_antenna_diameter_m": 4.2,
        "max_rate_mbps": 50.0,
        "power_kw": 0.15,
    }
    return sc.RelayTerminal.model_validate(base | kw)


def test_relay_trunk_cap_and_share():
    """A relay 3,000 km overhead closes the modem's 50 Mbit/s (its budget is tens of dB above threshold there). A
    100 Mbit/s trunk to Earth shared four ways caps the terminal at 25 Mbit/s while the relay sees the Earth and
    at 0 while the Moon hides it (no store-and-forward on the relay); the radio draws power only while it sends.
    Without a trunk the modem's rate stands; a trunk share above the modem rate does not bind."""
    n = 4
    utc = np.arange("2030-01-01", "2030-01-05", dtype="datetime64[D]").astype("datetime64[s]")
    sees = np.array([True, False, True, False])
    geo = RelayGeometry(np.zeros(n), np.full(n, np.radians(80.0)), np.full(n, 3_000e3), sees_earth=sees)
    env = _env(utc, {10.0: -5.0}, relays={"r": geo})
    free = el.relay_terminal(_relay(), _ctx(env))
    np.testing.assert_allclose(free.relay_bps, 50e6)
    assert free.relay_visible is not None and free.relay_visible.all()

    shared = el.relay_terminal(_relay(trunk_rate_mbps=100.0, trunk_share=0.25), _ctx(env))
    np.testing.assert_allclose(shared.relay_bps, np.where(sees, 25e6, 0.0))
    np.testing.assert_allclose(shared.transmitter_w, np.where(sees, 150.0, 0.0))
    assert shared.relay_visible is not None and shared.relay_visible.all()  # the relay is in view; Earth is not

    wide = el.relay_terminal(_relay(trunk_rate_mbps=400.0, trunk_share=0.5), _ctx(env))
    np.testing.assert_allclose(wide.relay_bps, np.where(sees, 50e6, 0.0))


def test_relay_trunk_without_precomputed_earth_view_uses_the_geometry():
    """When the environment has no ``sees_earth`` the model works it out with :func:`relay_sees_earth`: a relay
    straight up with the Earth 85 deg below the site's horizon (hidden, see above) gets nothing through."""
    utc = np.arange("2030-01-01", "2030-01-03", dtype="datetime64[D]").astype("datetime64[s]")
    geo = RelayGeometry(np.zeros(2), np.full(2, np.radians(90.0)), np.full(2, 10_000e3))
    env = _env(utc, {10.0: -5.0}, relays={"r": geo}, earth_el_deg=-85.0)
    hidden = el.relay_terminal(_relay(trunk_rate_mbps=100.0, trunk_share=0.25), _ctx(env)).relay_bps
    np.testing.assert_allclose(hidden, 0.0)
    env = _env(utc, {10.0: -5.0}, relays={"r": geo}, earth_el_deg=5.0)
    seen = el.relay_terminal(_relay(trunk_rate_mbps=100.0, trunk_share=0.25), _ctx(env)).relay_bps
    assert np.all((seen > 0) & (seen <= 25e6))
