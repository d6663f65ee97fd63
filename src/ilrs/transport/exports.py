"""A flown trajectory written in the field's formats at once: CCSDS OEM (TDB), SPICE SPK type 13 and CZML for
Cesium, from the same states and comments (the transfer, the relay and the NRHO all export this way)."""

from __future__ import annotations

import os
from typing import Any

from ilrs.core.arrays import FloatArray
from ilrs.iotools.oem import et_to_tdb_iso, write_oem
from ilrs.iotools.spk import write_spk13

#: NAIF ids of the centres a flight may be given about.
CENTRES = {"EARTH": 399, "MOON": 301}


def export_flight(
    out: dict[str, Any],
    et: FloatArray,
    state_m: FloatArray,
    *,
    centre: str,
    object_name: str,
    object_id: str,
    naif_id: int,
    segment_id: str,
    title: str,
    comments: list[str],
    oem_path: str | os.PathLike[str] | None = None,
    spk_path: str | os.PathLike[str] | None = None,
    czml_path: str | os.PathLike[str] | None = None,
) -> None:
    """Write the flight (ephemeris times ``et`` [s TDB], states (n, 6) [m, m/s] about ``centre`` in J2000) to
    each path given, and record the paths in ``out`` (``oem``, ``spk`` with ``spk_naif_id``, ``czml``)."""
    if oem_path is not None:
        write_oem(
            oem_path,
            et_to_tdb_iso(et),
            state_m[:, :3] / 1e3,
            state_m[:, 3:] / 1e3,
            object_name=object_name,
            object_id=object_id,
            center_name=centre,
            ref_frame="EME2000",
            time_system="TDB",
            comments=comments,
            interpolation="HERMITE",
            interpolation_degree=7,
        )
        out["oem"] = str(oem_path)
    if spk_path is not None:
        write_spk13(
            spk_path,
            et,
            state_m[:, :3] / 1e3,
            state_m[:, 3:] / 1e3,
            body=naif_id,
            center=CENTRES[centre],
            frame="J2000",
            segment_id=segment_id,
            comments=comments,
        )
        out["spk"] = str(spk_path)
        out["spk_naif_id"] = naif_id
    if czml_path is not None:
        from ilrs.transport.czml_export import flight_czml

        out["czml"] = str(
            flight_czml(
                czml_path, et, state_m[:, :3], centre=centre, object_id=object_name, name=title,
                description=" ".join(comments),
            )
        )  # fmt: skip
