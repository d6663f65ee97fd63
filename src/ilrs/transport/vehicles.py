"""Launch vehicles of the ILRS roadmap, with the source of every figure (a user may add more in a scenario)."""

from __future__ import annotations

from dataclasses import dataclass

from ilrs.errors import IlrsError


@dataclass(frozen=True)
class LaunchVehicle:
    """A launcher's capabilities [kg]; ``None`` where no figure was found (said in ``source``)."""

    key: str
    name: str
    country: str
    tli_capacity_kg: float | None
    leo_capacity_kg: float | None
    source: str


VEHICLES: tuple[LaunchVehicle, ...] = (
    LaunchVehicle(
        "cz-5",
        "Long March 5",
        "China",
        8_350.0,
        25_000.0,
        "TLI: Chang'e 6 at 8.35 t and Chang'e 5 at 8.2 t flew on CZ-5; LEO 25 t (ILRS-FACTS 3.1)",
    ),
    LaunchVehicle(
        "cz-10",
        "Long March 10",
        "China",
        27_000.0,
        None,
        ">= 27 t to trans-lunar orbit (SCMP 2025, ILRS-FACTS 3.1); LEO not published",
    ),
    LaunchVehicle(
        "cz-9",
        "Long March 9",
        "China",
        50_000.0,
        None,
        "50 t to lunar transfer orbit (ILRS-FACTS 3.1); reusable methalox design",
    ),
    LaunchVehicle(
        "angara-a5",
        "Angara-A5",
        "Russia",
        None,
        24_000.0,
        "LEO 24 t (ILRS-FACTS 3.1); no TLI figure published: use a kick stage budget from LEO",
    ),
    LaunchVehicle(
        "angara-a5v",
        "Angara-A5V",
        "Russia",
        None,
        37_500.0,
        "LEO 37-38 t with the hydrogen upper stage (ILRS-FACTS 3.1)",
    ),
)


def vehicle_by_key(key: str) -> LaunchVehicle:
    for v in VEHICLES:
        if v.key == key.lower():
            return v
    raise IlrsError(
        f"unknown launch vehicle {key!r}", source="vehicle", hint="known: " + ", ".join(v.key for v in VEHICLES)
    )
