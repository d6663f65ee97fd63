"""NetCDF output (h5netcdf engine through xarray), written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ilrs.iotools.atomic import atomic_path


def write_horizon_netcdf(
    path: str | Path,
    stored: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    grid_azimuth_deg: np.ndarray,
    observer_height_m: float,
    crs_wkt: str,
    source: str,
) -> Path:
    """Horizon map as NetCDF: int16 ``horizon`` (azimuth, y, x) in 0.01 deg with CF scale and fill value."""
    import xarray as xr

    degrees = stored.astype(np.float32) * np.float32(0.01)
    degrees[stored == -9000] = np.nan
    ds = xr.Dataset(
        {
            "horizon": (
                ("azimuth", "y", "x"),
                degrees,
                {"long_name": "terrain horizon elevation angle", "units": "degree", "grid_mapping": "crs"},
            )
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
            "y": ("y", np.asarray(y, dtype=float), {"units": "m"}),
            "x": ("x", np.asarray(x, dtype=float), {"units": "m"}),
        },
        attrs={
            "observer_height_m": float(observer_height_m),
            "source_dem": str(source),
            "title": "ilrs horizon map",
            "Conventions": "CF-1.8",
        },
    )
    ds["crs"] = xr.DataArray(np.int32(0), attrs={"crs_wkt": crs_wkt})
    # stored on disk as the int16 hundredths of a degree the kernel produced (CF packing)
    encoding = {
        "horizon": {"dtype": "int16", "scale_factor": 0.01, "_FillValue": np.int16(-9000), "zlib": True, "complevel": 1}
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
    return path
