"""The relay and the NRHO as CZML for Cesium: every sample, moved to the Earth-centred frame, is where SPICE puts
the same run's SPK (relay or NRHO relative to the Moon, chained by SPICE with DE440s's Moon relative to the
Earth), at the sample's time read back from the CZML's UTC epoch and offset."""

from __future__ import annotations

import json

import numpy as np
import pytest
import spiceypy

from ilrs.ephem.kernels import SPICE_LOCK, ensure_loaded
from tests.clirunner import assert_ok, invoke


def _samples(path):
    doc = json.loads(path.read_text())
    assert doc[0]["id"] == "document" and doc[0]["version"] == "1.0"
    obj = doc[1]
    pos = obj["position"]
    assert pos["referenceFrame"] == "INERTIAL"
    s = np.asarray(pos["cartesian"], dtype=float).reshape(-1, 4)
    return obj, pos["epoch"], s[:, 0], s[:, 1:]


@pytest.mark.parametrize(
    "args, naif_id, object_id",
    [
        (["orbit", "relay", "--days", 5, "--min-perilune-km", 100], -990002, "ILRS-RELAY"),
        (["orbit", "nrho", "--revs", 10], -990003, "ILRS-NRHO"),
    ],
)
def test_czml_samples_are_where_spice_puts_the_spk(tmp_path, args, naif_id, object_id):
    czml, spk = tmp_path / "o.czml", tmp_path / "o.bsp"
    out = json.loads(assert_ok(invoke(*args, "--czml", czml, "--spk", spk, "--json")).stdout)
    assert str(czml) in json.dumps(out)
    obj, epoch, offsets, xyz = _samples(czml)
    assert obj["id"] == object_id and 2 <= offsets.size <= 20_000
    ensure_loaded()
    with SPICE_LOCK:
        et0 = spiceypy.str2et(epoch.rstrip("Z"))  # ISO UTC (SPICE reads "T" dates without the zone letter)
        pick = np.unique(np.linspace(0, offsets.size - 1, 40).astype(int))
        spiceypy.furnsh(str(spk))
        try:
            ref = np.array([spiceypy.spkpos(str(naif_id), et0 + offsets[k], "J2000", "NONE", "EARTH")[0] for k in pick])
        finally:
            spiceypy.unload(str(spk))
    # the CZML epoch is UTC to the millisecond: up to 0.5 ms of time, i.e. < 1 m at the < 2 km/s of these orbits
    err = np.linalg.norm(xyz[pick] - ref * 1e3, axis=1)
    assert err.max() < 2.0, err.max()
    # and they are about the Moon, ~384,000 km from the Earth's centre
    assert np.all(np.abs(np.linalg.norm(xyz, axis=1) / 1e3 - 384_000) < 60_000)
