"""Campaign and transport use cases for the report: roadmap risk, launch windows, architecture comparison."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from ilrs.campaign.buildup import BuildupItem, BuildupRow, buildup_items, buildup_timeline, yearly_dates
from ilrs.campaign.montecarlo import CampaignResult, simulate
from ilrs.campaign.roadmap import Mission, check_roadmap, default_roadmap, scenario_roadmap
from ilrs.constants import MOON_RADIUS_M
from ilrs.ephem.time import to_et
from ilrs.transport.budget import LandingBudget, landed_mass
from ilrs.transport.exports import export_flight
from ilrs.transport.halo import HaloOrbit, nrho_9_2, south_pole_visibility
from ilrs.transport.nrho_ephemeris import NrhoFigures
from ilrs.transport.staging import Architecture, compare
from ilrs.transport.transfer import Transfer, direct_transfer, launch_windows
from ilrs.transport.vehicles import vehicle_by_key


@dataclass(frozen=True)
class CampaignOverview:
    missions: tuple[Mission, ...]
    notes: list[str]
    monte_carlo: CampaignResult
    windows: dict
    window_start: str
    nrho: HaloOrbit
    nrho_south_pole_visibility: float
    architectures: list[LandingBudget]
    chains: tuple[Architecture, Architecture]  # surface-direct, gateway-staged, leg by leg (best window's transfer)
    buildup_items: list[BuildupItem]
    buildup: list[BuildupRow]  # on 1 January of each year and on ``by``


def buildup_of(
    missions, mc: CampaignResult, scenario=None, first: date = date(2024, 1, 1), by: date = date(2035, 12, 31)
) -> tuple[list[BuildupItem], list[BuildupRow]]:
    """What is in orbit and on the surface each 1 January from ``first`` to ``by`` (and on ``by``), with the
    scenario's elements listed under the mission that lands them."""
    elements = [(e.name, e.kind, e.mission) for e in scenario.elements] if scenario is not None else []
    items = buildup_items(missions, elements)
    return items, buildup_timeline(items, mc, yearly_dates(first, by))


def buildup_json(items: list[BuildupItem], rows: list[BuildupRow]) -> dict:
    """The build-up as JSON-ready dicts: the items (planned arrivals) and one row per date."""
    return {
        "items": [
            {
                "name": i.name,
                "mission": i.mission,
                "location": i.location,
                "planned_arrival": i.arrival.isoformat(),
                "capabilities": list(i.capabilities),
                "contents": list(i.contents),
            }
            for i in items
        ],
        "timeline": [
            {
                "date": r.date.isoformat(),
                "in_orbit": r.in_orbit,
                "on_surface": r.on_surface,
                "capabilities": r.capabilities,
            }
            for r in rows
        ],
    }


def architecture_chains(
    transfer: Transfer | None = None,
    nrho: HaloOrbit | None = None,
    depart: str = "2030-06-20T09:00",
    tof_days: float = 4.75,
    ephemeris: NrhoFigures | None = None,
) -> list[dict]:
    """Surface-direct vs Gateway-staged, leg by leg, with the CZ-10 landed mass of each (JSON-ready); the
    staged chain uses the ephemeris NRHO's figures when ``ephemeris`` is given (:func:`staging.compare`)."""
    if transfer is None:
        from ilrs.ephem.time import check_coverage
        from ilrs.errors import IlrsError

        et0 = float(to_et(depart)[0])
        try:
            check_coverage([et0, et0 + tof_days * 86400.0])
        except IlrsError as exc:
            raise IlrsError(str(exc), source="--depart") from None
        transfer = direct_transfer(et0, tof_days * 86400.0)
    tli = vehicle_by_key("cz-10").tli_capacity_kg or 0.0
    out = []
    for a in compare(transfer, nrho or nrho_9_2(), ephemeris=ephemeris):
        b = landed_mass(tli, a.name)
        out.append({**a.as_dict(), "cz10_landed_kg": b.landed_kg, "cz10_payload_kg": b.payload_kg})
    return out


