"""The relay's frozen elliptical lunar orbit in the perturbed field: design, lifetime, station-keeping.

Model: Moon-centred Cowell propagation with the Earth and the Sun as third bodies (DE440s) and the lunar J2 and
C22 (GRAIL GL0660B) through :mod:`ilrs.transport.forces` and :func:`ilrs.core.nbody.propagate`.

Frozen orbits. For a lunar orbit of a ~ 10,000 km the Earth's tidal pull dominates: its secular effect, averaged
over the orbit and over the month, is the quadrupole (Kozai 1962, AJ 67:591; Lidov 1962) with
``sqrt(1 - e^2) cos i`` conserved, i referred to the Earth-Moon orbital plane. Its equilibria with the periapsis
argument at omega = 90 or 270 deg (de/dt = domega/dt = 0) satisfy

    cos^2 i = (3/5) (1 - e^2),

the frozen elliptical lunar orbits of Ely 2005 ("Stable constellations of frozen elliptical inclined lunar
orbits", J. Astronaut. Sci. 53(3):301-316, section "Frozen orbits") and Folta & Quinn 2006 (AIAA 2006-6749).
Lunar J2 turns omega at (3/4) n J2 (R/p)^2 (5 cos^2 i - 1), for the 200 x 16,000 km orbit 0.04 deg/month against
the Earth's ~10 deg/month terms: negligible in the design, kept in the propagation. For Queqiao-2's apsides
(e = 0.803) the condition gives i = 62.5 deg: the 62.4 deg of its published orbit (ILRS-FACTS 1.8).

The equilibrium is one of *mean* elements; the osculating state oscillates about it with the month and the
half-month (the Earth's direction) by several tenths of a degree in omega and ~0.005 in e (~50 km in perilune
altitude). :func:`design_frozen_relay` therefore starts from the Kozai elements and adjusts the osculating
inclination and periapsis argument (Nelder & Mead 1965 simplex) so that the perilune altitude sampled at each
perilune over the design span swings least: the numerical counterpart of putting the mean elements on the
equilibrium. The cost is the lowest perilune over the span (the epoch's perilune at the trough of the forced
swing is the best there is) plus a tenth of the drift of its sidereal-month running mean (the mean elements'
drift).

Frame of the elements: the Earth-Moon orbital plane at the epoch (z along the Moon's geocentric angular
momentum averaged over one sidereal month, x along the ascending node of that plane on the J2000 equator);
the node ``raan_em_deg`` is measured from that x-axis in that plane.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass

import numpy as np
import spiceypy
from scipy.optimize import minimize

from ilrs.constants import MOON_ME_FRAME, MOON_RADIUS_M, NAIF_EARTH, NAIF_MOON
from ilrs.core import nbody
from ilrs.core.arrays import FloatArray
from ilrs.ephem.kernels import SPICE_LOCK, ensure_loaded
from ilrs.errors import IlrsError
from ilrs.iotools.oem import et_to_tdb_iso
from ilrs.transport import forces
from ilrs.transport.exports import export_flight
from ilrs.transport.forces import MOON_GM_M3_S2
from ilrs.transport.orbits import QUEQIAO2_ORBIT

_DAY_S = 86_400.0
_SIDEREAL_MONTH_S = 27.321661 * _DAY_S  # (Explanatory Supplement to the Astronomical Almanac, 3rd ed., 2013)
#: Default floor of the perilune altitude that station-keeping holds [km] (half the design's 200 km).
DEFAULT_MIN_PERILUNE_ALT_KM = 100.0
#: Largest step of the recorded states [s] (the OEM/SPK spacing near apolune; steps near perilune are shorter).
RECORD_STEP_S = 600.0
#: Propagation chunk when station-keeping [day] (a burn restarts the flight from the burn).
_CHUNK_DAYS = 30.0


def kozai_frozen_inclination_deg(e: float) -> float:
    """Inclination to the Earth-Moon plane of the frozen orbit of eccentricity ``e``: cos^2 i = 3 (1 - e^2) / 5
    (Kozai 1962; Ely 2005) [deg]; prograde branch."""
    if not 0.0 <= e < 1.0:
        raise IlrsError(f"eccentricity {e} is outside [0, 1)", source="e")
    return math.degrees(math.acos(math.sqrt(0.6 * (1.0 - e * e))))


def earth_moon_plane_j2000(epoch_et: float) -> FloatArray:
    """Rows x, y, z of the Earth-Moon orbital-plane frame in J2000 at ``epoch_et`` (see the module docstring)."""
    ensure_loaded()
    ets = epoch_et + np.linspace(-0.5, 0.5, 29) * _SIDEREAL_MONTH_S
    h = np.zeros(3)
    with SPICE_LOCK:
        for et in ets:
            s = np.asarray(spiceypy.spkez(NAIF_MOON, float(et), "J2000", "NONE", NAIF_EARTH)[0])
            c = np.cross(s[:3], s[3:])
            h += c / np.linalg.norm(c)
    z = h / np.linalg.norm(h)
    x = np.cross([0.0, 0.0, 1.0], z)
    x /= np.linalg.norm(x)
    return np.array([x, np.cross(z, x), z])


def _elements_to_state(
    a_m: float, e: float, inc_rad: float, raan_rad: float, argp_rad: float, nu_rad: float
) -> FloatArray:
    """Cartesian state in the elements' frame from classical elements and the true anomaly [m, m/s]."""
    p = a_m * (1.0 - e * e)
    r = p / (1.0 + e * math.cos(nu_rad))
    pos_pf = np.array([r * math.cos(nu_rad), r * math.sin(nu_rad), 0.0])
    vel_pf = math.sqrt(MOON_GM_M3_S2 / p) * np.array([-math.sin(nu_rad), e + math.cos(nu_rad), 0.0])
    co, so = math.cos(raan_rad), math.sin(raan_rad)
    ci, si = math.cos(inc_rad), math.sin(inc_rad)
    cw, sw = math.cos(argp_rad), math.sin(argp_rad)
    rot = np.array(
        [
            [co * cw - so * sw * ci, -co * sw - so * cw * ci, so * si],
            [so * cw + co * sw * ci, -so * sw + co * cw * ci, -co * si],
            [sw * si, cw * si, ci],
        ]
    )
    out: FloatArray = np.concatenate((rot @ pos_pf, rot @ vel_pf))
    return out


