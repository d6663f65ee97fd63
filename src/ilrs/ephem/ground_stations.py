"""Ground stations on Earth (the partners' deep-space antennas, with their sources) and the Moon's apparent
direction from them, vectorised over time; direct-to-Earth windows of a lunar site. (The lunar station itself is
:mod:`ilrs.station`.)

The Moon's position is the one SPICE returns for an observer fixed in the Earth's ITRF93 frame,
``spkcpo('MOON', et, 'ITRF93', 'OBSERVER', 'LT+S', station, 'EARTH', 'ITRF93')``: one-iteration light time and
stellar aberration with the station's barycentric velocity (the Earth's orbit plus its rotation). ITRF93's
orientation comes from the NAIF Earth orientation kernels (:mod:`ilrs.ephem.kernels`), so the epochs must lie
in their span (:func:`eop_coverage`, 1962 .. 2126).

Azimuth and elevation are taken in the station's topocentric frame: up along the WGS84 geodetic normal, north
toward the pole, azimuth from north toward east. The elevation is geometric (no refraction: at 10 deg the
atmosphere lifts the Moon by about 5 arcmin, Bennett 1982, J. Navigation 35(2), so a real window opens some
20 s earlier and closes 20 s later than computed here).

Two methods give the same vectors:

``"spice"``
    one ``spkcpo`` call per epoch: the reference.
``"interp"``
    SPICE at nodes every :data:`NODE_SPACING_S` (geometric Moon - Earth and Earth - SSB states in J2000, and
    the J2000 -> ITRF93 rotation with its rate from ``sxform``), cubic Hermite interpolation, then light time
    and aberration applied in numpy as SPICE applies them. The Earth turns 90 deg between 6 h nodes, so the
    rotation is interpolated as ``Rz(theta(t)) Q(t)``: ``theta`` a uniform rotation at the Earth Rotation Angle's
    rate (IERS Conventions 2010, eq. 5.15), ``Q`` the slowly varying rest (precession-nutation, UT1 - TDB,
    polar motion turning with the Earth at 0.3 arcsec).

Measured against ``azlcpo`` at 500 random epochs 2020-2100 at each of the five stations, the 'interp'
direction is within 0.009 arcsec of SPICE and the range within 19 m (5e-8 of it: the cubic cuts inside the
Moon's curved orbit), see ``tests/ephem/test_stations.py``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
import spiceypy

from ilrs.constants import NAIF_EARTH, NAIF_MOON, SPEED_OF_LIGHT_M_S
from ilrs.core.geometry import azimuth_elevation, enu_basis
from ilrs.core.runs import run_spans
from ilrs.ephem.directions import stellar_aberration
from ilrs.ephem.kernels import SPICE_LOCK as spice_lock
from ilrs.ephem.kernels import ensure_loaded
from ilrs.ephem.nodes import HermiteNodes, NodeSet
from ilrs.ephem.time import check_coverage, check_span, coverage
from ilrs.errors import IlrsError

__all__ = [
    "EARTH_FIXED_FRAME",
    "GROUND_STATIONS",
    "GroundStation",
    "NODE_SPACING_S",
    "WGS84_EQUATORIAL_RADIUS_M",
    "WGS84_FLATTENING",
    "check_eop_coverage",
    "clear_node_cache",
    "DteWindows",
    "dte_windows",
    "eop_coverage",
    "get_station",
    "moon_az_el",
    "moon_topocentric_itrf93",
    "moon_visible",
    "rotation_j2000_to_itrf93",
    "station_position_itrf93",
    "stations_from_site",
]

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


#: The Earth-fixed frame of the stations' coordinates (realised by the NAIF Earth orientation kernels).
EARTH_FIXED_FRAME = "ITRF93"

#: WGS84 semi-major axis [m] and flattening [-] (NIMA TR8350.2, 3rd ed., 2000, table 3.1).
WGS84_EQUATORIAL_RADIUS_M = 6_378_137.0
WGS84_FLATTENING = 1.0 / 298.257223563

#: Spacing of the interpolation nodes [s]. At 6 h the direction is within 0.009 arcsec of SPICE (2500 random
#: station-epochs 2020-2100); the rotation's interpolation alone is off by up to 0.007 (6 h), 0.07 (12 h) and
#: 0.9 arcsec (24 h). Building the nodes costs about 1 s per 14 years.
NODE_SPACING_S = 6 * 3600.0

#: Earth Rotation Angle rate [rad/s] and its value at J2000 [rad] (IERS Conventions 2010, eq. 5.15).
_ERA_RATE = 2.0 * np.pi * 1.00273781191135448 / 86_400.0
_ERA_J2000 = 2.0 * np.pi * 0.7790572732640

#: ITRF93's PCK frame class ID in the Earth binary PCKs.
_ITRF93_CLASS_ID = 3000

# Measured costs [s] behind method="auto": one spkcpo per epoch and station; one node (three SPICE calls).
_COST_SPKCPO_S = 40e-6
_COST_NODE_S = 40e-6
_METHODS = ("auto", "interp", "spice")
_CHUNK = 1 << 18  # epochs per vectorised block (bounds the temporaries to ~100 MB)


@functools.lru_cache(maxsize=64)
def _station_geometry(station: GroundStation) -> tuple[np.ndarray, np.ndarray]:
    """(position in ITRF93 [m], rows east/north/up of the geodetic topocentric frame)."""
    if not (-90.0 <= station.lat_deg <= 90.0) or not np.isfinite([station.lon_deg, station.height_m]).all():
        raise IlrsError(f"station {station.key!r} has invalid coordinates", source="station")
    lat, lon = np.radians(station.lat_deg), np.radians(station.lon_deg)
    with spice_lock:
        position = (
            np.array(
                spiceypy.georec(
                    lon, lat, station.height_m / 1000.0, WGS84_EQUATORIAL_RADIUS_M / 1000.0, WGS84_FLATTENING
                )
            )
            * 1000.0
        )
    east, north, up = enu_basis(lat, lon)
    return position, np.stack([east, north, up])


def station_position_itrf93(station: GroundStation | str) -> np.ndarray:
    """Station position in ITRF93 from its geodetic coordinates (SPICE ``georec``, WGS84), shape (3,) [m]."""
    return _station_geometry(get_station(station))[0].copy()


# ---------------------------------------------------------------------------------------------- coverage


@functools.cache
def eop_coverage() -> tuple[float, float]:
    """ET span [s] in which the stations' directions can be computed.

    The union of the Earth orientation kernels' ITRF93 coverage (one contiguous span, 1962-01-20 .. 2126-11-03
    for the pinned kernels), shrunk by one node spacing at each end, intersected with the ephemeris span of
    :func:`ilrs.ephem.time.coverage`.
    """
    ks = ensure_loaded()
    window = spiceypy.cell_double(20_000)
    with spice_lock:
        for path in ks.earth_pcks:
            piece = spiceypy.pckcov(str(path), _ITRF93_CLASS_ID, spiceypy.cell_double(20_000))
            window = spiceypy.wnunid(window, piece)
        intervals = [spiceypy.wnfetd(window, i) for i in range(spiceypy.wncard(window))]
    if len(intervals) != 1:
        raise IlrsError(
            f"the Earth orientation kernels leave {len(intervals) - 1} gap(s) in their coverage",
            source="kernels",
            hint="reinstall the naif-eop-* packages pinned in pyproject.toml",
        )
    lo, hi = intervals[0]
    ephem_lo, ephem_hi = coverage()
    return max(lo + NODE_SPACING_S, ephem_lo), min(hi - NODE_SPACING_S, ephem_hi)


def check_eop_coverage(et) -> None:
    """Raise :class:`IlrsError` naming the valid span if any epoch lies outside :func:`eop_coverage`.

    Parameters
    ----------
    et : float or array_like
        Ephemeris time [s].
    """
    et = np.atleast_1d(np.asarray(et, dtype=float))
    if et.size == 0:
        return
    check_coverage(et)  # finite, and inside the planetary ephemeris
    lo, hi = eop_coverage()
    check_span(
        et,
        lo,
        hi,
        "Earth orientation coverage that ground-station geometry needs (NAIF historical, "
        "high-precision and predicted EOP kernels)",
    )


def _epochs(et) -> np.ndarray:
    et = np.atleast_1d(np.asarray(et, dtype=float))
    if et.ndim != 1:
        raise IlrsError(f"et must be one-dimensional, got shape {et.shape}", source="et")
    check_eop_coverage(et)
    return et


# ---------------------------------------------------------------------------------------------- SPICE path


def _spkcpo(et: np.ndarray, station_m: np.ndarray) -> np.ndarray:
    ensure_loaded()
    out = np.empty((et.size, 3))
    obs_km = station_m / 1000.0
    with spice_lock:
        for i in range(et.size):
            state, _ = spiceypy.spkcpo(
                "MOON", et[i], EARTH_FIXED_FRAME, "OBSERVER", "LT+S", obs_km, "EARTH", EARTH_FIXED_FRAME
            )
            out[i] = state[:3]
    return out * 1000.0


# ---------------------------------------------------------------------------------------------- nodes


def _rz(theta: np.ndarray) -> np.ndarray:
    """Frame rotations about z by ``theta`` (SPICE ``rotate(theta, 3)``), shape (n, 3, 3)."""
    c, s = np.cos(theta), np.sin(theta)
    z, one = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, s, z], -1), np.stack([-s, c, z], -1), np.stack([z, z, one], -1)], -2)


def _rz_rate(theta: np.ndarray) -> np.ndarray:
    """d/dt of :func:`_rz` for theta increasing at the ERA rate, shape (n, 3, 3) [1/s]."""
    c, s = np.cos(theta), np.sin(theta)
    z = np.zeros_like(c)
    return _ERA_RATE * np.stack([np.stack([-s, c, z], -1), np.stack([-c, -s, z], -1), np.stack([z, z, z], -1)], -2)


def _theta(et: np.ndarray) -> np.ndarray:
    return _ERA_J2000 + _ERA_RATE * et


def _evaluate_nodes(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node values (m, 15): Moon - Earth [m], Earth - SSB [m], Q = Rz(theta)^T R (row-major); their rates."""
    ensure_loaded()
    m = k.size
    t = k * NODE_SPACING_S
    values = np.empty((m, 15))
    rates = np.empty((m, 15))
    xforms = np.empty((m, 6, 6))
    spkgeo, sxform = spiceypy.spkgeo, spiceypy.sxform
    with spice_lock:
        for i in range(m):
            moon, _ = spkgeo(NAIF_MOON, t[i], "J2000", NAIF_EARTH)
            earth, _ = spkgeo(NAIF_EARTH, t[i], "J2000", 0)
            values[i, 0:3], rates[i, 0:3] = moon[:3], moon[3:]
            values[i, 3:6], rates[i, 3:6] = earth[:3], earth[3:]
            xforms[i] = sxform("J2000", EARTH_FIXED_FRAME, t[i])
    values[:, :6] *= 1000.0
    rates[:, :6] *= 1000.0
    rot, rot_rate = xforms[:, :3, :3], xforms[:, 3:, :3]
    theta = _theta(t)
    rz_t = np.swapaxes(_rz(theta), 1, 2)
    values[:, 6:15] = (rz_t @ rot).reshape(m, 9)
    rates[:, 6:15] = (np.swapaxes(_rz_rate(theta), 1, 2) @ rot + rz_t @ rot_rate).reshape(m, 9)
    return values, rates


