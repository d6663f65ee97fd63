"""The project's disk cache for costly products (horizon maps, profiles, environment series)."""

from __future__ import annotations

import functools
from pathlib import Path

from ilrs.config import get_settings
from ilrs.iotools.cache import DiskCache, file_sha256
from ilrs.terrain.dem import Dem


@functools.lru_cache(maxsize=1)
def product_cache() -> DiskCache:
    s = get_settings()
    return DiskCache(s.cache_dir, enabled=not s.no_cache)


def dem_key(dem: Dem) -> str:
    """A DEM's part of a cache key: its file's SHA-256 (so an edited file is never served stale), else its name."""
    if dem.source and Path(dem.source).exists():
        return file_sha256(dem.source)
    return dem.name
