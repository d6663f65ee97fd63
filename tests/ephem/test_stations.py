"""ilrs.ephem.ground_stations: ground-station catalogue, the Moon's direction from the stations, DTE windows.

References outside the code under test: SPICE ``azlcpo`` (its own topocentric frame and az/el from the WGS84
ellipsoid's normal) and ``spkcpo`` per epoch, the closed-form geodetic-to-Cartesian formula, a second
publication of one station's coordinates, and physical bounds on the Moon's motion in the sky.
"""

from __future__ import annotations

import numpy as np
import pytest
import spiceypy

from ilrs.ephem import ground_stations as st
from ilrs.ephem.kernels import ensure_loaded
from ilrs.ephem.time import to_et, utc_grid
from ilrs.errors import IlrsError

ARCSEC = np.pi / (180 * 3600)
RNG_SEED = 20260301

#: Largest declination the Moon reaches (major lunar standstill, 23.44 + 5.15 deg + nutation) [deg].
MOON_MAX_DECLINATION_DEG = 28.8


@pytest.fixture(scope="module", autouse=True)
def kernels():
    ks = ensure_loaded()
    # azlcpo's 'ELLIPSOID' method reads the Earth's radii from the kernel pool: give it WGS84.
    a_km = st.WGS84_EQUATORIAL_RADIUS_M / 1000.0
    spiceypy.pdpool("BODY399_RADII", [a_km, a_km, a_km * (1.0 - st.WGS84_FLATTENING)])
    return ks


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(RNG_SEED)


def azlcpo(station, et):
    """SPICE's apparent range [m], azimuth (north toward east) and elevation [rad] of the Moon, per epoch."""
    obs_km = st.station_position_itrf93(station) / 1000.0
    out = np.array(
        [
            spiceypy.azlcpo("ELLIPSOID", "MOON", t, "LT+S", False, True, obs_km, "EARTH", "ITRF93")[0][:3]
            for t in np.atleast_1d(et)
        ]
    )
    return out[:, 0] * 1000.0, out[:, 1], out[:, 2]


def unit_from_az_el(az, el):
    return np.stack([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)], axis=-1)


# ---------------------------------------------------------------------------------------------- catalogue


def test_catalogue_holds_the_five_stations_with_their_dishes():
    dishes = {s.key: s.dish_diameter_m for s in st.GROUND_STATIONS}
    # ILRS-FACTS 1.8: Kashi 35 m, Jiamusi 64 m, Neuquen 35 m, Bear Lakes 64 m, Ussuriysk 70 m
    assert dishes == {"kashi": 35.0, "jiamusi": 64.0, "neuquen": 35.0, "bear_lakes": 64.0, "ussuriysk": 70.0}
    for s in st.GROUND_STATIONS:
        assert len(s.source) > 40  # a citation, not a placeholder
        assert st.get_station(s.key.upper()) is s
    with pytest.raises(IlrsError, match="unknown ground station"):
        st.get_station("goldstone")


@pytest.mark.parametrize("station", st.GROUND_STATIONS, ids=lambda s: s.key)
def test_station_lies_on_the_earths_surface(station):
    xyz = st.station_position_itrf93(station)
    # Independent of SPICE: the closed-form geodetic -> Cartesian conversion on WGS84 (NIMA TR8350.2 eq. 4-14).
    a, f = st.WGS84_EQUATORIAL_RADIUS_M, st.WGS84_FLATTENING
    e2 = f * (2 - f)
    lat, lon, h = np.radians(station.lat_deg), np.radians(station.lon_deg), station.height_m
    n = a / np.sqrt(1 - e2 * np.sin(lat) ** 2)
    expected = np.array(
        [(n + h) * np.cos(lat) * np.cos(lon), (n + h) * np.cos(lat) * np.sin(lon), (n * (1 - e2) + h) * np.sin(lat)]
    )
    np.testing.assert_allclose(xyz, expected, atol=1e-3)  # 1 mm: float64 rounding of 6e6 m values
    lon_r, lat_r, alt_km = spiceypy.recgeo(xyz / 1000.0, a / 1000.0, f)
    assert np.degrees(lat_r) == pytest.approx(station.lat_deg, abs=1e-9)
    assert np.degrees(lon_r) == pytest.approx(station.lon_deg, abs=1e-9)
    # on the surface: between the Dead Sea shore (-430 m) and the highest antennas (5 km), not in space
    assert -430.0 <= alt_km * 1000.0 <= 5000.0
    assert a * (1 - f) - 500.0 < np.linalg.norm(xyz) < a + 5000.0


