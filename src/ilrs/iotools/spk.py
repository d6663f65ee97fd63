"""SPICE SPK files of type 13 (Hermite interpolation of unequally spaced states), written with ``spkw13``.

Type 13 stores discrete states (position and velocity) and interpolates each component with a Hermite
polynomial through a window of ``(degree + 1) / 2`` states (NAIF, "SPK Required Reading", section "Type 13").
Files are written through a temporary name and renamed (``spkopn`` refuses an existing file, and a reader must
never see a half-written kernel); the comment area carries free text (``dafac``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import spiceypy

from ilrs.ephem.kernels import SPICE_LOCK
from ilrs.errors import IlrsError
from ilrs.iotools.atomic import atomic_path

#: Default Hermite degree: 7 uses 4 states per window (odd degrees only; SPICE allows up to 27).
DEFAULT_DEGREE = 7
#: Characters per comment line in a DAF comment area (SPICE limit is 1000; keep lines readable).
_COMMENT_WIDTH = 80


def write_spk13(
    path: str | os.PathLike[str],
    et,
    positions_km,
    velocities_km_s,
    *,
    body: int,
    center: int,
    frame: str = "J2000",
    segment_id: str = "ILRS",
    degree: int = DEFAULT_DEGREE,
    comments: list[str] | tuple[str, ...] = (),
) -> Path:
    """Write one type-13 segment of ``body`` relative to ``center`` atomically.

    Parameters
    ----------
    path : path-like
    et : array_like, shape (n,)
        Epochs [s past J2000 TDB], strictly increasing.
    positions_km, velocities_km_s : array_like, shape (n, 3)
        States in ``frame`` [km], [km/s] (SPICE's units).
    body, center : int
        NAIF IDs (negative for spacecraft).
    degree : int
        Odd Hermite degree, 1..27, with n >= (degree + 1) / 2.
    comments : sequence of str
        Lines for the file's comment area.

    Returns
    -------
    Path
    """
    et = np.ascontiguousarray(np.asarray(et, dtype=float).ravel())
    pos = np.asarray(positions_km, dtype=float)
    vel = np.asarray(velocities_km_s, dtype=float)
    n = et.size
    if pos.shape != (n, 3) or vel.shape != (n, 3):
        raise IlrsError("SPK needs (n, 3) positions and velocities", hint=f"got {pos.shape}, {vel.shape}, {n} epochs")
    if degree % 2 != 1 or not 1 <= degree <= 27 or n < (degree + 1) // 2:
        raise IlrsError(f"type-13 degree {degree} is invalid for {n} states", hint="odd degree in 1..27")
    if not (np.isfinite(et).all() and np.isfinite(pos).all() and np.isfinite(vel).all()):
        raise IlrsError("SPK states must be finite")
    if np.any(np.diff(et) <= 0):
        raise IlrsError("SPK epochs must increase strictly", hint="sort the states and drop duplicates")
    if len(segment_id) > 40:
        raise IlrsError("SPK segment id is longer than 40 characters", hint=segment_id)
    states = np.ascontiguousarray(np.hstack([pos, vel]))
    lines = [c[i : i + _COMMENT_WIDTH] for c in comments for i in range(0, max(len(c), 1), _COMMENT_WIDTH)]
    with atomic_path(path) as tmp:
        tmp.unlink()  # spkopn creates the file itself
        with SPICE_LOCK:
            handle = spiceypy.spkopn(str(tmp), "ILRS", 1024 * max(1, len(lines) // 10 + 1))
            try:
                spiceypy.spkw13(
                    handle,
                    int(body),
                    int(center),
                    frame,
                    float(et[0]),
                    float(et[-1]),
                    segment_id,
                    degree,
                    n,
                    states,
                    et,
                )
                if lines:
                    spiceypy.dafac(handle, lines)
            finally:
                spiceypy.spkcls(handle)
    return Path(path)
