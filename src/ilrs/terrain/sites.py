"""Named south-pole sites, each with its coordinates and their source."""

from __future__ import annotations

from dataclasses import dataclass

from ilrs.errors import IlrsError


@dataclass(frozen=True)
class NamedSite:
    """A place near the lunar south pole (planetocentric latitude, east longitude [deg])."""

    key: str
    name: str
    lat_deg: float
    lon_deg: float
    kind: str
    source: str


_GAZETTEER = "IAU Gazetteer of Planetary Nomenclature (crater centre)"

SITES: tuple[NamedSite, ...] = (
    NamedSite(
        "cr1",
        "Connecting Ridge (CR1)",
        -89.45,
        222.69,
        "illuminated ridge",
        "Mazarico et al. 2011, Icarus 211, doi:10.1016/j.icarus.2010.10.030 (max avg. illumination point)",
    ),
    NamedSite(
        "shackleton-rim",
        "Shackleton rim, most illuminated point",
        -88.74,
        124.5,
        "illuminated rim",
        "Bussey et al. 2010, Icarus 208, doi:10.1016/j.icarus.2010.03.028 (lit 86% of 2020)",
    ),
    NamedSite(
        "change7",
        "Chang'e 7 target, peak near Shackleton's SE ridge",
        -88.8,
        123.4,
        "landing target",
        "Wang et al. 2024, National Science Review 11(2) nwad329 (as reported)",
    ),
    NamedSite("shackleton", "Shackleton crater", -89.67, 129.78, "permanently shadowed crater", _GAZETTEER),
    NamedSite("de-gerlache", "de Gerlache crater", -88.5, 272.9, "crater", _GAZETTEER),
    NamedSite(
        "de-gerlache-rim",
        "de Gerlache rim, best-lit point",
        -88.7016,
        291.64,
        "illuminated rim (derived)",
        "ilrs site rank, 240 m LOLA DEM, 2025 hourly, 2 m observer (Artemis III region 'de Gerlache Rim')",
    ),
    NamedSite("shoemaker", "Shoemaker crater", -88.14, 44.9, "permanently shadowed crater", _GAZETTEER),
    NamedSite("haworth", "Haworth crater", -87.45, 355.0, "permanently shadowed crater", _GAZETTEER),
    NamedSite("faustini", "Faustini crater", -87.18, 77.0, "permanently shadowed crater", _GAZETTEER),
    NamedSite(
        "malapert",
        "Malapert Massif",
        -86.0,
        0.0,
        "massif (Artemis III candidate region)",
        "NASA Artemis III candidate regions, 2022 and Oct 2024 (approximate summit)",
    ),
    NamedSite(
        "lcross",
        "LCROSS impact site (Cabeus)",
        -84.675,
        311.297,
        "impact site",
        "Colaprete et al. 2010, Science 330, doi:10.1126/science.1186986",
    ),
)


def site_by_key(key: str) -> NamedSite:
    for s in SITES:
        if s.key == key.lower():
            return s
    raise IlrsError(f"unknown site {key!r}", source="--site", hint="known sites: " + ", ".join(s.key for s in SITES))
