"""Lunar orbit insertion as a finite burn: the impulsive LOI plus its finite-burn (gravity and steering) loss.

The impulsive LOI at periapsis (``TargetedTransfer.loi_dv_m_s``) is the lower bound of the burn a real engine
flies: a burn of minutes spans tens of degrees of the arrival hyperbola, and thrust held against the velocity
(retrograde, as Apollo's service propulsion system flew LOI) off periapsis is partly wasted. Model: the
selenocentric arrival state at the targeted periapsis, flown backwards half a burn (two-body, the Moon's
DE440 GM; over minutes the Earth's tidal pull, ~2e-5 m/s^2, moves nothing measurable), then a burn at constant
thrust against the velocity with mass flow ``T / (Isp g0)`` until the osculating apoapsis comes down to the
requested one. The burn's delta-v is ``Isp g0 ln(m0 / m1)``; its duration is found by fixed-point iteration
so that the burn is centred on the arrival periapsis epoch (ignition half a burn before it), the usual ground
rule for a symmetric finite burn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from ilrs.constants import MOON_RADIUS_M
from ilrs.core.arrays import FloatArray
from ilrs.errors import IlrsError
from ilrs.transport.budget import G0_M_S2
from ilrs.transport.forces import MOON_GM_M3_S2


@dataclass(frozen=True)
class FiniteLoi:
    """A finite-burn LOI from an arrival periapsis into an ellipse."""

    impulsive_dv_m_s: float  #: the tangential impulse at the arrival periapsis into the same ellipse [m/s]
    finite_dv_m_s: float  #: Isp g0 ln(m0 / m1) of the finite burn [m/s]
    burn_time_s: float  #: burn duration [s]
    periapsis_alt_km: float  #: periapsis altitude of the orbit reached [km]
    apoapsis_alt_km: float  #: apoapsis altitude of the orbit reached [km]

    @property
    def loss_m_s(self) -> float:
        """Finite-burn loss [m/s]."""
        return self.finite_dv_m_s - self.impulsive_dv_m_s


def _two_body(t: float, y: FloatArray, accel0: float, mdot: float) -> FloatArray:
    r = y[:3]
    v = y[3:6]
    m = y[6]
    out = np.empty(7)
    out[:3] = v
    out[3:6] = -MOON_GM_M3_S2 * r / np.linalg.norm(r) ** 3
    if accel0 > 0.0:
        out[3:6] -= accel0 / m * v / np.linalg.norm(v)
    out[6] = -mdot
    return out


def _apoapsis_m(y: FloatArray) -> float:
    r, v = y[:3], y[3:6]
    rn = float(np.linalg.norm(r))
    energy = 0.5 * float(v @ v) - MOON_GM_M3_S2 / rn
    if energy >= 0.0:
        return math.inf
    a = -MOON_GM_M3_S2 / (2.0 * energy)
    h = np.cross(r, v)
    e = math.sqrt(max(0.0, 1.0 - float(h @ h) / (MOON_GM_M3_S2 * a)))
    return a * (1.0 + e)


def finite_burn_loi(
    periapsis_state_m: FloatArray, apoapsis_alt_km: float, accel0_m_s2: float, isp_s: float
) -> FiniteLoi:
    """LOI from the selenocentric arrival state at periapsis ``periapsis_state_m`` [m, m/s] into an ellipse of
    apoapsis altitude ``apoapsis_alt_km`` [km], by a retrograde burn of initial thrust acceleration
    ``accel0_m_s2`` [m/s^2] and specific impulse ``isp_s`` [s], centred on periapsis.

    Raises :class:`IlrsError` naming the parameter when the arrival is not hyperbolic at a periapsis or the
    ellipse lies below the arrival periapsis.
    """
    y0 = np.asarray(periapsis_state_m, dtype=np.float64)
    rp = float(np.linalg.norm(y0[:3]))
    if not 0.0 < accel0_m_s2 <= 50.0:
        raise IlrsError(f"thrust acceleration {accel0_m_s2:g} m/s^2 is outside (0, 50]", source="accel0_m_s2")
    if not 150.0 <= isp_s <= 470.0:
        raise IlrsError(f"Isp {isp_s:g} s is outside [150, 470] s", source="isp_s")
    ra = MOON_RADIUS_M + apoapsis_alt_km * 1e3
    if ra < rp:
        raise IlrsError(
            f"apoapsis altitude {apoapsis_alt_km:g} km is below the arrival periapsis "
            f"{(rp - MOON_RADIUS_M) / 1e3:.1f} km",
            source="apoapsis_alt_km",
        )
    vp = float(np.linalg.norm(y0[3:]))
    if 0.5 * vp * vp - MOON_GM_M3_S2 / rp <= 0.0 or abs(float(y0[:3] @ y0[3:])) / (rp * vp) > 1e-6:
        raise IlrsError("the arrival state is not a hyperbolic periapsis", source="periapsis_state_m")
    impulsive = vp - math.sqrt(MOON_GM_M3_S2 * (2.0 / rp - 2.0 / (rp + ra)))
    mdot = accel0_m_s2 / (isp_s * G0_M_S2)  # per unit initial mass

    def burn(y_start: FloatArray) -> tuple[float, FloatArray]:
        def reached(t: float, y: FloatArray, *_args: float) -> float:
            apo = _apoapsis_m(y)
            return apo - ra if math.isfinite(apo) else 1e12

        reached.terminal = True  # type: ignore[attr-defined]
        sol = solve_ivp(
            _two_body,
            (0.0, 3600.0),
            np.concatenate((y_start, [1.0])),
            args=(accel0_m_s2, mdot),
            method="DOP853",
            rtol=1e-11,
            atol=1e-6,
            events=reached,
        )
        assert sol.t_events is not None and sol.y_events is not None  # solve_ivp fills them when given events
        if not sol.t_events[0].size:
            raise IlrsError("the burn does not capture within an hour", source="accel0_m_s2", hint="raise it")
        return float(sol.t_events[0][0]), sol.y_events[0][0]

    def coast(y: FloatArray, dt: float) -> FloatArray:
        sol = solve_ivp(
            _two_body, (0.0, dt), np.concatenate((y, [1.0])), args=(0.0, 0.0), method="DOP853", rtol=1e-12, atol=1e-6
        )
        out: FloatArray = sol.y[:6, -1]
        return out

    # fixed point on the burn time: ignite half a burn before periapsis (coasting backwards), burn, repeat
    tau = impulsive / accel0_m_s2
    y_end = y0
    for _ in range(30):
        start = coast(y0, -0.5 * tau) if tau > 0 else y0
        new_tau, y_end = burn(start[:6])
        if abs(new_tau - tau) < 1e-3:
            tau = new_tau
            break
        tau = new_tau
    m1 = float(y_end[6])
    r_end = y_end[:3]
    v_end = y_end[3:6]
    rn = float(np.linalg.norm(r_end))
    a = -MOON_GM_M3_S2 / (2.0 * (0.5 * float(v_end @ v_end) - MOON_GM_M3_S2 / rn))
    h = np.cross(r_end, v_end)
    e = math.sqrt(max(0.0, 1.0 - float(h @ h) / (MOON_GM_M3_S2 * a)))
    return FiniteLoi(
        impulsive_dv_m_s=impulsive,
        finite_dv_m_s=isp_s * G0_M_S2 * math.log(1.0 / m1),
        burn_time_s=tau,
        periapsis_alt_km=(a * (1.0 - e) - MOON_RADIUS_M) / 1e3,
        apoapsis_alt_km=(a * (1.0 + e) - MOON_RADIUS_M) / 1e3,
    )
