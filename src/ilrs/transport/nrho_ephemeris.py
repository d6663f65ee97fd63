"""The 9:2 NRHO carried from the CR3BP into the ephemeris model by multiple shooting.

Patch points: the CR3BP 9:2 L2 southern NRHO (:func:`ilrs.transport.halo.nrho_9_2`) at apolune, one per
revolution (the segments between them pass perilune; patch points at perilune, where the orbit moves at
1.7 km/s, leave jumps of thousands of km from any timing error of the initial guess, those at apolune ~1,400 km
and 3 m/s), mapped to Moon-centred J2000 at their epochs through the instantaneous Earth-Moon
rotating frame of DE440 (x from the Earth to the Moon, z along their relative angular momentum; the CR3BP's
length and time units; the frame's rotation added to the velocity; cf. Pavlak & Howell 2012, Acta Astronautica
81:456, section 3, which also scales by the instantaneous distance: see :func:`rotating_to_j2000`).

Multiple shooting (Pavlak 2013, PhD thesis, Purdue, ch. 3; Davis et al. 2017, AAS 17-826, "Stationkeeping and
transfer trajectory design for spacecraft in cislunar space", for the NRHO): the free variables are the six
states of the ``N`` patch points at fixed epochs; the constraints are position and velocity continuity at the
``N - 2`` interior points and at the last one (``6 (N - 1)`` equations). Newton's minimum-norm update
``dX = -J^T (J J^T)^-1 F`` with each segment's state-transition matrix from forward differences of the ephemeris
propagation (Earth, Sun, lunar J2/C22: :mod:`ilrs.transport.forces`), in CR3BP-scaled units so positions and
velocities weigh alike. The converged patch points are one ballistic trajectory; flown from the first of them
it shows the perilune and apolune drift of the ephemeris NRHO over the revolutions.

Station-keeping estimate: the flight is repeated with a 1 cm/s (1 sigma per axis) velocity error injected at
every apolune (navigation and execution error in the spirit of Davis et al. 2017, AAS 17-269, and Guzzetti et
al. 2017, AAS 17-395) and left to grow for a revolution; a burn at the next apolune re-targets the reference's
position one revolution later (three velocity components for three position components, forward-difference
sensitivities). The mean burn per revolution times the revolutions per year is the estimate. It is a simple
target-the-reference scheme, not the published optimised x-axis-crossing or Cauchy-Green strategies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ilrs.core.arrays import FloatArray
from ilrs.errors import IlrsError
from ilrs.transport import forces
from ilrs.transport.exports import export_flight
from ilrs.transport.halo import EARTH_MOON, HaloOrbit, nrho_9_2

_DAY_S = 86_400.0
#: Continuity tolerance in scaled units (1e-9 of 384,400 km is 0.4 m; of 1.02 km/s, 1 mm/s).
TOL_SCALED = 1e-9
MAX_ITERATIONS = 15
#: Forward-difference steps in scaled units (38 m, 0.1 mm/s).
_FD = 1e-7


@dataclass(frozen=True)
class EphemerisNrho:
    """The NRHO converged in the ephemeris model."""

    epoch_et: float  #: first patch point's epoch (an apolune) [s past J2000 TDB]
    patch_et: FloatArray  #: patch-point epochs [s] (N,)
    patch_states: FloatArray  #: converged Moon-centred J2000 states [m, m/s] (N, 6)
    initial_states: FloatArray  #: the CR3BP patch points mapped to J2000, before correction (N, 6)
    iterations: int  #: Newton iterations
    max_discontinuity_m: float  #: largest position jump left at a patch point [m]
    max_discontinuity_m_s: float  #: largest velocity jump left [m/s]
    revolutions: int
    flight: forces.Flight  #: the first patch point flown through the whole span
    perilune_radius_km: FloatArray  #: perilune radius of each revolution [km]
    apolune_radius_km: FloatArray  #: apolune radius of each revolution [km]
    cr3bp: HaloOrbit  #: the CR3BP orbit the patch points came from


def _rotating_basis(moon_geo: FloatArray) -> tuple[FloatArray, float, float, float]:
    """(rows x, y, z; distance L [m]; its rate [m/s]; angular rate [rad/s]) of the Earth-Moon frame."""
    r, v = moon_geo[:3], moon_geo[3:]
    dist = float(np.linalg.norm(r))
    x = r / dist
    h = np.cross(r, v)
    z = h / np.linalg.norm(h)
    basis = np.array([x, np.cross(z, x), z])
    return basis, dist, float(r @ v) / dist, float(np.linalg.norm(h)) / dist**2


def rotating_to_j2000(state_nd: FloatArray, moon_geo: FloatArray, mu: float = EARTH_MOON.mu) -> FloatArray:
    """A CR3BP rotating state (nondimensional, barycentric) -> Moon-centred J2000 [m, m/s] at the epoch whose
    geocentric lunar state is ``moon_geo``: the frame's axes are the instantaneous Earth-Moon ones, its length
    and time units the CR3BP system's (:data:`ilrs.transport.halo.EARTH_MOON`) and its rotation rate 1 / T.
    Scaling with the instantaneous distance instead (the pulsating frame) stretches the NRHO with the Moon's
    +-5 % distance but not its period, which leaves a half-revolution arc ~8 % short of perilune at the next
    patch epoch near lunar apogee; the fixed units keep the CR3BP's period, which the Moon's pull sets."""
    basis, _, _, _ = _rotating_basis(moon_geo)
    lunit = EARTH_MOON.lunit_km * 1e3
    omega = 1.0 / EARTH_MOON.tunit_s
    rho = np.asarray(state_nd[:3], dtype=np.float64) - np.array([1.0 - mu, 0.0, 0.0])
    rho_dot = np.asarray(state_nd[3:6], dtype=np.float64)
    pos = lunit * (basis.T @ rho)
    vel = np.cross(omega * basis[2], pos) + lunit * omega * (basis.T @ rho_dot)
    out: FloatArray = np.concatenate((pos, vel))
    return out


def _segment(model: forces.ForceModel, t0: float, y0: FloatArray, t1: float) -> FloatArray:
    f = forces.propagate(model, t0, y0, t1, rtol=1e-11, atol_pos_m=1e-3, atol_vel_m_s=1e-6, h_max_s=6 * 3600.0)
    out: FloatArray = f.state[-1]
    return out


def nrho_ephemeris(epoch_et: float, revolutions: int = 10) -> EphemerisNrho:
    """The 9:2 NRHO in the ephemeris model over ``revolutions`` (10 to 60) from an apolune at ``epoch_et``.

    Raises :class:`IlrsError` naming ``--revs`` when out of range or when the corrector does not converge.
    """
    if not 10 <= revolutions <= 60:
        raise IlrsError(f"revolutions {revolutions} outside [10, 60]", source="--revs")
    orbit = nrho_9_2()
    mu, lunit_m, tunit = EARTH_MOON.mu, EARTH_MOON.lunit_km * 1e3, EARTH_MOON.tunit_s
    scale = np.array([lunit_m] * 3 + [lunit_m / tunit] * 3)
    half = 0.5 * orbit.period
    n = revolutions + 1
    patch_et: FloatArray = epoch_et + orbit.period * tunit * np.arange(n, dtype=np.float64)
    span_end = float(patch_et[-1]) + 2 * _DAY_S
    forces.check_span(epoch_et, span_end, "--epoch")
    model = forces.force_model(epoch_et, span_end, "moon", source="--epoch")
    x = np.array([rotating_to_j2000(orbit.state0, model.moon_state(float(t)), mu) / scale for t in patch_et])
    initial = x * scale

    def residuals(xs: FloatArray) -> tuple[FloatArray, list[FloatArray]]:
        ends = [
            _segment(model, float(patch_et[k]), xs[k] * scale, float(patch_et[k + 1])) / scale for k in range(n - 1)
        ]
        f = np.concatenate([ends[k] - xs[k + 1] for k in range(n - 1)])
        return f, ends

    iterations = 0
    for iterations in range(MAX_ITERATIONS + 1):
        f, ends = residuals(x)
        if np.max(np.abs(f)) < TOL_SCALED:
            break
        if iterations == MAX_ITERATIONS:
            raise IlrsError(
                f"NRHO multiple shooting did not converge in {MAX_ITERATIONS} iterations "
                f"(largest discontinuity {np.max(np.abs(f)):.2e} scaled units)",
                source="--revs",
                hint="try fewer revolutions or another epoch",
            )
        jac = np.zeros((6 * (n - 1), 6 * n))
        for k in range(n - 1):
            for j in range(6):
                y = x[k].copy()
                y[j] += _FD
                e = _segment(model, float(patch_et[k]), y * scale, float(patch_et[k + 1])) / scale
                jac[6 * k : 6 * k + 6, 6 * k + j] = (e - ends[k]) / _FD
            jac[6 * k : 6 * k + 6, 6 * (k + 1) : 6 * (k + 2)] = -np.eye(6)
        dx = -jac.T @ np.linalg.solve(jac @ jac.T, f)
        x = x + dx.reshape(n, 6)
    f, _ = residuals(x)
    jumps = f.reshape(n - 1, 6) * scale
    states = x * scale
    flight = forces.propagate(
        model,
        float(patch_et[0]),
        states[0],
        float(patch_et[-1]),
        rtol=1e-11,
        atol_pos_m=1e-3,
        atol_vel_m_s=1e-6,
        h_max_s=600.0,
        periapsis_max_m=1e12,  # record every perilune (the kernel's event location)
        max_steps=400_000,
    )
    r = np.linalg.norm(flight.state[:, :3], axis=1)
    rev = np.minimum(((flight.et - patch_et[0]) / (2 * half * tunit)).astype(int), revolutions - 1)
    peri = np.array([r[rev == k].min() for k in range(revolutions)]) / 1e3
    if flight.periapsis_et.size == revolutions:  # one perilune per revolution, located exactly
        peri = np.linalg.norm(flight.periapsis_state[:, :3], axis=1) / 1e3
    apo = np.array([r[rev == k].max() for k in range(revolutions)]) / 1e3
    return EphemerisNrho(
        epoch_et=float(epoch_et),
        patch_et=patch_et,
        patch_states=states,
        initial_states=initial,
        iterations=iterations,
        max_discontinuity_m=float(np.max(np.linalg.norm(jumps[:, :3], axis=1))),
        max_discontinuity_m_s=float(np.max(np.linalg.norm(jumps[:, 3:], axis=1))),
        revolutions=revolutions,
        flight=flight,
        perilune_radius_km=peri,
        apolune_radius_km=apo,
        cr3bp=orbit,
    )


def station_keeping_estimate(nrho: EphemerisNrho, error_m_s: float = 0.01, seed: int = 1) -> tuple[float, FloatArray]:
    """Mean station-keeping [m/s per year] and the burns [m/s] of the error-injection experiment above.

    At each apolune k the flown state gets a random velocity error of ``error_m_s`` per axis and coasts a
    revolution; a burn at apolune k + 1 re-targets the reference's position at apolune k + 2 (Newton, 3 x 3
    forward-difference sensitivities, two iterations), and the flight continues from there.
    """
    if not 0.0 < error_m_s <= 1.0:
        raise IlrsError(f"velocity error {error_m_s} m/s outside (0, 1]", source="error_m_s")
    rng = np.random.default_rng(seed)
    span_end = float(nrho.patch_et[-1]) + 2 * _DAY_S
    model = forces.force_model(nrho.epoch_et, span_end, "moon", source="--epoch")
    apo_et = nrho.patch_et
    apo_ref = nrho.patch_states
    y = apo_ref[0].copy()
    burns = []
    for k in range(len(apo_et) - 2):
        # an error at apolune k, left to grow for a revolution; the burn at apolune k + 1 re-targets the
        # reference's position at apolune k + 2
        y = y.copy()
        y[3:] += rng.normal(0.0, error_m_s, 3)
        y = _segment(model, float(apo_et[k]), y, float(apo_et[k + 1]))
        t0, t1 = float(apo_et[k + 1]), float(apo_et[k + 2])
        dv = np.zeros(3)
        for _ in range(2):
            base = _segment(model, t0, np.concatenate((y[:3], y[3:] + dv)), t1)
            miss = base[:3] - apo_ref[k + 2][:3]
            sens = np.empty((3, 3))
            for j in range(3):
                d = dv.copy()
                d[j] += 1e-3
                sens[:, j] = (_segment(model, t0, np.concatenate((y[:3], y[3:] + d)), t1)[:3] - base[:3]) / 1e-3
            dv = dv - np.linalg.solve(sens, miss)
        burns.append(float(np.linalg.norm(dv)))
        y = np.concatenate((y[:3], y[3:] + dv))
    b = np.array(burns)
    period_s = float(nrho.patch_et[1] - nrho.patch_et[0])
    return float(b.mean()) * 365.25 * _DAY_S / period_s, b


@dataclass(frozen=True)
class NrhoFigures:
    """What the Gateway-staged chain needs from the ephemeris NRHO (:func:`nrho_figures`)."""

    perilune_et: FloatArray  #: perilune epochs, one per revolution [s TDB] (k,)
    perilune_radius_m: FloatArray  #: perilune radii [m] (k,)
    perilune_speed_m_s: FloatArray  #: Moon-centred inertial (J2000) speeds there [m/s] (k,)
    mean_period_days: float  #: mean interval between consecutive perilunes [d]
    station_keeping_m_s_per_year: float  #: :func:`station_keeping_estimate` [m/s/yr]
    revolutions: int
    epoch_et: float  #: first apolune [s TDB]


def nrho_figures(nrho: EphemerisNrho, station_keeping_m_s_per_year: float) -> NrhoFigures:
    """Perilune epoch, radius and inertial speed of each revolution of the flown ephemeris NRHO (the
    propagator's periapsis events), and its mean period (first to last perilune over the revolutions between)."""
    f = nrho.flight
    if f.periapsis_et.size != nrho.revolutions:
        raise IlrsError(
            f"the flown NRHO has {f.periapsis_et.size} perilunes over {nrho.revolutions} revolutions",
            source="--revs",
            hint="try another epoch",
        )
    t = f.periapsis_et
    return NrhoFigures(
        perilune_et=t.copy(),
        perilune_radius_m=np.linalg.norm(f.periapsis_state[:, :3], axis=1),
        perilune_speed_m_s=np.linalg.norm(f.periapsis_state[:, 3:], axis=1),
        mean_period_days=float((t[-1] - t[0]) / (t.size - 1)) / _DAY_S,
        station_keeping_m_s_per_year=float(station_keeping_m_s_per_year),
        revolutions=nrho.revolutions,
        epoch_et=nrho.epoch_et,
    )


#: NAIF ID of the NRHO spacecraft in exported SPK files (local, like the transfer's -990001).
NRHO_NAIF_ID = -990003


def nrho_report(
    epoch_et: float,
    revolutions: int = 10,
    *,
    oem_path: str | os.PathLike[str] | None = None,
    spk_path: str | os.PathLike[str] | None = None,
    czml_path: str | os.PathLike[str] | None = None,
    figures: list[NrhoFigures] | None = None,
) -> dict[str, object]:
    """JSON-ready figures of :func:`nrho_ephemeris` and :func:`station_keeping_estimate`, with optional exports
    (OEM in TDB and SPK type 13, Moon-centred J2000; CZML Earth-centred for Cesium). A list given as ``figures``
    receives the run's :class:`NrhoFigures` (for the Gateway-staged chain) without a second run."""
    import time

    t0 = time.perf_counter()
    e = nrho_ephemeris(epoch_et, revolutions)
    solve_s = time.perf_counter() - t0
    sk, burns = station_keeping_estimate(e)
    fig = nrho_figures(e, sk)
    if figures is not None:
        figures.append(fig)
    out: dict[str, object] = {
        "revolutions": revolutions,
        "iterations": e.iterations,
        "max_discontinuity_m": e.max_discontinuity_m,
        "max_discontinuity_m_s": e.max_discontinuity_m_s,
        "initial_patch_shift_km_max": float(
            np.max(np.linalg.norm(e.patch_states[:, :3] - e.initial_states[:, :3], axis=1)) / 1e3
        ),
        "perilune_radius_km": e.perilune_radius_km.tolist(),
        "apolune_radius_km": e.apolune_radius_km.tolist(),
        "perilune_radius_km_range": [float(e.perilune_radius_km.min()), float(e.perilune_radius_km.max())],
        "apolune_radius_km_range": [float(e.apolune_radius_km.min()), float(e.apolune_radius_km.max())],
        "cr3bp_perilune_radius_km": e.cr3bp.perilune_radius_km,
        "cr3bp_apolune_radius_km": e.cr3bp.apolune_radius_km,
        "mean_period_days": fig.mean_period_days,
        "cr3bp_period_days": e.cr3bp.period_days,
        "perilune_speed_m_s": fig.perilune_speed_m_s.tolist(),
        "station_keeping_m_s_per_year": sk,
        "station_keeping_burns_m_s": burns.tolist(),
        "solve_s": solve_s,
    }
    f = e.flight
    comments = [
        f"ILRS 9:2 NRHO in the ephemeris model, {revolutions} revolutions by multiple shooting from the CR3BP:",
        "Earth and Sun point masses (DE440s), lunar J2 and C22 (GRAIL GL0660B); DOP853 rtol 1e-11.",
    ]
    export_flight(
        out,
        f.et,
        f.state,
        centre="MOON",
        object_name="ILRS-NRHO",
        object_id="ILRS-NRHO",
        naif_id=NRHO_NAIF_ID,
        segment_id="ILRS NRHO 9:2 EPHEMERIS",
        title="ILRS 9:2 NRHO",
        comments=comments,
        oem_path=oem_path,
        spk_path=spk_path,
        czml_path=czml_path,
    )
    return out
