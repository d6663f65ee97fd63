"""Shared fixtures: a private cache directory per test session, and the embedded DEMs."""

from __future__ import annotations

import pytest

from ilrs.config import override_settings


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    # costly products are cached on disk; tests must neither read a developer's cache nor pollute it
    override_settings(cache_dir=tmp_path_factory.mktemp("ilrs-cache"))
    from ilrs.services import cache

    cache.product_cache.cache_clear()
    yield


@pytest.fixture(scope="session")
def pole_dem():
    from ilrs.services.data import pole_dem

    return pole_dem()
