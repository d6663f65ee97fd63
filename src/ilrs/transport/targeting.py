"""Trans-lunar transfers targeted in the ephemeris model by differential correction, and lunar orbit insertion.

Method (the single-shooting targeter of GMAT's ``Target``/``Vary``/``Achieve`` and of Apollo-era mission
design; e.g. Vallado, "Fundamentals of Astrodynamics and Applications", 4th ed., 2013, sec. 12.9 on B-plane
and periapsis targeting):

1. **First guess (patched conics).** The Lambert arc of :func:`ilrs.transport.transfer.direct_transfer` to the
   Moon's centre gives the arrival excess velocity ``v_inf``. The selenocentric hyperbola with periapsis radius
   ``r_p`` and inclination ``i`` to the lunar equator has impact parameter ``b = r_p sqrt(1 + 2 mu / (r_p
   v_inf^2))``; its B-vector ``b (cos t T + sin t R)`` (B-plane axes T = S x k / |S x k|, R = S x T, S the
   asymptote, k the lunar pole) gives angular momentum along ``sin t T - cos t R``, so ``cos i = -cos t (R . k)``,
   solvable only for ``i >= |declination of S|``. Of the two solutions, the one whose periapsis lies in the
   requested hemisphere is kept. The Lambert arc is then re-aimed at ``r_moon + B``.
2. **Differential correction.** Controls: the TLI velocity (3 components, the TLI point and epoch fixed).
   Targets: periapsis radius, inclination (MOON_ME pole) and periapsis epoch ``depart + tof``, each evaluated
   at the first periapsis passage of the flight in the Earth + Moon + Sun ephemeris model with Earth J2 and
   lunar J2/C22 (:mod:`ilrs.transport.forces`). Newton's method with a forward-difference Jacobian (1 mm/s
   perturbations: the periapsis moves by ~1 km per mm/s, 1e6 times the integrator's noise), and step halving
   while the scaled residual does not decrease.
3. **LOI** at the converged periapsis: one tangential impulse into the circular orbit of that radius,
   ``|v_p| - sqrt(mu / r_p)``.

TLI is the impulse from the circular parking orbit through the TLI point in the plane of the departure
velocity: ``|v1 - v_circ|``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.core.lambert import lambert
from ilrs.errors import IlrsError
from ilrs.transport import forces
from ilrs.transport.forces import EARTH_GM_M3_S2, MOON_GM_M3_S2, Flight, ForceModel
from ilrs.transport.transfer import EARTH_RADIUS_M, direct_transfer

_DAY_S = 86_400.0
#: Converged when |dr_p| < 1 m, |di| < 1e-5 deg and |dt_p| < 0.01 s (all far below what the model can claim).
TOL_RP_M = 1.0
TOL_INC_DEG = 1e-5
TOL_TP_S = 0.01
#: Residual scales for the step-halving merit function: 1 km, 0.01 deg, 1 s count alike.
_SCALE = np.array([1e3, 0.01, 1.0])
MAX_ITERATIONS = 25
#: Secant iterations on the first guess's aim time that place the periapsis at the requested epoch.
MAX_OUTER = 12
#: Finite-difference velocity perturbation [m/s].
_DV_FD = 1e-3
#: Periapsis passages farther than this from the Moon are not arrivals [m] (beyond the Moon's Hill sphere,
#: ~60,000 km).
ARRIVAL_MAX_M = 6.0e7


@dataclass(frozen=True)
class TargetedTransfer:
    """A trans-lunar transfer targeted in the ephemeris model, with LOI at the targeted periapsis."""

    depart_et: float  #: TLI epoch [s past J2000 TDB]
    periapsis_et: float  #: lunar periapsis (LOI) epoch [s past J2000 TDB]
    r1: np.ndarray  #: geocentric J2000 position at TLI [m]
    v1: np.ndarray  #: geocentric J2000 velocity just after TLI [m/s]
    tli_dv_m_s: float  #: TLI impulse from the circular parking orbit [m/s]
    loi_dv_m_s: float  #: LOI impulse into the circular orbit of the periapsis radius [m/s]
    periapsis_radius_m: float  #: achieved lunar periapsis radius [m]
    inclination_deg: float  #: achieved inclination to the lunar equator (MOON_ME) [deg]
    target_radius_m: float  #: requested periapsis radius [m]
    target_inclination_deg: float  #: requested inclination [deg]
    target_periapsis_et: float  #: requested periapsis epoch [s]
    iterations: int  #: Newton iterations
    periapsis_state_moon: np.ndarray  #: selenocentric J2000 state at periapsis, before LOI [m, m/s]
    first_guess_tli_dv_m_s: float  #: TLI of the patched-conic first guess [m/s]
    first_guess_periapsis_radius_m: float  #: periapsis radius the first guess reaches in the model [m]
    flight: Flight = field(repr=False)  #: geocentric states from TLI to periapsis (the last one at periapsis)

    @property
    def tof_s(self) -> float:
        """TLI to periapsis [s]."""
        return self.periapsis_et - self.depart_et

    @property
    def total_dv_m_s(self) -> float:
        return self.tli_dv_m_s + self.loi_dv_m_s

    @property
    def residuals(self) -> dict[str, float]:
        """Targeting residuals: periapsis radius [m], inclination [deg], periapsis epoch [s]."""
        return {
            "periapsis_radius_error_m": self.periapsis_radius_m - self.target_radius_m,
            "inclination_error_deg": self.inclination_deg - self.target_inclination_deg,
            "periapsis_epoch_error_s": self.periapsis_et - self.target_periapsis_et,
            "iterations": self.iterations,
        }


def tli_dv(r1: np.ndarray, v1: np.ndarray) -> float:
    """Impulse from the circular orbit through ``r1`` in the plane of (r1, v1) to ``v1`` [m/s]."""
    h = np.cross(r1, v1)
    t_hat = np.cross(h, r1)
    v_circ = math.sqrt(EARTH_GM_M3_S2 / np.linalg.norm(r1)) * t_hat / np.linalg.norm(t_hat)
    return float(np.linalg.norm(v1 - v_circ))


def b_vector(v_inf: np.ndarray, pole: np.ndarray, rp_m: float, inc_deg: float, hemisphere: str = "south") -> np.ndarray:
    """The B-vector [m] of the selenocentric hyperbola with excess velocity ``v_inf`` [m/s], periapsis radius
    ``rp_m`` and inclination ``inc_deg`` to the equator of ``pole``; periapsis in ``hemisphere``.

    Raises :class:`IlrsError` if the inclination is below the asymptote's declination (no such plane).
    """
    vinf = float(np.linalg.norm(v_inf))
    s = v_inf / vinf
    t = np.cross(s, pole)
    t /= np.linalg.norm(t)
    r = np.cross(s, t)
    rk = float(r @ pole)
    decl = math.degrees(math.asin(np.clip(s @ pole, -1.0, 1.0)))
    c = -math.cos(math.radians(inc_deg)) / rk
    if abs(c) > 1.0:
        raise IlrsError(
            f"inclination {inc_deg:g} deg cannot be reached: the arrival asymptote's declination is {decl:.2f} deg, "
            f"so the inclination must lie in [{abs(decl):.2f}, {180 - abs(decl):.2f}] deg",
            source="--inc-deg",
            hint="raise the inclination or change the departure/time of flight",
        )
    b = rp_m * math.sqrt(1.0 + 2.0 * MOON_GM_M3_S2 / (rp_m * vinf**2))
    best = None
    for th in (math.acos(c), -math.acos(c)):
        bvec = b * (math.cos(th) * t + math.sin(th) * r)
        # periapsis direction of the hyperbola through a far point on the incoming asymptote
        rr = bvec - 1e9 * s
        e = ((vinf**2 - MOON_GM_M3_S2 / np.linalg.norm(rr)) * rr - (rr @ (vinf * s)) * vinf * s) / MOON_GM_M3_S2
        z = float(e @ pole)
        if best is None or (z < best[0] if hemisphere == "south" else z > best[0]):
            best = (z, bvec)
    assert best is not None
    return best[1]


def _evaluate(
    model: ForceModel, et0: float, r1: np.ndarray, v1: np.ndarray, t_span_end: float
) -> tuple[float, np.ndarray, Flight] | None:
    """Periapsis epoch, selenocentric state there, and the flight; None if no lunar periapsis is reached."""
    f = forces.propagate(
        model,
        et0,
        np.concatenate((r1, v1)),
        t_span_end,
        h_max_s=3600.0,
        periapsis_max_m=ARRIVAL_MAX_M,
        stop_at_periapsis=True,
    )
    if f.periapsis_et.size == 0:
        return None
    tp = float(f.periapsis_et[0])
    rel = f.periapsis_state[0] - model.moon_state(tp)
    return tp, rel, f


def _targets(tp: float, rel: np.ndarray) -> np.ndarray:
    """(periapsis radius [m], inclination [deg])."""
    return np.array([np.linalg.norm(rel[:3]), forces.inclination_deg(rel[:3], rel[3:], tp)])


def _first_guess(
    model: ForceModel, r1: np.ndarray, depart_et: float, aim_tof: float, rp: float, inc_deg: float, hemisphere: str
) -> np.ndarray:
    """TLI velocity of the Lambert arc from ``r1`` to the Moon's position plus the B-vector after ``aim_tof``."""
    t_arr = depart_et + aim_tof
    moon = model.moon_state(t_arr)
    prograde = bool(np.cross(moon[:3], moon[3:])[2] >= 0)
    _, v2 = lambert(r1, moon[:3], aim_tof, EARTH_GM_M3_S2, prograde=prograde)
    bvec = b_vector(v2 - moon[3:], forces.moon_pole_me_j2000(t_arr), rp, inc_deg, hemisphere)
    v1, _ = lambert(r1, moon[:3] + bvec, aim_tof, EARTH_GM_M3_S2, prograde=prograde)
    return v1


