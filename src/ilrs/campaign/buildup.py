"""Build-up timeline: what is in lunar orbit and on the surface at each date, planned and with its odds of working.

Each mission contributes items: what it leaves in orbit (``Mission.orbital``: a relay, an orbiter) and, when it
lands, what it puts on the surface (the lander with the scenario's elements it carries). The planned arrival is
launch + transit without slips; ``p_working`` on a date comes from the Monte Carlo (arrived with every slip and
failure drawn, and still working). An orbiter of a landing mission shares its mission's outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from ilrs.campaign.montecarlo import CampaignResult
from ilrs.campaign.roadmap import Mission

LOCATIONS = ("orbit", "surface")


@dataclass(frozen=True)
class BuildupItem:
    """One thing in lunar orbit or on the surface. ``arrival`` is the planned date (launch + transit)."""

    name: str
    mission: str
    location: str  # "orbit" or "surface"
    arrival: date
    capabilities: tuple[str, ...]
    contents: tuple[str, ...] = ()  # the scenario's elements it carries ("name (kind)")


@dataclass(frozen=True)
class BuildupRow:
    """The station on one date: items present by plan or with a chance of working, and P(capability working)."""

    date: date
    in_orbit: list[dict] = field(default_factory=list)  # {"name", "mission", "planned", "p_working"}
    on_surface: list[dict] = field(default_factory=list)
    capabilities: dict[str, float] = field(default_factory=dict)


def buildup_items(
    missions: Iterable[Mission], elements: Sequence[tuple[str, str, str | None]] = ()
) -> list[BuildupItem]:
    """Items of the roadmap in planned-arrival order.

    Parameters
    ----------
    missions : the roadmap.
    elements : the scenario's surface elements as (name, kind, mission); each is listed in the contents of its
        mission's surface item.
    """
    carried: dict[str, list[str]] = {}
    for name, kind, mission in elements:
        if mission:
            carried.setdefault(mission, []).append(f"{name} ({kind})")
    items = []
    for m in missions:
        arrival = m.launch + timedelta(days=m.transit_days)
        for o in m.orbital:
            items.append(BuildupItem(o, m.name, "orbit", arrival, m.capabilities))
        if m.lands:
            items.append(
                BuildupItem(m.name, m.name, "surface", arrival, m.capabilities, tuple(carried.get(m.name, ())))
            )
    return sorted(items, key=lambda i: (i.arrival, i.location, i.name))


def buildup_timeline(
    items: Sequence[BuildupItem], mc: CampaignResult, dates: Iterable[date], min_p: float = 0.005
) -> list[BuildupRow]:
    """For each date, the items in orbit and on the surface with P(working) from ``mc``.

    An item is listed when its planned arrival is on or before the date (``planned`` True) or, slipped or early,
    it works on that date in at least ``min_p`` of the runs.
    """
    rows = []
    for d in dates:
        row = BuildupRow(d, capabilities={c: mc.probability_by(c, d) for c in mc.capabilities})
        for it in items:
            p = mc.mission_working(it.mission, d)
            planned = it.arrival <= d
            if planned or p >= min_p:
                entry = {"name": it.name, "mission": it.mission, "planned": planned, "p_working": p}
                (row.in_orbit if it.location == "orbit" else row.on_surface).append(entry)
        rows.append(row)
    return rows


def yearly_dates(first: date, last: date) -> list[date]:
    """1 January of each year from ``first``'s year to ``last``'s, then ``last`` itself."""
    out = [date(y, 1, 1) for y in range(first.year, last.year + 1) if date(y, 1, 1) >= first]
    return out + ([last] if not out or out[-1] != last else [])
