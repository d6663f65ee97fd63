"""The low lunar orbit (LLO) flown in the perturbed field, with perilune station-keeping and exports.

Model: the relay's (:mod:`ilrs.transport.relay`): Moon-centred Cowell propagation with the Earth and the Sun as
third bodies (DE440s) and the lunar J2 and C22 (GRAIL GL0660B) through :mod:`ilrs.transport.forces`, DOP853 at
rtol 1e-11. The orbit starts circular (osculating) at the epoch, at its ascending node on the lunar equator
(MOON_ME) with the node at a given MOON_ME longitude, and :func:`ilrs.transport.relay.propagate_relay` holds the
perilune above a floor with tangential burns at apolune.

What the model leaves out matters for an LLO: the lunar field beyond degree 2 (mascons; J3, J5 and the odd zonals
drive the eccentricity of polar LLOs, so a real 100 km polar orbit loses tens of km of perilune within weeks and
needs burns every few weeks, e.g. LRO's monthly station-keeping at 50 km, Beckman 2007, "Mission Design for the
Lunar Reconnaissance Orbiter", AAS 07-057). Here the perilune wanders by the degree-2 and Earth terms only, so the
station-keeping figure is a lower bound; a shipped higher-degree field with its source would lift that caveat.
"""

from __future__ import annotations

import math
import os

import numpy as np
import spiceypy

from ilrs.constants import MOON_ME_FRAME, MOON_RADIUS_M
from ilrs.core.arrays import FloatArray
from ilrs.ephem.kernels import SPICE_LOCK, ensure_loaded
from ilrs.errors import IlrsError
from ilrs.iotools.oem import et_to_tdb_iso
from ilrs.transport import forces
from ilrs.transport.exports import export_flight
from ilrs.transport.forces import MOON_GM_M3_S2
from ilrs.transport.relay import RelayFlight, propagate_relay

_DAY_S = 86_400.0
#: NAIF ID of the LLO in exported SPK files (a local spacecraft ID, beside the transfer's -990001, the relay's
#: -990002 and the NRHO's -990003).
LLO_NAIF_ID = -990004
#: Largest spacing of the recorded (exported) states [s]: a 24th of a 100 km orbit's 118 min, so SPICE's and
#: Orekit's degree-7 Hermite interpolation between them errs by millimetres.
LLO_RECORD_STEP_S = 300.0


def llo_state(epoch_et: float, alt_km: float = 100.0, inc_deg: float = 90.0, node_lon_deg: float = 0.0) -> FloatArray:
    """Selenocentric J2000 state [m, m/s] of a circular orbit of altitude ``alt_km`` [km] above the 1737.4 km
    sphere and inclination ``inc_deg`` [deg] to the lunar equator (MOON_ME), at its ascending node, which lies at
    MOON_ME longitude ``node_lon_deg`` [deg] at ``epoch_et`` [s TDB]; the speed is circular two-body
    ``sqrt(GM / r)``."""
    if not 10.0 <= alt_km <= 5000.0:
        raise IlrsError(f"LLO altitude {alt_km:g} km is outside [10, 5000] km", source="--alt-km")
    if not 0.0 <= inc_deg <= 180.0:
        raise IlrsError(f"inclination {inc_deg:g} deg is outside [0, 180] deg", source="--inc-deg")
    ensure_loaded()
    with SPICE_LOCK:
        me_to_j2000 = np.asarray(spiceypy.pxform(MOON_ME_FRAME, "J2000", float(epoch_et)))
    r = MOON_RADIUS_M + alt_km * 1e3
    node, inc = math.radians(node_lon_deg), math.radians(inc_deg)
    x_node = np.array([math.cos(node), math.sin(node), 0.0])
    # the direction of motion at the node, 90 deg along the orbit: the node's east, tilted by the inclination
    along = np.array([-math.sin(node) * math.cos(inc), math.cos(node) * math.cos(inc), math.sin(inc)])
    v = math.sqrt(MOON_GM_M3_S2 / r)
    out: FloatArray = np.concatenate((me_to_j2000 @ (r * x_node), me_to_j2000 @ (v * along)))
    return out


def fly_llo(
    epoch_et: float,
    days: float,
    alt_km: float = 100.0,
    inc_deg: float = 90.0,
    node_lon_deg: float = 0.0,
    *,
    min_perilune_alt_km: float | None = None,
    restore_perilune_alt_km: float | None = None,
) -> RelayFlight:
    """Fly the LLO of :func:`llo_state` for ``days`` [day] in the perturbed field; with ``min_perilune_alt_km``
    [km], burns hold the perilune above that floor and restore it to ``restore_perilune_alt_km`` (default the
    orbit's altitude). States are recorded at most :data:`LLO_RECORD_STEP_S` apart."""
    if not 0.0 < days <= 366.0:
        raise IlrsError(f"span {days:g} d is outside (0, 366] d", source="--days")
    if min_perilune_alt_km is not None and not 0.0 <= min_perilune_alt_km < alt_km:
        raise IlrsError(
            f"perilune floor {min_perilune_alt_km:g} km is outside [0, {alt_km:g}) km (below the orbit's altitude)",
            source="--min-perilune-km",
        )
    forces.check_span(epoch_et, epoch_et + (days + 3.0) * _DAY_S, "--epoch")
    state0 = llo_state(epoch_et, alt_km, inc_deg, node_lon_deg)
    return propagate_relay(
        state0,
        epoch_et,
        days,
        min_perilune_alt_km=min_perilune_alt_km,
        restore_perilune_alt_km=alt_km if restore_perilune_alt_km is None else restore_perilune_alt_km,
        h_max_s=LLO_RECORD_STEP_S,
    )


