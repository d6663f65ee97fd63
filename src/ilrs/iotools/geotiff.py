"""GeoTIFF DEMs through rasterio, for any lunar CRS that pyproj knows; atomic GeoTIFF writing."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.errors import IlrsError
from ilrs.iotools.atomic import atomic_path, atomic_write_text
from ilrs.terrain.dem import Dem
from ilrs.terrain.projection import LonLat, Projection, PyprojProjection, SouthPolarStereographic

if TYPE_CHECKING:
    import pyproj

#: A planetary body whose CRS radius is within this of the Moon's is taken as lunar [m].
_LUNAR_RADIUS_RANGE_M = (1_730_000.0, 1_745_000.0)

#: Heights above the 1737.4 km sphere span about -9.1 km to +10.8 km (LOLA, Smith et al. 2010, GRL 37);
#: anything beyond this is a wrong unit, radii instead of heights, or an undeclared no-data value [m].
LUNAR_HEIGHT_LIMIT_M = 25_000.0

#: The CRS written for a south polar stereographic grid on the LOLA sphere.
DEFAULT_POLAR_CRS = "IAU_2015:30135"

#: The lunar geographic CRS (sphere R = 1737400 m, planetocentric, east longitude) for :class:`LonLat` grids.
DEFAULT_GEOGRAPHIC_CRS = "IAU_2015:30100"

#: Classic TIFF and BigTIFF, little- and big-endian.
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

_HINT_LUNAR = "ilrs needs lunar DEMs; reproject to a lunar CRS such as IAU_2015:30135 (gdalwarp -t_srs ...)"


def check_lunar_heights(z: np.ndarray, source: str) -> None:
    """Raise an :class:`IlrsError` unless ``z`` holds some finite heights, all plausible for the Moon [m]."""
    finite = np.isfinite(z)
    if not finite.any():
        raise IlrsError(
            "DEM holds no valid height (every cell is no-data or NaN)",
            source=source,
            hint="check the file and its no-data value",
        )
    lo = float(np.min(z, where=finite, initial=np.inf))
    hi = float(np.max(z, where=finite, initial=-np.inf))
    if lo < -LUNAR_HEIGHT_LIMIT_M or hi > LUNAR_HEIGHT_LIMIT_M:
        if lo > 1.0e6:
            hint = f"the values look like radii: subtract the reference radius ({MOON_RADIUS_M:.0f} m)"
        else:
            hint = "expected metres above the 1737.4 km sphere; check the unit and declare the no-data value"
        raise IlrsError(
            f"heights range from {lo:.6g} to {hi:.6g} m, beyond +-{LUNAR_HEIGHT_LIMIT_M:.0f} m",
            source=source,
            hint=hint,
        )


def _is_south_polar_sphere(crs) -> bool:
    """True if ``crs`` is exactly the south polar stereographic map of :func:`stereo_south_forward`."""
    if crs.ellipsoid is None or not crs.is_projected:
        return False
    if abs(crs.ellipsoid.semi_major_metre - crs.ellipsoid.semi_minor_metre) > 1e-6:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # to_dict is only used to recognise the polar map
        params = crs.to_dict()

    def num(key: str, default: float) -> float:
        try:
            return float(params.get(key, default))
        except (TypeError, ValueError):
            return math.nan

    lat_ts = num("lat_ts", -90.0)
    return (
        params.get("proj") == "stere"
        and abs(num("lat_0", 0.0) + 90.0) < 1e-9
        and num("lon_0", 0.0) == 0.0
        and num("k", num("k_0", 1.0)) == 1.0
        and num("x_0", 0.0) == 0.0
        and num("y_0", 0.0) == 0.0
        # variant B with lat_ts = -90 is variant A with k = 1; any other lat_ts rescales the map
        and abs(lat_ts + 90.0) < 1e-9
        and params.get("units", "m") == "m"
        and "to_meter" not in params
        and params.get("pm", 0) in (0, "0")
    )


def _projection_from_crs(crs_wkt: str, path: Path, x_west_edge: float) -> tuple[Projection, float]:
    """The projection for a GeoTIFF's CRS and the size of one grid unit in metres."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_wkt(crs_wkt)
    except CRSError as exc:
        raise IlrsError(
            f"unknown or malformed CRS ({exc})",
            source=str(path),
            hint="use a GeoTIFF whose CRS pyproj can read, e.g. IAU_2015:30135",
        ) from exc
    if crs.ellipsoid is None or crs.geodetic_crs is None:
        raise IlrsError(
            f"CRS {crs.name!r} is unknown or incomplete (no datum), so not placeable on the Moon",
            source=str(path),
            hint="assign the lunar CRS the data are in, e.g. gdal_edit.py -a_srs IAU_2015:30135",
        )
    radius = crs.ellipsoid.semi_major_metre
    if not (_LUNAR_RADIUS_RANGE_M[0] <= radius <= _LUNAR_RADIUS_RANGE_M[1]):
        body = " (an Earth CRS)" if 6.3e6 < radius < 6.4e6 else ""
        raise IlrsError(
            f"CRS {crs.name!r} is not on the Moon{body}: semi-major axis {radius:.0f} m",
            source=str(path),
            hint=_HINT_LUNAR,
        )
    if _is_south_polar_sphere(crs):
        return SouthPolarStereographic(radius_m=radius), 1.0
    if crs.is_geographic:
        lon_axis = [a for a in crs.axis_info if a.direction in ("east", "west")]
        if (
            len(crs.axis_info) != 2
            or not lon_axis
            or lon_axis[0].direction != "east"
            or (abs(crs.axis_info[0].unit_conversion_factor - math.pi / 180.0) > 1e-12)
        ):
            raise IlrsError(
                f"geographic CRS {crs.name!r} is not in degrees of east longitude",
                source=str(path),
                hint="reproject to IAU_2015:30100 or IAU_2015:30135",
            )
        return LonLat(lon_origin_deg=x_west_edge), math.radians(1.0) * radius
    if not crs.is_projected:
        raise IlrsError(
            f"CRS {crs.name!r} is neither projected nor geographic",
            source=str(path),
            hint="reproject to IAU_2015:30135 (south polar stereographic)",
        )
    geo = crs.geodetic_crs
    lon_dirs = [a.direction for a in geo.axis_info if a.direction in ("east", "west")]
    if lon_dirs != ["east"]:
        raise IlrsError(
            f"CRS {crs.name!r} counts longitude {lon_dirs[0] if lon_dirs else '?'}ward",
            source=str(path),
            hint="use an east-positive lunar CRS such as IAU_2015:30135",
        )
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return PyprojProjection(crs, geo), float(unit)


