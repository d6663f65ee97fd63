"""Powered descent compared like with like with a flown one: Apollo 11's, PDI to touchdown.

Published (NASA documents; each read as quoted in public sources, the scans themselves not read):
- Apollo 11 Mission Report, MSC-00171 (NASA, Nov. 1969), section 9.8: the powered descent lasted 756.3 s for about
  6,775 ft/s (2,065.0 m/s) of velocity change, from minimum throttle to full throttle after about 26 s; Appendix A,
  table A-I: LM 33,401.6 lb at DOI cutoff, 16,153.2 lb at landing. Quoted in an Apollo 11 descent source catalogue
  on GitHub (search-index file id 69605812410). The 756.3 s also in NASA NSSDC's Apollo 11 description as copied at
  https://doc.studenti.it/appunti/inglese/apollo-xi-inglese.html ("the LM descent engine fired for 756.3 seconds").
- F. V. Bennett, NASA TN D-6846 (1972): PDI at 48,814 ft and 5,560 ft/s; a planned 6,827 ft/s (2,080.9 m/s) for
  the descent (quoted in a second GitHub project, file id 70776951767); throttle-down at 102:39:31 GET (386 s after
  PDI) at 22,984 ft, P64 at 102:41:31 at 7,129 ft and 124.9 ft/s down, P66 at 102:43:22 at 410 ft (third project,
  file id 58307907107).
- NASA TN D-7143 (1973), "Apollo Experience Report - Descent Propulsion System": 10,500 lbf rated thrust, 305 s
  end-of-duty specific impulse; the throttleable range 10-60 % (1,050-6,300 lbf in the Apollo 11 Press Kit, as
  quoted in file id 70776951767).

Like with like: the flown PDI state, LM mass, DPS thrust and throttle schedule (minimum for 26 s, the 92.5 %
full-throttle point until 386 s), then throttled explicit guidance through the flight's P64, P66 and contact gates.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from ilrs.errors import IlrsError
from ilrs.transport.guided_descent import (
    APOLLO11_BURN_S,
    APOLLO11_DV_M_S,
    APOLLO11_GATES,
    APOLLO11_LANDING_MASS_KG,
    APOLLO11_PDI_MASS_KG,
    APOLLO11_RATED_THRUST_N,
    APOLLO11_THROTTLE_DOWN_ALT_M,
    FT_M,
    Gate,
    Lander,
    apollo11_descent,
    gated_descent,
)

APOLLO11_PLANNED_DV_M_S = 6_827.0 * FT_M  # TN D-6846's nominal, 2,080.9 m/s


@pytest.fixture(scope="module")
def apollo11():
    return apollo11_descent()


def test_apollo11_powered_descent_within_2_percent_of_the_flown(apollo11):
    """PDI to touchdown: 2,096.9 m/s against the flown 2,065.0 m/s (+1.5 %) and the planned 2,080.9 m/s (+0.8 %).

    2 % is the project's criterion for published mission figures; what the model leaves out accounts for the
    rest: Armstrong's manual flying in P66 (not the straight explicit guidance between the published gates flown
    here), the Moon's rotation (4.6 m/s at the site, 0.2 %), the landing site's terrain and radius (altitudes
    here are above the mean sphere), and the engine's part-throttle Isp (it moves the FTP braking through the
    mass). The published figure has 3-4 significant digits ("about 6,775 ft/s"), far finer than 2 %."""
    d = apollo11
    assert d.dv_m_s == pytest.approx(APOLLO11_DV_M_S, rel=0.02)
    assert d.dv_m_s == pytest.approx(APOLLO11_PLANNED_DV_M_S, rel=0.02)
    # the gates are the flight's, so the burn lasts as long as the flight's: 755 s against 756.3 s (+-3 s: the
    # last gate is the contact at 102:45:40, the flown shutdown a second or so later)
    assert d.burn_time_s == pytest.approx(APOLLO11_BURN_S, abs=3.0)
    print(f"Apollo 11 PDI: ours {d.dv_m_s:.1f} m/s (gravity {d.gravity_loss_m_s:.1f}, steering "
          f"{d.steering_loss_m_s:.1f}) vs flown {APOLLO11_DV_M_S:.1f}, "
          f"planned {APOLLO11_PLANNED_DV_M_S:.1f}")  # fmt: skip


def test_apollo11_intermediate_states_and_propellant(apollo11):
    """Checks the gates do not force: the altitude at the end of the full-throttle burn (386 s), the propellant
    burnt and the throttle the guidance asks for after the throttle-down.

    - Altitude at throttle-down: 6.64 km against the flown 7.01 km. Within 0.5 km: our braking burn steers its
      vertical channel at the P64 gate, not at the Apollo guidance's own braking-phase targets (Klumpp 1971, not
      reproduced), so the path between ignition and P64 sags a little lower.
    - Mass at touchdown: 7,516 kg against the flown 7,327 kg (+2.6 %). Heavier, within 4 %: the model burns only
      DPS propellant at the constant 305 s; the LM also spent RCS propellant, and the DPS's Isp falls at part throttle
      (about 285 s at 10 %), both of which leave the real LM lighter.
    - The guidance stays within the DPS's throttleable band (10-60 % of rated) after the throttle-down, as the
      flown descent did; nothing forces this but the gates being the flight's."""
    d = apollo11
    assert d.throttle_down_alt_km == pytest.approx(APOLLO11_THROTTLE_DOWN_ALT_M / 1e3, abs=0.5)
    assert 0.0 < d.final_mass_kg / APOLLO11_LANDING_MASS_KG - 1.0 < 0.04
    assert 0.10 <= d.max_throttle_used <= 0.60
    # the guidance meets the published gates: it hands over 2 s before each, when the gate's altitude is 2 s of
    # its descent rate away (within 10 m: the rate is itself being reached)
    for gate in APOLLO11_GATES:
        i = int(np.searchsorted(d.t_s, gate.t_s - 2.0))
        assert d.altitude_m[i] == pytest.approx(gate.alt_m - 2.0 * gate.vz_m_s, abs=10.0)
    # the touchdown is soft and the path ends on the ground
    assert d.touchdown_speed_m_s < 1.5 and abs(d.altitude_m[-1]) < 1.0


