"""Map products as files: one GeoTIFF (IAU_2015:30135) and one PNG (colour bar, site marks) per layer."""

from __future__ import annotations

from pathlib import Path

from ilrs.iotools.atomic import atomic_write_bytes
from ilrs.iotools.geotiff import write_geotiff
from ilrs.reports.figures import extent_km, map_png, site_marks
from ilrs.services.site_maps import LAYERS, SiteMaps
from ilrs.terrain.sites import SITES


def write_map_files(out: str | Path, maps: SiteMaps) -> list[Path]:
    """Write every layer of ``maps`` to ``out`` (created if needed); return the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    extent = extent_km(maps.dem)
    marks = site_marks(maps.dem, SITES)
    written = []
    for name, (title, unit) in LAYERS.items():
        written.append(write_geotiff(out / f"{name}.tif", maps.layers[name], grid=maps.dem, band_names=[name]))
        written.append(
            atomic_write_bytes(out / f"{name}.png", map_png(maps.layers[name], extent, title, unit, name, marks))
        )
    return written
