"""Patched-conic Earth-Moon transfers on real ephemerides, a launch-window scan, and an n-body check.

Model (patched conics, e.g. Bate, Mueller & White, "Fundamentals of Astrodynamics", 1971, ch. 7):

* The geocentric leg is a two-body Lambert arc (Izzo 2015, :func:`ilrs.core.lambert.lambert`) about the Earth
  alone, from a point on a circular parking orbit to the Moon's centre at arrival. Positions are geometric
  (no light time) DE440s states in J2000.
* Departure point (simplification): the parking orbit is taken to lie in the Moon's geocentric orbital plane at
  arrival (launch-site latitude and azimuth constraints are ignored), and the departure point sits
  ``transfer_angle_deg`` before the Moon's arrival position in that plane. Exactly 180 deg would make the
  Lambert plane undefined (collinear end points), so the default is 176 deg: over a month of 3-5 day
  transfers its TLI stays within 3.13-3.19 km/s, where 178 deg saves ~5 m/s on 5-day arcs but costs up to
  ~25 m/s on 3-day arcs (whose best departure lies further from the antipode).
* TLI is one impulse: ``|v1 - v_circ|``, with ``v_circ`` the circular parking velocity in the Lambert plane.
* Arrival: the hyperbolic excess speed is the Lambert arrival velocity minus the Moon's geocentric velocity.
  LOI is one impulse at the periapsis of the selenocentric hyperbola into a circular orbit of the same radius:
  ``sqrt(v_inf^2 + 2 mu_M / r_p) - sqrt(mu_M / r_p)``.

Patched conics neglect the Moon's pull on the geocentric leg and the Sun throughout; :func:`refine_nbody`
propagates the TLI state with Earth, Moon and Sun point masses to show by how much the aim is missed, and
:mod:`ilrs.transport.targeting` corrects it into a flight that reaches the intended lunar orbit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import spiceypy

from ilrs.constants import MOON_RADIUS_M, NAIF_EARTH, NAIF_MOON
from ilrs.core.lambert import lambert
from ilrs.ephem.kernels import SPICE_LOCK, ensure_loaded
from ilrs.errors import IlrsError
from ilrs.transport.orbits import MOON_GM_M3_S2

#: Earth GM [m^3/s^2]: 398600.4418 km^3/s^2, IERS Conventions (2010), Table 1.1 (TT-compatible; EGM2008/WGS 84).
EARTH_GM_M3_S2 = 3.986004418e14
#: Sun GM [m^3/s^2]: DE440 value 132712440041.279419 km^3/s^2 (Park et al. 2021, AJ 161:105, Table 8).
SUN_GM_M3_S2 = 1.32712440041279419e20
#: Earth equatorial radius for the parking orbit [m] (IERS Conventions 2010, Table 1.1).
EARTH_RADIUS_M = 6_378_136.6
#: Departure point's angle before the Moon's arrival position; see the module docstring for why not 180 deg.
DEFAULT_TRANSFER_ANGLE_DEG = 176.0

_DAY_S = 86_400.0


@dataclass(frozen=True)
class Transfer:
    """One patched-conic Earth-Moon transfer (J2000, Earth-centred, geometric)."""

    depart_et: float  #: TLI epoch [s past J2000 TDB]
    arrive_et: float  #: arrival at the Moon's centre [s past J2000 TDB]
    tof_s: float  #: time of flight [s]
    tli_dv_m_s: float  #: trans-lunar injection impulse from the circular parking orbit [m/s]
    loi_dv_m_s: float  #: lunar orbit insertion impulse into the circular low lunar orbit [m/s]
    v_inf_arrival_m_s: float  #: hyperbolic excess speed relative to the Moon [m/s]
    c3_km2_s2: float  #: geocentric characteristic energy after TLI [km^2/s^2]
    r1: np.ndarray  #: geocentric position at TLI, J2000 [m]
    v1: np.ndarray  #: geocentric velocity just after TLI, J2000 [m/s]

    @property
    def total_dv_m_s(self) -> float:
        """TLI + LOI [m/s]."""
        return self.tli_dv_m_s + self.loi_dv_m_s


def _spice_state_m(target: int, et: float, observer: int = NAIF_EARTH) -> np.ndarray:
    """Geometric J2000 state of ``target`` relative to ``observer`` [m, m/s]."""
    with SPICE_LOCK:
        state_km, _ = spiceypy.spkez(target, float(et), "J2000", "NONE", observer)
    return np.asarray(state_km, dtype=float) * 1e3


def moon_states_m(ets: npt.ArrayLike) -> np.ndarray:
    """Geocentric geometric J2000 states of the Moon at ``ets``, shape (n, 6) [m, m/s]."""
    ensure_loaded()
    ets = np.atleast_1d(np.asarray(ets, dtype=float))
    return np.array([_spice_state_m(NAIF_MOON, et) for et in ets]).reshape(-1, 6)


def loi_dv(v_inf_m_s: npt.ArrayLike, llo_radius_m: float, mu_m3_s2: float = MOON_GM_M3_S2) -> np.ndarray:
    """Impulse at hyperbolic periapsis ``llo_radius_m`` into the circular orbit of that radius [m/s]."""
    v_inf = np.asarray(v_inf_m_s, dtype=float)
    dv: np.ndarray = np.sqrt(v_inf**2 + 2.0 * mu_m3_s2 / llo_radius_m) - math.sqrt(mu_m3_s2 / llo_radius_m)
    return dv


def _departure_position(moon_state: np.ndarray, parking_radius_m: float, angle_rad: float) -> np.ndarray:
    """Point on the parking circle ``angle_rad`` before the Moon's position, in the Moon's orbital plane."""
    r_m, v_m = moon_state[:3], moon_state[3:]
    u = r_m / np.linalg.norm(r_m)
    h = np.cross(r_m, v_m)
    w = np.cross(h / np.linalg.norm(h), u)  # in-plane, 90 deg ahead of the Moon
    r: np.ndarray = parking_radius_m * (math.cos(angle_rad) * u - math.sin(angle_rad) * w)
    return r


def _transfer_from_moon_state(
    depart_et: float,
    tof_s: float,
    moon_state: np.ndarray,
    parking_alt_km: float,
    llo_alt_km: float,
    transfer_angle_deg: float,
) -> Transfer:
    rp_earth = EARTH_RADIUS_M + parking_alt_km * 1e3
    r1 = _departure_position(moon_state, rp_earth, math.radians(transfer_angle_deg))
    r2 = moon_state[:3]
    prograde = bool(np.cross(r2, moon_state[3:])[2] >= 0.0)  # same sense of motion as the Moon
    v1, v2 = lambert(r1, r2, tof_s, EARTH_GM_M3_S2, prograde=prograde)
    h = np.cross(r1, v1)
    v_circ = math.sqrt(EARTH_GM_M3_S2 / rp_earth) * np.cross(h, r1) / np.linalg.norm(np.cross(h, r1))
    v_inf = float(np.linalg.norm(v2 - moon_state[3:]))
    c3 = float(v1 @ v1 - 2.0 * EARTH_GM_M3_S2 / rp_earth) * 1e-6
    return Transfer(
        depart_et=float(depart_et),
        arrive_et=float(depart_et + tof_s),
        tof_s=float(tof_s),
        tli_dv_m_s=float(np.linalg.norm(v1 - v_circ)),
        loi_dv_m_s=float(loi_dv(v_inf, MOON_RADIUS_M + llo_alt_km * 1e3)),
        v_inf_arrival_m_s=v_inf,
        c3_km2_s2=c3,
        r1=r1,
        v1=v1,
    )


def _check(tof_s: float, parking_alt_km: float, llo_alt_km: float, transfer_angle_deg: float) -> None:
    if not tof_s > 0:
        raise IlrsError(f"time of flight must be positive, got {tof_s} s", hint="Earth-Moon transfers take 3-6 days")
    if parking_alt_km < 0 or llo_alt_km < 0:
        raise IlrsError("orbit altitudes must be >= 0 km", hint=f"got parking {parking_alt_km} km, LLO {llo_alt_km} km")
    if not 0.0 < transfer_angle_deg < 360.0 or abs(transfer_angle_deg - 180.0) < 0.01:
        raise IlrsError(
            f"transfer angle must lie in (0, 360) deg and not at 180 deg, got {transfer_angle_deg}",
            hint="a 180 deg transfer leaves the Lambert plane undefined; use e.g. 176",
        )


def direct_transfer(
    depart_et: float,
    tof_s: float,
    parking_alt_km: float = 200.0,
    llo_alt_km: float = 100.0,
    *,
    transfer_angle_deg: float = DEFAULT_TRANSFER_ANGLE_DEG,
) -> Transfer:
    """Patched-conic transfer from a circular Earth parking orbit to a circular low lunar orbit.

    Parameters
    ----------
    depart_et : float
        TLI epoch [s past J2000 TDB].
    tof_s : float
        Time of flight to the Moon's centre [s].
    parking_alt_km : float
        Altitude of the circular parking orbit above the equatorial radius [km].
    llo_alt_km : float
        Altitude of the circular low lunar orbit above the mean radius [km].
    transfer_angle_deg : float
        Geocentric angle from the departure point to the Moon's arrival position [deg].

    Returns
    -------
    Transfer
    """
    _check(tof_s, parking_alt_km, llo_alt_km, transfer_angle_deg)
    moon = moon_states_m(depart_et + tof_s)[0]
    return _transfer_from_moon_state(depart_et, tof_s, moon, parking_alt_km, llo_alt_km, transfer_angle_deg)


def launch_windows(
    start_et: float,
    days: float = 30,
    step_s: float = 3600,
    tof_days: tuple[float, float] = (3.0, 6.0),
    n_tof: int = 13,
    *,
    parking_alt_km: float = 200.0,
    llo_alt_km: float = 100.0,
    transfer_angle_deg: float = DEFAULT_TRANSFER_ANGLE_DEG,
) -> dict[str, Any]:
    """Porkchop grid of total delta-v (TLI + LOI) over departure epoch x time of flight.

    The Moon's states are fetched once per distinct arrival epoch (on the hourly grid most arrivals repeat);
    Lambert is solved per cell.

    Returns
    -------
    dict
        ``depart_et`` (n_dep,) [s], ``tof_s`` (n_tof,) [s], ``total_dv_m_s``, ``tli_dv_m_s``, ``loi_dv_m_s``
        (n_dep, n_tof) [m/s], and ``best``: the :class:`Transfer` with the least total delta-v.
    """
    n_dep = int(round(days * _DAY_S / step_s))
    if n_dep < 1 or n_tof < 1:
        raise IlrsError(
            "the window scan needs at least one departure and one time of flight",
            hint=f"got days={days}, step_s={step_s}, n_tof={n_tof}",
        )
    depart = start_et + step_s * np.arange(n_dep)
    tofs = np.linspace(tof_days[0], tof_days[1], n_tof) * _DAY_S
    _check(float(tofs.min()), parking_alt_km, llo_alt_km, transfer_angle_deg)
    arrive = depart[:, None] + tofs[None, :]
    uniq, inverse = np.unique(arrive, return_inverse=True)
    moon = moon_states_m(uniq)[inverse.reshape(arrive.shape)]

    tli = np.empty(arrive.shape)
    loi = np.empty(arrive.shape)
    best: Transfer | None = None
    for i in range(n_dep):
        for j in range(n_tof):
            t = _transfer_from_moon_state(
                depart[i], tofs[j], moon[i, j], parking_alt_km, llo_alt_km, transfer_angle_deg
            )
            tli[i, j], loi[i, j] = t.tli_dv_m_s, t.loi_dv_m_s
            if best is None or t.total_dv_m_s < best.total_dv_m_s:
                best = t
    return {
        "depart_et": depart,
        "tof_s": tofs,
        "tli_dv_m_s": tli,
        "loi_dv_m_s": loi,
        "total_dv_m_s": tli + loi,
        "best": best,
    }


def refine_nbody(transfer: Transfer, days: float | None = None) -> dict[str, Any]:
    """Fly the patched-conic TLI state with Earth, Moon and Sun point masses and find the closest approach to the
    Moon: how far the two-body design misses.

    Geocentric equations of motion with the third bodies' direct and indirect terms (Montenbruck & Gill,
    "Satellite Orbits", 2000, eq. 3.37), integrated by :func:`ilrs.transport.forces.propagate` (DOP853 in numba,
    rtol 1e-12) to the first periapsis with respect to the Moon; the patched-conic aim is the Moon's centre, so
    the closest approach is also the miss distance. The point masses pass through each other, so a flight that
    would hit the Moon still has a (sub-surface) closest approach. For a flight that reaches a chosen lunar orbit
    use :func:`ilrs.transport.targeting.targeted_transfer`.

    Parameters
    ----------
    transfer : Transfer
    days : float, optional
        Propagation span [day]; default the time of flight plus one day.

    Returns
    -------
    dict
        ``closest_approach_m`` [m] (from the Moon's centre), ``closest_approach_et`` [s past J2000 TDB],
        ``arrival_offset_s`` (closest-approach epoch minus the patched-conic arrival) [s],
        ``impacts`` (closest approach below the Moon's mean radius), ``sol`` (``t`` [s] and ``y`` (6, n)
        [m, m/s] of the recorded states).
    """
    from types import SimpleNamespace

    from ilrs.transport import forces

    span = (transfer.tof_s / _DAY_S + 1.0 if days is None else float(days)) * _DAY_S
    if not span > 0:
        raise IlrsError(f"propagation span must be positive, got {span / _DAY_S} d", source="days")
    t0, t1 = transfer.depart_et, transfer.depart_et + span
    model = forces.force_model(t0, t1, earth_j2=False, moon_harmonics=False, source="depart")
    f = forces.propagate(
        model, t0, np.concatenate((transfer.r1, transfer.v1)), t1, periapsis_max_m=6.0e7, stop_at_periapsis=True
    )
    if f.periapsis_et.size:
        t_ca = float(f.periapsis_et[0])
        d_ca = float(np.linalg.norm(f.periapsis_state[0, :3] - model.moon_state(t_ca)[:3]))
    else:  # no periapsis near the Moon within the span: the closest recorded state
        d = np.array([np.linalg.norm(y[:3] - model.moon_state(t)[:3]) for t, y in zip(f.et, f.state, strict=True)])
        k = int(np.argmin(d))
        t_ca, d_ca = float(f.et[k]), float(d[k])
    return {
        "closest_approach_m": d_ca,
        "closest_approach_et": t_ca,
        "arrival_offset_s": t_ca - transfer.arrive_et,
        "impacts": d_ca < MOON_RADIUS_M,
        "sol": SimpleNamespace(t=f.et, y=f.state.T),
    }
