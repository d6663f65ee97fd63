"""Cowell propagation in the Earth-Moon-Sun ephemeris model with Earth J2 and lunar J2/C22 (numba).

Equations of motion relative to a central body ``c`` (the Earth or the Moon), with third bodies' direct and
indirect terms (Montenbruck & Gill, "Satellite Orbits", 2000, eq. 3.37):

    r'' = a_sc(p) - a_c,

where ``p`` is the spacecraft's geocentric position, ``a_sc`` the acceleration of the spacecraft by the Earth
(point mass + J2 about its mean pole), the Moon (point mass + J2 and C22 in its principal-axis frame) and the Sun
(point mass), and ``a_c`` the acceleration of the central body by the other two point masses. The oblateness
potentials are

    U_J2  = -mu J2 R^2 (3 z^2 - r^2) / (2 r^5),        U_C22 = 3 mu C22 R^2 (x^2 - y^2) / r^5

(Kaula, "Theory of Satellite Geodesy", 1966, unnormalised coefficients; x, y, z in the body frame).
The harmonics' pull on the other bodies is omitted (it is in the ephemerides already and below 1e-9 of the
point-mass terms on a spacecraft).

Ephemerides come in as tables on a uniform grid (geocentric J2000 positions and velocities of the Moon and Sun,
the J2000 -> MOON_PA rotation and its rate) and are evaluated by cubic Hermite interpolation; building the tables
is ``ilrs.transport.forces``' job, so this module knows nothing about SPICE.

The integrator is Dormand & Prince's 8(5,3) pair (Hairer, Norsett & Wanner, "Solving Ordinary Differential
Equations I", 2nd ed., 1993, section II.10), with its tableau taken from ``scipy.integrate`` (the numbers, not
the code) and scipy's error norm, written out in numba so that a whole flight is one compiled call.
Periapsis passages with respect to the Moon are located inside the step by regula falsi on the radial velocity
``(r - r_moon) . (v - v_moon)``, each trial a single DOP853 step from the step's start (8th-order accurate).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate._ivp import dop853_coefficients as _dop

from ilrs.core._jit import jit
from ilrs.core.arrays import FloatArray

_N_STAGES = _dop.N_STAGES  # 12
A = np.ascontiguousarray(_dop.A[:_N_STAGES, :_N_STAGES], dtype=np.float64)
B = np.ascontiguousarray(_dop.B, dtype=np.float64)
C = np.ascontiguousarray(_dop.C[: _N_STAGES + 1], dtype=np.float64)
E3 = np.ascontiguousarray(_dop.E3, dtype=np.float64)
E5 = np.ascontiguousarray(_dop.E5, dtype=np.float64)

# Layout of the force-parameter vector ``par`` (all SI).
P_MU_EARTH, P_MU_MOON, P_MU_SUN = 0, 1, 2
P_J2_EARTH, P_R_EARTH = 3, 4
P_J2_MOON, P_C22_MOON, P_R_MOON = 5, 6, 7
P_POLE_EARTH = 8  # 8, 9, 10: unit vector of the Earth's pole in J2000
P_CENTRAL = 11  # 0: geocentric state, 1: selenocentric state
N_PAR = 12

# Status codes of :func:`propagate`.
DONE, AT_PERIAPSIS, IMPACT, TOO_MANY_STEPS, STEP_TOO_SMALL = 0, 1, 2, 3, 4


@jit
def hermite(t0: float, h: float, p: FloatArray, d: FloatArray, t: float, out: FloatArray) -> None:
    """Cubic Hermite interpolation on the uniform grid ``t0 + i h`` of values ``p`` and derivatives ``d``.

    ``out[:k]`` receives the value, ``out[k:2k]`` the derivative (k = p.shape[1]). Outside the grid the end
    interval is extrapolated (callers keep within it).
    """
    n, k = p.shape
    x = (t - t0) / h
    i = int(math.floor(x))
    if i < 0:
        i = 0
    elif i > n - 2:
        i = n - 2
    s = x - i
    s2 = s * s
    s3 = s2 * s
    h00 = 2.0 * s3 - 3.0 * s2 + 1.0
    h10 = s3 - 2.0 * s2 + s
    h01 = -2.0 * s3 + 3.0 * s2
    h11 = s3 - s2
    g00 = (6.0 * s2 - 6.0 * s) / h
    g10 = 3.0 * s2 - 4.0 * s + 1.0
    g01 = (-6.0 * s2 + 6.0 * s) / h
    g11 = 3.0 * s2 - 2.0 * s
    for j in range(k):
        out[j] = h00 * p[i, j] + h10 * h * d[i, j] + h01 * p[i + 1, j] + h11 * h * d[i + 1, j]
        out[k + j] = g00 * p[i, j] + g10 * d[i, j] + g01 * p[i + 1, j] + g11 * d[i + 1, j]


@jit
def _bodies(
    t: float,
    tab: FloatArray,
    moon_p: FloatArray,
    moon_v: FloatArray,
    sun_p: FloatArray,
    sun_v: FloatArray,
    rot_p: FloatArray,
    rot_d: FloatArray,
    moon: FloatArray,
    sun: FloatArray,
    rot: FloatArray,
) -> None:
    hermite(tab[0], tab[1], moon_p, moon_v, t, moon)
    hermite(tab[0], tab[1], sun_p, sun_v, t, sun)
    hermite(tab[0], tab[1], rot_p, rot_d, t, rot)


@jit
def accel(
    t: float,
    y: FloatArray,
    par: FloatArray,
    tab: FloatArray,
    moon_p: FloatArray,
    moon_v: FloatArray,
    sun_p: FloatArray,
    sun_v: FloatArray,
    rot_p: FloatArray,
    rot_d: FloatArray,
    dy: FloatArray,
    moon: FloatArray,
    sun: FloatArray,
    rot: FloatArray,
) -> None:
    """Right-hand side ``dy = (v, a)`` at epoch ``t`` [s TDB] for state ``y`` [m, m/s] relative to the centre.

    ``moon``, ``sun`` (6,) and ``rot`` (18,) are work arrays; on return they hold the bodies' geocentric
    states and the J2000 -> MOON_PA rotation (row-major) at ``t``.
    """
    _bodies(t, tab, moon_p, moon_v, sun_p, sun_v, rot_p, rot_d, moon, sun, rot)
    mu_e = par[P_MU_EARTH]
    mu_m = par[P_MU_MOON]
    mu_s = par[P_MU_SUN]
    selen = par[P_CENTRAL] > 0.5
    # geocentric position of the spacecraft
    px = y[0] + (moon[0] if selen else 0.0)
    py = y[1] + (moon[1] if selen else 0.0)
    pz = y[2] + (moon[2] if selen else 0.0)
    ax = 0.0
    ay = 0.0
    az = 0.0
    # Earth: point mass + J2 about the pole k
    r2 = px * px + py * py + pz * pz
    r = math.sqrt(r2)
    f = -mu_e / (r2 * r)
    ax += f * px
    ay += f * py
    az += f * pz
    kx, ky, kz = par[P_POLE_EARTH], par[P_POLE_EARTH + 1], par[P_POLE_EARTH + 2]
    z = px * kx + py * ky + pz * kz
    g = -1.5 * par[P_J2_EARTH] * mu_e * par[P_R_EARTH] ** 2 / (r2 * r2 * r)
    q = 1.0 - 5.0 * z * z / r2
    ax += g * (q * px + 2.0 * z * kx)
    ay += g * (q * py + 2.0 * z * ky)
    az += g * (q * pz + 2.0 * z * kz)
    # Moon: point mass + J2, C22 in the principal-axis frame
    dx, dyy, dz = px - moon[0], py - moon[1], pz - moon[2]
    d2 = dx * dx + dyy * dyy + dz * dz
    d = math.sqrt(d2)
    f = -mu_m / (d2 * d)
    ax += f * dx
    ay += f * dyy
    az += f * dz
    bx = rot[0] * dx + rot[1] * dyy + rot[2] * dz
    by = rot[3] * dx + rot[4] * dyy + rot[5] * dz
    bz = rot[6] * dx + rot[7] * dyy + rot[8] * dz
    rm2 = par[P_R_MOON] ** 2
    d5 = d2 * d2 * d
    gj = -1.5 * par[P_J2_MOON] * mu_m * rm2 / d5
    q = 5.0 * bz * bz / d2
    gx = gj * bx * (1.0 - q)
    gy = gj * by * (1.0 - q)
    gz = gj * bz * (3.0 - q)
    gc = 3.0 * mu_m * par[P_C22_MOON] * rm2 / d5
    w = 5.0 * (bx * bx - by * by) / d2
    gx += gc * (2.0 * bx - w * bx)
    gy += gc * (-2.0 * by - w * by)
    gz += gc * (-w * bz)
    ax += rot[0] * gx + rot[3] * gy + rot[6] * gz
    ay += rot[1] * gx + rot[4] * gy + rot[7] * gz
    az += rot[2] * gx + rot[5] * gy + rot[8] * gz
    # Sun: point mass
    sx, sy, sz = px - sun[0], py - sun[1], pz - sun[2]
    s2 = sx * sx + sy * sy + sz * sz
    f = -mu_s / (s2 * math.sqrt(s2))
    ax += f * sx
    ay += f * sy
    az += f * sz
    # acceleration of the central body by the other point masses
    if selen:
        m2 = moon[0] ** 2 + moon[1] ** 2 + moon[2] ** 2
        f = -mu_e / (m2 * math.sqrt(m2))
        cx, cy, cz = f * moon[0], f * moon[1], f * moon[2]
        ux, uy, uz = sun[0] - moon[0], sun[1] - moon[1], sun[2] - moon[2]
        u2 = ux * ux + uy * uy + uz * uz
        f = mu_s / (u2 * math.sqrt(u2))
        cx += f * ux
        cy += f * uy
        cz += f * uz
    else:
        m2 = moon[0] ** 2 + moon[1] ** 2 + moon[2] ** 2
        f = mu_m / (m2 * math.sqrt(m2))
        cx, cy, cz = f * moon[0], f * moon[1], f * moon[2]
        u2 = sun[0] ** 2 + sun[1] ** 2 + sun[2] ** 2
        f = mu_s / (u2 * math.sqrt(u2))
        cx += f * sun[0]
        cy += f * sun[1]
        cz += f * sun[2]
    dy[0] = y[3]
    dy[1] = y[4]
    dy[2] = y[5]
    dy[3] = ax - cx
    dy[4] = ay - cy
    dy[5] = az - cz


@jit
def _moon_relative(y: FloatArray, par: FloatArray, moon: FloatArray, rel: FloatArray) -> None:
    """State relative to the Moon (``moon`` holds its geocentric state)."""
    if par[P_CENTRAL] > 0.5:
        for j in range(6):
            rel[j] = y[j]
    else:
        for j in range(6):
            rel[j] = y[j] - moon[j]


@jit
def _step(
    t: float,
    y: FloatArray,
    h: float,
    k0: FloatArray,
    par: FloatArray,
    tab: FloatArray,
    mp: FloatArray,
    mv: FloatArray,
    sp: FloatArray,
    sv: FloatArray,
    rp: FloatArray,
    rd: FloatArray,
    K: FloatArray,
    ynew: FloatArray,
    tmp: FloatArray,
    moon: FloatArray,
    sun: FloatArray,
    rot: FloatArray,
) -> None:
    """One DOP853 step of size h from (t, y) with K[0] = f(t, y) given; fills K[1..12] and ``ynew``."""
    for j in range(6):
        K[0, j] = k0[j]
    for s in range(1, _N_STAGES):
        for j in range(6):
            acc = 0.0
            for m in range(s):
                acc += A[s, m] * K[m, j]
            tmp[j] = y[j] + h * acc
        accel(t + C[s] * h, tmp, par, tab, mp, mv, sp, sv, rp, rd, K[s], moon, sun, rot)
    for j in range(6):
        acc = 0.0
        for m in range(_N_STAGES):
            acc += B[m] * K[m, j]
        ynew[j] = y[j] + h * acc
    accel(t + h, ynew, par, tab, mp, mv, sp, sv, rp, rd, K[_N_STAGES], moon, sun, rot)


@jit
def _radial_rate(
    t: float,
    y: FloatArray,
    par: FloatArray,
    tab: FloatArray,
    mp: FloatArray,
    mv: FloatArray,
    sp: FloatArray,
    sv: FloatArray,
    rp: FloatArray,
    rd: FloatArray,
    moon: FloatArray,
    sun: FloatArray,
    rot: FloatArray,
    rel: FloatArray,
) -> tuple[float, float]:
    """(r - r_moon) . (v - v_moon) [m^2/s] and |r - r_moon| [m] at (t, y)."""
    if par[P_CENTRAL] < 0.5:
        _bodies(t, tab, mp, mv, sp, sv, rp, rd, moon, sun, rot)
    _moon_relative(y, par, moon, rel)
    g = rel[0] * rel[3] + rel[1] * rel[4] + rel[2] * rel[5]
    return g, math.sqrt(rel[0] ** 2 + rel[1] ** 2 + rel[2] ** 2)


@jit
def propagate(
    t0: float,
    y0: FloatArray,
    t1: float,
    par: FloatArray,
    tab: FloatArray,
    moon_p: FloatArray,
    moon_v: FloatArray,
    sun_p: FloatArray,
    sun_v: FloatArray,
    rot_p: FloatArray,
    rot_d: FloatArray,
    rtol: float,
    atol_pos: float,
    atol_vel: float,
    h_max: float,
    periapsis_max_m: float,
    stop_at_periapsis: bool,
    r_impact_m: float,
    out_t: FloatArray,
    out_y: FloatArray,
    ev_t: FloatArray,
    ev_y: FloatArray,
) -> tuple[int, int, int]:
    """Integrate from ``t0`` to ``t1`` (> t0) [s TDB], recording every accepted step.

    Parameters
    ----------
    y0 : ndarray (6,)
        Initial state relative to the centre (``par[P_CENTRAL]``) [m, m/s].
    rtol, atol_pos, atol_vel : float
        Relative tolerance and absolute tolerances [m], [m/s].
    h_max : float
        Largest step [s] (also the largest spacing of the recorded states).
    periapsis_max_m : float
        Periapsis passages with respect to the Moon closer than this [m] are events (0: none).
    stop_at_periapsis : bool
        End at the first event.
    r_impact_m : float
        End when closer than this to the Moon's centre [m] (0: never).
    out_t, out_y : ndarray (cap,), (cap, 6)
        Recorded epochs and states (the first is ``t0``, ``y0``).
    ev_t, ev_y : ndarray (ecap,), (ecap, 6)
        Periapsis epochs and states.

    Returns
    -------
    n_out, n_ev, status : int
        Recorded states, events, and one of DONE, AT_PERIAPSIS, IMPACT, TOO_MANY_STEPS, STEP_TOO_SMALL.
    """
    cap = out_t.shape[0]
    ecap = ev_t.shape[0]
    K = np.empty((_N_STAGES + 1, 6))
    y = y0.copy()
    ynew = np.empty(6)
    tmp = np.empty(6)
    k0 = np.empty(6)
    moon = np.empty(6)
    sun = np.empty(6)
    rot = np.empty(18)
    rel = np.empty(6)
    ytry = np.empty(6)
    Kt = np.empty((_N_STAGES + 1, 6))
    scale = np.empty(6)
    t = t0
    accel(t, y, par, tab, moon_p, moon_v, sun_p, sun_v, rot_p, rot_d, k0, moon, sun, rot)
    g_old, _ = _radial_rate(t, y, par, tab, moon_p, moon_v, sun_p, sun_v, rot_p, rot_d, moon, sun, rot, rel)
    out_t[0] = t
    for j in range(6):
        out_y[0, j] = y[j]
    n_out = 1
    n_ev = 0
    # initial step: a fraction of the local dynamical time |r| / |v| (Hairer et al. 1993, II.4 in spirit)
    rr = math.sqrt(y[0] ** 2 + y[1] ** 2 + y[2] ** 2)
    vv = math.sqrt(y[3] ** 2 + y[4] ** 2 + y[5] ** 2)
    h = min(h_max, 1e-3 * rr / max(vv, 1e-9), t1 - t)
    while t < t1:
        if t + h > t1:
            h = t1 - t
        if h < 1e-9 * max(1.0, abs(t)) * 1e-3:
            return n_out, n_ev, STEP_TOO_SMALL
        _step(t, y, h, k0, par, tab, moon_p, moon_v, sun_p, sun_v, rot_p, rot_d, K, ynew, tmp, moon, sun, rot)
        for j in range(6):
            at = atol_pos if j < 3 else atol_vel
            scale[j] = at + rtol * max(abs(y[j]), abs(ynew[j]))
        e5 = 0.0
        e3 = 0.0
        for j in range(6):
            s5 = 0.0
            s3 = 0.0
            for m in range(_N_STAGES + 1):
                s5 += E5[m] * K[m, j]
                s3 += E3[m] * K[m, j]
            e5 += (s5 / scale[j]) ** 2
            e3 += (s3 / scale[j]) ** 2
        if e5 == 0.0 and e3 == 0.0:
            err = 0.0
        else:
            err = h * e5 / math.sqrt((e5 + 0.01 * e3) * 6.0)
        if err > 1.0:
            h *= max(0.2, 0.9 * err ** (-1.0 / 8.0))
            continue
        # accepted: look for a periapsis inside (t, t + h]
        g_new, dist = _radial_rate(
            t + h, ynew, par, tab, moon_p, moon_v, sun_p, sun_v, rot_p, rot_d, moon, sun, rot, rel
        )
        if periapsis_max_m > 0.0 and g_old < 0.0 and g_new >= 0.0 and dist < periapsis_max_m:
            a, b = 0.0, h
            ga, gb = g_old, g_new
            side = 0
            tau = h
            for _ in range(60):
                tau = (a * gb - b * ga) / (gb - ga)
                _step(
                    t, y, tau, k0, par, tab, moon_p, moon_v, sun_p, sun_v, rot_p, rot_d, Kt, ytry, tmp, moon, sun, rot
                )
                gt, _ = _radial_rate(
                    t + tau, ytry, par, tab, moon_p, moon_v, sun_p, sun_v, rot_p, rot_d, moon, sun, rot, rel
                )
                if gt < 0.0:
                    a, ga = tau, gt
                    if side == -1:
                        gb *= 0.5  # Illinois modification
                    side = -1
                else:
                    b, gb = tau, gt
                    if side == 1:
                        ga *= 0.5
                    side = 1
                if b - a < 1e-7 or gt == 0.0:
                    break
            if n_ev < ecap:
                ev_t[n_ev] = t + tau
                for j in range(6):
                    ev_y[n_ev, j] = ytry[j]
                n_ev += 1
            if stop_at_periapsis:
                if n_out >= cap:
                    return n_out, n_ev, TOO_MANY_STEPS
                out_t[n_out] = t + tau
                for j in range(6):
                    out_y[n_out, j] = ytry[j]
                n_out += 1
                return n_out, n_ev, AT_PERIAPSIS
        t = t + h
        for j in range(6):
            y[j] = ynew[j]
            k0[j] = K[_N_STAGES, j]
        g_old = g_new
        if n_out >= cap:
            return n_out, n_ev, TOO_MANY_STEPS
        out_t[n_out] = t
        for j in range(6):
            out_y[n_out, j] = y[j]
        n_out += 1
        if r_impact_m > 0.0 and dist < r_impact_m:
            return n_out, n_ev, IMPACT
        fac = 10.0 if err == 0.0 else min(10.0, 0.9 * err ** (-1.0 / 8.0))
        h = min(h * fac, h_max)
    return n_out, n_ev, DONE