def test_losses_add_up_to_the_velocity_change(apollo11):
    """dv = |v0| - |vf| + gravity loss + steering loss, each integrated on its own (not one from the others)."""
    d = apollo11
    parts = d.ignition_speed_m_s - d.touchdown_speed_m_s + d.gravity_loss_m_s + d.steering_loss_m_s
    assert d.dv_m_s == pytest.approx(parts, abs=0.5)
    assert d.gravity_loss_m_s > 0.0 and d.steering_loss_m_s > 0.0
    # the rocket equation ties the velocity change to the mass only where the thrust is steady; overall the
    # integrated |T|/m and the mass ratio must agree exactly for a constant Isp
    assert d.dv_m_s == pytest.approx(305.0 * 9.80665 * math.log(APOLLO11_PDI_MASS_KG / d.final_mass_kg), rel=1e-6)


def test_sensitivity_to_the_least_certain_inputs(apollo11):
    """The press kit's 9,870 lbf for the DPS against TN D-7143's 92.5 % of 10,500 lbf (9,712 lbf), and the other
    published PDI altitude (49,971 ft), move the result by less than 0.6 % either way: the 2 % comparison does not
    hang on which of the quoted figures is used."""
    d = apollo11
    for kw in ({"rated_thrust_n": 9_870.0 * 4.4482216152605 / 0.925}, {"pdi_alt_km": 49_971.0 * FT_M / 1e3}):
        assert apollo11_descent(**kw).dv_m_s == pytest.approx(d.dv_m_s, rel=0.006)


def test_bad_input_names_the_parameter():
    with pytest.raises(IlrsError, match="--thrust-n.*thrust-to-weight"):
        apollo11_descent(rated_thrust_n=20_000.0)  # T/W 0.75 in lunar gravity
    with pytest.raises(IlrsError, match="--thrust-n.*stops the horizontal"):
        apollo11_descent(mass_kg=8_000.0)  # over-brakes during the fixed-throttle burn
    with pytest.raises(IlrsError, match="--thrust-n.*reaches the ground"):
        apollo11_descent(rated_thrust_n=30_000.0)  # T/W 1.13: cannot shed the speed before the gates
    with pytest.raises(IlrsError, match="--mass-kg"):
        apollo11_descent(mass_kg=-1.0)
    with pytest.raises(IlrsError, match="--isp-s"):
        apollo11_descent(isp_s=100.0)
    lander = Lander(APOLLO11_PDI_MASS_KG, APOLLO11_RATED_THRUST_N, 305.0, 0.10, 0.925)
    with pytest.raises(IlrsError, match="gates"):
        gated_descent(15e3, 1690.0, lander, APOLLO11_GATES[::-1], fixed_throttle_start_s=26.0, throttle_down_s=386.0)
    with pytest.raises(IlrsError, match="gates"):
        gated_descent(
            15e3, 1690.0, lander, (Gate(700.0, 0.0, -0.5, None),), fixed_throttle_start_s=26.0, throttle_down_s=386.0
        )


def test_api_matches_the_model(apollo11):
    from ilrs import api

    figures = api.apollo11_descent()
    assert figures["powered_dv_m_s"] == pytest.approx(apollo11.dv_m_s, rel=1e-9)
    assert figures["published_dv_m_s"] == pytest.approx(APOLLO11_DV_M_S)
    with pytest.raises(IlrsError, match="--thrust-n"):
        api.apollo11_descent(rated_thrust_n=20_000.0)


def test_cli_apollo11_case():
    from ilrs.cli.main import app

    r = CliRunner().invoke(app, ["orbit", "descent", "--case", "apollo11", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["published_dv_m_s"] == pytest.approx(APOLLO11_DV_M_S)
    assert abs(out["dv_difference_pct"]) < 2.0 and out["gravity_loss_m_s"] > 0.0
    r = CliRunner().invoke(app, ["orbit", "descent", "--case", "apollo11", "--thrust-n", "20000"])
    assert r.exit_code == 3 and "--thrust-n" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["orbit", "descent", "--mass-kg", "15000"])
    assert r.exit_code == 3 and "--mass-kg" in r.output and "apollo11" in r.output
    r = CliRunner().invoke(app, ["orbit", "descent", "--case", "luna9"])
    assert r.exit_code == 3 and "--case" in r.output
