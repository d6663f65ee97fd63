"""Horizon maps of a DEM with its far field, cached on disk: the input of every illumination map."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import farfield
from ilrs.core import horizon as hz
from ilrs.core._jit import threads
from ilrs.errors import IlrsError
from ilrs.iotools import horizon_codec
from ilrs.iotools.cache import file_sha256
from ilrs.services.cache import dem_key, product_cache
from ilrs.terrain.dem import Dem
from ilrs.terrain.profile import DEFAULT_MAX_DISTANCE_M

log = logging.getLogger(__name__)

#: Bump when the horizon algorithm changes, so cached maps are recomputed.
HORIZON_ALGORITHM_VERSION = 6
#: Far-field observers every this many cells, and the far-field grid step [m].
FAR_STRIDE = 16
FAR_STEP_M = 1000.0
#: Far terrain is merged when it lies at least this many observer spacings away (see merge_far_field).
FAR_TRUST_CELLS = 4


@dataclass(frozen=True)
class HorizonMap:
    """Horizons of every cell of ``dem``: ``stored[k, row, col]`` in 0.01 deg at grid azimuth ``k * 360/n``.

    Grid azimuths run from the map's +y axis toward +x; on the south polar stereographic map the geographic
    azimuth is the grid azimuth minus the east longitude.
    """

    dem: Dem
    height_m: float
    stored: np.ndarray
    #: the values' step [deg] and their largest rounding error against the exact sweep [deg]: 0.01 / 0.005 as
    #: computed, 0.03 / 0.015 as :func:`horizon_map` serves them (quantised for the cache, docs/horizons.md)
    quant_step_deg: float = hz.HORIZON_SCALE_DEG
    quant_max_error_deg: float = hz.HORIZON_SCALE_DEG / 2

    @property
    def n_azimuths(self) -> int:
        return int(self.stored.shape[0])


def _check_polar(dem: Dem) -> None:
    if not dem.projection.polar_stereographic_south:
        raise IlrsError(
            "horizon maps need a south polar stereographic DEM",
            source=dem.source or dem.name,
            hint="reproject to IAU_2015:30135",
        )
    if abs(abs(dem.dx) - abs(dem.dy)) > 1e-6 * abs(dem.dx):
        raise IlrsError("horizon maps need square cells", source=dem.source)


def fill_holes(dem: Dem, far_dem: Dem | None) -> tuple[Dem, int]:
    """The DEM with its no-data cells filled from the coarser DEM (bilinear), and how many were filled.

    Without a coarser DEM, or where it has no data either, holes are an error: a horizon through a hole would
    be silently wrong.
    """
    holes = ~np.isfinite(dem.heights_m)
    n = int(holes.sum())
    if n == 0:
        return dem, 0
    filled = dem.heights_m.copy()
    if far_dem is not None:
        lat, lon = dem.projection.inverse(dem.x_coords()[np.nonzero(holes)[1]], dem.y_coords()[np.nonzero(holes)[0]])
        filled[holes] = far_dem.sample_latlon(lat, lon)
    if not np.isfinite(filled).all():
        left = int((~np.isfinite(filled)).sum())
        raise IlrsError(
            f"the DEM has {left} no-data cells that no coarser DEM covers; horizon maps need a complete grid",
            source=dem.source or dem.name,
            hint="give --far-dem with a DEM that covers the holes, or crop to a complete region",
        )
    return Dem(filled, dem.x0, dem.y0, dem.dx, dem.dy, dem.projection, dem.name, dem.source), n


def _far_field_grid(far_dem: Dem, half_extent_m: float, step_m: float):
    """Heights of the far-field DEM resampled onto a coarse south polar stereographic grid."""
    from ilrs.terrain.projection import SouthPolarStereographic

    n = int(np.ceil(2 * half_extent_m / step_m)) + 1
    x0 = -half_extent_m
    y0 = half_extent_m
    xs = x0 + step_m * np.arange(n)
    ys = y0 - step_m * np.arange(n)
    xx, yy = np.meshgrid(xs, ys)
    lat, lon = SouthPolarStereographic(MOON_RADIUS_M).inverse(xx, yy)
    return far_dem.sample_latlon(lat, lon), x0, y0


def compute_horizon_map(
    dem: Dem,
    height_m: float,
    n_azimuths: int = 360,
    far_dem: Dem | None = None,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Horizon map (int16, 0.01 deg, shape (n_az, rows, cols)) with the far field from ``far_dem``."""
    _check_polar(dem)
    dem, _ = fill_holes(dem, far_dem)
    betas = np.radians(np.arange(n_azimuths) * (360.0 / n_azimuths))
    stored = np.empty((n_azimuths,) + dem.shape, dtype=np.int16)
    # the sweep, in chunks of azimuths so a progress bar can move; each chunk a multiple of the worker threads,
    # which share a chunk's azimuths (an odd chunk on two threads would leave one idle for a sixteenth of the time)
    workers = threads()
    chunk = workers * max(1, round(n_azimuths / (24 * workers)))
    for a0 in range(0, n_azimuths, chunk):
        hz.horizon_sweep(
            dem.heights_m,
            abs(dem.dx),
            dem.x0,
            dem.y0,
            dem.dx,
            dem.dy,
            betas[a0 : a0 + chunk],
            height_m,
            MOON_RADIUS_M,
            True,
            out=stored[a0 : a0 + chunk],  # written in place: no chunk copies
        )
        if progress:
            progress(0.85 * min(1.0, (a0 + chunk) / n_azimuths))
    if far_dem is not None:
        xmin, xmax, ymin, ymax = dem.bounds
        half = max(abs(xmin), abs(xmax), abs(ymin), abs(ymax)) + DEFAULT_MAX_DISTANCE_M
        ext_z, ex0, ey0 = _far_field_grid(far_dem, half, FAR_STEP_M)
        rows, cols = dem.shape
        cr = int(np.ceil((rows - 1) / FAR_STRIDE)) + 1
        cc = int(np.ceil((cols - 1) / FAR_STRIDE)) + 1
        ri = np.arange(cr) * FAR_STRIDE
        ci = np.arange(cc) * FAR_STRIDE
        oz = dem.heights_m[np.minimum(ri, rows - 1)][:, np.minimum(ci, cols - 1)] + height_m
        ox, oy = np.meshgrid(dem.x0 + ci * dem.dx, dem.y0 + ri * dem.dy)
        tan, dist = farfield.far_field_march(
            ext_z,
            ex0,
            ey0,
            FAR_STEP_M,
            ox,
            oy,
            oz,
            betas,
            dem.bounds,
            DEFAULT_MAX_DISTANCE_M,
            FAR_STEP_M,
            MOON_RADIUS_M,
        )
        if progress:
            progress(0.95)
        farfield.merge_far_field(
            stored,
            dem.heights_m,
            height_m,
            tan.reshape(n_azimuths, cr, cc),
            dist.reshape(n_azimuths, cr, cc),
            oz,
            FAR_STRIDE,
            FAR_TRUST_CELLS * FAR_STRIDE * abs(dem.dx),
        )
    if progress:
        progress(1.0)
    return stored


