"""The ephemeris force model of transfers and lunar orbits: DE440s bodies from SPICE, Earth J2, lunar J2 and C22.

:func:`force_model` samples the Moon's and the Sun's geocentric J2000 states and the J2000 -> MOON_PA_DE440
rotation (with its rate) from SPICE on a uniform grid; :func:`propagate` flies a state through
:func:`ilrs.core.nbody.propagate` with them. Cubic Hermite interpolation of SPICE positions and velocities on a
1-hour grid errs by at most h^4 |r''''| / 384 ~ 1 cm for the Moon (|r''''| ~ a n^2 ~ 2e-14 m/s^4), far below the
model's own error (the omitted degree >= 3 lunar field moves a 100 km orbit by kilometres per day).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import spiceypy

from ilrs.constants import MOON_ME_FRAME, NAIF_EARTH, NAIF_MOON, NAIF_SUN
from ilrs.core import nbody
from ilrs.ephem.kernels import SPICE_LOCK, ensure_loaded
from ilrs.ephem.time import coverage, utc_text
from ilrs.errors import IlrsError

#: Earth GM [m^3/s^2]: 398600.4418 km^3/s^2, IERS Conventions (2010), Table 1.1 (TT-compatible; EGM2008/WGS 84).
EARTH_GM_M3_S2 = 3.986004418e14
#: Moon GM [m^3/s^2]: 4902.800118 km^3/s^2 of DE440 (Park et al. 2021, AJ 161:105).
MOON_GM_M3_S2 = 4.902800118e12
#: Sun GM [m^3/s^2]: DE440 value 132712440041.279419 km^3/s^2 (Park et al. 2021, AJ 161:105, Table 8).
SUN_GM_M3_S2 = 1.32712440041279419e20
#: Earth J2 (unnormalised, zero-tide) and its reference radius [m]: IERS Conventions (2010), Table 1.1
#: (J2 = 1.0826359e-3, a_E = 6378136.6 m; EGM2008).
EARTH_J2 = 1.0826359e-3
EARTH_J2_RADIUS_M = 6_378_136.6
#: Lunar J2 and C22 (unnormalised, principal-axis frame) and their reference radius [m]: GRAIL field GL0660B,
#: Konopliv et al. 2013, JGR Planets 118:1415, degree-2 terms (J2 = 2.0321e-4, C22 = 2.2382e-5, R = 1738.0 km).
#: They follow to 4 digits from the moments of inertia of Williams et al. 2014 (JGR Planets 119:1546):
#: C/MR^2 = 0.393142, beta = 631.0213e-6, gamma = 227.7317e-6 give C22 = gamma c / 4 and
#: J2 = c ((beta - gamma) / (1 + beta) + gamma / 2) (checked in tests/test_transfer_nbody.py).
MOON_J2 = 2.0321e-4
MOON_C22 = 2.2382e-5
MOON_GRAVITY_RADIUS_M = 1_738_000.0
#: SPICE name of the lunar principal-axis frame the harmonics refer to (DE440 PA, moon_pa_de440_200625.bpc).
MOON_PA_FRAME = "MOON_PA_DE440"
#: Node spacing of the ephemeris tables [s] (error budget in the module docstring).
TABLE_STEP_S = 3600.0

_ARCSEC = math.pi / (180.0 * 3600.0)


def earth_mean_pole_j2000(et: float) -> np.ndarray:
    """Unit vector of the Earth's mean pole of date in J2000 (IAU 1976 precession, Lieske et al. 1977, A&A 58:1).

    With P = R3(-z_A) R2(theta_A) R3(-zeta_A) (J2000 -> mean of date) the pole is P^T e_z =
    (sin theta cos zeta, -sin theta sin zeta, cos theta). Nutation (<= 9") is omitted: it tilts J2's pull by
    5e-5 rad at most.
    """
    t = et / (36525.0 * 86400.0)
    zeta = (2306.2181 * t + 0.30188 * t**2 + 0.017998 * t**3) * _ARCSEC
    theta = (2004.3109 * t - 0.42665 * t**2 - 0.041833 * t**3) * _ARCSEC
    return np.array([math.sin(theta) * math.cos(zeta), -math.sin(theta) * math.sin(zeta), math.cos(theta)])


@dataclass(frozen=True)
class ForceModel:
    """Tables and parameters for :func:`ilrs.core.nbody.propagate` on ``[t_start, t_end]`` [s TDB]."""

    par: np.ndarray
    tab: np.ndarray  # (t0, h)
    moon_p: np.ndarray
    moon_v: np.ndarray
    sun_p: np.ndarray
    sun_v: np.ndarray
    rot_p: np.ndarray
    rot_d: np.ndarray
    t_start: float
    t_end: float

    @property
    def central(self) -> str:
        return "moon" if self.par[nbody.P_CENTRAL] > 0.5 else "earth"

    def moon_state(self, et: float) -> np.ndarray:
        """The Moon's geocentric J2000 state from the tables [m, m/s]."""
        out = np.empty(6)
        nbody.hermite(self.tab[0], self.tab[1], self.moon_p, self.moon_v, float(et), out)
        return out


def check_span(t0: float, t1: float, source: str) -> None:
    """Raise :class:`IlrsError` naming ``source`` unless [t0, t1] lies inside the ephemeris coverage."""
    lo, hi = coverage()
    if not (math.isfinite(t0) and math.isfinite(t1)) or t0 < lo or t1 > hi:
        bad = t0 if not t0 >= lo else t1
        raise IlrsError(
            f"epoch {utc_text(bad) if math.isfinite(bad) else bad} is outside the DE440s/lunar-orientation "
            f"coverage {utc_text(lo)} .. {utc_text(hi)} (the flight must fit inside it)",
            source=source,
            hint="choose a departure inside that range",
        )


def force_model(
    t0: float,
    t1: float,
    central: str = "earth",
    *,
    step_s: float = TABLE_STEP_S,
    earth_j2: bool = True,
    moon_harmonics: bool = True,
    sun: bool = True,
    source: str = "epoch",
) -> ForceModel:
    """Sample the bodies on ``[t0, t1]`` (with two nodes of margin) and pack the force parameters.

    Parameters
    ----------
    t0, t1 : float
        Span to cover [s past J2000 TDB].
    central : {"earth", "moon"}
        Origin of the propagated state.
    earth_j2, moon_harmonics, sun : bool
        Switch the Earth's J2, the Moon's J2 and C22, and the Sun off (for tests and comparisons).
    source : str
        Parameter named in errors (e.g. ``--depart``).
    """
    ensure_loaded()
    if central not in ("earth", "moon"):
        raise IlrsError(f"central body must be 'earth' or 'moon', got {central!r}", source="central")
    a, b = min(t0, t1) - 2 * step_s, max(t0, t1) + 2 * step_s
    check_span(a, b, source)
    n = int(math.ceil((b - a) / step_s)) + 1
    ets = a + step_s * np.arange(n)
    moon = np.empty((n, 6))
    sunst = np.empty((n, 6))
    rot = np.empty((n, 9))
    rotd = np.empty((n, 9))
    with SPICE_LOCK:
        for i, et in enumerate(ets):
            moon[i] = spiceypy.spkez(NAIF_MOON, float(et), "J2000", "NONE", NAIF_EARTH)[0]
            sunst[i] = spiceypy.spkez(NAIF_SUN, float(et), "J2000", "NONE", NAIF_EARTH)[0]
            x = np.asarray(spiceypy.sxform("J2000", MOON_PA_FRAME, float(et)))
            rot[i] = x[:3, :3].ravel()
            rotd[i] = x[3:, :3].ravel()
    moon *= 1e3
    sunst *= 1e3
    par = np.zeros(nbody.N_PAR)
    par[nbody.P_MU_EARTH] = EARTH_GM_M3_S2
    par[nbody.P_MU_MOON] = MOON_GM_M3_S2
    par[nbody.P_MU_SUN] = SUN_GM_M3_S2 if sun else 0.0
    par[nbody.P_J2_EARTH] = EARTH_J2 if earth_j2 else 0.0
    par[nbody.P_R_EARTH] = EARTH_J2_RADIUS_M
    par[nbody.P_J2_MOON] = MOON_J2 if moon_harmonics else 0.0
    par[nbody.P_C22_MOON] = MOON_C22 if moon_harmonics else 0.0
    par[nbody.P_R_MOON] = MOON_GRAVITY_RADIUS_M
    par[nbody.P_POLE_EARTH : nbody.P_POLE_EARTH + 3] = earth_mean_pole_j2000(0.5 * (t0 + t1))
    par[nbody.P_CENTRAL] = 1.0 if central == "moon" else 0.0
    return ForceModel(
        par=par,
        tab=np.array([a, step_s]),
        moon_p=np.ascontiguousarray(moon[:, :3]),
        moon_v=np.ascontiguousarray(moon[:, 3:]),
        sun_p=np.ascontiguousarray(sunst[:, :3]),
        sun_v=np.ascontiguousarray(sunst[:, 3:]),
        rot_p=rot,
        rot_d=rotd,
        t_start=float(a + step_s),
        t_end=float(b - step_s),
    )


@dataclass(frozen=True)
class Flight:
    """A propagated arc: recorded states and periapsis passages with respect to the Moon."""

    et: np.ndarray  #: epochs of the recorded states [s past J2000 TDB], (n,)
    state: np.ndarray  #: states relative to the central body, J2000 [m, m/s], (n, 6)
    periapsis_et: np.ndarray  #: epochs of periapsis passages [s], (k,)
    periapsis_state: np.ndarray  #: states there, relative to the central body [m, m/s], (k, 6)
    status: int  #: :data:`ilrs.core.nbody.DONE`, ``AT_PERIAPSIS``, ``IMPACT``, ...
    central: str


def propagate(
    model: ForceModel,
    t0: float,
    y0: npt.ArrayLike,
    t1: float,
    *,
    rtol: float = 1e-12,
    atol_pos_m: float = 1e-4,
    atol_vel_m_s: float = 1e-7,
    h_max_s: float = 3600.0,
    periapsis_max_m: float = 0.0,
    stop_at_periapsis: bool = False,
    r_impact_m: float = 0.0,
    max_steps: int = 200_000,
    max_events: int = 10_000,
) -> Flight:
    """Fly ``y0`` (relative to the model's central body, J2000) from ``t0`` to ``t1`` [s TDB].

    Default tolerances: rtol 1e-12 on geocentric distances of 4e8 m is 0.4 mm per step; halving them moves a
    targeted periapsis by less than a metre (tests/test_transfer_nbody.py).
    """
    if not (model.t_start <= t0 <= model.t_end and model.t_start <= t1 <= model.t_end) or t1 <= t0:
        raise IlrsError(
            f"propagation span [{t0}, {t1}] s is outside the force model's tables [{model.t_start}, {model.t_end}]",
            source="propagate",
        )
    out_t = np.empty(max_steps)
    out_y = np.empty((max_steps, 6))
    ev_t = np.empty(max_events)
    ev_y = np.empty((max_events, 6))
    n, k, status = nbody.propagate(
        float(t0),
        np.asarray(y0, dtype=float).copy(),
        float(t1),
        model.par,
        model.tab,
        model.moon_p,
        model.moon_v,
        model.sun_p,
        model.sun_v,
        model.rot_p,
        model.rot_d,
        rtol,
        atol_pos_m,
        atol_vel_m_s,
        h_max_s,
        periapsis_max_m,
        stop_at_periapsis,
        r_impact_m,
        out_t,
        out_y,
        ev_t,
        ev_y,
    )
    if status in (nbody.TOO_MANY_STEPS, nbody.STEP_TOO_SMALL):
        raise IlrsError(
            "propagation failed: " + ("too many steps" if status == nbody.TOO_MANY_STEPS else "step size underflow"),
            source="propagate",
            hint="shorten the span or check the initial state",
        )
    return Flight(out_t[:n].copy(), out_y[:n].copy(), ev_t[:k].copy(), ev_y[:k].copy(), int(status), model.central)


def moon_pole_me_j2000(et: float) -> np.ndarray:
    """Unit vector of the MOON_ME z-axis (the LOLA frame's pole) in J2000 at ``et``."""
    ensure_loaded()
    with SPICE_LOCK:
        return np.asarray(spiceypy.pxform(MOON_ME_FRAME, "J2000", float(et)))[:, 2].copy()


def inclination_deg(r_rel: npt.ArrayLike, v_rel: npt.ArrayLike, et: float) -> float:
    """Inclination of the selenocentric osculating orbit to the lunar equator (MOON_ME) [deg]."""
    h = np.cross(np.asarray(r_rel, dtype=float), np.asarray(v_rel, dtype=float))
    return math.degrees(math.acos(np.clip(h @ moon_pole_me_j2000(et) / np.linalg.norm(h), -1.0, 1.0)))
