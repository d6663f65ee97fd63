"""ilrs.ephem (time scales, Sun/Earth directions) and ilrs.api.topocentric, checked against SPICE itself.

The references are CSPICE calls made here (str2et, et2utc, spkcpo, spkezr) with the same kernels, and a
physical bound (the lunar equator's 1.54 deg tilt to the ecliptic).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import spiceypy

from ilrs import api
from ilrs.constants import AU_M, EARTH_MEAN_RADIUS_M, MOON_ME_FRAME, MOON_RADIUS_M
from ilrs.ephem import directions
from ilrs.ephem.kernels import ensure_loaded
from ilrs.ephem.time import MAX_GRID_STEPS, check_coverage, et_to_utc, parse_step, to_et, utc_grid
from ilrs.errors import IlrsError

ARCSEC = np.pi / (180 * 3600)
RNG_SEED = 20240917

#: Benchmark site near the south pole (Connecting Ridge region) [deg, deg, m].
SITE = (-89.45, 222.69, 10.0)


@pytest.fixture(scope="module", autouse=True)
def kernels():
    return ensure_loaded()


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(RNG_SEED)


def random_epochs_us(rng, n, first="1990-01-01", last="2100-01-01"):
    lo = np.datetime64(first, "us").astype(np.int64)
    hi = np.datetime64(last, "us").astype(np.int64)
    return rng.integers(lo, hi, n).astype("datetime64[us]")


def angle_between(a, b):
    """Angle between row vectors [rad], accurate for tiny angles."""
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.sum(a * b, axis=-1))


def spice_topocentric(body, et, lat_deg, lon_deg, height_m):
    """spkcpo per epoch, the reference named in the requirements [m]."""
    out = []
    for t, lat, lon, h in np.broadcast(et, lat_deg, lon_deg, height_m):
        obs_km = spiceypy.latrec((MOON_RADIUS_M + h) / 1000.0, np.radians(lon), np.radians(lat))
        state, _ = spiceypy.spkcpo(body, t, MOON_ME_FRAME, "OBSERVER", "LT+S", obs_km, "MOON", MOON_ME_FRAME)
        out.append(state[:3])
    return np.array(out) * 1000.0


def spice_az_el_unit(vectors, lat_deg, lon_deg):
    """Unit vectors in the local (east, north, up) frame, the frame built with SPICE routines [-]."""
    out = []
    for v, lat, lon in zip(vectors, *np.broadcast_arrays(lat_deg, lon_deg, np.empty(len(vectors)))[:2], strict=True):
        up = spiceypy.latrec(1.0, np.radians(lon), np.radians(lat))
        east = spiceypy.ucrss([0.0, 0.0, 1.0], up)
        north = spiceypy.ucrss(up, east)
        out.append(np.array([np.dot(v, east), np.dot(v, north), np.dot(v, up)]) / np.linalg.norm(v))
    return np.array(out)


def az_el_unit(azimuth, elevation):
    return np.stack(
        [np.cos(elevation) * np.sin(azimuth), np.cos(elevation) * np.cos(azimuth), np.sin(elevation)], axis=-1
    )


# ---------------------------------------------------------------------------------------------- time


def test_to_et_matches_str2et(rng):
    labels = random_epochs_us(rng, 3000)
    strings = np.datetime_as_string(labels)
    reference = np.array([spiceypy.str2et(s) for s in strings])
    # 1 us: the requirement; float64 ET resolves 0.48 us in 2100, so this is about one rounding step.
    assert np.abs(to_et(strings) - reference).max() < 1e-6
    assert np.abs(to_et(labels) - reference).max() < 1e-6
    datetimes = labels[:200].astype(dt.datetime)
    assert np.abs(to_et(list(datetimes)) - reference[:200]).max() < 1e-6


@pytest.mark.parametrize(
    "text, spice_text",
    [
        ("2030-07-01", "2030-07-01T00:00:00"),
        ("2030-07-01T00:00:00Z", "2030-07-01T00:00:00"),
        ("2030-07-01T03:30:00+03:30", "2030-07-01T00:00:00"),
        ("2030-07-01 12:00:00.25", "2030-07-01T12:00:00.25"),
        ("2016-12-31T23:59:60.5", "2016-12-31T23:59:60.5"),  # inside a leap second
        ("1985-03-01T00:00:00", "1985-03-01T00:00:00"),
    ],
)
def test_to_et_string_forms(text, spice_text):
    # 1 us, as above.
    assert abs(to_et(text)[0] - spiceypy.str2et(spice_text)) < 1e-6


def test_to_et_datetime_forms():
    reference = spiceypy.str2et("2030-07-01T00:00:00")
    aware = dt.datetime(2030, 7, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    values = [dt.datetime(2030, 7, 1), aware, dt.date(2030, 7, 1), np.datetime64("2030-07-01T00:00")]
    np.testing.assert_allclose(to_et(values), reference, rtol=0, atol=1e-6)
    assert to_et(np.datetime64("2030-07-01")).shape == (1,)


@pytest.mark.parametrize("bad", ["2030-13-01", "yesterday", ""])
def test_to_et_rejects_bad_strings(bad):
    with pytest.raises(IlrsError, match="UTC time"):
        to_et([bad])


def test_et_to_utc_matches_et2utc(rng):
    et = rng.uniform(spiceypy.str2et("1990-01-01"), spiceypy.str2et("2100-01-01"), 3000)
    utc = et_to_utc(et)
    assert utc.dtype == np.dtype("datetime64[ms]")
    exact = np.array([spiceypy.et2utc(t, "ISOC", 9) for t in et], dtype="datetime64[ns]")
    # Rounding to the millisecond: at most 0.5 ms, plus 1 us for float64 ET near a rounding tie.
    error_ns = np.abs((utc.astype("datetime64[ns]") - exact).astype(np.int64))
    assert error_ns.max() <= 500_000 + 1_000
    # Round trip through UTC labels: the same 0.5 ms rounding.
    assert np.abs(to_et(utc) - et).max() <= 0.5e-3 + 1e-6


def test_et_to_utc_leap_second_clamps_to_next_day():
    start = spiceypy.str2et("2016-12-31T23:59:59.500")
    utc = et_to_utc(start + np.array([0.0, 0.75, 1.25, 1.75, 2.25]))
    # 23:59:60.25 and 23:59:60.75 have no datetime64 label: both clamp to the next 00:00:00.
    expected = [
        "2016-12-31T23:59:59.500",
        "2017-01-01T00:00:00.000",
        "2017-01-01T00:00:00.000",
        "2017-01-01T00:00:00.250",
        "2017-01-01T00:00:00.750",
    ]
    assert list(utc) == list(np.array(expected, dtype="datetime64[ms]"))


def test_utc_grid_regular_in_utc():
    et, utc = utc_grid("2016-12-31T22:00:00", "2017-01-01T02:00:00", 3600)
    assert utc.dtype == np.dtype("datetime64[s]") and len(utc) == 4
    assert str(utc[-1]) == "2017-01-01T01:00:00"
    # The hour holding the leap second lasts 3601 s of ET, the others 3600 s; 10 us allows for TDB - TT,
    # which changes by up to 1.2 us per hour (1.66 ms amplitude, annual).
    np.testing.assert_allclose(np.diff(et), [3600.0, 3601.0, 3600.0], rtol=0, atol=1e-5)
    np.testing.assert_allclose(et, [spiceypy.str2et(str(u)) for u in utc], rtol=0, atol=1e-6)
    et, utc = utc_grid("2030-01-01", "2030-01-01T00:00:25", 10)  # end excluded, last step shorter
    assert [str(u) for u in utc] == ["2030-01-01T00:00:00", "2030-01-01T00:00:10", "2030-01-01T00:00:20"]


@pytest.mark.parametrize(
    "start, end, step, parameter",
    [
        ("2030-01-02", "2030-01-01", 60, "end"),
        ("2030-01-01", "2030-01-01", 60, "end"),
        ("2030-01-01", "2030-01-02", 0, "step_s"),
        ("2030-01-01", "2030-01-02", -5, "step_s"),
        ("2030-01-01", "2030-01-02", 0.5, "step_s"),
        ("2000-01-01", "2100-01-01", 60, "step_s"),  # 52.6 million steps
    ],
)
def test_utc_grid_errors_name_the_parameter(start, end, step, parameter):
    with pytest.raises(IlrsError) as info:
        utc_grid(start, end, step)
    assert info.value.source == parameter
    if step == 60 and parameter == "step_s":
        assert f"{MAX_GRID_STEPS:,}" in str(info.value)


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("10m", 600.0),
        ("1h", 3600.0),
        ("30s", 30.0),
        ("1d", 86400.0),
        ("600", 600.0),
        (" 1.5h ", 5400.0),
        (120, 120.0),
    ],
)
def test_parse_step(text, seconds):
    assert parse_step(text) == seconds


@pytest.mark.parametrize("text", ["10 min", "1y", "-1h", "0", "h", "abc", "", "1e3", "nan"])
def test_parse_step_rejects(text):
    with pytest.raises(IlrsError, match="time step") as info:
        parse_step(text)
    assert info.value.source == "step"


@pytest.mark.parametrize("when", ["2160-01-01", "1800-06-01"])
def test_outside_coverage_names_valid_range(when):
    with pytest.raises(IlrsError) as info:
        check_coverage(to_et(when))
    message = str(info.value)
    assert when in message and "1849-12-26" in message and "2150-01-20" in message
    assert "choose epochs" in message
    with pytest.raises(IlrsError, match="2150-01-20"):
        api.topocentric("SUN", -89.0, 0.0, when)


# ---------------------------------------------------------------------------------------------- directions


@pytest.fixture(scope="module")
def random_sites(rng):
    """220 random (epoch 2000-2100, lat, lon, height): 200 near the south pole, 20 anywhere."""
    n_polar, n_any = 200, 20
    et = to_et(random_epochs_us(rng, n_polar + n_any, "2000-01-01", "2100-01-01"))
    lat = np.concatenate([rng.uniform(-90.0, -80.0, n_polar), rng.uniform(-90.0, 90.0, n_any)])
    lon = rng.uniform(0.0, 360.0, lat.size)
    height = rng.uniform(0.0, 100.0, lat.size)
    return et, lat, lon, height


@pytest.mark.parametrize("body", ["SUN", "EARTH"])
@pytest.mark.parametrize("method", ["auto", "interp"])
def test_topocentric_az_el_matches_spkcpo(body, method, random_sites):
    et, lat, lon, height = random_sites
    azimuth, elevation, distance = directions.topocentric_az_el(body, et, lat, lon, height, method=method)
    reference = spice_topocentric(body, et, lat, lon, height)
    error = angle_between(az_el_unit(azimuth, elevation), spice_az_el_unit(reference, lat, lon))
    print(f"{body} {method}: max direction error {error.max() / ARCSEC:.2e} arcsec")
    # Requirement 1 arcsec; 'auto' calls spkcpo here (scattered epochs) and agrees to rounding, 'interp' was
    # measured at 0.003 arcsec, so 0.05 arcsec catches a regression long before the requirement is at risk.
    assert error.max() < 0.05 * ARCSEC
    assert ((azimuth >= 0) & (azimuth < 2 * np.pi)).all()
    # Distance: 'interp' carries the Hermite error of the Moon-body vector (measured 19 m with 6 h nodes,
    # 1e-10 of the Sun's distance); spkcpo itself (here via 'auto') to 1 mm of rounding.
    distance_tolerance_m = 25.0 if method == "interp" else 1e-3
    assert np.abs(distance - np.linalg.norm(reference, axis=1)).max() < distance_tolerance_m


@pytest.mark.parametrize("body", ["SUN", "EARTH"])
def test_body_position_me_matches_spkezr(body, random_sites):
    et = random_sites[0]
    reference = np.array([spiceypy.spkezr(body, t, MOON_ME_FRAME, "LT+S", "MOON")[0][:3] for t in et]) * 1e3
    for method in ("spice", "interp"):
        vectors = directions.body_position_me(body, et, method=method)
        # As above: 0.05 arcsec bounds the interpolation; the SPICE path is the same computation.
        assert angle_between(vectors, reference).max() < 0.05 * ARCSEC


@pytest.fixture(scope="module")
def nodal_cycle():
    """Hourly epochs over 18.6 years (one lunar nodal cycle) and the fast-path Sun and Earth vectors."""
    et, _ = utc_grid("2025-01-01", "2043-08-13", 3600)
    vectors = {body: directions.topocentric_vectors(body, et, *SITE, method="interp") for body in ("SUN", "EARTH")}
    return et, vectors


@pytest.mark.parametrize("body", ["SUN", "EARTH"])
def test_fast_path_over_nodal_cycle_matches_spkcpo(body, nodal_cycle, rng):
    et, vectors = nodal_cycle
    assert et.size > 162_000
    pick = np.sort(rng.choice(et.size, 2500, replace=False))
    reference = spice_topocentric(body, et[pick], *SITE)
    error = angle_between(vectors[body][pick], reference)
    print(f"{body} hourly series: max error {error.max() / ARCSEC:.2e} arcsec over {pick.size} epochs")
    # Requirement 1 arcsec; measured 0.003 arcsec with 6 h nodes; 0.05 arcsec flags a regression early.
    assert error.max() < 0.05 * ARCSEC


def test_sun_elevation_at_south_pole_bounded_by_lunar_obliquity(nodal_cycle):
    et = nodal_cycle[0][::3]  # 3-hourly over 18.6 years, reusing the cached nodes
    _, elevation, _ = directions.topocentric_az_el("SUN", et, -90.0, 0.0, 0.0)
    peak = np.degrees(np.abs(elevation)).max()
    print(f"Sun |elevation| at the south pole over 18.6 years peaks at {peak:.4f} deg")
    # The lunar equator is tilted 1.54 deg to the ecliptic (Cassini's laws); the Sun's ecliptic latitude seen
    # from the Moon (5.1 deg orbit over 1 AU, 0.013 deg), physical libration and the mean-Earth pole's offset
    # from the principal axis (79 arcsec) add a few hundredths: measured 1.587 deg.
    assert 1.5 < peak < 1.6


def test_angular_radius():
    sun_deg = np.degrees(directions.angular_radius("SUN", AU_M))
    assert abs(sun_deg - 0.2666) < 0.02 * 0.2666  # 2 %: published mean semi-diameter 959.6 arcsec at 1 AU
    earth = directions.angular_radius("earth", np.array([356_500e3, 406_700e3]))
    np.testing.assert_allclose(earth, np.arcsin(EARTH_MEAN_RADIUS_M / np.array([356_500e3, 406_700e3])))
    with pytest.raises(IlrsError, match="distance_m"):
        directions.angular_radius("SUN", 1.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: directions.topocentric_vectors("MARS", 0.0, -89.0, 0.0),
        lambda: directions.body_position_me("moon", 0.0),
        lambda: directions.angular_radius("JUPITER", 1e12),
        lambda: api.topocentric("Venus", -89.0, 0.0, "2030-01-01"),
    ],
)
def test_unknown_body_names_allowed_values(call):
    with pytest.raises(IlrsError, match="'SUN', 'EARTH'") as info:
        call()
    assert info.value.source == "body"


def test_bad_site_and_method():
    with pytest.raises(IlrsError, match="lat_deg"):
        directions.topocentric_vectors("SUN", 0.0, -91.0, 0.0)
    with pytest.raises(IlrsError, match="method"):
        directions.topocentric_vectors("SUN", 0.0, -89.0, 0.0, method="fast")


# ---------------------------------------------------------------------------------------------- api


def test_api_topocentric_matches_spice(rng):
    times = random_epochs_us(rng, 40, "2000-01-01", "2100-01-01")
    for lat, lon, height in [(-89.45, 222.69, 10.0), (-85.3, 31.2, 80.0), (12.0, 300.0, 0.0)]:
        for body in ("SUN", "EARTH"):
            azimuth_deg, elevation_deg = api.topocentric(body, lat, lon, times, height_m=height)
            reference = spice_topocentric(body, to_et(times), lat, lon, height)
            unit = az_el_unit(np.radians(azimuth_deg), np.radians(elevation_deg))
            # Requirement: within 1 arcsec of spkcpo rotated to the local frame.
            assert angle_between(unit, spice_az_el_unit(reference, lat, lon)).max() < 1.0 * ARCSEC


def test_api_topocentric_shapes():
    azimuth, elevation = api.topocentric("SUN", *SITE[:2], "2030-01-01T00:00:00", height_m=SITE[2])
    assert np.ndim(azimuth) == 0 and np.ndim(elevation) == 0
    azimuth, elevation = api.topocentric("EARTH", *SITE[:2], ["2030-01-01", "2030-01-02"])
    assert azimuth.shape == (2,) and elevation.shape == (2,)
    assert 0.0 <= float(azimuth.min()) and float(azimuth.max()) < 360.0
