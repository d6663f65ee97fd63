"""Surface-direct vs Gateway-staged access to the lunar south pole: the whole chain, delta-v and time per leg.

Surface-direct (the ILRS way, as Chang'e 3-6 flew): TLI -> ~4-5 d coast -> lunar orbit insertion into a low polar
orbit (LLO) -> descent. Gateway-staged (Artemis): TLI -> ~5 d coast -> NRHO insertion -> wait in the 9:2 NRHO
for the departure -> NRHO to LLO -> descent.

Each leg carries the published figure used for the budget and, where this code models the leg, the value our
own model computes, so the two can be compared:

* TLI, coast and LOI: the patched-conic transfer (:mod:`ilrs.transport.transfer`, DE440s).
* NRHO insertion: a patched-conic *lower bound*, the hyperbola from the transfer's arrival v-infinity with its
  periapsis at the NRHO's perilune, minus the NRHO's perilune speed (a tangential burn; the real geometry of a
  hyperbola meeting a near-polar NRHO costs more).
* NRHO to LLO: two impulses from the NRHO's perilune (CR3BP state, Moon-centred inertial speed) along a
  half-ellipse down to the LLO radius. Published transfers depart before perilune and use the Earth's pull over
  ~12 h, so they cost less: this is an upper bound.
* Descent and the NRHO insertion budget: published only.

Published figures (one-way, m/s):

* Acta Astronautica 2020, Table 4 (PMC7385728; ILRS-FACTS 3.3), 5 % reserve included: LEO->TLI 3,276;
  TLI->LLO 952; TLI->NRHO 450; NRHO->LLO 740; LLO->surface 2,180.
* Whitley & Martinez 2016, "Options for Staging Orbits in Cis-Lunar Space", IEEE Aerospace Conference (NASA NTRS
  20150019648), NRHO column: ~5 days from Earth, ~0.5 day and ~730 m/s to LLO, orbit maintenance < 10 m/s/yr.
  ESA (2019, "Orbiting lunar Gateway") also gives about five days from Earth to the Gateway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import cr3bp
from ilrs.transport.budget import DELTA_V_M_S
from ilrs.transport.halo import EARTH_MOON, EarthMoonSystem, HaloOrbit, south_pole_visibility
from ilrs.transport.nrho_ephemeris import NrhoFigures
from ilrs.transport.orbits import MOON_GM_M3_S2
from ilrs.transport.transfer import Transfer

_ACTA = "Acta Astronautica 2020 Table 4 (PMC7385728), 5 % reserve"
_WM = "Whitley & Martinez 2016 (NTRS 20150019648)"
#: Whitley & Martinez 2016: Earth to NRHO ~5 d; NRHO to LLO ~0.5 d and ~730 m/s.
EARTH_TO_NRHO_DAYS = 5.0
NRHO_TO_LLO_DAYS = 0.5
NRHO_TO_LLO_WM_M_S = 730.0
#: Whitley & Martinez 2016: NRHO orbit maintenance below 10 m/s per year (the budget's figure for the wait).
NRHO_MAINTENANCE_WM_M_S_PER_YEAR = 10.0
#: Powered descent and landing from a 100 km LLO: 2,180 m/s (Acta 2020); minutes long (Chang'e 3's took ~12 min).
DESCENT_DAYS = 12.0 / 1440.0


@dataclass(frozen=True)
class Leg:
    """One leg of the chain: the published delta-v used in the budget [m/s], its duration [d], and our own
    model's value [m/s] where we model it (``model_kind`` says how it relates: "estimate", "lower bound",
    "upper bound")."""

    name: str
    delta_v_m_s: float
    days: float
    model_m_s: float | None
    model_kind: str
    source: str


@dataclass(frozen=True)
class Architecture:
    """A way from TLI to the south-pole surface, leg by leg."""

    name: str
    legs: tuple[Leg, ...]
    pole_access: str

    @property
    def delta_v_after_tli_m_s(self) -> float:
        """Published delta-v of every leg after TLI [m/s]."""
        return sum(leg.delta_v_m_s for leg in self.legs if leg.name != "TLI")

    @property
    def days(self) -> float:
        """TLI to touchdown [d], with the mean wait for a departure where there is one."""
        return sum(leg.days for leg in self.legs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "architecture": self.name,
            "delta_v_after_tli_m_s": self.delta_v_after_tli_m_s,
            "tli_to_surface_days": self.days,
            "south_pole_access": self.pole_access,
            "legs": [leg.__dict__ for leg in self.legs],
        }


def circular_period_s(radius_m: float, mu_m3_s2: float = MOON_GM_M3_S2) -> float:
    """Keplerian period of a circular orbit [s]."""
    return 2.0 * math.pi * math.sqrt(radius_m**3 / mu_m3_s2)


def nrho_perilune(orbit: HaloOrbit, system: EarthMoonSystem = EARTH_MOON, n: int = 20_001) -> tuple[float, float]:
    """Perilune radius [m] and Moon-centred inertial speed there [m/s] (rotating velocity + omega x r)."""
    t = np.linspace(0.0, orbit.period, n)
    y = cr3bp.propagate(orbit.state0, orbit.period, system.mu, t_eval=t).y
    r = y[:3].T - np.array([1.0 - system.mu, 0.0, 0.0])
    k = int(np.argmin(np.linalg.norm(r, axis=1)))
    v_in = y[3:6, k] + np.cross([0.0, 0.0, 1.0], r[k])
    return float(np.linalg.norm(r[k]) * system.lunit_km * 1e3), float(
        np.linalg.norm(v_in) * system.lunit_km / system.tunit_s * 1e3
    )


def nrho_to_llo_dv(rp_m: float, vp_m_s: float, llo_radius_m: float, mu: float = MOON_GM_M3_S2) -> tuple[float, float]:
    """Two impulses from the NRHO's perilune down to a circular LLO along a half ellipse [m/s], and its
    duration [s]: (vp - v_apo) + (v_peri - v_circ)."""
    a = 0.5 * (rp_m + llo_radius_m)
    v_apo = math.sqrt(mu * (2.0 / rp_m - 1.0 / a))
    v_peri = math.sqrt(mu * (2.0 / llo_radius_m - 1.0 / a))
    return abs(vp_m_s - v_apo) + (v_peri - math.sqrt(mu / llo_radius_m)), math.pi * math.sqrt(a**3 / mu)


def nrho_insertion_lower_bound(v_inf_m_s: float, rp_m: float, vp_m_s: float, mu: float = MOON_GM_M3_S2) -> float:
    """Tangential burn at the NRHO's perilune from the arrival hyperbola with the same periapsis [m/s]."""
    return math.sqrt(v_inf_m_s**2 + 2.0 * mu / rp_m) - vp_m_s