def _describe(exc: BaseException) -> str:
    """The distinct messages along an exception's chain (GDAL puts the useful one in the cause)."""
    seen: list[str] = []
    e: BaseException | None = exc
    while e is not None and len(seen) < 4:
        msg = str(e).strip()
        if msg and msg not in seen and "See previous exception" not in msg:
            seen.append(msg)
        e = e.__cause__ or e.__context__
    return "; ".join(seen) or type(exc).__name__


def read_geotiff(path: str | Path, name: str | None = None, band: int = 1) -> Dem:
    """Read one band of a GeoTIFF DEM of heights above the lunar sphere [m]; no-data becomes NaN.

    Any lunar CRS that pyproj knows is accepted: south polar stereographic on the sphere (by EPSG-style code,
    IAU code or an equivalent PROJ string) gets the fast closed-form :class:`SouthPolarStereographic`; a lunar
    geographic CRS gets :class:`LonLat`; any other projected lunar CRS goes through :class:`PyprojProjection`.
    GDAL scale/offset metadata are applied. Every bad input raises :class:`IlrsError` naming the file.
    """
    import rasterio
    from rasterio._err import CPLE_BaseError
    from rasterio.errors import NotGeoreferencedWarning, RasterioError

    path = Path(path)
    if not path.exists():
        raise IlrsError("file not found", source=str(path), hint="check the path")
    if not path.is_file():
        raise IlrsError("not a file", source=str(path), hint="give the path of a GeoTIFF file")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise IlrsError(
            f"cannot open the file ({exc.strerror})", source=str(path), hint="check the file's permissions"
        ) from exc
    if magic not in _TIFF_MAGIC:
        raise IlrsError(
            f"not a TIFF file (it starts with {magic!r})",
            source=str(path),
            hint="give a GeoTIFF; PDS3 IMG/LBL products are read with read_pds3",
        )
    try:
        # a missing geotransform is reported below as an IlrsError, not as a warning
        with (
            warnings.catch_warnings(action="ignore", category=NotGeoreferencedWarning),
            rasterio.open(path, driver="GTiff") as src,
        ):
            if src.crs is None:
                raise IlrsError(
                    "GeoTIFF has no CRS", source=str(path), hint="assign one, e.g. gdal_edit.py -a_srs IAU_2015:30135"
                )
            if not 1 <= band <= src.count:
                raise IlrsError(
                    f"band {band} requested, the file has {src.count}",
                    source=str(path),
                    hint=f"choose a band in 1..{src.count}",
                )
            t = src.transform
            if t.b != 0.0 or t.d != 0.0:
                raise IlrsError(
                    "rotated or sheared grids are not supported",
                    source=str(path),
                    hint="warp to a north-up grid (gdalwarp)",
                )
            finite = all(math.isfinite(v) for v in (t.a, t.c, t.e, t.f))
            if t.is_identity or t.a == 0.0 or t.e == 0.0 or not finite:
                raise IlrsError(
                    "the GeoTIFF has no usable georeferencing (geotransform)",
                    source=str(path),
                    hint="georeference it, e.g. gdal_translate -a_ullr ... -a_srs IAU_2015:30135",
                )
            if np.dtype(src.dtypes[band - 1]).kind == "c":
                raise IlrsError("complex-valued raster", source=str(path), hint="a DEM holds real heights")
            masked = src.read(band, masked=True)
            scale = src.scales[band - 1] if src.scales else 1.0
            offset = src.offsets[band - 1] if src.offsets else 0.0
            crs_wkt = src.crs.to_wkt()
    except IlrsError:
        raise
    except (RasterioError, CPLE_BaseError, OSError, ValueError) as exc:
        raise IlrsError(
            f"cannot read the raster: {_describe(exc)}",
            source=str(path),
            hint="the file is truncated or corrupt; copy or download it again",
        ) from exc
    rows, cols = masked.shape
    projection, unit_m = _projection_from_crs(crs_wkt, path, x_west_edge=min(t.c, t.c + t.a * cols))
    if isinstance(projection, LonLat):
        south, north = sorted((t.f, t.f + t.e * rows))
        if south < -90.0 - 1e-6 or north > 90.0 + 1e-6 or abs(t.a) * cols > 360.0 + 1e-6:
            span = abs(t.a) * cols
            raise IlrsError(
                f"lon/lat grid spans latitudes {south:g}..{north:g} and {span:g} deg longitude",
                source=str(path),
                hint="the geotransform is wrong for a lon/lat grid (at most -90..90 and 360 deg)",
            )
    z = np.ma.filled(masked.astype(np.float64), np.nan)
    if scale != 1.0 or offset != 0.0:
        z = z * scale + offset
    check_lunar_heights(z, str(path))
    return Dem(
        z,
        t.c + t.a / 2,
        t.f + t.e / 2,
        t.a,
        t.e,
        projection,
        name or path.stem,
        str(path),
        cell_size_m=abs(t.a) * unit_m,
    )


