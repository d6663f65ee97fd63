"""Launch sites for lunar missions: coordinates, the azimuths range safety allows, and the parking-orbit planes
they reach.

Spherical trigonometry of a direct ascent (e.g. Vallado, "Fundamentals of Astrodynamics and Applications", 4th
ed., 2013, section 6.4.1, eq. 6-19): a launch from geocentric latitude ``phi`` on inertial azimuth ``beta``
(from north through east) reaches the inclination

    cos i = cos(phi) sin(beta),

so no azimuth reaches an inclination below ``|phi|``, and an inclination ``i >= |phi|`` is reached on the
ascending-pass azimuth ``beta = asin(cos i / cos phi)`` or the descending-pass one ``180 deg - beta``. The
inertial azimuth is used throughout: the Earth's rotation (0.44 km/s at Wenchang) turns the ground-relative
azimuth by a few degrees toward the pole, which moves the window edges by minutes, well below the 1-hour scan.

Azimuth limits are not published as such (they follow from drop zones and overflight rules). Each site below
carries the span of azimuths implied by the lowest and highest inclinations flown from it, with the flights
cited, so a window never needs an azimuth that site has not used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import spiceypy

from ilrs.core.arrays import BoolArray, FloatArray
from ilrs.core.geometry import enu_basis
from ilrs.ephem.kernels import SPICE_LOCK, ensure_loaded
from ilrs.errors import IlrsError

#: WGS84 equatorial radius [m] and flattening (NIMA TR8350.2, 3rd ed., 2000, Table 3.1).
WGS84_EQUATORIAL_RADIUS_M = 6_378_137.0
WGS84_FLATTENING = 1.0 / 298.257223563
#: Earth-fixed frame of the site coordinates (SPICE's ITRF93, oriented by the NAIF Earth orientation kernels).
EARTH_FIXED_FRAME = "ITRF93"


@dataclass(frozen=True)
class LaunchSite:
    """A launch site: geodetic coordinates (WGS84) and the span of inertial launch azimuths it allows."""

    key: str
    name: str
    lat_deg: float  #: geodetic latitude [deg]
    lon_deg: float  #: east longitude [deg]
    azimuth_min_deg: float  #: smallest allowed launch azimuth, from north through east [deg]
    azimuth_max_deg: float  #: largest allowed launch azimuth [deg]
    source: str  #: where the coordinates and the azimuth span come from

    @property
    def geocentric_lat_deg(self) -> float:
        """Geocentric latitude [deg] (the bound on the inclination; 0.19 deg below the geodetic at 45 deg)."""
        e2 = WGS84_FLATTENING * (2.0 - WGS84_FLATTENING)
        return math.degrees(math.atan((1.0 - e2) * math.tan(math.radians(self.lat_deg))))

    @property
    def inclination_range_deg(self) -> tuple[float, float]:
        """Smallest and largest inclination over the allowed azimuths [deg]."""
        az = np.linspace(self.azimuth_min_deg, self.azimuth_max_deg, 721)
        inc = inclination_from_azimuth_deg(self.geocentric_lat_deg, az)
        return float(np.min(inc)), float(np.max(inc))

    def allows(self, azimuth_deg: FloatArray) -> BoolArray:
        """Whether each inertial azimuth [deg] lies in the site's span."""
        az = np.mod(np.asarray(azimuth_deg, dtype=np.float64), 360.0)
        ok: BoolArray = (az >= self.azimuth_min_deg) & (az <= self.azimuth_max_deg)
        return ok


