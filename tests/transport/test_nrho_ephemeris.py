"""The 9:2 NRHO in the ephemeris model: multiple shooting converges to a continuous flight, an independent
propagator reproduces it, the drift stays near the CR3BP orbit, and the CLI covers the L2 halo family."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import spiceypy
from scipy.integrate import solve_ivp
from typer.testing import CliRunner

from ilrs.ephem.kernels import SPICE_LOCK
from ilrs.ephem.time import to_et
from ilrs.iotools.oem import read_oem, tdb_iso_to_et
from ilrs.transport import forces
from ilrs.transport.nrho_ephemeris import nrho_ephemeris, nrho_report

EPOCH = float(to_et("2030-06-01T00:00")[0])


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("nrho")
    return nrho_report(EPOCH, 10, oem_path=d / "n.oem", spk_path=d / "n.bsp"), d / "n.oem"


def test_multiple_shooting_converges_near_the_cr3bp_orbit(report):
    """Ten revolutions continuous to < 1 m and < 1 mm/s at every patch point, the patch points moved by less
    than 3,000 km from the CR3BP map (the Moon's eccentric orbit and the Sun reshape it by ~2 %), and every
    revolution's perilune within 300 km and apolune within 1,500 km of the CR3BP's 3,249 / 71,222 km (Lee 2019,
    NASA NTRS 20190030294, gives the 9:2 NRHO's perilune radius as roughly 3,200-3,500 km over its
    ephemeris-model revolutions)."""
    out, _ = report
    assert out["max_discontinuity_m"] < 1.0 and out["max_discontinuity_m_s"] < 1e-3
    assert out["initial_patch_shift_km_max"] < 3000.0
    peri = np.array(out["perilune_radius_km"])
    apo = np.array(out["apolune_radius_km"])
    assert peri.size == 10
    assert np.all(np.abs(peri - out["cr3bp_perilune_radius_km"]) < 300.0)
    assert np.all(np.abs(apo - out["cr3bp_apolune_radius_km"]) < 1500.0)
    assert np.all((peri > 3100.0) & (peri < 3600.0))


def test_station_keeping_estimate_is_of_the_published_order(report):
    """With 1 cm/s errors per axis at each apolune, corrected a revolution later, the cost is a few m/s per
    year: above zero, and within a factor of ~10 of the published NRHO orbit-maintenance costs (order 1 m/s per
    year with optimised x-axis-crossing strategies: Guzzetti et al. 2017, AAS 17-395; Davis et al. 2017,
    AAS 17-269); our scheme simply re-targets the reference, so it pays more."""
    out, _ = report
    assert 0.05 < out["station_keeping_m_s_per_year"] < 10.0


def test_independent_propagation_follows_the_exported_nrho(report):
    """The OEM's first state flown by scipy's DOP853 on freshly written Moon-centred equations (Earth and Sun
    from SPICE at every call, lunar J2 and C22 as the gradient of their potential in MOON_PA from pxform) stays
    within 1 km of our flight at the first apolune and 50 km at every later one over 10 revolutions: the NRHO
    stretches any difference by ~x2 per revolution at perilune, so the two integrators' and the tables'
    metre-level differences at the first perilune grow to kilometres."""
    _, oem = report
    data = read_oem(oem)
    y0 = np.concatenate((data["positions_km"][0], data["velocities_km_s"][0])) * 1e3
    j2, c22, re, mu_m = forces.MOON_J2, forces.MOON_C22, forces.MOON_GRAVITY_RADIUS_M, forces.MOON_GM_M3_S2

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        r = y[:3]
        a = -mu_m * r / np.linalg.norm(r) ** 3
        m = np.array(spiceypy.pxform("J2000", forces.MOON_PA_FRAME, t))
        x, yy, z = m @ r
        rr = math.sqrt(x * x + yy * yy + z * z)
        r5, r7 = rr**5, rr**7
        q, w = 3.0 * z * z - rr * rr, x * x - yy * yy
        df = np.array([-x / r5 - 2.5 * q * x / r7, -yy / r5 - 2.5 * q * yy / r7, 2.0 * z / r5 - 2.5 * q * z / r7])
        dg = np.array([2.0 * x / r5 - 5.0 * w * x / r7, -2.0 * yy / r5 - 5.0 * w * yy / r7, -5.0 * w * z / r7])
        a += m.T @ (mu_m * re**2 * (-j2 * df + 3.0 * c22 * dg))
        for body, mu in (("EARTH", forces.EARTH_GM_M3_S2), ("SUN", forces.SUN_GM_M3_S2)):
            b = np.array(spiceypy.spkpos(body, t, "J2000", "NONE", "MOON")[0]) * 1e3
            d = b - r
            a += mu * (d / np.linalg.norm(d) ** 3 - b / np.linalg.norm(b) ** 3)
        return np.concatenate((y[3:], a))

    ets = tdb_iso_to_et(data["epochs"])
    period = 2.0 / 9.0 * 29.530588861 * 86400.0
    with SPICE_LOCK:
        sol = solve_ivp(
            rhs, (EPOCH, EPOCH + 10 * period * 0.999), y0, method="DOP853", rtol=1e-11, atol=1e-4, dense_output=True
        )
    errs = []
    for k in range(1, 10):
        t = EPOCH + k * 6.5624 * 86400.0
        i = int(np.argmin(np.abs(ets - t)))
        errs.append(float(np.linalg.norm(data["positions_km"][i] * 1e3 - sol.sol(ets[i])[:3])))
    assert errs[0] < 1e3 and max(errs) < 50e3, errs


def test_cli_halo_family_reaches_the_nrhos_and_bad_input():
    from ilrs.cli.main import app

    runner = CliRunner()
    r = runner.invoke(app, ["orbit", "halo", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    peri = [row["perilune_radius_km"] for row in rows]
    assert peri[0] > 40_000.0  # near the bifurcation from the planar Lyapunov orbits
    assert min(peri) < 3_249.0  # past the 9:2 NRHO, down to where the family meets the Moon
    periods = [row["period_days"] for row in rows]
    assert min(periods) < 6.5624 < max(periods)
    r = runner.invoke(app, ["orbit", "nrho", "--revs", "5", "--json"])
    assert r.exit_code == 3 and "--revs" in r.output and "Traceback" not in r.output
    with pytest.raises(Exception, match="--revs"):
        nrho_ephemeris(EPOCH, 100)
