"""The ILRS roadmap as missions with launch/landing odds and schedule slips, and its consistency check.

Dates and masses follow ILRS-FACTS 1.2 (phases), 1.7 (mission cards) and 3.1 (launchers); every figure that is
an assumption rather than a published number says so in the mission's ``source``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ilrs.errors import IlrsError
from ilrs.scenario.schema import Scenario
from ilrs.transport.vehicles import VEHICLES, LaunchVehicle

CAPABILITIES: tuple[str, ...] = (
    "energy",
    "communications",
    "research",
    "isru",
    "technology",
    "astronomy",
    "sample-return",
    "reconnaissance",
    "relay",
)

SLIP_KINDS = ("none", "triangular", "lognormal")

# Soyuz-2.1b/Fregat is not in the transport catalogue; it flies Luna 26 (ILRS-FACTS 1.7).
ROADMAP_VEHICLES: tuple[LaunchVehicle, ...] = (
    LaunchVehicle(
        "soyuz-2.1b-fregat",
        "Soyuz-2.1b/Fregat",
        "Russia",
        None,
        None,
        "no TLI figure published; Luna 25 (1,750 kg) flew on it in 2023 (ILRS-FACTS 1.7)",
    ),
    LaunchVehicle(
        "cz-8",
        "Long March 8",
        "China",
        None,
        None,
        "no TLI figure published; Queqiao-2 (1,200 kg) flew on it to the Moon in 2024 (ILRS-FACTS 1.8)",
    ),
)


@dataclass(frozen=True)
class Slip:
    """Schedule slip of a launch relative to its planned date [day].

    ``triangular``: min/mode/max in days (``min_days`` may be negative for an early launch).
    ``lognormal``: delay ``median_days * exp(sigma * Z)``, always positive.
    """

    kind: str = "none"
    min_days: float = 0.0
    mode_days: float = 0.0
    max_days: float = 0.0
    median_days: float = 0.0
    sigma: float = 0.0

    @classmethod
    def triangular(cls, min_days: float, mode_days: float, max_days: float) -> Slip:
        return cls("triangular", min_days=min_days, mode_days=mode_days, max_days=max_days)

    @classmethod
    def lognormal(cls, median_days: float, sigma: float) -> Slip:
        return cls("lognormal", median_days=median_days, sigma=sigma)


NO_SLIP = Slip()


@dataclass(frozen=True)
class Mission:
    """One roadmap mission. ``mass_kg`` is the mass injected to TLI [kg]; ``transit_days`` launch to landing [day].

    ``lands`` False: the mission stays in lunar orbit (an orbiter or a relay) and ``p_landing`` is its orbit
    insertion success; ``in_orbit`` names the spacecraft it leaves in lunar orbit (a landing mission's orbiter).
    What the mission delivers may fail: dead on arrival with ``p_failure_on_arrival``, else after an exponential
    lifetime of mean ``mtbf_years`` [yr] (0: never fails). Those failures end the capabilities it provides.
    """

    name: str
    agency: str
    vehicle: str
    launch: date
    mass_kg: float
    capabilities: tuple[str, ...]
    depends_on: tuple[str, ...] = ()
    p_launch: float = 1.0
    p_landing: float = 1.0
    slip: Slip = field(default=NO_SLIP)
    transit_days: float = 0.0
    source: str = ""
    lands: bool = True
    in_orbit: tuple[str, ...] = ()
    p_failure_on_arrival: float = 0.0
    mtbf_years: float = 0.0

    @property
    def orbital(self) -> tuple[str, ...]:
        """What the mission leaves in lunar orbit: ``in_orbit``, or the mission itself when it does not land."""
        return self.in_orbit or (() if self.lands else (self.name,))


# Chang'e 6: launched 3 May 2024, landed 2 Jun 2024 (ILRS-FACTS 1.7) -> about 30 days launch to landing.
_CE_TRANSIT = 30.0
_CE_SRC = "p_launch 0.95: CZ-5 lost one of its first flights (Y2, 2017); p_landing 0.95: Chang'e 3-6 all landed"
_LUNA_SRC = "p_landing 0.85: Luna 25 crashed in 2023 (ILRS-FACTS 1.7); slip lognormal median 1 y is an assumption"
_LIFE_SRC = (
    "mtbf_years {years}: engineering default equating the mean exponential life with {what}, "
    "no failure rate is published"
)
_ILRS_SRC = (
    "ILRS-FACTS 1.2: five super-heavy launches 2030-2035, CZ-10 >= 27 t TLI (3.1); mass 25 t, yearly "
    "spacing, p 0.95/0.90 and slip -0/+180/+720 d are assumptions (new vehicle, no published masses)"
)


def default_roadmap() -> tuple[Mission, ...]:
    """Chang'e 7/8, Luna 26/27/28 and ILRS-1..5 (ILRS-FACTS 1.2, 1.7, 3.1)."""
    ce_slip = Slip.triangular(0.0, 90.0, 540.0)
    luna_slip = Slip.lognormal(365.0, 0.7)
    ilrs_slip = Slip.triangular(0.0, 180.0, 720.0)
    missions = [
        Mission(
            "Chang'e 7",
            "CNSA",
            "cz-5",
            date(2026, 8, 1),
            8_200.0,
            ("reconnaissance",),
            (),
            0.95,
            0.95,
            ce_slip,
            _CE_TRANSIT,
            "~Aug 2026 on CZ-5, 8.2 t: orbiter, lander, rover, hopper (ILRS-FACTS 1.7); "
            + _CE_SRC
            + "; "
            + _LIFE_SRC.format(years=8, what="Chang'e 7's 8-year design life (NSSDC, ILRS-FACTS 1.7)"),
            in_orbit=("Chang'e 7 orbiter",),
            mtbf_years=8.0,
        ),
        Mission(
            "Chang'e 8",
            "CNSA",
            "cz-5",
            date(2029, 1, 1),
            8_200.0,
            ("isru", "technology"),
            ("Chang'e 7",),
            0.95,
            0.95,
            ce_slip,
            _CE_TRANSIT,
            "2028-29, ISRU brick printing (ILRS-FACTS 1.7); mass taken equal to Chang'e 7 (assumption); " + _CE_SRC,
        ),
        Mission(
            "Luna 26",
            "Roscosmos",
            "soyuz-2.1b-fregat",
            date(2027, 9, 1),
            2_200.0,
            ("reconnaissance", "relay"),
            (),
            0.97,
            0.90,
            luna_slip,
            5.0,
            "Sep 2027 orbiter and relay on Soyuz-2 (ILRS-FACTS 1.7); mass 2.2 t is an assumption; orbit "
            "insertion odds in p_landing 0.90; " + _LUNA_SRC,
            lands=False,
        ),
        Mission(
            "Luna 27",
            "Roscosmos",
            "angara-a5",
            date(2028, 7, 1),
            3_000.0,
            ("research",),
            ("Luna 26",),
            0.95,
            0.85,
            luna_slip,
            10.0,
            "2028 heavy polar lander on Angara-A5 (ILRS-FACTS 1.7); mass 3 t is an assumption; Angara TLI "
            "unknown (3.1) so the mass is not checked; " + _LUNA_SRC,
        ),
        Mission(
            "Luna 28",
            "Roscosmos",
            "angara-a5",
            date(2030, 7, 1),
            4_363.0,
            ("sample-return",),
            ("Luna 27",),
            0.95,
            0.85,
            luna_slip,
            10.0,
            "2030 or later, 4,363 kg fuelled (ILRS-FACTS 1.7); Angara-A5 is an assumption; " + _LUNA_SRC,
        ),
        Mission(
            "Queqiao-2",
            "CNSA",
            "cz-8",
            date(2024, 3, 20),
            1_200.0,
            ("relay",),
            (),
            1.0,
            1.0,
            NO_SLIP,
            13.0,
            "launched 20 Mar 2024 on CZ-8, 1,200 kg, 200 x 16,000 km 62.4 deg frozen orbit entered 2 Apr 2024 "
            "(ILRS-FACTS 1.8): flown, so certain; "
            + _LIFE_SRC.format(years=9, what="its published 8-10 year life (ILRS-FACTS 1.8)"),
            lands=False,
            mtbf_years=9.0,
        ),
    ]
    ilrs_caps = (("energy", "communications"), ("research",), ("isru",), ("technology",), ("astronomy",))
    for k, caps in enumerate(ilrs_caps, start=1):
        launch = date(2030, 12, 1) if k == 1 else date(2030 + k, 1, 1)
        deps = () if k == 1 else ("ILRS-1",)
        missions.append(
            Mission(
                f"ILRS-{k}",
                "CNSA",
                "cz-10",
                launch,
                25_000.0,
                caps,
                deps,
                0.95,
                0.90,
                ilrs_slip,
                _CE_TRANSIT,
                _ILRS_SRC,
            )
        )
    return tuple(missions)


def _vehicle(key: str, vehicles: tuple[LaunchVehicle, ...]) -> LaunchVehicle | None:
    for v in vehicles:
        if v.key == key.lower():
            return v
    return None


def check_slip(slip: Slip, where: str) -> None:
    """Raise ``IlrsError`` naming ``where`` for a malformed slip distribution."""
    if slip.kind not in SLIP_KINDS:
        raise IlrsError(f"unknown slip kind {slip.kind!r}", source=where, hint="one of " + ", ".join(SLIP_KINDS))
    if slip.kind == "triangular":
        if slip.max_days < slip.min_days:
            raise IlrsError(f"negative width: max_days {slip.max_days} < min_days {slip.min_days}", source=where)
        if not slip.min_days <= slip.mode_days <= slip.max_days:
            raise IlrsError(
                f"mode_days {slip.mode_days} outside [min_days, max_days] = [{slip.min_days}, {slip.max_days}]",
                source=where,
            )
    elif slip.kind == "lognormal":
        if not slip.sigma > 0:
            raise IlrsError(f"sigma {slip.sigma} must be > 0", source=where)
        if not slip.median_days > 0:
            raise IlrsError(f"median_days {slip.median_days} must be > 0", source=where)


def topological_order(missions: tuple[Mission, ...] | list[Mission]) -> tuple[Mission, ...]:
    """Missions with every predecessor before its dependents; ``IlrsError`` on unknown names or a cycle."""
    by_name = {m.name: m for m in missions}
    for m in missions:
        for d in m.depends_on:
            if d not in by_name:
                raise IlrsError(
                    f"depends on unknown mission {d!r}",
                    source=f"mission {m.name!r}.depends_on",
                    hint="known: " + ", ".join(by_name),
                )
    order: list[Mission] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(m: Mission, path: list[str]) -> None:
        if state.get(m.name) == 2:
            return
        if state.get(m.name) == 1:
            cycle = path[path.index(m.name) :] + [m.name]
            raise IlrsError("dependency cycle " + " -> ".join(cycle), source=f"mission {m.name!r}.depends_on")
        state[m.name] = 1
        for d in m.depends_on:
            visit(by_name[d], path + [m.name])
        state[m.name] = 2
        order.append(m)

    for m in missions:
        visit(m, [])
    return tuple(order)


def check_roadmap(
    missions: tuple[Mission, ...] | list[Mission], vehicles: tuple[LaunchVehicle, ...] = VEHICLES + ROADMAP_VEHICLES
) -> list[str]:
    """Check a roadmap; raise ``IlrsError`` naming the mission and field, else return notes on unchecked items."""
    notes: list[str] = []
    seen: set[str] = set()
    for m in missions:
        where = f"mission {m.name!r}"
        if m.name in seen:
            raise IlrsError("duplicate mission name", source=f"{where}.name")
        seen.add(m.name)
        v = _vehicle(m.vehicle, vehicles)
        if v is None:
            raise IlrsError(
                f"unknown launch vehicle {m.vehicle!r}",
                source=f"{where}.vehicle",
                hint="known: " + ", ".join(x.key for x in vehicles),
            )
        if not m.mass_kg > 0:
            raise IlrsError(f"mass {m.mass_kg} kg must be > 0", source=f"{where}.mass_kg")
        if v.tli_capacity_kg is None:
            notes.append(f"{m.name}: {v.name} has no TLI figure; mass {m.mass_kg:,.0f} kg unknown: not checked")
        elif m.mass_kg > v.tli_capacity_kg:
            raise IlrsError(
                f"mass {m.mass_kg:,.0f} kg exceeds {v.name} TLI capacity {v.tli_capacity_kg:,.0f} kg",
                source=f"{where}.mass_kg",
                hint=v.source,
            )
        for c in m.capabilities:
            if c not in CAPABILITIES:
                raise IlrsError(
                    f"unknown capability {c!r}",
                    source=f"{where}.capabilities",
                    hint="one of " + ", ".join(CAPABILITIES),
                )
        for fname in ("p_launch", "p_landing", "p_failure_on_arrival"):
            p = getattr(m, fname)
            if not 0.0 <= p <= 1.0:
                raise IlrsError(f"probability {p} outside [0, 1]", source=f"{where}.{fname}")
        if not m.mtbf_years >= 0:
            raise IlrsError(f"MTBF {m.mtbf_years} yr must be >= 0 (0: never fails)", source=f"{where}.mtbf_years")
        if any(not str(o).strip() for o in m.in_orbit):
            raise IlrsError("empty name in in_orbit", source=f"{where}.in_orbit")
        if not m.transit_days >= 0:
            raise IlrsError(f"transit {m.transit_days} d must be >= 0", source=f"{where}.transit_days")
        check_slip(m.slip, f"{where}.slip")
    order = topological_order(missions)
    by_name = {m.name: m for m in order}
    for m in order:
        for d in m.depends_on:
            if m.launch < by_name[d].launch:
                raise IlrsError(
                    f"planned launch {m.launch} is before that of its predecessor {d!r} ({by_name[d].launch})",
                    source=f"mission {m.name!r}.launch",
                )
    return notes


def scenario_roadmap(scenario: Scenario) -> tuple[tuple[Mission, ...], tuple[LaunchVehicle, ...]]:
    """The scenario's missions as :class:`Mission` objects with every field (the built-in roadmap when it lists
    none), and the vehicle catalogue extended by its ``[[vehicles]]``: the one roadmap builder of ilrs."""
    vehicles = (
        VEHICLES
        + ROADMAP_VEHICLES
        + tuple(
            LaunchVehicle(v.key, v.name, v.country, v.tli_capacity_kg, v.leo_capacity_kg, v.source)
            for v in scenario.vehicles
        )
    )
    if not scenario.missions:
        return default_roadmap(), vehicles
    missions = tuple(
        Mission(
            name=m.name,
            agency=m.agency,
            vehicle=m.vehicle,
            launch=m.launch,
            mass_kg=m.mass_kg,
            capabilities=tuple(m.capabilities),
            depends_on=tuple(m.depends_on),
            p_launch=m.p_launch,
            p_landing=m.p_landing,
            slip=Slip(**m.slip.model_dump()),
            transit_days=m.transit_days,
            source=m.source,
            lands=m.lands,
            in_orbit=tuple(m.in_orbit),
            p_failure_on_arrival=m.p_failure_on_arrival,
            mtbf_years=m.mtbf_years,
        )
        for m in scenario.missions
    )
    return missions, vehicles