def _correct(
    model: ForceModel,
    et0: float,
    r1: np.ndarray,
    v1: np.ndarray,
    ev: tuple[float, np.ndarray, Flight],
    goal: np.ndarray,
    t_end: float,
) -> tuple[np.ndarray, tuple[float, np.ndarray, Flight], int]:
    """Newton on the TLI velocity for (periapsis radius, inclination): minimum-norm steps (3 controls, 2
    targets), forward-difference Jacobian, step halving while the scaled residual does not decrease."""
    scale = _SCALE[:2]
    y = _targets(ev[0], ev[1])
    res = (y - goal) / scale
    for it in range(MAX_ITERATIONS + 1):
        if abs(y[0] - goal[0]) < TOL_RP_M and abs(y[1] - goal[1]) < TOL_INC_DEG:
            return v1, ev, it
        if it == MAX_ITERATIONS:
            break
        jac = np.empty((2, 3))
        for k in range(3):
            v = v1.copy()
            v[k] += _DV_FD
            e = _evaluate(model, et0, r1, v, t_end)
            if e is None:
                raise IlrsError("targeting lost the Moon while differencing", source="--tof-days")
            jac[:, k] = (_targets(e[0], e[1]) - y) / scale / _DV_FD
        step = -np.linalg.lstsq(jac, res, rcond=None)[0]
        lam = 1.0
        for _ in range(16):
            e = _evaluate(model, et0, r1, v1 + lam * step, t_end)
            if e is not None:
                y_try = _targets(e[0], e[1])
                res_try = (y_try - goal) / scale
                if np.linalg.norm(res_try) < np.linalg.norm(res):
                    break
            lam *= 0.5
        else:
            break
        v1, y, res, ev = v1 + lam * step, y_try, res_try, e
    raise IlrsError(
        f"targeting did not converge (periapsis radius off by {y[0] - goal[0]:.0f} m, inclination by "
        f"{y[1] - goal[1]:.4f} deg)",
        source="--tof-days",
        hint="try another time of flight (3.5-5 d) or departure",
    )


