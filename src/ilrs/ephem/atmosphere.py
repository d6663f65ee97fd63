"""The Earth's atmosphere over the ground stations: slant-path loss and sky noise against elevation.

The attenuation is ITU-R P.618-13 section 2.5 (``itur.atmospheric_attenuation_slant_path``, itur 0.4.0,
https://github.com/inigodelportillo/ITU-Rpy): gases (P.676-12 annex 2), clouds (P.840-8), rain (P.618 2.2.1.1)
and tropospheric scintillation (P.618 2.4.1), each exceeded ``exceedance_percent`` of an average year at the
station, from the ITU's climate maps that the itur wheel ships (no download at run time). Rain statistics are
defined for 0.001-5 % of the year; P.676's slant-path approximation for elevations of 5-90 deg.

The sky noise temperature seen through that atmosphere is ITU-R P.618-13 section 3 (eq. 57),
``T_sky = T_mr (1 - 10^(-A/10)) + T_c 10^(-A/10)`` with the absorbing part of the attenuation (gas, cloud, rain:
scintillation redistributes power without absorbing it), the mean radiating temperature ``T_mr = 275 K`` that
P.618 gives for want of local data, and the cosmic background ``T_c`` (2.725 K, Fixsen 2009, ApJ 707, 916).

Tables are computed once per station, frequency and exceedance and interpolated in elevation by the link model
(:mod:`ilrs.station.links`); :mod:`ilrs.services.twin` caches them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ilrs.errors import IlrsError

__all__ = [
    "COSMIC_BACKGROUND_K",
    "MEAN_RADIATING_TEMPERATURE_K",
    "StationAtmosphere",
    "sky_noise_temperature_k",
    "station_atmosphere",
]

#: Mean radiating temperature of the atmosphere, ITU-R P.618-13 section 3 ("T_mr = 275 K" without local data).
MEAN_RADIATING_TEMPERATURE_K = 275.0
#: Cosmic microwave background, 2.72548 K (Fixsen 2009, ApJ 707, 916).
COSMIC_BACKGROUND_K = 2.725
#: Elevations [deg] of the tables: fine at low elevations where the loss changes fastest.
_TABLE_ELEVATIONS_DEG = np.array(
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 25, 30, 35, 40, 50, 60, 70, 80, 90.0]
)


def sky_noise_temperature_k(absorption_db: np.ndarray) -> np.ndarray:
    """Sky brightness temperature through an absorbing atmosphere [K], ITU-R P.618-13 eq. (57) with the cosmic
    background attenuated by the same path (``absorption_db`` [dB], gas + cloud + rain)."""
    transmission = 10.0 ** (-np.asarray(absorption_db, dtype=float) / 10.0)
    return MEAN_RADIATING_TEMPERATURE_K * (1.0 - transmission) + COSMIC_BACKGROUND_K * transmission


@dataclass(frozen=True)
class StationAtmosphere:
    """Slant-path loss and sky noise at each of a set of ground stations, tabulated against elevation.

    The columns cover 1-90 deg; below 1 deg the 1 deg values are used (a station's mask is higher).
    """

    stations: tuple[str, ...]  #: station keys, in row order
    frequency_hz: float  #: [Hz]
    exceedance_percent: float  #: of the year the losses are exceeded [%]
    elevation_deg: np.ndarray  #: (m,) [deg], increasing
    loss_db: np.ndarray  #: (k, m) total attenuation: gas, cloud, rain, scintillation [dB]
    sky_noise_k: np.ndarray  #: (k, m) sky brightness temperature at the antenna, cosmic background included [K]

    def at(self, row: int, elevation_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Loss [dB] and sky noise [K] at station ``row`` for elevations [rad] (linear in elevation)."""
        el = np.degrees(np.asarray(elevation_rad, dtype=float))
        return (
            np.interp(el, self.elevation_deg, self.loss_db[row]),
            np.interp(el, self.elevation_deg, self.sky_noise_k[row]),
        )


def station_atmosphere(
    stations: tuple[str, ...], frequency_hz: float, exceedance_percent: float = 5.0, *, antenna_diameter_m=None
) -> StationAtmosphere:
    """ITU-R P.618 slant-path loss and sky noise against elevation at each station.

    Parameters
    ----------
    stations : tuple of str
        Keys of :data:`ilrs.ephem.ground_stations.GROUND_STATIONS`.
    frequency_hz : float
        Carrier frequency [Hz], 1-55 GHz (P.618's range for rain).
    exceedance_percent : float
        Percentage of an average year in which the losses are exceeded [%], 0.001-5 (P.618's rain statistics):
        5 % is "95 % weather", the condition the DSN and NASA's LRO link planning use at 26 GHz (Lee, Morabito
        et al., IPN Progress Report 42-211, 2017).
    antenna_diameter_m : sequence of float, optional
        Each station's dish [m], for the scintillation's aperture averaging (default: the catalogue's).

    Returns
    -------
    StationAtmosphere
    """
    import itur  # heavy (astropy units, the ITU maps): only where tables are built

    from ilrs.ephem.ground_stations import get_station

    f_ghz = float(frequency_hz) / 1e9
    if not 1.0 <= f_ghz <= 55.0:
        raise IlrsError(f"frequency_hz must lie in 1-55 GHz for ITU-R P.618, got {f_ghz:g} GHz", source="frequency_hz")
    p = float(exceedance_percent)
    if not 0.001 <= p <= 5.0:
        raise IlrsError(
            f"exceedance_percent must lie in 0.001-5 % (ITU-R P.618 rain statistics), got {p:g}",
            source="exceedance_percent",
        )
    chosen = [get_station(s) for s in stations]
    dishes = [s.dish_diameter_m for s in chosen] if antenna_diameter_m is None else list(antenna_diameter_m)
    el = _TABLE_ELEVATIONS_DEG
    loss = np.empty((len(chosen), el.size))
    noise = np.empty((len(chosen), el.size))
    for i, (station, dish) in enumerate(zip(chosen, dishes, strict=True)):
        with warnings.catch_warnings():
            # itur warns below 5 deg elevation (P.676's approximation); the tables go to 1 deg on purpose
            warnings.simplefilter("ignore", RuntimeWarning)
            gas, cloud, rain, _, total = itur.atmospheric_attenuation_slant_path(
                station.lat_deg,
                station.lon_deg,
                f_ghz,
                el,
                p,
                dish,
                eta=0.6,
                hs=station.height_m / 1000.0,
                return_contributions=True,
            )
        absorption = np.asarray(gas.value) + np.asarray(cloud.value) + np.asarray(rain.value)
        loss[i] = np.asarray(total.value, dtype=float)
        noise[i] = sky_noise_temperature_k(absorption)
        if not (np.isfinite(loss[i]).all() and np.isfinite(noise[i]).all()):
            raise IlrsError(
                f"ITU-R P.618 gives no finite loss at {station.key} for {f_ghz:g} GHz and a {dish:g} m dish",
                source="atmosphere",
                hint="P.618's scintillation model covers 4-20 GHz and dishes of ordinary size",
            )
    return StationAtmosphere(tuple(s.key for s in chosen), float(frequency_hz), p, el.copy(), loss, noise)
