"""Radio link budgets: pure functions in decibels, vectorised over range, and a small parameter set.

The chain is the textbook one (e.g. Pratt, Bostian & Allnutt, "Satellite Communications", 2nd ed., Wiley 2003,
ch. 4 "Satellite Link Design"):

    EIRP   = 10 log10(P_t) + G_t - L_t                               [dBW]
    L_fs   = 20 log10(4 pi d f / c)                                   [dB]
    G      = 10 log10(eta (pi D f / c)^2)                             [dBi]
    G/T    = G_r - 10 log10(T_sys)                                    [dB/K]
    C/N0   = EIRP - L_fs - L_other + G/T - 10 log10(k)                [dB-Hz]
    R      = 10^((C/N0 - (Eb/N0)_req - margin) / 10)                  [bit/s]

with, for a link to Earth, the ground system's noise at the Moon's elevation ``e`` at the station
(:func:`ground_system_noise_k`)

    T_sys  = T_rx + T_sky(e) + T_moon F / L_atm(e)                     [K]

``T_sky`` and ``L_atm`` from ITU-R P.618 (:mod:`ilrs.ephem.atmosphere`) and ``F`` the fraction of the ground
antenna's beam on the Moon's disk (:func:`moon_beam_fraction`: a lander's antenna is on the Moon, so the dish
points at the Moon, and near the limb for a polar site). The rate is the best of a table of CCSDS modulation and
coding options that closes with the margin and fits the band allocation (:mod:`ilrs.station.modcod`).

Units: frequencies [Hz], ranges and diameters [m], powers [W], temperatures [K]; decibel quantities end in
``_db``, ``_dbi``, ``_dbw``, ``_db_k`` or ``_dbhz``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import chndtr

from ilrs.constants import MOON_RADIUS_M, SPEED_OF_LIGHT_M_S
from ilrs.core.arrays import FloatArray
from ilrs.ephem.atmosphere import StationAtmosphere
from ilrs.ephem.ground_stations import DteWindows, get_station
from ilrs.errors import IlrsError
from ilrs.station.modcod import ModCod, best_rate_only_bps

__all__ = [
    "BAND_ALLOCATIONS_HZ",
    "BOLTZMANN_DBW_PER_K_HZ",
    "MOON_BRIGHTNESS_K",
    "allocated_bandwidth_hz",
    "disk_beam_fraction",
    "ground_system_noise_k",
    "half_power_beamwidth_rad",
    "moon_beam_fraction",
    "moon_offset_from_earth_rad",
    "LinkBudget",
    "LinkParameters",
    "achievable_data_rate_bps",
    "c_over_n0_dbhz",
    "combined_c_over_n0_dbhz",
    "dte_data_rates",
    "ebn0_db",
    "eirp_dbw",
    "free_space_path_loss_db",
    "g_over_t_db_k",
    "link_budget",
    "link_margin_db",
    "parabolic_antenna_gain_dbi",
    "wavelength_m",
]

#: Boltzmann's constant in decibels, 10 log10(1.380649e-23 J/K) = -228.599 dBW/(K Hz) (SI 2019, exact k).
#: Link budgets usually round it to -228.6.
BOLTZMANN_DBW_PER_K_HZ = 10.0 * math.log10(1.380649e-23)


#: Space-to-Earth band allocations a lunar mission may use [Hz], (low, high, name). S and X: the near-Earth
#: ("category A") space research sub-bands, X 8450-8500 MHz being the one SFCG assigns to lunar missions
#: (8400-8450 MHz is reserved for deep space beyond 2 million km, ITU Radio Regulations No. 5.465 and
#: Rec. ITU-R SA.1014); Ka 25.5-27.0 GHz (space research and Earth exploration, used by LRO at 25.65 GHz and by
#: Queqiao-2 toward Earth) and 31.8-32.3 GHz (deep space).
BAND_ALLOCATIONS_HZ: tuple[tuple[float, float, str], ...] = (
    (2.200e9, 2.290e9, "S (space research, space-to-Earth)"),
    (8.450e9, 8.500e9, "X lunar (SFCG, space research category A)"),
    (8.400e9, 8.450e9, "X deep space (category B)"),
    (25.5e9, 27.0e9, "Ka (space research, space-to-Earth)"),
    (31.8e9, 32.3e9, "Ka deep space"),
)

#: Microwave brightness temperature of the Moon's disk [K]: "constant at 250 K" in Maral & Bousquet,
#: "Satellite Communications Systems" (3rd ed., Wiley 1998, sec. 2.5); measured at 2.3, 8.4 and 32 GHz with the
#: 34 m DSS-13, disk averages of 200-240 K with the lunar phase (Morabito, Imbriale & Keihm, "Observing the
#: Moon at microwave frequencies using a large-diameter Deep Space Network antenna", IEEE Trans. Antennas
#: Propag. 56(3), 2008). The cold polar limb is lower still: 250 K is the conservative figure.
MOON_BRIGHTNESS_K = 250.0


def _positive(name: str, value: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(value, dtype=float)
    if not (np.isfinite(arr).all() and (arr > 0).all()):
        raise IlrsError(f"{name} must be positive and finite", source=name)
    return arr


def wavelength_m(frequency_hz: npt.ArrayLike) -> FloatArray:
    """Free-space wavelength c / f [m] of ``frequency_hz`` [Hz]."""
    return SPEED_OF_LIGHT_M_S / _positive("frequency_hz", frequency_hz)


def free_space_path_loss_db(range_m: npt.ArrayLike, frequency_hz: npt.ArrayLike) -> FloatArray:
    """Free-space path loss 20 log10(4 pi d / lambda) [dB] (Friis), for range [m] and frequency [Hz]."""
    return 20.0 * np.log10(4.0 * np.pi * _positive("range_m", range_m) / wavelength_m(frequency_hz))


def parabolic_antenna_gain_dbi(
    diameter_m: npt.ArrayLike, frequency_hz: npt.ArrayLike, aperture_efficiency: npt.ArrayLike
) -> FloatArray:
    """Boresight gain of a circular aperture, 10 log10(eta (pi D / lambda)^2) [dBi].

    Parameters
    ----------
    diameter_m : float or array_like
        Reflector diameter [m].
    frequency_hz : float or array_like
        [Hz].
    aperture_efficiency : float or array_like
        Ratio of effective to physical aperture, in (0, 1] [-] (0.55-0.75 for reflectors).
    """
    eta = _positive("aperture_efficiency", aperture_efficiency)
    if (eta > 1).any():
        raise IlrsError("aperture_efficiency must not exceed 1", source="aperture_efficiency")
    ratio = np.pi * _positive("diameter_m", diameter_m) / wavelength_m(frequency_hz)
    gain: FloatArray = 10.0 * np.log10(eta * ratio**2)
    return gain


def eirp_dbw(tx_power_w: npt.ArrayLike, tx_gain_dbi: npt.ArrayLike, tx_losses_db: npt.ArrayLike = 0.0) -> FloatArray:
    """Effective isotropic radiated power 10 log10(P_t) + G_t - L_t [dBW] (P_t [W], G_t [dBi], L_t [dB])."""
    eirp: FloatArray = (
        10.0 * np.log10(_positive("tx_power_w", tx_power_w))
        + np.asarray(tx_gain_dbi, dtype=float)
        - np.asarray(tx_losses_db, dtype=float)
    )
    return eirp


def g_over_t_db_k(rx_gain_dbi: npt.ArrayLike, system_noise_temperature_k: npt.ArrayLike) -> FloatArray:
    """Receiver figure of merit G/T = G_r - 10 log10(T_sys) [dB/K] (G_r [dBi], T_sys [K])."""
    return np.asarray(rx_gain_dbi, dtype=float) - 10.0 * np.log10(
        _positive("system_noise_temperature_k", system_noise_temperature_k)
    )


def c_over_n0_dbhz(
    eirp: npt.ArrayLike, path_loss_db: npt.ArrayLike, g_over_t: npt.ArrayLike, other_losses_db: npt.ArrayLike = 0.0
) -> FloatArray:
    """Carrier to noise density C/N0 = EIRP - L_fs - L_other + G/T - 10 log10(k) [dB-Hz].

    Parameters
    ----------
    eirp : float or array_like
        [dBW].
    path_loss_db : float or array_like
        Free-space path loss [dB], positive.
    g_over_t : float or array_like
        Receiver G/T [dB/K].
    other_losses_db : float or array_like
        Pointing, polarisation, atmospheric and other losses [dB], positive.
    """
    cn0: FloatArray = (
        np.asarray(eirp, dtype=float)
        - np.asarray(path_loss_db, dtype=float)
        - np.asarray(other_losses_db, dtype=float)
        + np.asarray(g_over_t, dtype=float)
        - BOLTZMANN_DBW_PER_K_HZ
    )
    return cn0


def combined_c_over_n0_dbhz(*c_over_n0: npt.ArrayLike) -> FloatArray:
    """C/N0 of links in tandem through a transparent (bent-pipe) relay: noise densities add [dB-Hz]."""
    if not c_over_n0:
        raise IlrsError("give at least one C/N0", source="c_over_n0")
    inverse = sum(10.0 ** (-np.asarray(x, dtype=float) / 10.0) for x in c_over_n0)
    return -10.0 * np.log10(inverse)


def ebn0_db(c_over_n0: npt.ArrayLike, data_rate_bps: npt.ArrayLike) -> FloatArray:
    """Energy per bit to noise density Eb/N0 = C/N0 - 10 log10(R) [dB] (C/N0 [dB-Hz], R [bit/s])."""
    return np.asarray(c_over_n0, dtype=float) - 10.0 * np.log10(_positive("data_rate_bps", data_rate_bps))


def link_margin_db(
    c_over_n0: npt.ArrayLike, data_rate_bps: npt.ArrayLike, required_ebn0_db: npt.ArrayLike
) -> FloatArray:
    """Margin Eb/N0 - (Eb/N0)_required [dB] at data rate R [bit/s]."""
    margin: FloatArray = ebn0_db(c_over_n0, data_rate_bps) - np.asarray(required_ebn0_db, dtype=float)
    return margin


def achievable_data_rate_bps(
    c_over_n0: npt.ArrayLike,
    required_ebn0_db: float,
    margin_db: float = 0.0,
    max_data_rate_bps: float = np.inf,
) -> FloatArray:
    """Highest data rate closing the link with the margin: 10^((C/N0 - Eb/N0_req - margin) / 10) [bit/s].

    Parameters
    ----------
    c_over_n0 : float or array_like
        [dB-Hz].
    required_ebn0_db : float
        Eb/N0 the demodulator and decoder need for the target error rate, implementation losses included [dB].
    margin_db : float
        Margin kept above the requirement [dB].
    max_data_rate_bps : float
        Cap from the radio (modulator, bandwidth) [bit/s]; ``inf`` for none.
    """
    cap = float(max_data_rate_bps)
    if not cap > 0:
        raise IlrsError("max_data_rate_bps must be positive", source="max_data_rate_bps")
    exponent = (np.asarray(c_over_n0, dtype=float) - float(required_ebn0_db) - float(margin_db)) / 10.0
    rate: FloatArray = np.minimum(10.0**exponent, cap)
    return rate


def allocated_bandwidth_hz(frequency_hz: float) -> float:
    """Width of the band allocation in :data:`BAND_ALLOCATIONS_HZ` holding ``frequency_hz`` [Hz] (``inf`` if
    none: the link is then limited by power and the radio only)."""
    for lo, hi, _ in BAND_ALLOCATIONS_HZ:
        if lo <= frequency_hz <= hi:
            return hi - lo
    return math.inf


def half_power_beamwidth_rad(diameter_m: npt.ArrayLike, frequency_hz: npt.ArrayLike) -> FloatArray:
    """Half-power beamwidth of a reflector, 75 lambda / D degrees [rad] (Pratt, Bostian & Allnutt, 2003, sec. 4.2;
    a tapered illumination, 1.31 lambda / D rad)."""
    width: FloatArray = np.radians(75.0) * wavelength_m(frequency_hz) / _positive("diameter_m", diameter_m)
    return width


def disk_beam_fraction(
    offset_rad: npt.ArrayLike, disk_radius_rad: npt.ArrayLike, beamwidth_rad: npt.ArrayLike
) -> FloatArray:
    """Fraction of a Gaussian beam's power pattern that falls on a uniform disk [-].

    With the beam's axis ``offset_rad`` from the disk's centre, the fraction is the probability that a 2-D normal
    of standard deviation ``sigma = beamwidth / sqrt(8 ln 2)`` centred at the offset falls within the disk's
    radius: a non-central chi-square with 2 degrees of freedom, ``P(chi2'(2, (rho/sigma)^2) <= (a/sigma)^2)``
    (the "circular coverage function"). 1 for a small beam inside the disk, 1/2 on its limb, ``(a/sigma)^2 / 2``
    for a disk much smaller than the beam at its centre.

    Parameters
    ----------
    offset_rad, disk_radius_rad, beamwidth_rad : float or array_like
        Beam axis from the disk's centre, the disk's angular radius, the half-power beamwidth [rad].
    """
    sigma = np.asarray(beamwidth_rad, dtype=float) / math.sqrt(8.0 * math.log(2.0))
    a = np.asarray(disk_radius_rad, dtype=float) / sigma
    rho = np.asarray(offset_rad, dtype=float) / sigma
    fraction: FloatArray = np.asarray(chndtr(a * a, 2.0, rho * rho), dtype=float)
    return fraction


def moon_offset_from_earth_rad(
    site_elevation_rad: npt.ArrayLike, distance_m: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Where a site lies on the Moon's disk seen from Earth: its angle from the disk's centre and the disk's
    angular radius [rad].

    The site lies ``R cos(e)`` from the line of sight through the centre, ``e`` the elevation of the Earth
    (station) above the site's horizontal plane: at the centre for the sub-Earth point, on the limb for a site
    that sees the station on its horizon.

    Parameters
    ----------
    site_elevation_rad : array_like
        Elevation of the station seen from the site [rad].
    distance_m : array_like
        Station-to-Moon distance [m].
    """
    d = _positive("distance_m", distance_m)
    offset = np.arctan(MOON_RADIUS_M * np.cos(np.asarray(site_elevation_rad, dtype=float)) / d)
    return offset, np.arcsin(MOON_RADIUS_M / d)


def moon_beam_fraction(
    offset_rad: npt.ArrayLike, disk_radius_rad: npt.ArrayLike, beamwidth_rad: float, *, samples: int = 512
) -> FloatArray:
    """Fraction of an antenna's beam on the Moon's disk, for many steps at once [-].

    :func:`disk_beam_fraction` tabulated once against the beam's distance from the limb in beamwidths,
    ``(offset - radius) / beamwidth``, at the mean disk radius, and interpolated: the disk's +-6 % change in
    size over a month moves the fraction by < 0.01 (where it changes, near the limb, the limb's curvature
    across the beam is what the radius sets).

    Parameters
    ----------
    offset_rad, disk_radius_rad : array_like
        The beam axis from the disk's centre, the disk's angular radius [rad].
    beamwidth_rad : float
        Half-power beamwidth [rad].
    """
    offset = np.asarray(offset_rad, dtype=float)
    radius = np.broadcast_to(np.asarray(disk_radius_rad, dtype=float), offset.shape)
    if not offset.size:
        return np.zeros(offset.shape)
    mean_radius = float(np.mean(radius))
    u = np.linspace(-mean_radius / beamwidth_rad - 1.0, 4.0, samples)
    table = disk_beam_fraction(np.abs(mean_radius + u * beamwidth_rad), mean_radius, beamwidth_rad)
    fraction: FloatArray = np.interp((offset - radius) / beamwidth_rad, u, table)
    return fraction


def ground_system_noise_k(
    receiver_k: float, sky_k: npt.ArrayLike, atmosphere_loss_db: npt.ArrayLike, moon_k: npt.ArrayLike
) -> FloatArray:
    """System noise temperature of a ground receiver looking at the Moon through the atmosphere [K].

    ``T_rx + T_sky + T_moon / L``: the receiver (LNA, feed, waveguide, spillover), the sky's brightness at the
    elevation (:func:`ilrs.ephem.atmosphere.sky_noise_temperature_k`) and the antenna temperature the Moon's disk
    adds (its brightness times :func:`moon_beam_fraction`), attenuated like the signal by the atmosphere's loss
    ``L`` (Stelzried, Freiley & Reid, "System noise concepts with DSN applications", DESCANSO series vol. 10,
    ch. 2, 2008: external sources add their antenna temperature, reduced by the path's loss).
    """
    loss = 10.0 ** (np.asarray(atmosphere_loss_db, dtype=float) / 10.0)
    total: FloatArray = float(receiver_k) + np.asarray(sky_k, dtype=float) + np.asarray(moon_k, dtype=float) / loss
    return total


@dataclass(frozen=True)
class LinkParameters:
    """A one-way radio link between two parabolic antennas.

    Attributes
    ----------
    frequency_hz : float
        Carrier frequency [Hz].
    tx_power_w : float
        Transmitter RF output [W].
    tx_antenna_diameter_m, rx_antenna_diameter_m : float
        Reflector diameters [m].
    tx_aperture_efficiency, rx_aperture_efficiency : float
        Aperture efficiencies in (0, 1] [-].
    system_noise_temperature_k : float
        Receiving system noise temperature, referred to the antenna output [K].
    required_ebn0_db : float
        Eb/N0 needed for the target error rate, implementation losses included [dB].
    margin_db : float
        Margin kept above the requirement [dB].
    tx_losses_db : float
        Losses between the transmitter and its antenna [dB].
    other_losses_db : float
        Pointing, polarisation, atmospheric and other path losses [dB].
    max_data_rate_bps : float
        Radio's highest data rate [bit/s] (``inf`` for none).
    modcods : tuple of ModCod
        Modulation and coding options to choose from (:mod:`ilrs.station.modcod`); empty: one option with
        ``required_ebn0_db`` and no band limit (the chain's last line).
    bandwidth_hz : float
        Occupied bandwidth allowed, the band allocation's [Hz] (``inf`` for none); with ``modcods`` only.
    implementation_loss_db : float
        Demodulator and decoder losses above the options' ideal Eb/N0 [dB]; with ``modcods`` only.
    """

    frequency_hz: float
    tx_power_w: float
    tx_antenna_diameter_m: float
    tx_aperture_efficiency: float
    rx_antenna_diameter_m: float
    rx_aperture_efficiency: float
    system_noise_temperature_k: float
    required_ebn0_db: float
    margin_db: float = 3.0
    tx_losses_db: float = 0.0
    other_losses_db: float = 0.0
    max_data_rate_bps: float = math.inf
    modcods: tuple[ModCod, ...] = ()
    bandwidth_hz: float = math.inf
    implementation_loss_db: float = 0.0

    def rate_bps(self, c_over_n0: npt.ArrayLike) -> FloatArray:
        """Highest data rate closing at ``c_over_n0`` [dB-Hz] with the margin [bit/s]."""
        if not self.modcods:
            return achievable_data_rate_bps(c_over_n0, self.required_ebn0_db, self.margin_db, self.max_data_rate_bps)
        return best_rate_only_bps(
            c_over_n0,
            self.modcods,
            self.margin_db,
            self.implementation_loss_db,
            self.bandwidth_hz,
            max_data_rate_bps=self.max_data_rate_bps,
        )

    def __post_init__(self) -> None:
        for name in (
            "frequency_hz",
            "tx_power_w",
            "tx_antenna_diameter_m",
            "rx_antenna_diameter_m",
            "system_noise_temperature_k",
            "max_data_rate_bps",
            "bandwidth_hz",
        ):
            value = getattr(self, name)
            infinite_ok = name in ("max_data_rate_bps", "bandwidth_hz")
            if not (value > 0) or math.isnan(value) or (math.isinf(value) and not infinite_ok):
                raise IlrsError(f"{name} must be positive, got {value!r}", source=name)
        for name in ("tx_aperture_efficiency", "rx_aperture_efficiency"):
            if not 0 < getattr(self, name) <= 1:
                raise IlrsError(f"{name} must lie in (0, 1], got {getattr(self, name)!r}", source=name)
        for name in ("required_ebn0_db", "margin_db", "tx_losses_db", "other_losses_db", "implementation_loss_db"):
            if not math.isfinite(getattr(self, name)):
                raise IlrsError(f"{name} must be finite", source=name)


@dataclass(frozen=True)
class LinkBudget:
    """A link budget evaluated over ranges; array fields have the shape of ``range_m``.

    Attributes: ``range_m`` [m], ``path_loss_db`` [dB], ``tx_gain_dbi`` and ``rx_gain_dbi`` [dBi],
    ``eirp_dbw`` [dBW], ``g_over_t_db_k`` [dB/K], ``c_over_n0_dbhz`` [dB-Hz], ``data_rate_bps`` [bit/s]
    (achievable with the required Eb/N0 and margin, capped at the radio's maximum).
    """

    range_m: np.ndarray
    path_loss_db: np.ndarray
    tx_gain_dbi: float
    rx_gain_dbi: float
    eirp_dbw: float
    g_over_t_db_k: float
    c_over_n0_dbhz: np.ndarray
    data_rate_bps: np.ndarray


def link_budget(link: LinkParameters, range_m: npt.ArrayLike) -> LinkBudget:
    """Evaluate ``link`` at the transmitter-receiver distance(s) ``range_m`` [m]."""
    distance = _positive("range_m", range_m)
    tx_gain = float(
        parabolic_antenna_gain_dbi(link.tx_antenna_diameter_m, link.frequency_hz, link.tx_aperture_efficiency)
    )
    rx_gain = float(
        parabolic_antenna_gain_dbi(link.rx_antenna_diameter_m, link.frequency_hz, link.rx_aperture_efficiency)
    )
    eirp = float(eirp_dbw(link.tx_power_w, tx_gain, link.tx_losses_db))
    gt = float(g_over_t_db_k(rx_gain, link.system_noise_temperature_k))
    loss = free_space_path_loss_db(distance, link.frequency_hz)
    cn0 = c_over_n0_dbhz(eirp, loss, gt, link.other_losses_db)
    rate = link.rate_bps(cn0)
    return LinkBudget(
        range_m=distance,
        path_loss_db=loss,
        tx_gain_dbi=tx_gain,
        rx_gain_dbi=rx_gain,
        eirp_dbw=eirp,
        g_over_t_db_k=gt,
        c_over_n0_dbhz=cn0,
        data_rate_bps=rate,
    )


@dataclass(frozen=True)
class DteRates:
    """Direct-to-Earth data rates of a terminal through the ground stations of a :class:`DteWindows`."""

    rate_bps: np.ndarray  #: (n,) achievable rate, 0 outside DTE windows [bit/s]
    station: np.ndarray  #: (n,) index of the station used, -1 when none
    window_bits: np.ndarray  #: (k,) volume per DTE window [bit]
    total_bits: float  #: volume over the grid [bit]
    c_over_n0_dbhz: np.ndarray | None = None  #: (n,) at the station used, NaN when none [dB-Hz]
    system_noise_k: np.ndarray | None = None  #: (n,) of the station used, NaN when none [K]


def dte_data_rates(
    dte: DteWindows,
    link: LinkParameters,
    atmosphere: StationAtmosphere | None = None,
    moon_brightness_k: float = 0.0,
) -> DteRates:
    """Direct-to-Earth data rate per step and data volume per window.

    Each station receives with its own dish (``link`` with ``rx_antenna_diameter_m`` replaced by the
    station's), through the atmosphere at the Moon's elevation there (loss and sky noise from ``atmosphere``)
    and with the Moon's disk in its beam (:func:`moon_beam_fraction`, from the station's elevation seen from the
    site when ``dte`` has it, else with the beam at the disk's centre); ``link.system_noise_temperature_k`` is
    the receiver's own. At each step the site uses the usable station with the highest rate.

    Parameters
    ----------
    dte : DteWindows
        Direct-to-Earth visibility (:func:`ilrs.ephem.ground_stations.dte_windows`).
    link : LinkParameters
        The site-to-Earth link; its receiving dish diameter is ignored.
    atmosphere : StationAtmosphere, optional
        Loss and sky noise tables for (at least) ``dte.stations``; None: no atmosphere.
    moon_brightness_k : float
        Brightness temperature of the Moon's disk [K] (:data:`MOON_BRIGHTNESS_K`); 0 ignores it.
    """
    et = np.asarray(dte.et, dtype=float)
    rate = np.zeros(et.size)
    station = np.full(et.size, -1, dtype=np.int64)
    chosen_cn0 = np.full(et.size, np.nan)
    chosen_noise = np.full(et.size, np.nan)
    usable_all = dte.usable()
    for i, key in enumerate(dte.stations):
        k = np.flatnonzero(usable_all[i])
        if not k.size:
            continue
        dish = get_station(key).dish_diameter_m
        distance = dte.range_m[i, k]
        if atmosphere is not None:
            loss_atm, sky = atmosphere.at(atmosphere.stations.index(key), dte.elevation_rad[i, k])
        else:
            loss_atm, sky = np.zeros(k.size), np.zeros(k.size)
        moon = np.zeros(k.size)
        if moon_brightness_k > 0.0:
            site_el = dte.site_el_rad[i, k] if dte.site_el_rad is not None else np.full(k.size, np.pi / 2)
            beam = float(half_power_beamwidth_rad(dish, link.frequency_hz))
            moon = moon_brightness_k * moon_beam_fraction(*moon_offset_from_earth_rad(site_el, distance), beam)
        noise = ground_system_noise_k(link.system_noise_temperature_k, sky, loss_atm, moon)
        rx_gain = parabolic_antenna_gain_dbi(dish, link.frequency_hz, link.rx_aperture_efficiency)
        tx_gain = parabolic_antenna_gain_dbi(link.tx_antenna_diameter_m, link.frequency_hz, link.tx_aperture_efficiency)
        cn0 = c_over_n0_dbhz(
            eirp_dbw(link.tx_power_w, tx_gain, link.tx_losses_db),
            free_space_path_loss_db(distance, link.frequency_hz),
            g_over_t_db_k(rx_gain, noise),
            link.other_losses_db + loss_atm,
        )
        r = link.rate_bps(cn0)
        better = r > rate[k]  # ties keep the earlier station
        kb = k[better]
        rate[kb] = r[better]
        station[kb] = i
        chosen_cn0[kb] = cn0[better]
        chosen_noise[kb] = noise[better]
    step = np.diff(et, append=et[-1] + (et[-1] - et[-2] if et.size > 1 else 0.0)) if et.size else et
    bits_per_step = rate * step
    cumulative = np.concatenate([[0.0], np.cumsum(bits_per_step)])
    windows = np.asarray(dte.windows, dtype=float).reshape(-1, 2)
    first = np.searchsorted(et, windows[:, 0])
    last = np.searchsorted(et, windows[:, 1], side="left")  # window end = start of the next (False) step
    window_bits = cumulative[last] - cumulative[first]
    return DteRates(rate, station, window_bits, float(bits_per_step.sum()), chosen_cn0, chosen_noise)
