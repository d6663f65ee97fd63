"""GeoTIFF DEMs through rasterio, for any CRS that pyproj knows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ilrs.errors import IlrsError
from ilrs.terrain.dem import Dem
from ilrs.terrain.projection import PyprojProjection, SouthPolarStereographic

#: A planetary body whose CRS radius is within this of the Moon's is taken as lunar [m].
_LUNAR_RADIUS_RANGE_M = (1_730_000.0, 1_745_000.0)


def _projection_from_crs(crs_wkt: str, path: Path):
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_wkt(crs_wkt)
    except CRSError as exc:
        raise IlrsError(f"unknown or malformed CRS ({exc})", source=str(path),
                        hint="use a GeoTIFF whose CRS pyproj can read, e.g. IAU_2015:30135") from exc
    radius = crs.ellipsoid.semi_major_metre if crs.ellipsoid else float("nan")
    if not (_LUNAR_RADIUS_RANGE_M[0] <= radius <= _LUNAR_RADIUS_RANGE_M[1]):
        raise IlrsError(f"CRS {crs.name!r} is not on the Moon (semi-major axis {radius:.0f} m)", source=str(path),
                        hint="ilrs needs lunar DEMs; reproject to a lunar CRS such as IAU_2015:30135")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # to_dict is only used to recognise the polar map
        params = crs.to_dict()
    if (
        params.get("proj") == "stere"
        and abs(float(params.get("lat_0", 0.0)) + 90.0) < 1e-9
        and float(params.get("lon_0", 0.0)) == 0.0
        and float(params.get("k", params.get("k_0", 1.0))) == 1.0
        and float(params.get("x_0", 0.0)) == 0.0
        and float(params.get("y_0", 0.0)) == 0.0
        and abs(float(params.get("lat_ts", -90.0)) + 90.0) < 1e-9
        and crs.ellipsoid.inverse_flattening in (0.0, float("inf"))
    ):
        return SouthPolarStereographic(radius_m=radius)
    if not crs.is_projected:
        raise IlrsError(f"CRS {crs.name!r} is geographic; ilrs reads projected GeoTIFFs", source=str(path),
                        hint="reproject to IAU_2015:30135 (south polar stereographic)")
    return PyprojProjection(crs, crs.geodetic_crs)


def read_geotiff(path: str | Path, name: str | None = None) -> Dem:
    """Read band 1 of a GeoTIFF DEM of heights above the lunar sphere [m]; no-data becomes NaN."""
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    if not path.exists():
        raise IlrsError("file not found", source=str(path), hint="check the path")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise IlrsError("GeoTIFF has no CRS", source=str(path),
                                hint="assign one, e.g. gdal_edit.py -a_srs IAU_2015:30135")
            t = src.transform
            if t.b != 0.0 or t.d != 0.0:
                raise IlrsError("rotated or sheared grids are not supported", source=str(path),
                                hint="warp to a north-up grid")
            heights = src.read(1, masked=True).astype(np.float64)
            crs_wkt = src.crs.to_wkt()
    except IlrsError:
        raise
    except (RasterioIOError, OSError, ValueError) as exc:
        raise IlrsError(f"cannot read raster ({exc})", source=str(path),
                        hint="the file is corrupt, truncated or not a GeoTIFF") from exc
    z = np.ma.filled(heights, np.nan)
    if not np.isfinite(z).any():
        raise IlrsError("DEM holds no valid height (every cell is no-data or NaN)", source=str(path),
                        hint="check the no-data value and the file")
    projection = _projection_from_crs(crs_wkt, path)
    return Dem(z, t.c + t.a / 2, t.f + t.e / 2, t.a, t.e, projection, name or path.stem, str(path))
