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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Make ``xdist_group`` marks group tests again under ``--dist loadgroup``.

    pytest-xdist 3.8 tells its scheduler a test's group by appending ``@group`` to the worker's ``item._nodeid``;
    pytest 9.2 keeps the node id in ``item._id`` and no longer reads ``_nodeid``, so the groups are silently
    ignored and every test of a group may pay its module fixtures on both workers (pytest-xdist issue #1386,
    fix proposed in pull request #1388). This copies the suffixed id where pytest reads it. A no-op without
    ``--dist loadgroup`` and once xdist writes the id itself.
    """
    from _pytest.nodeid import NodeId

    for item in items:
        suffixed = item.__dict__.get("_nodeid")
        if isinstance(suffixed, str) and suffixed != item.nodeid and hasattr(item, "_id"):
            item._id = NodeId.parse(suffixed)
