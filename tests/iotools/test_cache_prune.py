"""The disk cache's size cap and pruning: least recently used first, the entry just written kept, and
`ilrs cache info|prune` on a real cache directory."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from ilrs.iotools.cache import DiskCache
from tests.clirunner import assert_ok, assert_user_error, invoke

MB = 1_000_000


def _arrays(mb: float) -> dict[str, np.ndarray]:
    return {"a": np.zeros(int(mb * MB / 8))}


def _put(cache: DiskCache, key: str, mb: float, used: float) -> None:
    cache.get_or_compute("kind", cache.key(k=key), lambda: _arrays(mb))
    os.utime(cache.path("kind", cache.key(k=key)), (used, used))


def test_cap_drops_least_recently_used_and_keeps_the_new_entry(tmp_path):
    cache = DiskCache(tmp_path)
    for i, key in enumerate("abc"):
        _put(cache, key, 1.0, used=1_000 + i)  # a oldest, c newest
    # a hit refreshes the last use: a is now the most recently used
    cache.get_or_compute("kind", cache.key(k="a"), lambda: pytest.fail("a is cached"))
    cache.max_bytes = int(3.5 * MB)  # room for three 1 MB entries (plus their headers)
    cache.get_or_compute("kind", cache.key(k="d"), lambda: _arrays(1.0))
    left = {e.path for e in cache.entries()}
    assert left == {cache.path("kind", cache.key(k=k)) for k in "acd"}  # b, least recently used, went
    assert sum(e.size for e in cache.entries()) <= cache.max_bytes
    # an entry larger than the cap on its own is still written (and the others make room for it)
    cache.get_or_compute("kind", cache.key(k="big"), lambda: _arrays(3.0))
    assert [e.key for e in cache.entries()] == [cache.key(k="big")]


def test_prune_by_age_and_size(tmp_path):
    cache = DiskCache(tmp_path)
    now = 10_000_000.0
    for i, key in enumerate("abcd"):
        _put(cache, key, 0.5, used=now - (4 - i) * 86_400)  # 4, 3, 2, 1 days old
    gone = cache.prune(older_than_s=2.5 * 86_400, now=now)
    assert sorted(e.key for e in gone) == sorted(cache.key(k=k) for k in "ab")
    gone = cache.prune(max_bytes=int(0.6 * MB), now=now)
    assert [e.key for e in gone] == [cache.key(k="c")]
    assert [e.key for e in cache.entries()] == [cache.key(k="d")]


@pytest.fixture
def own_cache(tmp_path):
    from ilrs.config import get_settings, override_settings
    from ilrs.services import cache

    before = get_settings()
    override_settings(cache_dir=tmp_path / "cache")
    cache.product_cache.cache_clear()
    yield tmp_path / "cache"
    override_settings(cache_dir=before.cache_dir, cache_max_gb=before.cache_max_gb)
    cache.product_cache.cache_clear()


def test_cli_info_and_prune(own_cache):
    from ilrs.services.cache import product_cache

    cache = product_cache()
    for i, key in enumerate("abc"):
        _put(cache, key, 0.4, used=1_000_000 + i)
    (own_cache / "portal").mkdir()
    (own_cache / "portal" / "portal.db").write_bytes(b"x")  # the portal's database lives beside the products
    info = json.loads(assert_ok(invoke("cache", "info", "--json")).stdout)
    assert info["entries"] == 3 and info["kinds"]["kind"]["entries"] == 3
    assert info["bytes"] == sum(p.stat().st_size for p in (own_cache / "kind").glob("*.npz"))
    out = json.loads(assert_ok(invoke("cache", "prune", "--max-gb", "0.0009", "--json")).stdout)
    assert out["removed"] == 1 and out["entries"] == 2  # 3 x 0.4 MB -> 2 x 0.4 MB fit under 0.9 MB
    assert not cache.path("kind", cache.key(k="a")).exists()
    out = json.loads(assert_ok(invoke("cache", "prune", "--all", "--json")).stdout)
    assert out["entries"] == 0 and out["bytes"] == 0
    assert (own_cache / "portal" / "portal.db").read_bytes() == b"x"


def test_cli_bad_input(own_cache):
    from ilrs.config import override_settings
    from ilrs.services import cache

    assert_user_error(invoke("cache", "prune"), "nothing to prune", "--max-gb")
    assert_user_error(invoke("cache", "prune", "--all", "--kind", "nope"), "no product of kind 'nope'")
    override_settings(cache_max_gb="lots")
    cache.product_cache.cache_clear()
    assert_user_error(invoke("cache", "info"), "ILRS_CACHE_MAX_GB", "'lots' is not a size")