def campaign_overview(
    scenario=None, runs: int = 10_000, seed: int = 2035, workers: int = 0, window_start: str = "2030-06-01"
) -> CampaignOverview:
    """The roadmap's Monte Carlo (the scenario's missions, or the built-in roadmap), a month of Earth-Moon launch
    windows, and the CZ-10 landed mass by the surface-direct and the Gateway-staged (9:2 NRHO) architectures."""
    if scenario is not None:
        missions, vehicles = scenario_roadmap(scenario)
        notes = check_roadmap(missions, vehicles)
        if not scenario.missions:
            notes = [
                f"{scenario.name} lists no [[missions]]: the campaign is the built-in ILRS roadmap's "
                "(add [[missions]] for your own)",
                *notes,
            ]
    else:
        missions = default_roadmap()
        notes = check_roadmap(missions)
    mc = simulate(missions, runs, seed, workers=workers)
    windows = launch_windows(float(to_et(window_start)[0]), days=30, step_s=3600.0)
    tli = vehicle_by_key("cz-10").tli_capacity_kg or 0.0
    arch = [landed_mass(tli, a) for a in ("surface-direct", "gateway-staged")]
    nrho = nrho_9_2()
    items, rows = buildup_of(missions, mc, scenario)
    return CampaignOverview(
        missions,
        notes,
        mc,
        windows,
        window_start,
        nrho,
        south_pole_visibility(nrho),
        arch,
        compare(windows["best"], nrho),
        items,
        rows,
    )


def capability_cdf(mc: CampaignResult, start: str = "2026-01-01", end: str = "2040-01-01"):
    """P(capability in place by date) on a monthly grid, for plotting."""
    months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M")).astype("datetime64[D]")
    return months, {c: np.array([mc.probability_by(c, m) for m in months]) for c in mc.capabilities}


#: NAIF IDs of the exported spacecraft (negative: spacecraft; not assigned by NAIF to any real craft we know of).
TRANSFER_NAIF_ID = -990001


def transfer_summary(
    depart: str,
    tof_days: float,
    parking_alt_km: float = 200.0,
    llo_alt_km: float = 100.0,
    oem_path=None,
    oem_step_s: float = 600.0,
    *,
    spk_path=None,
    czml_path=None,
    inc_deg: float = 90.0,
    model: str = "ephemeris",
) -> dict:
    """One Earth-Moon transfer, optionally exported as CCSDS OEM, SPICE SPK (type 13) and CZML (Cesium).

    ``model="ephemeris"`` (default): targeted in the Earth + Moon + Sun ephemeris model with Earth J2 and lunar
    J2/C22 (:func:`ilrs.transport.targeting.targeted_transfer`); the exports run from TLI to the lunar periapsis
    where LOI is performed. ``model="patched-conic"``: the two-body design (:func:`direct_transfer`); its OEM is
    the Keplerian arc towards the Moon's centre, a design aid that does not fly in the real field.
    """
    from ilrs.ephem.time import check_coverage, et_to_utc
    from ilrs.errors import IlrsError

    if not 0.5 <= tof_days <= 30.0:
        raise IlrsError(f"time of flight {tof_days} d is outside [0.5, 30] d", source="--tof-days")
    if model not in ("ephemeris", "patched-conic"):
        raise IlrsError(f"model {model!r} is not known", source="--model", hint="ephemeris or patched-conic")
    et0 = float(to_et(depart)[0])
    try:
        check_coverage([et0, et0 + tof_days * 86400.0])
    except IlrsError as exc:
        raise IlrsError(str(exc), source="--depart") from None
    if model == "patched-conic":
        if spk_path is not None:
            raise IlrsError("SPK export needs the ephemeris model", source="--spk", hint="drop --model patched-conic")
        return _patched_conic_summary(et0, tof_days, parking_alt_km, llo_alt_km, oem_path, oem_step_s, czml_path)

    from ilrs.transport.targeting import targeted_transfer

    t = targeted_transfer(et0, tof_days * 86400.0, llo_alt_km, inc_deg, parking_alt_km, record_step_s=oem_step_s)
    out = {
        "model": "ephemeris (DE440s Earth+Moon+Sun, Earth J2, lunar J2/C22), differential correction",
        "depart_utc": str(et_to_utc(t.depart_et)[0]),
        "loi_utc": str(et_to_utc(t.periapsis_et)[0]),
        "tof_days": t.tof_s / 86400.0,
        "tli_dv_m_s": t.tli_dv_m_s,
        "loi_dv_m_s": t.loi_dv_m_s,
        "total_dv_m_s": t.total_dv_m_s,
        "periapsis_alt_km": (t.periapsis_radius_m - MOON_RADIUS_M) / 1e3,
        "inclination_deg": t.inclination_deg,
        **t.residuals,
        "patched_conic_tli_dv_m_s": t.first_guess_tli_dv_m_s,
        "patched_conic_periapsis_alt_km": (t.first_guess_periapsis_radius_m - MOON_RADIUS_M) / 1e3,
    }
    if oem_path is not None or spk_path is not None or czml_path is not None:
        f = t.flight
        comments = [
            "ILRS trans-lunar transfer targeted in the ephemeris model: Earth, Moon, Sun point masses (DE440s),",
            "Earth J2 (IERS 2010), lunar J2 and C22 (GRAIL GL0660B); DOP853, rtol 1e-12.",
            f"TLI at the first state: {t.tli_dv_m_s:.3f} m/s from a {parking_alt_km:g} km circular parking orbit.",
            f"Last state: lunar periapsis (LOI) at {t.periapsis_radius_m / 1e3:.3f} km radius, inclination "
            f"{t.inclination_deg:.5f} deg to the lunar equator (MOON_ME), velocity before LOI.",
            f"LOI into the circular orbit of that radius: {t.loi_dv_m_s:.3f} m/s.",
        ]
        export_flight(
            out,
            f.et,
            f.state,
            centre="EARTH",
            object_name="ILRS-TRANSFER",
            object_id="ILRS-1",
            naif_id=TRANSFER_NAIF_ID,
            segment_id="ILRS TRANSFER TLI TO LOI",
            title="ILRS trans-lunar transfer",
            comments=comments,
            oem_path=oem_path,
            spk_path=spk_path,
            czml_path=czml_path,
        )
    return out


