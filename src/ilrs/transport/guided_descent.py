"""Powered descent flown like a lunar module: a fixed-throttle braking burn, then throttled explicit guidance
through gates (time, altitude, speeds) to touchdown; the Apollo 11 descent as the reference case.

Model (planar, inertial, spherical Moon of radius 1737.4 km, point-mass gravity, the Moon's rotation neglected as
in :mod:`ilrs.transport.descent`). In the local frame (``x`` downrange, ``z`` up) the motion obeys

    dv_z/dt = a_z - mu/r^2 + v_x^2/r,        dv_x/dt = a_x - v_x v_z / r,        dm/dt = -|T| / (Isp g0)

with ``a = T/m`` the thrust acceleration. The guidance is explicit "E guidance" (Cherry, "A general, explicit,
optimizing guidance law for rocket-propelled spaceflight", AIAA 64-638, 1964; the ancestor of the Apollo LM's
quadratic descent guidance, Klumpp, "Apollo lunar descent guidance", MIT/CSDL R-695, 1971): for a gate reached
``T`` seconds from now, the minimum-integral-|a|^2 (linear in time) acceleration meeting position and velocity is

    dv_z/dt = 6 (h_T - h) / T^2 - 2 (2 v_z + v_zT) / T,

and for the horizontal channel, whose position is left free, ``dv_x/dt = (v_xT - v_x) / T``. The thrust is what
that acceleration needs after gravity and the centrifugal relief, clipped to the engine's throttle range.

1. Fixed throttle (a low setting while the engine trims, then the full-throttle point): the guidance steers only
   the vertical channel toward the first gate; what the fixed thrust leaves brakes the horizontal speed.
2. Throttled: both channels, gate after gate; after the last gate a rate hold descends to the surface.

The velocity change is ``integral(|T|/m dt)``, the figure a lunar module's accelerometers report. It splits exactly
into the speed given up, the gravity loss ``integral(g . v_hat dt)`` and the steering loss
``integral(|T|/m (1 + cos phi) dt)``, phi the angle between thrust and velocity (nil for a thrust opposed to the
velocity, the gravity turn of :mod:`ilrs.transport.descent`): ``dv = |v_0| - |v_f| + gravity + steering``.
Hovering and the slow terminal phases, thrust held up across a mostly horizontal velocity, count as steering.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from ilrs.constants import MOON_RADIUS_M
from ilrs.core.arrays import FloatArray
from ilrs.errors import IlrsError
from ilrs.transport.budget import G0_M_S2
from ilrs.transport.forces import MOON_GM_M3_S2

FT_M = 0.3048  #: international foot [m]
LB_KG = 0.45359237  #: pound mass [kg]
LBF_N = 4.4482216152605  #: pound force [N]

#: Lunar surface gravity [m/s^2] (DE440 GM, 1737.4 km mean radius), for the thrust-to-weight check.
_G_SURFACE_M_S2 = MOON_GM_M3_S2 / MOON_RADIUS_M**2
_HOLD_TAU_S = 2.0  # time constant of the final rate hold: a gentle null of the last speed errors
# E guidance's gains grow as 1/T^2 near a gate; like the LM's guidance (2 s cycles) each gate hands over to the next
# one cycle before it is reached, so the residual error is not chased with a saturated engine.
_HANDOVER_S = 2.0


@dataclass(frozen=True)
class Gate:
    """A guidance target reached ``t_s`` seconds after ignition; ``vx_m_s`` None leaves the horizontal speed free
    (the horizontal channel then aims at the next gate that sets one)."""

    t_s: float  #: time after ignition [s]
    alt_m: float  #: altitude [m]
    vz_m_s: float  #: vertical speed, up positive [m/s]
    vx_m_s: float | None  #: horizontal speed [m/s] or None


@dataclass(frozen=True)
class Lander:
    """The vehicle at ignition."""

    mass_kg: float  #: mass at ignition [kg]
    rated_thrust_n: float  #: engine's rated (100 %) thrust [N]
    isp_s: float  #: specific impulse [s]
    min_throttle: float  #: lowest throttle setting [-]
    fixed_throttle: float  #: full-throttle point of the braking burn [-]


@dataclass(frozen=True)
class GuidedDescent:
    """A gated powered descent from ignition to touchdown."""

    ignition_alt_km: float  #: altitude at ignition [km]
    ignition_speed_m_s: float  #: inertial speed at ignition [m/s]
    dv_m_s: float  #: velocity change, integral of |T|/m [m/s]
    gravity_loss_m_s: float  #: integral of g . v_hat [m/s]
    steering_loss_m_s: float  #: integral of |T|/m (1 + cos(thrust, velocity)) [m/s]
    touchdown_speed_m_s: float  #: inertial speed at touchdown [m/s]
    burn_time_s: float  #: ignition to touchdown [s]
    throttle_down_alt_km: float  #: altitude at the end of the fixed-throttle burn [km]
    throttle_down_speed_m_s: float  #: inertial speed at the end of the fixed-throttle burn [m/s]
    downrange_km: float  #: surface arc from ignition to touchdown [km]
    final_mass_kg: float  #: mass at touchdown [kg]
    max_throttle_used: float  #: highest throttle flown after the fixed-throttle burn [-]
    t_s: FloatArray  #: epochs from ignition [s]
    altitude_m: FloatArray  #: altitude [m]
    speed_m_s: FloatArray  #: inertial speed [m/s]
    mass_kg: FloatArray  #: mass [kg]


def _local(y: FloatArray) -> tuple[float, float, float, float, float, float, float]:
    """(r, up_x, up_z, east_x, east_z, v_x, v_z) of a state: the local up and downrange units and speeds."""
    x, z, vx, vz = y[0], y[1], y[2], y[3]
    r = math.hypot(x, z)
    ux, uz = x / r, z / r
    ex, ez = uz, -ux  # downrange: clockwise from up, the sense of motion at ignition
    return r, ux, uz, ex, ez, vx * ex + vz * ez, vx * ux + vz * uz


def _e_guidance_z(h: float, vz: float, gate: Gate, t: float) -> float:
    """Vertical acceleration that meets the gate's altitude and vertical speed (E guidance)."""
    tgo = max(gate.t_s - t, 1.0)
    return 6.0 * (gate.alt_m - h) / tgo**2 - 2.0 * (2.0 * vz + gate.vz_m_s) / tgo


