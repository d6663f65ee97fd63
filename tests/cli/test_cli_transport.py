"""``ilrs transfer`` and ``ilrs orbit``: JSON contracts, OEM export readable back, bad input."""

from __future__ import annotations

import json

import pytest

from tests.clirunner import assert_ok, assert_user_error, invoke


def test_transfer_json_and_oem(tmp_path):
    """Patched-conic TLI from 200 km is ~3.1 km/s and LOI into 100 km LLO ~0.8-0.95 km/s (Acta Astronautica 2020
    Table 4 without its 5 % reserve: 3.12 and 0.91 km/s); the OEM arc starts at 200 km altitude."""
    from ilrs.iotools.oem import read_oem

    oem = tmp_path / "t.oem"
    r = assert_ok(invoke("transfer", "--depart", "2030-06-20T09:00", "--tof-days", "4.75", "--json", "--oem", oem))
    out = json.loads(r.stdout)
    assert 3050 < out["tli_dv_m_s"] < 3200 and 780 < out["loi_dv_m_s"] < 1000
    data = read_oem(oem)
    r0 = float((data["positions_km"][0] ** 2).sum() ** 0.5)
    assert r0 == pytest.approx(6378.1366 + 200.0, abs=1.0)
    assert data["metadata"]["REF_FRAME"] == "EME2000"


def test_orbit_commands():
    r = assert_ok(invoke("orbit", "nrho", "--json"))
    assert abs(json.loads(r.stdout)["period_days"] - 6.56) < 0.02
    r = assert_ok(invoke("orbit", "relay", "--json"))
    assert abs(json.loads(r.stdout)["period_h"] - 24.0) < 0.5


def test_transfer_bad_input():
    assert_user_error(invoke("transfer", "--tof-days", "0.01"), "--tof-days")
