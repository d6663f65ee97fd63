"""Earth-Moon halo orbits in the CR3BP: differential correction, family continuation and the Gateway 9:2 NRHO.

Orbits are the symmetric periodic halos of Howell (1984), Celest. Mech. 32, 53-71: they cross the x-z plane
perpendicularly twice per period, so a state ``[x0, 0, z0, 0, vy0, 0]`` on the plane plus the condition
vx = vz = 0 at the next crossing (the half period) defines one. "Southern" follows the JPL catalogue: z0 < 0 at
the crossing where |z| is largest (for the NRHO, apolune lies over the lunar south pole).

Units: kernels work in nondimensional CR3BP units for a given mu; dimensional figures use an EarthMoonSystem,
by default 384,400 km with DE440 GMs (EARTH_MOON); JPL_EARTH_MOON reproduces the JPL catalogue's units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import cr3bp
from ilrs.errors import IlrsError

#: Earth and Moon GM [km^3/s^2] of DE440 (Park et al. 2021, AJ 161:105).
GM_EARTH_KM3_S2 = 398600.435507
GM_MOON_KM3_S2 = 4902.800118


@dataclass(frozen=True)
class EarthMoonSystem:
    """CR3BP unit system: mass ratio mu [-], length unit [km], time unit (1 / mean motion) [s]."""

    name: str
    mu: float
    lunit_km: float
    tunit_s: float


#: Mean Earth-Moon distance 384,400 km with DE440 GMs; time unit sqrt(L^3 / GM) = 375,190 s makes the CR3BP's
#: sidereal month 2 pi T = 27.28 d (true 27.32 d), so periods in days are close to the real Moon's. Default.
EARTH_MOON = EarthMoonSystem(
    name="DE440, 384400 km",
    mu=GM_MOON_KM3_S2 / (GM_EARTH_KM3_S2 + GM_MOON_KM3_S2),
    lunit_km=384400.0,
    tunit_s=float(np.sqrt(384400.0**3 / (GM_EARTH_KM3_S2 + GM_MOON_KM3_S2))),
)
#: The JPL Three-Body Periodic Orbits catalogue's system (ssd-api.jpl.nasa.gov/periodic_orbits.api,
#: sys=earth-moon): its mu, "lunit" and "tunit", for digit-by-digit comparison with catalogue states. Its
#: sidereal month is 27.85 d, so periods in days differ by ~2 % from EARTH_MOON.
JPL_EARTH_MOON = EarthMoonSystem(
    name="JPL periodic-orbit catalogue",
    mu=1.215058560962404e-2,
    lunit_km=389703.2648292776,
    tunit_s=382981.2891290545,
)
#: Mean synodic month [d] (Meeus 1998, *Astronomical Algorithms*, ch. 49).
SYNODIC_MONTH_D = 29.530588861
#: Seconds per day.
DAY_S = 86400.0

#: Rough starting guesses [x0, z0, vy0] near the Lyapunov bifurcation (Earth-Moon, southern); corrected before use.
_SEEDS = {1: (0.8234, -0.0223, 0.1342), 2: (1.1809, -0.0033, -0.1559)}
#: Starting guess [x0, z0, vy0] for the 9:2 NRHO at apolune, rounded from a converged solution; corrected before use.
_NRHO_GUESS = (1.0221, -0.1821, -0.1033)


@dataclass(frozen=True)
class HaloOrbit:
    """One symmetric periodic halo orbit.

    Attributes
    ----------
    l_point : libration point (1 or 2)
    state0 : initial state on the x-z plane, [x, y, z, vx, vy, vz] [nondimensional]
    period : period [nondimensional time]
    jacobi : Jacobi constant [nondimensional]
    period_days : period [d]
    perilune_radius_km, apolune_radius_km : least and greatest distance from the Moon's centre [km]
    state0_dim : initial state in the rotating frame about the barycentre [km, km/s]
    """

    l_point: int
    state0: np.ndarray
    period: float
    jacobi: float
    period_days: float
    perilune_radius_km: float
    apolune_radius_km: float
    state0_dim: np.ndarray

    @property
    def perilune_altitude_km(self) -> float:
        """Perilune height above a sphere of the mean lunar radius [km]."""
        return self.perilune_radius_km - MOON_RADIUS_M / 1000.0


@dataclass(frozen=True)
class HaloFamily:
    """Members of a halo family, in continuation order; arrays have one row per member (units as HaloOrbit)."""

    l_point: int
    states0: np.ndarray
    periods: np.ndarray
    jacobi: np.ndarray
    periods_days: np.ndarray
    perilune_radius_km: np.ndarray
    apolune_radius_km: np.ndarray


def _state(x0: float, z0: float, vy0: float) -> np.ndarray:
    return np.array([x0, 0.0, z0, 0.0, vy0, 0.0])


def correct_halo(
    x0: float,
    z0: float,
    vy0: float,
    *,
    fix: str = "z",
    mu: float = EARTH_MOON.mu,
    tol: float = 1e-11,
    max_iter: int = 25,
) -> tuple[np.ndarray, float]:
    """Differential correction of a symmetric halo (Howell 1984, sec. 3); returns (state0, period).

    Holds ``fix`` ('x' or 'z') at its given value and corrects the other coordinate and vy0 until vx and vz
    vanish at the first x-z crossing to within ``tol``. Raises IlrsError naming ``fix`` on non-convergence.
    """
    if fix not in ("x", "z"):
        raise IlrsError(f"fix must be 'x' or 'z', got {fix!r}", source="fix")
    free = 2 if fix == "x" else 0  # index of the corrected coordinate
    u = _state(x0, z0, vy0)
    for _ in range(max_iter):
        t_half, y = cr3bp.xz_crossing(u, mu, t_max=10.0)
        vx, vz = y[3], y[5]
        if max(abs(vx), abs(vz)) < tol:
            return u, 2.0 * t_half
        phi = y[6:].reshape(6, 6)
        acc = cr3bp.eom(0.0, y[:6], mu)
        # Sensitivities at the crossing, with the crossing time adjusted to keep y = 0 (dt = -dy / vy).
        cols = [free, 4]
        jac = np.array([[phi[r, c] - acc[r] / y[4] * phi[1, c] for c in cols] for r in (3, 5)])
        try:
            delta = np.linalg.solve(jac, [-vx, -vz])
        except np.linalg.LinAlgError as exc:
            raise IlrsError(f"singular correction matrix at {fix}0 fixed", source=fix) from exc
        u[free] += delta[0]
        u[4] += delta[1]
    raise IlrsError(
        f"halo correction with {fix}0 fixed did not converge in {max_iter} iterations "
        f"(start x0={x0}, z0={z0}, vy0={vy0})",
        source=fix,
    )


def halo_with_period(
    x0: float,
    z0: float,
    vy0: float,
    period: float,
    *,
    mu: float = EARTH_MOON.mu,
    tol: float = 1e-12,
    max_iter: int = 30,
) -> tuple[np.ndarray, float]:
    """Halo of a given period [nondimensional] near a guess: secant iteration on x0, correcting with x0 fixed.

    Raises IlrsError naming ``period`` when the secant does not converge.
    """
    xs = [x0, x0 - 1e-3]
    res = []
    u = _state(x0, z0, vy0)
    for x in xs:
        u, p = correct_halo(x, u[2], u[4], fix="x", mu=mu)
        res.append(p - period)
    for _ in range(max_iter):
        if abs(res[-1]) < tol:
            return u, p
        x_new = xs[-1] - res[-1] * (xs[-1] - xs[-2]) / (res[-1] - res[-2])
        u, p = correct_halo(x_new, u[2], u[4], fix="x", mu=mu)
        xs.append(x_new)
        res.append(p - period)
    raise IlrsError(f"no halo of period {period} found near x0={x0} in {max_iter} secant steps", source="period")


def _apsides(state0: np.ndarray, period: float, mu: float) -> tuple[float, float]:
    """Least and greatest distance from the Moon over one period [nondimensional], from r.v = 0 events."""

    def radial(t: float, y: np.ndarray) -> float:
        rv: float = (y[0] - 1.0 + mu) * y[3] + y[1] * y[4] + y[2] * y[5]
        return rv

    sol = cr3bp.propagate(state0, period, mu, events=radial)
    assert sol.y_events is not None  # solve_ivp fills it when given events
    pts = np.vstack([state0[None, :3], sol.y[:3, -1][None, :], sol.y_events[0][:, :3].reshape(-1, 3)])
    r = np.linalg.norm(pts - np.array([1.0 - mu, 0.0, 0.0]), axis=1)
    return float(r.min()), float(r.max())


def _orbit(l_point: int, state0: np.ndarray, period: float, system: EarthMoonSystem) -> HaloOrbit:
    mu, lunit, tunit = system.mu, system.lunit_km, system.tunit_s
    r_min, r_max = _apsides(state0, period, mu)
    scale = np.array([lunit] * 3 + [lunit / tunit] * 3)
    return HaloOrbit(
        l_point=l_point,
        state0=state0.copy(),
        period=period,
        jacobi=float(cr3bp.jacobi_constant(state0, mu)),
        period_days=period * tunit / DAY_S,
        perilune_radius_km=r_min * lunit,
        apolune_radius_km=r_max * lunit,
        state0_dim=state0 * scale,
    )


def halo_family(l_point: int, n: int = 20, *, step: float = 0.005, system: EarthMoonSystem = EARTH_MOON) -> HaloFamily:
    """Southern halo family about L1 or L2 by natural-parameter continuation with a secant predictor.

    Starts near the bifurcation from the planar Lyapunov family and steps ``step`` [nondimensional] along the
    secant in (x0, z0, vy0); each member is corrected holding x0 or z0, whichever the secant moves most
    (the family turns from z-dominated to x-dominated as it approaches the Moon).

    Parameters
    ----------
    l_point : 1 or 2
    n : number of members
    step : continuation step in (x0, z0, vy0) [nondimensional]
    system : unit system (mass ratio and units for the dimensional fields)

    Continuation ends early, returning fewer than ``n`` members, at the first orbit that would pass inside the
    Moon (perilune radius below the mean lunar radius). Raises IlrsError naming ``step`` when a member does not
    converge even after the step is halved 6 times.
    """
    mu = system.mu
    if l_point not in _SEEDS:
        raise IlrsError(f"halo families are available about L1 and L2, not L{l_point}", source="l_point")
    if n < 1:
        raise IlrsError(f"n must be at least 1, got {n}", source="n")
    x0, z0, vy0 = _SEEDS[l_point]
    u, period = correct_halo(x0, z0, vy0, fix="z", mu=mu)
    orbits = [_orbit(l_point, u, period, system)]
    direction = np.array([0.0, -1.0, 0.0])  # first step: grow |z0|
    while len(orbits) < n:
        prev = orbits[-1].state0[[0, 2, 4]]
        fix = "x" if abs(direction[0]) > abs(direction[1]) else "z"
        h = step
        for _ in range(7):
            try:
                u, period = correct_halo(*(prev + h * direction), fix=fix, mu=mu)
                break
            except IlrsError:
                h /= 2.0
        else:
            raise IlrsError(f"L{l_point} halo continuation stalled after {len(orbits)} members", source="step")
        orbit = _orbit(l_point, u, period, system)
        if orbit.perilune_radius_km < MOON_RADIUS_M / 1000.0:
            break
        new = u[[0, 2, 4]]
        direction = (new - prev) / np.linalg.norm(new - prev)
        orbits.append(orbit)
    return HaloFamily(
        l_point=l_point,
        states0=np.array([o.state0 for o in orbits]),
        periods=np.array([o.period for o in orbits]),
        jacobi=np.array([o.jacobi for o in orbits]),
        periods_days=np.array([o.period_days for o in orbits]),
        perilune_radius_km=np.array([o.perilune_radius_km for o in orbits]),
        apolune_radius_km=np.array([o.apolune_radius_km for o in orbits]),
    )


def nrho_9_2(system: EarthMoonSystem = EARTH_MOON) -> HaloOrbit:
    """The L2 southern NRHO whose period is 2/9 of the mean synodic month (about 6.56 d), Gateway's orbit.

    Lee (2019), *Gateway Destination Orbit Model*, NASA NTRS 20190030294; in the CR3BP the 9:2 resonance is
    imposed as the period alone, converted with the system's time unit, and met by a secant on x0 at apolune.
    """
    period = 2.0 / 9.0 * SYNODIC_MONTH_D * DAY_S / system.tunit_s
    state0, period = halo_with_period(*_NRHO_GUESS, period, mu=system.mu)
    return _orbit(2, state0, period, system)


def south_pole_visibility(
    orbit: HaloOrbit, min_elevation_deg: float = 10.0, n: int = 2000, system: EarthMoonSystem = EARTH_MOON
) -> float:
    """Fraction of one period that the orbit is above ``min_elevation_deg`` from the lunar south pole.

    In the rotating frame the Moon's spin axis is taken along +z (the lunar equator's 1.5 deg tilt to the
    ecliptic and 6.7 deg to the orbit plane are neglected), so the pole's local vertical is -z.
    """
    from ilrs.constants import MOON_RADIUS_M
    from ilrs.core.cr3bp import propagate

    t = np.linspace(0.0, orbit.period, n, endpoint=False)
    sol = propagate(orbit.state0, orbit.period, system.mu, t_eval=t)
    r = sol.y[:3].T * system.lunit_km
    moon = np.array([(1.0 - system.mu) * system.lunit_km, 0.0, 0.0])
    pole = moon + np.array([0.0, 0.0, -MOON_RADIUS_M / 1e3])
    d = r - pole
    el = np.degrees(np.arcsin(-d[:, 2] / np.linalg.norm(d, axis=1)))
    return float(np.mean(el >= min_elevation_deg))
