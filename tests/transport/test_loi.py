"""Lunar orbit insertion compared like with like with a flown mission: Apollo 11's LOI-1.

Published (Apollo 11 Mission Report, MSC-00171, NASA 1969, section 7 "Trajectory", maneuver table; the same
figures in R. W. Orloff, "Apollo by the Numbers", NASA SP-2000-4029, Apollo 11 tables): TLI cutoff 16:22:13 UTC
on 16 July 1969 after a 347 s burn from a ~100 nmi parking orbit; LOI-1 ignition 75:49:50 GET (17:21:50 UTC,
19 July) for 357.5 s with the service propulsion system (Isp 314 s), a velocity change of 2,917.5 ft/s
(889.3 m/s), into a 60.9 x 169.9 nmi (112.8 x 314.6 km) lunar orbit.

Like with like: the TLI and LOI epochs at the burns' midpoints (impulsive equivalents), a 185 km parking orbit,
the arrival targeted in our ephemeris model so that the finite burn ends in the published 112.8 x 314.6 km
ellipse, and the burn flown as Apollo's SPS flew it: retrograde, of the initial thrust acceleration that the
published velocity change and duration imply with the SPS's Isp (2.16 m/s^2). The Table 4 figure of Acta
Astronautica 2020 (907 m/s without reserve, into a circular 100 km orbit, flight time unstated) is not a like
for like comparison and is not tested here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ilrs.constants import MOON_RADIUS_M
from ilrs.ephem.time import to_et
from ilrs.errors import IlrsError
from ilrs.transport.forces import MOON_GM_M3_S2
from ilrs.transport.loi import finite_burn_loi
from ilrs.transport.targeting import targeted_transfer

FT_M = 0.3048
APOLLO11_LOI1_M_S = 2917.5 * FT_M  # 889.3 m/s
APOLLO11_LOI1_BURN_S = 357.5
SPS_ISP_S = 314.0
PERI_KM, APO_KM = 60.9 * 1.852, 169.9 * 1.852  # 112.8 x 314.6 km
#: initial thrust acceleration implied by the published delta-v, duration and Isp (constant thrust and flow)
SPS_ACCEL0_M_S2 = SPS_ISP_S * 9.80665 * (1.0 - math.exp(-APOLLO11_LOI1_M_S / (SPS_ISP_S * 9.80665))) / 357.5


@pytest.fixture(scope="module")
def apollo11():
    tli_mid = float(to_et("1969-07-16T16:19:20")[0])  # cutoff 16:22:13 minus half the 347 s burn
    loi_mid = float(to_et("1969-07-19T17:24:49")[0])  # ignition 17:21:50 plus half the 357.5 s burn
    # arrival periapsis 122.5 km: the centred retrograde burn lowers it to the published 112.8 km
    t = targeted_transfer(tli_mid, loi_mid - tli_mid, 122.5, 175.0, 185.0, hemisphere="north")
    return t, finite_burn_loi(t.periapsis_state_moon, APO_KM, SPS_ACCEL0_M_S2, SPS_ISP_S)


def test_apollo11_loi1_within_2_percent_of_the_flown_burn(apollo11):
    """Our finite-burn LOI-1 into the flown 112.8 x 314.6 km ellipse is within 2 % of the flown 889.3 m/s
    (measured 876.5 m/s, -1.4 %; the rest is what the model omits: Apollo's burn also trimmed the plane and the
    arrival's targeting differed), the ellipse reached is the published one within 1 km, and the burn lasts the
    published 357.5 s within 3 % (its thrust comes from the published figures, so this checks consistency, not
    the engine). The impulsive LOI into the same ellipse is the lower bound, a few m/s below."""
    t, f = apollo11
    assert f.finite_dv_m_s == pytest.approx(APOLLO11_LOI1_M_S, rel=0.02)
    assert f.apoapsis_alt_km == pytest.approx(APO_KM, abs=0.01)
    assert f.periapsis_alt_km == pytest.approx(PERI_KM, abs=1.0)
    assert f.burn_time_s == pytest.approx(APOLLO11_LOI1_BURN_S, rel=0.03)
    assert 0.0 < f.loss_m_s < 10.0
    print(f"Apollo 11 LOI-1: ours {f.finite_dv_m_s:.1f} m/s (impulsive {f.impulsive_dv_m_s:.1f}, burn "
          f"{f.burn_time_s:.1f} s, {f.periapsis_alt_km:.1f} x {f.apoapsis_alt_km:.1f} km) vs flown "
          f"{APOLLO11_LOI1_M_S:.1f} m/s")  # fmt: skip


def test_finite_burn_tends_to_the_impulse_and_loses_more_at_low_thrust(apollo11):
    """The impulsive LOI into the ellipse is vis-viva at the arrival periapsis (computed here afresh); a burn at
    20 m/s^2 tends to it within 0.5 m/s, and the loss grows as the thrust falls (longer arc off periapsis)."""
    t, _ = apollo11
    rp = float(np.linalg.norm(t.periapsis_state_moon[:3]))
    ra = MOON_RADIUS_M + APO_KM * 1e3
    vp = float(np.linalg.norm(t.periapsis_state_moon[3:]))
    impulsive = vp - math.sqrt(MOON_GM_M3_S2 * (2 / rp - 2 / (rp + ra)))
    fast = finite_burn_loi(t.periapsis_state_moon, APO_KM, 20.0, SPS_ISP_S)
    assert fast.impulsive_dv_m_s == pytest.approx(impulsive, abs=1e-6)
    assert fast.finite_dv_m_s == pytest.approx(impulsive, abs=0.5)
    losses = [finite_burn_loi(t.periapsis_state_moon, APO_KM, a, SPS_ISP_S).loss_m_s for a in (4.0, 2.0, 1.0)]
    assert 0.0 < losses[0] < losses[1] < losses[2]


def test_bad_input_names_the_parameter(apollo11):
    t, _ = apollo11
    with pytest.raises(IlrsError, match="apoapsis_alt_km"):
        finite_burn_loi(t.periapsis_state_moon, 50.0, 2.0, 314.0)
    with pytest.raises(IlrsError, match="isp_s"):
        finite_burn_loi(t.periapsis_state_moon, APO_KM, 2.0, 50.0)
    with pytest.raises(IlrsError, match="accel0_m_s2"):
        finite_burn_loi(t.periapsis_state_moon, APO_KM, 0.0, 314.0)
    with pytest.raises(IlrsError, match="periapsis_state_m"):
        state = t.periapsis_state_moon.copy()
        state[3:] *= 0.5  # bound: not an arrival hyperbola
        finite_burn_loi(state, APO_KM, 2.0, 314.0)