def osculating_elements(state: FloatArray, frame: FloatArray) -> dict[str, float]:
    """a [m], e, i, node, periapsis argument [deg] of a selenocentric J2000 state, angles in ``frame`` (rows)."""
    r = frame @ state[:3]
    v = frame @ state[3:]
    rn = float(np.linalg.norm(r))
    h = np.cross(r, v)
    hn = float(np.linalg.norm(h))
    ev = np.cross(v, h) / MOON_GM_M3_S2 - r / rn
    e = float(np.linalg.norm(ev))
    node = np.array([-h[1], h[0], 0.0])
    nn = float(np.linalg.norm(node))
    inc = math.degrees(math.acos(max(-1.0, min(1.0, h[2] / hn))))
    raan = math.degrees(math.atan2(node[1], node[0])) % 360.0
    argp = math.degrees(math.atan2(float(np.cross(node, ev) @ h) / hn, float(node @ ev))) % 360.0 if nn else 0.0
    a = 1.0 / (2.0 / rn - float(v @ v) / MOON_GM_M3_S2)
    return {"a_m": a, "e": e, "inc_deg": inc, "raan_deg": raan, "argp_deg": argp}


@dataclass(frozen=True)
class RelayDesign:
    """A frozen relay orbit: osculating elements at the epoch in the Earth-Moon plane frame and the J2000 state."""

    epoch_et: float  #: epoch [s past J2000 TDB] (at perilune)
    a_m: float  #: semi-major axis [m]
    e: float  #: eccentricity
    inc_em_deg: float  #: inclination to the Earth-Moon orbital plane [deg]
    raan_em_deg: float  #: node in that plane [deg]
    argp_em_deg: float  #: periapsis argument from that node [deg]
    kozai_inc_deg: float  #: the mean-element frozen inclination for ``e`` (Kozai / Ely) [deg]
    state0: FloatArray  #: selenocentric J2000 state at the epoch [m, m/s] (6,)
    frame: FloatArray  #: rows of the Earth-Moon plane frame in J2000 (3, 3)
    design_span_days: float  #: span over which the perilune swing was minimised [day] (0: Kozai elements only)

    @property
    def inc_lunar_equator_deg(self) -> float:
        """Inclination to the lunar equator (MOON_ME) at the epoch [deg]."""
        return forces.inclination_deg(self.state0[:3], self.state0[3:], self.epoch_et)

    @property
    def period_s(self) -> float:
        """Keplerian period of the osculating orbit [s]."""
        return 2.0 * math.pi * math.sqrt(self.a_m**3 / MOON_GM_M3_S2)


