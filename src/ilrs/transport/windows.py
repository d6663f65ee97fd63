"""Lunar launch windows from a real launch site: the parking-orbit plane the site can reach, the coast to the TLI
point, and the transfers that result, screened by patched conics and then targeted in the ephemeris model.

Geometry of one launch at epoch ``t_L`` with time of flight ``T`` (Bate, Mueller & White, "Fundamentals of
Astrodynamics", 1971, section 7.3, for the patched-conic lunar transfer; Vallado 2013, section 6.4.1, for the
launch azimuth):

* The ascent puts the vehicle into a circular parking orbit whose plane contains the Earth's centre, the site
  ``s(t_L)`` (J2000, from ITRF93) and the Moon's position at arrival ``m(t_TLI + T)``: a coplanar TLI then
  needs no plane change. The plane's normal is ``h = +-(s x m) / |s x m|``; the sense (eastward or westward
  motion) follows from the launch azimuth, which must lie in the site's span
  (:class:`ilrs.transport.launch_sites.LaunchSite`). Its inclination is at least the site's geocentric latitude.
* The TLI point sits ``transfer_angle_deg`` before the Moon's arrival direction in that plane (as in
  :mod:`ilrs.transport.transfer`); the insertion point lies ``ascent_downrange_deg`` past the site, reached
  ``ascent_s`` after lift-off; the coast is the angle from insertion to the TLI point at the parking orbit's
  mean motion. ``t_TLI = t_L + ascent_s + coast``, and since the arrival epoch depends on ``t_TLI`` the plane and
  the coast are iterated (three passes move the Moon by < 1e-3 deg).
* The parking plane is held inertially fixed over the coast: Earth J2 turns its node by -7 deg/day at 28 deg
  inclination (Vallado 2013, eq. 9-41), 0.4 deg over a full 90-minute revolution.

Screening: each (launch epoch, time of flight) cell gets its azimuth and, if the site allows it, the Lambert
arc from the TLI point to the Moon's centre: TLI and LOI by patched conics. Each launch epoch's cheapest
feasible cell is then targeted in the ephemeris model (DE440s Earth, Moon, Sun; Earth J2; lunar J2/C22; the
targeter of :mod:`ilrs.transport.targeting`) from the same TLI point to a lunar periapsis of given altitude and
inclination, the flight time left free; its TLI is counted from the circular velocity *in the parking plane*,
so any plane change the targeting needs is paid for.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import spiceypy

from ilrs.constants import MOON_ME_FRAME, MOON_RADIUS_M
from ilrs.core import nbody
from ilrs.core.arrays import BoolArray, FloatArray
from ilrs.core.lambert import lambert
from ilrs.ephem.kernels import SPICE_LOCK, ensure_loaded
from ilrs.ephem.time import to_et, utc_text
from ilrs.errors import IlrsError
from ilrs.transport import forces, targeting
from ilrs.transport.forces import EARTH_GM_M3_S2, MOON_GM_M3_S2
from ilrs.transport.launch_sites import LaunchSite, get_site, site_geometry_j2000
from ilrs.transport.transfer import DEFAULT_TRANSFER_ANGLE_DEG, EARTH_RADIUS_M, loi_dv

_DAY_S = 86_400.0
#: Lift-off to parking-orbit insertion [s] and the downrange angle flown meanwhile [deg]: about ten minutes
#: and ~2,300 km for a two-stage ascent to 200 km (CZ-5's core stage and boosters burn ~480 s, its second
#: stage ~ 6 min more; the averaged ~4 km/s over 600 s covers 2,400 km, 21 deg).
DEFAULT_ASCENT_S = 600.0
DEFAULT_ASCENT_DOWNRANGE_DEG = 20.0
#: Plane and coast iterations (see the module docstring).
_PLANE_ITERATIONS = 3


@dataclass(frozen=True)
class Departure:
    """The cheapest feasible transfer of one launch epoch, screened and (if it converged) targeted."""

    launch_et: float  #: lift-off [s past J2000 TDB]
    tli_et: float  #: TLI epoch [s]
    coast_s: float  #: coast in the parking orbit from insertion to TLI [s]
    azimuth_deg: float  #: inertial launch azimuth [deg]
    inclination_deg: float  #: parking-orbit inclination to the Earth's equator of date [deg]
    plane_normal: FloatArray  #: unit normal of the parking plane, J2000 (3,)
    r1: FloatArray  #: TLI point, geocentric J2000 [m] (3,)
    conic_tof_s: float  #: patched-conic time of flight (TLI to the Moon's centre) [s]
    conic_tli_dv_m_s: float  #: patched-conic TLI [m/s]
    conic_loi_dv_m_s: float  #: patched-conic LOI into the circular orbit of the periapsis radius [m/s]
    tli_dv_m_s: float = math.nan  #: targeted TLI from the circular parking velocity in the plane [m/s]
    loi_dv_m_s: float = math.nan  #: targeted LOI at the lunar periapsis [m/s]
    tof_s: float = math.nan  #: targeted TLI to lunar periapsis [s]
    periapsis_radius_m: float = math.nan  #: achieved lunar periapsis radius [m]
    arrival_inclination_deg: float = math.nan  #: achieved inclination to the lunar equator [deg]
    plane_change_deg: float = math.nan  #: angle between the targeted transfer plane and the parking plane [deg]
    v1: FloatArray = field(default_factory=lambda: np.full(3, math.nan))  #: targeted velocity after TLI [m/s]

    @property
    def targeted(self) -> bool:
        return math.isfinite(self.tli_dv_m_s)


@dataclass(frozen=True)
class WindowScan:
    """A launch-window scan from one site: the screening grid and the feasible departures."""

    site: LaunchSite
    launch_et: FloatArray  #: lift-off epochs [s past J2000 TDB] (n,)
    tof_s: FloatArray  #: patched-conic times of flight screened [s] (m,)
    feasible: BoolArray  #: the site allows the azimuth (n, m)
    azimuth_deg: FloatArray  #: inertial launch azimuth of the feasible sense, else the eastward one [deg] (n, m)
    inclination_deg: FloatArray  #: parking-orbit inclination [deg] (n, m)
    coast_s: FloatArray  #: coast from insertion to TLI [s] (n, m)
    tli_dv_m_s: FloatArray  #: patched-conic TLI, NaN where infeasible [m/s] (n, m)
    loi_dv_m_s: FloatArray  #: patched-conic LOI, NaN where infeasible [m/s] (n, m)
    departures: list[Departure]  #: one per launch epoch with a feasible cell, in time order
    windows: list[tuple[float, float]]  #: daily windows: first and last feasible lift-off of each run [s]
    parking_alt_km: float
    periapsis_alt_km: float
    arrival_inclination_deg: float
    screen_s: float  #: wall time of the patched-conic screening [s]
    target_s: float  #: wall time of the ephemeris-model targeting [s]

    @property
    def total_dv_m_s(self) -> FloatArray:
        """Patched-conic TLI + LOI, NaN where infeasible [m/s] (n, m)."""
        out: FloatArray = self.tli_dv_m_s + self.loi_dv_m_s
        return out


def _cross(a: FloatArray, b: FloatArray) -> FloatArray:
    """Cross product over the last axis (np.cross's axis handling costs more than the product on 3-vectors)."""
    out: FloatArray = np.stack(
        (
            a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
            a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
            a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0],
        ),
        axis=-1,
    )
    return out


