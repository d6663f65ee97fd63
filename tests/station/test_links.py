"""ilrs.station.links: the link budget against two published worked examples, and physical scaling laws.

The published values are printed to 0.1 dB. A value recomputed here from the source's printed (rounded) inputs
can therefore differ from its printed result by the result's rounding (0.05 dB) plus the inputs' roundings
where they add up; each tolerance below says which. Boltzmann's constant is -228.6 dBW/K/Hz in both sources
and -228.599 here (exact SI value), 0.001 dB apart.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ilrs.ephem.ground_stations import DteWindows
from ilrs.errors import IlrsError
from ilrs.station import links

HALF_UNIT = 0.05  # half of the 0.1 dB printed resolution [dB]
K_ROUNDING = 0.001  # -228.6 vs -228.599 [dB]


# ---------------------------------------------------------------------------------------------- published examples


def test_noaa_emwin_n_link_budget():
    """NOAA National Weather Service, "EMWIN-N Link Budget" (GOES-N series, 9600 bit/s BPSK, Conv+RS),
    http://www.nws.noaa.gov/emwin/emwin-n-link-budget.htm : a bent-pipe link through a geostationary
    satellite, path distance 41,127 km (5 deg elevation). Powers there in dBm; here in dBW (-30 dB)."""
    distance_m = 41_127e3
    # Path losses from distance and frequency: the source prints 190.9 and 189.3 dB.
    uplink_loss = links.free_space_path_loss_db(distance_m, 2034.70e6)
    downlink_loss = links.free_space_path_loss_db(distance_m, 1692.70e6)
    assert uplink_loss == pytest.approx(190.9, abs=HALF_UNIT)
    assert downlink_loss == pytest.approx(189.3, abs=HALF_UNIT)

    # Uplink: EIRP 76.7 dBmi, pointing 0.5 dB, atmosphere 0.4 dB, polarisation 0.2 dB, G/T -14.2 dB/K
    # -> "Uplink Thermal C/No 69.1 dB/Hz". Tolerance: the result's rounding and k's.
    uplink = links.c_over_n0_dbhz(76.7 - 30.0, 190.9, -14.2, other_losses_db=0.5 + 0.4 + 0.2)
    assert uplink == pytest.approx(69.1, abs=HALF_UNIT + K_ROUNDING)
    # Downlink: EIRP 44.8 dBmi, atmosphere 0.4 dB, polarisation 0.2 dB, G/T -0.3 dB/K -> 53.2 dB/Hz.
    downlink = links.c_over_n0_dbhz(44.8 - 30.0, 189.3, -0.3, other_losses_db=0.4 + 0.2)
    assert downlink == pytest.approx(53.2, abs=HALF_UNIT + K_ROUNDING)
    # "Overall Composite C/No 53.1 dB/Hz" from the two printed values.
    composite = links.combined_c_over_n0_dbhz(69.1, 53.2)
    assert composite == pytest.approx(53.1, abs=HALF_UNIT)

    # "Data Rate in dB 39.8 dB-Hz", "Eb/No Calculated 13.3 dB", required 2.6 + 2.0 + 1.0 = 5.6 dB,
    # "Eb/No MARGIN 7.7 dB". Tolerance: the printed 53.1's rounding plus the result's.
    assert 10 * np.log10(9600) == pytest.approx(39.8, abs=HALF_UNIT)
    assert links.ebn0_db(53.1, 9600) == pytest.approx(13.3, abs=2 * HALF_UNIT)
    assert links.link_margin_db(53.1, 9600, 2.6 + 2.0 + 1.0) == pytest.approx(7.7, abs=2 * HALF_UNIT)
    # Inverting: with that margin kept, the achievable rate is the example's 9600 bit/s (to the same 0.1 dB).
    rate = links.achievable_data_rate_bps(53.1, 5.6, margin_db=7.7)
    assert 10 * np.log10(rate / 9600) == pytest.approx(0.0, abs=2 * HALF_UNIT)


def test_eurasip_2020_table_1_link_budget():
    """EURASIP J. Wireless Commun. Netw. (2020), "On the feasibility of a secondary service transmission over
    an existent satellite infrastructure: design and analysis", doi:10.1186/s13638-020-01674-9, Table 1
    "Primary user link budget (QPSK coded FEC R = 1/2)": 2200 MHz, 3.4 Mbit/s."""
    # "E. S. antenna max gain - 5m, eff 50% (dBi) 38.2"
    gain = links.parabolic_antenna_gain_dbi(5.0, 2200e6, 0.50)
    assert gain == pytest.approx(38.2, abs=HALF_UNIT)
    # "Transmitted power (mW) 1000", "Satellite carrier EIRP (dBm) 38.3": 8.3 dBi of antenna gain; EIRP in dBW.
    eirp = links.eirp_dbw(1.0, 8.3)
    assert eirp == pytest.approx(38.3 - 30.0, abs=1e-12)
    # "Free space loss -162.2", "Depointing loss -10", "System Noise temperature (K) 130" -> "C/N0 81.8 dB-Hz".
    # Tolerance: the printed gain's rounding, the result's, and k's.
    g_over_t = links.g_over_t_db_k(38.2, 130.0)
    cn0 = links.c_over_n0_dbhz(eirp, 162.2, g_over_t, other_losses_db=10.0)
    assert cn0 == pytest.approx(81.8, abs=2 * HALF_UNIT + K_ROUNDING)
    # "Eb/N0 (dB) 16.5" at 3.4 Mbit/s
    assert links.ebn0_db(81.8, 3.4e6) == pytest.approx(16.5, abs=2 * HALF_UNIT)
    # "Demodulation losses -6", "Eb/N0 required - for BER = 1E-5: 7" -> "Margin (dB) 3.5"
    assert links.link_margin_db(81.8, 3.4e6, 7.0 + 6.0) == pytest.approx(3.5, abs=2 * HALF_UNIT)


# ---------------------------------------------------------------------------------------------- physics


def test_path_loss_grows_20_db_per_decade_and_matches_friis():
    distance = np.array([3.6e5, 3.6e6, 3.6e7, 4.054e8])
    loss = links.free_space_path_loss_db(distance, 8.45e9)
    assert np.diff(loss[:3]) == pytest.approx([20.0, 20.0], abs=1e-9)
    # Friis in linear units: received/transmitted power between isotropic antennas = (lambda / (4 pi d))^2
    wavelength = 299_792_458.0 / 8.45e9
    assert loss == pytest.approx(-10 * np.log10((wavelength / (4 * np.pi * distance)) ** 2), abs=1e-9)
    # over the Moon's perigee-apogee swing (356,500 .. 406,700 km) the loss changes by 1.1 dB
    swing = np.subtract(*links.free_space_path_loss_db([406_700e3, 356_500e3], 8.45e9))
    assert swing == pytest.approx(20 * np.log10(406_700 / 356_500), abs=1e-9)


def test_antenna_gain_scaling():
    d = np.array([1.0, 2.0, 4.0, 35.0, 70.0])
    gain = links.parabolic_antenna_gain_dbi(d, 8.45e9, 0.6)
    assert np.diff(gain[:3]) == pytest.approx([6.0206, 6.0206], abs=1e-4)  # 20 log10(2) per doubling
    assert gain[4] - gain[3] == pytest.approx(20 * np.log10(2), abs=1e-9)
    assert links.parabolic_antenna_gain_dbi(35.0, 2 * 8.45e9, 0.6) - gain[3] == pytest.approx(20 * np.log10(2))
    # a perfect aperture: G = 4 pi A / lambda^2
    wavelength = 299_792_458.0 / 8.45e9
    assert links.parabolic_antenna_gain_dbi(70.0, 8.45e9, 1.0) == pytest.approx(
        10 * np.log10(4 * np.pi * (np.pi * 35.0**2) / wavelength**2), abs=1e-9
    )
    with pytest.raises(IlrsError, match="aperture_efficiency"):
        links.parabolic_antenna_gain_dbi(1.0, 8.45e9, 1.2)


def test_link_budget_is_vectorised_and_capped():
    link = links.LinkParameters(
        frequency_hz=8.45e9,
        tx_power_w=20.0,
        tx_antenna_diameter_m=1.0,
        tx_aperture_efficiency=0.55,
        rx_antenna_diameter_m=35.0,
        rx_aperture_efficiency=0.6,
        system_noise_temperature_k=40.0,
        required_ebn0_db=2.5,
        margin_db=3.0,
        other_losses_db=1.0,
        max_data_rate_bps=np.inf,
    )
    distance = np.array([356_500e3, 384_400e3, 406_700e3])
    budget = links.link_budget(link, distance)
    assert budget.c_over_n0_dbhz.shape == (3,)
    # the rate falls as 1/d^2
    assert budget.data_rate_bps[0] / budget.data_rate_bps[2] == pytest.approx((406_700 / 356_500) ** 2)
    # the chain's pieces add up
    assert budget.c_over_n0_dbhz == pytest.approx(
        budget.eirp_dbw - budget.path_loss_db - 1.0 + budget.g_over_t_db_k - links.BOLTZMANN_DBW_PER_K_HZ
    )
    capped = links.link_budget(replace(link, max_data_rate_bps=1e6), distance)
    assert (capped.data_rate_bps <= 1e6).all()
    assert capped.data_rate_bps[0] == 1e6
    with pytest.raises(IlrsError, match="tx_aperture_efficiency"):
        replace(link, tx_aperture_efficiency=0.0)
    with pytest.raises(IlrsError, match="range_m"):
        links.link_budget(link, [-1.0])


def test_dte_data_rates_pick_the_best_station_and_integrate_volumes():
    link = links.LinkParameters(
        frequency_hz=8.45e9,
        tx_power_w=10.0,
        tx_antenna_diameter_m=0.5,
        tx_aperture_efficiency=0.55,
        rx_antenna_diameter_m=1.0,
        rx_aperture_efficiency=0.6,
        system_noise_temperature_k=50.0,
        required_ebn0_db=2.5,
    )
    et = np.arange(6) * 60.0
    visible = np.array([[1, 1, 0, 0, 1, 1], [0, 1, 1, 0, 0, 0]], dtype=bool)
    dte = DteWindows(  # two stations and six one-minute steps
        et=et,
        stations=("kashi", "ussuriysk"),
        elevation_rad=np.where(visible, 0.5, -0.5),
        range_m=np.full((2, 6), 380_000e3),
        station_visible=visible,
        best_station=np.array([0, 0, 1, -1, 0, 0]),
        any_station=visible.any(axis=0),
        dte=np.array([1, 1, 1, 0, 1, 0], dtype=bool),
        windows=np.array([[0.0, 180.0], [240.0, 300.0]]),
    )
    out = links.dte_data_rates(dte, link)
    rate_35 = float(links.link_budget(replace(link, rx_antenna_diameter_m=35.0), 380_000e3).data_rate_bps)
    rate_70 = float(links.link_budget(replace(link, rx_antenna_diameter_m=70.0), 380_000e3).data_rate_bps)
    assert rate_70 / rate_35 == pytest.approx(4.0)  # twice the dish, four times the rate
    np.testing.assert_allclose(out.rate_bps, [rate_35, rate_70, rate_70, 0, rate_35, 0])
    np.testing.assert_array_equal(out.station, [0, 1, 1, -1, 0, -1])
    np.testing.assert_allclose(out.window_bits, [60 * (rate_35 + 2 * rate_70), 60 * rate_35])
    assert out.total_bits == pytest.approx(out.window_bits.sum())