def _rhs(
    thrust_accel: Callable[[float, FloatArray], tuple[float, float]], isp_s: float
) -> Callable[[float, FloatArray], FloatArray]:
    """Equations of motion in the inertial plane with a thrust given in the local frame (a_x, a_z) [m/s^2]."""

    def rhs(t: float, y: FloatArray) -> FloatArray:
        r, ux, uz, ex, ez, _, _ = _local(y)
        ax, az = thrust_accel(t, y)
        a = math.hypot(ax, az)
        tx, tz = ax * ex + az * ux, ax * ez + az * uz
        gx, gz = -MOON_GM_M3_S2 * ux / r**2, -MOON_GM_M3_S2 * uz / r**2
        v = math.hypot(y[2], y[3])
        vhx, vhz = (y[2] / v, y[3] / v) if v > 1e-6 else (0.0, 0.0)
        cos_phi = (tx * vhx + tz * vhz) / a if a > 0.0 else 0.0
        return np.array(
            [
                y[2],
                y[3],
                gx + tx,
                gz + tz,
                -a * y[4] / (isp_s * G0_M_S2),
                a,
                gx * vhx + gz * vhz,
                a * (1.0 + cos_phi),
            ]
        )

    return rhs


def _landed(t: float, y: FloatArray) -> float:
    return math.hypot(y[0], y[1]) - MOON_RADIUS_M


_landed.terminal = True  # type: ignore[attr-defined]
_landed.direction = -1.0  # type: ignore[attr-defined]


def _stopped(t: float, y: FloatArray) -> float:
    """Horizontal speed [m/s]: a fixed-throttle burn that brings it to nil has over-braked."""
    return _local(y)[5]


