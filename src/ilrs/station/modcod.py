"""Standard CCSDS modulation and coding options and the highest data rate that closes within a bandwidth.

Each option is a required Eb/N0 for its error-rate target on an ideal AWGN channel, with no implementation loss
(the link adds its own), and a spectral efficiency in information bits per channel symbol. Two families:

- **CCSDS 131.0-B (TM Synchronization and Channel Coding) with the performance of CCSDS 130.1-G (its green
  book)**: uncoded BPSK (BER 1e-6: 10.5 dB, the textbook erfc bound), the convolutional code (7, 1/2) with soft
  Viterbi decoding (BER 1e-5: 4.4 dB) and its concatenation with Reed-Solomon (255, 223) at interleaving depth
  5 (BER 1e-6: 2.5 dB). Reed-Solomon symbols and the convolutional rate set the efficiency (1/2 x 223/255).
- **CCSDS 131.3-B (CCSDS space link protocols over ETSI DVB-S2)**: the DVB-S2 modulation and code pairs with
  their ideal Es/N0 for a packet error rate of 1e-7 on 64,800-bit frames (ETSI EN 302 307 V1.2.1, table 13),
  Eb/N0 = Es/N0 - 10 log10(eta). CCSDS 131.2-B (SCCC) covers the same range of efficiencies with thresholds
  within about 0.5 dB of these.

The symbols of a filtered signal occupy ``R_s (1 + roll-off)`` [Hz] (square-root raised cosine; DVB-S2 and
CCSDS 131.3-B use roll-offs of 0.35, 0.25 or 0.20), so a band of ``B`` [Hz] carries at most
``B eta / (1 + roll-off)`` [bit/s].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ilrs.errors import IlrsError

__all__ = ["MODCODS", "ModCod", "best_rate_bps", "best_rate_only_bps", "modcods_named"]


@dataclass(frozen=True)
class ModCod:
    """One modulation and coding option."""

    name: str
    modulation: str  #: 'BPSK', 'QPSK', '8PSK', '16APSK' or '32APSK'
    required_ebn0_db: float  #: ideal AWGN, at its error-rate target [dB]
    bits_per_symbol: float  #: information bits per channel symbol [-]
    source: str

    @classmethod
    def from_esn0(cls, name: str, modulation: str, esn0_db: float, bits_per_symbol: float, source: str) -> ModCod:
        """An option given by its Es/N0 [dB]: Eb/N0 = Es/N0 - 10 log10(bits per symbol)."""
        return cls(name, modulation, esn0_db - 10.0 * math.log10(bits_per_symbol), bits_per_symbol, source)


_G130 = "CCSDS 131.0-B-4 codes, performance from CCSDS 130.1-G-3 (2020)"
_S2 = "CCSDS 131.3-B-1 (DVB-S2), ETSI EN 302 307 V1.2.1 table 13 (ideal Es/N0, PER 1e-7, 64,800-bit frames)"

# (name, modulation, ideal Es/N0 [dB], spectral efficiency [bit/symbol]) of ETSI EN 302 307 table 13
_DVB_S2 = (
    ("qpsk-1/4", "QPSK", -2.35, 0.490243),
    ("qpsk-1/3", "QPSK", -1.24, 0.656448),
    ("qpsk-2/5", "QPSK", -0.30, 0.789412),
    ("qpsk-1/2", "QPSK", 1.00, 0.988858),
    ("qpsk-3/5", "QPSK", 2.23, 1.188304),
    ("qpsk-2/3", "QPSK", 3.10, 1.322253),
    ("qpsk-3/4", "QPSK", 4.03, 1.487473),
    ("qpsk-4/5", "QPSK", 4.68, 1.587196),
    ("qpsk-5/6", "QPSK", 5.18, 1.654663),
    ("qpsk-8/9", "QPSK", 6.20, 1.766451),
    ("qpsk-9/10", "QPSK", 6.42, 1.788612),
    ("8psk-3/5", "8PSK", 5.50, 1.779991),
    ("8psk-2/3", "8PSK", 6.62, 1.980636),
    ("8psk-3/4", "8PSK", 7.91, 2.228124),
    ("8psk-5/6", "8PSK", 9.35, 2.478562),
    ("8psk-8/9", "8PSK", 10.69, 2.646012),
    ("8psk-9/10", "8PSK", 10.98, 2.679207),
    ("16apsk-2/3", "16APSK", 8.97, 2.637201),
    ("16apsk-3/4", "16APSK", 10.21, 2.966728),
    ("16apsk-4/5", "16APSK", 11.03, 3.165623),
    ("16apsk-5/6", "16APSK", 11.61, 3.300184),
    ("16apsk-8/9", "16APSK", 12.89, 3.523143),
    ("16apsk-9/10", "16APSK", 13.13, 3.567342),
    ("32apsk-3/4", "32APSK", 12.73, 3.703295),
    ("32apsk-4/5", "32APSK", 13.64, 3.951571),
    ("32apsk-5/6", "32APSK", 14.28, 4.119540),
    ("32apsk-8/9", "32APSK", 15.69, 4.397854),
    ("32apsk-9/10", "32APSK", 16.05, 4.453027),
)

#: The standard options, by name.
MODCODS: dict[str, ModCod] = {
    m.name: m
    for m in (
        ModCod("bpsk-uncoded", "BPSK", 10.5, 1.0, f"{_G130}: BER 1e-6"),
        ModCod("bpsk-conv-1/2", "BPSK", 4.4, 0.5, f"{_G130}: convolutional (7, 1/2), soft decisions, BER 1e-5"),
        ModCod(
            "bpsk-rs-conv-1/2",
            "BPSK",
            2.5,
            0.5 * 223.0 / 255.0,
            f"{_G130}: RS (255, 223) I=5 + convolutional (7, 1/2), BER 1e-6",
        ),
        *(ModCod.from_esn0(name, mod, esn0, eta, _S2) for name, mod, esn0, eta in _DVB_S2),
    )
}


def modcods_named(names: list[str] | tuple[str, ...] | None) -> tuple[ModCod, ...]:
    """The options with these names (all of :data:`MODCODS` for None)."""
    if names is None:
        return tuple(MODCODS.values())
    unknown = [n for n in names if n not in MODCODS]
    if unknown:
        raise IlrsError(
            f"unknown modulation and coding option(s) {unknown}", source="modcods", hint=f"known: {list(MODCODS)}"
        )
    return tuple(MODCODS[n] for n in names)


def best_rate_bps(
    c_over_n0_dbhz: npt.ArrayLike,
    modcods: tuple[ModCod, ...],
    margin_db: float = 3.0,
    implementation_loss_db: float = 0.0,
    bandwidth_hz: float = math.inf,
    roll_off: float = 0.35,
    max_data_rate_bps: float = math.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """The highest data rate any option sustains, and which option.

    Each option ``j`` carries ``min(10^((C/N0 - (Eb/N0)_j - L_impl - margin) / 10), B eta_j / (1 + roll-off))``
    [bit/s] (power-limited, band-limited), capped at the radio's maximum; the best option wins at each step.

    Parameters
    ----------
    c_over_n0_dbhz : array_like
        [dB-Hz].
    modcods : tuple of ModCod
        The options the radios implement.
    margin_db, implementation_loss_db : float
        Kept above the ideal requirement [dB].
    bandwidth_hz : float
        Occupied bandwidth allowed [Hz] (``inf``: none).
    roll_off : float
        Square-root raised cosine roll-off [-].
    max_data_rate_bps : float
        The radio's highest rate [bit/s].

    Returns
    -------
    rate_bps : numpy.ndarray
        Best rate, the shape of ``c_over_n0_dbhz`` [bit/s].
    choice : numpy.ndarray of int
        Index into ``modcods`` of the option giving it.
    """
    rates_db = _rates_db(c_over_n0_dbhz, modcods, margin_db, implementation_loss_db, bandwidth_hz, roll_off)
    choice = np.argmax(rates_db, axis=0)
    best_db = np.take_along_axis(rates_db, choice[None], axis=0)[0]
    return np.minimum(10.0 ** (best_db / 10.0), max_data_rate_bps), choice


def best_rate_only_bps(
    c_over_n0_dbhz: npt.ArrayLike,
    modcods: tuple[ModCod, ...],
    margin_db: float = 3.0,
    implementation_loss_db: float = 0.0,
    bandwidth_hz: float = math.inf,
    roll_off: float = 0.35,
    max_data_rate_bps: float = math.inf,
) -> np.ndarray:
    """:func:`best_rate_bps` without the choice (a reduction instead of an arg-reduction: faster) [bit/s]."""
    rates_db = _rates_db(c_over_n0_dbhz, modcods, margin_db, implementation_loss_db, bandwidth_hz, roll_off)
    best: np.ndarray = np.minimum(10.0 ** (rates_db.max(axis=0) / 10.0), max_data_rate_bps)
    return best


def _rates_db(
    c_over_n0_dbhz: npt.ArrayLike,
    modcods: tuple[ModCod, ...],
    margin_db: float,
    implementation_loss_db: float,
    bandwidth_hz: float,
    roll_off: float,
) -> np.ndarray:
    """Each option's rate min(power, band) in decibels [dB-bit/s], shape (options, *C/N0's)."""
    if not modcods:
        raise IlrsError("give at least one modulation and coding option", source="modcods")
    cn0 = np.asarray(c_over_n0_dbhz, dtype=float)
    shape = (-1,) + (1,) * cn0.ndim
    needed = np.array([m.required_ebn0_db for m in modcods]) + implementation_loss_db + margin_db
    with np.errstate(divide="ignore"):
        eta = np.array([m.bits_per_symbol for m in modcods])
        band_db = 10.0 * np.log10(float(bandwidth_hz) * eta / (1.0 + roll_off))
    rates: np.ndarray = np.minimum(cn0[None] - needed.reshape(shape), band_db.reshape(shape))
    return rates
