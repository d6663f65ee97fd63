"""Orekit against SPICE on one trajectory: Orekit parses an OEM (strict CCSDS) and interpolates between its
states; SPICE interpolates the SPK written from the same states. Shared by the OEM tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import spiceypy

from ilrs.ephem.kernels import SPICE_LOCK
from ilrs.iotools.oem import read_oem


def parse_oem(oem_path: Path) -> Any:
    """The OEM as Orekit's strict CCSDS parser reads it."""
    from java.io import File
    from org.orekit.data import DataSource
    from org.orekit.files.ccsds.ndm import ParserBuilder

    return ParserBuilder().buildOemParser().parseMessage(DataSource(File(str(oem_path))))


def orekit_minus_spice_m(
    oem: Any, oem_path: Path, spk_path: Path, name: str, naif: str, centre: str, samples: int, shift_s: float
) -> np.ndarray:
    """|Orekit's position - SPICE's| [m] at ``samples - 2`` epochs spread over the span and shifted ``shift_s``
    off the nodes, Orekit propagating object ``name`` of the parsed ``oem``, SPICE reading ``naif`` relative to
    ``centre`` from the SPK."""
    from org.orekit.time import AbsoluteDate, TimeScalesFactory

    ours = read_oem(oem_path)
    prop = oem.getSatellites().get(name).getPropagator()
    tdb = TimeScalesFactory.getTDB()
    t0 = AbsoluteDate(ours["epochs"][0], tdb)
    with SPICE_LOCK:
        et0 = spiceypy.str2et(ours["epochs"][0].replace("T", " ") + " TDB")
    span = float(AbsoluteDate(ours["epochs"][-1], tdb).durationFrom(t0))
    offsets = np.linspace(0.0, span, samples)[1:-1] + shift_s
    offsets = offsets[offsets < span]
    with SPICE_LOCK:
        spiceypy.furnsh(str(spk_path))
        try:
            ref = np.array([spiceypy.spkezr(naif, et0 + dt, "J2000", "NONE", centre)[0][:3] for dt in offsets])
        finally:
            spiceypy.unload(str(spk_path))
    got = []
    for dt in offsets:
        p = prop.propagate(t0.shiftedBy(float(dt))).getPVCoordinates().getPosition()
        got.append([p.getX(), p.getY(), p.getZ()])
    return np.linalg.norm(np.array(got) - ref * 1e3, axis=1)
