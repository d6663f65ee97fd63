"""Radio link budgets: pure functions in decibels, vectorised over range, and a small parameter set.

The chain is the textbook one (e.g. Pratt, Bostian & Allnutt, "Satellite Communications", 2nd ed., Wiley 2003,
ch. 4 "Satellite Link Design"):

    EIRP   = 10 log10(P_t) + G_t - L_t                               [dBW]
    L_fs   = 20 log10(4 pi d f / c)                                   [dB]
    G      = 10 log10(eta (pi D f / c)^2)                             [dBi]
    G/T    = G_r - 10 log10(T_sys)                                    [dB/K]
    C/N0   = EIRP - L_fs - L_other + G/T - 10 log10(k)                [dB-Hz]
    R      = 10^((C/N0 - (Eb/N0)_req - margin) / 10)                  [bit/s]

Units: frequencies [Hz], ranges and diameters [m], powers [W], temperatures [K]; decibel quantities end in
``_db``, ``_dbi``, ``_dbw``, ``_db_k`` or ``_dbhz``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from ilrs.constants import SPEED_OF_LIGHT_M_S
from ilrs.core.arrays import FloatArray
from ilrs.ephem.ground_stations import DteWindows, get_station
from ilrs.errors import IlrsError

__all__ = [
    "BOLTZMANN_DBW_PER_K_HZ",
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

    def __post_init__(self) -> None:
        for name in (
            "frequency_hz",
            "tx_power_w",
            "tx_antenna_diameter_m",
            "rx_antenna_diameter_m",
            "system_noise_temperature_k",
            "max_data_rate_bps",
        ):
            value = getattr(self, name)
            if not (value > 0) or math.isnan(value) or (math.isinf(value) and name != "max_data_rate_bps"):
                raise IlrsError(f"{name} must be positive, got {value!r}", source=name)
        for name in ("tx_aperture_efficiency", "rx_aperture_efficiency"):
            if not 0 < getattr(self, name) <= 1:
                raise IlrsError(f"{name} must lie in (0, 1], got {getattr(self, name)!r}", source=name)
        for name in ("required_ebn0_db", "margin_db", "tx_losses_db", "other_losses_db"):
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
    rate = achievable_data_rate_bps(cn0, link.required_ebn0_db, link.margin_db, link.max_data_rate_bps)
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


def dte_data_rates(dte: DteWindows, link: LinkParameters) -> DteRates:
    """Direct-to-Earth data rate per step and data volume per window.

    Each station receives with its own dish (``link`` with ``rx_antenna_diameter_m`` replaced by the
    station's); at each step the site uses the visible station with the highest rate.

    Parameters
    ----------
    dte : DteWindows
        Direct-to-Earth visibility (:func:`ilrs.ephem.ground_stations.dte_windows`).
    link : LinkParameters
        The site-to-Earth link; its receiving dish diameter is ignored.
    """
    et = np.asarray(dte.et, dtype=float)
    rates = np.zeros((len(dte.stations), et.size))
    for i, key in enumerate(dte.stations):
        station_link = replace(link, rx_antenna_diameter_m=get_station(key).dish_diameter_m)
        usable = dte.station_visible[i] & dte.dte
        if usable.any():
            rates[i, usable] = link_budget(station_link, dte.range_m[i, usable]).data_rate_bps
    best = np.argmax(rates, axis=0) if et.size else np.empty(0, dtype=np.int64)
    rate = rates.max(axis=0) if et.size else np.empty(0)
    station = np.where(rate > 0, best, -1)
    step = np.diff(et, append=et[-1] + (et[-1] - et[-2] if et.size > 1 else 0.0)) if et.size else et
    bits_per_step = rate * step
    cumulative = np.concatenate([[0.0], np.cumsum(bits_per_step)])
    windows = np.asarray(dte.windows, dtype=float).reshape(-1, 2)
    first = np.searchsorted(et, windows[:, 0])
    last = np.searchsorted(et, windows[:, 1], side="left")  # window end = start of the next (False) step
    window_bits = cumulative[last] - cumulative[first]
    return DteRates(rate, station, window_bits, float(bits_per_step.sum()))