def compare(
    transfer: Transfer,
    nrho: HaloOrbit,
    llo_alt_km: float = 100.0,
    system: EarthMoonSystem = EARTH_MOON,
    ephemeris: NrhoFigures | None = None,
) -> tuple[Architecture, Architecture]:
    """Surface-direct and Gateway-staged chains from one Earth-Moon transfer and the 9:2 NRHO.

    Parameters
    ----------
    transfer : a patched-conic transfer (gives TLI, LOI, coast time and arrival v-infinity).
    nrho : the 9:2 NRHO (:func:`ilrs.transport.halo.nrho_9_2`).
    llo_alt_km : the low polar orbit [km] (the published LOI and descent figures are for 100 km).
    ephemeris : the NRHO flown in the ephemeris model (:func:`ilrs.transport.nrho_ephemeris.nrho_figures`).
        When given, the staged chain uses its numbers instead of the CR3BP's: the perilune radius and
        inertial speed of each revolution (the NRHO insertion and NRHO -> LLO legs are the mean over the
        revolutions, their range in the leg's note), the mean period (the wait), and the station-keeping
        estimate over the wait (a leg of its own, budgeted at Whitley & Martinez's < 10 m/s per year).
    """
    r_llo = MOON_RADIUS_M + llo_alt_km * 1e3
    llo_h = circular_period_s(r_llo) / 3600.0
    if ephemeris is None:
        rp, vp = nrho_perilune(nrho, system)
        to_llo, to_llo_s = nrho_to_llo_dv(rp, vp, r_llo)
        nri = nrho_insertion_lower_bound(transfer.v_inf_arrival_m_s, rp, vp)
        period_d, model_note, spread = nrho.period_days, "CR3BP", ""
    else:
        peri = list(zip(ephemeris.perilune_radius_m.tolist(), ephemeris.perilune_speed_m_s.tolist(), strict=True))
        legs = [nrho_to_llo_dv(r, v, r_llo) for r, v in peri]
        down = np.array([d for d, _ in legs])
        ins = np.array([nrho_insertion_lower_bound(transfer.v_inf_arrival_m_s, r, v) for r, v in peri])
        to_llo, to_llo_s, nri = float(down.mean()), float(np.mean([t for _, t in legs])), float(ins.mean())
        period_d = ephemeris.mean_period_days
        model_note = f"ephemeris model, {ephemeris.revolutions} revolutions"
        spread = f"; {down.min():.0f}-{down.max():.0f} m/s over the revolutions"
    coast_d = transfer.tof_s / 86400.0
    vis = south_pole_visibility(nrho, system=system)
    tli = Leg("TLI", DELTA_V_M_S[("LEO", "TLI")], 0.0, transfer.tli_dv_m_s, "estimate (200 km LEO)", _ACTA)
    descent = Leg(
        "descent LLO -> surface",
        DELTA_V_M_S[("LLO", "surface")],
        DESCENT_DAYS,
        None,
        "",
        _ACTA + "; minutes (Chang'e 3 ~12 min)",
    )
    direct = Architecture(
        "surface-direct",
        (
            tli,
            Leg("coast Earth -> Moon", 0.0, coast_d, None, "", "patched conics, DE440s"),
            Leg(
                f"LOI into {llo_alt_km:g} km polar LLO",
                DELTA_V_M_S[("TLI", "LLO")],
                0.0,
                transfer.loi_dv_m_s,
                "estimate",
                _ACTA,
            ),
            Leg(
                "wait in LLO for the pole (mean half a revolution)",
                0.0,
                0.5 * llo_h / 24.0,
                None,
                "",
                f"polar LLO period {llo_h:.2f} h (Kepler)",
            ),
            descent,
        ),
        f"polar LLO overflies the south pole every revolution ({llo_h:.2f} h); direct-to-Earth or relay links",
    )
    maintenance: tuple[Leg, ...] = ()
    if ephemeris is not None:
        wait_yr = 0.5 * period_d / 365.25
        maintenance = (
            Leg(
                "NRHO orbit maintenance during the wait",
                NRHO_MAINTENANCE_WM_M_S_PER_YEAR * wait_yr,
                0.0,
                ephemeris.station_keeping_m_s_per_year * wait_yr,
                f"estimate ({ephemeris.station_keeping_m_s_per_year:.2f} m/s per year, {model_note})",
                _WM + ": < 10 m/s per year",
            ),
        )
    staged = Architecture(
        "gateway-staged",
        (
            tli,
            Leg("coast Earth -> NRHO", 0.0, EARTH_TO_NRHO_DAYS, None, "", _WM + "; ESA 2019: about five days"),
            Leg("NRHO insertion", DELTA_V_M_S[("TLI", "NRHO")], 0.0, nri, f"lower bound ({model_note})", _ACTA),
            Leg(
                "wait in the NRHO for the departure (mean half a period)",
                0.0,
                0.5 * period_d,
                None,
                "",
                f"9:2 NRHO {'mean ' if ephemeris is not None else ''}period {period_d:.3f} d ({model_note})",
            ),
            *maintenance,
            Leg(
                f"NRHO -> {llo_alt_km:g} km LLO",
                DELTA_V_M_S[("NRHO", "LLO")],
                NRHO_TO_LLO_DAYS,
                to_llo,
                f"upper bound (perilune half-ellipse, {to_llo_s / 3600.0:.1f} h; {model_note}{spread})",
                _ACTA + f"; {_WM}: ~730 m/s, ~0.5 d",
            ),
            descent,
        ),
        f"one departure per NRHO revolution ({period_d:.2f} d); the NRHO sees the south pole above 10 deg "
        f"{100 * vis:.0f} % of the time",
    )
    return direct, staged