@dataclass(frozen=True)
class RelayFlight:
    """A propagated relay orbit, with the perilune passages and any station-keeping burns."""

    et: FloatArray  #: recorded epochs [s] (n,)
    state: FloatArray  #: selenocentric J2000 states [m, m/s] (n, 6)
    perilune_et: FloatArray  #: perilune epochs [s] (k,)
    perilune_alt_km: FloatArray  #: perilune altitudes above the 1737.4 km sphere [km] (k,)
    perilune_e: FloatArray  #: osculating eccentricity at each perilune (k,)
    perilune_argp_em_deg: FloatArray  #: osculating periapsis argument (Earth-Moon plane) at each perilune [deg]
    burn_et: FloatArray  #: station-keeping burn epochs [s] (m,)
    burn_dv_m_s: FloatArray  #: their magnitudes [m/s] (m,)
    impact_et: float  #: epoch the orbit hits the 1737.4 km sphere [s] (NaN: it does not within the span)
    days: float  #: span [day]

    @property
    def station_keeping_m_s_per_year(self) -> float:
        """Total burn magnitude scaled to 365.25 days [m/s/yr]."""
        return float(self.burn_dv_m_s.sum()) * 365.25 / self.days


#: Node spacing of the relay's ephemeris tables [s]. The forces module's 1-hour tables interpolate the Moon to
#: ~1 cm; the error grows as h^4, so 4-hour nodes give ~3 m, a 1e-8 relative error in the Earth's tidal pull
#: on the relay, and build four times faster (a year of tables is ~9,000 SPICE look-ups at 1 h).
TABLE_STEP_S = 4 * 3600.0


def _model(epoch_et: float, days: float) -> forces.ForceModel:
    return forces.force_model(
        epoch_et, epoch_et + days * _DAY_S + 2 * _DAY_S, "moon", step_s=TABLE_STEP_S, source="--days"
    )


def _flight_segment(
    model: forces.ForceModel, t0: float, y0: FloatArray, t1: float, h_max_s: float = RECORD_STEP_S
) -> tuple[forces.Flight, float]:
    n_steps = int((t1 - t0) / 20.0) + 10_000  # steps near a 1,940 km perilune are ~30-60 s long
    f = forces.propagate(
        model,
        t0,
        y0,
        t1,
        rtol=1e-11,
        atol_pos_m=1e-3,
        atol_vel_m_s=1e-6,
        h_max_s=h_max_s,
        periapsis_max_m=1e12,
        r_impact_m=MOON_RADIUS_M,
        max_steps=n_steps,
        max_events=int((t1 - t0) / 3600.0) + 10,
    )
    return f, float(f.et[-1]) if f.status == nbody.IMPACT else math.nan