def horizon_map(
    dem: Dem,
    height_m: float,
    n_azimuths: int = 360,
    far_dem: Dem | None = None,
    progress: Callable[[float], None] | None = None,
) -> HorizonMap:
    """:func:`compute_horizon_map` quantised to 0.03 deg, cached on disk by the DEM files' contents and the
    parameters.

    The horizons are rounded to multiples of :data:`horizon_codec.QUANT_STEP_DEG` (at most
    :data:`horizon_codec.QUANT_MAX_ERROR_DEG` = 0.01 deg from the sweep's 0.01 deg values) whether they were just
    computed or read back, so every product is the same on a cold and a warm run; the cache entry is the cube
    coded by :mod:`ilrs.iotools.horizon_codec` (about 0.28 GB for the 240 m map instead of 1.7 GB).
    """
    cache = product_cache()
    # the kernel's own source is part of the key: any change to the algorithm recomputes cached maps
    key = cache.key(
        kind="horizon_map",
        v=HORIZON_ALGORITHM_VERSION,
        code=[file_sha256(str(m.__file__)) for m in (hz, farfield)],
        dem=dem_key(dem),
        name=dem.name,
        shape=list(dem.shape),
        x0=float(dem.x0),
        y0=float(dem.y0),
        height=float(height_m),
        n=int(n_azimuths),
        far=dem_key(far_dem) if far_dem is not None else None,
        near=hz.DEFAULT_NEAR_STEPS,
        codec=horizon_codec.CODEC_VERSION,
    )
    computed: dict[str, np.ndarray] = {}

    def compute() -> dict[str, np.ndarray]:
        cube = compute_horizon_map(dem, height_m, n_azimuths, far_dem, progress)
        computed["stored"] = horizon_codec.quantise(cube, out=cube)
        return horizon_codec.encode(cube, workers=threads())

    stored = None
    for _attempt in range(2):
        arrays = cache.get_or_compute("horizon_map", key, compute)
        stored = computed.get("stored")
        if stored is not None:
            break
        try:
            stored = horizon_codec.decode(arrays, workers=threads())
            break
        except (ValueError, zlib.error) as exc:  # an entry that passed the CRC but does not decode: recompute
            log.warning("cached horizon map %s does not decode (%s); recomputing it", key, exc)
            with suppress(FileNotFoundError):
                cache.path("horizon_map", key).unlink()
    assert stored is not None
    stored.flags.writeable = False
    if progress:
        progress(1.0)
    return HorizonMap(
        dem,
        float(height_m),
        stored,
        horizon_codec.QUANT_STEP_DEG,
        horizon_codec.QUANT_MAX_ERROR_DEG + hz.HORIZON_SCALE_DEG / 2,
    )


def save_horizon_map(hmap: HorizonMap, path) -> None:
    """Write a horizon map as NetCDF (int16 hundredths of a degree, CF-packed), atomically."""
    from ilrs.iotools.geotiff import pyproj_crs_of
    from ilrs.iotools.netcdf import write_horizon_netcdf

    d = hmap.dem
    write_horizon_netcdf(
        path,
        np.asarray(hmap.stored),
        d.x_coords(),
        d.y_coords(),
        np.arange(hmap.n_azimuths) * 360.0 / hmap.n_azimuths,
        hmap.height_m,
        pyproj_crs_of(d.projection),
        d.source,
        hmap.quant_step_deg,
        hmap.quant_max_error_deg,
    )
