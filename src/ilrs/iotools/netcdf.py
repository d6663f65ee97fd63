"""NetCDF output (h5netcdf engine through xarray), written atomically, in the CF-1.10 conventions.

:func:`write_cf_netcdf` is the one on-disk encoding of the project's time series: floats as float32 (a relative
precision of 6e-8, far below the accuracy of any modelled power, energy or rate), zlib with the shuffle filter
in chunks of :data:`TIME_CHUNK` steps, times as whole seconds since the first step, and no fill value where the
data have no gap (a fill value on a coordinate is a CF error).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ilrs.iotools.atomic import atomic_path

#: Steps per chunk along ``time``: 128 KiB of float32, a few chunks per year at 10-minute steps
TIME_CHUNK = 32768
#: zlib level: 4 is within a few per cent of 9's size on these series at a fraction of the time
COMPLEVEL = 4


def cf_encoding(ds: Any, keep_float64: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """The encoding of :func:`write_cf_netcdf` for each variable and coordinate of ``ds``."""
    keep = set(keep_float64)
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in ds.variables.items():
        enc: dict[str, Any] = {}
        kind = var.dtype.kind
        if kind == "M":  # datetime64: whole seconds since the first value, standard calendar
            first = np.datetime_as_string(var.values.min(), unit="s").replace("T", " ")
            enc.update(units=f"seconds since {first}", calendar="standard", dtype="int64")
        elif kind == "f":
            if name not in keep:
                enc["dtype"] = "float32"
            has_gaps = bool(np.isnan(var.values).any())
            enc["_FillValue"] = np.float32(np.nan) if has_gaps and name not in ds.coords else None
        else:
            enc["_FillValue"] = None
        if var.ndim:
            enc.update(zlib=True, complevel=COMPLEVEL, shuffle=True)
            enc["chunksizes"] = tuple(
                min(n, TIME_CHUNK) if d == "time" else n for d, n in zip(var.dims, var.shape, strict=True)
            )
        encoding[str(name)] = enc
    return encoding


def write_cf_netcdf(path: str | Path, ds: Any, keep_float64: Iterable[str] = ()) -> Path:
    """Write a CF dataset (xarray) atomically with :func:`cf_encoding`; ``keep_float64`` names the variables
    that need float64 (e.g. an ephemeris time in seconds past J2000, 1e9 s to the microsecond)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=cf_encoding(ds, keep_float64))
    return path


def grid_mapping_attrs(crs: Any) -> dict[str, Any]:
    """CF grid-mapping attributes of a CRS (pyproj's ``to_cf``: ``grid_mapping_name`` and its parameters, the
    body's sphere) with ``crs_wkt`` as WKT2 (2019), which keeps the authority code (e.g. ``ID["IAU",30135,2015]``)."""
    import pyproj

    c = pyproj.CRS.from_user_input(crs)
    attrs = {k: v for k, v in c.to_cf().items() if v is not None}
    attrs["crs_wkt"] = c.to_wkt("WKT2_2019")
    authority = c.to_authority(min_confidence=100)
    if authority:
        attrs["long_name"] = f"{c.name} ({authority[0]}:{authority[1]})"
    return attrs