_stopped.terminal = True  # type: ignore[attr-defined]
_stopped.direction = -1.0  # type: ignore[attr-defined]
_MAX_TOUCHDOWN_M_S = 5.0  # faster than a lunar module's landing gear allowed (10 ft/s vertical): a crash


def gated_descent(
    ignition_alt_m: float,
    ignition_speed_m_s: float,
    lander: Lander,
    gates: tuple[Gate, ...],
    *,
    fixed_throttle_start_s: float,
    throttle_down_s: float,
) -> GuidedDescent:
    """Fly the descent from a perilune ignition (horizontal velocity) through ``gates`` to touchdown.

    The engine runs at ``lander.min_throttle`` until ``fixed_throttle_start_s`` [s], at ``lander.fixed_throttle``
    until ``throttle_down_s`` [s], then throttles between the minimum and the full-throttle point.

    Raises :class:`IlrsError` naming the input when the lander cannot hover in lunar gravity at ignition, the
    gates are not in time order after the throttle-down, or the guidance does not reach the ground.
    """
    if not 1.0 <= ignition_alt_m <= 200e3:
        raise IlrsError(
            f"ignition altitude {ignition_alt_m / 1e3:g} km is outside [0.001, 200] km", source="--pdi-alt-km"
        )
    if not 0.0 < ignition_speed_m_s < 2500.0:
        raise IlrsError(
            f"ignition speed {ignition_speed_m_s:g} m/s is outside (0, 2500) m/s", source="ignition_speed_m_s"
        )
    if not lander.mass_kg > 0.0:
        raise IlrsError(f"mass {lander.mass_kg:g} kg must be positive", source="--mass-kg")
    if not lander.rated_thrust_n > 0.0:
        raise IlrsError(f"thrust {lander.rated_thrust_n:g} N must be positive", source="--thrust-n")
    if not 150.0 <= lander.isp_s <= 470.0:
        raise IlrsError(f"Isp {lander.isp_s:g} s is outside [150, 470] s", source="--isp-s")
    if not 0.0 < lander.min_throttle < lander.fixed_throttle <= 1.0:
        raise IlrsError("throttle settings must satisfy 0 < minimum < fixed <= 1", source="lander")
    tw = lander.fixed_throttle * lander.rated_thrust_n / (lander.mass_kg * _G_SURFACE_M_S2)
    if tw <= 1.0:
        raise IlrsError(
            f"thrust-to-weight {tw:.2f} at ignition in lunar gravity ({_G_SURFACE_M_S2:.3f} m/s^2) cannot land",
            source="--thrust-n",
            hint="raise the thrust or lower the mass",
        )
    times = [g.t_s for g in gates]
    if not gates or times != sorted(times) or not 0.0 < fixed_throttle_start_s < throttle_down_s < times[0]:
        raise IlrsError(
            "the gates must follow the throttle-down, in time order", source="gates", hint="check the gate times"
        )
    r0 = MOON_RADIUS_M + ignition_alt_m
    y = np.array([0.0, r0, ignition_speed_m_s, 0.0, lander.mass_kg, 0.0, 0.0, 0.0])
    fmax, fmin = lander.fixed_throttle * lander.rated_thrust_n, lander.min_throttle * lander.rated_thrust_n
    first = gates[0]

    def fixed(throttle: float) -> Callable[[float, FloatArray], tuple[float, float]]:
        def law(t: float, s: FloatArray) -> tuple[float, float]:
            r, *_, vx, vz = _local(s)
            a = throttle * lander.rated_thrust_n / s[4]
            az = _e_guidance_z(r - MOON_RADIUS_M, vz, first, t) + MOON_GM_M3_S2 / r**2 - vx**2 / r
            az = min(max(az, -a), a)
            return -math.sqrt(a * a - az * az), az  # the rest of the fixed thrust brakes

        return law

    def throttled(gate: Gate, xgate: Gate) -> Callable[[float, FloatArray], tuple[float, float]]:
        def law(t: float, s: FloatArray) -> tuple[float, float]:
            r, *_, vx, vz = _local(s)
            assert xgate.vx_m_s is not None  # chosen as a gate that sets one
            ax = (xgate.vx_m_s - vx) / max(xgate.t_s - t, 1.0) + vx * vz / r
            az = _e_guidance_z(r - MOON_RADIUS_M, vz, gate, t) + MOON_GM_M3_S2 / r**2 - vx**2 / r
            return _clip(ax, az, s[4])

        return law

    def hold(gate: Gate) -> Callable[[float, FloatArray], tuple[float, float]]:
        def law(t: float, s: FloatArray) -> tuple[float, float]:
            r, *_, vx, vz = _local(s)
            assert gate.vx_m_s is not None
            ax = (gate.vx_m_s - vx) / _HOLD_TAU_S + vx * vz / r
            az = (gate.vz_m_s - vz) / _HOLD_TAU_S + MOON_GM_M3_S2 / r**2 - vx**2 / r
            return _clip(ax, az, s[4])

        return law

    def _clip(ax: float, az: float, m: float) -> tuple[float, float]:
        a = math.hypot(ax, az)
        lo, hi = fmin / m, fmax / m
        if a > hi:
            return ax * hi / a, az * hi / a
        if a < lo:
            return (ax * lo / a, az * lo / a) if a > 0.0 else (0.0, lo)
        return ax, az

    segments: list[tuple[float, float, Callable[[float, FloatArray], tuple[float, float]]]] = [
        (0.0, fixed_throttle_start_s, fixed(lander.min_throttle)),
        (fixed_throttle_start_s, throttle_down_s, fixed(lander.fixed_throttle)),
    ]
    start = throttle_down_s
    for i, gate in enumerate(gates):
        xgate = next((g for g in gates[i:] if g.vx_m_s is not None), None)
        if xgate is None:
            raise IlrsError("a gate after the throttle-down must set the horizontal speed", source="gates")
        segments.append((start, gate.t_s - _HANDOVER_S, throttled(gate, xgate)))
        start = gate.t_s - _HANDOVER_S
    last = gates[-1]
    if last.vx_m_s is None:
        raise IlrsError("the last gate must set the horizontal speed", source="gates")
    segments.append((start, start + 300.0, hold(last)))

    ts, ys = [np.zeros(1)], [y[:, None]]
    down = None
    for k, (t0, t1, law) in enumerate(segments):
        sol = solve_ivp(
            _rhs(law, lander.isp_s),
            (t0, t1),
            y,
            method="RK45",
            rtol=1e-9,
            atol=1e-6,
            max_step=0.5,
            events=(_landed, _stopped) if k < 2 else (_landed,),
        )
        ts.append(sol.t[1:])
        ys.append(sol.y[:, 1:])
        y = sol.y[:, -1].copy()
        if t1 == throttle_down_s:
            down = y.copy()
        if y[4] <= 0.0:
            raise IlrsError("the lander ran out of mass before touchdown", source="--mass-kg")
        assert sol.t_events is not None
        if k < 2 and sol.t_events[1].size:
            raise IlrsError(
                f"the fixed-throttle burn stops the horizontal motion {sol.t_events[1][0]:.0f} s after ignition, "
                "before the throttle-down",
                source="--thrust-n",
                hint="lower the thrust or raise the mass",
            )
        if sol.t_events[0].size:
            break
    else:
        raise IlrsError(
            "the guidance did not reach the ground within 300 s of the last gate",
            source="gates",
            hint="lower the last gate",
        )
    if down is None:
        raise IlrsError("the lander reached the ground before the throttle-down", source="gates")
    v_touch = math.hypot(y[2], y[3])
    if v_touch > _MAX_TOUCHDOWN_M_S:
        raise IlrsError(
            f"the lander reaches the ground at {v_touch:.0f} m/s: the thrust cannot meet the gates",
            source="--thrust-n",
            hint="raise the thrust or lower the mass",
        )
    t = np.concatenate(ts)
    yy = np.concatenate(ys, axis=1)
    r = np.hypot(yy[0], yy[1])
    late = t > throttle_down_s
    flown = -np.diff(yy[4]) / np.diff(t) * lander.isp_s * G0_M_S2 / lander.rated_thrust_n  # throttle per step
    return GuidedDescent(
        ignition_alt_km=ignition_alt_m / 1e3,
        ignition_speed_m_s=ignition_speed_m_s,
        dv_m_s=float(y[5]),
        gravity_loss_m_s=float(y[6]),
        steering_loss_m_s=float(y[7]),
        touchdown_speed_m_s=v_touch,
        burn_time_s=float(t[-1]),
        throttle_down_alt_km=(math.hypot(down[0], down[1]) - MOON_RADIUS_M) / 1e3,
        throttle_down_speed_m_s=float(math.hypot(down[2], down[3])),
        downrange_km=float(math.atan2(y[0], y[1])) * MOON_RADIUS_M / 1e3,
        final_mass_kg=float(y[4]),
        max_throttle_used=float(flown[late[1:]].max()),
        t_s=np.asarray(t, dtype=np.float64),
        altitude_m=np.asarray(r - MOON_RADIUS_M, dtype=np.float64),
        speed_m_s=np.asarray(np.hypot(yy[2], yy[3]), dtype=np.float64),
        mass_kg=np.asarray(yy[4], dtype=np.float64),
    )


