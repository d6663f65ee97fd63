"""Powered descent from a circular low lunar orbit: descent-orbit insertion, then a gravity turn to the surface.

Model (planar, inertial, spherical Moon of radius 1737.4 km, point-mass gravity; the Moon's rotation, 4.6 m/s at
the equator and nil at the pole, is neglected):

1. Descent-orbit insertion (DOI): a tangential impulse at the circular orbit's radius r_c lowers the opposite
   apsis to the ignition altitude, ``dv = v_c - sqrt(2 mu r_i / (r_c (r_c + r_i)))`` (vis-viva).
2. Powered descent from that perilune with constant thrust T directed against the velocity (a gravity turn;
   e.g. Wertz, Everett & Puschell, "Space Mission Engineering: The New SMAD", 2011, section 10.5 on lunar
   descent; McInnes 1995, "Gravity-turn descent from low circular orbit conditions", J. Guidance 18(2)),
   mass flow ``T / (Isp g0)``, until the speed vanishes. The ignition altitude is the one (Brent's method)
   for which the speed vanishes at the surface. Along the flight

       d|v|/dt = -T/m + g . v_hat,   so   dv_powered = |v_0| + integral(g . v_hat dt):

   the second term is the gravity loss, counted directly.

The gravity turn is not propellant-optimal (the optimal descent tilts the thrust above the velocity to hold
altitude); it brackets the cost from above by a few per cent at lunar T/W of 1.5-3 and is the classical
first estimate. A terminal hover, landing-site redesignation and margins are not included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from ilrs.constants import MOON_RADIUS_M
from ilrs.core.arrays import FloatArray
from ilrs.errors import IlrsError
from ilrs.transport.budget import G0_M_S2
from ilrs.transport.forces import MOON_GM_M3_S2

if TYPE_CHECKING:
    from scipy.integrate._ivp.ivp import OdeResult

#: Lunar surface gravity for T/W [m/s^2]: GM / R^2 with the DE440 GM and the 1737.4 km mean radius.
MOON_SURFACE_G_M_S2 = MOON_GM_M3_S2 / MOON_RADIUS_M**2


@dataclass(frozen=True)
class Descent:
    """A descent from circular LLO to the surface (planar gravity turn)."""

    llo_alt_km: float  #: circular orbit altitude [km]
    thrust_to_weight: float  #: initial thrust over the lander's lunar weight at ignition [-]
    isp_s: float  #: specific impulse [s]
    ignition_alt_km: float  #: perilune (ignition) altitude found [km]
    doi_dv_m_s: float  #: descent-orbit insertion [m/s]
    powered_dv_m_s: float  #: powered descent, Isp g0 ln(m_ignition / m_final) [m/s]
    gravity_loss_m_s: float  #: integral of g . v_hat over the powered descent [m/s]
    burn_time_s: float  #: powered descent duration [s]
    downrange_km: float  #: surface arc from ignition to touchdown [km]
    propellant_fraction: float  #: propellant used over the mass before DOI [-]
    t_s: FloatArray  #: powered-descent epochs from ignition [s]
    altitude_m: FloatArray  #: altitude [m]
    speed_m_s: FloatArray  #: inertial speed [m/s]

    @property
    def total_dv_m_s(self) -> float:
        """DOI + powered descent [m/s]."""
        return self.doi_dv_m_s + self.powered_dv_m_s


def _flight(h0_m: float, r_c: float, tw: float, isp_s: float) -> tuple[float, OdeResult, float]:
    """Gravity turn from the perilune at ``h0_m`` of the DOI ellipse; returns (miss, solution, v0).

    ``miss``: the altitude where the speed vanishes [m], or minus the speed left at the surface times 10 s."""
    r0 = MOON_RADIUS_M + h0_m
    v0 = math.sqrt(2.0 * MOON_GM_M3_S2 * r_c / (r0 * (r_c + r0)))
    accel0 = tw * MOON_SURFACE_G_M_S2  # per unit initial mass
    mdot = accel0 / (isp_s * G0_M_S2)  # per unit initial mass

    def rhs(t: float, y: FloatArray) -> FloatArray:
        x, z, vx, vz, m, loss = y
        r = math.hypot(x, z)
        v = math.hypot(vx, vz)
        gx, gz = -MOON_GM_M3_S2 * x / r**3, -MOON_GM_M3_S2 * z / r**3
        a = accel0 / m
        ux, uz = (vx / v, vz / v) if v > 1e-9 else (0.0, 0.0)
        return np.array([vx, vz, gx - a * ux, gz - a * uz, -mdot, gx * ux + gz * uz])

    def stopped(t: float, y: FloatArray) -> float:
        return math.hypot(y[2], y[3]) - 0.5

    def landed(t: float, y: FloatArray) -> float:
        return math.hypot(y[0], y[1]) - MOON_RADIUS_M

    # scipy reads event options as attributes of the function
    stopped.terminal = True  # type: ignore[attr-defined]
    landed.terminal = True  # type: ignore[attr-defined]
    landed.direction = -1.0  # type: ignore[attr-defined]
    sol = solve_ivp(
        rhs,
        (0.0, 3600.0),
        np.array([0.0, r0, v0, 0.0, 1.0, 0.0]),
        method="DOP853",
        rtol=1e-10,
        atol=1e-6,
        events=(stopped, landed),
        dense_output=False,
        max_step=5.0,
    )
    x, z, vx, vz = sol.y[:4, -1]
    alt = math.hypot(x, z) - MOON_RADIUS_M
    assert sol.t_events is not None  # solve_ivp fills it when given events
    if sol.t_events[1].size:  # reached the ground still moving
        return -math.hypot(vx, vz) * 10.0, sol, v0
    return alt, sol, v0


def gravity_turn_descent(llo_alt_km: float = 100.0, thrust_to_weight: float = 2.0, isp_s: float = 311.0) -> Descent:
    """Descent from a circular orbit at ``llo_alt_km`` [km] with initial lunar ``thrust_to_weight`` and
    ``isp_s`` [s]; the ignition altitude is solved so that the gravity turn stops at the surface.

    Raises :class:`IlrsError` naming the parameter out of range (LLO 10-500 km, T/W 1.05-10, Isp 150-470 s)
    or when no ignition altitude below the orbit lands softly.
    """
    if not 10.0 <= llo_alt_km <= 500.0:
        raise IlrsError(f"LLO altitude {llo_alt_km:g} km is outside [10, 500] km", source="--llo-alt-km")
    if not 1.05 <= thrust_to_weight <= 10.0:
        raise IlrsError(f"thrust-to-weight {thrust_to_weight:g} is outside [1.05, 10]", source="--thrust-to-weight")
    if not 150.0 <= isp_s <= 470.0:
        raise IlrsError(f"Isp {isp_s:g} s is outside [150, 470] s", source="--isp-s")
    r_c = MOON_RADIUS_M + llo_alt_km * 1e3
    lo, hi = 10.0, llo_alt_km * 1e3
    f_lo, f_hi = _flight(lo, r_c, thrust_to_weight, isp_s)[0], _flight(hi, r_c, thrust_to_weight, isp_s)[0]
    if not f_lo < 0.0 < f_hi:
        raise IlrsError(
            f"no ignition altitude below {llo_alt_km:g} km lands softly at T/W {thrust_to_weight:g}",
            source="--thrust-to-weight",
            hint="raise the thrust-to-weight or the orbit",
        )
    h0 = brentq(lambda h: _flight(h, r_c, thrust_to_weight, isp_s)[0], lo, hi, xtol=0.1)
    _, sol, v0 = _flight(h0, r_c, thrust_to_weight, isp_s)
    r0 = MOON_RADIUS_M + h0
    v_c = math.sqrt(MOON_GM_M3_S2 / r_c)
    doi = v_c - math.sqrt(2.0 * MOON_GM_M3_S2 * r0 / (r_c * (r_c + r0)))
    y = sol.y
    t = sol.t
    m_final = float(y[4, -1])
    powered = isp_s * G0_M_S2 * math.log(1.0 / m_final)
    m_doi = math.exp(-doi / (isp_s * G0_M_S2))  # mass after DOI per unit mass before it
    r = np.hypot(y[0], y[1])
    return Descent(
        llo_alt_km=llo_alt_km,
        thrust_to_weight=thrust_to_weight,
        isp_s=isp_s,
        ignition_alt_km=h0 / 1e3,
        doi_dv_m_s=doi,
        powered_dv_m_s=powered,
        gravity_loss_m_s=float(y[5, -1]),
        burn_time_s=float(t[-1]),
        downrange_km=float(math.atan2(y[0, -1], y[1, -1])) * MOON_RADIUS_M / 1e3,
        propellant_fraction=1.0 - m_doi * m_final,
        t_s=np.asarray(t, dtype=np.float64),
        altitude_m=np.asarray(r - MOON_RADIUS_M, dtype=np.float64),
        speed_m_s=np.asarray(np.hypot(y[2], y[3]), dtype=np.float64),
    )