def _restoring_speed(model: forces.ForceModel, t_burn: float, y: FloatArray, restore_r: float, a_m: float) -> float:
    """Speed after a tangential burn at ``t_burn`` that puts the *next* perilune at radius ``restore_r`` [m/s]:
    the vis-viva value as the first guess, then secant iterations on the propagated perilune (the perturbation
    over the half revolution moves it by up to tens of km)."""
    r = float(np.linalg.norm(y[:3]))
    v0 = float(np.linalg.norm(y[3:]))
    t_max = t_burn + 1.5 * math.pi * math.sqrt(a_m**3 / MOON_GM_M3_S2)

    def miss(speed: float) -> float:
        z = y.copy()
        z[3:] *= speed / v0
        f = forces.propagate(
            model, t_burn, z, t_max, rtol=1e-11, periapsis_max_m=1e12, stop_at_periapsis=True, r_impact_m=1.0
        )
        if f.periapsis_et.size == 0:
            return math.nan
        return float(np.linalg.norm(f.periapsis_state[0, :3])) - restore_r

    x0 = math.sqrt(MOON_GM_M3_S2 * (2.0 / r - 2.0 / (r + restore_r)))
    f0 = miss(x0)
    x1 = x0 + 0.1
    for _ in range(6):
        if not math.isfinite(f0) or abs(f0) < 10.0:
            break
        f1 = miss(x1)
        if not math.isfinite(f1) or f1 == f0:
            break
        x0, f0, x1 = x1, f1, x1 - f1 * (x1 - x0) / (f1 - f0)
    return x0


def propagate_relay(
    state0: FloatArray,
    epoch_et: float,
    days: float,
    *,
    min_perilune_alt_km: float | None = None,
    restore_perilune_alt_km: float | None = None,
    model: forces.ForceModel | None = None,
    frame: FloatArray | None = None,
    h_max_s: float = RECORD_STEP_S,
) -> RelayFlight:
    """Fly a selenocentric J2000 state for ``days`` [day], optionally holding the perilune altitude.

    Station-keeping (``min_perilune_alt_km`` given): when a perilune falls below that altitude, one tangential
    burn at the apolune before it (the osculating apolune, half a period earlier) restores the perilune to
    ``restore_perilune_alt_km`` (default: the first perilune's altitude) at the *next* perilune: the two-body
    impulse v_a' - v_a with v_a = sqrt(mu (2/r_a - 2/(r_a + r_p))) (vis-viva) as the first guess, refined by
    secant iterations on the propagated perilune; the flight resumes from the burn. A burn whose apolune falls
    before the segment's start (the perilune was already low at the epoch) is skipped. ``h_max_s`` caps the
    step and hence the spacing of the recorded states [s].
    """
    if not 0.0 < days <= 3660.0:
        raise IlrsError(f"span {days:g} d is outside (0, 3660] d", source="--days")
    model = model if model is not None else _model(epoch_et, days)
    frame = frame if frame is not None else earth_moon_plane_j2000(epoch_et)
    t_end = epoch_et + days * _DAY_S
    seg_t: list[FloatArray] = []
    seg_y: list[FloatArray] = []
    peri_t: list[float] = []
    peri_y: list[FloatArray] = []
    burns_t: list[float] = []
    burns_dv: list[float] = []
    t0, y0 = epoch_et, np.asarray(state0, dtype=np.float64).copy()
    restore_r = None if restore_perilune_alt_km is None else MOON_RADIUS_M + restore_perilune_alt_km * 1e3
    floor_m = None if min_perilune_alt_km is None else MOON_RADIUS_M + min_perilune_alt_km * 1e3
    impact = math.nan
    chunk_s = (_CHUNK_DAYS if floor_m is not None else days) * _DAY_S
    while t0 < t_end:
        t1 = min(t_end, t0 + chunk_s)
        f, impact = _flight_segment(model, t0, y0, t1, h_max_s)
        rp = np.linalg.norm(f.periapsis_state[:, :3], axis=1)
        if restore_r is None and rp.size:
            restore_r = float(rp[0])
        low = np.nonzero(rp < floor_m)[0] if floor_m is not None else np.array([], dtype=np.int64)
        # the first low perilune whose apolune (the burn) lies inside this segment: one already low at the
        # segment's start cannot be raised from before it, but the next low one can
        k, t_burn, el = -1, math.nan, {"a_m": math.nan}
        for j in low if restore_r is not None else ():
            el = osculating_elements(f.periapsis_state[j], frame)
            t_burn = float(f.periapsis_et[j]) - math.pi * math.sqrt(el["a_m"] ** 3 / MOON_GM_M3_S2)
            if t_burn > t0:
                k = int(j)
                break
        if k >= 0 and restore_r is not None:
            keep = f.et < t_burn
            seg_t.append(f.et[keep])
            seg_y.append(f.state[keep])
            pk = f.periapsis_et < t_burn
            peri_t.extend(f.periapsis_et[pk].tolist())
            peri_y.extend(list(f.periapsis_state[pk]))
            j = int(np.nonzero(keep)[0][-1])
            g, _ = _flight_segment(model, float(f.et[j]), f.state[j], t_burn, h_max_s)
            y = g.state[-1].copy()
            v = float(np.linalg.norm(y[3:]))
            v_new = _restoring_speed(model, t_burn, y, restore_r, el["a_m"])
            y[3:] *= v_new / v
            burns_t.append(t_burn)
            burns_dv.append(abs(v_new - v))
            t0, y0 = t_burn, y
            if len(burns_t) > 5000:
                raise IlrsError("too many station-keeping burns", source="--min-perilune-km", hint="lower it")
            continue
        seg_t.append(f.et if not seg_t else f.et[1:])
        seg_y.append(f.state if not seg_y else f.state[1:])
        peri_t.extend(f.periapsis_et.tolist())
        peri_y.extend(list(f.periapsis_state))
        if not math.isnan(impact):
            break
        t0, y0 = float(f.et[-1]), f.state[-1].copy()
    et = np.concatenate(seg_t)
    state = np.concatenate(seg_y)
    py = np.array(peri_y).reshape(-1, 6)
    els = [osculating_elements(s, frame) for s in py]
    return RelayFlight(
        et=et,
        state=state,
        perilune_et=np.array(peri_t),
        perilune_alt_km=(np.linalg.norm(py[:, :3], axis=1) - MOON_RADIUS_M) / 1e3,
        perilune_e=np.array([x["e"] for x in els]),
        perilune_argp_em_deg=np.array([x["argp_deg"] for x in els]),
        burn_et=np.array(burns_t),
        burn_dv_m_s=np.array(burns_dv),
        impact_et=impact,
        days=float(days),
    )