def pyproj_crs_of(projection: Projection) -> pyproj.CRS:
    """The pyproj CRS of a DEM projection, by its IAU code where it has one (the WKT2 then carries the code)."""
    import pyproj

    if isinstance(projection, SouthPolarStereographic) and projection.radius_m == MOON_RADIUS_M:
        return pyproj.CRS(DEFAULT_POLAR_CRS)
    if isinstance(projection, LonLat):
        return pyproj.CRS(DEFAULT_GEOGRAPHIC_CRS)
    if isinstance(projection, PyprojProjection):
        return pyproj.CRS.from_user_input(projection.crs)
    return pyproj.CRS.from_user_input(crs_of(projection).to_wkt(version="WKT2_2019"))


def crs_of(projection: Projection):
    """The rasterio CRS for a DEM projection (IAU codes for the LOLA sphere, else a PROJ definition)."""
    from rasterio.crs import CRS

    if isinstance(projection, SouthPolarStereographic):
        if projection.radius_m == MOON_RADIUS_M:
            return CRS.from_user_input(DEFAULT_POLAR_CRS)
        return CRS.from_proj4(
            f"+proj=stere +lat_0=-90 +lon_0=0 +k=1 +x_0=0 +y_0=0 +R={projection.radius_m!r} +units=m +no_defs"
        )
    if isinstance(projection, LonLat):
        return CRS.from_user_input(DEFAULT_GEOGRAPHIC_CRS)
    if isinstance(projection, PyprojProjection):
        return CRS.from_wkt(projection.crs.to_wkt())
    raise TypeError(f"no CRS known for projection {type(projection).__name__}; pass crs=")