def targeted_transfer(
    depart_et: float,
    tof_s: float,
    periapsis_alt_km: float = 100.0,
    inc_deg: float = 90.0,
    parking_alt_km: float = 200.0,
    *,
    hemisphere: str = "south",
    record_step_s: float = 600.0,
) -> TargetedTransfer:
    """A trans-lunar transfer that reaches a lunar periapsis of given altitude and inclination at a given epoch.

    Parameters
    ----------
    depart_et : float
        TLI epoch [s past J2000 TDB].
    tof_s : float
        TLI to lunar periapsis [s] (2.5 to 6 days).
    periapsis_alt_km : float
        Periapsis altitude above the 1737.4 km sphere [km] (10 to 20,000).
    inc_deg : float
        Inclination of the arrival orbit to the lunar equator (MOON_ME) [deg]; 90 for a polar orbit.
    parking_alt_km : float
        Circular parking orbit altitude [km] (the TLI point lies on it).
    hemisphere : {"south", "north"}
        Where the periapsis lies (the branch of the first guess; south for a south-polar landing).
    record_step_s : float
        Largest spacing of the states kept for export [s].

    Returns
    -------
    TargetedTransfer
    """
    if not 2.5 * _DAY_S <= tof_s <= 6.0 * _DAY_S:
        raise IlrsError(
            f"time of flight {tof_s / _DAY_S:.3g} d is outside [2.5, 6] d for a direct transfer",
            source="--tof-days",
            hint="direct trans-lunar transfers take 3-5 days",
        )
    if not 10.0 <= periapsis_alt_km <= 20_000.0:
        raise IlrsError(
            f"periapsis altitude {periapsis_alt_km:g} km is outside [10, 20000] km",
            source="--llo-alt-km",
            hint="a low lunar orbit is 50-200 km",
        )
    if not 0.0 <= inc_deg <= 180.0:
        raise IlrsError(f"inclination {inc_deg:g} deg is outside [0, 180] deg", source="--inc-deg")
    if hemisphere not in ("south", "north"):
        raise IlrsError(f"hemisphere must be 'south' or 'north', got {hemisphere!r}", source="hemisphere")
    if not 150.0 <= parking_alt_km <= 2000.0:
        raise IlrsError(
            f"parking orbit altitude {parking_alt_km:g} km is outside [150, 2000] km", source="--parking-alt-km"
        )
    t_target = depart_et + tof_s
    t_end = t_target + 1.5 * _DAY_S
    forces.check_span(depart_et, t_end + 2 * forces.TABLE_STEP_S, "--depart")
    model = forces.force_model(depart_et, t_end, "earth", source="--depart")
    rp_target = MOON_RADIUS_M + periapsis_alt_km * 1e3

    pc = direct_transfer(depart_et, tof_s, parking_alt_km, periapsis_alt_km)
    r1 = pc.r1
    goal = np.array([rp_target, inc_deg])
    # outer loop: secant on the first guess's aim time until the periapsis falls on the requested epoch
    aim_tof = tof_s
    history: list[tuple[float, float]] = []
    iterations = 0
    first_rp = float("nan")
    for _outer in range(MAX_OUTER):
        v1 = _first_guess(model, r1, depart_et, aim_tof, rp_target, inc_deg, hemisphere)
        ev = _evaluate(model, depart_et, r1, v1, t_end)
        if ev is None:
            raise IlrsError(
                "the patched-conic first guess does not reach the Moon in the ephemeris model",
                source="--tof-days",
                hint="try a time of flight of 3.5-5 days",
            )
        if _outer == 0:
            first_rp = float(np.linalg.norm(ev[1][:3]))
        v1, ev, n_it = _correct(model, depart_et, r1, v1, ev, goal, t_end)
        iterations += n_it
        dt = ev[0] - t_target
        history.append((aim_tof, dt))
        if abs(dt) < TOL_TP_S:
            break
        if len(history) == 1:
            aim_tof -= dt
        else:
            (a0, d0), (a1, d1) = history[-2], history[-1]
            aim_tof = a1 - d1 * (a1 - a0) / (d1 - d0) if d1 != d0 else a1 - d1
        if not 1.5 * _DAY_S < aim_tof < 7.0 * _DAY_S:
            raise IlrsError(
                f"cannot place the periapsis at the requested epoch (aim time of flight {aim_tof / _DAY_S:.2f} d)",
                source="--tof-days",
                hint="try a time of flight of 3.5-5 days",
            )
    else:
        raise IlrsError(
            f"periapsis epoch did not converge in {MAX_OUTER} outer iterations (off by {history[-1][1]:.1f} s)",
            source="--tof-days",
            hint="try another time of flight (3.5-5 d) or departure",
        )

    # final flight, recorded densely enough for export
    final = forces.propagate(
        model,
        depart_et,
        np.concatenate((r1, v1)),
        t_end,
        h_max_s=record_step_s,
        periapsis_max_m=ARRIVAL_MAX_M,
        stop_at_periapsis=True,
    )
    tp = float(final.periapsis_et[0])
    rel = final.periapsis_state[0] - model.moon_state(tp)
    rp = float(np.linalg.norm(rel[:3]))
    if rp < MOON_RADIUS_M:
        raise IlrsError("targeted periapsis lies below the surface", source="--llo-alt-km")
    loi = float(np.linalg.norm(rel[3:])) - math.sqrt(MOON_GM_M3_S2 / rp)
    return TargetedTransfer(
        depart_et=float(depart_et),
        periapsis_et=tp,
        r1=r1.copy(),
        v1=v1.copy(),
        tli_dv_m_s=tli_dv(r1, v1),
        loi_dv_m_s=loi,
        periapsis_radius_m=rp,
        inclination_deg=forces.inclination_deg(rel[:3], rel[3:], tp),
        target_radius_m=rp_target,
        target_inclination_deg=float(inc_deg),
        target_periapsis_et=float(t_target),
        iterations=iterations,
        periapsis_state_moon=rel,
        first_guess_tli_dv_m_s=pc.tli_dv_m_s,
        first_guess_periapsis_radius_m=first_rp,
        flight=final,
    )


def check_parking(r1: np.ndarray) -> float:
    """Parking orbit altitude of the TLI point [km] (for reports)."""
    return (float(np.linalg.norm(r1)) - EARTH_RADIUS_M) / 1e3