def _unit(v: FloatArray) -> FloatArray:
    out: FloatArray = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return out


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    out: FloatArray = np.sum(a * b, axis=-1)
    return out


def _hermite_rows(model: forces.ForceModel, p: FloatArray, d: FloatArray, ets: FloatArray) -> FloatArray:
    """Cubic Hermite values of the model's table ``p`` (derivatives ``d``) at ``ets`` (any shape) [s]."""
    t0, h = float(model.tab[0]), float(model.tab[1])
    x = (np.asarray(ets, dtype=np.float64) - t0) / h
    i = np.clip(np.floor(x).astype(np.int64), 0, p.shape[0] - 2)
    s = (x - i)[..., None]
    s2, s3 = s * s, s * s * s
    out: FloatArray = (
        (2 * s3 - 3 * s2 + 1) * p[i]
        + (s3 - 2 * s2 + s) * h * d[i]
        + (-2 * s3 + 3 * s2) * p[i + 1]
        + (s3 - s2) * h * d[i + 1]
    )
    return out


def _moon_position(model: forces.ForceModel, ets: FloatArray) -> FloatArray:
    """The Moon's geocentric J2000 position at ``ets`` from the model's tables [m], shape ets.shape + (3,)."""
    return _hermite_rows(model, model.moon_p, model.moon_v, ets)