#: GDAL metadata items (inside the TIFF, TIFFTAG_GDAL_METADATA) that carry the exact CRS. GeoTIFF's GeoKeys hold
#: EPSG codes only (OGC 19-008r4; an IAU authority is only a proposal, opengeospatial/geotiff#121), so an IAU CRS
#: is written as user-defined keys that GDAL reads back as an equivalent but not identical CRS (the polar
#: stereographic as variant B with its standard parallel at the pole, no IAU code); these items keep the code and
#: the WKT2 (2019) for :func:`read_crs`. The same WKT2 also goes into GDAL's PAM sidecar (:func:`pam_sidecar`),
#: which GDAL reads before the GeoKeys (the GTiff driver's GEOREF_SOURCES default, PAM first), so every GDAL
#: reader (``gdalinfo``, rasterio, QGIS) gets the IAU code back.
CRS_AUTHORITY_TAG = "CRS_AUTHORITY"
CRS_WKT2_TAG = "CRS_WKT2"

#: The no-data value of uint8 masks (0: false, 1: true).
MASK_NODATA = 255


def write_geotiff(
    path: str | os.PathLike[str],
    data: Dem | np.ndarray,
    *,
    grid: Dem | None = None,
    crs: str | None = None,
    nodata: float | None = math.nan,
    band_names: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
    long_names: Sequence[str] | None = None,
    cog: bool = True,
) -> Path:
    """Write a GeoTIFF atomically; return the path.

    Floats are written as float32 (deflate, floating-point predictor); a boolean array as a uint8 mask (0/1,
    no-data 255). By default the file is a Cloud-Optimized GeoTIFF (GDAL's COG driver: 256-pixel tiles,
    overviews down to one tile, averaged for values and nearest for masks, header first). The CRS goes into the
    GeoKeys and, exactly, into the ``CRS_AUTHORITY`` and ``CRS_WKT2`` metadata items (see :func:`read_crs`) and
    into GDAL's PAM sidecar ``<path>.aux.xml`` (see :func:`pam_sidecar`), so that GDAL reads the IAU code back.

    Parameters
    ----------
    path
        The file to write; it is replaced atomically (temp file in the same directory, fsync, rename).
    data
        A :class:`Dem` (its heights [m] and georeferencing), or an array of shape (rows, cols) or
        (bands, rows, cols) laid on the grid of ``grid``.
    grid
        The DEM whose georeferencing an array is written with; ignored for a :class:`Dem` ``data``.
    crs
        Any CRS string rasterio accepts; default: the CRS of the grid's projection (``IAU_2015:30135`` for
        the LOLA south polar grids, ``IAU_2015:30100`` for :class:`LonLat`).
    nodata
        The no-data value written to the file; NaN cells are stored as it. ``None`` declares none. Masks always
        use 255.
    band_names
        One description per band (GDAL's band description).
    units
        One unit per band (GDAL's band unit type, UDUNITS spelling: ``m``, ``degree``, ``h``, ``1``).
    long_names
        One longer title per band (band metadata item ``LONG_NAME``).
    cog
        Write a Cloud-Optimized GeoTIFF with overviews (else a plain tiled GeoTIFF).
    """
    import pyproj
    import rasterio
    import rasterio.shutil
    from rasterio.crs import CRS
    from rasterio.io import MemoryFile
    from rasterio.transform import Affine

    path = Path(path)
    if isinstance(data, Dem):
        grid, array = data, data.heights_m
    else:
        array = np.asarray(data)
        if grid is None:
            raise TypeError("write_geotiff needs grid= (a Dem giving the georeferencing) to write an array")
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.ndim != 3 or array.shape[1:] != grid.shape:
        raise ValueError(
            f"array shape {np.shape(data)} does not match the grid {grid.shape} "
            "(expected (rows, cols) or (bands, rows, cols))"
        )
    mask = array.dtype.kind == "b"
    if array.dtype.kind not in "fiub":
        raise TypeError(f"cannot write a {array.dtype} array as float32 heights")
    if mask:
        out = array.astype(np.uint8)
        nodata, dtype = MASK_NODATA, "uint8"
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            out = array.astype(np.float32)
        dtype = "float32"
        if np.isinf(out).sum() != np.isinf(array).sum():
            raise ValueError("values beyond the float32 range cannot be written")
        if nodata is not None and not math.isnan(nodata):
            if np.any(out == np.float32(nodata)):
                raise ValueError(f"the data contain the no-data value {nodata}; choose another or nodata=nan")
            out = np.where(np.isnan(out), np.float32(nodata), out)
    for what, values in (("band names", band_names), ("units", units), ("long names", long_names)):
        if values is not None and len(values) != out.shape[0]:
            raise ValueError(f"{len(values)} {what} for {out.shape[0]} bands")
    rasterio_crs = CRS.from_user_input(crs) if crs is not None else crs_of(grid.projection)
    exact = pyproj.CRS.from_user_input(crs) if crs is not None else pyproj_crs_of(grid.projection)
    authority = exact.to_authority(min_confidence=100)
    bands, rows, cols = out.shape
    transform = Affine(grid.dx, 0.0, grid.x0 - grid.dx / 2, 0.0, grid.dy, grid.y0 - grid.dy / 2)
    profile = dict(
        driver="GTiff",
        width=cols,
        height=rows,
        count=bands,
        dtype=dtype,
        crs=rasterio_crs,
        transform=transform,
        nodata=nodata,
        compress="deflate",
        predictor=2 if mask else 3,
        interleave="band",
        BIGTIFF="IF_SAFER",
    )
    if rows >= 256 and cols >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)

    def fill(dst) -> None:
        # metadata before pixels, so GDAL writes the directory at the start of the file
        for i in range(bands):
            if band_names is not None:
                dst.set_band_description(i + 1, band_names[i])
            if units is not None:
                dst.set_band_unit(i + 1, units[i])
            if long_names is not None:
                dst.update_tags(i + 1, LONG_NAME=long_names[i])
        dst.update_tags(AREA_OR_POINT="Area", **{CRS_WKT2_TAG: exact.to_wkt("WKT2_2019")})
        if authority:
            dst.update_tags(**{CRS_AUTHORITY_TAG: f"{authority[0]}:{authority[1]}"})
        if isinstance(data, Dem) and data.source:
            dst.update_tags(SOURCE=data.source)
        dst.write(out)

    # an old sidecar goes first: GDAL reads its CRS before the GeoKeys, so it must never outlive its own GeoTIFF
    # (interrupted here, the new file is read with its GeoKeys' CRS until its sidecar is written)
    pam_sidecar(path).unlink(missing_ok=True)
    with atomic_path(path) as tmp:
        if not cog:
            with rasterio.open(tmp, "w", **profile) as dst:
                fill(dst)
        else:
            with MemoryFile() as mem:
                with mem.open(**profile) as dst:
                    fill(dst)
                with mem.open() as src:
                    rasterio.shutil.copy(
                        src,
                        tmp,
                        driver="COG",
                        COMPRESS="DEFLATE",
                        PREDICTOR="YES",
                        BLOCKSIZE=256,
                        OVERVIEWS="AUTO",
                        OVERVIEW_RESAMPLING="NEAREST" if mask else "AVERAGE",
                        BIGTIFF="IF_SAFER",
                    )
    atomic_write_text(pam_sidecar(path), _pam_xml(exact))
    return path


