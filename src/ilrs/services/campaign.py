"""Campaign and transport use cases for the report: roadmap risk, launch windows, architecture comparison."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from ilrs.campaign.buildup import BuildupItem, BuildupRow, buildup_items, buildup_timeline, yearly_dates
from ilrs.campaign.montecarlo import CampaignResult, simulate
from ilrs.campaign.roadmap import Mission, check_roadmap, default_roadmap, scenario_roadmap
from ilrs.ephem.time import to_et
from ilrs.transport.budget import LandingBudget, landed_mass
from ilrs.transport.halo import HaloOrbit, nrho_9_2, south_pole_visibility
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
) -> list[dict]:
    """Surface-direct vs Gateway-staged, leg by leg, with the CZ-10 landed mass of each (JSON-ready)."""
    if transfer is None:
        transfer = direct_transfer(float(to_et(depart)[0]), tof_days * 86400.0)
    tli = vehicle_by_key("cz-10").tli_capacity_kg or 0.0
    out = []
    for a in compare(transfer, nrho or nrho_9_2()):
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


def transfer_summary(
    depart: str,
    tof_days: float,
    parking_alt_km: float = 200.0,
    llo_alt_km: float = 100.0,
    oem_path=None,
    oem_step_s: float = 600.0,
) -> dict:
    """One Earth-Moon transfer (patched conics, DE440s), optionally exported as a CCSDS OEM (two-body arc)."""
    import spiceypy

    from ilrs.ephem.time import et_to_utc
    from ilrs.errors import IlrsError
    from ilrs.transport.transfer import direct_transfer

    if not 0.5 <= tof_days <= 30.0:
        raise IlrsError(f"time of flight {tof_days} d is outside [0.5, 30] d", source="--tof-days")
    et0 = float(to_et(depart)[0])
    t = direct_transfer(et0, tof_days * 86400.0, parking_alt_km, llo_alt_km)
    out = {
        "depart_utc": str(et_to_utc(t.depart_et)[0]),
        "arrive_utc": str(et_to_utc(t.arrive_et)[0]),
        "tof_days": t.tof_s / 86400.0,
        "tli_dv_m_s": t.tli_dv_m_s,
        "loi_dv_m_s": t.loi_dv_m_s,
        "total_dv_m_s": t.total_dv_m_s,
        "v_inf_arrival_m_s": t.v_inf_arrival_m_s,
        "c3_km2_s2": t.c3_km2_s2,
    }
    if oem_path is not None:
        from ilrs.iotools.oem import write_oem
        from ilrs.transport.transfer import EARTH_GM_M3_S2

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
        )
        out["oem"] = str(oem_path)
    return out