def _planes(
    model: forces.ForceModel,
    site: LaunchSite,
    t_launch: FloatArray,
    s_hat: FloatArray,
    east: FloatArray,
    north: FloatArray,
    pole: FloatArray,
    tof_s: FloatArray,
    r_park: float,
    ascent_s: float,
    downrange_rad: float,
    transfer_rad: float,
    aim_offset_m: FloatArray | None = None,
) -> tuple[BoolArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Parking plane of each cell (broadcast over ``t_launch`` (n, 1), site vectors (n, 1, 3), ``tof_s`` (1, m)).

    Returns (feasible, azimuth [deg], inclination [deg], coast [s], plane normal, TLI point [m], TLI epoch [s])
    of the better sense of motion per cell: a feasible one, and between two feasible ones the lower inclination
    (prograde, flying with the Moon). The aim point is the Moon's centre plus ``aim_offset_m`` (J2000 [m]).
    """
    n_park = math.sqrt(EARTH_GM_M3_S2 / r_park**3)
    shape = np.broadcast_shapes(t_launch.shape, tof_s.shape)
    results = []
    for sense in (1.0, -1.0):
        t_tli = np.broadcast_to(t_launch + ascent_s, shape).copy()
        for _ in range(_PLANE_ITERATIONS):
            m = _moon_position(model, t_tli + tof_s)
            if aim_offset_m is not None:
                m = m + aim_offset_m
            h = sense * _unit(_cross(np.broadcast_to(s_hat, m.shape), m))
            u = _unit(m)
            r1_hat = math.cos(transfer_rad) * u - math.sin(transfer_rad) * _cross(h, u)
            p_ins = math.cos(downrange_rad) * s_hat + math.sin(downrange_rad) * _cross(
                h, np.broadcast_to(s_hat, h.shape)
            )
            ang = np.mod(np.arctan2(_dot(_cross(p_ins, r1_hat), h), _dot(p_ins, r1_hat)), 2.0 * math.pi)
            coast = ang / n_park
            t_tli = t_launch + ascent_s + coast
        d = _cross(h, np.broadcast_to(s_hat, h.shape))
        az = np.mod(np.degrees(np.arctan2(_dot(d, east), _dot(d, north))), 360.0)
        inc = np.degrees(np.arccos(np.clip(_dot(h, np.broadcast_to(pole, h.shape)), -1.0, 1.0)))
        results.append((site.allows(az).astype(np.float64), az, inc, coast, h, r_park * r1_hat, t_tli))
    a, b = results
    ok_a, ok_b = a[0].astype(bool), b[0].astype(bool)
    take_b = (ok_b & ~ok_a) | ((ok_b == ok_a) & (b[2] < a[2]))
    out = []
    for xa, xb in zip(a, b, strict=True):
        sel = take_b if xa.ndim == take_b.ndim else take_b[..., None]
        out.append(np.where(sel, xb, xa))
    feasible, az, inc, coast, h, r1, t_tli = out
    return feasible.astype(bool), az, inc, coast, h, r1, t_tli


def _conic(
    model: forces.ForceModel, r1: FloatArray, h: FloatArray, t_tli: float, tof_s: float, rp_moon: float
) -> tuple[float, float]:
    """Patched-conic (TLI, LOI) [m/s] from ``r1`` on the parking circle to the Moon's centre after ``tof_s``."""
    moon = model.moon_state(t_tli + tof_s)
    v1, v2 = lambert(r1, moon[:3], tof_s, EARTH_GM_M3_S2, prograde=bool(h[2] >= 0.0))
    r = float(np.linalg.norm(r1))
    v_circ = math.sqrt(EARTH_GM_M3_S2 / r) * _cross(h, r1 / r)
    tli = float(np.linalg.norm(v1 - v_circ))
    loi = float(loi_dv(float(np.linalg.norm(v2 - moon[3:])), rp_moon))
    return tli, loi


def _aim_at_b_plane(
    model: forces.ForceModel,
    site: LaunchSite,
    dep: Departure,
    geometry: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    rp: float,
    inc_deg: float,
    hemisphere: str,
    cell_args: tuple[float, float, float, float],
    coast_cap: float,
) -> Departure | None:
    """Turn the parking plane to contain the patched-conic aim point (the Moon plus the B-vector of the arrival
    orbit) instead of the Moon's centre. Near a 180 deg transfer the arc's plane follows any out-of-plane offset
    of its end (a 5,000 km B-vector tilts a 176 deg arc by ~10 deg), so the aim point must lie in the parking
    plane for the TLI to stay coplanar. None if the turned plane leaves the site's azimuths or the coast limit."""
    s_hat, east, north, pole = geometry
    r_park, ascent_s, downrange_rad, transfer_rad = cell_args
    offset = np.zeros(3)
    r1, h, t_tli = dep.r1, dep.plane_normal, dep.tli_et
    ok = False
    az = inc = coast = math.nan
    for _ in range(2):
        t_arr = t_tli + dep.conic_tof_s
        moon = model.moon_state(t_arr)
        _, v2 = lambert(r1, moon[:3] + offset, dep.conic_tof_s, EARTH_GM_M3_S2, prograde=bool(h[2] >= 0.0))
        try:
            offset = targeting.b_vector(v2 - moon[3:], forces.moon_pole_me_j2000(t_arr), rp, inc_deg, hemisphere)
        except IlrsError:
            return None
        f, a, i, c, hh, rr, tt = _planes(
            model,
            site,
            np.array([dep.launch_et]),
            s_hat,
            east,
            north,
            pole,
            np.array([dep.conic_tof_s]),
            r_park,
            ascent_s,
            downrange_rad,
            transfer_rad,
            offset,
        )
        ok, az, inc, coast = bool(f[0]), float(a[0]), float(i[0]), float(c[0])
        h, r1, t_tli = hh[0], rr[0], float(tt[0])
    if not ok or coast > coast_cap:
        return None
    return replace(dep, azimuth_deg=az, inclination_deg=inc, coast_s=coast, plane_normal=h, r1=r1, tli_et=t_tli)


class _Arrival:
    """Lunar periapsis reached from the TLI state, with the MOON_ME pole from the force model's MOON_PA table
    (ME = a constant rotation of PA, so one SPICE call serves the whole scan)."""

    def __init__(self, model: forces.ForceModel) -> None:
        self.model = model
        ensure_loaded()
        with SPICE_LOCK:
            self.pole_pa = np.asarray(spiceypy.pxform(MOON_ME_FRAME, forces.MOON_PA_FRAME, 0.0))[:, 2].copy()
        self.rot = np.empty(18)

    def __call__(self, et0: float, r1: FloatArray, v1: FloatArray, t_end: float) -> tuple[float, FloatArray] | None:
        f = forces.propagate(
            self.model,
            et0,
            np.concatenate((r1, v1)),
            t_end,
            periapsis_max_m=targeting.ARRIVAL_MAX_M,
            stop_at_periapsis=True,
        )
        if f.periapsis_et.size == 0:
            return None
        tp = float(f.periapsis_et[0])
        rel = f.periapsis_state[0] - self.model.moon_state(tp)
        nbody.hermite(self.model.tab[0], self.model.tab[1], self.model.rot_p, self.model.rot_d, tp, self.rot)
        pole = self.rot[:9].reshape(3, 3).T @ self.pole_pa
        hv = _cross(rel[:3], rel[3:])
        inc = math.degrees(math.acos(max(-1.0, min(1.0, float(hv @ pole) / float(np.linalg.norm(hv))))))
        return tp, np.array([float(np.linalg.norm(rel[:3])), inc, *rel, *pole])


def _b_miss(y: FloatArray, rp: float, inc_deg: float, hemisphere: str) -> FloatArray | None:
    """B-plane miss [m]: the osculating selenocentric hyperbola's B-vector at periapsis minus the one of the
    requested periapsis radius and inclination, on (T, R) (Kizner 1961; Vallado 2013, section 12.4.2 for
    S = e_hat / e + sqrt(1 - 1/e^2) (h_hat x e_hat), B = (h / v_inf) S x h_hat). ``y`` as from
    :class:`_Arrival`. None when the arrival is not hyperbolic or the inclination is out of reach. Unlike
    (radius, inclination) the B-vector is nearly linear in the TLI velocity, so Newton converges from
    thousands of km off."""
    r, v, pole = y[2:5], y[5:8], y[8:11]
    rn = float(np.linalg.norm(r))
    v2 = float(v @ v)
    vinf2 = v2 - 2.0 * MOON_GM_M3_S2 / rn
    if vinf2 <= 1e4:
        return None
    h = _cross(r, v)
    hn = float(np.linalg.norm(h))
    hh = h / hn
    ev = ((v2 - MOON_GM_M3_S2 / rn) * r - float(r @ v) * v) / MOON_GM_M3_S2
    e = float(np.linalg.norm(ev))
    eh = ev / e
    s_hat = eh / e + math.sqrt(1.0 - 1.0 / e**2) * _cross(hh, eh)
    b = hn / math.sqrt(vinf2) * _cross(s_hat, hh)
    try:
        b_goal = targeting.b_vector(math.sqrt(vinf2) * s_hat, pole, rp, inc_deg, hemisphere)
    except IlrsError:
        return None
    t_hat = _unit(_cross(s_hat, pole))
    r_hat = _cross(s_hat, t_hat)
    d = b - b_goal
    return np.array([float(d @ t_hat), float(d @ r_hat)])


#: Targeting tolerance of the window scan: 5 m in each B-plane component (periapsis radius to ~2 m,
#: inclination to ~1e-4 deg: < 0.01 m/s in either impulse); finite-difference step [m/s].
_TOL_B_M = 5.0
_FD_M_S = 1e-3


def _target(
    arrival: _Arrival,
    dep: Departure,
    rp: float,
    inc_deg: float,
    hemisphere: str,
    warm: tuple[FloatArray, FloatArray] | None,
) -> tuple[Departure, tuple[FloatArray, FloatArray] | None]:
    """Target ``dep`` in the ephemeris model (periapsis radius and inclination; flight time free).

    Quasi-Newton on the TLI velocity, warm-started from the previous departure (an hour earlier: a
    continuation): its correction to the patched-conic first guess is applied to this one's, and its Jacobian
    serves until a step fails to halve the residual; Broyden rank-one updates after each step (Dennis &
    Schnabel, "Numerical Methods for Unconstrained Optimization", 1983, section 8.1), a fresh forward-difference
    Jacobian with step halving otherwise. When that fails too, the robust corrector of
    :mod:`ilrs.transport.targeting` takes over. Returns the departure (NaN figures if it failed) and the warm
    start for the next one: (correction to the first guess [m/s], Jacobian).
    """
    model = arrival.model
    t_end = dep.tli_et + dep.conic_tof_s + 1.5 * _DAY_S
    goal = np.array([rp, inc_deg])
    try:
        v_guess = targeting._first_guess(model, dep.r1, dep.tli_et, dep.conic_tof_s, rp, inc_deg, hemisphere)
    except IlrsError:
        return dep, None
    v1 = v_guess + (warm[0] if warm is not None else 0.0)
    jac = warm[1] if warm is not None else None
    ev = arrival(dep.tli_et, dep.r1, v1, t_end)
    if ev is None and warm is not None:
        v1, jac = v_guess, None
        ev = arrival(dep.tli_et, dep.r1, v1, t_end)
    if ev is None:
        return dep, None
    res = _b_miss(ev[1], rp, inc_deg, hemisphere)
    converged = False
    for _ in range(20 if res is not None else 0):
        assert res is not None
        if np.all(np.abs(res) < _TOL_B_M):
            converged = True
            break
        fresh = jac is None
        if jac is None:
            jac = np.empty((2, 3))
            for k in range(3):
                v = v1.copy()
                v[k] += _FD_M_S
                e = arrival(dep.tli_et, dep.r1, v, t_end)
                if e is None:
                    break
                miss = _b_miss(e[1], rp, inc_deg, hemisphere)
                if miss is None:
                    break
                jac[:, k] = (miss - res) / _FD_M_S
        step = -np.linalg.lstsq(jac, res, rcond=None)[0]
        accepted = False
        for _halving in range(8 if fresh else 1):
            e = arrival(dep.tli_et, dep.r1, v1 + step, t_end)
            res_new = None if e is None else _b_miss(e[1], rp, inc_deg, hemisphere)
            if res_new is not None:
                if np.linalg.norm(res_new) < np.linalg.norm(res):
                    accepted = True
                    break
            step = 0.5 * step
        if not accepted:
            if fresh:
                break
            jac = None  # a stale Jacobian: difference afresh and retry
            continue
        assert e is not None and res_new is not None
        jac = jac + np.outer(res_new - res - jac @ step, step) / float(step @ step)
        v1, ev, res = v1 + step, e, res_new
    if not converged:
        ev0 = targeting._evaluate(model, dep.tli_et, dep.r1, v_guess, t_end)
        if ev0 is None:
            return dep, None
        try:
            v1, _, _ = targeting._correct(model, dep.tli_et, dep.r1, v_guess, ev0, goal, t_end)
        except IlrsError:
            return dep, None
        ev = arrival(dep.tli_et, dep.r1, v1, t_end)
        jac = None
        if ev is None:
            return dep, None
    tp, y = ev
    rel = y[2:]
    r1 = dep.r1
    r = float(np.linalg.norm(r1))
    v_circ = math.sqrt(EARTH_GM_M3_S2 / r) * _cross(dep.plane_normal, r1 / r)
    hn = _unit(_cross(r1, v1))
    done = replace(
        dep,
        tli_dv_m_s=float(np.linalg.norm(v1 - v_circ)),
        loi_dv_m_s=float(np.linalg.norm(rel[3:])) - math.sqrt(MOON_GM_M3_S2 / y[0]),
        tof_s=tp - dep.tli_et,
        periapsis_radius_m=float(y[0]),
        arrival_inclination_deg=float(y[1]),
        plane_change_deg=math.degrees(math.acos(max(-1.0, min(1.0, float(hn @ dep.plane_normal))))),
        v1=v1.copy(),
    )
    return done, (v1 - v_guess, jac) if jac is not None else None


def month_span(month: str) -> tuple[float, float]:
    """(start, end) [s TDB] of the UTC calendar month ``YYYY-MM``."""
    try:
        y, m = (int(x) for x in month.strip().split("-"))
        if not 1 <= m <= 12:
            raise ValueError
    except ValueError:
        raise IlrsError(f"month {month!r} is not YYYY-MM", source="--month", hint="e.g. 2030-06") from None
    y2, m2 = (y + 1, 1) if m == 12 else (y, m + 1)
    return float(to_et(f"{y:04d}-{m:02d}-01")[0]), float(to_et(f"{y2:04d}-{m2:02d}-01")[0])


def scan_windows(
    site: LaunchSite | str,
    start_et: float,
    end_et: float,
    *,
    step_s: float = 3600.0,
    tof_days: tuple[float, float] = (3.0, 5.5),
    n_tof: int = 11,
    parking_alt_km: float = 200.0,
    periapsis_alt_km: float = 100.0,
    arrival_inclination_deg: float = 90.0,
    hemisphere: str = "south",
    ascent_s: float = DEFAULT_ASCENT_S,
    ascent_downrange_deg: float = DEFAULT_ASCENT_DOWNRANGE_DEG,
    max_coast_s: float | None = None,
    transfer_angle_deg: float = DEFAULT_TRANSFER_ANGLE_DEG,
    target: bool = True,
) -> WindowScan:
    """Scan lift-off epochs from ``site`` over ``[start_et, end_et)`` and target each feasible one.

    Parameters
    ----------
    site : LaunchSite or str
        A site or its key in :data:`ilrs.transport.launch_sites.LAUNCH_SITES`.
    start_et, end_et : float
        Lift-off span [s past J2000 TDB].
    step_s : float
        Lift-off spacing [s] (60 to 86,400).
    tof_days : (float, float)
        Patched-conic times of flight screened [day] (within 2.5 to 6).
    n_tof : int
        Times of flight on that span (1 to 50).
    parking_alt_km : float
        Circular parking orbit altitude [km] (150 to 2,000).
    periapsis_alt_km, arrival_inclination_deg : float
        Targeted lunar periapsis altitude [km] and inclination to the lunar equator [deg].
    ascent_s, ascent_downrange_deg : float
        Lift-off to insertion [s] and the downrange angle meanwhile [deg].
    max_coast_s : float, optional
        Longest coast from insertion to TLI [s]; default one parking-orbit revolution (no limit).
    target : bool
        Target the feasible departures in the ephemeris model (False: screening only).

    Returns
    -------
    WindowScan
    """
    site = get_site(site) if isinstance(site, str) else site
    if not 60.0 <= step_s <= _DAY_S:
        raise IlrsError(f"step {step_s:g} s is outside [60, 86400] s", source="--step-min")
    if not (2.5 <= tof_days[0] <= tof_days[1] <= 6.0) or not 1 <= n_tof <= 50:
        raise IlrsError(
            f"times of flight {tof_days} d x {n_tof} are outside 2.5 <= lo <= hi <= 6 d, 1..50 values",
            source="--tof-days",
        )
    if not 150.0 <= parking_alt_km <= 2000.0:
        raise IlrsError(
            f"parking orbit altitude {parking_alt_km:g} km is outside [150, 2000] km", source="--parking-alt-km"
        )
    if not 10.0 <= periapsis_alt_km <= 20_000.0:
        raise IlrsError(f"periapsis altitude {periapsis_alt_km:g} km is outside [10, 20000] km", source="--llo-alt-km")
    if not 0.0 <= arrival_inclination_deg <= 180.0:
        raise IlrsError(f"inclination {arrival_inclination_deg:g} deg is outside [0, 180] deg", source="--inc-deg")
    if not end_et > start_et:
        raise IlrsError("the scan's end must follow its start", source="--month")
    r_park = EARTH_RADIUS_M + parking_alt_km * 1e3
    period = 2.0 * math.pi * math.sqrt(r_park**3 / EARTH_GM_M3_S2)
    coast_cap = period if max_coast_s is None else float(max_coast_s)
    if not coast_cap >= 0.0:
        raise IlrsError(f"longest coast {coast_cap:g} s must be >= 0", source="--max-coast-min")
    rp_moon = MOON_RADIUS_M + periapsis_alt_km * 1e3

    t0 = time.perf_counter()
    launch: FloatArray = start_et + step_s * np.arange(int(math.ceil((end_et - start_et) / step_s)), dtype=np.float64)
    tofs = np.linspace(tof_days[0], tof_days[1], n_tof) * _DAY_S
    span_end = float(launch[-1] + ascent_s + coast_cap + tofs[-1] + 2.0 * _DAY_S)
    model = forces.force_model(float(launch[0]), span_end, "earth", source="--month")
    pos, east, north, pole = site_geometry_j2000(site, launch)
    s_hat = _unit(pos)
    cell_args = (r_park, ascent_s, math.radians(ascent_downrange_deg), math.radians(transfer_angle_deg))
    ok, az, inc, coast, h, r1, t_tli = _planes(
        model,
        site,
        launch[:, None],
        s_hat[:, None, :],
        east[:, None, :],
        north[:, None, :],
        pole[:, None, :],
        tofs[None, :],
        *cell_args,
    )
    feasible = ok & (coast <= coast_cap)
    n, m = feasible.shape
    tli = np.full((n, m), math.nan)
    loi = np.full((n, m), math.nan)
    for i, j in zip(*np.nonzero(feasible), strict=True):
        tli[i, j], loi[i, j] = _conic(model, r1[i, j], h[i, j], float(t_tli[i, j]), float(tofs[j]), rp_moon)
    best_cells: list[Departure] = []
    geometry: dict[float, tuple[FloatArray, FloatArray, FloatArray, FloatArray]] = {}
    total = np.where(feasible, tli + loi, np.inf)
    for i in np.nonzero(feasible.any(axis=1))[0]:
        j = int(np.argmin(total[i]))
        best_cells.append(
            Departure(
                launch_et=float(launch[i]),
                tli_et=float(t_tli[i, j]),
                coast_s=float(coast[i, j]),
                azimuth_deg=float(az[i, j]),
                inclination_deg=float(inc[i, j]),
                plane_normal=h[i, j].copy(),
                r1=r1[i, j].copy(),
                conic_tof_s=float(tofs[j]),
                conic_tli_dv_m_s=float(tli[i, j]),
                conic_loi_dv_m_s=float(loi[i, j]),
            )
        )
        geometry[float(launch[i])] = (s_hat[i], east[i], north[i], pole[i])
    screen_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    if target:
        arrival = _Arrival(model)
        out = []
        warm: tuple[FloatArray, FloatArray] | None = None
        last_et = -math.inf
        for d in best_cells:
            if d.launch_et - last_et > 1.5 * step_s:
                warm = None  # a new window: no neighbour to continue from
            last_et = d.launch_et
            aimed = _aim_at_b_plane(
                model,
                site,
                d,
                geometry[d.launch_et],
                rp_moon,
                arrival_inclination_deg,
                hemisphere,
                cell_args,
                coast_cap,
            )
            if aimed is None:
                out.append(d)
                warm = None
                continue
            done, warm = _target(arrival, aimed, rp_moon, arrival_inclination_deg, hemisphere, warm)
            out.append(done)
        best_cells = out
    target_s = time.perf_counter() - t0

    any_ok: BoolArray = np.asarray(feasible.any(axis=1), dtype=bool)
    windows: list[tuple[float, float]] = []
    k = 0
    while k < n:
        if any_ok[k]:
            k2 = k
            while k2 + 1 < n and any_ok[k2 + 1]:
                k2 += 1
            windows.append((float(launch[k]), float(launch[k2])))
            k = k2 + 1
        else:
            k += 1
    return WindowScan(
        site=site,
        launch_et=launch,
        tof_s=tofs,
        feasible=feasible,
        azimuth_deg=az,
        inclination_deg=inc,
        coast_s=coast,
        tli_dv_m_s=tli,
        loi_dv_m_s=loi,
        departures=best_cells,
        windows=windows,
        parking_alt_km=parking_alt_km,
        periapsis_alt_km=periapsis_alt_km,
        arrival_inclination_deg=arrival_inclination_deg,
        screen_s=screen_s,
        target_s=target_s,
    )


def summary(scan: WindowScan) -> dict[str, object]:
    """JSON-ready summary: site, daily windows, and each feasible departure's figures."""
    deps = []
    for d in scan.departures:
        deps.append(
            {
                "launch_utc": utc_text(d.launch_et),
                "tli_utc": utc_text(d.tli_et),
                "coast_min": d.coast_s / 60.0,
                "azimuth_deg": d.azimuth_deg,
                "parking_inclination_deg": d.inclination_deg,
                "conic_tof_days": d.conic_tof_s / _DAY_S,
                "conic_tli_dv_m_s": d.conic_tli_dv_m_s,
                "conic_loi_dv_m_s": d.conic_loi_dv_m_s,
                "targeted": d.targeted,
                "tof_days": d.tof_s / _DAY_S if d.targeted else None,
                "tli_dv_m_s": d.tli_dv_m_s if d.targeted else None,
                "loi_dv_m_s": d.loi_dv_m_s if d.targeted else None,
                "plane_change_deg": d.plane_change_deg if d.targeted else None,
            }
        )
    inc_lo, inc_hi = scan.site.inclination_range_deg
    return {
        "site": scan.site.key,
        "site_name": scan.site.name,
        "lat_deg": scan.site.lat_deg,
        "lon_deg": scan.site.lon_deg,
        "azimuth_range_deg": [scan.site.azimuth_min_deg, scan.site.azimuth_max_deg],
        "parking_inclination_range_deg": [inc_lo, inc_hi],
        "parking_alt_km": scan.parking_alt_km,
        "periapsis_alt_km": scan.periapsis_alt_km,
        "arrival_inclination_deg": scan.arrival_inclination_deg,
        "launch_epochs": int(scan.launch_et.size),
        "feasible_launch_epochs": len(scan.departures),
        "targeted": sum(d.targeted for d in scan.departures),
        "windows": [{"open_utc": utc_text(a), "close_utc": utc_text(b)} for a, b in scan.windows],
        "screen_s": scan.screen_s,
        "target_s": scan.target_s,
        "departures": deps,
    }