# Apollo 11 (LM-5 "Eagle"), 20 July 1969. Ignition at 102:33:05 GET; the figures and where they were read are
# listed in :func:`apollo11_descent`.
APOLLO11_PDI_ALT_M = 48_814.0 * FT_M  #: PDI altitude, 14.88 km [m]
APOLLO11_PDI_SPEED_M_S = 5_560.0 * FT_M  #: PDI inertial speed, 1,694.7 m/s [m/s]
APOLLO11_PDI_MASS_KG = 33_401.6 * LB_KG  #: LM at DOI cutoff, 15,150.8 kg (no DPS burn until PDI) [kg]
APOLLO11_LANDING_MASS_KG = 16_153.2 * LB_KG  #: LM at landing, 7,327.0 kg [kg]
APOLLO11_RATED_THRUST_N = 10_500.0 * LBF_N  #: DPS maximum-rated thrust, 46.7 kN [N]
APOLLO11_ISP_S = 305.0  #: DPS specific impulse, end-of-duty-cycle specification [s]
APOLLO11_DV_M_S = 6_775.0 * FT_M  #: powered-descent velocity change, 2,065.0 m/s [m/s]
APOLLO11_BURN_S = 756.3  #: powered-descent duration [s]
APOLLO11_THROTTLE_DOWN_S = 386.0  #: end of the full-throttle-point burn after ignition [s]
APOLLO11_THROTTLE_DOWN_ALT_M = 22_984.0 * FT_M  #: altitude at the throttle-down, 7.01 km [m]
APOLLO11_GATES = (
    Gate(506.0, 7_129.0 * FT_M, -124.9 * FT_M, None),  # P64 (high gate) at 102:41:31
    Gate(617.0, 410.0 * FT_M, -10.0 * FT_M, 60.3 * FT_M),  # P66 (manual rate of descent) at 102:43:22
    Gate(755.0, 0.0, -1.7 * FT_M, 2.7 * FT_M),  # contact at 102:45:40
)