def test_ussuriysk_agrees_with_a_second_publication():
    # vlbistns_itrf93_topo_russia_131122.tf (PhSRM SPICE kernels, copy in github.com/gpikkio/Makekey3) gives
    # USSURIYSK_XYZ = (-3051.412535, +3417.979615, +4427.164562) km; its radius is 6371.3 km, i.e. the point was
    # placed on a sphere from latitude/longitude, so its direction's latitude is the published latitude.
    x, y, z = -3051.412535, 3417.979615, 4427.164562
    ussuriysk = st.get_station("ussuriysk")
    # 1e-5 deg: the kernel's 1 m digits
    assert np.degrees(np.arctan2(z, np.hypot(x, y))) == pytest.approx(ussuriysk.lat_deg, abs=1e-5)
    assert np.degrees(np.arctan2(y, x)) == pytest.approx(ussuriysk.lon_deg, abs=1e-5)


def test_earth_orientation_kernels_load_in_priority_order():
    ks = ensure_loaded()
    loaded = [spiceypy.kdata(i, "PCK")[0] for i in range(spiceypy.ktotal("PCK"))]
    order = [loaded.index(str(p)) for p in ks.earth_pcks]
    assert order == sorted(order)  # historical, predict, then high precision (last loaded wins)
    assert spiceypy.cnmfrm("EARTH")[1] == "ITRF93"


# ---------------------------------------------------------------------------------------------- Moon direction


def test_fast_path_agrees_with_spice_at_random_epochs(rng):
    lo, hi = to_et(["2020-01-01", "2100-01-01"])
    et = np.sort(rng.uniform(lo, hi, 500))
    worst = {"direction": 0.0, "spice_method": 0.0, "range": 0.0}
    for station in st.GROUND_STATIONS:
        ref_range, ref_az, ref_el = azlcpo(station, et)
        az, el, distance = st.moon_az_el(station, et, method="interp")
        cross = np.cross(unit_from_az_el(az, el), unit_from_az_el(ref_az, ref_el))
        worst["direction"] = max(worst["direction"], np.linalg.norm(cross, axis=1).max() / ARCSEC)
        worst["range"] = max(worst["range"], np.abs(distance - ref_range).max())
        az_s, el_s, _ = st.moon_az_el(station, et, method="spice")
        cross = np.cross(unit_from_az_el(az_s, el_s), unit_from_az_el(ref_az, ref_el))
        worst["spice_method"] = max(worst["spice_method"], np.linalg.norm(cross, axis=1).max() / ARCSEC)
    # measured 0.009 arcsec (6 h Hermite nodes); the requirement is 10 arcsec
    assert worst["direction"] < 0.02, worst
    # spkcpo with our geodetic ENU basis vs azlcpo's own: the same numbers to rounding
    assert worst["spice_method"] < 1e-4, worst
    # measured 18.5 m: the Hermite cubic cuts inside the Moon's curved orbit (5e-8 of the range, 2e-7 dB)
    assert worst["range"] < 30.0, worst


@pytest.mark.parametrize("station", st.GROUND_STATIONS, ids=lambda s: s.key)
def test_moon_rises_and_sets_about_daily(station):
    et, _ = utc_grid("2031-03-01", "2031-03-31", 300)
    _, el, _ = st.moon_az_el(station, et)
    up = el > 0
    rises = np.flatnonzero(~up[:-1] & up[1:])
    sets = np.flatnonzero(up[:-1] & ~up[1:])
    # The Moon returns to the meridian every 24.8 h: 29 rises (+-1 at the ends) in 30 days, never two in 24 h.
    # At |lat| <= 56 deg it can be neither circumpolar nor never-rising (90 - 56 > 28.8).
    assert 28 <= rises.size <= 30 and 28 <= sets.size <= 30
    assert np.diff(et[rises]).min() > 24 * 3600
    assert np.diff(et[sets]).min() > 24 * 3600
    # highest culmination: 90 - |lat - dec|, dec within the standstill bound
    assert np.degrees(el.max()) <= 90.0 - abs(station.lat_deg) + MOON_MAX_DECLINATION_DEG
    assert st.moon_visible(station, et, 10.0).tolist() == (el >= np.radians(10.0)).tolist()


