"""The project's disk cache for costly products (horizon maps, profiles, environment series)."""

from __future__ import annotations

import functools

from ilrs.config import get_settings
from ilrs.iotools.cache import DiskCache


@functools.lru_cache(maxsize=1)
def product_cache() -> DiskCache:
    s = get_settings()
    return DiskCache(s.cache_dir, enabled=not s.no_cache)
