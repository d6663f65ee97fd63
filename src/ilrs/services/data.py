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


def nested_with_embedded(paths: list[str] | None) -> list[str] | None:
    """The user's DEM files and the embedded ones (10 m tile, 240 m, LDEM_4) as one nested mosaic's files,
    finest first (so each point is analysed on the finest DEM that covers it; a user's DEM before an embedded
    one of the same cell size), each read once to fail early with its name; None when the user brings none."""
    if not paths:
        return None
    from ilrs.errors import IlrsError

    for p in paths:
        if not Path(p).is_file():
            raise IlrsError(f"no DEM file {str(p)!r}", source="--dem", hint="give a GeoTIFF or a PDS3 label")
        load_dem(str(p))
    embedded = [str(data_path(x)) for x in (TILE_10M, POLE_240M, GLOBAL_LDEM4)]
    files = [str(p) for p in paths] + [e for e in embedded if e not in {str(p) for p in paths}]
    return sorted(files, key=lambda f: load_dem(f).cell_size_m)  # stable: the user's first among equals