def _transfer_czml(path, et: np.ndarray, positions_m: np.ndarray, how: str):
    """The transfer as CZML: Earth-centred inertial positions from TLI to the last state."""
    from ilrs.transport.czml_export import flight_czml

    return flight_czml(
        path,
        et,
        positions_m,
        centre="EARTH",
        object_id="ILRS-TRANSFER",
        name="ILRS trans-lunar transfer",
        description=f"Trans-lunar transfer from TLI, {how} (ilrs)",
    )


def _patched_conic_summary(et0, tof_days, parking_alt_km, llo_alt_km, oem_path, oem_step_s, czml_path=None) -> dict:
    import spiceypy

    from ilrs.ephem.time import et_to_utc
    from ilrs.transport.transfer import EARTH_GM_M3_S2, direct_transfer

    t = direct_transfer(et0, tof_days * 86400.0, parking_alt_km, llo_alt_km)
    out = {
        "model": "patched conics (two-body Lambert arc to the Moon's centre)",
        "depart_utc": str(et_to_utc(t.depart_et)[0]),
        "arrive_utc": str(et_to_utc(t.arrive_et)[0]),
        "tof_days": t.tof_s / 86400.0,
        "tli_dv_m_s": t.tli_dv_m_s,
        "loi_dv_m_s": t.loi_dv_m_s,
        "total_dv_m_s": t.total_dv_m_s,
        "v_inf_arrival_m_s": t.v_inf_arrival_m_s,
        "c3_km2_s2": t.c3_km2_s2,
    }
    if czml_path is not None:
        ets = np.append(np.arange(t.depart_et, t.arrive_et, oem_step_s), t.arrive_et)
        state0 = np.concatenate([t.r1, t.v1]) / 1000.0
        states = np.array([spiceypy.prop2b(EARTH_GM_M3_S2 / 1e9, state0, float(e - t.depart_et)) for e in ets])
        out["czml"] = str(_transfer_czml(czml_path, ets, states[:, :3] * 1e3, "patched-conic design arc"))
    if oem_path is not None:
        from ilrs.iotools.oem import write_oem

        ets = np.arange(t.depart_et, t.arrive_et, oem_step_s)
        state0 = np.concatenate([t.r1, t.v1]) / 1000.0
        states = np.array([spiceypy.prop2b(EARTH_GM_M3_S2 / 1e9, state0, float(e - t.depart_et)) for e in ets])
        epochs = [str(x) for x in et_to_utc(ets).astype("datetime64[ms]")]
        write_oem(
            oem_path,
            epochs,
            states[:, :3],
            states[:, 3:],
            object_name="ILRS-TRANSFER",
            object_id="ILRS-1",
            center_name="EARTH",
            ref_frame="EME2000",
            comments=[
                "Patched-conic design arc: two-body Keplerian motion about the Earth aimed at the Moon's",
                "centre. A design aid: in the real field it does not reach the intended lunar orbit.",
            ],
        )
        out["oem"] = str(oem_path)
    return out
