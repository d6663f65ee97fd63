"""CZML (Cesium's scene format, through czml3) for a trajectory about the Earth, so that it plays in Cesium.

Positions are sampled Cartesian coordinates in metres in Cesium's ``INERTIAL`` frame (the ICRF, Earth-centred; J2000
/EME2000 differs from it by milliarcseconds, invisible in a scene) at offsets in seconds from an epoch given in
UTC. Cesium counts those offsets in SI seconds (its time line runs on TAI, leap seconds included), which is what
differences of TDB ephemeris times are, within 2 ms.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ilrs.iotools.atomic import atomic_path


def write_czml(
    path: str | os.PathLike[str],
    et: np.ndarray,
    positions_m: np.ndarray,
    *,
    epoch_utc: str,
    end_utc: str,
    object_id: str,
    name: str,
    description: str = "",
    color_rgba: tuple[int, int, int, int] = (255, 165, 0, 255),
) -> Path:
    """Write a CZML document with one object flying ``positions_m`` (n, 3) [m], Earth-centred inertial, at the
    ephemeris times ``et`` [s TDB]; ``epoch_utc``/``end_utc`` are the UTC of the first and last sample (ISO 8601).
    Returns the path (written atomically)."""
    from czml3 import Document, Packet
    from czml3.enums import ClockRanges, ClockSteps, InterpolationAlgorithms
    from czml3.properties import Clock, Color, PolylineMaterial, Position, SolidColorMaterial
    from czml3.properties import Path as CzmlPath
    from czml3.types import TimeInterval

    et = np.asarray(et, dtype=float)
    xyz = np.asarray(positions_m, dtype=float)
    if xyz.shape != (et.size, 3) or et.size < 2 or np.any(np.diff(et) <= 0):
        raise ValueError("expected increasing times (n >= 2) and positions of shape (n, 3)")
    samples = np.column_stack([et - et[0], xyz]).ravel().tolist()
    interval = TimeInterval(start=epoch_utc, end=end_utc)
    doc = Document(
        packets=[
            Packet(
                id="document",
                name=name,
                version="1.0",
                clock=Clock(
                    currentTime=epoch_utc,
                    multiplier=3600,
                    range=ClockRanges.LOOP_STOP,
                    step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER,
                ),
            ),
            Packet(
                id=object_id,
                name=name,
                description=description or None,
                availability=interval,
                # through model_validate: the sampling fields come from a mixin that mypy's pydantic plugin misses
                position=Position.model_validate(
                    {
                        "epoch": epoch_utc,
                        "referenceFrame": "INERTIAL",
                        "cartesian": samples,
                        "interpolationAlgorithm": InterpolationAlgorithms.LAGRANGE,
                        "interpolationDegree": 5,
                    }
                ),
                path=CzmlPath(
                    width=2,
                    resolution=float(np.median(np.diff(et))),
                    material=PolylineMaterial(solidColor=SolidColorMaterial(color=Color(rgba=list(color_rgba)))),
                ),
            ),
        ]
    )
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(doc.dumps(), encoding="utf-8")
    return path