def pam_sidecar(path: str | os.PathLike[str]) -> Path:
    """GDAL's Persistent Auxiliary Metadata file of a raster (``<path>.aux.xml``): it holds the exact CRS of the
    GeoTIFFs :func:`write_geotiff` writes, and travels with the file."""
    path = Path(path)
    return path.with_name(path.name + ".aux.xml")


def _pam_xml(crs: pyproj.CRS) -> str:
    """A PAM document with the CRS as WKT2 (2019) and the mapping of the raster's x, y to its axes (GDAL's
    ``dataAxisToSRSAxisMapping``: a geographic CRS lists latitude first, the raster's x is longitude)."""
    from xml.sax.saxutils import escape

    first = crs.axis_info[0].direction if crs.axis_info else "east"
    mapping = "2,1" if first in ("north", "south") else "1,2"
    wkt = escape(crs.to_wkt("WKT2_2019"))
    return f'<PAMDataset>\n  <SRS dataAxisToSRSAxisMapping="{mapping}">{wkt}</SRS>\n</PAMDataset>\n'


def read_crs(path: str | os.PathLike[str]) -> pyproj.CRS:
    """The CRS of a GeoTIFF: the exact one :func:`write_geotiff` stored (``CRS_WKT2``) when it agrees with the
    GeoKeys, else the GeoKeys' as GDAL reads them."""
    import pyproj
    import rasterio

    with rasterio.open(path) as src:
        keys = pyproj.CRS.from_user_input(src.crs.to_wkt(version="WKT2_2019")) if src.crs else None
        wkt2 = src.tags().get(CRS_WKT2_TAG)
    if wkt2:
        exact = pyproj.CRS.from_wkt(wkt2)
        if keys is None or same_projection(exact, keys):
            return exact
    if keys is None:
        raise IlrsError(
            "GeoTIFF has no CRS", source=str(path), hint="assign one, e.g. gdal_edit.py -a_srs IAU_2015:30135"
        )
    return keys


def same_projection(a: pyproj.CRS, b: pyproj.CRS, tol_m: float = 1e-6) -> bool:
    """Whether two projected CRSs put the same points of the body at the same map coordinates (to ``tol_m``
    relative to the distance from the origin, at least ``tol_m``), whatever their names, axis labels or projection
    variant; sampled every 30 deg of longitude from 89.5 S to 89.5 N."""
    import pyproj

    if not (a.is_projected and b.is_projected):
        return bool(a.equals(b, ignore_axis_order=True))
    lon, lat = np.meshgrid(np.arange(0.0, 360.0, 30.0), np.linspace(-89.5, 89.5, 9))
    try:
        xa, ya = pyproj.Transformer.from_crs(a.geodetic_crs, a, always_xy=True).transform(lon, lat)
        xb, yb = pyproj.Transformer.from_crs(a.geodetic_crs, b, always_xy=True).transform(lon, lat)
    except pyproj.exceptions.ProjError:
        return False
    scale = np.maximum(np.hypot(xa, ya), 1.0)
    return bool(np.all(np.hypot(xa - xb, ya - yb) <= tol_m * scale))
