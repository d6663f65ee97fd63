"""Campaign and transport use cases for the report: roadmap risk, launch windows, architecture comparison."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ilrs.campaign.montecarlo import CampaignResult, simulate
from ilrs.campaign.roadmap import Mission, check_roadmap, default_roadmap
from ilrs.ephem.time import to_et
from ilrs.transport.budget import LandingBudget, landed_mass
from ilrs.transport.halo import HaloOrbit, nrho_9_2
from ilrs.transport.transfer import launch_windows
from ilrs.transport.vehicles import vehicle_by_key


@dataclass(frozen=True)
class CampaignOverview:
    missions: tuple[Mission, ...]
    notes: list[str]
    monte_carlo: CampaignResult
    windows: dict
    window_start: str
    nrho: HaloOrbit
    architectures: list[LandingBudget]


def campaign_overview(runs: int = 10_000, seed: int = 2035, workers: int = 0,
                      window_start: str = "2030-06-01") -> CampaignOverview:
    """The default roadmap's Monte Carlo, a month of Earth-Moon launch windows, and the CZ-10 landed mass by
    the surface-direct and the Gateway-staged (9:2 NRHO) architectures."""
    missions = default_roadmap()
    notes = check_roadmap(missions)
    mc = simulate(missions, runs, seed, workers=workers)
    windows = launch_windows(float(to_et(window_start)[0]), days=30, step_s=3600.0)
    tli = vehicle_by_key("cz-10").tli_capacity_kg or 0.0
    arch = [landed_mass(tli, a) for a in ("surface-direct", "gateway-staged")]
    return CampaignOverview(missions, notes, mc, windows, window_start, nrho_9_2(), arch)


def capability_cdf(mc: CampaignResult, start: str = "2026-01-01", end: str = "2040-01-01"):
    """P(capability in place by date) on a monthly grid, for plotting."""
    months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M")).astype("datetime64[D]")
    return months, {c: np.array([mc.probability_by(c, m) for m in months]) for c in mc.capabilities}
