"""PDS4 map products through GDAL's PDS4 driver (inside rasterio): an XML label (Cartography discipline, IAU
sphere and projection from the GeoTIFF's CRS) and its raw image, written from a GeoTIFF.

GDAL fills its default label template (``pds4_template.xml``) and the variables given here; the bounding
coordinates are computed from the whole grid's edges, because GDAL's own (from the four corners) are wrong for a
polar map that holds the pole.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from ilrs.errors import IlrsError


def bounding_degrees(projection, bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """(west, south, east, north) [deg, east-positive 0..360 when the pole is on the map] of a map's extent
    (``bounds`` = xmin, xmax, ymin, ymax in the projection's units), from points all along its edges."""
    xmin, xmax, ymin, ymax = bounds
    edge = np.linspace(0.0, 1.0, 201)
    xs = np.concatenate(
        [xmin + (xmax - xmin) * edge, np.full(edge.size, xmax), xmin + (xmax - xmin) * edge, np.full(edge.size, xmin)]
    )
    ys = np.concatenate(
        [np.full(edge.size, ymin), ymin + (ymax - ymin) * edge, np.full(edge.size, ymax), ymin + (ymax - ymin) * edge]
    )
    lat, lon = (np.asarray(v, dtype=float) for v in projection.inverse(xs, ys))
    pole = getattr(projection, "polar_stereographic_south", False) and xmin <= 0 <= xmax and ymin <= 0 <= ymax
    if pole:
        return 0.0, -90.0, 360.0, float(lat.max())
    lon = np.mod(lon, 360.0)
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def write_pds4(
    label: str | os.PathLike[str],
    geotiff: str | os.PathLike[str],
    *,
    title: str,
    logical_identifier: str,
    bounds_deg: tuple[float, float, float, float] | None = None,
) -> Path:
    """Write ``label`` (``.xml``) and its image (``.img`` beside it) from a GeoTIFF; both appear together (written in
    a temporary directory, then moved, the label last). ``logical_identifier`` is the product's PDS4 LID
    (``urn:...``); ``bounds_deg`` (west, south, east, north) overrides GDAL's bounding coordinates."""
    import rasterio
    import rasterio.shutil

    label = Path(label)
    if label.suffix.lower() != ".xml":
        raise IlrsError("a PDS4 label is an .xml file", source=str(label), hint="name the label e.g. map.xml")
    if not label.parent.is_dir():
        raise IlrsError("the directory to write into does not exist", source=str(label.parent))
    # rasterio upper-cases the values of creation options, so the label's text (a LID must be lower case) goes in
    # as tokens that are replaced, XML-escaped, in the written label
    texts = {
        "TITLE": title,
        "LOGICAL_IDENTIFIER": logical_identifier,
        "INVESTIGATION_AREA_NAME": "International Lunar Research Station planning (ilrs)",
        "INVESTIGATION_AREA_LID_REFERENCE": "urn:nasa:pds:context:investigation:mission.ilrs",
        "OBSERVING_SYSTEM_NAME": "ilrs, derived from LRO LOLA topography",
    }
    tokens = {f"ILRSPDS4TOKEN{i}X": value for i, value in enumerate(texts.values())}
    options = {
        "IMAGE_FORMAT": "RAW",
        "LATITUDE_TYPE": "Planetocentric",
        "LONGITUDE_DIRECTION": "Positive East",
        "VAR_TARGET": "Moon",
        "VAR_TARGET_TYPE": "Satellite",
        **{f"VAR_{name}": token for name, token in zip(texts, tokens, strict=True)},
    }
    if bounds_deg is not None:
        options["BOUNDING_DEGREES"] = ",".join(f"{v:.10g}" for v in bounds_deg)
    with tempfile.TemporaryDirectory(dir=label.parent, prefix=f".{label.stem}.") as tmp:
        staged = Path(tmp) / label.name
        with rasterio.open(geotiff) as src:
            rasterio.shutil.copy(src, staged, driver="PDS4", **options)
        xml = staged.read_text(encoding="utf-8")
        for token, value in tokens.items():
            xml = xml.replace(token, escape(value))
        staged.write_text(xml, encoding="utf-8")
        os.replace(staged.with_suffix(".img"), label.with_suffix(".img"))
        shutil.move(str(staged), label)
    return label
