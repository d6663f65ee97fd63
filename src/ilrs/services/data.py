"""The embedded terrain: LOLA DEMs shipped in the package, loaded once per process."""

from __future__ import annotations

import functools
from pathlib import Path

from ilrs.config import get_settings
from ilrs.iotools.geotiff import read_geotiff
from ilrs.iotools.pds3 import read_pds3
from ilrs.terrain.dem import Dem, Mosaic

#: Embedded DEM files, finest first (see data/PROVENANCE.md).
TILE_10M = "lola/site01_connecting_ridge_10m.tif"
POLE_240M = "lola/south_pole_240m.tif"
GLOBAL_LDEM4 = "lola/LDEM_4.LBL"


def data_path(relative: str) -> Path:
    return get_settings().data_dir / relative


@functools.lru_cache(maxsize=8)
def load_dem(path: str) -> Dem:
    """Read a DEM by file name (GeoTIFF or PDS3 label), once per process."""
    p = Path(path)
    if p.suffix.lower() in (".lbl", ".img"):
        return read_pds3(p.with_suffix(".LBL") if p.suffix.lower() == ".img" else p)
    return read_geotiff(p)


def pole_dem() -> Dem:
    return load_dem(str(data_path(POLE_240M)))


def tile_dem() -> Dem:
    return load_dem(str(data_path(TILE_10M)))


def global_dem() -> Dem:
    return load_dem(str(data_path(GLOBAL_LDEM4)))


@functools.lru_cache(maxsize=1)
def default_mosaic() -> Mosaic:
    """The nested mosaic: the 10 m Connecting Ridge tile, the 240 m south-pole DEM, then LDEM_4."""
    return Mosaic((tile_dem(), pole_dem(), global_dem()))


def mosaic_from(paths: list[str] | None) -> Mosaic:
    """A mosaic of the given DEM files (finest first), or the embedded default when none are given."""
    if not paths:
        return default_mosaic()
    return Mosaic(tuple(load_dem(str(p)) for p in paths))
