"""CZML of a transfer (czml3): read back, its epoch against SPICE's UTC, its samples against the OEM of the same
run, its arrival at the Moon's centre from SPICE (the patched-conic arc is aimed there)."""

from __future__ import annotations

import json

import numpy as np
import spiceypy

from ilrs.services.campaign import transfer_summary


def test_patched_conic_transfer_as_czml(tmp_path):
    from czml3 import Document

    from ilrs.iotools.oem import read_oem

    czml, oem = tmp_path / "transfer.czml", tmp_path / "transfer.oem"
    out = transfer_summary("2030-01-10", 4.5, model="patched-conic", czml_path=czml, oem_path=oem, oem_step_s=3600.0)
    assert out["czml"] == str(czml)
    packets = json.loads(czml.read_text())
    Document(packets=packets)  # czml3's schema accepts what it wrote
    assert packets[0]["id"] == "document" and packets[0]["version"] == "1.0"
    craft = packets[1]
    pos = craft["position"]
    assert pos["referenceFrame"] == "INERTIAL" and pos["interpolationAlgorithm"] == "LAGRANGE"
    et0 = spiceypy.str2et("2030-01-10T00:00:00")
    assert pos["epoch"] == spiceypy.et2utc(et0, "ISOC", 3) + "Z"
    samples = np.asarray(pos["cartesian"]).reshape(-1, 4)
    t, xyz = samples[:, 0], samples[:, 1:]
    assert t[0] == 0.0 and np.isclose(t[-1], 4.5 * 86400.0) and np.all(np.diff(t) > 0)
    back = read_oem(oem)
    n = len(back["epochs"])
    assert np.allclose(t[:n], np.arange(n) * 3600.0)
    assert np.allclose(xyz[:n] / 1e3, back["positions_km"], rtol=0, atol=1e-3)  # the OEM's km to the metre
    moon_km, _ = spiceypy.spkpos("MOON", et0 + t[-1], "J2000", "NONE", "EARTH")
    assert np.linalg.norm(xyz[-1] / 1e3 - moon_km) < 1.0  # the Lambert arc ends at the Moon's centre [km]
    assert craft["availability"].split("/")[1].startswith(spiceypy.et2utc(et0 + t[-1], "ISOC", 0)[:16])


def test_cli_transfer_czml(tmp_path):
    """``ilrs transfer --czml`` writes the file the JSON names."""
    from tests.clirunner import invoke

    out = tmp_path / "t.czml"
    r = invoke(
        "transfer", "--model", "patched-conic", "--depart", "2030-01-10", "--tof-days", 4.5, "--czml", out, "--json"
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["czml"] == str(out) and json.loads(out.read_text())[1]["id"] == "ILRS-TRANSFER"