_NODES = HermiteNodes(NODE_SPACING_S, _evaluate_nodes, _COST_NODE_S)


def clear_node_cache() -> None:
    """Forget the cached interpolation nodes (for benchmarks, or after loading different kernels)."""
    _NODES.clear()


def _interp_block(stations_m: list[np.ndarray], et: np.ndarray, nodes: NodeSet) -> list[np.ndarray]:
    """Apparent Moon vectors in ITRF93 [m] from each station position, for one block of epochs."""
    value, rate = _NODES.interpolate(et, nodes)
    moon_geo = value[:, 0:3]  # Moon - Earth, J2000
    moon_velocity = rate[:, 0:3] + rate[:, 3:6]  # barycentric; Earth's from its interpolated position
    theta = _theta(et)
    rz = _rz(theta)
    q = value[:, 6:15].reshape(-1, 3, 3)
    rot = rz @ q  # J2000 -> ITRF93
    rot_rate = _rz_rate(theta) @ q + rz @ rate[:, 6:15].reshape(-1, 3, 3)
    out = []
    for station_m in stations_m:
        station_j2000 = np.einsum("nji,j->ni", rot, station_m)
        observer_velocity = rate[:, 3:6] + np.einsum("nji,j->ni", rot_rate, station_m)
        geometric = moon_geo - station_j2000
        # SPICE 'LT': one light-time iteration, the Moon at et - |geometric| / c (1.3 s, over which its
        # barycentric velocity is constant to < 1 cm/s).
        light_time = np.linalg.norm(geometric, axis=1, keepdims=True) / SPEED_OF_LIGHT_M_S
        apparent = stellar_aberration(geometric - light_time * moon_velocity, observer_velocity)
        rotated = np.einsum("nij,nj->ni", rot, apparent)
        # The interpolated matrix is orthogonal only to O(spacing**4): keep the length a rotation keeps.
        scale = np.linalg.norm(apparent, axis=1) / np.linalg.norm(rotated, axis=1)
        out.append(rotated * scale[:, None])
    return out


