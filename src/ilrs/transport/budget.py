"""Delta-v and mass budgets by the rocket equation, and the surface-direct vs Gateway-staged comparison."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ilrs.errors import IlrsError

#: Standard gravity [m/s2] (CGPM 1901) for specific impulse in seconds.
G0_M_S2 = 9.80665

#: Mission legs [m/s] from Acta Astronautica 2020, Table 4 (PMC7385728; ILRS-FACTS 3.3), 5 % reserve included.
DELTA_V_M_S = {
    ("LEO", "TLI"): 3276.0,
    ("TLI", "LLO"): 952.0,
    ("TLI", "NRHO"): 450.0,
    ("NRHO", "LLO"): 740.0,
    ("LLO", "surface"): 2180.0,
    ("surface", "LLO"): 1968.0,
    ("LLO", "NRHO"): 850.0,
    ("LLO", "TEI"): 1256.0,
    ("NRHO", "TEI"): 450.0,
    ("TLI", "surface"): 2900.0,
}

#: The two ways down to the south pole compared by the ILRS tooling.
ARCHITECTURES = {
    "surface-direct": ("TLI", "LLO", "surface"),
    "gateway-staged": ("TLI", "NRHO", "LLO", "surface"),
}


def mass_ratio(delta_v_m_s: float, isp_s: float) -> float:
    """Initial / final mass for a burn, Tsiolkovsky: exp(dv / (Isp g0))."""
    if isp_s <= 0:
        raise IlrsError(f"specific impulse {isp_s} s must be positive", source="isp_s")
    if delta_v_m_s < 0:
        raise IlrsError(f"delta-v {delta_v_m_s} m/s must not be negative", source="delta_v_m_s")
    return math.exp(delta_v_m_s / (isp_s * G0_M_S2))


def propellant_kg(final_mass_kg: float, delta_v_m_s: float, isp_s: float) -> float:
    """Propellant to give ``final_mass_kg`` (dry + payload) the delta-v [kg]."""
    return final_mass_kg * (mass_ratio(delta_v_m_s, isp_s) - 1.0)


def path_delta_v(path: tuple[str, ...]) -> float:
    """Sum of the tabulated legs along a path of states [m/s]."""
    total = 0.0
    for a, b in zip(path[:-1], path[1:], strict=True):
        if (a, b) not in DELTA_V_M_S:
            raise IlrsError(
                f"no delta-v for the leg {a} -> {b}",
                source="path",
                hint="legs: " + ", ".join(f"{x}->{y}" for x, y in DELTA_V_M_S),
            )
        total += DELTA_V_M_S[(a, b)]
    return total


@dataclass(frozen=True)
class LandingBudget:
    architecture: str
    delta_v_m_s: float
    mass_at_tli_kg: float
    landed_kg: float
    propellant_kg: float
    payload_kg: float
    feasible: bool


def landed_mass(
    mass_at_tli_kg: float, architecture: str = "surface-direct", isp_s: float = 320.0, stage_dry_fraction: float = 0.10
) -> LandingBudget:
    """What reaches the surface from a mass injected to TLI, one lander stage doing every burn after TLI.

    ``landed_kg`` is the final mass (lander dry mass + payload); the lander's dry structure and engines are
    ``stage_dry_fraction`` of the propellant it carries (tanks and engines scale with propellant), the rest of
    the landed mass is payload.
    """
    if architecture not in ARCHITECTURES:
        raise IlrsError(
            f"unknown architecture {architecture!r}", source="architecture", hint="known: " + ", ".join(ARCHITECTURES)
        )
    dv = path_delta_v(ARCHITECTURES[architecture])
    final = mass_at_tli_kg / mass_ratio(dv, isp_s)
    prop = mass_at_tli_kg - final
    payload = final - stage_dry_fraction * prop
    return LandingBudget(architecture, dv, mass_at_tli_kg, final, prop, payload, payload > 0)
