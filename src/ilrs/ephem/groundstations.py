"""Deep-space ground stations of the ILRS partners: a catalogue with coordinates and their sources."""

from __future__ import annotations

from dataclasses import dataclass

from ilrs.errors import IlrsError

#: Space-to-Earth bands the deep-space stations receive [Hz]: S 2.200-2.300, X 8.400-8.500, Ka 25.5-27.0 and
#: 31.8-32.3 GHz (ITU Radio Regulations space research allocations, as used by SFCG for lunar missions).
STATION_RX_BANDS_HZ = ((2.200e9, 2.300e9), (8.400e9, 8.500e9), (25.5e9, 27.0e9), (31.8e9, 32.3e9))

# ---------------------------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class GroundStation:
    """A deep-space antenna on Earth.

    Attributes
    ----------
    key : str
        Short identifier, e.g. 'kashi'.
    name, agency : str
        Display name and operator.
    lat_deg, lon_deg : float
        Geodetic (WGS84) latitude and east longitude [deg].
    height_m : float
        Height above the WGS84 ellipsoid [m]. The sources give heights above sea level or none; the
        difference (the geoid's undulation, tens of metres) moves the Moon's direction by < 0.03 arcsec.
    dish_diameter_m : float
        Main reflector diameter [m].
    source : str
        Where the coordinates and the diameter come from, with their uncertainty.
    """

    key: str
    name: str
    agency: str
    lat_deg: float
    lon_deg: float
    height_m: float
    dish_diameter_m: float
    source: str


#: Deep-space stations that can serve the ILRS (ILRS-FACTS section 1.8). Coordinates are from public
#: sources to +-0.01 deg or better (1 km on the ground, 0.5 arcsec in the Moon's direction); the heights are
#: approximate where a source gives none (stated per station), which matters even less (< 0.1 arcsec).
GROUND_STATIONS: tuple[GroundStation, ...] = (
    GroundStation(
        key="kashi",
        name="Kashi (Kashgar) deep space station",
        agency="CLTC (Xi'an Satellite Control Center)",
        # +-0.01 deg assumed (a Wikipedia map marker). Height: the Tarim plain there (1200-1300 m), no source.
        lat_deg=38.4214,
        lon_deg=76.7144,
        height_m=1250.0,
        dish_diameter_m=35.0,
        source="English Wikipedia 'Chinese Deep Space Network', location-map marker lat=38.4214 long=76.7144 "
        "(current revision as diffed at https://talk.dob.jp/enwiki/w/index.php?diff=cur&oldid=1022193174"
        "&title=Chinese_Deep_Space_Network); "
        "35 m: ILRS-FACTS 1.8. VLBI positions to 2 cm exist (Xu et al. 2016, Adv. Space Res. 58(9), "
        "'First geodetic VLBI sessions with the Chinese Deep Space Stations Jiamusi and Kashi') but "
        "their values were not accessible here",
    ),
    GroundStation(
        key="jiamusi",
        name="Jiamusi deep space station",
        agency="CLTC",
        # +-0.01 deg assumed (a Wikipedia map marker). Height: hills near Jiamusi (100-300 m), no source.
        lat_deg=46.4939,
        lon_deg=130.7706,
        height_m=200.0,
        dish_diameter_m=64.0,
        source="English Wikipedia 'Chinese Deep Space Network', location-map marker lat=46.4939 "
        "long=130.7706 (same revision as Kashi); 64 m: ILRS-FACTS 1.8 citing that article (other "
        "reports give 66 m; not verified here)",
    ),
    GroundStation(
        key="neuquen",
        name="Espacio Lejano Station (CLTC-CONAE-Neuquen)",
        agency="CLTC / CONAE",
        # +-0.005 deg (coordinates to 1 arcsec of a 200 ha site). Height: the Pampa de Pilmatue plateau, no
        # source found (+-300 m).
        lat_deg=-38.1914,
        lon_deg=-70.1495,
        height_m=1000.0,
        dish_diameter_m=35.0,
        source="English Wikipedia 'Espacio Lejano Station' (https://en.wikipedia.org/wiki/"
        "Espacio_Lejano_Station): 38 deg 11'29\" S 70 deg 08'58\" W = -38.1914, -70.1495; 35 m: "
        "ILRS-FACTS 1.8",
    ),
    GroundStation(
        key="bear_lakes",
        name="Bear Lakes (Medvezhi Ozera) RT-64",
        agency="OKB MEI",
        # +-0.005 deg (coordinates to 1 arcsec of the 67 ha centre); height 200 m above sea level, same article.
        lat_deg=55.0 + 52.0 / 60.0 + 5.0 / 3600.0,
        lon_deg=37.0 + 57.0 / 60.0 + 7.0 / 3600.0,
        height_m=200.0,
        dish_diameter_m=64.0,
        source="Russian Wikipedia 'Medvezhi Ozyora (space communications centre)' in the de.wiki7.org "
        "translation: 55 deg 52'05\" N 37 deg 57'07\" E, height 200 m; RT-64 (TNA-1500), D = 64 m, from "
        "the same article",
    ),
    GroundStation(
        key="ussuriysk",
        name="Ussuriysk (Galenki) RT-70",
        agency="East Center for Deep Space Communications (Russia)",
        # +-0.001 deg (the telescope's own coordinates); height about 200 m above sea level (a travel guide,
        # +-100 m).
        lat_deg=44.0 + 0.0 / 60.0 + 57.9 / 3600.0,
        lon_deg=131.0 + 45.0 / 60.0 + 25.13 / 3600.0,
        height_m=200.0,
        dish_diameter_m=70.0,
        source="Italian Wikipedia 'RT-70' (mirror it.teknopedia.teknokrat.ac.id/wiki/RT-70): "
        "44 deg 00'57.9\" N 131 deg 45'25.13\" E; the same point (to "
        "1e-5 deg) is the direction of USSURIYSK_XYZ in vlbistns_itrf93_topo_russia_131122.tf (PhSRM "
        "SPICE kernels, copy in github.com/gpikkio/Makekey3); height ~200 m: aroundus.com 'Galenki RT-70'",
    ),
)

_BY_KEY = {s.key: s for s in GROUND_STATIONS}


def get_station(station: GroundStation | str) -> GroundStation:
    """A :class:`GroundStation` itself, or the catalogue entry with that key."""
    if isinstance(station, GroundStation):
        return station
    key = str(station).strip().lower()
    if key not in _BY_KEY:
        raise IlrsError(
            f"unknown ground station {station!r}",
            source="station",
            hint="known stations: " + ", ".join(sorted(_BY_KEY)),
        )
    return _BY_KEY[key]