def design_frozen_relay(
    epoch_et: float,
    periapsis_alt_km: float = float(QUEQIAO2_ORBIT["periapsis_alt_km"]),
    apoapsis_alt_km: float = float(QUEQIAO2_ORBIT["apoapsis_alt_km"]),
    raan_em_deg: float | None = None,
    *,
    design_days: float = 180.0,
    refine: bool = True,
) -> RelayDesign:
    """A frozen relay orbit at ``epoch_et`` (at perilune) with the given apsides.

    Parameters
    ----------
    epoch_et : float
        Epoch [s past J2000 TDB].
    periapsis_alt_km, apoapsis_alt_km : float
        Apsides above the 1737.4 km sphere [km] (perilune 30 to 5,000; apolune up to 30,000, beyond which the
        Earth's pull no longer averages).
    raan_em_deg : float, optional
        Node in the Earth-Moon plane [deg]. The averaged equilibrium holds for any node, but the node sets the
        phase of the Earth's half-monthly forcing at the epoch (a swing of ~ +-170 km in perilune altitude for
        these apsides): by default the node is chosen (a 30-deg scan over 60 days, then refined with the
        inclination and periapsis argument) so that the epoch's perilune is the lowest of the swing.
    design_days : float
        Span over which the perilune swing is minimised [day] (10 to 730).
    refine : bool
        Adjust the osculating inclination and periapsis argument numerically (False: the Kozai elements).
    """
    if not 30.0 <= periapsis_alt_km <= 5000.0 or not periapsis_alt_km < apoapsis_alt_km <= 30_000.0:
        raise IlrsError(
            f"apsides {periapsis_alt_km:g} x {apoapsis_alt_km:g} km are outside 30 <= perilune <= 5000 km, "
            "perilune < apolune <= 30000 km",
            source="--perilune-km",
        )
    if not 10.0 <= design_days <= 730.0:
        raise IlrsError(f"design span {design_days:g} d is outside [10, 730] d", source="design_days")
    rp = MOON_RADIUS_M + periapsis_alt_km * 1e3
    ra = MOON_RADIUS_M + apoapsis_alt_km * 1e3
    a, e = 0.5 * (rp + ra), (ra - rp) / (ra + rp)
    frame = earth_moon_plane_j2000(epoch_et)
    i0 = kozai_frozen_inclination_deg(e)

    def state(inc_deg: float, argp_deg: float, raan_deg: float) -> FloatArray:
        s = _elements_to_state(a, e, math.radians(inc_deg), math.radians(raan_deg), math.radians(argp_deg), 0.0)
        out: FloatArray = np.concatenate((frame.T @ s[:3], frame.T @ s[3:]))
        return out

    inc, argp, raan = i0, 90.0, float(raan_em_deg) if raan_em_deg is not None else 0.0
    if refine:
        model = _model(epoch_et, design_days)
        window = max(1, int(round(_SIDEREAL_MONTH_S / (2.0 * math.pi * math.sqrt(a**3 / MOON_GM_M3_S2)))))

        def cost(x: FloatArray, days: float = design_days) -> float:
            st = state(float(x[0]), float(x[1]), float(x[2]))
            f = propagate_relay(st, epoch_et, days, model=model, frame=frame, h_max_s=3600.0)
            h = f.perilune_alt_km
            if h.size < 2:
                return 1e6
            if not math.isnan(f.impact_et):  # lost: rank by how early, above any surviving orbit
                return 1e4 + (epoch_et + days * _DAY_S - f.impact_et) / _DAY_S * 100.0
            mean = np.convolve(h, np.ones(window) / window, mode="valid") if h.size > window else h
            return float(-np.min(h) + 0.1 * (np.max(mean) - np.min(mean)))

        if raan_em_deg is None:  # the node that puts the epoch at the trough of the half-monthly swing
            nodes = np.arange(0.0, 360.0, 30.0)
            costs = [cost(np.array([i0, 90.0, w]), min(design_days, 60.0)) for w in nodes]
            raan = float(nodes[int(np.argmin(costs))])
        simplex = [[i0, 90.0, raan], [i0 + 0.5, 90.0, raan], [i0, 91.0, raan], [i0, 90.0, raan + 5.0]]
        if raan_em_deg is not None:
            simplex = [p[:2] for p in simplex[:3]]
        x0 = np.array(simplex[0])

        def cost_fixed_node(x: FloatArray) -> float:
            return cost(np.array([x[0], x[1], raan]))

        res = minimize(
            cost if raan_em_deg is None else cost_fixed_node,
            x0,
            method="Nelder-Mead",
            options={"initial_simplex": simplex, "xatol": 0.02, "fatol": 0.5, "maxfev": 40},
        )
        inc, argp = float(res.x[0]), float(res.x[1])
        if raan_em_deg is None:
            raan = float(res.x[2]) % 360.0
    return RelayDesign(
        epoch_et=float(epoch_et),
        a_m=a,
        e=e,
        inc_em_deg=inc,
        raan_em_deg=raan,
        argp_em_deg=argp,
        kozai_inc_deg=i0,
        state0=state(inc, argp, raan),
        frame=frame,
        design_span_days=float(design_days) if refine else 0.0,
    )


