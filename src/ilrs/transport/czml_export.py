"""Trajectories as CZML: Earth- or Moon-centred states moved to the Earth-centred inertial frame that
Cesium plays (:func:`ilrs.iotools.czml.write_czml`), with the Moon's geometric position from DE440s."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import spiceypy

from ilrs.core.arrays import FloatArray
from ilrs.ephem.kernels import SPICE_LOCK, ensure_loaded
from ilrs.iotools.czml import write_czml

#: Path colours (RGBA): transfers about the Earth orange, lunar orbits cyan.
COLOURS = {"EARTH": (255, 165, 0, 255), "MOON": (0, 200, 255, 255)}
#: At most this many samples in a document: Cesium interpolates between them (Lagrange, degree 5).
MAX_SAMPLES = 20_000


def moon_position_m(et: FloatArray) -> FloatArray:
    """The Moon's geometric position relative to the Earth in J2000 [m], shape (n, 3)."""
    ensure_loaded()
    with SPICE_LOCK:
        km, _ = spiceypy.spkpos("MOON", np.asarray(et, dtype=float).tolist(), "J2000", "NONE", "EARTH")
    return np.asarray(km, dtype=float).reshape(-1, 3) * 1e3


def flight_czml(
    path: str | os.PathLike[str],
    et: FloatArray,
    positions_m: FloatArray,
    *,
    centre: str,
    object_id: str,
    name: str,
    description: str,
) -> Path:
    """Write a trajectory (positions [m] about ``centre``, "EARTH" or "MOON", J2000, at ephemeris times ``et``
    [s TDB]) as CZML, moved to the Earth's centre and thinned to at most :data:`MAX_SAMPLES` samples (the first
    and last kept)."""
    from ilrs.ephem.time import et_to_utc

    et = np.asarray(et, dtype=float)
    r = np.asarray(positions_m, dtype=float)
    stride = max(1, -(-et.size // MAX_SAMPLES))
    keep = np.unique(np.r_[np.arange(0, et.size, stride), et.size - 1])
    et, r = et[keep], r[keep]
    if centre == "MOON":
        r = r + moon_position_m(et)
    elif centre != "EARTH":
        raise ValueError(f"centre must be EARTH or MOON, not {centre!r}")
    utc = et_to_utc(np.array([et[0], et[-1]])).astype("datetime64[ms]")
    return write_czml(
        path,
        et,
        r,
        epoch_utc=f"{utc[0]}Z",
        end_utc=f"{utc[1]}Z",
        object_id=object_id,
        name=name,
        description=description,
        color_rgba=COLOURS[centre],
    )
