"""Powered descent from LLO (gravity turn): limits against the impulsive two-burn descent and a published
delta-v budget."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from ilrs.constants import MOON_RADIUS_M
from ilrs.errors import IlrsError
from ilrs.transport.descent import gravity_turn_descent
from ilrs.transport.forces import MOON_GM_M3_S2


def _impulsive_m_s(llo_alt_km: float) -> float:
    """Two impulses: circular orbit -> ellipse grazing the surface, then cancel the perilune speed."""
    rc, rs = MOON_RADIUS_M + llo_alt_km * 1e3, MOON_RADIUS_M
    v_c = math.sqrt(MOON_GM_M3_S2 / rc)
    v_a = math.sqrt(2 * MOON_GM_M3_S2 * rs / (rc * (rc + rs)))
    v_p = math.sqrt(2 * MOON_GM_M3_S2 * rc / (rs * (rc + rs)))
    return (v_c - v_a) + v_p


def test_high_thrust_tends_to_the_impulsive_descent_and_losses_fall_with_thrust():
    """At T/W 10 the burn is short and near the ground, so the cost is within 1 % of the two-impulse value
    (1.73 km/s from 100 km); the gravity loss falls as the thrust rises (shorter burn)."""
    d10 = gravity_turn_descent(100.0, 10.0)
    assert d10.total_dv_m_s == pytest.approx(_impulsive_m_s(100.0), rel=0.01)
    losses = [gravity_turn_descent(100.0, tw).gravity_loss_m_s for tw in (1.3, 2.0, 4.0)]
    assert losses[0] > losses[1] > losses[2] > 0.0
    d = gravity_turn_descent(100.0, 2.0)
    # the descent ends at rest on the ground
    assert abs(d.altitude_m[-1]) < 50.0 and d.speed_m_s[-1] < 1.0
    # powered = perilune speed + gravity loss (the identity the model is built on)
    r0 = MOON_RADIUS_M + d.ignition_alt_km * 1e3
    rc = MOON_RADIUS_M + 100e3
    v0 = math.sqrt(2 * MOON_GM_M3_S2 * rc / (r0 * (rc + r0)))
    assert d.powered_dv_m_s == pytest.approx(v0 + d.gravity_loss_m_s - d.speed_m_s[-1], abs=1.0)


def test_descent_within_published_budget():
    """LLO (100 km) to the surface: 2.180 km/s including a 5 % reserve in Acta Astronautica 177 (2020)
    351-372, Table 4 (after Mueller 2012), i.e. 2.076 km/s. A gravity turn at lunar T/W 1.3-2 (the Apollo LM's
    descent engine gave ~1.8 at ignition and throttled down) costs 1.85-1.98 km/s: below the published figure,
    which also carries a terminal hover and site redesignation, and within 12 % of it."""
    for tw in (1.3, 1.8):
        d = gravity_turn_descent(100.0, tw)
        assert 0.88 * 2076.0 < d.total_dv_m_s < 2076.0


def test_bad_input_and_cli():
    with pytest.raises(IlrsError, match="--thrust-to-weight"):
        gravity_turn_descent(100.0, 0.9)
    with pytest.raises(IlrsError, match="--llo-alt-km"):
        gravity_turn_descent(5.0, 2.0)
    from ilrs.cli.main import app

    r = CliRunner().invoke(app, ["orbit", "descent", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert 1700.0 < out["total_dv_m_s"] < 2100.0 and out["gravity_loss_m_s"] > 0.0
    r = CliRunner().invoke(app, ["orbit", "descent", "--isp-s", "50"])
    assert r.exit_code == 3 and "--isp-s" in r.output and "Traceback" not in r.output