def _inclination_range_deg(flight: RelayFlight) -> tuple[float, float]:
    step = slice(None, None, 50)
    incs = [
        forces.inclination_deg(s[:3], s[3:], float(t)) for t, s in zip(flight.et[step], flight.state[step], strict=True)
    ]
    return float(min(incs)), float(max(incs))


def llo_report(
    epoch_et: float,
    days: float = 28.0,
    alt_km: float = 100.0,
    inc_deg: float = 90.0,
    node_lon_deg: float = 0.0,
    *,
    min_perilune_alt_km: float | None = None,
    oem_path: str | os.PathLike[str] | None = None,
    spk_path: str | os.PathLike[str] | None = None,
    czml_path: str | os.PathLike[str] | None = None,
) -> dict[str, object]:
    """Fly the LLO ``days`` without manoeuvres (its perilune and apolune range, inclination drift, lifetime) and,
    with ``min_perilune_alt_km``, with station-keeping above that floor (burns, m/s per year); export the flown
    orbit (with station-keeping when a floor is given) as OEM (TDB, Moon-centred EME2000), SPK type 13 and CZML.
    """
    import time

    t0 = time.perf_counter()
    free = fly_llo(epoch_et, days, alt_km, inc_deg, node_lon_deg)
    free_s = time.perf_counter() - t0
    flight = free
    if min_perilune_alt_km is not None:
        flight = fly_llo(epoch_et, days, alt_km, inc_deg, node_lon_deg, min_perilune_alt_km=min_perilune_alt_km)
    radius = np.linalg.norm(flight.state[:, :3], axis=1)
    period_s = 2.0 * math.pi * math.sqrt((MOON_RADIUS_M + alt_km * 1e3) ** 3 / MOON_GM_M3_S2)
    lo, hi = _inclination_range_deg(flight)
    out: dict[str, object] = {
        "alt_km": alt_km,
        "inc_lunar_equator_deg": inc_deg,
        "node_lon_me_deg": node_lon_deg,
        "epoch_tdb": et_to_tdb_iso([epoch_et])[0],
        "days": days,
        "kepler_period_min": period_s / 60.0,
        "mean_perilune_interval_min": float(np.mean(np.diff(free.perilune_et))) / 60.0
        if free.perilune_et.size > 1
        else None,
        "lifetime_days_without_manoeuvres": None
        if math.isnan(free.impact_et)
        else (free.impact_et - epoch_et) / _DAY_S,
        "min_perilune_alt_km_without_manoeuvres": float(np.min(free.perilune_alt_km)),
        "min_perilune_alt_km": float(np.min(flight.perilune_alt_km)),
        "max_perilune_alt_km": float(np.max(flight.perilune_alt_km)),
        "max_alt_km": float(radius.max() - MOON_RADIUS_M) / 1e3,
        "inc_lunar_equator_deg_range": [lo, hi],
        "perilune_floor_km": min_perilune_alt_km,
        "station_keeping_burns": int(flight.burn_et.size),
        "station_keeping_m_s_per_year": flight.station_keeping_m_s_per_year,
        "propagation_s": free_s,
        "states": int(flight.et.size),
    }
    comments = [
        "ILRS low lunar orbit, Moon-centred J2000: Earth and Sun point masses (DE440s), lunar J2 and C22",
        "(GRAIL GL0660B); DOP853 rtol 1e-11. Circular at the epoch at its ascending node on the MOON_ME equator:",
        f"altitude {alt_km:g} km, inclination {inc_deg:g} deg, node longitude {node_lon_deg:g} deg (MOON_ME).",
        "No lunar field beyond degree 2: the perilune decay of real LLOs (mascons) is not modelled.",
        f"Station-keeping: {flight.burn_et.size} burns, {float(flight.burn_dv_m_s.sum()):.3f} m/s in total"
        + (f", perilune held above {min_perilune_alt_km:g} km." if min_perilune_alt_km is not None else "."),
    ]
    if not math.isnan(flight.impact_et):
        comments.append(f"The orbit reaches the 1737.4 km sphere at {et_to_tdb_iso([flight.impact_et])[0]} TDB.")
    export_flight(
        out,
        flight.et,
        flight.state,
        centre="MOON",
        object_name="ILRS-LLO",
        object_id="ILRS-LLO",
        naif_id=LLO_NAIF_ID,
        segment_id="ILRS LOW LUNAR ORBIT",
        title="ILRS low lunar orbit",
        comments=comments,
        oem_path=oem_path,
        spk_path=spk_path,
        czml_path=czml_path,
    )
    return out
