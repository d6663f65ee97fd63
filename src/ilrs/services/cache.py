"""The project's disk cache for costly products (horizon maps, profiles, environment series)."""

from __future__ import annotations

import functools
import math
from pathlib import Path

from ilrs.config import get_settings
from ilrs.errors import IlrsError
from ilrs.iotools.cache import DiskCache, file_sha256
from ilrs.terrain.dem import Dem


@functools.lru_cache(maxsize=1)
def product_cache() -> DiskCache:
    s = get_settings()
    return DiskCache(s.cache_dir, enabled=not s.no_cache, max_bytes=cache_max_bytes())


def cache_max_bytes() -> int | None:
    """The cache's size cap from ``ILRS_CACHE_MAX_GB`` [bytes], None when unset or 0."""
    text = get_settings().cache_max_gb.strip()
    if not text:
        return None
    try:
        gb = float(text)
    except ValueError:
        gb = math.nan
    if not math.isfinite(gb) or gb < 0:
        raise IlrsError(
            f"{text!r} is not a size in GB",
            source="ILRS_CACHE_MAX_GB",
            hint="give a number of gigabytes (e.g. 20), or 0 / unset for no cap",
        )
    return int(gb * 1e9) if gb > 0 else None


def dem_key(dem: Dem) -> str:
    """A DEM's part of a cache key: its file's SHA-256 (so an edited file is never served stale), else its name."""
    if dem.source and Path(dem.source).exists():
        return file_sha256(dem.source)
    return dem.name