#: Sites for the ILRS partners' lunar launches. Coordinates: the launch pads' positions as given by Wikipedia's
#: pages of each site (to 0.001 deg, ~100 m, far below what a launch window resolves).
LAUNCH_SITES: dict[str, LaunchSite] = {
    s.key: s
    for s in (
        LaunchSite(
            "wenchang",
            "Wenchang Space Launch Site, LC-101 (CZ-5; Chang'e 5, 6, 7)",
            19.614,
            110.951,
            90.0,
            127.0,
            "https://en.wikipedia.org/wiki/Wenchang_Space_Launch_Site (LC-101 19.614 N 110.951 E); azimuths: "
            "CZ-5 GTO launches at 19.5 deg inclination (due east) to Tianzhou cargo ships at 41.5 deg "
            "(south-east over the South China Sea: 127 deg)",
        ),
        LaunchSite(
            "xichang",
            "Xichang Satellite Launch Center, LC-2 (CZ-3B; Chang'e 1-4)",
            28.246,
            102.027,
            90.0,
            139.0,
            "https://en.wikipedia.org/wiki/Xichang_Satellite_Launch_Center (LC-2 28.246 N 102.027 E); azimuths: "
            "GTO launches at 28.5 deg (east) to BeiDou-3 MEO launches at 55 deg (south-east: 139 deg)",
        ),
        LaunchSite(
            "vostochny",
            "Vostochny Cosmodrome, Site 1S (Soyuz-2/Fregat; Luna 25)",
            51.884,
            128.334,
            30.0,
            90.0,
            "https://en.wikipedia.org/wiki/Vostochny_Cosmodrome (Site 1S 51.884 N 128.334 E); azimuths: due east "
            "(inclination 51.9 deg, the site's lowest) to 30 deg (70 deg inclination; "
            "polar and sun-synchronous launches go further north and are of no use for a lunar plane)",
        ),
        LaunchSite(
            "baikonur",
            "Baikonur Cosmodrome, Site 200/39 (Proton; Luna 15-24)",
            46.040,
            63.032,
            30.0,
            64.0,
            "https://en.wikipedia.org/wiki/Baikonur_Cosmodrome_Site_200 (46.040 N 63.032 E); azimuths: Proton's "
            "51.5-51.6 deg parking orbits (64 deg: launches keep clear of China, so none fly due east) to 70 deg "
            "(30 deg)",
        ),
    )
}


def get_site(key: str) -> LaunchSite:
    """The catalogue's site ``key`` (case-insensitive); :class:`IlrsError` lists the valid keys otherwise."""
    site = LAUNCH_SITES.get(key.strip().lower())
    if site is None:
        raise IlrsError(f"unknown launch site {key!r}", source="--site", hint="one of " + ", ".join(LAUNCH_SITES))
    return site


def inclination_from_azimuth_deg(geocentric_lat_deg: float, azimuth_deg: FloatArray | float) -> FloatArray:
    """Inclination reached from latitude ``geocentric_lat_deg`` on inertial azimuth ``azimuth_deg`` [deg]."""
    phi = math.radians(geocentric_lat_deg)
    c = math.cos(phi) * np.sin(np.radians(np.asarray(azimuth_deg, dtype=np.float64)))
    inc: FloatArray = np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))
    return inc


def azimuths_for_inclination_deg(geocentric_lat_deg: float, inclination_deg: float) -> tuple[float, float]:
    """(ascending-pass, descending-pass) inertial azimuths reaching ``inclination_deg`` [deg].

    Raises :class:`IlrsError` when the inclination lies below the latitude (or above its supplement).
    """
    lat = abs(geocentric_lat_deg)
    if not lat <= inclination_deg <= 180.0 - lat:
        raise IlrsError(
            f"inclination {inclination_deg:g} deg cannot be reached from latitude {geocentric_lat_deg:.3f} deg",
            source="inclination",
            hint=f"a direct ascent reaches [{lat:.3f}, {180.0 - lat:.3f}] deg",
        )
    s = math.cos(math.radians(inclination_deg)) / math.cos(math.radians(geocentric_lat_deg))
    beta = math.degrees(math.asin(max(-1.0, min(1.0, s))))
    return beta, 180.0 - beta


def site_geometry_j2000(site: LaunchSite, ets: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The site in J2000 at ``ets`` [s TDB]: position [m], local east and north unit vectors, and the Earth's
    true pole of date, each shape (n, 3). ITRF93 -> J2000 from SPICE ``pxform`` (precession, nutation, UT1,
    polar motion from the Earth orientation kernels)."""
    ensure_loaded()
    lat, lon = math.radians(site.lat_deg), math.radians(site.lon_deg)
    east, north, _ = enu_basis(lat, lon)
    ets = np.atleast_1d(np.asarray(ets, dtype=np.float64))
    n = ets.size
    pos, e_out, n_out, pole = (np.empty((n, 3)) for _ in range(4))
    with SPICE_LOCK:
        p_itrf = np.asarray(
            spiceypy.georec(lon, lat, 0.0, WGS84_EQUATORIAL_RADIUS_M / 1e3, WGS84_FLATTENING), dtype=np.float64
        )
        for k, et in enumerate(ets):
            m = np.asarray(spiceypy.pxform(EARTH_FIXED_FRAME, "J2000", float(et)))
            pos[k] = m @ p_itrf
            e_out[k] = m @ east
            n_out[k] = m @ north
            pole[k] = m[:, 2]
    return pos * 1e3, e_out, n_out, pole