def test_outside_the_earth_orientation_kernels_is_an_error():
    for when in ("1955-01-01", "2130-01-01"):
        with pytest.raises(IlrsError, match=r"1962-01-2\d.* \.\. 2126-1\d") as err:
            st.moon_az_el("kashi", to_et(when))
        assert "Earth orientation" in str(err.value)
    with pytest.raises(IlrsError, match="method"):
        st.moon_az_el("kashi", to_et("2030-01-01"), method="fast")


# ---------------------------------------------------------------------------------------------- DTE windows


def brute_force_windows(flags, et, step_s):
    windows, start = [], None
    for i, flag in enumerate(flags):
        if flag and start is None:
            start = et[i]
        if not flag and start is not None:
            windows.append((start, et[i]))
            start = None
    if start is not None:
        windows.append((start, et[-1] + step_s))
    return np.array(windows).reshape(-1, 2)


def test_dte_windows_against_spice_brute_force(rng):
    step = 600.0
    et, _ = utc_grid("2031-06-01", "2031-07-31", step)
    # a site that sees the Earth 4 days in every 7 (the far-side-limb pattern of a south-pole site, simplified)
    earth = ((et - et[0]) % (7 * 86400.0)) < 4 * 86400.0
    dte = st.dte_windows(earth, et, min_elevation_deg=10.0)
    assert dte.stations == tuple(s.key for s in st.GROUND_STATIONS)

    sample = np.sort(rng.choice(et.size, 200, replace=False))
    ref_visible = np.empty((len(st.GROUND_STATIONS), sample.size), dtype=bool)
    for i, station in enumerate(st.GROUND_STATIONS):
        # spkcpo per step, turned into elevation with SPICE's own topocentric frame (azlcpo)
        _, _, el = azlcpo(station, et[sample])
        assert np.abs(el - np.radians(10.0)).min() > 1e-6  # no sample on the threshold: the flags are decisive
        ref_visible[i] = el >= np.radians(10.0)
    np.testing.assert_array_equal(dte.station_visible[:, sample], ref_visible)
    np.testing.assert_array_equal(dte.any_station[sample], ref_visible.any(axis=0))
    np.testing.assert_array_equal(dte.dte[sample], ref_visible.any(axis=0) & earth[sample])
    best = dte.best_station[sample]
    assert ((best >= 0) == ref_visible.any(axis=0)).all()

    expected = brute_force_windows(dte.dte, et, step)
    # UTC steps of 600 s last 600 s +- 1.7 ms in TDB (the periodic TDB - TT term): compare to 1 ms
    np.testing.assert_allclose(dte.windows, expected, rtol=0, atol=1e-3)
    assert dte.total_hours == pytest.approx(dte.dte.sum() * step / 3600.0, abs=1e-3 / 3600.0)
    # five stations spread in longitude see the Moon most of the time; the Earth mask dominates
    assert 0.9 < dte.any_station.mean() <= 1.0
    assert dte.total_hours < earth.sum() * step / 3600.0 + 1e-9


def test_dte_windows_checks_its_inputs():
    et = to_et(["2030-01-01T00:00", "2030-01-01T01:00"])
    with pytest.raises(IlrsError, match="boolean"):
        st.dte_windows(np.array([1, 0]), et)
    with pytest.raises(IlrsError, match="shape"):
        st.dte_windows(np.array([True]), et)
    with pytest.raises(IlrsError, match="increasing"):
        st.dte_windows(np.array([True, True]), et[::-1])
    with pytest.raises(IlrsError, match="unknown ground station"):
        st.dte_windows(np.array([True, True]), et, stations=["kashi", "madrid"])
    single = st.dte_windows(np.array([True, True]), et, stations=["neuquen"])
    assert single.stations == ("neuquen",) and single.elevation_rad.shape == (1, 2)