def _interp(stations: list[GroundStation], et: np.ndarray) -> list[np.ndarray]:
    nodes = _NODES.nodes_for(_NODES.needed(et))
    positions = [_station_geometry(s)[0] for s in stations]
    out = [np.empty((et.size, 3)) for _ in stations]
    for start in range(0, et.size, _CHUNK):
        block = slice(start, start + _CHUNK)
        for target, vectors in zip(out, _interp_block(positions, et[block], nodes), strict=True):
            target[block] = vectors
    return out


def _interp_is_cheaper(et: np.ndarray, n_stations: int) -> bool:
    return _NODES.cheaper_than(et, et.size * n_stations * _COST_SPKCPO_S)


def _vectors(stations: list[GroundStation], et, method: str) -> tuple[np.ndarray, list[np.ndarray]]:
    if method not in _METHODS:
        raise IlrsError(f"unknown method {method!r}", source="method", hint=f"allowed values: {_METHODS}")
    et = _epochs(et)
    if et.size == 0:
        return et, [np.empty((0, 3)) for _ in stations]
    if method == "spice" or (method == "auto" and not _interp_is_cheaper(et, len(stations))):
        return et, [_spkcpo(et, _station_geometry(s)[0]) for s in stations]
    return et, _interp(stations, et)


def _az_el_range(station: GroundStation, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    enu = _station_geometry(station)[1]
    e, n, u = (vectors @ enu.T).T
    azimuth, elevation = azimuth_elevation(e, n, u)
    return azimuth, elevation, np.linalg.norm(vectors, axis=1)


# ---------------------------------------------------------------------------------------------- public API


def moon_topocentric_itrf93(station: GroundStation | str, et, *, method: str = "auto") -> np.ndarray:
    """Apparent position of the Moon's centre seen from a ground station, in ITRF93.

    Parameters
    ----------
    station : GroundStation or str
        A station or the key of one in :data:`GROUND_STATIONS`.
    et : float or array_like, shape (n,)
        Ephemeris time, seconds TDB past J2000 [s]; within :func:`eop_coverage`.
    method : {'auto', 'interp', 'spice'}
        'spice' calls ``spkcpo`` per epoch, 'interp' interpolates SPICE between nodes (module docstring),
        'auto' picks whichever needs less SPICE time.

    Returns
    -------
    numpy.ndarray, shape (n, 3)
        Station-to-Moon vector in ITRF93 [m], light time and stellar aberration corrected ('LT+S').
    """
    station = get_station(station)
    return _vectors([station], et, method)[1][0]


def moon_az_el(station: GroundStation | str, et, *, method: str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Moon's apparent azimuth, elevation and distance at a ground station.

    Parameters
    ----------
    station, et, method
        As in :func:`moon_topocentric_itrf93` ([s] for et).

    Returns
    -------
    azimuth : numpy.ndarray, shape (n,)
        From geographic north toward east, in [0, 2 pi) [rad].
    elevation : numpy.ndarray, shape (n,)
        Above the plane normal to the WGS84 geodetic vertical, without refraction [rad].
    range_m : numpy.ndarray, shape (n,)
        Station to the Moon's centre, apparent [m].
    """
    station = get_station(station)
    vectors = _vectors([station], et, method)[1][0]
    return _az_el_range(station, vectors)


def moon_visible(
    station: GroundStation | str, et, min_elevation_deg: float = 10.0, *, method: str = "auto"
) -> np.ndarray:
    """Whether the Moon's centre is at least ``min_elevation_deg`` above a station's horizon.

    Parameters
    ----------
    station, et, method
        As in :func:`moon_topocentric_itrf93`.
    min_elevation_deg : float
        Elevation mask [deg] (10 deg is a usual operational limit for deep-space antennas).

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
    """
    return moon_az_el(station, et, method=method)[1] >= np.radians(_mask(min_elevation_deg))


def _mask(min_elevation_deg: float) -> float:
    value = float(min_elevation_deg)
    if not -90.0 <= value <= 90.0:
        raise IlrsError(
            f"min_elevation_deg must lie in [-90, 90], got {min_elevation_deg!r}", source="min_elevation_deg"
        )
    return value


@dataclass(frozen=True)
class DteWindows:
    """Direct-to-Earth visibility of a lunar site from a set of ground stations, per step of a grid.

    ``elevation_rad`` and ``range_m`` are (n_stations, n): the Moon's elevation [rad] and distance [m] at each
    station (the distance from the site differs from the distance to the Moon's centre by less than one lunar
    radius, 0.5 %). Each step holds until the next one; the last lasts as long as the one before it.

    ``site_az_rad``, ``site_el_rad`` (optional, (n_stations, n)) are each station's direction seen from the site
    (:func:`stations_from_site`), and ``site_sees`` whether the site sees it above its terrain: the Earth's disk
    spans 1.9 deg, so a polar site near the edge of its view can see one station and not another.
    """

    et: np.ndarray  #: (n,) epochs [s TDB past J2000]
    stations: tuple[str, ...]  #: station keys, in row order
    elevation_rad: np.ndarray  #: (n_stations, n) the Moon's elevation at each station [rad]
    range_m: np.ndarray  #: (n_stations, n) the Moon's distance from each station [m]
    station_visible: np.ndarray  #: (n_stations, n) bool: the Moon above the station's mask
    best_station: np.ndarray  #: (n,) index of the station seeing the Moon highest, -1 if none
    any_station: np.ndarray  #: (n,) bool: at least one station sees the Moon
    dte: np.ndarray  #: (n,) bool: a station sees the Moon and the site sees the Earth (or that station)
    windows: np.ndarray  #: (k, 2) start and end of each DTE window [s TDB]
    site_az_rad: np.ndarray | None = None  #: (n_stations, n) each station's azimuth from the site [rad]
    site_el_rad: np.ndarray | None = None  #: (n_stations, n) each station's elevation from the site [rad]
    site_sees: np.ndarray | None = None  #: (n_stations, n) bool: the site sees each station

    @property
    def total_hours(self) -> float:
        """Time in DTE windows [h]."""
        return float((self.windows[:, 1] - self.windows[:, 0]).sum() / 3600.0)

    def usable(self) -> np.ndarray:
        """(n_stations, n) bool: the station sees the Moon and the site sees the station (or the Earth)."""
        sees = self.dte[None, :] if self.site_sees is None else self.site_sees
        return np.asarray(self.station_visible & sees, dtype=bool)

    def seen_from(self, earth_visible_at_site: np.ndarray) -> DteWindows:
        """The same stations' visibility combined with another site visibility: of the Earth, shape (n,), or of
        each station, shape (n_stations, n) (e.g. at another antenna height, or only while a terminal works);
        ``dte`` and ``windows`` recomputed."""
        sees = np.asarray(earth_visible_at_site, dtype=bool)
        if sees.ndim == 2:
            dte = (self.station_visible & sees).any(axis=0)
            return replace(self, dte=dte, windows=run_spans(dte, self.et), site_sees=sees)
        dte = self.any_station & sees
        return replace(self, dte=dte, windows=run_spans(dte, self.et), site_sees=None)


def rotation_j2000_to_itrf93(et) -> np.ndarray:
    """Rotation matrices J2000 -> ITRF93 at each epoch, shape (n, 3, 3), interpolated from the 6-hourly nodes
    (module docstring) and re-orthonormalised."""
    et = _epochs(et)
    if et.size == 0:
        return np.empty((0, 3, 3))
    nodes = _NODES.nodes_for(_NODES.needed(et))
    out = np.empty((et.size, 3, 3))
    for start in range(0, et.size, _CHUNK):
        block = slice(start, start + _CHUNK)
        value, _ = _NODES.interpolate(et[block], nodes)
        rot = _rz(_theta(et[block])) @ value[:, 6:15].reshape(-1, 3, 3)
        out[block] = 0.5 * (rot + np.linalg.inv(rot).transpose(0, 2, 1))
    return out


def stations_from_site(
    stations, et, lat_deg: float, lon_deg: float, height_m: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Azimuth and elevation [rad] of each ground station seen from a point on the lunar sphere.

    The site-to-station vector is the apparent site-to-Earth-centre vector
    (:func:`ilrs.ephem.directions.topocentric_vectors`) plus the station's geocentric position turned from
    ITRF93 to MOON_ME. The station's own light time and aberration differ from the Earth centre's by the Earth's
    rotation over 1.3 s (0.6 km, 0.3 arcsec), neglected.

    Parameters
    ----------
    stations : sequence of GroundStation or str
    et : array_like, shape (n,)
        [s TDB past J2000].
    lat_deg, lon_deg, height_m : float
        The site: planetocentric latitude, east longitude [deg], height above the sphere [m].

    Returns
    -------
    azimuth, elevation : numpy.ndarray, shape (n_stations, n)
        From local north toward east; above the plane normal to the sphere's radius [rad].
    """
    from ilrs.ephem.directions import rotation_j2000_to_me, topocentric_vectors

    chosen = [get_station(s) for s in stations]
    et = _epochs(et)
    earth = topocentric_vectors("EARTH", et, lat_deg, lon_deg, height_m)
    east, north, up = enu_basis(np.radians(lat_deg), np.radians(lon_deg))
    az = np.empty((len(chosen), et.size))
    el = np.empty((len(chosen), et.size))
    for start in range(0, et.size, _CHUNK):
        block = slice(start, start + _CHUNK)
        itrf_to_me = rotation_j2000_to_me(et[block]) @ rotation_j2000_to_itrf93(et[block]).transpose(0, 2, 1)
        for i, station in enumerate(chosen):
            v = earth[block] + itrf_to_me @ _station_geometry(station)[0]
            az[i, block], el[i, block] = azimuth_elevation(v @ east, v @ north, v @ up)
    return az, el


def dte_windows(
    earth_visible_at_site, et, stations=GROUND_STATIONS, min_elevation_deg: float = 10.0, *, method: str = "auto"
) -> DteWindows:
    """Direct-to-Earth windows: the site sees the Earth and at least one ground station sees the Moon.

    Parameters
    ----------
    earth_visible_at_site : array_like of bool, shape (n,)
        Whether the Earth is above the terrain horizon at the site's antenna height, per step.
    et : array_like, shape (n,)
        Ephemeris time of each step [s], increasing. Each step holds until the next one; the last step lasts
        as long as the one before it.
    stations : sequence of GroundStation or str
        Stations to use (default: all of :data:`GROUND_STATIONS`).
    min_elevation_deg : float
        Elevation mask at the stations [deg].
    method : {'auto', 'interp', 'spice'}
        As in :func:`moon_topocentric_itrf93`.

    Returns
    -------
    DteWindows
        Per-station elevation, range and visibility, the DTE flag per step and the windows.
    """
    chosen = [get_station(s) for s in stations]
    if not chosen:
        raise IlrsError("no ground stations given", source="stations", hint="pass at least one station")
    keys = tuple(s.key for s in chosen)
    if len(set(keys)) != len(keys):
        raise IlrsError(f"stations repeat: {keys}", source="stations")
    earth = np.atleast_1d(np.asarray(earth_visible_at_site))
    et = np.atleast_1d(np.asarray(et, dtype=float))
    if earth.dtype != bool:
        raise IlrsError(
            f"earth_visible_at_site must be boolean, got dtype {earth.dtype}", source="earth_visible_at_site"
        )
    if earth.shape != et.shape:
        raise IlrsError(
            f"earth_visible_at_site has shape {earth.shape} but et has {et.shape}",
            source="earth_visible_at_site",
            hint="give one flag per epoch",
        )
    if et.size > 1 and not (np.diff(et) > 0).all():
        raise IlrsError("et must be strictly increasing", source="et")
    mask = np.radians(_mask(min_elevation_deg))
    et, vectors = _vectors(chosen, et, method)
    elevation = np.empty((len(chosen), et.size))
    distance = np.empty((len(chosen), et.size))
    for i, (station, v) in enumerate(zip(chosen, vectors, strict=True)):
        _, elevation[i], distance[i] = _az_el_range(station, v)
    visible = elevation >= mask
    any_station = visible.any(axis=0)
    best = (
        np.where(any_station, np.argmax(np.where(visible, elevation, -np.inf), axis=0), -1)
        if et.size
        else np.empty(0, dtype=np.int64)
    )
    dte = any_station & earth
    return DteWindows(et, keys, elevation, distance, visible, best, any_station, dte, run_spans(dte, et))