def apollo11_descent(
    mass_kg: float | None = None,
    rated_thrust_n: float | None = None,
    isp_s: float | None = None,
    pdi_alt_km: float | None = None,
) -> GuidedDescent:
    """Apollo 11's powered descent flown like for like: PDI state, LM mass, DPS thrust, Isp, throttle schedule
    and the P64 / P66 / contact gates of the flight.

    Parameters
    ----------
    mass_kg : LM mass at PDI [kg]; None: the flown 15,150.8 kg.
    rated_thrust_n : DPS rated thrust [N]; None: 46,706 N. The braking burn runs at 92.5 % of it, the throttled
        phases at 10-92.5 %.
    isp_s : DPS specific impulse [s]; None: 305 s.
    pdi_alt_km : PDI altitude [km]; None: the flown 14.88 km.

    Published figures (NASA documents, every one read as quoted in public sources, not on the scans themselves):

    - Apollo 11 Mission Report, MSC-00171 (NASA, Nov. 1969), section 9.8: the powered descent lasted 756.3 s for
      about 6,775 ft/s (2,065.0 m/s) of velocity change, beginning at minimum throttle and advanced to full
      throttle after about 26 s; Appendix A, table A-I: LM 33,401.6 lb at DOI cutoff, 16,153.2 lb at landing.
      Read as quoted in the source catalogue ``APOLLO11_DESCENT...SOURCE_CATALOG`` addendum of a public GitHub
      project (search-index file id 69605812410); the throttle-down 386 s after ignition as quoted in another
      (id 70776951767), and at 102:39:31 (386 s) with 22,984 ft in a third (id 58307907107).
    - F. V. Bennett, "Apollo Experience Report - Mission Planning for Lunar Module Descent and Ascent", NASA TN
      D-6846 (1972): PDI at 48,814 ft and 5,560 ft/s (id 70776951767); the third source gives 49,971 ft and
      5,559.7 ft/s at PDI. Gates (id 58307907107): P64 at 102:41:31, 7,129 ft, 124.9 ft/s down (the Mission
      Report's 7,129 ft at 125 ft/s as quoted in id 70776951767); P66 at 102:43:22, 410 ft, 60.3 ft/s forward,
      10 ft/s down; contact at 102:45:40, 2.7 ft/s forward; 1.7 ft/s down at touchdown (NASA TN D-6850 as quoted
      in id 70776951767).
    - "Apollo Experience Report - Descent Propulsion System", NASA TN D-7143 (1973): 10,500 lbf rated thrust,
      305 lbf-s/lbm end-of-duty Isp (id 69605812410), full-throttle point 92.5 % (id 70776951767).
    """
    lander = Lander(
        APOLLO11_PDI_MASS_KG if mass_kg is None else mass_kg,
        APOLLO11_RATED_THRUST_N if rated_thrust_n is None else rated_thrust_n,
        APOLLO11_ISP_S if isp_s is None else isp_s,
        min_throttle=0.10,
        fixed_throttle=0.925,
    )
    return gated_descent(
        APOLLO11_PDI_ALT_M if pdi_alt_km is None else pdi_alt_km * 1e3,
        APOLLO11_PDI_SPEED_M_S,
        lander,
        APOLLO11_GATES,
        fixed_throttle_start_s=26.0,
        throttle_down_s=APOLLO11_THROTTLE_DOWN_S,
    )


def apollo11_figures(d: GuidedDescent) -> dict[str, float]:
    """The descent's scalar figures next to Apollo 11's published ones (the ``--case apollo11`` report)."""
    return {
        "pdi_alt_km": d.ignition_alt_km,
        "pdi_speed_m_s": d.ignition_speed_m_s,
        "powered_dv_m_s": d.dv_m_s,
        "published_dv_m_s": APOLLO11_DV_M_S,
        "dv_difference_pct": 100.0 * (d.dv_m_s / APOLLO11_DV_M_S - 1.0),
        "gravity_loss_m_s": d.gravity_loss_m_s,
        "steering_loss_m_s": d.steering_loss_m_s,
        "burn_time_s": d.burn_time_s,
        "published_burn_time_s": APOLLO11_BURN_S,
        "throttle_down_alt_km": d.throttle_down_alt_km,
        "published_throttle_down_alt_km": APOLLO11_THROTTLE_DOWN_ALT_M / 1e3,
        "final_mass_kg": d.final_mass_kg,
        "published_landing_mass_kg": APOLLO11_LANDING_MASS_KG,
        "max_throttle_after_throttle_down": d.max_throttle_used,
        "downrange_km": d.downrange_km,
    }