def write_horizon_netcdf(
    path: str | Path,
    stored: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    grid_azimuth_deg: np.ndarray,
    observer_height_m: float,
    crs: Any,
    source: str,
    quantisation_step_deg: float = 0.01,
    quantisation_max_error_deg: float = 0.005,
) -> Path:
    """Horizon map as CF-1.10 NetCDF: int16 ``horizon`` (azimuth, y, x) in 0.01 deg with CF scale and fill value,
    projected ``x``/``y`` coordinates and a ``crs`` grid mapping (``crs`` is anything pyproj reads: an
    ``IAU_2015:30135`` code, a WKT, a pyproj or rasterio CRS). The values' quantisation step and its largest
    rounding error [deg] are stated on the variable."""
    import xarray as xr

    from ilrs import __version__

    degrees = stored.astype(np.float32) * np.float32(0.01)
    degrees[stored == -9000] = np.nan
    ds = xr.Dataset(
        {
            "horizon": (
                ("azimuth", "y", "x"),
                degrees,
                {
                    "long_name": "terrain horizon elevation angle seen from the observer height above the ground",
                    "units": "degree",
                    "grid_mapping": "crs",
                    "comment": "missing: no terrain inside the map above the local horizontal (no obstruction)",
                    "quantisation_step_deg": float(quantisation_step_deg),
                    "quantisation_max_error_deg": float(quantisation_max_error_deg),
                },
            ),
            "crs": ((), np.int32(0), grid_mapping_attrs(crs)),
        },
        coords={
            "azimuth": (
                "azimuth",
                np.asarray(grid_azimuth_deg, dtype=float),
                {
                    "units": "degree",
                    "long_name": "grid azimuth from map +y toward +x; geographic "
                    "azimuth = grid azimuth - east longitude",
                },
            ),
            "y": (
                "y",
                np.asarray(y, dtype=float),
                {"units": "m", "standard_name": "projection_y_coordinate", "axis": "Y", "long_name": "map y"},
            ),
            "x": (
                "x",
                np.asarray(x, dtype=float),
                {"units": "m", "standard_name": "projection_x_coordinate", "axis": "X", "long_name": "map x"},
            ),
        },
        attrs={
            "Conventions": "CF-1.10",
            "title": "ilrs terrain horizon map",
            "institution": "ilrs (International Lunar Research Station planning software)",
            "source": f"ilrs {__version__} horizon sweeps (upper convex hull per azimuth) on the DEM {source}",
            "history": f"{np.datetime64('now', 's')}Z: ilrs {__version__} site horizon",
            "references": "Dozier 2022, IEEE GRSL 19, doi:10.1109/LGRS.2021.3125278 (horizon sweeps); "
            "Mazarico et al. 2011, Icarus 211, doi:10.1016/j.icarus.2010.10.030 (lunar polar illumination)",
            "comment": "The Moon, on the IAU 2015 lunar sphere (crs); horizon elevations include the curvature of "
            "the lunar sphere.",
            "observer_height_m": float(observer_height_m),
            "source_dem": str(source),
        },
    )
    # stored on disk as the int16 hundredths of a degree the kernel produced (CF packing); coordinates have no gaps
    encoding: dict[str, dict[str, Any]] = {
        "horizon": {
            "dtype": "int16",
            "scale_factor": 0.01,
            "_FillValue": np.int16(-9000),
            "zlib": True,
            "complevel": 1,
        },
        "x": {"_FillValue": None},
        "y": {"_FillValue": None},
        "azimuth": {"_FillValue": None},
        "crs": {"_FillValue": None},
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
    return path


def write_horizon_netcdf_tiled(
    path: str | Path,
    shape: tuple[int, int, int],
    x: np.ndarray,
    y: np.ndarray,
    grid_azimuth_deg: np.ndarray,
    observer_height_m: float,
    crs: Any,
    source: str,
    blocks: Iterable[tuple[slice, slice, np.ndarray]],
    chunk: int = 256,
    extra_attrs: dict[str, Any] | None = None,
) -> Path:
    """A horizon map too large for memory as NetCDF4 (HDF5), written block by block, atomically.

    ``horizon`` (azimuth, y, x) is stored as the int16 hundredths of a degree the sweep produces (CF
    ``scale_factor`` 0.01, ``_FillValue`` -9000 for "no terrain"), in chunks of (all azimuths, ``chunk``,
    ``chunk``) compressed with zlib (level 4) and the byte shuffle, so a reader can take one cell's horizon or
    one map region without reading the rest. ``blocks`` yields (row slice, col slice, int16 array of shape
    (n_az, rows, cols)); every cell must be written once.
    """
    import netCDF4

    from ilrs import __version__

    n_az, rows, cols = shape
    with atomic_path(path) as tmp:
        with netCDF4.Dataset(tmp, "w", format="NETCDF4") as ds:
            ds.createDimension("azimuth", n_az)
            ds.createDimension("y", rows)
            ds.createDimension("x", cols)
            az = ds.createVariable("azimuth", "f8", ("azimuth",))
            az[:] = np.asarray(grid_azimuth_deg, dtype=float)
            az.units = "degree"
            az.long_name = "grid azimuth from map +y toward +x; geographic azimuth = grid azimuth - east longitude"
            for name, values, std in (("y", y, "projection_y_coordinate"), ("x", x, "projection_x_coordinate")):
                v = ds.createVariable(name, "f8", (name,))
                v[:] = np.asarray(values, dtype=float)
                v.units = "m"
                v.standard_name = std
                v.axis = name.upper()
            c = ds.createVariable("crs", "i4", ())
            c.setncatts(grid_mapping_attrs(crs))
            h = ds.createVariable(
                "horizon",
                "i2",
                ("azimuth", "y", "x"),
                zlib=True,
                complevel=4,
                shuffle=True,
                chunksizes=(n_az, min(chunk, rows), min(chunk, cols)),
                fill_value=np.int16(-9000),
            )
            h.set_auto_maskandscale(False)
            h.scale_factor = np.float32(0.01)
            h.units = "degree"
            h.long_name = "terrain horizon elevation angle seen from the observer height above the ground"
            h.grid_mapping = "crs"
            h.comment = (
                "quantised to 0.01 deg (int16 hundredths; quantisation error <= 0.005 deg, below the sweep's "
                "accuracy); _FillValue: no terrain above the local horizontal in the map or its far field"
            )
            ds.setncatts(
                {
                    "Conventions": "CF-1.10",
                    "title": "ilrs terrain horizon map (tiled)",
                    "source": f"ilrs {__version__} tiled horizon sweeps on the DEM {source}",
                    "observer_height_m": float(observer_height_m),
                    "source_dem": str(source),
                    "quantisation": "0.01 deg (int16 hundredths of a degree)",
                    **(extra_attrs or {}),
                }
            )
            for rs, cs, block in blocks:
                h[:, rs, cs] = block
    return Path(path)