def twin_relay_state(epoch_et: float, **orbit: float) -> FloatArray:
    """Selenocentric J2000 state of the station twin's two-body relay (:func:`ilrs.transport.orbits.relay_orbit`
    with ``orbit`` overrides) at its epoch [m, m/s]: its elements are in MOON_ME frozen at the epoch."""
    from ilrs.transport.orbits import relay_orbit

    o = relay_orbit(epoch_et, **orbit)
    r, v = o.state_epoch_frame(np.array([epoch_et]))
    ensure_loaded()
    with SPICE_LOCK:
        m = np.asarray(spiceypy.pxform(MOON_ME_FRAME, "J2000", float(epoch_et)))
    out: FloatArray = np.concatenate((m @ r[0], m @ v[0]))
    return out


@functools.lru_cache(maxsize=8)
def _cached_design(epoch_et: float) -> RelayDesign:
    return design_frozen_relay(epoch_et)


def relay_positions_me(epoch_et: float, et_grid: FloatArray, design: RelayDesign | None = None) -> FloatArray:
    """Positions of the frozen relay in MOON_ME at ``et_grid`` [m], shape (n, 3), flown in the perturbed field.

    For the station twin (``services/twin.py``): in place of ``orbiter_position_me(relay_orbit(epoch_et), et)``
    of :mod:`ilrs.transport.visibility`, call this with the same epoch and grid. The design defaults to
    :func:`design_frozen_relay` at ``epoch_et`` (cached per epoch; ~10 s the first time). The flight's states
    (steps <= 600 s) are interpolated by cubic Hermite on positions and velocities (error < 100 m, 5e-5 rad
    of elevation at the relay's >= 2,000 km range) and rotated by
    SPICE's J2000 -> MOON_ME. ``et_grid`` must lie in [epoch_et, epoch_et + 10 years].
    """
    from ilrs.ephem.directions import rotation_j2000_to_me

    et = np.atleast_1d(np.asarray(et_grid, dtype=np.float64))
    if et.size == 0:
        return np.empty((0, 3))
    d = design if design is not None else _cached_design(float(epoch_et))
    lo, hi = float(et.min()), float(et.max())
    if lo < d.epoch_et or hi > d.epoch_et + 3660.0 * _DAY_S:
        raise IlrsError("relay epochs must lie within 10 years after the orbit's epoch", source="et_grid")
    days = max((hi - d.epoch_et) / _DAY_S, 1.0 / 24.0)
    f = propagate_relay(d.state0, d.epoch_et, days, frame=d.frame)
    if not math.isnan(f.impact_et) and hi > f.impact_et:
        raise IlrsError("the relay orbit hits the Moon before the last epoch", source="et_grid")
    i = np.clip(np.searchsorted(f.et, et, side="right") - 1, 0, f.et.size - 2)
    h = (f.et[i + 1] - f.et[i])[:, None]
    s = (et - f.et[i])[:, None] / h
    p0, p1 = f.state[i, :3], f.state[i + 1, :3]
    v0, v1 = f.state[i, 3:], f.state[i + 1, 3:]
    pos = (
        (2 * s**3 - 3 * s**2 + 1) * p0
        + (s**3 - 2 * s**2 + s) * h * v0
        + (-2 * s**3 + 3 * s**2) * p1
        + (s**3 - s**2) * h * v1
    )
    out: FloatArray = np.einsum("nij,nj->ni", rotation_j2000_to_me(et), pos)
    return out


