"""The relay's two-body orbit against SPICE's own two-body propagator (``conics``), Kepler's third law, and the
visibility geometry against per-step SPICE frame transformations."""

from __future__ import annotations

import numpy as np
import pytest
import spiceypy

from ilrs.constants import MOON_ME_FRAME, MOON_RADIUS_M
from ilrs.ephem.kernels import ensure_loaded
from ilrs.ephem.time import to_et
from ilrs.errors import IlrsError
from ilrs.transport.orbits import MOON_GM_M3_S2, KeplerOrbit, relay_orbit, solve_kepler
from ilrs.transport.visibility import orbiter_az_el, orbiter_position_me, orbiter_visible

EPOCH = float(to_et("2026-01-01T00:00:00")[0])


def test_period_is_keplers_and_queqiao2_is_a_day():
    """Kepler's third law; the 200 x 16,000 km orbit's period is the reported ~24 h (within 30 min: the
    altitudes are rounded to 100 km in the reports)."""
    orb = relay_orbit(EPOCH)
    assert orb.period_s == pytest.approx(2 * np.pi * np.sqrt(orb.a_m**3 / MOON_GM_M3_S2), rel=1e-15)
    assert abs(orb.period_s / 3600 - 24.0) < 0.5
    r0, _ = orb.state_epoch_frame(EPOCH)
    r1, _ = orb.state_epoch_frame(EPOCH + orb.period_s)
    assert np.linalg.norm(r1 - r0) < 1e-3  # one period later: back to the start, to a millimetre


def test_propagation_matches_spice_conics():
    """SPICE ``conics`` propagates the same elements independently; agreement to 1 m over 30 days."""
    orb = relay_orbit(EPOCH, raan_deg=37.0, mean_anomaly_deg=123.0)
    rp = orb.a_m * (1 - orb.e)
    elts = [
        rp / 1e3,
        orb.e,
        orb.inc_rad,
        orb.raan_rad,
        orb.argp_rad,
        orb.mean_anomaly_rad,
        orb.epoch_et,
        orb.mu_m3_s2 / 1e9,
    ]
    et = EPOCH + np.random.default_rng(1).uniform(0, 30 * 86400, 200)
    ours, vel = orb.state_epoch_frame(et)
    ref = np.array([spiceypy.conics(elts, t) for t in et]) * 1e3
    assert np.abs(ours - ref[:, :3]).max() < 1.0
    assert np.abs(vel - ref[:, 3:]).max() < 1e-3


def test_kepler_solver_at_high_eccentricity():
    m = np.linspace(-np.pi, 3 * np.pi, 1001)
    for e in (0.0, 0.5, 0.9, 0.99):
        ea = solve_kepler(m, e)
        resid = np.angle(np.exp(1j * (ea - e * np.sin(ea) - m)))  # Kepler's equation modulo 2 pi
        assert np.abs(resid).max() < 1e-12


def test_visibility_geometry_matches_per_step_spice():
    """Elevation and azimuth from the vectorised path vs per-step SPICE (``pxform`` J2000 -> MOON_ME, the epoch
    frame built with ``pxform`` too, ``conics`` for the orbit): 1e-7 rad (the rotation interpolation)."""
    ensure_loaded()
    orb = relay_orbit(EPOCH, raan_deg=200.0)
    rp = orb.a_m * (1 - orb.e)
    elts = [
        rp / 1e3,
        orb.e,
        orb.inc_rad,
        orb.raan_rad,
        orb.argp_rad,
        orb.mean_anomaly_rad,
        orb.epoch_et,
        orb.mu_m3_s2 / 1e9,
    ]
    et = EPOCH + np.sort(np.random.default_rng(2).uniform(0, 10 * 86400, 150))
    r0 = spiceypy.pxform("J2000", MOON_ME_FRAME, EPOCH)
    ref = []
    for t in et:
        r_epoch = np.array(spiceypy.conics(elts, t)[:3]) * 1e3
        ref.append(np.array(spiceypy.pxform("J2000", MOON_ME_FRAME, t)) @ (r0.T @ r_epoch))
    ref = np.array(ref)
    ours = orbiter_position_me(orb, et)
    assert np.abs(ours - ref).max() / np.linalg.norm(ref, axis=1).min() < 1e-7
    lat, lon = -89.45, 222.69
    az, el, rng = orbiter_az_el(orb, et, lat, lon, 10.0)
    site = np.array(spiceypy.latrec((MOON_RADIUS_M + 10.0), np.radians(lon), np.radians(lat)))
    d = ref - site
    up = site / np.linalg.norm(site)
    el_ref = np.arcsin(d @ up / np.linalg.norm(d, axis=1))
    assert np.abs(el - el_ref).max() < 1e-7
    assert np.abs(rng - np.linalg.norm(d, axis=1)).max() < 1.0


def test_relay_serves_the_south_pole_most_of_the_day():
    """With the apolune over the south (periapsis argument 90 deg), a 24 h orbit keeps the relay above a flat
    south-pole horizon for most of each day: the reason for Queqiao-2's orbit."""
    orb = relay_orbit(EPOCH)
    et = EPOCH + np.arange(0, 10 * 86400, 600.0)
    flat = np.zeros(3600)
    vis = orbiter_visible(orb, et, -89.9, 0.0, flat, min_elevation_deg=5.0)
    assert 0.6 < vis.mean() < 0.95
    north = orbiter_visible(orb, et, 89.9, 0.0, flat, min_elevation_deg=5.0)
    assert north.mean() < vis.mean()


def test_orbit_inside_the_moon_is_refused():
    with pytest.raises(IlrsError, match="inside the Moon"):
        KeplerOrbit.from_altitudes(-50.0, 100.0, 90.0, 0.0, 0.0, 0.0, EPOCH, name="bad")