#: NAIF ID of the relay in exported SPK files (a local spacecraft ID, like the transfer's -990001).
RELAY_NAIF_ID = -990002
#: Queqiao-2's published mission orbit (ILRS-FACTS 1.8: CNSA via the sources listed there).
QUEQIAO2_PUBLISHED = {"perilune_alt_km": 200.0, "apolune_alt_km": 16_000.0, "inc_deg": 62.4, "period_h": 24.0}


def relay_report(
    epoch_et: float,
    days: float = 365.0,
    *,
    min_perilune_alt_km: float = DEFAULT_MIN_PERILUNE_ALT_KM,
    restore_perilune_alt_km: float | None = None,
    oem_path: str | os.PathLike[str] | None = None,
    spk_path: str | os.PathLike[str] | None = None,
    czml_path: str | os.PathLike[str] | None = None,
) -> dict[str, object]:
    """Design the frozen relay at ``epoch_et``, fly it ``days`` with station-keeping above
    ``min_perilune_alt_km``, measure its lifetime without manoeuvres and the twin's two-body orbit's, compare with
    Queqiao-2's published orbit, and optionally export the flight (OEM in TDB, SPK type 13, Moon-centred J2000;
    CZML, Earth-centred, for Cesium).
    """
    import time

    if not 0.0 <= min_perilune_alt_km < 5000.0:
        raise IlrsError(
            f"perilune floor {min_perilune_alt_km:g} km is outside [0, 5000) km", source="--min-perilune-km"
        )
    if not 0.0 < days <= 3660.0:
        raise IlrsError(f"span {days:g} d is outside (0, 3660] d", source="--days")
    forces.check_span(epoch_et, epoch_et + (days + 3.0) * _DAY_S, "--epoch")
    t0 = time.perf_counter()
    d = design_frozen_relay(epoch_et)
    design_s = time.perf_counter() - t0
    model = _model(epoch_et, days)
    t0 = time.perf_counter()
    free = propagate_relay(d.state0, epoch_et, days, model=model, frame=d.frame, h_max_s=3600.0)
    free_s = time.perf_counter() - t0
    flight = propagate_relay(
        d.state0,
        epoch_et,
        days,
        min_perilune_alt_km=min_perilune_alt_km,
        restore_perilune_alt_km=restore_perilune_alt_km,
        model=model,
        frame=d.frame,
    )
    twin = propagate_relay(twin_relay_state(epoch_et), epoch_et, min(days, 60.0), model=model, frame=d.frame)
    window = max(1, int(round(_SIDEREAL_MONTH_S / d.period_s)))

    def running(x: FloatArray) -> FloatArray:
        out: FloatArray = np.convolve(x, np.ones(window) / window, mode="valid") if x.size > window else x
        return out

    mean_e = running(flight.perilune_e)
    mean_w = running(np.unwrap(np.radians(flight.perilune_argp_em_deg)))
    out: dict[str, object] = {
        "periapsis_alt_km": (d.a_m * (1.0 - d.e) - MOON_RADIUS_M) / 1e3,
        "apoapsis_alt_km": (d.a_m * (1.0 + d.e) - MOON_RADIUS_M) / 1e3,
        "a_km": d.a_m / 1e3,
        "e": d.e,
        "period_h": d.period_s / 3600.0,
        "epoch_tdb": et_to_tdb_iso([epoch_et])[0],
        "inc_em_deg": d.inc_em_deg,
        "raan_em_deg": d.raan_em_deg,
        "argp_em_deg": d.argp_em_deg,
        "inc_lunar_equator_deg": d.inc_lunar_equator_deg,
        "kozai_frozen_inc_deg": d.kozai_inc_deg,
        "queqiao2_published": QUEQIAO2_PUBLISHED,
        "days": days,
        "lifetime_days_without_manoeuvres": None
        if math.isnan(free.impact_et)
        else (free.impact_et - epoch_et) / _DAY_S,
        "min_perilune_alt_km_without_manoeuvres": float(np.min(free.perilune_alt_km)),
        "min_perilune_alt_km": float(np.min(flight.perilune_alt_km)),
        "max_perilune_alt_km": float(np.max(flight.perilune_alt_km)),
        "mean_e_range": [float(np.min(mean_e)), float(np.max(mean_e))],
        "mean_argp_em_deg_range": [float(np.degrees(np.min(mean_w))), float(np.degrees(np.max(mean_w)))],
        "perilune_floor_km": min_perilune_alt_km,
        "station_keeping_burns": int(flight.burn_et.size),
        "station_keeping_m_s_per_year": flight.station_keeping_m_s_per_year,
        "twin_two_body_elements": QUEQIAO2_ORBIT,
        "twin_two_body_orbit_lifetime_days": None
        if math.isnan(twin.impact_et)
        else (twin.impact_et - epoch_et) / _DAY_S,
        "design_s": design_s,
        "propagation_s": free_s,
    }
    comments = [
        "ILRS relay in a frozen elliptical lunar orbit, Moon-centred J2000: Earth and Sun point masses (DE440s),",
        "lunar J2 and C22 (GRAIL GL0660B); DOP853 rtol 1e-11. Elements at the epoch in the Earth-Moon plane:",
        f"a {d.a_m / 1e3:.3f} km, e {d.e:.6f}, i {d.inc_em_deg:.4f} deg, node {d.raan_em_deg:.4f} deg, "
        f"periapsis argument {d.argp_em_deg:.4f} deg.",
        f"Station-keeping holds the perilune above {min_perilune_alt_km:g} km: {flight.burn_et.size} burns, "
        f"{float(flight.burn_dv_m_s.sum()):.3f} m/s in total.",
    ]
    export_flight(
        out,
        flight.et,
        flight.state,
        centre="MOON",
        object_name="ILRS-RELAY",
        object_id="ILRS-RELAY",
        naif_id=RELAY_NAIF_ID,
        segment_id="ILRS RELAY FROZEN ORBIT",
        title="ILRS relay, frozen elliptical lunar orbit",
        comments=comments,
        oem_path=oem_path,
        spk_path=spk_path,
        czml_path=czml_path,
    )
    return out
